//! Allocations per forwarded frame: the router runs on a thread of this test process, whose
//! global allocator counts the allocations made on that thread alone. In steady state (after a
//! warm-up that sizes the buffers) forwarding a frame allocates nothing.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use clocklab::core::switchboard::Options;
use clocklab::core::wire::{self, HEADER_LEN, Header, Kind};
use clocklab::net::router::Router;

/// Counts the allocations of threads that ask for it.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is passed on to the system allocator unchanged; the counting touches only an
// atomic and a const-initialised thread-local, neither of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTED.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTED.with(Cell::get) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const BATCH: usize = 8_192;

/// Sends HELLO.
fn hello(stream: &mut TcpStream, name: &str) {
    stream
        .write_all(&wire::hello(name, 1).expect("a name"))
        .expect("HELLO");
}

/// Reads the WELCOME.
fn welcome(stream: &mut TcpStream) {
    let mut welcome = [0u8; HEADER_LEN + wire::WELCOME_LEN];
    stream.read_exact(&mut welcome).expect("WELCOME");
}

#[test]
fn forwarding_a_frame_allocates_nothing_in_steady_state() {
    let opts = Options {
        machines: 2,
        seed: 1,
        start_delay_ns: 0,
        stop_grace_ns: 1_000_000_000,
        ..Options::default()
    };
    let router =
        Router::new(TcpListener::bind("127.0.0.1:0").expect("bind"), opts).expect("router");
    let addr = router.local_addr().expect("address");
    let thread = thread::spawn(move || {
        COUNTED.with(|c| c.set(true));
        router.run(|_| {})
    });
    let mut a = TcpStream::connect(addr).expect("connect a");
    let mut b = TcpStream::connect(addr).expect("connect b");
    hello(&mut a, "a");
    hello(&mut b, "b");
    welcome(&mut a);
    welcome(&mut b);
    let mut batch = Vec::new();
    for seq in 1..=BATCH as u32 {
        Header::data(Kind::SendFirst, 1, 0, seq, u64::from(seq), 0).write_frame(&[], &mut batch);
    }
    let mut received = vec![0u8; batch.len()];
    let mut round = |a: &mut TcpStream, b: &mut TcpStream| {
        a.write_all(&batch).expect("A writes");
        b.read_exact(&mut received).expect("B reads");
    };
    for _ in 0..8 {
        round(&mut a, &mut b);
    }
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    const ROUNDS: usize = 32;
    for _ in 0..ROUNDS {
        round(&mut a, &mut b);
    }
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let frames = (ROUNDS * BATCH) as f64;
    println!(
        "[test] {allocations} allocations on the router's thread for {frames} frames: {} per frame",
        allocations as f64 / frames
    );
    drop((a, b));
    thread
        .join()
        .expect("the router thread")
        .expect("the router");
    assert_eq!(
        allocations, 0,
        "allocations while forwarding in steady state"
    );
}
