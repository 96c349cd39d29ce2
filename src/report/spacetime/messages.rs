//! The messages of the space-time diagram: an arrow from each send or broadcast to each receive
//! matched with it, a dashed red line from a message never taken off its queue to one marker per
//! receiver after the end of its log, and the cuts where a message crosses the window's edge.
//!
//! A message with one end outside the window is drawn to the edge and no further. Leaving at the
//! right, it ends in an arrowhead on the edge, and a label in the margin beside it, joined to the
//! arrowhead by a thin line, says where it goes and when (`machine 1 at 12.40 s`, or `machine 1,
//! not received`; equal labels near each other are one, with their number). Labels that would
//! touch are moved down until they do not. Arriving from the left, it starts with a short bar
//! across the edge (inside the plot, where a label would cover the first events). Every cut
//! message also carries a tooltip with both its ends (`from machine 3 at 11.02 s to machine 1 at
//! 12.40 s`).

use std::fmt::Write as _;

use super::{COLOURS, FONT, Frame, QUEUED, Scene, arrow_between};
use crate::report::table::escape;

/// The smallest distance between two labels at one edge, pixels.
const LABEL_GAP: f64 = 11.0;

/// A label at the window's right edge: where a message that leaves it goes.
#[derive(Clone, Debug, PartialEq)]
struct EdgeLabel {
    /// Where the message crosses the edge, pixels.
    at: f64,
    /// Where the label goes, pixels: `at` or below it.
    y: f64,
    /// What it says.
    text: String,
    /// Its colour, the message's.
    colour: &'static str,
}

/// The labels of the messages that leave the window at its right edge, drawn after everything
/// else ([`Cuts::draw`]) so that no line covers them.
#[derive(Debug, Default)]
pub(super) struct Cuts {
    right: Vec<EdgeLabel>,
}

/// The point at `x` on the line through `p` and `q`.
fn at_x(p: (f64, f64), q: (f64, f64), x: f64) -> (f64, f64) {
    let dx = q.0 - p.0;
    if dx.abs() < 1e-9 {
        return (x, p.1);
    }
    (x, p.1 + (q.1 - p.1) * (x - p.0) / dx)
}

/// The colour a message is drawn in: vermilion from a send, green from a broadcast, red for one
/// never received.
fn css(colour: usize) -> &'static str {
    match colour {
        1 | 2 => COLOURS[colour],
        _ => QUEUED,
    }
}

impl Frame<'_> {
    /// `machine 3`, the name of the `i`-th machine.
    pub(super) fn name(&self, i: usize) -> String {
        format!("machine {}", self.trial.machines[i].id)
    }

    /// Seconds since the trial's start as the labels at the edge write them: a decimal more
    /// than the time axis, at least two.
    pub(super) fn when(&self, t_us: u64) -> String {
        format!("{:.*} s", (self.decimals + 1).max(2), self.seconds(t_us))
    }

    /// The edge a time outside the window is cut at: the left one before it, else the right.
    fn edge_of(&self, t_us: u64) -> f64 {
        if self.seconds(t_us) < self.window.start_s {
            self.x0
        } else {
            self.x1
        }
    }

    /// A message from the event `from` (at `t_from`, on row `i`) to the point `to` (at `t_to`,
    /// on row `j`, drawn at `to_x`), cut at the window's edges; `leaving` says where it goes
    /// (its label when it leaves at the right). `colour` 0 for a message never received, whose
    /// end is its receiver's marker (already clear of the mark there).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn message(
        &self,
        out: &mut String,
        cuts: &mut Cuts,
        (t_from, i): (u64, usize),
        (t_to, j): (u64, usize),
        to_x: f64,
        colour: usize,
        leaving: String,
    ) {
        let (from_in, to_in) = (self.inside(t_from), self.inside(t_to));
        if !from_in && !to_in {
            return;
        }
        let (p, q) = ((self.x(t_from), self.y(i)), (to_x, self.y(j)));
        let start = if from_in {
            p
        } else {
            at_x(p, q, self.edge_of(t_from))
        };
        let end = if to_in {
            q
        } else {
            at_x(p, q, self.edge_of(t_to))
        };
        let dashed = colour == 0;
        // Shortened off the marks at its ends, not where it is cut.
        let short = (
            if from_in { 6.0 } else { 0.0 },
            if !to_in || dashed { 0.0 } else { 8.0 },
        );
        let head = !to_in || !dashed;
        if from_in && to_in {
            arrow_between(out, start, end, short, colour, head, self.id);
            return;
        }
        let _ = write!(
            out,
            "<g class=\"cut\"><title>from {} at {} to {}</title>",
            self.name(i),
            self.when(t_from),
            escape(&leaving)
        );
        arrow_between(out, start, end, short, colour, head, self.id);
        if !from_in {
            let (x, y) = start;
            let _ = write!(
                out,
                "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"{}\" \
                 stroke-width=\"2\"/>",
                y - 5.0,
                y + 5.0,
                css(colour)
            );
        }
        out.push_str("</g>");
        if !to_in && end.0 >= self.x1 {
            cuts.right.push(EdgeLabel {
                at: end.1,
                y: end.1,
                text: leaving,
                colour: css(colour),
            });
        }
    }
}

