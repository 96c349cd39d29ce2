//! The sketch's drawings, pinned: for a spread of simulated and hand-made trials and windows, the
//! sketch fed in causal orders other than `Causality::order` (by Lamport clock, as the streaming
//! engine feeds it, and by the size of the vector clock, machines in reverse) and the whole-trial
//! entry points draw the same bytes as each other, and the bytes recorded in `fingerprints` (each
//! file's length and FNV-1a hash) from the whole-trial drawing code the sketch replaced, which it
//! matched byte for byte (main at 05e1130, recorded 2026-12-06).
//!
//! If a drawing changes on purpose, re-record the table: run
//! `CLOCKLAB_PRINT_FINGERPRINTS=1 cargo test --lib report::sketch -- --nocapture --test-threads 1`,
//! which prints each case's entry instead of failing on it, paste the `Case { .. }` entries over
//! `fingerprints::RECORDED` once the new drawings are looked at and meant, and say in its comment
//! at which commit they were recorded and why they changed.

mod fingerprints;

use super::*;
use crate::analysis::analyze_trial_with;
use crate::analysis::causality::EventRef;
use crate::analysis::causality::{reconstruct, tests::three};
use crate::analysis::hlc;
use crate::config::Latency;
use crate::config::faults::Fault;
use crate::core::fault::{ClockSkew, Link, PartitionMode, Window as FaultWindow};
use crate::report::interactive::MAX_EVENTS;
use crate::report::replay::sent;
use crate::report::spacetime::{AUTO_SECONDS, Key, Order, auto_window, since};
use crate::sim::{DEFAULT_EPOCH_NS, SimOptions, simulate};

/// A simulated trial of one machine per rate in `rates`, `secs` long, under `faults`, as the
/// loader gives it.
pub(crate) fn simulated(rates: &[f64], secs: u64, seed: u64, faults: Vec<Fault>) -> TrialInput {
    let plan = crate::config::FaultPlan {
        faults: faults.clone(),
    };
    let opts = SimOptions {
        names: (1..=rates.len()).map(|i| format!("h:{i}")).collect(),
        rates: rates.to_vec(),
        action_range: 10,
        receive_rule: Default::default(),
        missed_ticks: Default::default(),
        duration_ns: secs * 1_000_000_000,
        seed,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency: Latency::default(),
        tick_lateness: None,
        measured: None,
        faults: plan.clone(),
    };
    let mut rows = vec![Vec::new(); rates.len()];
    simulate(&opts, |r| rows[usize::from(r.machine) - 1].push(*r)).unwrap();
    TrialInput {
        trial: 3,
        start_us: DEFAULT_EPOCH_NS / 1_000,
        machines: rows
            .into_iter()
            .zip(rates)
            .enumerate()
            .map(|(i, (records, &rate))| MachineInput {
                id: i as u16 + 1,
                rate: Some(rate),
                records,
                clock: plan.clock_skew(i as u16 + 1),
                ..MachineInput::default()
            })
            .collect(),
        faults,
        ..TrialInput::default()
    }
}

/// The events of `t` in `c`'s terms, in the order `key` sorts them (which must keep each receive
/// after its send: checked).
fn fed_by<K: Ord>(
    t: &TrialInput,
    c: &Causality,
    watch: &mut impl Watch,
    key: impl Fn(EventRef) -> K,
) {
    let mut order = c.order.clone();
    order.sort_by_key(|&e| key(e));
    let mut at = std::collections::HashMap::new();
    for (k, &e) in order.iter().enumerate() {
        at.insert(e, k);
    }
    let stamps = hlc::timestamps(t, c);
    for &e in &order {
        let send = c.send_of[e.machine][e.index];
        if let Some(s) = send {
            assert!(at[&s] < at[&e], "{e:?} is fed before its send {s:?}");
        }
        watch.seen(&Seen {
            event: e,
            record: &t.machines[e.machine].records[e.index],
            send: send.map(|s| sent(t, s)),
            vector: Some(c.vector(e)),
            hlc: Some(stamps[e.machine][e.index]),
        });
    }
}

/// Whether every receive of `t` comes after its send by Lamport clock.
fn clock_order_is_causal(t: &TrialInput, c: &Causality) -> bool {
    let clock = |e: EventRef| t.machines[e.machine].records[e.index].logical_clock;
    c.order.iter().all(|&e| {
        c.send_of[e.machine][e.index].is_none_or(|s| (clock(s), s.machine) < (clock(e), e.machine))
    })
}

