//! The space-time diagram (Lamport's figure): one horizontal line per machine, one mark per event
//! (receive, send, broadcast and internal in their own shapes and colours), an arrow from each send
//! to its matching receive, each event labelled with its Lamport clock where the label fits, over a
//! window of time. A message no log shows taken off its queue ends in a marker at the end of its
//! receiver's log; a message with an end outside the window is cut at its edge, labelled with
//! where it goes or came from (`messages`). Written as SVG text directly (the arrowheads are SVG
//! markers); pure.
//!
//! It is drawn ([`draw`]) from a [`Scene`], which a [`DiagramSketch`] gathers as the trial streams
//! by, holding the rows of a span around the window rather than the trial's; [`diagram`] and
//! [`add_diagram_with`] replay a loaded trial into one.
//!
//! docs/ANALYSIS.md ("The space-time diagram") explains how to read it and how the window is
//! chosen ([`auto_window`]) when `analyze --window` does not give one ([`parse_window`]).

use std::fmt::Write as _;

use super::table::escape;
use super::{Plot, RunPlots, TrialPlots};
use crate::analysis::causality::{Causality, reconstruct};
use crate::analysis::{RunInput, TrialInput};
use crate::core::event::EventKind;

pub use order::Order;
pub use scene::{Arrow, Key, Lost, Mark, Scene};
pub use sketch::{DiagramSketch, Plan};
pub use window::{
    JumpAt, Times, Window, WindowError, auto_window, largest_jump, parse_window, place, since,
};

/// How many events the automatic window holds at most.
pub const AUTO_EVENTS: usize = 60;
/// How long the automatic window is at most, seconds.
pub const AUTO_SECONDS: f64 = 5.0;

const WIDTH: f64 = 1100.0;
const LEFT: f64 = 150.0;
/// Room right of the plot.
const RIGHT: f64 = 30.0;
/// Room right of the plot when messages leave the window: for their labels.
const RIGHT_LABELLED: f64 = 140.0;
const TOP: f64 = 64.0;
const ROW: f64 = 90.0;
const BOTTOM: f64 = 142.0;
const PAD: f64 = 14.0;
const FONT: &str = "font-family=\"sans-serif\"";
/// Where a Lamport clock's label starts, right of its mark's centre, pixels.
const LABEL_DX: f64 = 5.0;
/// How far above the line a label's baseline lies, pixels.
const LABEL_DY: f64 = 8.0;
/// Receive, send, broadcast and internal: fill colours (Okabe and Ito's blue, vermilion, green,
/// and white with a grey outline for internal events).
const COLOURS: [&str; 4] = ["#0072B2", "#D55E00", "#009E73", "#ffffff"];
/// The colour of a message never taken off its queue.
const QUEUED: &str = "#cf222e";

/// A step for the time axis: 1, 2 or 5 times a power of ten, about `span / 8`.
fn axis_step(span: f64) -> f64 {
    let raw = (span / 8.0).max(1e-6);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|k| k * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power)
}

/// The mark of one event at (x, y).
fn mark(out: &mut String, kind: EventKind, x: f64, y: f64) {
    let _ = match kind {
        EventKind::Receive => write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"5.5\" fill=\"{}\"/>",
            COLOURS[0]
        ),
        EventKind::Send => write!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"10\" height=\"10\" fill=\"{}\"/>",
            x - 5.0,
            y - 5.0,
            COLOURS[1]
        ),
        EventKind::Broadcast => write!(
            out,
            "<path d=\"M{x:.1} {:.1}L{:.1} {y:.1}L{x:.1} {:.1}L{:.1} {y:.1}Z\" fill=\"{}\"/>",
            y - 7.0,
            x + 7.0,
            y + 7.0,
            x - 7.0,
            COLOURS[2]
        ),
        EventKind::Internal => write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{}\" stroke=\"#555\" \
             stroke-width=\"1.5\"/>",
            COLOURS[3]
        ),
    };
}

/// An arrow from (x1, y1) to (x2, y2), stopping short of the marks at its ends.
fn arrow(out: &mut String, from: (f64, f64), to: (f64, f64), colour: usize, id: &str) {
    arrow_between(out, from, to, (6.0, 8.0), colour, true, id);
}

/// A message's line from `from` to `to`, shortened by `short` pixels at its start and its end:
/// vermilion (`colour` 1, a send) or green (2, a broadcast), or dashed red (0, never received);
/// with an arrowhead of its colour if `head`.
fn arrow_between(
    out: &mut String,
    from: (f64, f64),
    to: (f64, f64),
    short: (f64, f64),
    colour: usize,
    head: bool,
    id: &str,
) {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = dx.hypot(dy).max(1e-9);
    let (x1, y1) = (from.0 + dx / len * short.0, from.1 + dy / len * short.0);
    let (x2, y2) = (to.0 - dx / len * short.1, to.1 - dy / len * short.1);
    let (stroke, look) = match colour {
        1 | 2 => (
            COLOURS[colour],
            "stroke-width=\"1.3\" stroke-opacity=\"0.75\"",
        ),
        _ => (
            QUEUED,
            "stroke-width=\"1.2\" stroke-opacity=\"0.7\" stroke-dasharray=\"5 3\"",
        ),
    };
    let _ = write!(
        out,
        "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\" \
         {look}"
    );
    if head {
        let _ = write!(out, " marker-end=\"url(#{id}-head{colour})\"");
    }
    out.push_str("/>");
}

