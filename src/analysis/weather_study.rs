//! The figures of `clocklab experiment weather`: its scenarios ([`scenarios`]: fair weather, then
//! one fault each on the slowest machine), each simulated trial's figures ([`WeatherFigures`]:
//! from its analysis and its router's books) and their mean and deviation over the trials of a
//! scenario ([`WeatherRow`]). Pure: the rates and the trial's length in, the plans out; the
//! analyses in, the figures out. `cli::experiment` simulates, `report::weather_study` renders.

use super::TrialAnalysis;
use super::sweep::{MeanStd, mean_std};
use crate::config::FaultSpec;
use crate::rundir::records::RouterStats;

/// The extra latency of the slow link, milliseconds.
pub const SLOW_LINK_MS: f64 = 100.0;
/// How far ahead the skewed clock is, milliseconds.
pub const CLOCK_OFFSET_MS: f64 = 250.0;
/// How much faster the skewed clock runs, parts per million.
pub const CLOCK_DRIFT_PPM: f64 = 100.0;

/// One scenario of the weather experiment: a name, what it does in words, and its fault plan.
#[derive(Clone, Debug, PartialEq)]
pub struct WeatherScenario {
    /// Its name, also its directory's.
    pub name: &'static str,
    /// What it does, in a few words.
    pub what: String,
    /// Its fault plan, as `faults:` would hold it (empty for the baseline).
    pub faults: Vec<FaultSpec>,
}

/// The id of the slowest machine of `rates` (index 0 is machine 1): the first of the lowest rate.
pub fn slowest(rates: &[f64]) -> u16 {
    let mut best = 0;
    for (i, r) in rates.iter().enumerate() {
        if *r < rates[best] {
            best = i;
        }
    }
    u16::try_from(best + 1).unwrap_or(1)
}

/// The six scenarios for machines ticking at `rates` in trials of `duration_s` seconds, every
/// fault on the slowest machine `s` ([`slowest`]), every window the middle third of the trial:
/// `baseline` (no fault); `slow-link` (every frame to `s` waits [`SLOW_LINK_MS`] more, the whole
/// trial); `partition-hold` and `partition-drop` (`s` cut off from the others, its frames held
/// until the window ends, or dropped); `pause` (`s` stopped); `clock` (`s`'s clock
/// [`CLOCK_OFFSET_MS`] ahead, running [`CLOCK_DRIFT_PPM`] fast).
pub fn scenarios(rates: &[f64], duration_s: f64) -> Vec<WeatherScenario> {
    let s = slowest(rates);
    let n = u16::try_from(rates.len()).unwrap_or(u16::MAX);
    let others: Vec<i64> = (1..=n).filter(|&id| id != s).map(i64::from).collect();
    let (from, to) = (duration_s / 3.0, duration_s * 2.0 / 3.0);
    let window = |spec: FaultSpec| FaultSpec {
        from: Some(from),
        to: Some(to),
        ..spec
    };
    let partition = |mode: &str| {
        window(FaultSpec {
            kind: "partition".into(),
            groups: Some(vec![vec![i64::from(s)], others.clone()]),
            mode: Some(mode.into()),
            ..FaultSpec::default()
        })
    };
    let third = format!("{} s to {} s", fmt(from), fmt(to));
    vec![
        WeatherScenario {
            name: "baseline",
            what: "no fault".into(),
            faults: Vec::new(),
        },
        WeatherScenario {
            name: "slow-link",
            what: format!("every frame to machine {s} waits {SLOW_LINK_MS} ms more"),
            faults: vec![FaultSpec {
                kind: "delay".into(),
                link: Some(format!("*->{s}")),
                latency: Some(format!("fixed:{SLOW_LINK_MS}ms")),
                from: Some(0.0),
                to: Some(duration_s),
                ..FaultSpec::default()
            }],
        },
        WeatherScenario {
            name: "partition-hold",
            what: format!("machine {s} cut off from {third}, its frames held until then"),
            faults: vec![partition("hold")],
        },
        WeatherScenario {
            name: "partition-drop",
            what: format!("machine {s} cut off from {third}, its frames dropped"),
            faults: vec![partition("drop")],
        },
        WeatherScenario {
            name: "pause",
            what: format!("machine {s} paused from {third}"),
            faults: vec![window(FaultSpec {
                kind: "pause".into(),
                machine: Some(i64::from(s)),
                ..FaultSpec::default()
            })],
        },
        WeatherScenario {
            name: "clock",
            what: format!(
                "machine {s}'s clock {CLOCK_OFFSET_MS} ms ahead, {CLOCK_DRIFT_PPM} ppm fast"
            ),
            faults: vec![FaultSpec {
                kind: "clock".into(),
                machine: Some(i64::from(s)),
                offset_ms: Some(CLOCK_OFFSET_MS),
                drift_ppm: Some(CLOCK_DRIFT_PPM),
                ..FaultSpec::default()
            }],
        },
    ]
}

