//! Benchmarks of the router over loopback TCP, against two baselines: a direct socket pair (no
//! hop at all) and a minimal blocking relay (one thread per connection copying bytes across).
//!
//! - `round_trip`: A sends one data frame, B reads it and answers with one, A reads that.
//! - `stream`: A writes frames back to back; a thread on B parses and counts them.
//! - `broadcast`: four machines; A broadcasts, three threads each read every frame.
//! - `slow_reader`: the stream, with a third machine that never reads getting one frame of every
//!   batch: what a stuck receiver costs the others (nothing, until its outbox fills).
//!
//! `cargo bench --bench routing` runs them in about a minute; criterion flags go after
//! `--` (`cargo bench --bench routing -- round_trip --measurement-time 10`). `cargo test
//! --benches` runs each once. docs/BENCHMARKS.md has the numbers and how to read them.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use clocklab::core::switchboard::Options;
use clocklab::core::wire::{self, HEADER_LEN, Header, Kind, Parsed};
use clocklab::net::router::Router;
use clocklab::rundir::records::RouterStats;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};

/// Payload sizes measured: a bare 32-byte header, and one with 256 bytes behind it.
const PAYLOADS: [usize; 2] = [0, 256];
/// Frames A writes per iteration of the stream benchmark (256 KiB of headers).
const STREAM_FRAMES: u64 = 8_192;
/// Frames A broadcasts per iteration of the broadcast benchmark.
const BROADCAST_FRAMES: u64 = 4_096;
/// The read buffer of a frame-counting thread.
const COUNTER_BUF: usize = 256 * 1024;

/// A raw client: one socket, and the sender state a valid data frame needs.
struct Peer {
    stream: TcpStream,
    id: u16,
    seq: u32,
    out: Vec<u8>,
    inbuf: Vec<u8>,
}

impl Peer {
    fn new(stream: TcpStream, id: u16) -> io::Result<Peer> {
        stream.set_nodelay(true)?;
        Ok(Peer {
            stream,
            id,
            seq: 0,
            out: Vec::new(),
            inbuf: Vec::new(),
        })
    }

    /// Appends the next data frame (seq counting from 1, the seq as its clock) to the outbox.
    fn push(&mut self, kind: Kind, payload: &[u8]) {
        self.seq += 1;
        let clock = u64::from(self.seq);
        Header::data(kind, self.id, 0, self.seq, clock, 0).write_frame(payload, &mut self.out);
    }

    /// Writes the whole outbox.
    fn flush(&mut self) -> io::Result<()> {
        self.stream.write_all(&self.out)?;
        self.out.clear();
        Ok(())
    }

    /// Reads one frame of `len` bytes and checks that it is a data frame from `source`.
    fn expect(&mut self, len: usize, source: u16) -> io::Result<()> {
        self.inbuf.resize(len, 0);
        self.stream.read_exact(&mut self.inbuf)?;
        match wire::parse(&self.inbuf) {
            Ok(Parsed::Complete { frame, len: n })
                if n == len && frame.kind().is_data() && frame.source() == source =>
            {
                Ok(())
            }
            Ok(Parsed::Complete { frame, .. }) if frame.kind() == Kind::Bye => {
                Err(io::Error::other(
                    "the router said BYE: it is stopping (SIGINT or SIGTERM reached the process)",
                ))
            }
            other => Err(io::Error::other(format!(
                "expected a {len}-byte data frame from machine {source}, got {other:?}"
            ))),
        }
    }
}

/// A sends one frame to B, and B answers with one.
fn round_trip(a: &mut Peer, b: &mut Peer, payload: &[u8]) -> io::Result<()> {
    let len = HEADER_LEN + payload.len();
    a.push(Kind::SendFirst, payload);
    a.flush()?;
    b.expect(len, a.id)?;
    b.push(Kind::SendFirst, payload);
    b.flush()?;
    a.expect(len, b.id)
}

/// A router serving on a thread of its own.
struct RouterThread {
    addr: SocketAddr,
    thread: JoinHandle<io::Result<RouterStats>>,
}

