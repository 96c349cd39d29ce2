//! The oracle's reading of the fuzzer's bytes: small numbers, byte strings, valid frames and
//! small fault plans.

use super::{MS, T0};
use crate::core::fault::{Link, PartitionMode, Window};
use crate::core::latency::Latency;
use crate::core::switchboard::{Delay, Partition, Plan};
use crate::core::wire::{self, Header, Kind};

/// Reads the fuzzer's bytes as a sequence of small numbers and byte strings.
pub(super) struct Input<'a>(pub(super) &'a [u8]);

impl Input<'_> {
    pub(super) fn byte(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    pub(super) fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes([self.byte()?, self.byte()?]))
    }
    pub(super) fn bytes(&mut self, n: usize) -> &[u8] {
        let (taken, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        taken
    }
}

/// A valid frame the fuzzer picks with `pick`, from the connection `conn` (whose id, if any,
/// is `id`), of `machines` machines; `arg` varies names, targets and payload lengths.
pub(super) fn frame(pick: u8, arg: u8, id: Option<u16>, machines: u16) -> Vec<u8> {
    let source = if arg & 0x80 == 0 {
        id.unwrap_or(1)
    } else {
        u16::from(arg % 5) + 1
    };
    let other = u16::from(arg % 4) + 1;
    let payload = vec![arg; usize::from(arg & 0x0f) * 3];
    let data = |kind: Kind, dest: u16| {
        Header {
            payload_len: payload.len() as u32,
            ..Header::data(kind, source, dest, u32::from(arg) + 1, 7, T0)
        }
        .to_frame(&payload)
    };
    match pick % 7 {
        0 => wire::hello(&format!("m{}", arg % (machines as u8 + 1)), T0).unwrap_or_default(),
        1 => data(Kind::SendFirst, 0),
        2 => data(Kind::SendSecond, 0),
        3 if other != source => data(Kind::SendTo, other),
        3 | 4 => data(Kind::Broadcast, 0),
        5 => wire::bye(source, 0, 0, T0),
        _ => wire::error("nonsense", T0),
    }
}

/// A small fault plan the fuzzer picks with `pick` among `machines` machines (2 or more), its
/// windows from the trial's start (the WELCOME's start time): machine 1 cut off from the others,
/// its frames held or dropped; a fixed delay on the frames to machine 1 or a random one on
/// `1->2`, alone or with a partition; or no rule at all (fair weather again).
pub(super) fn plan(pick: u8, machines: u16) -> Plan {
    let window = |ms: u64| Window {
        from_ns: u64::from(pick / 8) * 20 * MS,
        to_ns: u64::from(pick / 8) * 20 * MS + ms * MS,
    };
    let partition = |mode| Partition {
        groups: vec![vec![1], (2..=machines).collect()],
        window: window(300),
        mode,
    };
    let delay = |link: &str, latency| Delay {
        link: link.parse::<Link>().expect("a link"),
        window: window(1_000),
        latency,
    };
    let fixed = Latency::Fixed { ns: 30 * MS };
    let uniform = Latency::Uniform {
        min_ns: 0,
        max_ns: 50 * MS,
    };
    let (delays, partitions) = match pick % 6 {
        0 => (vec![], vec![partition(PartitionMode::Hold)]),
        1 => (vec![], vec![partition(PartitionMode::Drop)]),
        2 => (vec![delay("*->1", fixed)], vec![]),
        3 => (
            vec![delay("1->2", uniform)],
            vec![partition(PartitionMode::Hold)],
        ),
        4 => (vec![delay("*->*", uniform)], vec![]),
        _ => (vec![], vec![]),
    };
    Plan { delays, partitions }
}
