//! The space-time diagram as it was drawn before the [`Sketch`](crate::report::sketch::Sketch)
//! (2026-12-06): from the whole trial's rows and its [`Causality`]. Kept as the oracle that the
//! sketch's diagrams are tested against, byte for byte.

use std::fmt::Write as _;

use super::messages::Cuts;
use super::*;
use crate::analysis::causality::{Causality, EventRef};
use crate::report::table::escape;

/// Seconds from the trial's start to `t_us`.
fn since(trial: &TrialInput, t_us: u64) -> f64 {
    (i128::from(t_us) - i128::from(trial.start_us)) as f64 / 1e6
}

/// The largest clock jump of a trial: which machine, from what clock to what, when.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Jump {
    size: u64,
    time_us: u64,
    machine: u16,
    from: u64,
    to: u64,
}

/// The window drawn when none is given: the [`AUTO_EVENTS`] events around the largest clock jump
/// of the trial (the earliest of equal jumps), half before it, cut to [`AUTO_SECONDS`] around it;
/// the first [`AUTO_EVENTS`] events when no clock jumped by more than one. Padded by 3% either side
/// so that no mark sits on the edge. Also answers why, in words, naming the machine that jumped
/// (`around the largest clock jump: machine 3's clock jumped 1 → 5 at 0.260 s`).
pub(crate) fn auto_window(trial: &TrialInput) -> (Window, String) {
    let mut times: Vec<u64> = Vec::new();
    let mut jump: Option<Jump> = None;
    for m in &trial.machines {
        let mut previous = 0;
        for r in &m.records {
            times.push(r.system_time_us);
            let size = r.logical_clock.saturating_sub(previous);
            let t = r.system_time_us;
            if size > 1 && jump.is_none_or(|j| size > j.size || (size == j.size && t < j.time_us)) {
                jump = Some(Jump {
                    size,
                    time_us: t,
                    machine: m.id,
                    from: previous,
                    to: r.logical_clock,
                });
            }
            previous = r.logical_clock;
        }
    }
    times.sort_unstable();
    if times.is_empty() {
        return (
            Window {
                start_s: 0.0,
                end_s: 1.0,
            },
            "no events".to_owned(),
        );
    }
    let last = times.len() - 1;
    let (lo, hi, why) = match jump {
        Some(jump) => {
            let t = jump.time_us;
            let at = times.partition_point(|&x| x < t);
            let lo = at.saturating_sub(AUTO_EVENTS / 2);
            let hi = (lo + AUTO_EVENTS - 1).min(last);
            let lo = hi.saturating_sub(AUTO_EVENTS - 1).min(lo);
            let (mut a, mut b) = (since(trial, times[lo]), since(trial, times[hi]));
            let centre = since(trial, t);
            if b - a > AUTO_SECONDS {
                a = a.max(centre - AUTO_SECONDS / 2.0);
                b = a + AUTO_SECONDS;
            }
            let Jump {
                machine, from, to, ..
            } = jump;
            let why = format!(
                "around the largest clock jump: machine {machine}'s clock jumped {from} → {to} at \
                 {centre:.3} s"
            );
            (a, b, why)
        }
        None => {
            let hi = (AUTO_EVENTS - 1).min(last);
            let (a, mut b) = (since(trial, times[0]), since(trial, times[hi]));
            b = b.min(a + AUTO_SECONDS);
            (
                a,
                b,
                "the first events (no clock jumped by more than 1)".to_owned(),
            )
        }
    };
    let pad = ((hi - lo) * 0.03).max(0.001);
    let window = Window {
        start_s: (lo - pad).max(0.0).min(lo),
        end_s: hi + pad,
    };
    (window, why)
}