impl RouterThread {
    fn start(machines: u16) -> io::Result<RouterThread> {
        let opts = Options {
            machines,
            seed: 1,
            start_delay_ns: 0,
            stop_grace_ns: 1_000_000_000,
            ..Options::default()
        };
        let router = Router::new(TcpListener::bind("127.0.0.1:0")?, opts)?;
        let addr = router.local_addr()?;
        let thread = thread::Builder::new()
            .name("router".into())
            .spawn(move || router.run(|_| {}))?;
        Ok(RouterThread { addr, thread })
    }

    /// Connects one client per name (given in sorted order), sends every HELLO, then reads every
    /// WELCOME. The clients come back in id order.
    fn register(&self, names: &[&str]) -> io::Result<Vec<Peer>> {
        let mut streams = Vec::with_capacity(names.len());
        for name in names {
            let mut stream = TcpStream::connect(self.addr)?;
            let hello = wire::hello(name, 0).ok_or_else(|| io::Error::other("bad name"))?;
            stream.write_all(&hello)?;
            streams.push(stream);
        }
        let mut peers = Vec::with_capacity(names.len());
        for (index, mut stream) in streams.into_iter().enumerate() {
            let id = read_welcome(&mut stream)?;
            // Ids go by sorted name, and the names are given sorted.
            if usize::from(id) != index + 1 {
                return Err(io::Error::other(format!(
                    "{:?} was given id {id}, not {}",
                    names[index],
                    index + 1
                )));
            }
            peers.push(Peer::new(stream, id)?);
        }
        Ok(peers)
    }

    /// Waits for the router to return, which it does once every client has gone.
    fn join(self) {
        let stats = self
            .thread
            .join()
            .expect("the router thread panicked")
            .expect("the router failed");
        assert_eq!(stats.stopped_by, "every machine departed");
    }
}

/// Reads frames until a WELCOME, and returns the id it assigns.
fn read_welcome(stream: &mut TcpStream) -> io::Result<u16> {
    let mut buf = vec![0; HEADER_LEN];
    stream.read_exact(&mut buf)?;
    loop {
        match wire::parse(&buf) {
            Ok(Parsed::Complete { frame, .. }) => {
                return frame.welcome().map(|w| w.id).ok_or_else(|| {
                    io::Error::other(format!("expected WELCOME, got {:?}", frame.header()))
                });
            }
            Ok(Parsed::Incomplete { needed }) => {
                let have = buf.len();
                buf.resize(needed, 0);
                stream.read_exact(&mut buf[have..])?;
            }
            Err(e) => return Err(io::Error::other(e)),
        }
    }
}

/// The minimal relay: accepts A, then B, and copies bytes A -> B on one thread and B -> A on
/// another, each blocking in `read`.
fn start_relay() -> io::Result<(SocketAddr, JoinHandle<io::Result<()>>)> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let thread = thread::spawn(move || -> io::Result<()> {
        let (a, _) = listener.accept()?;
        let (b, _) = listener.accept()?;
        a.set_nodelay(true)?;
        b.set_nodelay(true)?;
        let (a_out, b_in) = (a.try_clone()?, b.try_clone()?);
        let forward = thread::spawn(move || pump(a, b));
        pump(b_in, a_out);
        forward
            .join()
            .map_err(|_| io::Error::other("relay thread panicked"))
    });
    Ok((addr, thread))
}

/// Copies `from` to `to` until `from` ends, then ends `to`.
fn pump(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = vec![0; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}

/// What carries the frames from A to B.
#[derive(Clone, Copy)]
enum Path {
    /// A socket pair: the floor.
    Direct,
    /// The blocking relay.
    Relay,
    /// The clocklab router, with A and B registered as machines 1 and 2.
    Router,
}

impl Path {
    const ALL: [Path; 3] = [Path::Direct, Path::Relay, Path::Router];

    fn name(self) -> &'static str {
        match self {
            Path::Direct => "direct",
            Path::Relay => "relay",
            Path::Router => "router",
        }
    }
}

/// What sits between A and B, stopped once they have gone.
enum Middle {
    Nothing,
    Relay(JoinHandle<io::Result<()>>),
    Router(RouterThread),
}