/// A number of seconds as the plan writes it: whole, or to the millisecond.
fn fmt(s: f64) -> String {
    let ms = (s * 1e3).round() / 1e3;
    format!("{ms}")
}

/// The figures of one simulated trial of a scenario.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct WeatherFigures {
    /// The largest single clock jump of any machine.
    pub max_jump: Option<f64>,
    /// The largest queue peak of any machine.
    pub queue_peak: Option<f64>,
    /// The share of pairs of events that are concurrent (vector clocks); `None` for a trial too
    /// large to reconstruct.
    pub concurrent_share: Option<f64>,
    /// The largest drift of any machine's hybrid clock from real time, milliseconds.
    pub hlc_drift_max_ms: Option<f64>,
    /// The largest hybrid clock counter.
    pub hlc_counter_max: Option<f64>,
    /// Frames the fault plan held (by a delay, or a partition in `hold` mode), over every pair.
    pub held: Option<f64>,
    /// Frames a partition in `drop` mode dropped, over every pair.
    pub dropped: Option<f64>,
}

impl WeatherFigures {
    /// The figures of a trial from its analysis and its router's books (`router.yaml`; `None`
    /// leaves held and dropped undefined).
    pub fn of(trial: &TrialAnalysis, router: Option<&RouterStats>) -> WeatherFigures {
        let f = trial.figures();
        let books = |count: fn(&crate::core::switchboard::PairCount) -> u64| {
            router.map(|r| r.pairs.iter().map(count).sum::<u64>() as f64)
        };
        WeatherFigures {
            max_jump: f.jump_max,
            queue_peak: f.queue_peak,
            concurrent_share: f.concurrent_share,
            hlc_drift_max_ms: f.hlc_drift_max_ms,
            hlc_counter_max: f.hlc_counter_max,
            held: books(|p| p.held),
            dropped: books(|p| p.dropped),
        }
    }
}

/// One figure over a scenario's trials: its mean and deviation over the trials that define it,
/// and how many do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Over {
    /// The mean and sample standard deviation.
    pub value: MeanStd,
    /// The trials that define the figure.
    pub trials: usize,
}

impl Over {
    /// `figure` over `trials`, counting the ones that define it; `None` if none does.
    pub fn of(
        trials: &[WeatherFigures],
        figure: fn(&WeatherFigures) -> Option<f64>,
    ) -> Option<Over> {
        let values: Vec<f64> = trials.iter().filter_map(figure).collect();
        (!values.is_empty()).then(|| Over {
            value: mean_std(&values),
            trials: values.len(),
        })
    }
}

/// A scenario's row of the table: each figure's mean and deviation over its trials.
#[derive(Clone, Debug, PartialEq)]
pub struct WeatherRow {
    /// The scenario's name.
    pub name: String,
    /// What it does.
    pub what: String,
    /// How many trials.
    pub trials: usize,
    /// The largest jump.
    pub max_jump: Option<Over>,
    /// The largest queue peak.
    pub queue_peak: Option<Over>,
    /// The share of concurrent pairs.
    pub concurrent_share: Option<Over>,
    /// The largest hybrid clock drift, milliseconds.
    pub hlc_drift_max_ms: Option<Over>,
    /// The largest hybrid clock counter.
    pub hlc_counter_max: Option<Over>,
    /// Frames held.
    pub held: Option<Over>,
    /// Frames dropped.
    pub dropped: Option<Over>,
}

