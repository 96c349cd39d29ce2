//! The live view drawn: one [`LiveFrame`] (a title, the trial's time, one row per machine from
//! `analysis::live`, each machine's clock against time) rendered by ratatui into any buffer, a
//! terminal's or a test's. Pure: the caller says what time it is and what to show; `cli::watch`
//! owns the terminal.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::Line;
use ratatui::widgets::{Axis, Block, Chart, Dataset, GraphType, Paragraph, Row, Table, Widget};

use crate::analysis::live::LiveRow;

/// Where the trial stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// No row logged yet.
    Waiting,
    /// The machines are writing.
    Running,
    /// The trial is over (its record is written): the final state.
    Finished,
}

/// Everything one frame shows.
#[derive(Clone, Debug)]
pub struct LiveFrame {
    /// What is watched: the trial's directory and number.
    pub title: String,
    /// Where the trial stands.
    pub phase: Phase,
    /// Seconds since the trial's start, when it is known.
    pub elapsed_s: Option<f64>,
    /// The trial's set duration, seconds, when known (machines started by hand have none).
    pub duration_s: Option<f64>,
    /// One row per machine, by id.
    pub rows: Vec<LiveRow>,
    /// Each machine's clock against time, by id: `(seconds after the start, clock)`.
    pub series: Vec<(u16, Vec<(f64, f64)>)>,
    /// Lines to show below the plot: a log that failed its checks, a pause sent.
    pub notes: Vec<String>,
    /// The key that leaves the view, and what it does.
    pub keys: String,
}

/// The columns of the table: their heading and width. `sends`, `broadcasts` and `receives` count
/// the rows of each kind, as `run`'s table does: a broadcast is not a send.
const COLUMNS: [(&str, u16); 12] = [
    ("machine", 7),
    ("rate", 6),
    ("ticks", 7),
    ("clock", 7),
    ("drift", 7),
    ("queue", 5),
    ("q max", 5),
    ("jump", 5),
    ("at s", 7),
    ("sends", 6),
    ("broadcasts", 10),
    ("receives", 8),
];

/// The colours the machines take in turn, in the table and the plot.
const COLOURS: [Color; 6] = [
    Color::Cyan,
    Color::Yellow,
    Color::Magenta,
    Color::Green,
    Color::LightRed,
    Color::LightBlue,
];

fn colour(id: u16) -> Color {
    COLOURS[usize::from(id.saturating_sub(1)) % COLOURS.len()]
}

/// The cells of one machine's row, as `COLUMNS` orders them. The configured rate is shown as
/// given; without one, the measured rate follows a `~`.
pub fn cells(r: &LiveRow) -> [String; 12] {
    let rate = match (r.rate, r.tick_rate) {
        (Some(rate), _) => format!("{rate}"),
        (None, Some(measured)) => format!("~{measured:.2}"),
        (None, None) => "-".into(),
    };
    [
        r.id.to_string(),
        rate,
        r.ticks.to_string(),
        r.clock.to_string(),
        r.drift.to_string(),
        r.queue.to_string(),
        r.queue_max.to_string(),
        r.jump_max.to_string(),
        r.jump_max_at_s.map_or("-".into(), |s| format!("{s:.2}")),
        r.sends.to_string(),
        r.broadcasts.to_string(),
        r.receives.to_string(),
    ]
}

/// The line about time: elapsed, of how long, and what remains.
fn time_line(frame: &LiveFrame) -> String {
    let state = match frame.phase {
        Phase::Waiting => "waiting for the first row",
        Phase::Running => "running",
        Phase::Finished => "finished",
    };
    let time = match (frame.elapsed_s, frame.duration_s) {
        // The machines start together a little after they joined.
        (Some(e), _) if e < 0.0 => format!("starting in {:.1} s", -e),
        (Some(e), Some(d)) if frame.phase == Phase::Running => {
            format!("{e:.1} s of {d:.1} s, {:.1} s left", (d - e).max(0.0))
        }
        (Some(e), Some(d)) => format!("{:.1} s of {d:.1} s", e.min(d)),
        (Some(e), None) => format!("{e:.1} s (no set duration)"),
        (None, Some(d)) => format!("{d:.1} s set"),
        (None, None) => String::new(),
    };
    format!("{state}  {time}")
}

impl Widget for &LiveFrame {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let table_height = self.rows.len() as u16 + 1;
        let notes = self.notes.len().min(4) as u16;
        let [head, table, plot, foot] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(table_height + 1),
            Constraint::Min(6),
            Constraint::Length(notes + 1),
        ])
        .areas(area);
        Paragraph::new(vec![
            Line::from(self.title.as_str()).bold(),
            Line::from(time_line(self)),
        ])
        .render(head, buf);
        let header = Row::new(COLUMNS.map(|(name, _)| name)).bold();
        let rows = self
            .rows
            .iter()
            .map(|r| Row::new(cells(r)).style(Style::new().fg(colour(r.id))));
        Table::new(rows, COLUMNS.map(|(_, w)| Constraint::Length(w)))
            .header(header)
            .column_spacing(1)
            .render(table, buf);
        self.render_plot(plot, buf);
        let mut lines: Vec<Line> = self
            .notes
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(|n| Line::from(n.as_str()))
            .collect();
        lines.push(Line::from(self.keys.as_str()).dim());
        Paragraph::new(lines).render(foot, buf);
    }
}

impl LiveFrame {
    /// Each machine's clock against time, the x axis as long as the trial (or what has run).
    fn render_plot(&self, area: Rect, buf: &mut Buffer) {
        let x_max = self
            .duration_s
            .into_iter()
            .chain(self.elapsed_s)
            .fold(1.0f64, f64::max);
        let y_max = self
            .rows
            .iter()
            .map(|r| r.clock as f64)
            .fold(1.0f64, f64::max);
        let names: Vec<String> = self.series.iter().map(|(id, _)| format!("m{id}")).collect();
        let datasets = self
            .series
            .iter()
            .zip(&names)
            .map(|((id, points), name)| {
                Dataset::default()
                    .name(name.as_str())
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::new().fg(colour(*id)))
                    .data(points)
            })
            .collect();
        let label = |v: f64| Line::from(format!("{v:.0}"));
        Chart::new(datasets)
            .block(Block::bordered().title("Lamport clock against seconds of the trial"))
            .x_axis(Axis::default().bounds([0.0, x_max]).labels([
                label(0.0),
                label(x_max / 2.0),
                label(x_max),
            ]))
            .y_axis(
                Axis::default()
                    .bounds([0.0, y_max])
                    .labels([label(0.0), label(y_max)]),
            )
            .render(area, buf);
    }
}
