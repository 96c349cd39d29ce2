//! The tables `run` and `simulate` print: the table across trials, per machine and rate.

use super::*;

/// Machine `id`'s summary with `ticks` ticks, `sends` sends, one broadcast, `receives`
/// receives, and the clock, jump and queue peak given.
fn summary(id: u16, ticks: u64, receives: u64, clock: u64, peak: u32) -> ClientSummary {
    let events = [("receive", receives), ("send", 2), ("broadcast", 1)];
    ClientSummary {
        id,
        name: format!("127.0.0.1:800{id}"),
        machines: 2,
        rate: 2.0,
        action_range: 10,
        run_seed: 1,
        seed: 2,
        start_time_ns: 0,
        stop_time_ns: 1,
        ticks,
        events: events.iter().map(|&(k, n)| (k.to_owned(), n)).collect(),
        frames_sent: 3,
        final_clock: clock,
        queue_peak: peak,
        max_jump: 1,
        refused: 0,
        unprocessed: Vec::new(),
        ended: "BYE".to_owned(),
        orderly: true,
        log_error: None,
        missed_ticks: Default::default(),
        receive_rule: Default::default(),
        tick_lateness_us: Default::default(),
        ticks_late_over_one_period: 0,
        ticks_skipped: 0,
        hop_latency_us: Default::default(),
        hop_latency_ns: None,
        tick_lateness_ns: None,
    }
}

fn trial(complete: bool, peak: u32) -> TrialOutcome {
    TrialOutcome {
        complete,
        summaries: vec![summary(1, 10, 4, 12, peak), summary(2, 20, 1, 22, 1)],
    }
}

#[test]
fn the_table_across_trials_summarizes_each_figure_per_machine() {
    let text = across_trials_table(&[trial(true, 3), trial(true, 6)], false);
    let expected = [
        "across trials: 2 of 2 trials, per machine and rate mean, std, min and max",
        "  machine   rate trials stat   events  sends broadcasts receives final clock max jump queue peak",
        "        1      2      2 mean       10      2          1        4          12        1       4.50",
        "                        std         0      0          0        0           0        0       2.12",
        "                        min        10      2          1        4          12        1          3",
        "                        max        10      2          1        4          12        1          6",
        "        2      2      2 mean       20      2          1        1          22        1          1",
        "                        std         0      0          0        0           0        0          0",
        "                        min        20      2          1        1          22        1          1",
        "                        max        20      2          1        1          22        1          1",
        "",
    ];
    assert_eq!(text, expected.join("\n"));
    assert_eq!(
        HEADLINE[0].0, "rate",
        "the rate is the key the table groups by"
    );
    // One trial: no table.
    assert_eq!(across_trials_table(&[trial(true, 3)], false), "");
}

#[test]
fn a_machine_at_different_rates_gets_a_row_per_rate_with_its_trials() {
    // Machine 1 at 2 ticks/s in two trials and at 5 in one; machine 2 keeps its rate.
    let mut fast = trial(true, 9);
    fast.summaries[0].rate = 5.0;
    fast.summaries[0].ticks = 25;
    let text = across_trials_table(&[trial(true, 3), fast, trial(true, 6)], false);
    let keys: Vec<Vec<&str>> = text
        .lines()
        .filter(|l| l.ends_with(|c: char| c.is_ascii_digit()) && l.contains(" mean "))
        .map(|l| l.split_whitespace().take(5).collect())
        .collect();
    assert_eq!(
        keys,
        [
            ["1", "2", "2", "mean", "10"],
            ["1", "5", "1", "mean", "25"],
            ["2", "2", "3", "mean", "20"]
        ],
        "{text}"
    );
    // The trials of each machine add up to the trials counted.
    let sums = keys.iter().fold(BTreeMap::new(), |mut m, k| {
        *m.entry(k[0]).or_insert(0) += k[2].parse::<usize>().unwrap();
        m
    });
    assert!(sums.values().all(|&n| n == 3), "{sums:?}");
    // Machine 1 at 2 ticks/s counts its two trials only: peaks 3 and 6, not 9.
    assert!(text.lines().nth(2).unwrap().ends_with(" 4.50"), "{text}");
}

#[test]
fn incomplete_trials_are_left_out_unless_asked_for_and_counted_either_way() {
    let trials = [trial(true, 3), trial(false, 9), trial(true, 6)];
    let text = across_trials_table(&trials, false);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "across trials: 2 of 3 trials (1 incomplete, left out; --include-incomplete counts \
         them), per machine and rate mean, std, min and max"
    );
    assert!(
        lines[2].ends_with(" 4.50") && lines[5].ends_with(" 6"),
        "{text}"
    );
    let text = across_trials_table(&trials, true);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "across trials: 3 of 3 trials (1 incomplete, counted: --include-incomplete), per \
         machine and rate mean, std, min and max"
    );
    assert!(
        lines[2].ends_with(" 6") && lines[5].ends_with(" 9"),
        "{text}"
    );
    // Nothing left to count: said so, with no table.
    let none = across_trials_table(&[trial(false, 1), trial(false, 2)], false);
    assert!(none.ends_with("\n  no trial to summarize\n"), "{none}");
    // A single value has no standard deviation.
    let one = across_trials_table(&[trial(true, 3), trial(false, 2)], false);
    assert!(one.lines().nth(3).unwrap().ends_with(" -"), "{one}");
}
