//! The weather rendered: bands and names in the SVGs (parsed with roxmltree), the tables and
//! files of a trial with a plan, and nothing at all for a trial without one.

use super::*;
use crate::analysis::causality::tests::three;
use crate::analysis::{RunAnalysis, TrialInput, analyze_trial};
use crate::config::Latency;
use crate::config::faults::Fault;
use crate::core::fault::{ClockSkew, Link, PartitionMode, Window};
use crate::report::plots::{clock_plot, lag_plot, queue_plot};
use crate::report::spacetime::{self, diagram};

/// The worked example (0 to 400 ms) under a plan: a delay over the whole trial, a partition from
/// 100 to 200 ms, a pause after the data (5-8 s) and a clock fault.
fn weathered() -> TrialInput {
    let mut t = three();
    t.faults = vec![
        Fault::Delay {
            link: Link {
                from: Some(1),
                to: Some(3),
            },
            window: Window::from_secs(0.0, 30.0),
            latency: Latency::Fixed { ns: 50_000_000 },
        },
        Fault::Partition {
            groups: vec![vec![1, 2], vec![3]],
            window: Window::from_secs(0.1, 0.2),
            mode: PartitionMode::Hold,
        },
        Fault::Pause {
            machine: 2,
            window: Window::from_secs(5.0, 8.0),
        },
        Fault::Clock {
            machine: 3,
            skew: ClockSkew::default(),
        },
    ];
    t
}

/// The SVG parsed.
fn parse(svg: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse(svg).expect("the SVG is well-formed XML")
}

/// The trimmed texts of all its elements.
fn texts(doc: &roxmltree::Document<'_>) -> Vec<String> {
    doc.descendants()
        .filter_map(|n| n.text())
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// The plot's bands: the rectangles drawn at the band's opacity, as (fill, x, width).
fn bands(doc: &roxmltree::Document<'_>) -> Vec<(String, f64, f64)> {
    let num = |n: roxmltree::Node<'_, '_>, a: &str| -> f64 {
        n.attribute(a)
            .and_then(|v| v.parse().ok())
            .unwrap_or(f64::NAN)
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("opacity") == Some("0.16"))
        .map(|n| {
            let fill = n.attribute("fill").unwrap_or_default().to_owned();
            (fill, num(n, "x"), num(n, "width"))
        })
        .collect()
}

#[test]
fn a_plot_shades_each_window_in_view_and_names_it_in_the_legend() {
    let t = weathered();
    for svg in [
        clock_plot(&t).unwrap(),
        lag_plot(&t).unwrap(),
        queue_plot(&t).unwrap(),
    ] {
        let doc = parse(&svg);
        let b = bands(&doc);
        // The delay covers the whole time axis (0 to 0.4 s), the partition a quarter of it from
        // a quarter in; the pause (5-8 s) is outside the data and not drawn.
        assert_eq!(b.len(), 2, "{b:?}");
        assert_eq!((b[0].0.as_str(), b[1].0.as_str()), ("#CC79A7", "#56B4E9"));
        let (x0, full) = (b[0].1, b[0].2);
        assert!((b[1].1 - (x0 + full / 4.0)).abs() <= 1.0, "{b:?}");
        assert!((b[1].2 - full / 4.0).abs() <= 1.0, "{b:?}");
        let texts = texts(&doc);
        for name in [
            "delay 1->3 fixed:50ms 0-30 s",
            "partition {1,2}|{3} 0.1-0.2 s",
        ] {
            assert!(texts.iter().any(|t| t == name), "{name} in {texts:?}");
        }
        assert!(!texts.iter().any(|t| t.starts_with("pause")), "{texts:?}");
        assert!(
            !texts.iter().any(|t| t.starts_with("clock m3")),
            "{texts:?}"
        );
    }
}

#[test]
fn a_plot_without_a_plan_has_no_band() {
    let doc_text = clock_plot(&three()).unwrap();
    let doc = parse(&doc_text);
    assert!(bands(&doc).is_empty());
}

#[test]
fn the_space_time_diagram_shades_the_windows_in_its_window_and_names_them_under_its_legend() {
    let t = weathered();
    let c = crate::analysis::causality::reconstruct(&t).unwrap();
    let w = spacetime::Window {
        start_s: 0.15,
        end_s: 0.45,
    };
    let plain = diagram(&three(), &c, w, "why", "d");
    let svg = diagram(&t, &c, w, "why", "d");
    let (doc, plain_doc) = (parse(&svg), parse(&plain));
    let faults: Vec<roxmltree::Node<'_, '_>> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("fault"))
        .collect();
    // The delay and the partition meet 0.15-0.45 s; the partition's band ends at 0.2 s, a sixth
    // of the delay's (the whole window).
    assert_eq!(faults.len(), 2);
    let width = |n: &roxmltree::Node<'_, '_>| -> f64 {
        n.attribute("width").and_then(|v| v.parse().ok()).unwrap()
    };
    assert!((width(&faults[1]) * 6.0 - width(&faults[0])).abs() < 0.5);
    let texts = texts(&doc);
    assert!(texts.contains(&"partition {1,2}|{3} 0.1-0.2 s".to_owned()));
    assert!(!texts.iter().any(|t| t.starts_with("pause")));
    // One legend row more than without a plan; without one, no band.
    let height = |d: &roxmltree::Document<'_>| -> f64 {
        d.root_element()
            .attribute("height")
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(height(&doc), height(&plain_doc) + 22.0);
    assert!(
        !plain_doc
            .descendants()
            .any(|n| n.attribute("class") == Some("fault"))
    );
}