/// Where two texts first differ, for a readable failure.
fn same(what: &str, got: &str, want: &str) {
    if got != want {
        let at = got
            .bytes()
            .zip(want.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        let around = |s: &str| {
            s.get(at.saturating_sub(200)..(at + 200).min(s.len()))
                .map(str::to_owned)
        };
        panic!(
            "{what} differs at byte {at} (lengths {} and {}):\ngot: {:?}\nwant: {:?}",
            got.len(),
            want.len(),
            around(got),
            around(want)
        );
    }
}

/// Checks that `got` and `want` are the same drawings: the same files, titles and bytes.
fn assert_same(what: &str, got: &TrialPlots, want: &TrialPlots) {
    assert_eq!(got.trial, want.trial);
    let files = |p: &TrialPlots| -> Vec<(String, String)> {
        p.plots
            .iter()
            .map(|p| (p.file.clone(), p.title.clone()))
            .collect()
    };
    assert_eq!(files(got), files(want), "{what}");
    for (g, w) in got.plots.iter().zip(&want.plots) {
        same(&format!("{what}: {}", w.file), &g.svg, &w.svg);
    }
    same(
        &format!("{what}: the interactive diagram"),
        &got.interactive,
        &want.interactive,
    );
}

/// Checks the sketch, fed in two orders, and the whole-trial entry points against each other and
/// against the drawings recorded for `case`; answers the sketch's window warning.
fn check(case: &str, t: &TrialInput, window: Option<Window>) -> Option<String> {
    let c = reconstruct(t).expect("causality");
    let a = analyze_trial_with(t, Some(&c));
    let lost = unreceived(t, &c);
    let sketched = |feed: &dyn Fn(&mut Sketch)| {
        let mut sketch = Sketch::new(head_of(t), &a, window);
        feed(&mut sketch);
        sketch.finish(&lost, 2, "run-2-").unwrap()
    };
    // How each was drawn, and the drawings; the sketches' window warnings.
    let mut drawn = Vec::new();
    let mut warnings = Vec::new();
    if clock_order_is_causal(t, &c) {
        let clock = |e: EventRef| t.machines[e.machine].records[e.index].logical_clock;
        let (by_clock, warning) =
            sketched(&|s| fed_by(t, &c, s, |e| (clock(e), e.machine, e.index)));
        drawn.push(("the sketch fed by Lamport clock", by_clock));
        warnings.push(warning);
    }
    let (by_size, warning) = sketched(&|s| {
        fed_by(t, &c, s, |e| {
            let size: u64 = c.vector(e).iter().map(|&v| u64::from(v)).sum();
            (size, std::cmp::Reverse(e.machine), e.index)
        })
    });
    drawn.push(("the sketch fed by vector size, machines reversed", by_size));
    warnings.push(warning);
    // The whole-trial entry points, which replay the trial into the same parts.
    let mut whole = crate::report::trial_plots(t, &a, "run-2-").unwrap();
    spacetime::add_diagram_with(t, Some(&c), window, "run-2-", &mut whole);
    whole.interactive = interactive::trial_html_with(t, Some(&c), 2, window);
    drawn.push(("the whole-trial entry points", whole));
    let (replayed, warning) = draw_trial(t, &a, Some(&c), window, 2, "run-2-").unwrap();
    drawn.push(("sketch::draw_trial", replayed));
    warnings.push(warning);
    // Every way draws the same bytes, compared directly for a failure that shows where.
    let (first, firsts) = &drawn[0];
    for (how, plots) in &drawn[1..] {
        assert_same(&format!("{case}: {how} against {first}"), plots, firsts);
    }
    let drawings: Vec<(&str, &TrialPlots)> = drawn.iter().map(|(how, p)| (*how, p)).collect();
    fingerprints::check(case, &drawings);
    warnings.dedup();
    assert_eq!(warnings.len(), 1, "{case}: {warnings:?}");
    warnings.remove(0)
}

/// The automatic window's why, for the cases to say which they test.
fn why(t: &TrialInput) -> String {
    auto_window(t).1
}

#[test]
fn simulated_trials_draw_as_the_whole_trial_did() {
    // Three machines at one rate keep in step: no jump over one there.
    for (seed, rates) in [
        (1, [2.0, 3.0, 5.0]),
        (2, [1.0, 4.0, 9.0]),
        (3, [5.0, 5.0, 5.0]),
    ] {
        let t = simulated(&rates, 20, seed, Vec::new());
        assert_eq!(
            check(&format!("seed {seed} at {rates:?}/s"), &t, None),
            None
        );
    }
}

#[test]
fn a_trial_past_the_caps_draws_as_the_whole_trial_did() {
    // 350 rows a second for 20 s: past MAX_EVENTS for the page, past 2,000 points a line.
    let t = simulated(&[50.0, 100.0, 200.0], 20, 1, Vec::new());
    let rows: usize = t.machines.iter().map(|m| m.records.len()).sum();
    assert!(
        rows > MAX_EVENTS && t.machines[2].records.len() > 2000,
        "{rows}"
    );
    assert_eq!(check("past the caps", &t, None), None);
}

#[test]
fn a_fault_plan_shades_and_never_received_messages_draw_as_before() {
    let faults = vec![
        Fault::Delay {
            link: Link {
                from: Some(1),
                to: Some(3),
            },
            window: FaultWindow::from_secs(0.0, 30.0),
            latency: Latency::Fixed { ns: 50_000_000 },
        },
        Fault::Partition {
            groups: vec![vec![1, 2], vec![3]],
            window: FaultWindow::from_secs(4.0, 9.0),
            mode: PartitionMode::Hold,
        },
        // Machine 3 stops for good at 15 s: what is sent to it after that is never taken.
        Fault::Pause {
            machine: 3,
            window: FaultWindow::from_secs(15.0, 60.0),
        },
        // Machine 2 stamps its rows 250 ms ahead, 100 ppm fast.
        Fault::Clock {
            machine: 2,
            skew: ClockSkew {
                offset_us: 250_000,
                drift_ppb: 100_000,
            },
        },
    ];
    let t = simulated(&[4.0, 6.0, 3.0], 20, 5, faults);
    let c = reconstruct(&t).unwrap();
    let lost = unreceived(&t, &c);
    assert!(lost.len() > 5, "{lost:?}");
    // The partition's end releases held frames: the largest jump comes soon after.
    let (w, _) = auto_window(&t);
    assert!(9.0 < w.start_s && w.start_s < 9.5, "{w:?}");
    assert_eq!(check("faults", &t, None), None);
    // Windows over the partition and over machine 3's queue at the end.
    for (a, b) in [(3.0, 10.0), (14.0, 20.5)] {
        let window = Window {
            start_s: a,
            end_s: b,
        };
        assert_eq!(
            check(&format!("faults, {a} to {b} s"), &t, Some(window)),
            None
        );
        let svg = spacetime::diagram(&t, &c, window, "why", "d");
        assert!(
            svg.contains("<rect class=\"fault\""),
            "{a}..{b} s is shaded"
        );
    }
    // The hand-made trial: b3 never reaches machine 1.
    assert_eq!(check("three", &three(), None), None);
}

/// `t` with every clock of the `machine`-th machine from its row `index` on raised by `by`: a jump
/// there larger than any other.
fn jump_at(mut t: TrialInput, machine: usize, index: usize, by: u64) -> TrialInput {
    for r in &mut t.machines[machine].records[index..] {
        r.logical_clock += by;
    }
    t
}

#[test]
fn a_largest_jump_near_the_start_or_the_end_or_far_from_other_events_draws_as_before() {
    let t = simulated(&[2.0, 3.0, 5.0], 30, 7, Vec::new());
    let n = t.machines[1].records.len();
    // Near the start: fewer than 30 events before it; near the end: fewer than 30 after.
    for index in [1, 3, n - 4, n - 1] {
        let t = jump_at(t.clone(), 1, index, 1000);
        let jumped = format!(
            "machine 2's clock jumped {} → {}",
            t.machines[1].records[index - 1].logical_clock,
            t.machines[1].records[index].logical_clock
        );
        assert!(why(&t).contains(&jumped), "{}", why(&t));
        assert_eq!(check(&format!("a jump at row {index}"), &t, None), None);
    }
    // Slow machines: the 30 events before the jump lie more than AUTO_SECONDS + the kept span's
    // margin before it, the 30 after it more than that after it.
    let slow = simulated(&[0.5, 0.3, 0.4], 240, 3, Vec::new());
    let m = slow.machines[0].records.len() / 2;
    let slow = jump_at(slow, 0, m, 1000);
    let (w, _) = auto_window(&slow);
    // Cut to AUTO_SECONDS, padded by 3% either side.
    assert!(
        (w.end_s - w.start_s - AUTO_SECONDS * 1.06).abs() < 1e-6,
        "{w:?}"
    );
    assert_eq!(check("a jump, slow", &slow, None), None);
}

#[test]
fn a_trial_without_a_jump_over_one_draws_its_first_events_as_before() {
    let mut t = simulated(&[20.0, 30.0, 50.0], 10, 2, Vec::new());
    for m in &mut t.machines {
        for (k, r) in m.records.iter_mut().enumerate() {
            r.logical_clock = k as u64 + 1;
        }
    }
    assert!(why(&t).starts_with("the first events"));
    assert_eq!(check("no jump", &t, None), None);
    // Slow: the first 60 events take longer than AUTO_SECONDS.
    let mut slow = simulated(&[1.0, 2.0], 60, 2, Vec::new());
    for m in &mut slow.machines {
        for (k, r) in m.records.iter_mut().enumerate() {
            r.logical_clock = k as u64 + 1;
        }
    }
    assert_eq!(check("no jump, slow", &slow, None), None);
}

#[test]
fn a_given_window_draws_as_before_and_an_empty_one_says_why() {
    let t = simulated(&[2.0, 3.0, 5.0], 20, 4, Vec::new());
    let w = |a, b| Window {
        start_s: a,
        end_s: b,
    };
    assert_eq!(check("window 2 to 6.5 s", &t, Some(w(2.0, 6.5))), None);
    let times = || {
        t.machines
            .iter()
            .flat_map(|m| &m.records)
            .map(|r| r.system_time_us)
    };
    let first_s = since(t.start_us, times().min().unwrap());
    let last_s = since(t.start_us, times().max().unwrap());
    let warning = check("window 100 to 200 s", &t, Some(w(100.0, 200.0))).expect("a warning");
    assert_eq!(
        warning,
        format!(
            "--window 100s..200s holds no event, so its space-time diagram is empty: the \
             trial's events run from {first_s:.3} s to {last_s:.3} s; give a window within them"
        )
    );
}

#[test]
fn the_sketch_holds_the_window_and_the_messages_in_flight_not_the_rows() {
    let t = simulated(&[50.0, 100.0, 200.0], 60, 1, Vec::new());
    let c = reconstruct(&t).unwrap();
    let a = analyze_trial_with(&t, Some(&c));
    let mut sketch = Sketch::new(head_of(&t), &a, None);
    let mut most_in_flight = 0;
    let mut watch = |e: &Seen<'_>| {
        sketch.seen(e);
        most_in_flight = most_in_flight.max(sketch.diagram.in_flight());
    };
    struct F<'a, W: FnMut(&Seen<'_>)>(&'a mut W);
    impl<W: FnMut(&Seen<'_>)> Watch for F<'_, W> {
        fn seen(&mut self, e: &Seen<'_>) {
            (self.0)(e)
        }
    }
    fed_by(&t, &c, &mut F(&mut watch), |e| {
        (
            t.machines[e.machine].records[e.index].logical_clock,
            e.machine,
            e.index,
        )
    });
    let rows: usize = t.machines.iter().map(|m| m.records.len()).sum();
    let kept: usize = sketch.diagram.kept_rows();
    // 21,000 rows; the span around the jump holds at most 10.6 s of 350 rows a second.
    assert!(rows > 20_000, "{rows}");
    assert!(kept <= 3_800, "{kept} rows kept");
    assert!(
        most_in_flight < 100,
        "{most_in_flight} messages in flight at most"
    );
    assert_eq!(sketch.first.len(), MAX_EVENTS);
}

#[test]
fn a_trial_without_rows_draws_its_plots_as_before_and_its_diagrams_only_with_vector_clocks() {
    let t = head_of(&three());
    let c = reconstruct(&t).expect("causality of no events");
    let a = analyze_trial_with(&t, Some(&c));
    assert_eq!(check("no rows", &t, None), None);
    let (without, _) = draw_trial(&t, &a, None, None, 1, "").unwrap();
    assert_eq!(without.plots.len(), 5);
    assert_eq!(without.interactive, "");
    let (with, _) = draw_trial(&t, &a, Some(&c), None, 1, "").unwrap();
    assert_eq!(with.plots[5].file, "trial-1-spacetime.svg");
    assert!(with.plots[5].svg.contains("Window: no events."));
}

/// The places `Order` gives the events of `t`, fed by Lamport clock then machine, sorted.
fn placed(t: &TrialInput) -> Vec<EventRef> {
    let c = reconstruct(t).unwrap();
    let mut fed = c.order.clone();
    let clock = |e: EventRef| t.machines[e.machine].records[e.index].logical_clock;
    fed.sort_by_key(|&e| (clock(e), e.machine, e.index));
    let mut order = Order::new(t.machines.iter().map(|m| m.id).collect());
    let mut keys: Vec<Key> = fed
        .iter()
        .map(|&e| {
            let record = &t.machines[e.machine].records[e.index];
            let send = c.send_of[e.machine][e.index].map(|s| sent(t, s));
            order
                .seen(&Seen {
                    event: e,
                    record,
                    send,
                    vector: None,
                    hlc: None,
                })
                .0
        })
        .collect();
    keys.sort_unstable();
    keys.iter()
        .map(|&(_, machine, index)| EventRef { machine, index })
        .collect()
}

#[test]
fn the_rounds_put_the_events_in_the_order_reconstruct_takes_them() {
    // The worked example: b2 waits for a2 and a4 for c1, a later machine's, a round later.
    let t = three();
    assert_eq!(placed(&t), reconstruct(&t).unwrap().order);
    for seed in 1..4 {
        let t = simulated(&[2.0, 7.0, 3.0, 5.0], 10, seed, Vec::new());
        assert_eq!(placed(&t), reconstruct(&t).unwrap().order);
    }
}
