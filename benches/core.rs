//! Benchmarks of the pure core: parsing and emitting frames, ticking a model machine, the router's
//! switchboard forwarding a read of data frames (no sockets: the router's own work per frame),
//! whole simulated trials (steps per second: log rows and deliveries), and the simulator's logs
//! (`logs`: a trial's rows formatted and written, beside the same trial simulated without them and
//! beside the `format!`-based writer the logs used before 2026-12-06; `benches/logs_paired.rs` runs
//! the same variants in turn, for a machine too busy for criterion's samples to compare).
//!
//! `cargo bench --bench core -- --warm-up-time 1 --measurement-time 3` runs them; `cargo test
//! --benches` runs each once as a smoke test.

use std::hint::black_box;
use std::time::{Duration, Instant};

use clocklab::core::event::format_record;
use clocklab::core::machine::{DEFAULT_ACTION_RANGE, Machine, MachineConfig, Message};
use clocklab::core::switchboard::{self, ConnId, Switchboard};
use clocklab::core::wire::{self, HEADER_LEN, Header, Kind, Parsed};
use clocklab::rundir::log::log_path;
use clocklab::sim;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};

#[path = "support/logs.rs"]
mod logs;

const T0: u64 = 1_700_000_000_000_000_000;
/// Frames in the stream benchmark.
const STREAM_FRAMES: u64 = 1_000;
/// Messages queued (untimed) before each timed batch of receive ticks.
const RECEIVE_BATCH: u64 = 1_024;

fn data_header(seq: u32) -> Header {
    Header::data(
        Kind::SendTo,
        1,
        3,
        seq,
        u64::from(seq) * 3,
        T0 + u64::from(seq),
    )
}

/// Parses one frame and hands back its length, so nothing is optimised away.
fn parsed_len(buf: &[u8]) -> usize {
    match wire::parse(buf) {
        Ok(Parsed::Complete { frame, len }) => {
            black_box(frame.logical_clock());
            len
        }
        other => panic!("benchmark frame does not parse: {other:?}"),
    }
}

fn bench_wire(c: &mut Criterion) {
    let mut group = c.benchmark_group("wire");
    group.throughput(Throughput::Elements(1));

    let data = data_header(7).to_frame(&[]);
    assert_eq!(data.len(), HEADER_LEN);
    group.bench_function("parse_data_32B", |b| {
        b.iter(|| parsed_len(black_box(&data)))
    });

    let hello = wire::hello("machine-000042", T0).expect("a short name");
    assert_eq!(hello.len(), HEADER_LEN + 14);
    group.bench_function("parse_hello_14B_name", |b| {
        b.iter(|| {
            let buf = black_box(&hello[..]);
            match wire::parse(buf) {
                Ok(Parsed::Complete { frame, .. }) => frame.hello_name().map(str::len),
                _ => None,
            }
        })
    });

    let header = data_header(9);
    group.bench_function("emit_header", |b| {
        let mut out = [0u8; HEADER_LEN];
        b.iter(|| {
            black_box(&header).emit(&mut out);
            black_box(&out);
        })
    });

    let mut stream = Vec::new();
    for seq in 1..=STREAM_FRAMES as u32 {
        data_header(seq).write_frame(&[], &mut stream);
    }
    group.throughput(Throughput::Elements(STREAM_FRAMES));
    group.bench_function("parse_stream_1000_data", |b| {
        b.iter(|| {
            let mut rest = black_box(&stream[..]);
            let mut frames = 0u32;
            while !rest.is_empty() {
                rest = &rest[parsed_len(rest)..];
                frames += 1;
            }
            frames
        })
    });
    group.finish();
}

fn machine() -> Machine {
    Machine::new(MachineConfig {
        id: 1,
        machines: 3,
        action_range: DEFAULT_ACTION_RANGE,
        rate: 10.0,
        seed: 2024,
        start_ns: T0,
    })
    .expect("valid config")
}

/// Takes the tick's outputs as a driver would, so the output queues stay short.
fn drain(m: &mut Machine) {
    while let Some(record) = m.poll_event() {
        black_box(record);
    }
    while let Some(header) = m.poll_transmit() {
        black_box(header);
    }
}

