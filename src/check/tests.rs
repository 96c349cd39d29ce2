//! The checker on real trials (written by the simulator) and on copies broken one way each: every
//! broken rule must show as a violation naming the file and line.

use std::path::{Path, PathBuf};

use super::*;
use crate::config::Latency;
use crate::core::event::{HEADER, format_record};
use crate::rundir::log::{log_path, write_whole_log};
use crate::rundir::records::ClientSummary;
use crate::rundir::write_yaml_atomically;
use crate::sim::{self, DEFAULT_EPOCH_NS, SimOptions};

/// A fresh directory holding one simulated trial of three machines that passes every check.
fn trial(name: &str) -> PathBuf {
    simulated(name, vec![2.0, 20.0, 30.0], 10)
}

/// A fresh directory holding one simulated trial of machines at `rates` for `seconds`.
fn simulated(name: &str, rates: Vec<f64>, seconds: u64) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clocklab-check-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let machines = rates.len();
    let opts = SimOptions {
        names: (0..machines).map(|i| format!("m{i}")).collect(),
        rates,
        // Five for three machines; past the machines for more (the range must exceed them).
        action_range: (machines as u32 + 2).max(5),
        receive_rule: Default::default(),
        missed_ticks: Default::default(),
        duration_ns: seconds * 1_000_000_000,
        seed: 5,
        epoch_ns: DEFAULT_EPOCH_NS,
        latency: Latency::default(),
        tick_lateness: None,
        measured: None,
        faults: Default::default(),
    };
    let mut logs = vec![format!("{HEADER}\n"); machines];
    let outcome = sim::simulate(&opts, |r| {
        format_record(r, &mut logs[usize::from(r.machine) - 1])
    })
    .unwrap();
    for (i, text) in logs.iter().enumerate() {
        write_whole_log(&log_path(&dir, i as u16 + 1), text).unwrap();
    }
    for s in &outcome.summaries {
        write_yaml_atomically(&dir.join(summary_file_name(s.id)), s).unwrap();
    }
    write_yaml_atomically(&dir.join(ROUTER_STATS_FILE), &outcome.router).unwrap();
    dir
}