/// The diagram of `trial` over `window`; `why` says how the window was chosen, `id` makes the
/// SVG's ids unique in a page that holds several diagrams.
pub(crate) fn diagram(
    trial: &TrialInput,
    c: &Causality,
    window: Window,
    why: &str,
    id: &str,
) -> String {
    let n = trial.machines.len();
    let height = TOP + ROW * n.max(1) as f64 + BOTTOM + shade::room(trial, window);
    let (a, b) = (window.start_s, window.end_s);
    let step = axis_step(b - a);
    // Times map into the plot with a margin of PAD inside its edges, so no mark is cut in half.
    let frame = |right: f64| Frame {
        trial,
        window,
        x0: LEFT + PAD,
        x1: WIDTH - right - PAD,
        decimals: (-step.log10().floor()).max(0.0) as usize,
        id,
    };
    // The margin holds the labels of the messages that leave the window, if any do.
    let leaving = !messages(&mut String::new(), &frame(RIGHT), c).is_empty();
    let plot_right = WIDTH - if leaving { RIGHT_LABELLED } else { RIGHT };
    let f = frame(WIDTH - plot_right);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\">\n<defs>\n<clipPath id=\"{id}-plot\"><rect x=\"{LEFT}\" \
         y=\"0\" width=\"{}\" height=\"{height}\"/></clipPath>\n",
        // The plot and the labels of the clocks at its right edge.
        plot_right + 12.0 - LEFT
    );
    for (k, colour) in [(0, QUEUED), (1, COLOURS[1]), (2, COLOURS[2])] {
        let _ = writeln!(
            out,
            "<marker id=\"{id}-head{k}\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" \
             markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\">\
             <path d=\"M0 0L10 5L0 10Z\" fill=\"{colour}\"/></marker>"
        );
    }
    let _ = write!(
        out,
        "</defs>\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n<text x=\"{}\" y=\"26\" \
         {FONT} font-size=\"18\" text-anchor=\"middle\">Space-time diagram, trial {}: {a:.3} s to \
         {b:.3} s</text>\n<text x=\"{}\" y=\"46\" {FONT} font-size=\"12\" fill=\"#57606a\" \
         text-anchor=\"middle\">{}</text>\n",
        WIDTH / 2.0,
        trial.trial,
        WIDTH / 2.0,
        escape(why)
    );
    // Time axis.
    let axis_y = TOP + ROW * n.max(1) as f64 + 8.0;
    shade::bands(&mut out, trial, window, (f.x0, f.x1), (TOP, axis_y));
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{axis_y}\" x2=\"{plot_right}\" y2=\"{axis_y}\" stroke=\"#333\"/>"
    );
    let mut t = (a / step).ceil() * step;
    while t <= b + step * 1e-9 {
        let tx = f.x_s(t);
        let decimals = f.decimals;
        let _ = writeln!(
            out,
            "<line x1=\"{tx:.1}\" y1=\"{TOP}\" x2=\"{tx:.1}\" y2=\"{:.1}\" stroke=\"#eee\"/>\
             <text x=\"{tx:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" text-anchor=\"middle\">\
             {t:.decimals$}</text>",
            axis_y + 5.0,
            axis_y + 20.0
        );
        t += step;
    }
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{:.1}\" {FONT} font-size=\"13\" text-anchor=\"middle\">system time \
         since the trial's start (s)</text>",
        (LEFT + plot_right) / 2.0,
        axis_y + 40.0
    );
    // Machine lines and names.
    for (i, m) in trial.machines.iter().enumerate() {
        let rate = m
            .rate
            .map_or_else(String::new, |r| format!(" ({r} ticks/s)"));
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" y1=\"{0:.1}\" x2=\"{plot_right}\" y2=\"{0:.1}\" stroke=\"#999\" \
             stroke-width=\"1.5\"/><text x=\"{1}\" y=\"{2:.1}\" {FONT} font-size=\"14\" \
             font-weight=\"bold\" text-anchor=\"end\">machine {3}</text><text x=\"{1}\" \
             y=\"{4:.1}\" {FONT} font-size=\"11\" fill=\"#57606a\" text-anchor=\"end\">{5}</text>",
            f.y(i),
            LEFT - 12.0,
            f.y(i) - 2.0,
            m.id,
            f.y(i) + 13.0,
            escape(rate.trim())
        );
    }
    let _ = writeln!(out, "<g clip-path=\"url(#{id}-plot)\">");
    let cuts = messages(&mut out, &f, c);
    // Events and their Lamport clocks. One rule for every label: above the line, starting just
    // right of its mark, where arrows neither arrive (a message comes from the left, up or down)
    // nor leave with their heads; drawn only where it does not touch the label before it.
    for (i, m) in trial.machines.iter().enumerate() {
        let mut label_end = f64::MIN;
        let mut previous = 0;
        for r in &m.records {
            let jumped = r.logical_clock > previous + 1;
            previous = r.logical_clock;
            if !f.inside(r.system_time_us) {
                continue;
            }
            let ex = f.x(r.system_time_us);
            mark(&mut out, r.event, ex, f.y(i));
            let text = r.logical_clock.to_string();
            let start = ex + LABEL_DX;
            if start > label_end + 2.0 {
                let weight = if jumped {
                    " font-weight=\"bold\" fill=\"#0b3d91\""
                } else {
                    ""
                };
                let _ = write!(
                    out,
                    "<text x=\"{start:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\"{weight}>{text}\
                     </text>",
                    f.y(i) - LABEL_DY
                );
                label_end = start + 6.8 * text.len() as f64;
            }
        }
        out.push('\n');
    }
    out.push_str("</g>\n");
    cuts.draw(&mut out, &f, plot_right + 10.0);
    legend::legend(&mut out, axis_y + 62.0, id);
    out.push_str("</svg>\n");
    out
}