fn bench_machine(c: &mut Criterion) {
    let mut group = c.benchmark_group("machine");
    group.throughput(Throughput::Elements(1));
    let msg = Message {
        source: 2,
        seq: 1,
        clock: 5,
        sent_ns: T0,
    };

    let mut m = machine();
    let mut now = T0;
    group.bench_function("idle_tick_n3_r10", |b| {
        b.iter(|| {
            now += 1;
            m.tick(black_box(now));
            drain(&mut m);
        })
    });

    // A tick taken through the schedule, as the client takes it: the deadline, the lateness
    // (20 µs here) and the next deadline, on top of the tick itself.
    let mut m = machine();
    group.bench_function("scheduled_tick_n3_r10", |b| {
        b.iter(|| {
            let now = m.poll_timeout() + 20_000;
            black_box(m.handle_timeout(black_box(now)));
            drain(&mut m);
        })
    });

    let mut m = machine();
    group.bench_function("receive_tick", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let batch = left.min(RECEIVE_BATCH);
                for _ in 0..batch {
                    m.handle_message(msg);
                }
                let start = Instant::now();
                for _ in 0..batch {
                    m.tick(black_box(T0));
                    drain(&mut m);
                }
                elapsed += start.elapsed();
                left -= batch;
            }
            elapsed
        })
    });

    let mut m = machine();
    group.bench_function("handle_message_and_tick", |b| {
        b.iter(|| {
            m.handle_message(black_box(msg));
            m.tick(black_box(T0));
            drain(&mut m);
        })
    });
    group.finish();
}

/// Simulated steps (the events logged, one per tick, and the deliveries) per second: whole trials on virtual time, with the
/// records formatted as log lines in memory (as `simulate` does before writing them) or dropped
/// (as `--no-logs` and sweeps do).
fn bench_sim(c: &mut Criterion) {
    let mut group = c.benchmark_group("sim");
    for (name, rates, secs) in [
        ("default_3x60s", vec![1.0, 4.0, 6.0], 60),
        ("fast_5x60s", vec![50.0, 80.0, 100.0, 150.0, 200.0], 60),
    ] {
        let opts = logs::sim_trial(rates, secs, 7);
        let outcome = sim::simulate(&opts, |_| {}).unwrap();
        group.throughput(Throughput::Elements(outcome.events + outcome.deliveries));
        group.bench_function(format!("{name}/no_logs"), |b| {
            b.iter(|| black_box(sim::simulate(black_box(&opts), |_| {}).unwrap().events))
        });
        group.bench_function(format!("{name}/formatted_logs"), |b| {
            let mut text = String::with_capacity(1 << 20);
            b.iter(|| {
                text.clear();
                let outcome = sim::simulate(black_box(&opts), |r| format_record(r, &mut text));
                black_box((outcome.unwrap().events, text.len()))
            })
        });
    }
    group.finish();
}

