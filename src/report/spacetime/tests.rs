//! The window option, the automatic window and the diagram of the hand-written trial of
//! `analysis::causality::tests` (three machines, eleven events), parsed as XML.

use super::*;
use crate::analysis::causality::tests::three;

#[test]
fn a_window_is_start_dot_dot_end_in_seconds() {
    let w = |a, b| Window {
        start_s: a,
        end_s: b,
    };
    assert_eq!(parse_window("10s..15s"), Ok(w(10.0, 15.0)));
    assert_eq!(parse_window("2.5..4"), Ok(w(2.5, 4.0)));
    assert_eq!(parse_window("0..0.5s"), Ok(w(0.0, 0.5)));
    for bad in [
        "15..10", "1..1", "-1..2", "abc", "10s", "1..x", "nan..2", "1s..inf",
    ] {
        let e = parse_window(bad).unwrap_err();
        assert_eq!(e.text, bad);
        assert_eq!(
            e.to_string(),
            "a window is START..END in seconds since the trial's start, such as 10s..15s or \
             2.5..4, with 0 <= START < END",
            "{bad}"
        );
    }
}

#[test]
fn the_automatic_window_holds_the_largest_jump() {
    // Jumps: b2 3 - 1 = 2, c2 5 - 1 = 4 (the largest, at 0.260 s), all others 1. Eleven events are
    // fewer than 60, so the window runs from the first (0 s) to the last (0.4 s), padded by 3% of
    // 0.4 s = 0.012 s at the end (not before 0 at the start).
    let (w, why) = auto_window(&three());
    assert_eq!(w.start_s, 0.0);
    assert!((w.end_s - 0.412).abs() < 1e-9, "{w:?}");
    assert_eq!(
        why,
        "around the largest clock jump: machine 3's clock jumped 1 → 5 at 0.260 s"
    );
    // Without jumps (only machine 1, whose clock rises by one each time): its first events.
    let mut t = three();
    t.machines.truncate(1);
    let (w, why) = auto_window(&t);
    assert!(why.starts_with("the first events"), "{why}");
    assert!((w.end_s - 0.412).abs() < 1e-9, "{w:?}");
}

#[test]
fn the_diagram_of_three_machines_worked_by_hand() {
    let t = three();
    let c = reconstruct(&t).unwrap();
    let (w, why) = auto_window(&t);
    let svg = diagram(&t, &c, w, &why, "d");
    let doc = roxmltree::Document::parse(&svg).expect("the diagram is XML");
    // Everything drawn: the elements outside <defs> (which holds the clip and the arrowheads).
    let all: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.is_element() && !n.ancestors().any(|a| a.has_tag_name("defs")))
        .collect();
    let with = |name: &str, attr: &str, value: &str| {
        all.iter()
            .filter(|n| n.tag_name().name() == name && n.attribute(attr) == Some(value))
            .count()
    };
    // Marks, each kind once more in the legend: 3 receives (blue circles), 2 sends (vermilion
    // squares), 1 broadcast (green diamond), 5 internal events (white circles).
    assert_eq!(with("circle", "fill", COLOURS[0]), 3 + 1);
    assert_eq!(with("rect", "fill", COLOURS[1]), 2 + 1);
    assert_eq!(with("path", "fill", COLOURS[2]), 1 + 1);
    assert_eq!(with("circle", "fill", COLOURS[3]), 5 + 1);
    // Arrows: a2 -> b2 and c1 -> a4 (sends), b3 -> c2 (broadcast), and the legend's three (a
    // message, a broadcast message, a message leaving the window).
    assert_eq!(with("line", "marker-end", "url(#d-head1)"), 2 + 2);
    assert_eq!(with("line", "marker-end", "url(#d-head2)"), 1 + 1);
    // b3 never reached m1: one dashed line to one marker after m1's last event (0.4 s).
    assert_eq!(with("line", "stroke-dasharray", "5 3"), 1);
    // Every Lamport clock is labelled (the events are at least 50 ms = 108 px apart).
    let labels: Vec<&str> = all
        .iter()
        .filter(|n| n.tag_name().name() == "text" && n.attribute("font-size") == Some("11"))
        .filter_map(|n| n.text())
        .collect();
    let mut clocks: Vec<u64> = labels.iter().filter_map(|l| l.parse().ok()).collect();
    clocks.sort_unstable();
    assert_eq!(clocks, [1, 1, 1, 2, 3, 3, 4, 4, 5, 5, 6]);
    // a2 (send at 0.1 s on machine 1, the first line): x = 150 + 14 + 0.1 / 0.412 * (1100 - 30
    // - 150 - 2 * 14 = 892) = 380.5 (no message leaves the window, so the right margin is narrow),
    // y = 64 + 90 / 2 = 109; its square's corner 5 px up and left.
    let a2 = all
        .iter()
        .find(|n| n.tag_name().name() == "rect" && n.attribute("fill") == Some(COLOURS[1]))
        .unwrap();
    assert_eq!(
        (a2.attribute("x"), a2.attribute("y")),
        (Some("375.5"), Some("104.0"))
    );
    // Bold labels mark the jumps: b2 (3) and c2 (5).
    let bold: Vec<&str> = all
        .iter()
        .filter(|n| {
            n.attribute("font-weight") == Some("bold") && n.attribute("font-size") == Some("11")
        })
        .filter_map(|n| n.text())
        .collect();
    assert_eq!(bold, ["3", "5"]);
}

