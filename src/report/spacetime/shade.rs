//! The weather on the space-time diagram: each window of the trial's fault plan that meets the
//! diagram's window, as a light band behind the machines' lines (tinted by kind, as on the plots)
//! edged by dashed lines, and named in a legend row of its own under the diagram's legend
//! (`▮ pause m2 5-8 s`). Without a plan, or with no window in view, nothing is drawn and the
//! diagram keeps its height.

use std::fmt::Write as _;

use plotters::style::RGBColor;

use super::{FONT, LEFT, RIGHT, WIDTH, Window};
use crate::analysis::TrialInput;
use crate::report::plots::{Shade, shades, tint};
use crate::report::table::escape;

/// The height of a legend row, pixels.
const ROW: f64 = 22.0;
/// Where the first row of names goes: under the diagram's own legend, pixels below the time axis.
const BELOW_AXIS: f64 = 136.0;

/// The windows of `trial`'s plan that meet `window`, each with its legend entry's place: its x
/// and its row (from 0).
fn placed(trial: &TrialInput, window: Window) -> Vec<(Shade, f64, usize)> {
    let (mut x, mut row) = (LEFT, 0);
    let mut out = Vec::new();
    for s in shades(trial) {
        if !(s.from_s < window.end_s && window.start_s < s.to_s) {
            continue;
        }
        let width = 26.0 + 6.6 * s.label.chars().count() as f64 + 24.0;
        if x > LEFT && x + width > WIDTH - RIGHT {
            (x, row) = (LEFT, row + 1);
        }
        out.push((s, x, row));
        x += width;
    }
    out
}

/// The height the names of the windows in view take, pixels (0 without any).
pub(super) fn room(trial: &TrialInput, window: Window) -> f64 {
    placed(trial, window)
        .last()
        .map_or(0.0, |&(_, _, row)| ROW * (row + 1) as f64)
}

/// #rrggbb of a kind's tint.
fn css(kind: &str) -> String {
    let RGBColor(r, g, b) = tint(kind);
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Draws the bands of `trial`'s plan that meet `window` into `out`, the window's seconds between
/// the pixels `x0..x1` and the machines from `top` to `axis` (the time axis), and names them under
/// the diagram's legend.
pub(super) fn bands(
    out: &mut String,
    trial: &TrialInput,
    window: Window,
    (x0, x1): (f64, f64),
    (top, axis): (f64, f64),
) {
    let (a, b) = (window.start_s, window.end_s);
    let x = |s: f64| x0 + (s - a) / (b - a) * (x1 - x0);
    for (s, at, row) in placed(trial, window) {
        let colour = css(s.kind);
        let (left, right) = (x(s.from_s.max(a)), x(s.to_s.min(b)));
        let _ = writeln!(
            out,
            "<rect class=\"fault\" x=\"{left:.1}\" y=\"{top:.1}\" width=\"{:.1}\" \
             height=\"{:.1}\" fill=\"{colour}\" fill-opacity=\"0.16\"/>",
            right - left,
            axis - top
        );
        for edge in [s.from_s, s.to_s]
            .into_iter()
            .filter(|e| (a..=b).contains(e))
        {
            let _ = writeln!(
                out,
                "<line x1=\"{0:.1}\" y1=\"{top:.1}\" x2=\"{0:.1}\" y2=\"{axis:.1}\" \
                 stroke=\"{colour}\" stroke-dasharray=\"5 4\"/>",
                x(edge)
            );
        }
        let y = axis + BELOW_AXIS + ROW * row as f64;
        let _ = writeln!(
            out,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"20\" height=\"12\" fill=\"{colour}\" \
             fill-opacity=\"0.45\"/><text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\">{}\
             </text>",
            at - 6.0,
            y - 6.0,
            at + 20.0,
            y + 4.0,
            escape(&s.label)
        );
    }
}