/// [`add_diagram`] with the trial's vector clocks already reconstructed (`None` when too large).
pub(crate) fn add_diagram_with(
    t: &TrialInput,
    c: Option<&Causality>,
    window: Option<Window>,
    prefix: &str,
    plots: &mut TrialPlots,
) {
    let Some(c) = c else { return };
    let (w, why) = match window {
        Some(w) => (w, "the window given by --window".to_owned()),
        None => auto_window(t),
    };
    let stem = format!("{prefix}trial-{}-spacetime", t.trial);
    plots.plots.push(Plot {
        file: format!("{stem}.svg"),
        title: "Space-time diagram: events, messages and Lamport clocks".to_owned(),
        svg: diagram(t, c, w, &format!("Window: {why}."), &stem),
    });
}

/// Draws every message of `c` that has an end in the window (the arrows, the dashed lines and
/// the markers of messages never received) and answers the labels of the cut ones.
fn messages(out: &mut String, f: &Frame<'_>, c: &Causality) -> Cuts {
    let trial = f.trial;
    let n = trial.machines.len();
    let record = |e: EventRef| &trial.machines[e.machine].records[e.index];
    let mut cuts = Cuts::default();
    let receives = c.receives_of();
    let mut unreceived: Vec<(EventRef, usize)> = Vec::new();
    for &e in &c.order {
        let r = record(e);
        let colour = match r.event {
            EventKind::Send => 1,
            EventKind::Broadcast => 2,
            _ => continue,
        };
        let got = receives.get(&e).map_or(&[][..], |v| &v[..]);
        for &g in got {
            let to = record(g).system_time_us;
            let from = (r.system_time_us, e.machine);
            // Most messages of a long trial lie outside the window: no label for them.
            if !f.inside(from.0) && !f.inside(to) {
                continue;
            }
            let leaving = format!("{} at {}", f.name(g.machine), f.when(to));
            f.message(
                out,
                &mut cuts,
                from,
                (to, g.machine),
                f.x(to),
                colour,
                leaving,
            );
        }
        let targets: Vec<usize> = match (r.event, r.peer) {
            (EventKind::Send, Some(p)) => trial
                .machines
                .iter()
                .position(|m| m.id == p)
                .into_iter()
                .collect(),
            _ => (0..n).filter(|&j| j != e.machine).collect(),
        };
        for j in targets {
            if !got.iter().any(|g| g.machine == j) {
                unreceived.push((e, j));
            }
        }
    }
    // Messages never taken off a queue: a dashed line to one marker per receiver, after the end
    // of its log, with their number beside it when there are several.
    let mut queued: Vec<(usize, u64, usize)> = Vec::new(); // (receiver, marker time, messages)
    for &(e, j) in &unreceived {
        let r = record(e);
        let end = trial.machines[j]
            .records
            .last()
            .map_or(0, |l| l.system_time_us)
            .max(r.system_time_us);
        match queued.iter_mut().find(|q| q.0 == j) {
            Some(q) => {
                q.1 = q.1.max(end);
                q.2 += 1;
            }
            None => queued.push((j, end, 1)),
        }
    }
    for &(e, j) in &unreceived {
        let r = record(e);
        let Some(&(_, end, _)) = queued.iter().find(|q| q.0 == j) else {
            continue;
        };
        let leaving = format!("{}, not received", f.name(j));
        let from = (r.system_time_us, e.machine);
        f.message(out, &mut cuts, from, (end, j), f.x(end) + 14.0, 0, leaving);
    }
    for &(j, end, count) in queued.iter().filter(|q| f.inside(q.1)) {
        let (qx, qy) = (f.x(end) + 14.0, f.y(j));
        let _ = write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"white\" \
             stroke=\"{QUEUED}\" stroke-width=\"2\"/><path d=\"M{:.1} {:.1}l8 8m0 -8l-8 8\" \
             stroke=\"{QUEUED}\" stroke-width=\"1.5\"/>",
            qx - 6.0,
            qy - 6.0,
            qx - 4.0,
            qy - 4.0
        );
        if count > 1 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"11\" fill=\"{QUEUED}\">\
                 {count}</text>",
                qx + 9.0,
                qy + 4.0
            );
        }
        out.push('\n');
    }
    cuts
}
