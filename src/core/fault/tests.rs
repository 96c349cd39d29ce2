use super::*;

const START_US: u64 = 1_767_225_600_000_000;

#[test]
fn a_perfect_clock_stamps_real_time() {
    let perfect = ClockSkew::default();
    assert!(perfect.is_perfect());
    assert_eq!(perfect.stamp_us(START_US, START_US + 7), START_US + 7);
    assert_eq!(perfect.stamp_ns(5, 123_456_789), 123_456_789);
    assert_eq!(perfect.real_us(START_US, 42), 42);
}

#[test]
fn an_offset_clock_is_ahead_by_the_offset_at_every_instant() {
    let ahead = ClockSkew {
        offset_us: 250_000,
        drift_ppb: 0,
    };
    for real in [START_US, START_US + 1, START_US + 59_999_999] {
        assert_eq!(ahead.stamp_us(START_US, real), real + 250_000);
        assert_eq!(ahead.real_us(START_US, real + 250_000), real);
    }
    // The nanoseconds within the microsecond are kept.
    assert_eq!(
        ahead.stamp_ns(START_US * 1000, START_US * 1000 + 1_000_789),
        (START_US + 251_000) * 1000 + 789
    );
    let behind = ClockSkew {
        offset_us: -250_000,
        drift_ppb: 0,
    };
    assert_eq!(behind.stamp_us(START_US, START_US + 10), START_US - 249_990);
    assert_eq!(behind.real_us(START_US, START_US - 249_990), START_US + 10);
}

#[test]
fn a_drifting_clock_gains_its_drift_of_the_time_since_the_start() {
    // 100 ppm: 100 µs per second, floored.
    let fast = ClockSkew {
        offset_us: 250_000,
        drift_ppb: 100_000,
    };
    assert_eq!(fast.stamp_us(START_US, START_US), START_US + 250_000);
    assert_eq!(
        fast.stamp_us(START_US, START_US + 9_999),
        START_US + 9_999 + 250_000
    );
    assert_eq!(
        fast.stamp_us(START_US, START_US + 10_000),
        START_US + 10_000 + 250_001
    );
    assert_eq!(
        fast.stamp_us(START_US, START_US + 30_000_000),
        START_US + 30_000_000 + 253_000
    );
    // Before the start the drift runs the other way.
    assert_eq!(
        fast.stamp_us(START_US, START_US - 10_000),
        START_US - 10_000 + 249_999
    );
}

#[test]
fn every_real_microsecond_comes_back_exactly_for_a_drift_of_zero_or_more() {
    for drift_ppb in [0, 1, 999, 100_000, 7_654_321, ClockSkew::MAX_DRIFT_PPB] {
        for offset_us in [-3_000_000, 0, 250_000] {
            let skew = ClockSkew {
                offset_us,
                drift_ppb,
            };
            let mut last = None;
            for real in
                (START_US - 3..START_US + 30).chain(START_US + 59_999_000..START_US + 60_000_000)
            {
                let stamp = skew.stamp_us(START_US, real);
                assert!(last.is_none_or(|l| stamp > l), "{skew:?} at {real}");
                last = Some(stamp);
                assert_eq!(skew.real_us(START_US, stamp), real, "{skew:?} at {real}");
            }
        }
    }
}

#[test]
fn a_slow_clock_comes_back_within_one_microsecond() {
    let slow = ClockSkew {
        offset_us: -1_000,
        drift_ppb: -ClockSkew::MAX_DRIFT_PPB,
    };
    let mut last = 0;
    for real in START_US..START_US + 1_000 {
        let stamp = slow.stamp_us(START_US, real);
        assert!(stamp >= last);
        last = stamp;
        let back = slow.real_us(START_US, stamp);
        assert!(back.abs_diff(real) <= 1, "{real} -> {stamp} -> {back}");
    }
}

#[test]
fn windows_hold_from_their_start_to_before_their_end() {
    let w = Window::from_secs(10.0, 20.5);
    assert_eq!(
        w,
        Window {
            from_ns: 10_000_000_000,
            to_ns: 20_500_000_000
        }
    );
    assert!(!w.contains(9_999_999_999));
    assert!(w.contains(10_000_000_000));
    assert!(w.contains(20_499_999_999));
    assert!(!w.contains(20_500_000_000));
    assert!(w.overlaps(&Window::from_secs(20.0, 30.0)));
    assert!(!w.overlaps(&Window::from_secs(20.5, 30.0)));
    assert!(!w.overlaps(&Window::from_secs(0.0, 10.0)));
}

#[test]
fn links_read_print_and_match() {
    let one_three: Link = "1->3".parse().unwrap();
    assert_eq!(
        one_three,
        Link {
            from: Some(1),
            to: Some(3)
        }
    );
    assert!(one_three.matches(1, 3));
    assert!(!one_three.matches(3, 1));
    let to_two: Link = "* -> 2".parse().unwrap();
    assert_eq!(to_two.to_string(), "*->2");
    assert!(to_two.matches(1, 2) && to_two.matches(3, 2) && !to_two.matches(2, 1));
    assert!("*->*".parse::<Link>().unwrap().matches(4, 5));
    for bad in ["1-3", "1->", "a->2", "1->2->3", "", "-1->2"] {
        assert_eq!(
            bad.parse::<Link>().unwrap_err().to_string(),
            format!("{bad:?} is not a link \"A->B\" (each a machine id or * for any)")
        );
    }
}

#[test]
fn partition_modes_are_words() {
    assert_eq!(PartitionMode::default(), PartitionMode::Hold);
    assert_eq!(PartitionMode::from_word("drop"), Some(PartitionMode::Drop));
    assert_eq!(PartitionMode::from_word("hold"), Some(PartitionMode::Hold));
    assert_eq!(PartitionMode::from_word("halt"), None);
}