/// Replaces line `line` (1-based) of `path` with what `edit` makes of it.
fn edit_line(path: &Path, line: usize, edit: impl FnOnce(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[line - 1] = edit(&lines[line - 1]);
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

/// The first line (1-based) of machine `id`'s log whose event is `event`.
fn first_line_of(dir: &Path, id: u16, event: &str) -> usize {
    let text = std::fs::read_to_string(log_path(dir, id)).unwrap();
    text.lines()
        .position(|l| l.split(',').nth(1) == Some(event))
        .map(|i| i + 1)
        .unwrap()
}

fn field(line: &str, index: usize, value: &str) -> String {
    let mut fields: Vec<&str> = line.split(',').collect();
    fields[index] = value;
    fields.join(",")
}

fn messages(report: &Report) -> Vec<String> {
    report.violations.iter().map(ToString::to_string).collect()
}

#[test]
fn an_untouched_trial_passes_with_every_check_listed() {
    let dir = trial("clean");
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(report.notes.is_empty(), "{report}");
    assert_eq!(report.checked.len(), 5, "{report}");
    assert!(report.checked[0].starts_with("clock rules on "));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_clock_that_breaks_the_rule_is_cited_by_file_and_line() {
    let dir = trial("clock");
    let line = first_line_of(&dir, 2, "internal");
    edit_line(&log_path(&dir, 2), line, |l| {
        let clock: u64 = l.split(',').nth(3).unwrap().parse().unwrap();
        field(l, 3, &(clock + 5).to_string())
    });
    let report = check_trial(&dir);
    let found = messages(&report);
    let want = format!(
        "{}:{line}: internal moved the clock from",
        log_path(&dir, 2).display()
    );
    assert!(found[0].starts_with(&want), "{found:?}");
    assert!(
        found[0].contains("the rule gives previous + 1"),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_receive_of_a_message_never_sent_or_received_twice_is_caught() {
    let dir = trial("receive");
    let path = log_path(&dir, 1);
    let line = first_line_of(&dir, 1, "receive");
    // A seq the sender never used.
    edit_line(&path, line, |l| field(l, 7, "4000000"));
    let found = messages(&check_trial(&dir));
    assert!(
        found.iter().any(|v| v.starts_with(&format!(
            "{}:{line}: received seq 4000000 from machine",
            path.display()
        )) && v.contains("which never sent it")),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();

    let dir = trial("twice");
    let path = log_path(&dir, 1);
    let text = std::fs::read_to_string(&path).unwrap();
    let receive = text
        .lines()
        .find(|l| l.contains(",receive,"))
        .unwrap()
        .to_string();
    // The same message received again at the end (its clock rule still holds on that row).
    let last: Vec<&str> = text.lines().last().unwrap().split(',').collect();
    let clock: u64 = last[3].parse().unwrap();
    let again = field(&field(&receive, 2, last[2]), 3, &(clock + 1).to_string());
    std::fs::write(&path, format!("{text}{again}\n")).unwrap();
    let lines = text.lines().count() + 1;
    let found = messages(&check_trial(&dir));
    assert!(
        found.iter().any(
            |v| v.starts_with(&format!("{}:{lines}: message seq", path.display()))
                && v.contains("received a second time")
        ),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_lost_message_breaks_conservation_for_its_pair() {
    let dir = trial("lost");
    // Machine 1 (2 ticks/s) ends with messages in its queue; forget one of them.
    let path = dir.join(summary_file_name(1));
    let mut summary: ClientSummary =
        serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let gone = summary.unprocessed.remove(0);
    write_yaml_atomically(&path, &summary).unwrap();
    let found = messages(&check_trial(&dir));
    let pair = format!("pair {}->1: ", gone.source);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains(&pair) && found[0].contains("unprocessed"),
        "{found:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_tick_count_far_from_rate_times_time_is_caught() {
    let dir = trial("ticks");
    let path = dir.join(summary_file_name(3));
    let mut summary: ClientSummary =
        serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // Claim the machine ran at 40 ticks/s: 10 s would give 400 ticks, the log has 300.
    summary.rate = 40.0;
    write_yaml_atomically(&path, &summary).unwrap();
    let found = messages(&check_trial(&dir));
    assert_eq!(
        found,
        vec![format!(
            "{}: 300 ticks in 10.000 s at 40 ticks/s; the schedule has 400 deadlines by the stop",
            path.display()
        )]
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_machine_without_summary_is_a_note_and_weakens_only_its_checks() {
    let dir = trial("crashed");
    std::fs::remove_file(dir.join(summary_file_name(1))).unwrap();
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    assert!(
        report.notes[0].starts_with("machine 1 has no summary-1.yaml"),
        "{report}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_crashed_machine_s_cut_off_last_row_is_a_note() {
    let dir = trial("cut");
    std::fs::remove_file(dir.join(summary_file_name(2))).unwrap();
    let path = log_path(&dir, 2);
    let text = std::fs::read_to_string(&path).unwrap();
    let rows = text.lines().count();
    std::fs::write(&path, format!("{text}2,send,17")).unwrap();
    let report = check_trial(&dir);
    assert!(report.passed(), "{report}");
    let cut = format!("{}:{}", path.display(), rows + 1);
    assert!(report.notes.iter().any(|n| n.contains(&cut)), "{report}");
    std::fs::remove_dir_all(&dir).unwrap();
    // With a summary, the machine stopped in order: a cut-off row is a violation.
    let dir = trial("cut-orderly");
    let path = log_path(&dir, 2);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, format!("{text}2,send,17")).unwrap();
    assert!(!check_trial(&dir).passed());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_run_yaml_that_is_there_but_does_not_read_is_a_violation() {
    let dir = trial("run-yaml");
    let path = dir.join(crate::rundir::RUN_FILE);
    for (text, problem) in [
        ("", "empty: not a file of its kind"),
        ("trial: [", "not a valid file of its kind"),
    ] {
        std::fs::write(&path, text).unwrap();
        let report = check_trial(&dir);
        let found = messages(&report);
        assert_eq!(found.len(), 1, "{report}");
        assert!(
            found[0].starts_with(&format!("{}: {problem}", path.display())),
            "{found:?}"
        );
    }
    // Without one (a run started by hand) the trial passes.
    std::fs::remove_file(&path).unwrap();
    assert!(check_trial(&dir).passed());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn frames_the_plan_dropped_are_booked_and_others_are_findings() {
    use crate::core::switchboard::PairCount;
    use crate::rundir::records::RouterStats;
    let router = RouterStats {
        pairs: vec![PairCount {
            source: 1,
            dest: 2,
            delivered: 3,
            undeliverable: 0,
            held: 4,
            released: 3,
            dropped: 2,
        }],
        ..RouterStats::default()
    };
    let file = Path::new("t/router.yaml");
    let mut planned = Report::default();
    rules::check_weather_books(&mut planned, Some(&router), true, file);
    assert!(planned.passed(), "{planned}");
    assert_eq!(
        planned.notes,
        ["fault plan: 4 frames held (3 released, 1 still held at the end), 2 dropped"]
    );
    let mut unplanned = Report::default();
    rules::check_weather_books(&mut unplanned, Some(&router), false, file);
    assert_eq!(
        messages(&unplanned),
        [
            "t/router.yaml: pair 1->2: 2 frames dropped, but no partition of the fault plan drops \
          frames (mode: drop)"
        ]
    );
}

/// The stream's report on `dir` is the whole check's, line for line, when it judges the trial
/// alone (`streams`), and the trial is checked whole when it does not.
fn streamed_as_whole(dir: &Path, streams: bool) {
    let whole = whole::check(dir);
    let streamed = stream::check(dir);
    assert_eq!(streamed.is_some(), streams, "{whole}");
    let report = check_trial(dir);
    assert_eq!(report.to_string(), whole.to_string());
    assert_eq!(report.violations, whole.violations);
}

#[test]
fn the_stream_finds_what_the_rows_held_find_or_hands_the_trial_over() {
    let dir = trial("stream");
    let copy = |name: &str| {
        let to = dir.with_file_name(format!("{}-{name}", dir.file_name().unwrap().display()));
        let _ = std::fs::remove_dir_all(&to);
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(&dir).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
        to
    };
    let summary_of = |dir: &Path, id: u16| -> ClientSummary {
        let text = std::fs::read_to_string(dir.join(summary_file_name(id))).unwrap();
        serde_yaml::from_str(&text).unwrap()
    };
    streamed_as_whole(&dir, true);
    let mut cases: Vec<(PathBuf, bool)> = Vec::new();

    // Rule 1 broken twice on one machine (a clock that falls back, then rises by 2), time
    // running backwards on another.
    let d = copy("clock");
    let line = first_line_of(&d, 2, "internal");
    edit_line(&log_path(&d, 2), line, |l| {
        let clock: u64 = l.split(',').nth(3).unwrap().parse().unwrap();
        field(l, 3, &(clock - 1).to_string())
    });
    let line = first_line_of(&d, 3, "send");
    edit_line(&log_path(&d, 3), line, |l| field(l, 2, "1.000000"));
    cases.push((d, true));
    // A send carrying another clock than its event's: found at the send and at its receipt.
    let d = copy("carried");
    let line = first_line_of(&d, 3, "send");
    edit_line(&log_path(&d, 3), line, |l| {
        let clock: u64 = l.split(',').nth(6).unwrap().parse().unwrap();
        field(l, 6, &(clock - 1).to_string())
    });
    cases.push((d, true));
    // Conservation and tick counts, from the summaries.
    let d = copy("summaries");
    let mut summary = summary_of(&d, 1);
    summary.unprocessed.remove(0);
    write_yaml_atomically(&d.join(summary_file_name(1)), &summary).unwrap();
    let mut summary = summary_of(&d, 3);
    summary.rate = 40.0;
    summary.final_clock += 1;
    write_yaml_atomically(&d.join(summary_file_name(3)), &summary).unwrap();
    cases.push((d, true));
    // A crash: no summary, the last row cut.
    let d = copy("crash");
    std::fs::remove_file(d.join(summary_file_name(2))).unwrap();
    let text = std::fs::read_to_string(log_path(&d, 2)).unwrap();
    std::fs::write(log_path(&d, 2), format!("{text}2,send,17")).unwrap();
    cases.push((d, true));

    // What the stream forgets: a message received twice, or never sent; seqs out of order; a
    // cut row from a machine that stopped in order; a row that does not read; an unprocessed
    // message that was received; a clock that jumps ahead, holding its log's later rows back in
    // the merge, after the receives of its sends.
    let d = copy("ahead");
    let line = first_line_of(&d, 2, "internal");
    edit_line(&log_path(&d, 2), line, |l| {
        let clock: u64 = l.split(',').nth(3).unwrap().parse().unwrap();
        field(l, 3, &(clock + 5).to_string())
    });
    cases.push((d, false));
    let d = copy("twice");
    let text = std::fs::read_to_string(log_path(&d, 1)).unwrap();
    let receive = text.lines().find(|l| l.contains(",receive,")).unwrap();
    let last: Vec<&str> = text.lines().last().unwrap().split(',').collect();
    let clock: u64 = last[3].parse().unwrap();
    let again = field(&field(receive, 2, last[2]), 3, &(clock + 1).to_string());
    std::fs::write(log_path(&d, 1), format!("{text}{again}\n")).unwrap();
    cases.push((d, false));
    // A log missing beside its summary: the receives of its sends match nothing.
    let d = copy("missing");
    std::fs::remove_file(log_path(&d, 3)).unwrap();
    cases.push((d, false));
    let d = copy("never");
    let line = first_line_of(&d, 1, "receive");
    edit_line(&log_path(&d, 1), line, |l| field(l, 7, "4000000"));
    cases.push((d, false));
    let d = copy("seq");
    let line = first_line_of(&d, 2, "send");
    edit_line(&log_path(&d, 2), line, |l| field(l, 7, "7"));
    cases.push((d, false));
    let d = copy("cut-orderly");
    let text = std::fs::read_to_string(log_path(&d, 2)).unwrap();
    std::fs::write(log_path(&d, 2), format!("{text}2,send,17")).unwrap();
    cases.push((d, false));
    let d = copy("bad-row");
    edit_line(&log_path(&d, 3), 9, |l| field(l, 1, "inside"));
    cases.push((d, false));
    let d = copy("received");
    let mut summary = summary_of(&d, 1);
    let line = first_line_of(&d, 1, "receive");
    let text = std::fs::read_to_string(log_path(&d, 1)).unwrap();
    let f: Vec<&str> = text.lines().nth(line - 1).unwrap().split(',').collect();
    summary.unprocessed[0].source = f[5].parse().unwrap();
    summary.unprocessed[0].clock = f[6].parse().unwrap();
    summary.unprocessed[0].seq = f[7].parse().unwrap();
    write_yaml_atomically(&d.join(summary_file_name(1)), &summary).unwrap();
    cases.push((d, false));

    for (d, streams) in &cases {
        streamed_as_whole(d, *streams);
        std::fs::remove_dir_all(d).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_stream_keeps_a_broadcasts_receivers_apart_among_many_machines() {
    // 70 machines: a broadcast's receivers span two words of its bits.
    let rates = (0..70).map(|i| [5.0, 10.0, 20.0][i % 3]).collect();
    let dir = simulated("wide", rates, 3);
    let broadcasts: usize = (1..=70)
        .map(|id| {
            let text = std::fs::read_to_string(log_path(&dir, id)).unwrap();
            text.matches(",broadcast,").count()
        })
        .sum();
    assert!(broadcasts > 5, "{broadcasts} broadcasts");
    streamed_as_whole(&dir, true);
    assert!(check_trial(&dir).passed());
    // Machine 66 crashed: what was sent to it stays in flight; its peers' unprocessed messages
    // still match theirs.
    std::fs::remove_file(dir.join(summary_file_name(66))).unwrap();
    streamed_as_whole(&dir, true);
    // An unprocessed message of machine 65 that machine 65 had received: only the rows can say
    // it went there.
    let path = dir.join(summary_file_name(65));
    let mut summary: ClientSummary =
        serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let line = first_line_of(&dir, 65, "receive");
    let text = std::fs::read_to_string(log_path(&dir, 65)).unwrap();
    let f: Vec<&str> = text.lines().nth(line - 1).unwrap().split(',').collect();
    summary
        .unprocessed
        .push(crate::rundir::records::Unprocessed {
            source: f[5].parse().unwrap(),
            clock: f[6].parse().unwrap(),
            seq: f[7].parse().unwrap(),
        });
    write_yaml_atomically(&path, &summary).unwrap();
    streamed_as_whole(&dir, false);
    std::fs::remove_dir_all(&dir).unwrap();
}