/// The cost of the logs, per trial of issue 23's run (3 machines at 50, 100 and 200 ticks/s for
/// 600 s, seed 1: 210,000 rows, 9.4 MB of logs): `simulate` alone (as `--no-logs`), with the rows
/// formatted into memory, and with them written to files as `simulate` does (`LogBlocks`, into a
/// fresh directory each time); beside the baseline, the same two with the rows formatted by
/// `write!` per field and each log written at the end. Throughput is in log rows.
fn bench_logs(c: &mut Criterion) {
    let mut group = c.benchmark_group("logs");
    let opts = logs::issue_trial();
    // The logs written are the baseline's, byte for byte.
    let mut n = 0;
    let (new, old) = (logs::LogDir::new(&mut n), logs::LogDir::new(&mut n));
    logs::simulate_writing_logs(&opts, &new.0);
    let texts = logs::simulate_with_macro_logs(&opts, Some(&old.0));
    for i in 1..=opts.rates.len() as u16 {
        let read = |dir: &logs::LogDir| std::fs::read(log_path(&dir.0, i)).unwrap();
        assert!(read(&new) == read(&old), "machine {i}'s log differs");
    }
    drop((new, old));
    let rows = texts.iter().map(|t| t.lines().count() as u64 - 1).sum();
    group.throughput(Throughput::Elements(rows));
    group.sample_size(20);
    let name = "3x600s_50_100_200";
    group.bench_function(format!("{name}/simulate_only"), |b| {
        b.iter(|| black_box(sim::simulate(black_box(&opts), |_| {}).unwrap().events))
    });
    group.bench_function(format!("{name}/simulate_format"), |b| {
        b.iter(|| black_box(logs::simulate_formatting_logs(black_box(&opts))))
    });
    group.bench_function(format!("{name}/simulate_format_write"), |b| {
        b.iter_batched(
            || logs::LogDir::new(&mut n),
            |dir| {
                black_box(logs::simulate_writing_logs(black_box(&opts), &dir.0));
                dir
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function(format!("{name}/baseline_format_macro"), |b| {
        b.iter(|| black_box(logs::simulate_with_macro_logs(black_box(&opts), None)))
    });
    group.bench_function(format!("{name}/baseline_format_macro_write"), |b| {
        b.iter_batched(
            || logs::LogDir::new(&mut n),
            |dir| {
                black_box(logs::simulate_with_macro_logs(
                    black_box(&opts),
                    Some(&dir.0),
                ));
                dir
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// Data frames in one read of the switchboard benchmark: 64 KiB of 32-byte frames, the most one
/// read of the router takes.
const READ_FRAMES: usize = 2_048;

/// A switchboard of `machines` machines, every one welcomed (the WELCOMEs taken as written).
fn welcomed_switchboard(machines: u16) -> Switchboard {
    let mut sb = Switchboard::new(switchboard::Options {
        machines,
        seed: 1,
        start_delay_ns: 0,
        stop_grace_ns: 1_000_000_000,
        ..switchboard::Options::default()
    });
    for i in 0..usize::from(machines) {
        sb.handle_connect(ConnId(i), format!("peer {i}"), T0);
        let name = format!("m{i:05}");
        sb.handle_read(ConnId(i), &wire::hello(&name, T0).unwrap(), T0);
    }
    for i in 0..usize::from(machines) {
        let n: usize = sb.poll_transmit(ConnId(i)).map(<[u8]>::len).sum();
        sb.handle_written(ConnId(i), n, T0);
        sb.poll_fate(ConnId(i), T0);
    }
    while sb.poll_event().is_some() {}
    sb
}

/// One turn of the router's loop for a read of `bytes` from machine 1: the read, then every
/// connection's writes (each socket takes everything) and fate. Returns the bytes written.
fn forward_read(sb: &mut Switchboard, machines: u16, bytes: &[u8]) -> usize {
    let from = ConnId(0);
    let buf = sb.read_buffer(from).expect("room in the read buffer");
    buf[..bytes.len()].copy_from_slice(bytes);
    sb.handle_filled(from, bytes.len(), T0);
    let mut written = 0;
    for i in 0..usize::from(machines) {
        let n: usize = sb.poll_transmit(ConnId(i)).map(<[u8]>::len).sum();
        sb.handle_written(ConnId(i), n, T0);
        sb.poll_fate(ConnId(i), T0);
        written += n;
    }
    while sb.poll_event().is_some() {}
    written
}

fn bench_switchboard(c: &mut Criterion) {
    let mut group = c.benchmark_group("switchboard");
    group.throughput(Throughput::Elements(READ_FRAMES as u64));
    for (name, machines, kind) in [
        ("send_first_2_machines", 2, Kind::SendFirst),
        ("broadcast_3_machines", 3, Kind::Broadcast),
    ] {
        let read: Vec<u8> = (1..=READ_FRAMES as u32)
            .flat_map(|seq| Header::data(kind, 1, 0, seq, u64::from(seq), T0).to_frame(&[]))
            .collect();
        let mut sb = welcomed_switchboard(machines);
        let want = read.len() * usize::from(machines - 1);
        assert_eq!(forward_read(&mut sb, machines, &read), want);
        group.bench_function(format!("{name}/{READ_FRAMES}x32B_read"), |b| {
            b.iter(|| black_box(forward_read(&mut sb, machines, black_box(&read))))
        });
        let books = sb.pairs().books(1, 2);
        assert!(books.balance() && books.undeliverable == 0, "{books:?}");
    }
    group.finish();
}

criterion_group!(
    benches,
    bench_wire,
    bench_machine,
    bench_switchboard,
    bench_sim,
    bench_logs
);
criterion_main!(benches);
