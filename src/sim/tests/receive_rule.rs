//! The receive rule on virtual time: ticks that run late and catch up take only the messages that
//! had arrived by their own deadlines (docs/SIMULATION.md, "The receive rule").

use super::*;

/// A network of exactly 100 µs, so that a message arrives 100 µs after its send row's time.
const HOP_NS: u64 = 100_000;

/// Three machines whose ticks run late by 0.4 s on average (exponential), more than the period
/// of the two at 6 ticks per second: their ticks fall behind and catch up in bursts, each row at
/// the time it really ran.
fn stalled(rule: ReceiveRule) -> SimOptions {
    SimOptions {
        receive_rule: rule,
        latency: Latency::Fixed { ns: HOP_NS },
        tick_lateness: Some(Latency::Exponential {
            base_ns: 0,
            mean_ns: 400_000_000,
        }),
        ..opts(&[2.0, 6.0, 6.0], 9)
    }
}

/// A message that reached a machine, as the rows tell it.
struct Arrival {
    /// When it arrived, within a microsecond (rows keep microseconds): from `first` to `last`.
    first: u64,
    last: u64,
    /// Its (source, seq).
    message: (u16, u32),
}

/// The messages that reached machine `id`, from the send rows of the others.
fn arrivals(records: &[Record], id: u16) -> Vec<Arrival> {
    sends_to(records, id)
        .map(|r| {
            let first = r.system_time_us * 1_000 + HOP_NS;
            Arrival {
                first,
                last: first + 999,
                message: (r.machine, r.seq.unwrap()),
            }
        })
        .collect()
}

/// How many of `arrivals` had arrived by `deadline`; panics when a microsecond window straddles
/// it (the rows cannot tell, and the oracle would guess).
fn arrived_by(arrivals: &[Arrival], deadline: u64) -> usize {
    let surely = arrivals.iter().filter(|a| a.last <= deadline).count();
    let maybe = arrivals.iter().filter(|a| a.first <= deadline).count();
    assert_eq!(
        surely, maybe,
        "an arrival within a microsecond of {deadline}"
    );
    surely
}

#[test]
fn a_tick_catching_up_after_a_stall_takes_only_what_arrived_by_its_own_deadline() {
    let o = stalled(ReceiveRule::ByDeadline);
    let (records, outcome) = run(&o);
    let mut caught_up = 0;
    let mut receives = 0;
    for (index, &rate) in o.rates.iter().enumerate() {
        let id = index as u16 + 1;
        let arrivals = arrivals(&records, id);
        let rows: Vec<&Record> = records.iter().filter(|r| r.machine == id).collect();
        let mut taken = 0;
        for (k, row) in rows.iter().enumerate() {
            // Row k (from 1) is the tick due at d_k, whenever it ran.
            let deadline = DEFAULT_EPOCH_NS + tick_offset_ns(rate, k as u64 + 1);
            if row.system_time_us * 1_000 > deadline + 1_000_000_000 / rate as u64 {
                caught_up += 1;
            }
            // The queue is FIFO and the first `taken` arrivals are gone: the tick takes one iff
            // another had arrived by its deadline, and that one arrived by it.
            let waiting = arrived_by(&arrivals, deadline) > taken;
            assert_eq!(
                row.event == EventKind::Receive,
                waiting,
                "machine {id} row {}",
                k + 1
            );
            if row.event == EventKind::Receive {
                let message = (row.peer.unwrap(), row.seq.unwrap());
                let arrival = arrivals.iter().find(|a| a.message == message).unwrap();
                assert!(
                    arrival.last <= deadline,
                    "machine {id} row {}: {message:?}",
                    k + 1
                );
                taken += 1;
            }
        }
        receives += taken;
        let summary = &outcome.summaries[index];
        assert_eq!(summary.receive_rule, ReceiveRule::ByDeadline);
        assert_eq!(summary.events["receive"], taken as u64);
    }
    // The trial is what the test is about: many ticks ran over a period late, and received.
    assert!(caught_up > 20 && receives > 10, "{caught_up} {receives}");

    // As run, the same stalls let some late ticks take messages that arrived after their
    // deadlines: the rule is what kept them out above.
    let o = stalled(ReceiveRule::AsRun);
    let (records, _) = run(&o);
    let mut after_deadline = 0;
    for (index, &rate) in o.rates.iter().enumerate() {
        let id = index as u16 + 1;
        let arrivals = arrivals(&records, id);
        let rows = records.iter().filter(|r| r.machine == id);
        for (k, row) in rows.enumerate() {
            let deadline = DEFAULT_EPOCH_NS + tick_offset_ns(rate, k as u64 + 1);
            if row.event == EventKind::Receive {
                let message = (row.peer.unwrap(), row.seq.unwrap());
                let arrival = arrivals.iter().find(|a| a.message == message).unwrap();
                after_deadline += usize::from(arrival.first > deadline);
            }
        }
    }
    assert!(after_deadline > 0);
}
