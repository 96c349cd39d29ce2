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
    assert_eq!(why, "around the largest clock jump, 4 at 0.260 s");
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
    // Arrows: a2 -> b2 and c1 -> a4 (sends), b3 -> c2 (broadcast), and the legend's two.
    assert_eq!(with("line", "marker-end", "url(#d-head1)"), 2 + 1);
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
    // a2 (send at 0.1 s on machine 1, the first line): x = 150 + 14 + 0.1 / 0.412 * 892 = 380.5,
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
    assert!(p.svg.contains("Window: around the largest clock jump"));
    roxmltree::Document::parse(&p.svg).expect("XML");
    if let Ok(dir) = std::env::var("CLOCKLAB_SPACETIME_OUT") {
        std::fs::write(std::path::Path::new(&dir).join(&p.file), &p.svg).unwrap();
    }
}
