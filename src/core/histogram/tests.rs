use rand::SeedableRng;

use super::*;

#[test]
fn buckets_are_exact_below_64_and_log_linear_above() {
    for v in 0..64 {
        assert_eq!(
            (Histogram::index(v), Histogram::width(v as usize)),
            (v as usize, 1)
        );
    }
    // [64, 128): 32 buckets of 2; [128, 256): 32 of 4; and so on.
    assert_eq!(Histogram::index(64), 64);
    assert_eq!(Histogram::index(65), 64);
    assert_eq!(Histogram::index(66), 65);
    assert_eq!(Histogram::index(127), 95);
    assert_eq!(Histogram::index(128), 96);
    assert_eq!((Histogram::low(96), Histogram::width(96)), (128, 4));
    assert_eq!((Histogram::low(95), Histogram::width(95)), (126, 2));
    // 100 µs = 100,000 ns: 2^16 = 65,536 <= v < 2^17, buckets of 2^11 = 2,048.
    let i = Histogram::index(100_000);
    assert_eq!((Histogram::low(i), Histogram::width(i)), (98_304, 2_048));
    assert_eq!(Histogram::index(u64::MAX), BUCKETS - 1);
    // Every bucket starts where the one before ends, and holds its own values.
    for i in 1..BUCKETS {
        assert_eq!(
            Histogram::low(i - 1) + Histogram::width(i - 1),
            Histogram::low(i)
        );
        assert_eq!(Histogram::index(Histogram::low(i)), i);
        assert_eq!(
            Histogram::index(Histogram::low(i) + (Histogram::width(i) - 1)),
            i
        );
        assert!(
            Histogram::width(i) * 32 <= Histogram::low(i).max(32),
            "bucket {i}"
        );
    }
}

#[test]
fn percentiles_are_within_one_and_a_half_percent_and_the_max_is_exact() {
    let mut h = Histogram::default();
    assert_eq!((h.percentile(50.0), h.max(), h.count()), (0, 0, 0));
    for v in 1..=10_000u64 {
        h.record(v * 37);
    }
    assert_eq!((h.count(), h.max()), (10_000, 370_000));
    for p in [1.0, 10.0, 50.0, 90.0, 99.0, 99.9] {
        let exact = (p * 100.0_f64).ceil() * 37.0;
        let got = h.percentile(p) as f64;
        assert!(
            (got - exact).abs() <= exact / 64.0,
            "p{p}: {got} vs {exact}"
        );
    }
    assert_eq!(h.percentile(100.0), 370_000);
    let mut small = Histogram::default();
    for v in [0, 0, 5, 63] {
        small.record(v);
    }
    assert_eq!(
        [25.0, 50.0, 75.0, 100.0].map(|p| small.percentile(p)),
        [0, 0, 5, 63]
    );
}

#[test]
fn merging_is_recording_both() {
    let (mut a, mut b, mut both) = (
        Histogram::default(),
        Histogram::default(),
        Histogram::default(),
    );
    for v in [3u64, 70, 1_000, 250_000] {
        a.record(v);
        both.record(v);
    }
    for v in [5u64, 70, 9_000_000] {
        b.record(v);
        both.record(v);
    }
    let mut merged = a.clone();
    merged.merge(&b);
    assert_eq!(merged, both);
    // The shorter one merged into the longer gives the same.
    let mut other = b.clone();
    other.merge(&a);
    assert_eq!(other, both);
    assert_eq!((both.count(), both.max()), (7, 9_000_000));
}

#[test]
fn a_histogram_writes_its_buckets_by_lower_bound_and_reads_back() {
    let mut h = Histogram::default();
    for v in [0u64, 0, 65, 100_000, 100_001, 3_000_000] {
        h.record(v);
    }
    let text = serde_yaml::to_string(&h).unwrap();
    assert_eq!(
        text,
        "count: 6\nmax: 3000000\nbuckets:\n  0: 2\n  64: 1\n  98304: 2\n  2949120: 1\n"
    );
    let back: Histogram = serde_yaml::from_str(&text).unwrap();
    assert_eq!(back, h);
    for (bad, why) in [
        ("count: 1\nmax: 70\nbuckets:\n  65: 1\n", "bucket 65"),
        ("count: 2\nmax: 64\nbuckets:\n  64: 1\n", "count is 2"),
        ("count: 1\nmax: 500\nbuckets:\n  64: 1\n", "max 500"),
    ] {
        let err = serde_yaml::from_str::<Histogram>(bad)
            .unwrap_err()
            .to_string();
        assert!(err.contains(why), "{err}");
    }
    let record = |count, max, buckets: &[(u64, u64)]| HistogramRecord {
        count,
        max,
        buckets: buckets.iter().copied().collect(),
    };
    for (r, why, text) in [
        (
            record(1, 70, &[(65, 1)]),
            HistogramRecordError::NotALowerBound(65),
            "bucket 65: not the lower bound of a bucket",
        ),
        (
            record(2, 64, &[(64, 1)]),
            HistogramRecordError::Count { held: 1, count: 2 },
            "the buckets hold 1 values, but count is 2",
        ),
        (
            record(1, 500, &[(64, 1)]),
            HistogramRecordError::MaxOutsideHighest(500),
            "max 500 is not in the highest bucket",
        ),
        (
            record(0, 3, &[]),
            HistogramRecordError::MaxWithoutValues(3),
            "max 3 with no values",
        ),
    ] {
        let err = Histogram::try_from(r).unwrap_err();
        assert_eq!((&err, err.to_string().as_str()), (&why, text));
    }
}

#[test]
fn the_empirical_inverse_cdf_follows_the_buckets() {
    assert_eq!(Empirical::new(&Histogram::default()), None);
    let mut h = Histogram::default();
    // Three values of 10 ns, one of 20 ns.
    for v in [10u64, 10, 10, 20] {
        h.record(v);
    }
    let e = Empirical::new(&h).unwrap();
    assert_eq!(
        [0.0, 0.5, 0.74, 0.75, 0.99, 1.0].map(|u| e.at(u)),
        [10, 10, 10, 20, 20, 20]
    );
    // Within a wide bucket the values are spread uniformly, never above the maximum.
    let mut wide = Histogram::default();
    wide.record(98_400);
    wide.record(99_000);
    let e = Empirical::new(&wide).unwrap();
    assert_eq!(e.at(0.0), 98_304);
    assert_eq!(e.at(0.25), 98_304 + 512);
    assert_eq!(e.at(0.999), 99_000);
}

#[test]
fn empirical_draws_replay_for_a_seed_and_reproduce_the_median() {
    let mut h = Histogram::default();
    for v in 0..5_000u64 {
        // 50 µs to 550 µs, skewed: the median is near 175 µs.
        h.record(50_000 + v * v / 50);
    }
    let e = Empirical::new(&h).unwrap();
    let draws = |seed| {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..20_000).map(|_| e.draw(&mut rng)).collect::<Vec<u64>>()
    };
    let first = draws(9);
    assert_eq!(first, draws(9));
    assert_ne!(first, draws(10));
    let mut drawn = Histogram::default();
    first.iter().for_each(|&v| drawn.record(v));
    let (want, got) = (h.percentile(50.0) as f64, drawn.percentile(50.0) as f64);
    assert!((got - want).abs() <= want * 0.02, "{got} vs {want}");
    assert!(drawn.max() <= h.max());
}
