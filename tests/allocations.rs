//! Allocations per forwarded frame: the router runs on a thread of this test process, whose
//! global allocator counts the allocations made on that thread alone. In steady state (after a
//! warm-up that sizes the buffers) forwarding a frame allocates nothing, in the router and in
//! the simulator's virtual network alike.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;

use clocklab::core::switchboard::Options;
use clocklab::core::wire::{self, HEADER_LEN, Header, Kind};
use clocklab::net::router::Router;
use clocklab::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

/// Counts the allocations of threads that ask for it.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTED: Cell<bool> = const { Cell::new(false) };
    /// Allocations of this thread alone, counted while it asks (a test that runs its subject on
    /// its own thread, beside the router's test).
    static OWN: Cell<Option<u64>> = const { Cell::new(None) };
}

/// Counts one allocation, if this thread is counted.
fn count() {
    if COUNTED.with(Cell::get) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
    OWN.with(|own| own.set(own.get().map(|n| n + 1)));
}

// SAFETY: every call is passed on to the system allocator unchanged; the counting touches only an
// atomic and const-initialised thread-locals, none of which allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's contract is the system allocator's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
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

/// A simulated trial's allocations and the data frames its switchboard received.
fn simulated(duration_s: u64) -> (u64, u64) {
    let opts = SimOptions {
        names: ["a", "b", "c"].map(String::from).to_vec(),
        rates: vec![50.0, 100.0, 200.0],
        action_range: 10,
        receive_rule: Default::default(),
        missed_ticks: Default::default(),
        duration_ns: duration_s * 1_000_000_000,
        seed: 3,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency: Default::default(),
        tick_lateness: None,
        measured: None,
        faults: Default::default(),
    };
    OWN.with(|own| own.set(Some(0)));
    let outcome = sim::simulate(&opts, |_| {}).expect("a trial");
    let allocations = OWN.with(|own| own.take()).unwrap_or_default();
    let frames = ["SEND_FIRST", "SEND_SECOND", "BROADCAST"];
    let data = frames.map(|k| outcome.router.frames.get(k).map_or(0, |c| c.frames));
    (allocations, data.iter().sum())
}

#[test]
fn a_simulated_frame_allocates_nothing_in_steady_state() {
    // A trial six times as long sends thousands more frames through the switchboard and the
    // virtual network; only buffers that double as they grow (the queue of events, the slow
    // machine's queue) may allocate more.
    let (short, short_frames) = simulated(10);
    let (long, long_frames) = simulated(60);
    let frames = long_frames - short_frames;
    println!("[test] {short} allocations for {short_frames} frames, {long} for {long_frames}");
    assert!(frames > 3_000, "{frames} more frames");
    assert!(
        long - short <= 32,
        "{} more allocations for {frames} more frames",
        long - short
    );
}
