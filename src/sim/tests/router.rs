//! The simulated router is the switchboard: machines register and are welcomed through it, its
//! books are the ones `router.yaml` records, and its stop protocol ends the trial.

use super::*;
use crate::core::wire::HEADER_LEN;

/// Frames of `kind` the router received, as `router.yaml` counts them.
fn frames(outcome: &SimOutcome, kind: &str) -> u64 {
    outcome.router.frames.get(kind).map_or(0, |c| c.frames)
}

#[test]
fn every_machine_registers_and_leaves_in_order_through_the_switchboard() {
    let o = opts(&[2.0, 5.0, 9.0, 4.0], 31);
    let (records, outcome, _) = run_with_books(&o);
    let router = &outcome.router;
    assert_eq!(router.names, o.names);
    assert_eq!((router.machines, router.seed), (4, 31));
    assert_eq!(router.start_time_ns, Some(DEFAULT_EPOCH_NS));
    // Every machine's BYE was read, and nothing happened after the end: the stop protocol ran
    // at the end of the trial, on virtual time.
    assert_eq!(router.stop_time_ns, DEFAULT_EPOCH_NS + o.duration_ns);
    assert_eq!(router.stopped_by, "the end of the simulated trial");
    let closed: Vec<(String, Option<&str>, Option<u16>, &str)> = router
        .connections
        .iter()
        .map(|c| (c.peer.clone(), c.name.as_deref(), c.id, c.reason.as_str()))
        .collect();
    let want: Vec<(String, Option<&str>, Option<u16>, &str)> = (1..=4u16)
        .map(|id| {
            let name = o.names[usize::from(id) - 1].as_str();
            (
                format!("simulated:{id}"),
                Some(name),
                Some(id),
                "orderly stop",
            )
        })
        .collect();
    assert_eq!(closed, want);
    // One HELLO and one BYE a machine; every data frame the logs show sent, counted by kind.
    assert_eq!((frames(&outcome, "HELLO"), frames(&outcome, "BYE")), (4, 4));
    let sends = |event: EventKind| records.iter().filter(|r| r.event == event).count() as u64;
    let data = frames(&outcome, "SEND_FIRST")
        + frames(&outcome, "SEND_SECOND")
        + frames(&outcome, "SEND_TO");
    assert_eq!(data, sends(EventKind::Send));
    assert_eq!(frames(&outcome, "BROADCAST"), sends(EventKind::Broadcast));
    assert_eq!(
        outcome.router.frames["BROADCAST"].bytes,
        sends(EventKind::Broadcast) * HEADER_LEN as u64
    );
    for s in &outcome.summaries {
        assert!(s.orderly, "machine {}: {}", s.id, s.ended);
        assert_eq!(s.refused, 0);
    }
}

#[test]
fn ids_follow_the_sorted_names_as_the_router_gives_them() {
    let mut o = opts(&[1.0, 2.0, 3.0], 5);
    o.names = vec!["c:3".into(), "a:1".into(), "b:2".into()];
    let (_, outcome) = run(&o);
    assert_eq!(outcome.router.names, ["a:1", "b:2", "c:3"]);
    let by_id: Vec<(u16, &str, f64)> = outcome
        .summaries
        .iter()
        .map(|s| (s.id, s.name.as_str(), s.rate))
        .collect();
    // Rates stay by id.
    assert_eq!(by_id, [(1, "a:1", 1.0), (2, "b:2", 2.0), (3, "c:3", 3.0)]);
}

#[test]
fn a_name_the_switchboard_refuses_stops_the_trial_before_it_starts() {
    let mut o = opts(&[1.0, 2.0, 3.0], 5);
    o.names = vec!["twin".into(), "twin".into(), "other".into()];
    let err = simulate(&o, |_| {}).unwrap_err();
    let SimError::NotWelcomed { name, reason } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(name, "twin");
    assert!(reason.contains("twin"), "{reason}");
    assert!(
        err.to_string().starts_with("machine name \"twin\": "),
        "{err}"
    );
    o.names[0] = String::new();
    let err = simulate(&o, |_| {}).unwrap_err();
    assert_eq!(
        err.to_string(),
        "machine name \"\": a name is 1 to 255 bytes"
    );
}

#[test]
fn the_router_record_is_the_same_bytes_for_a_seed() {
    let mut o = opts(&[3.0, 40.0, 7.0], 77);
    o.latency = Latency::Exponential {
        base_ns: 50_000,
        mean_ns: 2_000_000,
    };
    o.tick_lateness = Some(Latency::Uniform {
        min_ns: 0,
        max_ns: 30_000_000,
    });
    let yaml = || serde_yaml::to_string(&run(&o).1.router).unwrap();
    let first = yaml();
    assert_eq!(first, yaml());
    assert!(first.contains("reason: orderly stop"), "{first}");
}