/// Draws every message of `scene` that has an end in the window (the arrows, the dashed lines and
/// the markers of messages never received) and answers the labels of the cut ones.
pub(super) fn messages(out: &mut String, f: &Frame<'_>, scene: &Scene) -> Cuts {
    let mut cuts = Cuts::default();
    for a in &scene.arrows {
        let (from, to) = (a.from, a.to);
        // Most messages of a long trial lie outside the window: no label for them.
        if !f.inside(from.0) && !f.inside(to.0) {
            continue;
        }
        let leaving = format!("{} at {}", f.name(to.1), f.when(to.0));
        f.message(out, &mut cuts, from, to, f.x(to.0), a.colour, leaving);
    }
    // Messages never taken off a queue: a dashed line to one marker per receiver, after the end
    // of its log, with their number beside it when there are several.
    let mut queued: Vec<(usize, u64, usize)> = Vec::new(); // (receiver, marker time, messages)
    for l in &scene.lost {
        let j = l.to;
        let end = scene
            .last_us
            .get(j)
            .copied()
            .flatten()
            .unwrap_or(0)
            .max(l.from.0);
        match queued.iter_mut().find(|q| q.0 == j) {
            Some(q) => {
                q.1 = q.1.max(end);
                q.2 += 1;
            }
            None => queued.push((j, end, 1)),
        }
    }
    for l in &scene.lost {
        let j = l.to;
        let Some(&(_, end, _)) = queued.iter().find(|q| q.0 == j) else {
            continue;
        };
        let leaving = format!("{}, not received", f.name(j));
        f.message(
            out,
            &mut cuts,
            l.from,
            (end, j),
            f.x(end) + 14.0,
            0,
            leaving,
        );
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

/// `labels` in order down the edge, equal ones near each other (within three times
/// [`LABEL_GAP`]) made one with their number, each at least [`LABEL_GAP`] below the one before.
fn stacked(mut labels: Vec<EdgeLabel>) -> Vec<EdgeLabel> {
    labels.sort_by(|a, b| a.at.total_cmp(&b.at).then_with(|| a.text.cmp(&b.text)));
    let mut groups: Vec<(EdgeLabel, usize, f64)> = Vec::new(); // (label, count, last y)
    for l in labels {
        match groups.last_mut() {
            Some((g, count, last)) if g.text == l.text && l.at - *last < 3.0 * LABEL_GAP => {
                *count += 1;
                *last = l.at;
            }
            _ => {
                let y = l.at;
                groups.push((l, 1, y));
            }
        }
    }
    let mut floor = f64::MIN;
    groups
        .into_iter()
        .map(|(mut l, count, _)| {
            if count > 1 {
                l.text = format!("{} ({count})", l.text);
            }
            l.y = l.at.max(floor);
            floor = l.y + LABEL_GAP;
            l
        })
        .collect()
}

impl Cuts {
    /// Whether no message leaves the window.
    pub(super) fn is_empty(&self) -> bool {
        self.right.is_empty()
    }

    /// Draws the labels in the margin right of the plot, each joined by a thin line to the
    /// arrowhead it names.
    pub(super) fn draw(self, out: &mut String, f: &Frame<'_>, label_x: f64) {
        for l in stacked(self.right) {
            let _ = write!(
                out,
                "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{}\" \
                 stroke-width=\"0.8\" stroke-opacity=\"0.6\"/><text class=\"cut\" x=\"{label_x:.1}\" \
                 y=\"{:.1}\" {FONT} font-size=\"10\" fill=\"{}\">{}</text>",
                f.x1 + 3.0,
                l.at,
                label_x - 2.0,
                l.y,
                l.colour,
                l.y + 3.5,
                l.colour,
                escape(&l.text)
            );
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(y: f64, text: &str) -> EdgeLabel {
        EdgeLabel {
            at: y,
            y,
            text: text.to_owned(),
            colour: QUEUED,
        }
    }

    #[test]
    fn labels_at_the_edge_merge_when_equal_and_move_apart_when_close() {
        let got = stacked(vec![
            label(100.0, "machine 1, not received"),
            label(50.0, "machine 2 at 1.20 s"),
            label(104.0, "machine 1, not received"),
            label(55.0, "machine 3 at 1.30 s"),
            label(130.0, "machine 1, not received"),
            label(170.0, "machine 1, not received"),
        ]);
        let placed: Vec<(f64, f64, &str)> =
            got.iter().map(|l| (l.at, l.y, l.text.as_str())).collect();
        assert_eq!(
            placed,
            [
                (50.0, 50.0, "machine 2 at 1.20 s"),
                (55.0, 61.0, "machine 3 at 1.30 s"),
                (100.0, 100.0, "machine 1, not received (3)"),
                (170.0, 170.0, "machine 1, not received"),
            ]
        );
    }

    #[test]
    fn a_point_on_a_line_at_a_given_x() {
        assert_eq!(at_x((0.0, 0.0), (10.0, 20.0), 5.0), (5.0, 10.0));
        assert_eq!(at_x((3.0, 7.0), (3.0, 9.0), 3.0), (3.0, 7.0));
    }
}
