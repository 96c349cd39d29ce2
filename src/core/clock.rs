//! The Lamport logical clock: the two rules and nothing else.

/// The largest value a clock reaches (`i64::MAX`, so every clock fits a signed 64-bit column in
/// the tools that read the logs); it saturates there.
pub const MAX_CLOCK: u64 = i64::MAX as u64;

/// A Lamport logical clock. It starts at 0 and only moves forward, saturating at [`MAX_CLOCK`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LamportClock {
    value: u64,
}

impl LamportClock {
    /// A clock at 0.
    pub const fn new() -> LamportClock {
        LamportClock { value: 0 }
    }

    /// The current value.
    pub const fn value(&self) -> u64 {
        self.value
    }

    /// A local event (internal or send): the clock rises by one. Returns the new value, the event's
    /// timestamp.
    pub fn tick(&mut self) -> u64 {
        self.value = (self.value + 1).min(MAX_CLOCK);
        self.value
    }

    /// A receive of a message stamped `message_clock`: the clock becomes
    /// `max(clock, message_clock) + 1`. Returns the new value.
    pub fn receive(&mut self, message_clock: u64) -> u64 {
        self.value = self.value.max(message_clock).min(MAX_CLOCK - 1) + 1;
        self.value
    }
}

#[cfg(test)]
mod tests {
    use super::{LamportClock, MAX_CLOCK};

    #[test]
    fn tick_rises_by_one() {
        let mut c = LamportClock::new();
        assert_eq!(c.tick(), 1);
        assert_eq!(c.tick(), 2);
        assert_eq!(c.value(), 2);
    }

    #[test]
    fn receive_jumps_past_a_later_message() {
        let mut c = LamportClock::new();
        c.tick();
        assert_eq!(c.receive(41), 42);
    }

    #[test]
    fn saturates_at_max_clock() {
        let mut c = LamportClock::new();
        assert_eq!(c.receive(MAX_CLOCK - 1), MAX_CLOCK);
        assert_eq!(c.tick(), MAX_CLOCK);
        assert_eq!(c.receive(u64::MAX), MAX_CLOCK);
    }

    #[test]
    fn receive_of_an_earlier_message_still_rises_by_one() {
        let mut c = LamportClock::new();
        for _ in 0..10 {
            c.tick();
        }
        assert_eq!(c.receive(3), 11);
        assert_eq!(c.receive(11), 12);
    }
}