/// Where the diagram draws a trial: the window's seconds between two pixels, one row per
/// machine.
struct Frame<'t> {
    trial: &'t TrialInput,
    window: Window,
    /// The pixels of the window's start and end.
    x0: f64,
    x1: f64,
    /// The decimals of the time axis's labels.
    decimals: usize,
    /// What makes the SVG's ids unique in a page.
    id: &'t str,
}

impl Frame<'_> {
    /// Seconds from the trial's start to `t_us`.
    fn seconds(&self, t_us: u64) -> f64 {
        since(self.trial.start_us, t_us)
    }

    /// The pixel of the time `s` seconds after the trial's start.
    fn x_s(&self, s: f64) -> f64 {
        let Window {
            start_s: a,
            end_s: b,
        } = self.window;
        self.x0 + (s - a) / (b - a) * (self.x1 - self.x0)
    }

    /// The pixel of the time `t_us`.
    fn x(&self, t_us: u64) -> f64 {
        self.x_s(self.seconds(t_us))
    }

    /// The pixel of the `i`-th machine's line.
    fn y(&self, i: usize) -> f64 {
        TOP + ROW * (i as f64 + 0.5)
    }

    /// Whether `t_us` lies in the window.
    fn inside(&self, t_us: u64) -> bool {
        self.window.holds(self.seconds(t_us))
    }
}

/// The diagram of `trial` over `window`, from every row of the trial and its vector clocks;
/// `why` says how the window was chosen, `id` makes the SVG's ids unique in a page that holds
/// several diagrams.
pub fn diagram(trial: &TrialInput, c: &Causality, window: Window, why: &str, id: &str) -> String {
    let mut sketch = DiagramSketch::new(trial, Plan::Given(window));
    crate::report::replay::replay(trial, Some(c), &mut sketch);
    let unreceived = crate::report::replay::unreceived(trial, c);
    let (_, _, scene) = sketch.finish(&unreceived);
    draw(trial, &scene, window, why, id)
}

/// The diagram of the trial `head` (whose rows need not be there) over `window`, from its
/// [`Scene`]; `why` and `id` as [`diagram`]'s.
pub fn draw(head: &TrialInput, scene: &Scene, window: Window, why: &str, id: &str) -> String {
    let trial = head;
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
    let leaving = !messages::messages(&mut String::new(), &frame(RIGHT), scene).is_empty();
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
    let cuts = messages::messages(&mut out, &f, scene);
    // Events and their Lamport clocks. One rule for every label: above the line, starting just
    // right of its mark, where arrows neither arrive (a message comes from the left, up or down)
    // nor leave with their heads; drawn only where it does not touch the label before it.
    for (i, marks) in scene.marks.iter().enumerate() {
        let mut label_end = f64::MIN;
        for r in marks {
            if !f.inside(r.time_us) {
                continue;
            }
            let ex = f.x(r.time_us);
            mark(&mut out, r.kind, ex, f.y(i));
            let text = r.clock.to_string();
            let start = ex + LABEL_DX;
            if start > label_end + 2.0 {
                let weight = if r.jumped {
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

/// Adds a space-time diagram, `trial-<k>-spacetime.svg` (prefixed `run-<i>-` for several runs),
/// to every plotted trial of `plots`, over `window` or the trial's [`auto_window`].
pub fn add_diagrams(inputs: &[RunInput], window: Option<Window>, plots: &mut [RunPlots]) {
    for (i, (input, run_plots)) in inputs.iter().zip(plots).enumerate() {
        let prefix = crate::report::run_prefix(i, inputs.len());
        for trial_plots in &mut run_plots.trials {
            let Some(t) = input.trials.iter().find(|t| t.trial == trial_plots.trial) else {
                continue;
            };
            add_diagram(t, window, &prefix, trial_plots);
        }
    }
}

/// Adds the space-time diagram of trial `t` to its plots, over `window` (its automatic window
/// when `None`), its file prefixed `prefix` ([`run_prefix`](crate::report::run_prefix)); none
/// for a trial too large to reconstruct.
pub fn add_diagram(t: &TrialInput, window: Option<Window>, prefix: &str, plots: &mut TrialPlots) {
    add_diagram_with(t, reconstruct(t).as_ref(), window, prefix, plots);
}

/// [`add_diagram`] with the trial's vector clocks already reconstructed (`None` when too large).
pub fn add_diagram_with(
    t: &TrialInput,
    c: Option<&Causality>,
    window: Option<Window>,
    prefix: &str,
    plots: &mut TrialPlots,
) {
    let Some(c) = c else { return };
    let mut sketch = DiagramSketch::new(t, Plan::of(t, window));
    crate::report::replay::replay(t, Some(c), &mut sketch);
    let (w, why, scene) = sketch.finish(&crate::report::replay::unreceived(t, c));
    plots.plots.push(diagram_plot(t, &scene, w, &why, prefix));
}

/// The space-time diagram of the trial `head` as a [`Plot`], `<prefix>trial-<k>-spacetime.svg`,
/// over `window`, chosen because `why`.
pub fn diagram_plot(head: &TrialInput, scene: &Scene, w: Window, why: &str, prefix: &str) -> Plot {
    let stem = format!("{prefix}trial-{}-spacetime", head.trial);
    Plot {
        file: format!("{stem}.svg"),
        title: "Space-time diagram: events, messages and Lamport clocks".to_owned(),
        svg: draw(head, scene, w, &format!("Window: {why}."), &stem),
    }
}

mod legend;
mod messages;
mod order;
mod scene;
mod shade;
mod sketch;
#[cfg(test)]
mod tests;
mod window;