impl Middle {
    fn join(self) {
        match self {
            Middle::Nothing => {}
            Middle::Relay(thread) => thread
                .join()
                .expect("the relay thread panicked")
                .expect("the relay failed"),
            Middle::Router(router) => router.join(),
        }
    }
}

/// Two connected clients, A (id 1) and B (id 2), over `path`.
fn connect(path: Path) -> io::Result<(Peer, Peer, Middle)> {
    match path {
        Path::Direct => {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let a = TcpStream::connect(listener.local_addr()?)?;
            let (b, _) = listener.accept()?;
            Ok((Peer::new(a, 1)?, Peer::new(b, 2)?, Middle::Nothing))
        }
        Path::Relay => {
            let (addr, thread) = start_relay()?;
            // The relay takes the first connection it accepts as A.
            let a = TcpStream::connect(addr)?;
            let b = TcpStream::connect(addr)?;
            Ok((Peer::new(a, 1)?, Peer::new(b, 2)?, Middle::Relay(thread)))
        }
        Path::Router => {
            let router = RouterThread::start(2)?;
            let mut peers = router.register(&["a", "b"])?.into_iter();
            match (peers.next(), peers.next()) {
                (Some(a), Some(b)) => Ok((a, b, Middle::Router(router))),
                _ => Err(io::Error::other(
                    "two machines registered, but not two peers",
                )),
            }
        }
    }
}

/// A thread that reads data frames from a socket and reports each time `every` more have come.
struct Counter {
    done: Receiver<()>,
    /// A handle on the socket, to end the thread by shutting it.
    stream: TcpStream,
    thread: JoinHandle<io::Result<u64>>,
}

impl Counter {
    fn spawn(peer: Peer, every: u64) -> io::Result<Counter> {
        let stream = peer.stream.try_clone()?;
        let (tx, done) = mpsc::channel();
        let thread = thread::spawn(move || count_frames(peer.stream, every, &tx));
        Ok(Counter {
            done,
            stream,
            thread,
        })
    }

    /// Blocks until the next `every` frames have been read.
    fn wait(&self) {
        if self.done.recv().is_err() {
            panic!("a frame counter stopped early; its error is reported when it is joined");
        }
    }

    /// Ends the thread and returns how many frames it read.
    fn stop(self) -> u64 {
        let _ = self.stream.shutdown(Shutdown::Both);
        self.thread
            .join()
            .expect("a frame counter panicked")
            .expect("a frame counter failed")
    }
}

fn count_frames(mut stream: TcpStream, every: u64, done: &Sender<()>) -> io::Result<u64> {
    let mut buf = vec![0; COUNTER_BUF];
    let mut end = 0;
    let mut count = 0u64;
    loop {
        match stream.read(&mut buf[end..]) {
            Ok(0) => return Ok(count),
            Ok(n) => end += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
        let mut start = 0;
        loop {
            match wire::parse(&buf[start..end]) {
                Ok(Parsed::Complete { frame, len }) if frame.kind().is_data() => {
                    start += len;
                    count += 1;
                    if count % every == 0 && done.send(()).is_err() {
                        return Ok(count);
                    }
                }
                Ok(Parsed::Incomplete { .. }) => break,
                other => return Err(io::Error::other(format!("not a data frame: {other:?}"))),
            }
        }
        buf.copy_within(start..end, 0);
        end -= start;
    }
}

/// Times `iters` batches of `frames` frames from `a`, each until every counter has read them all.
/// Building a batch is not timed.
fn time_batches(
    a: &mut Peer,
    kind: Kind,
    payload: &[u8],
    frames: u64,
    counters: &[Counter],
    iters: u64,
) -> Duration {
    let mut elapsed = Duration::ZERO;
    for _ in 0..iters {
        for _ in 0..frames {
            a.push(kind, payload);
        }
        let start = Instant::now();
        a.flush().expect("A could not write its batch");
        for counter in counters {
            counter.wait();
        }
        elapsed += start.elapsed();
    }
    elapsed
}

fn bench_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("round_trip");
    group.throughput(Throughput::Elements(1));
    for size in PAYLOADS {
        let payload = vec![0x5a; size];
        let label = format!("{}B", HEADER_LEN + size);
        for path in Path::ALL {
            let (mut a, mut b, middle) = connect(path).expect("could not connect A and B");
            group.bench_function(BenchmarkId::new(path.name(), &label), |bench| {
                bench.iter(|| round_trip(&mut a, &mut b, &payload).expect("round trip failed"))
            });
            drop((a, b));
            middle.join();
        }
    }
    group.finish();
}

