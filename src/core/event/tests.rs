//! The formatter against its oracle: the `format!`-based formatter it replaced, kept here word for
//! word, must give the same bytes for every record.

use std::fmt::Write as _;

use proptest::prelude::*;

use super::*;

/// The formatter as it was before `RowText`: one `write!` per field.
fn oracle(rec: &Record) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{},{},{}.{:06},{},{},",
        rec.machine,
        rec.event,
        rec.system_time_us / 1_000_000,
        rec.system_time_us % 1_000_000,
        rec.logical_clock,
        rec.queue_len,
    );
    if let Some(peer) = rec.peer {
        let _ = write!(out, "{peer}");
    }
    out.push(',');
    if let Some(clock) = rec.msg_clock {
        let _ = write!(out, "{clock}");
    }
    out.push(',');
    if let Some(seq) = rec.seq {
        let _ = write!(out, "{seq}");
    }
    out.push('\n');
    out
}

/// Both doors of the formatter give the oracle's row, appended after what was there.
fn assert_matches_oracle(rec: &Record) {
    let want = oracle(rec);
    assert_eq!(RowText::new(rec).as_str(), want, "{rec:?}");
    assert!(want.len() <= MAX_ROW_LEN, "{rec:?}");
    let mut text = String::from("x,");
    format_record(rec, &mut text);
    assert_eq!(text, format!("x,{want}"));
    let mut bytes = b"y,".to_vec();
    append_record(rec, &mut bytes);
    assert_eq!(bytes, format!("y,{want}").into_bytes());
}

/// Values that test the edges of a field of `bits` bits: 0, 1, powers of ten and their
/// neighbours (where a digit is added), and the largest values.
fn edges(max: u64) -> Vec<u64> {
    let mut out = vec![0, 1, 2, max - 1, max, max / 2];
    let mut p: u64 = 1;
    while let Some(next) = p.checked_mul(10) {
        p = next;
        out.extend([p - 1, p, p + 1].into_iter().filter(|&v| v <= max));
    }
    out.sort_unstable();
    out.dedup();
    out
}

fn record(event: EventKind, fields: [u64; 7], present: [bool; 3]) -> Record {
    let [machine, time, clock, queue, peer, msg_clock, seq] = fields;
    Record {
        machine: machine as u16,
        event,
        system_time_us: time,
        logical_clock: clock,
        queue_len: queue as u32,
        peer: present[0].then_some(peer as u16),
        msg_clock: present[1].then_some(msg_clock),
        seq: present[2].then_some(seq as u32),
    }
}

#[test]
fn every_field_at_its_edges_in_every_kind_and_presence() {
    let (small, wide, mid) = (
        edges(u16::MAX.into()),
        edges(u64::MAX),
        edges(u32::MAX.into()),
    );
    for event in EventKind::ALL {
        for mask in 0..8u8 {
            let present = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0];
            // Each field runs through its edges while the others hold an edge of their own.
            for (i, v) in small.iter().enumerate() {
                let w = wide[i % wide.len()];
                let m = mid[i % mid.len()];
                assert_matches_oracle(&record(event, [*v, w, w, m, *v, w, m], present));
            }
            for (i, w) in wide.iter().enumerate() {
                let v = small[i % small.len()];
                let m = mid[i % mid.len()];
                assert_matches_oracle(&record(event, [v, *w, *w, m, v, *w, m], present));
                assert_matches_oracle(&record(event, [v, u64::MAX - w, 0, m, v, 0, m], present));
            }
            for (i, m) in mid.iter().enumerate() {
                let v = small[i % small.len()];
                let w = wide[i % wide.len()];
                assert_matches_oracle(&record(event, [v, w, w, *m, v, w, *m], present));
            }
        }
    }
}

#[test]
fn every_count_of_microseconds_keeps_its_leading_zeros() {
    // Every fraction of a second, in three seconds: 0, an ordinary one and the last there is
    // (which ends at u64::MAX, .551615).
    for secs in [0, 1_767_225_600, u64::MAX / 1_000_000] {
        for us in 0..1_000_000 {
            let Some(time) = (secs * 1_000_000).checked_add(us) else {
                break;
            };
            let row = RowText::new(&record(
                EventKind::Internal,
                [1, time, 0, 0, 0, 0, 0],
                [false; 3],
            ));
            let want = format!("1,internal,{secs}.{us:06},0,0,,,\n");
            assert_eq!(row.as_str(), want);
        }
    }
}

#[test]
fn the_longest_row_fills_the_buffer_exactly() {
    let rec = record(
        EventKind::Broadcast,
        [
            65534,
            u64::MAX,
            u64::MAX,
            u32::MAX.into(),
            65535,
            u64::MAX,
            u32::MAX.into(),
        ],
        [true; 3],
    );
    assert_eq!(RowText::new(&rec).as_bytes().len(), MAX_ROW_LEN);
    assert_matches_oracle(&rec);
}

fn any_event() -> impl Strategy<Value = EventKind> {
    prop::sample::select(EventKind::ALL.to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn any_record_formats_as_the_oracle_does(
        event in any_event(),
        machine in any::<u16>(),
        time in any::<u64>(),
        clock in any::<u64>(),
        queue in any::<u32>(),
        peer in proptest::option::of(any::<u16>()),
        msg_clock in proptest::option::of(any::<u64>()),
        seq in proptest::option::of(any::<u32>()),
        small_time in 0u64..10_000_000,
    ) {
        let rec = Record {
            machine, event, system_time_us: time, logical_clock: clock, queue_len: queue,
            peer, msg_clock, seq,
        };
        assert_matches_oracle(&rec);
        // Small times too: few digits of seconds, and micros with leading zeros.
        assert_matches_oracle(&Record { system_time_us: small_time, ..rec });
    }
}