fn run_of(trial: &TrialInput) -> RunAnalysis {
    let input = crate::analysis::RunInput {
        label: "r".to_owned(),
        trials: vec![trial.clone()],
        ..crate::analysis::RunInput::default()
    };
    crate::analysis::analyze_run(&input)
}

#[test]
fn a_trial_without_a_plan_renders_no_weather_anywhere() {
    let run = run_of(&three());
    let t = &run.trials[0];
    assert_eq!((text(t), html(t)), (String::new(), String::new()));
    assert_eq!(json(t), None);
    assert!(!any(std::slice::from_ref(&run)));
}

#[test]
fn weather_csv_has_a_row_per_window_and_phase() {
    let mut t = three();
    t.faults = vec![Fault::Pause {
        machine: 2,
        window: Window::from_secs(0.1, 0.26),
    }];
    let run = run_of(&t);
    assert!(any(std::slice::from_ref(&run)));
    // The worked example cut at 100 and 260 ms (analysis::weather's tests work it out).
    assert_eq!(
        weather_csv(&[run]),
        "run,trial,fault,kind,label,phase,from_s,to_s,events,jump_max,jumps_over_5,\
         queue_after_tick_max,concurrent_share,hlc_drift_max_ms,hlc_counter_max\n\
         r,1,0,pause,pause m2 0.1-0.26 s,before,0.0,0.1,3,1,0,0,1,0,0\n\
         r,1,0,pause,pause m2 0.1-0.26 s,during,0.1,0.26,4,2,0,0,0,0,0\n\
         r,1,0,pause,pause m2 0.1-0.26 s,after,0.26,0.4,4,4,0,0,0.6666666666666666,0,0\n"
    );
}

#[test]
fn the_tables_and_the_json_name_every_fault_and_every_phase() {
    let t = analyze_trial(&weathered());
    let out = text(&t);
    assert!(
        out.contains("  clock m3 +0 ms +0 ppm: the whole trial\n"),
        "{out}"
    );
    assert!(out.contains("\n  partition {1,2}|{3} 0.1-0.2 s\n"), "{out}");
    // The partition's phases: a1 b1 c1 before 100 ms; a2 b2 during; the rest after.
    assert!(
        out.contains(
            "    during     0.1-0.2         2         2         0         0       0.0     \
             0.000         0\n"
        ),
        "{out}"
    );
    assert!(out.lines().all(|l| l.chars().count() <= 100), "{out}");
    let page = html(&t);
    assert!(page.contains("<h4>Weather: the fault plan</h4>"));
    assert!(page.contains("partition {1,2}|{3} 0.1-0.2 s</th></tr>"));
    // Three windows, three phases each; the pause (5-8 s) comes after every event.
    assert_eq!(page.matches("<tr><th class=\"key\">during</th>").count(), 3);
    let j = json(&t).unwrap();
    assert_eq!(j["plan"].as_array().map(Vec::len), Some(4));
    assert_eq!(j["windows"][1]["label"], "partition {1,2}|{3} 0.1-0.2 s");
    assert_eq!(j["windows"][1]["phases"][1]["phase"], "during");
    assert_eq!(j["windows"][1]["phases"][1]["jumps_over_5"], 0);
    assert_eq!(j["windows"][2]["phases"][0]["events"], 11);
}