#[test]
fn diagrams_join_the_plotted_trials() {
    let input = RunInput {
        trials: vec![three()],
        ..RunInput::default()
    };
    let mut plots = vec![RunPlots {
        trials: vec![super::super::TrialPlots {
            trial: 1,
            plots: Vec::new(),
            interactive: String::new(),
        }],
        across: Vec::new(),
    }];
    add_diagrams(std::slice::from_ref(&input), None, &mut plots);
    let p = &plots[0].trials[0].plots[0];
    assert_eq!(p.file, "trial-1-spacetime.svg");
    assert!(p.svg.contains(
        "Window: around the largest clock jump: machine 3's clock jumped 1 → 5 at 0.260 s."
    ));
    roxmltree::Document::parse(&p.svg).expect("XML");
    if let Ok(dir) = std::env::var("CLOCKLAB_SPACETIME_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(&p.file), &p.svg).unwrap();
    }
}

/// The diagram of the worked example over `start_s..end_s`, parsed, with the elements drawn
/// (outside `<defs>`).
fn drawn(start_s: f64, end_s: f64) -> String {
    let t = three();
    let c = reconstruct(&t).unwrap();
    let w = Window { start_s, end_s };
    diagram(&t, &c, w, "why", "d")
}

/// The number in attribute `a` of `n`.
fn num(n: &roxmltree::Node<'_, '_>, a: &str) -> f64 {
    n.attribute(a).and_then(|v| v.parse().ok()).unwrap()
}

#[test]
fn a_message_leaving_the_window_ends_in_an_arrowhead_on_its_edge_labelled_where_it_goes() {
    // 0 to 0.3 s: c1 (machine 3, 0.02 s) -> a4 (machine 1, 0.4 s) leaves at the right, and so
    // does b3's copy for machine 1, never taken (its marker would be after m1's last event, 0.4
    // s). The window's end is at x = 1100 - 140 - 14 = 946.
    let svg = drawn(0.0, 0.3);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let cut: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some("cut"))
        .collect();
    assert_eq!(cut.len(), 2, "{svg}");
    fn line<'a, 'i>(g: &roxmltree::Node<'a, 'i>) -> roxmltree::Node<'a, 'i> {
        g.children().find(|n| n.has_tag_name("line")).unwrap()
    }
    let title = |g: &roxmltree::Node| {
        g.children()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text())
            .unwrap()
            .to_owned()
    };
    let titles: Vec<String> = cut.iter().map(title).collect();
    assert_eq!(
        titles,
        [
            "from machine 3 at 0.020 s to machine 1 at 0.400 s",
            "from machine 2 at 0.200 s to machine 1, not received",
        ]
    );
    for g in &cut {
        let l = line(g);
        assert_eq!(num(&l, "x2"), 946.0, "cut at the edge: {svg}");
        assert!(l.attribute("marker-end").is_some(), "with its arrowhead");
    }
    assert_eq!(line(&cut[0]).attribute("marker-end"), Some("url(#d-head1)"));
    assert_eq!(line(&cut[1]).attribute("marker-end"), Some("url(#d-head0)"));
    // Nothing of a message is drawn beyond the edge (beside it, only the lines to the labels).
    let plot = doc
        .descendants()
        .find(|n| n.attribute("clip-path").is_some())
        .unwrap();
    for l in plot.descendants().filter(|n| n.has_tag_name("line")) {
        assert!(num(&l, "x1") <= 946.0 && num(&l, "x2") <= 946.0, "{svg}");
    }
    // Their labels in the margin, right of the plot (at 960 + 10).
    let labels: Vec<(f64, &str)> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("class") == Some("cut"))
        .map(|n| (num(&n, "x"), n.text().unwrap()))
        .collect();
    assert_eq!(
        labels,
        [
            (970.0, "machine 1, not received"),
            (970.0, "machine 1 at 0.400 s")
        ]
    );
}