#[test]
fn the_virtual_network_wakes_the_switchboard_when_it_asks() {
    use super::net::{Net, Out};
    use crate::core::switchboard::Options;
    // Two machines register; a third connection never says HELLO. Nothing else happens, so only
    // the switchboard's own deadline (poll_timeout) can end that connection: a driver that
    // woke it only for machines' frames would keep it forever.
    let opts = Options {
        machines: 2,
        ..Options::default()
    };
    let t0 = DEFAULT_EPOCH_NS;
    let peers = ["p1", "p2", "p3"].map(String::from);
    let mut net = Net::new(opts, Default::default(), &peers, t0);
    net.write(0, &crate::core::wire::hello("a", t0).unwrap());
    net.write(1, &crate::core::wire::hello("b", t0).unwrap());
    let mut outs = Vec::new();
    net.round(t0, &mut outs);
    let welcomed: Vec<usize> = outs
        .iter()
        .filter_map(|o| match o {
            Out::Welcome { conn, .. } => Some(*conn),
            _ => None,
        })
        .collect();
    assert_eq!(welcomed, [0, 1]);
    outs.clear();
    let due = t0 + opts.hello_timeout_ns;
    assert_eq!(net.poll_timeout(t0), Some(due));
    net.round(due, &mut outs);
    let [Out::Error { conn: 2, reason }] = outs.as_slice() else {
        panic!("{outs:?}");
    };
    assert!(reason.contains("HELLO"), "{reason}");
    // It is gone, and nothing else is due.
    let closed = net.report().closed;
    assert_eq!(closed.len(), 1);
    assert_eq!(closed[0].peer, "p3");
    assert_eq!(net.poll_timeout(due), None);
}

#[test]
fn the_stop_waits_for_late_ticks_as_long_as_the_router_options_grace() {
    // Every tick runs 50 ms late, so the last ticks (due at the end) run 50 ms after it, and
    // each machine answers the router's BYE only then.
    let o = SimOptions {
        tick_lateness: Some(Latency::Fixed { ns: 50_000_000 }),
        ..opts(&[1.0, 2.0, 1.0], 4)
    };
    let end = DEFAULT_EPOCH_NS + o.duration_ns;
    let reasons = |outcome: &SimOutcome| -> Vec<String> {
        let closed = outcome.router.connections.iter();
        closed.map(|c| c.reason.clone()).collect()
    };
    let waited = simulate(&o, |_| {}).unwrap();
    assert_eq!(waited.router.stop_time_ns, end + 50_000_000);
    assert_eq!(reasons(&waited), ["orderly stop"; 3]);
    // A grace of 1 ms (the configuration's `run.stop_grace`) runs out first: the router closes
    // every connection and stops, as a real one does.
    let router = crate::core::switchboard::Options {
        stop_grace_ns: 1_000_000,
        ..Default::default()
    };
    let cut = simulate_with_router(&o, router, |_| {}).unwrap();
    assert_eq!(cut.router.stop_time_ns, end + 1_000_000);
    assert_eq!(reasons(&cut), ["the router stopped"; 3]);
}

#[test]
fn bad_weather_is_the_same_bytes_for_a_seed_and_every_frame_is_booked() {
    use crate::config::Fault;
    use crate::core::fault::{ClockSkew, Link, PartitionMode, Window};
    // Every kind at once, with random delays (drawn from the seed's weather stream).
    let plan = FaultPlan {
        faults: vec![
            Fault::Delay {
                link: Link {
                    from: None,
                    to: Some(3),
                },
                window: Window::from_secs(0.0, 10.0),
                latency: Latency::Uniform {
                    min_ns: 0,
                    max_ns: 200_000_000,
                },
            },
            Fault::Partition {
                groups: vec![vec![1, 2], vec![3]],
                window: Window::from_secs(2.0, 4.0),
                mode: PartitionMode::Hold,
            },
            Fault::Partition {
                groups: vec![vec![1], vec![2, 3]],
                window: Window::from_secs(6.0, 7.0),
                mode: PartitionMode::Drop,
            },
            Fault::Pause {
                machine: 2,
                window: Window::from_secs(5.0, 8.0),
            },
            Fault::Clock {
                machine: 1,
                skew: ClockSkew {
                    offset_us: 250_000,
                    drift_ppb: 100_000,
                },
            },
        ],
    };
    let o = SimOptions {
        faults: plan,
        action_range: 4,
        ..opts(&[20.0, 30.0, 10.0], 12)
    };
    let mut records = Vec::new();
    let outcome = simulate(&o, |r| records.push(*r)).unwrap();
    let mut again = Vec::new();
    assert_eq!(simulate(&o, |r| again.push(*r)).unwrap(), outcome);
    assert_eq!(records, again);
    // Every frame routed is delivered, dropped, or still held: nothing else (the windows end
    // before the trial does, so nothing is held at the end).
    let (mut held, mut dropped) = (0, 0);
    for p in &outcome.router.pairs {
        assert_eq!(p.held, p.released, "{p:?}");
        held += p.held;
        dropped += p.dropped;
    }
    assert!(held > 100 && dropped > 10, "{held} held, {dropped} dropped");
}