fn bench_stream(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(STREAM_FRAMES));
    for path in Path::ALL {
        let (mut a, b, middle) = connect(path).expect("could not connect A and B");
        let counters = [Counter::spawn(b, STREAM_FRAMES).expect("could not start B's counter")];
        let id = BenchmarkId::new(path.name(), format!("{HEADER_LEN}B"));
        group.bench_function(id, |bench| {
            bench.iter_custom(|iters| {
                time_batches(
                    &mut a,
                    Kind::SendFirst,
                    &[],
                    STREAM_FRAMES,
                    &counters,
                    iters,
                )
            })
        });
        let sent = u64::from(a.seq);
        drop(a);
        let [counter] = counters;
        assert_eq!(counter.stop(), sent, "B missed frames");
        middle.join();
    }
    group.finish();
}

fn bench_broadcast(c: &mut Criterion) {
    let mut group = c.benchmark_group("broadcast");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(BROADCAST_FRAMES));
    let router = RouterThread::start(4).expect("could not start the router");
    let mut peers = router
        .register(&["a", "b", "c", "d"])
        .expect("could not register four machines")
        .into_iter();
    let mut a = peers.next().expect("machine 1");
    let counters: Vec<Counter> = peers
        .map(|peer| Counter::spawn(peer, BROADCAST_FRAMES).expect("could not start a counter"))
        .collect();
    group.bench_function(BenchmarkId::new("router", "1_to_3_32B"), |bench| {
        bench.iter_custom(|iters| {
            time_batches(
                &mut a,
                Kind::Broadcast,
                &[],
                BROADCAST_FRAMES,
                &counters,
                iters,
            )
        })
    });
    let sent = u64::from(a.seq);
    drop(a);
    for counter in counters {
        assert_eq!(counter.stop(), sent, "a receiver missed broadcast frames");
    }
    router.join();
    group.finish();
}

fn bench_slow_reader(c: &mut Criterion) {
    let mut group = c.benchmark_group("slow_reader");
    group.sampling_mode(SamplingMode::Flat);
    group.throughput(Throughput::Elements(STREAM_FRAMES));
    let router = RouterThread::start(3).expect("could not start the router");
    let mut peers = router
        .register(&["a", "b", "c"])
        .expect("could not register three machines")
        .into_iter();
    let (mut a, b) = (
        peers.next().expect("machine 1"),
        peers.next().expect("machine 2"),
    );
    // Machine 3 never reads; it stays connected until the end.
    let stuck = peers.next().expect("machine 3");
    let counters = [Counter::spawn(b, STREAM_FRAMES - 1).expect("could not start B's counter")];
    group.bench_function(
        BenchmarkId::new("router", "32B_one_for_a_stuck_reader"),
        |bench| {
            bench.iter_custom(|iters| {
                let mut elapsed = Duration::ZERO;
                for _ in 0..iters {
                    for _ in 0..STREAM_FRAMES - 1 {
                        a.push(Kind::SendFirst, &[]);
                    }
                    a.push(Kind::SendSecond, &[]);
                    let start = Instant::now();
                    a.flush().expect("A could not write its batch");
                    counters[0].wait();
                    elapsed += start.elapsed();
                }
                elapsed
            })
        },
    );
    drop((a, stuck));
    let [counter] = counters;
    counter.stop();
    router.join();
    group.finish();
}

criterion_group! {
    name = benches;
    // Defaults sized for a shared two-core machine; flags after `--` override them.
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(30);
    targets = bench_round_trip, bench_stream, bench_broadcast, bench_slow_reader
}
criterion_main!(benches);
