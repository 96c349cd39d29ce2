//! The space-time diagram's legend, under its time axis: the four marks of the events, the two
//! arrows of the messages, the marker of a message never taken off its queue, how to read the
//! numbers, and a message cut at the window's edge.

use std::fmt::Write as _;

use super::{COLOURS, FONT, LEFT, arrow, arrow_between, mark};
use crate::core::event::EventKind;

/// The legend under the axis: the four marks, the two arrows, the queued marker and a cut
/// message, in three rows.
pub(super) fn legend(out: &mut String, y: f64, id: &str) {
    let mut x = LEFT;
    for kind in EventKind::ALL {
        mark(out, kind, x, y);
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\">{kind}</text>",
            x + 12.0,
            y + 4.0
        );
        x += 95.0;
    }
    for (colour, what) in [(1, "message"), (2, "broadcast message")] {
        arrow(out, (x - 6.0, y), (x + 40.0, y), colour, id);
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\">{what}</text>",
            x + 40.0,
            y + 4.0
        );
        x += if colour == 1 { 110.0 } else { 165.0 };
    }
    let (x, y) = (LEFT, y + 24.0);
    let _ = writeln!(
        out,
        "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"white\" \
         stroke=\"#cf222e\" stroke-width=\"2\"/><text x=\"{:.1}\" y=\"{:.1}\" {FONT} \
         font-size=\"12\">a message never taken off its queue (the end of the receiver's log)\
         </text><text x=\"{:.1}\" y=\"{:.1}\" {FONT} font-size=\"12\" fill=\"#57606a\">\
         numbers: the Lamport clock after the event (bold: it jumped)</text>",
        x - 6.0,
        y - 6.0,
        x + 12.0,
        y + 4.0,
        x + 440.0,
        y + 4.0
    );
    let y = y + 24.0;
    arrow_between(out, (x - 6.0, y), (x + 40.0, y), (0.0, 0.0), 1, true, id);
    let _ = writeln!(
        out,
        "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#999\" \
         stroke-dasharray=\"2 2\"/><text x=\"{3:.1}\" y=\"{4:.1}\" {FONT} font-size=\"10\" \
         fill=\"{5}\">machine 2 at 9.50 s</text><text x=\"{6:.1}\" y=\"{4:.1}\" {FONT} \
         font-size=\"12\" fill=\"#57606a\">a message leaving the window: where it goes and when \
         it is taken (a bar at the left edge: a message sent before the window)</text>",
        x + 40.0,
        y - 9.0,
        y + 9.0,
        x + 46.0,
        y + 3.5,
        COLOURS[1],
        x + 160.0
    );
}
