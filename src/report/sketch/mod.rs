//! A trial drawn as it streams by: the [`Sketch`] watches every event of a trial once
//! ([`Watch`]), in any order that keeps each machine's log order and puts every receive after its
//! send, and keeps only what the drawings need: about 2,000 points per line of the trial plots
//! ([`RowThinning`]), the rows and messages of a span that holds the space-time diagram's window
//! ([`DiagramSketch`]), the first [`MAX_EVENTS`](crate::report::interactive::MAX_EVENTS) events of
//! the interactive diagram ([`FirstEvents`]) and the rounds of the messages in flight. Then it
//! draws exactly what drawing the whole trial would (docs/ANALYSIS.md, "Memory and time").
//!
//! The whole-trial entry points ([`trial_plots`](crate::report::trial_plots),
//! [`add_diagram_with`](crate::report::spacetime::add_diagram_with),
//! [`trial_html_with`](crate::report::interactive::trial_html_with)) draw through the same parts,
//! by [`replay`]ing a loaded trial into them.

use crate::analysis::causality::Causality;
use crate::analysis::stream::{Seen, Unreceived, Watch};
use crate::analysis::{MachineInput, TrialAnalysis, TrialInput};
use crate::report::interactive::{self, FirstEvents};
use crate::report::plots::{self, PlotError, RowThinning};
use crate::report::replay::{replay, unreceived};
use crate::report::spacetime::{self, DiagramSketch, Plan, Window};
use crate::report::{Plot, TrialPlots};

#[cfg(test)]
pub(crate) mod tests;

/// What one trial's drawings need, gathered as its events stream by.
#[derive(Debug)]
pub struct Sketch {
    /// The trial without its rows.
    head: TrialInput,
    /// `--window`, if given.
    window: Option<Window>,
    rows: RowThinning,
    diagram: DiagramSketch,
    first: FirstEvents,
    /// Whether every event came with its vector clock (not a trial too large for them).
    causal: bool,
    /// The drift and jump plots, drawn from the figures alone.
    figures: Result<[String; 2], PlotError>,
}

impl Sketch {
    /// Ready for the events of the trial `head` (its machines, rates, clocks, start and faults;
    /// its `records` empty), whose figures `analysis` are, drawing the diagram over `window`, or
    /// around the largest jump `analysis` lists when `None`.
    pub fn new(head: TrialInput, analysis: &TrialAnalysis, window: Option<Window>) -> Sketch {
        let rows: Vec<usize> = analysis
            .machines
            .iter()
            .map(|m| m.events as usize)
            .collect();
        let figures = plots::drift_plot(&head, analysis)
            .and_then(|drift| Ok([drift, plots::jump_plot(&head, analysis)?]));
        Sketch {
            rows: RowThinning::new(&head, &rows),
            diagram: DiagramSketch::new(&head, Plan::from_analysis(analysis, window)),
            first: FirstEvents::new(&head),
            causal: true,
            figures,
            window,
            head,
        }
    }

    /// The trial's five plots, its space-time diagram and its interactive diagram (none for a
    /// trial too large for vector clocks), files prefixed `prefix`, the page's diagram numbered
    /// `run`; and with `--window`, a warning when no event lies in it. `unreceived`: the messages
    /// some machine never took.
    pub fn finish(
        self,
        unreceived: &[Unreceived],
        run: usize,
        prefix: &str,
    ) -> Result<(TrialPlots, Option<String>), PlotError> {
        let head = &self.head;
        let [drift, jumps] = self.figures?;
        let lines = self.rows.finish();
        let name = |kind: &str| format!("{prefix}trial-{}-{kind}.svg", head.trial);
        let plot = |kind: &str, title: &str, svg: String| Plot {
            file: name(kind),
            title: title.to_owned(),
            svg,
        };
        let mut drawn = vec![
            plot(
                "clock",
                "Logical clock against system time",
                plots::clock_plot_of(head, &lines.clock)?,
            ),
            plot(
                "lag",
                "Clock minus own ticks: what the jumps added",
                plots::lag_plot_of(head, &lines.lag)?,
            ),
            plot(
                "queue",
                "Queue after each tick against system time",
                plots::queue_plot_of(head, &lines.queue)?,
            ),
            plot("drift", "Drift against system time", drift),
            plot("jumps", "Histogram of jump sizes", jumps),
        ];
        let (inside, span) = self.diagram.seen_span();
        let warning = self.window.and_then(|w| window_warning(w, inside, span));
        let mut html = String::new();
        if self.causal {
            let (w, why, scene) = self.diagram.finish(unreceived);
            drawn.push(spacetime::diagram_plot(head, &scene, w, &why, prefix));
            html = interactive::page(head, run, (w, &why), self.first);
        }
        let plots = TrialPlots {
            trial: head.trial,
            plots: drawn,
            interactive: html,
        };
        Ok((plots, warning))
    }
}

impl Watch for Sketch {
    fn seen(&mut self, e: &Seen<'_>) {
        self.rows.push(e.event.machine, e.event.index, e.record);
        self.diagram.seen(e);
        if e.vector.is_none() {
            self.causal = false;
        }
        if self.causal {
            self.first.seen(e);
        }
    }
}

/// Why `--window` draws an empty diagram, when no event lies in it (`inside` false): the span of
/// the trial's events (`span`, seconds since its start, `None` without events).
pub fn window_warning(window: Window, inside: bool, span: Option<(f64, f64)>) -> Option<String> {
    if inside {
        return None;
    }
    let span = match span {
        Some((first, last)) => format!("the trial's events run from {first:.3} s to {last:.3} s"),
        None => "the trial has no events".to_owned(),
    };
    Some(format!(
        "--window {}s..{}s holds no event, so its space-time diagram is empty: {span}; give a \
         window within them",
        window.start_s, window.end_s
    ))
}

/// The trial `t` without its rows: what a [`Sketch`] is made with.
pub fn head_of(t: &TrialInput) -> TrialInput {
    TrialInput {
        trial: t.trial,
        dir: t.dir.clone(),
        seed: t.seed,
        start_us: t.start_us,
        machines: t
            .machines
            .iter()
            .map(|m| MachineInput {
                id: m.id,
                name: m.name.clone(),
                rate: m.rate,
                records: Vec::new(),
                queue_peak: m.queue_peak,
                timing: m.timing,
                clock: m.clock,
                problems: m.problems.clone(),
            })
            .collect(),
        problems: t.problems.clone(),
        faults: t.faults.clone(),
    }
}

/// Every drawing of the loaded trial `t` (whose figures `a` are, its vector clocks `c`), replayed
/// through a [`Sketch`]: as [`Sketch::finish`].
pub fn draw_trial(
    t: &TrialInput,
    a: &TrialAnalysis,
    c: Option<&Causality>,
    window: Option<Window>,
    run: usize,
    prefix: &str,
) -> Result<(TrialPlots, Option<String>), PlotError> {
    let mut sketch = Sketch::new(head_of(t), a, window);
    // Without vector clocks no diagram, even of a trial without events.
    sketch.causal = c.is_some();
    replay(t, c, &mut sketch);
    let lost = c.map(|c| unreceived(t, c)).unwrap_or_default();
    sketch.finish(&lost, run, prefix)
}