impl WeatherRow {
    /// The row of `scenario` from the figures of its `trials`.
    pub fn of(scenario: &WeatherScenario, trials: &[WeatherFigures]) -> WeatherRow {
        WeatherRow {
            name: scenario.name.to_owned(),
            what: scenario.what.clone(),
            trials: trials.len(),
            max_jump: Over::of(trials, |t| t.max_jump),
            queue_peak: Over::of(trials, |t| t.queue_peak),
            concurrent_share: Over::of(trials, |t| t.concurrent_share),
            hlc_drift_max_ms: Over::of(trials, |t| t.hlc_drift_max_ms),
            hlc_counter_max: Over::of(trials, |t| t.hlc_counter_max),
            held: Over::of(trials, |t| t.held),
            dropped: Over::of(trials, |t| t.dropped),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::faults::check_plan;

    #[test]
    fn the_slowest_machine_is_the_first_of_the_lowest_rate() {
        assert_eq!(slowest(&[2.0, 4.0, 6.0]), 1);
        assert_eq!(slowest(&[6.0, 1.5, 1.5]), 2);
        assert_eq!(slowest(&[]), 1);
    }

    #[test]
    fn each_scenario_is_one_fault_on_the_slowest_machine_in_the_middle_third() {
        let all = scenarios(&[4.0, 2.0, 6.0], 30.0);
        let names: Vec<&str> = all.iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "baseline",
                "slow-link",
                "partition-hold",
                "partition-drop",
                "pause",
                "clock"
            ]
        );
        // Every plan is valid for 3 machines and 30 s trials, and is the one described.
        let plans: Vec<_> = all
            .iter()
            .map(|s| check_plan(&s.faults, s.name, 3, 30.0).unwrap())
            .collect();
        assert!(plans[0].faults.is_empty());
        let yaml = |s: &WeatherScenario| serde_yaml::to_string(&s.faults).unwrap();
        assert_eq!(
            yaml(&all[1]),
            "- kind: delay\n  link: '*->2'\n  latency: fixed:100ms\n  from: 0.0\n  to: 30.0\n"
        );
        assert_eq!(
            yaml(&all[2]),
            "- kind: partition\n  groups:\n  - - 2\n  - - 1\n    - 3\n  mode: hold\n  from: 10.0\n  to: 20.0\n"
        );
        assert_eq!(all[3].faults[0].mode.as_deref(), Some("drop"));
        assert_eq!(all[3].faults[0].groups, all[2].faults[0].groups);
        assert_eq!(
            yaml(&all[4]),
            "- kind: pause\n  machine: 2\n  from: 10.0\n  to: 20.0\n"
        );
        assert_eq!(
            yaml(&all[5]),
            "- kind: clock\n  machine: 2\n  offset_ms: 250.0\n  drift_ppm: 100.0\n"
        );
        assert_eq!(
            all[2].what,
            "machine 2 cut off from 10 s to 20 s, its frames held until then"
        );
    }

    #[test]
    fn a_row_averages_over_the_trials_that_define_each_figure() {
        let t = |jump, share| WeatherFigures {
            max_jump: Some(jump),
            concurrent_share: share,
            held: Some(0.0),
            ..WeatherFigures::default()
        };
        let trials = [t(4.0, Some(0.5)), t(8.0, None)];
        let row = WeatherRow::of(&scenarios(&[1.0], 9.0)[0], &trials);
        assert_eq!(row.trials, 2);
        let jump = row.max_jump.unwrap();
        assert_eq!((jump.value.mean, jump.trials), (6.0, 2));
        assert!((jump.value.std - 8f64.sqrt()).abs() < 1e-12);
        let share = row.concurrent_share.unwrap();
        assert_eq!(
            (share.value.mean, share.value.std, share.trials),
            (0.5, 0.0, 1)
        );
        assert_eq!(row.queue_peak, None);
        assert_eq!(row.held.unwrap().value.mean, 0.0);
    }
}
