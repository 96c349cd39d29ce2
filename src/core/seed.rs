//! Every seed of a run derives from one master seed, so one number replays a whole run. Each use of
//! randomness draws from its own [`Stream`], and [`derive()`] turns a seed and a stream into the
//! stream's seed (SplitMix64: distinct indices give unrelated seeds). Streams derived from one seed
//! have distinct indices; `SweepTrial(k)` shares `Machine(k)`'s index, but the two are never
//! derived from the same seed (a sweep's master seed is no trial's seed).
//!
//! The streams, from the master seed of a run:
//! - [`Stream::Trial`]`(k)` is trial `k`'s seed in a run of several trials (a one-trial run uses
//!   the master seed itself);
//! - [`Stream::SweepTrial`]`(k)` is trial `k`'s seed at each value of a sweep.
//!
//! And from a trial's seed:
//! - [`Stream::Rates`] draws the machines' random tick rates;
//! - [`Stream::Machine`]`(id)` is machine `id`'s own seed (its action draws);
//! - [`Stream::Latency`] draws the simulator's network latencies;
//! - [`Stream::Weather`] draws the extra latency of a fault plan's `delay` faults (the
//!   switchboard's, in both drivers).

/// One use of randomness. Its index is part of the file formats' meaning (a recorded seed replays
/// only if every stream keeps its index), so the indices never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// The random tick rates of a trial's machines.
    Rates,
    /// Machine `id`'s action draws (ids start at 1, so this never meets [`Stream::Rates`]).
    Machine(u16),
    /// Trial `k` of a run of several trials.
    Trial(u32),
    /// Trial `k` at each value of a sweep.
    SweepTrial(u32),
    /// The simulator's latency draws.
    Latency,
    /// The simulator's tick-lateness draws.
    TickLateness,
    /// The switchboard's draws of a `delay` fault's extra latency.
    Weather,
}

/// Where the trial streams start, apart from the machine and rate streams.
const TRIAL_BASE: u64 = 0x7472_6961_6c00;
/// The latency stream's index ("latency\0" in ASCII).
const LATENCY_INDEX: u64 = 0x6c61_7465_6e63_7900;
/// The tick-lateness stream's index ("ticklate" in ASCII).
const TICK_LATENESS_INDEX: u64 = 0x7469_636b_6c61_7465;
/// The weather stream's index ("weather\0" in ASCII).
const WEATHER_INDEX: u64 = 0x7765_6174_6865_7200;

impl Stream {
    /// The stream's index, the second argument of [`derive_seed`].
    pub const fn index(self) -> u64 {
        match self {
            Stream::Rates => 0,
            Stream::Machine(id) => id as u64,
            Stream::Trial(k) => TRIAL_BASE + k as u64,
            Stream::SweepTrial(k) => k as u64,
            Stream::Latency => LATENCY_INDEX,
            Stream::TickLateness => TICK_LATENESS_INDEX,
            Stream::Weather => WEATHER_INDEX,
        }
    }
}

/// The seed of `stream` under `seed`.
pub fn derive(seed: u64, stream: Stream) -> u64 {
    derive_seed(seed, stream.index())
}

/// Derives the seed of stream `index` from a master seed (SplitMix64 over `master` offset by the
/// index): distinct indices give unrelated seeds. [`derive()`] names the index by its [`Stream`].
pub fn derive_seed(master: u64, index: u64) -> u64 {
    let mut z = master
        .wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(0x6A09_E667_F3BC_C909);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_keep_their_indices() {
        // Recorded seeds replay only while these stay as they were.
        assert_eq!(Stream::Rates.index(), 0);
        assert_eq!(Stream::Machine(3).index(), 3);
        assert_eq!(Stream::Trial(2).index(), 0x7472_6961_6c02);
        assert_eq!(Stream::SweepTrial(7).index(), 7);
        assert_eq!(Stream::Latency.index(), 0x6c61_7465_6e63_7900);
        assert_eq!(Stream::Weather.index(), u64::from_be_bytes(*b"weather\0"));
        assert_eq!(derive(42, Stream::Machine(1)), derive_seed(42, 1));
    }

    #[test]
    fn derivation_is_splitmix64() {
        assert_eq!(derive_seed(42, 1), derive_seed(42, 1));
        assert_ne!(derive_seed(42, 1), derive_seed(43, 1));
        // Worked out outside Rust (Python, wrapping 64-bit arithmetic) from the steps above.
        assert_eq!(derive_seed(42, 1), 13_837_796_820_679_303_446);
    }
}
