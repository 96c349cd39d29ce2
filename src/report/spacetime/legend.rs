//! The space-time diagram's legend, under its time axis: the four marks of the events, the two
//! arrows of the messages, the marker of a message never taken off its queue, and how to read the
//! numbers.

use std::fmt::Write as _;

use super::{FONT, LEFT, arrow, mark};
use crate::core::event::EventKind;

/// The legend under the axis: the four marks, the two arrows and the queued marker.
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
}