#[test]
fn a_message_from_before_the_window_starts_with_a_bar_on_its_edge() {
    // 0.1 to 0.45 s: c1 (0.02 s) -> a4 (0.4 s) comes in at the left edge, x = 150 + 14 = 164.
    let svg = drawn(0.1, 0.45);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let g = doc
        .descendants()
        .find(|n| n.has_tag_name("g") && n.attribute("class") == Some("cut"))
        .expect("one cut message");
    let lines: Vec<roxmltree::Node> = g.children().filter(|n| n.has_tag_name("line")).collect();
    assert_eq!(lines.len(), 2, "the message and the bar across the edge");
    assert_eq!(num(&lines[0], "x1"), 164.0);
    assert_eq!(lines[0].attribute("marker-end"), Some("url(#d-head1)"));
    assert_eq!(num(&lines[1], "x1"), 164.0);
    assert_eq!(num(&lines[1], "x2"), 164.0);
    assert!((num(&lines[1], "y2") - num(&lines[1], "y1") - 10.0).abs() < 0.01);
}

#[test]
fn every_clock_label_sits_above_its_line_right_of_its_mark() {
    // The whole trial: every label drawn, receives from machines above (b2, c2) included.
    let svg = drawn(0.0, 0.412);
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let rows = [109.0, 199.0, 289.0];
    let labels: Vec<roxmltree::Node> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text") && n.attribute("font-size") == Some("11"))
        .filter(|n| n.text().is_some_and(|t| t.parse::<u64>().is_ok()))
        .collect();
    assert_eq!(labels.len(), 11);
    for l in &labels {
        let y = num(l, "y");
        assert!(
            rows.iter().any(|row| y == row - 8.0),
            "label {:?} at y = {y} is not 8 px above a line",
            l.text()
        );
        assert_eq!(l.attribute("text-anchor"), None, "starts at its x");
    }
}

#[test]
fn a_window_is_placed_alike_from_every_time_or_from_a_span_around_the_jump() {
    // 100 events a second apart from 0 s; the jump at 50 s. Its 60 events run from 20 s to 79 s,
    // more than AUTO_SECONDS: the window is cut to 47.5..52.5 s, padded by 0.15 s.
    let start = 1_000_000_000_000;
    let times: Vec<u64> = (0..100).map(|k| start + k * 1_000_000).collect();
    let jump = JumpAt {
        time_us: start + 50_000_000,
        machine: 2,
        from: 3,
        to: 9,
    };
    let all = Times {
        total: 100,
        below: 0,
        kept: &times,
    };
    let (whole, why) = place(all, Some(jump), start);
    assert_eq!((whole.start_s, whole.end_s), (47.35, 52.65));
    assert_eq!(
        why,
        "around the largest clock jump: machine 2's clock jumped 3 → 9 at 50.000 s"
    );
    // Only 45..=55 s kept: the events before and after the span only cut the window to 5 s.
    let span = Times {
        total: 100,
        below: 45,
        kept: &times[45..=55],
    };
    assert_eq!(place(span, Some(jump), start), (whole, why));
    // Near the start: the 60 events are the first 60 (0 to 59 s), the span from 0 s.
    let early = JumpAt {
        time_us: start + 2_000_000,
        ..jump
    };
    let (w, _) = place(all, Some(early), start);
    let span = Times {
        total: 100,
        below: 0,
        kept: &times[..=7],
    };
    assert_eq!(place(span, Some(early), start).0, w);
    assert_eq!((w.start_s, w.end_s), (0.0, 5.15));
    // Without a jump: the first events, from the 60 first times.
    let (first, why) = place(all, None, start);
    assert_eq!((first.start_s, first.end_s), (0.0, 5.15));
    assert!(why.starts_with("the first events"), "{why}");
    let few = Times {
        total: 100,
        below: 0,
        kept: &times[..60],
    };
    assert_eq!(place(few, None, start).0, first);
}
