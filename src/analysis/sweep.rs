//! The figures of `clocklab experiment`: each simulated trial's from its machines' summaries
//! ([`StudyFigures`]), their mean and deviation over the trials ([`MeanStd`]), and for a sweep,
//! per swept value a [`SweepRow`] beside what the model predicts ([`SweepModel`]). Pure: the
//! summaries in, the figures out; `cli::experiment` simulates, `report::sweep` renders.

use serde::{Deserialize, Serialize};

use super::queueing::predicted_arrivals;
use super::stats;
use crate::config::FaultSpec;
use crate::rundir::records::ClientSummary;

/// The parameter a sweep varies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Swept {
    /// Machine 1's tick rate, ticks per second.
    SlowRate,
    /// The action range R of every machine.
    ActionRange,
    /// How long machine 1 is cut off from its peers (a partition in `hold` mode from a third of
    /// the trial on), seconds.
    PartitionS,
    /// A fixed extra latency on every frame to machine 1 (a `delay` the whole trial),
    /// milliseconds.
    DelayMs,
}

impl Swept {
    /// Its name in `sweep.csv` and the reports: `slow_rate` or `action_range`.
    pub fn name(self) -> &'static str {
        match self {
            Swept::SlowRate => "slow_rate",
            Swept::ActionRange => "action_range",
            Swept::PartitionS => "partition_s",
            Swept::DelayMs => "delay_ms",
        }
    }

    /// Whether it is a fault of the plan (machine 1 at the slow rate, R fixed) rather than a
    /// setting of the model.
    pub fn is_fault(self) -> bool {
        matches!(self, Swept::PartitionS | Swept::DelayMs)
    }
}

/// What a sweep holds fixed, and the model's predictions at any value of what it varies.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepModel {
    /// The parameter swept.
    pub swept: Swept,
    /// How many machines.
    pub machines: u16,
    /// Every machine's rate but machine 1's, ticks per second.
    pub peer_rate: f64,
    /// Machine 1's rate when the action range is swept.
    pub slow_rate: f64,
    /// The action range when machine 1's rate is swept.
    pub action_range: u32,
    /// Seconds each trial runs.
    pub duration_s: f64,
}

impl SweepModel {
    /// Machine 1's rate and the action range at the swept `value` (an action range is rounded
    /// to a whole number).
    pub fn setting(&self, value: f64) -> (f64, u32) {
        match self.swept {
            Swept::SlowRate => (value, self.action_range),
            Swept::ActionRange => (self.slow_rate, value.round() as u32),
            Swept::PartitionS | Swept::DelayMs => (self.slow_rate, self.action_range),
        }
    }

    /// The fault plan at the swept `value`, as `faults:` would hold it: empty unless a fault is
    /// swept, and empty at 0. `partition_s`: machine 1 cut off from every other machine from a
    /// third of the trial on, for `value` seconds, its frames held; `delay_ms`: every frame to
    /// machine 1 waits `value` ms more, the whole trial. The plan is checked with the run (a
    /// partition that ends after the trial is refused there).
    pub fn faults(&self, value: f64) -> Vec<FaultSpec> {
        if value == 0.0 {
            return Vec::new();
        }
        match self.swept {
            Swept::SlowRate | Swept::ActionRange => Vec::new(),
            Swept::PartitionS => {
                let from = self.duration_s / 3.0;
                vec![FaultSpec {
                    kind: "partition".into(),
                    groups: Some(vec![vec![1], (2..=i64::from(self.machines)).collect()]),
                    mode: Some("hold".into()),
                    from: Some(from),
                    to: Some(from + value),
                    ..FaultSpec::default()
                }]
            }
            Swept::DelayMs => vec![FaultSpec {
                kind: "delay".into(),
                link: Some("*->1".into()),
                latency: Some(format!("fixed:{value}ms")),
                from: Some(0.0),
                to: Some(self.duration_s),
                ..FaultSpec::default()
            }],
        }
    }

    /// Every machine's rate, machine 1's `slow_rate` first.
    pub fn rates(&self, slow_rate: f64) -> Vec<f64> {
        let mut rates = vec![self.peer_rate; usize::from(self.machines)];
        if let Some(first) = rates.first_mut() {
            *first = slow_rate;
        }
        rates
    }

    /// The parameter that is not swept, at the swept `value`: the action range when the rate is
    /// swept, machine 1's rate when the action range is.
    pub fn other(&self, value: f64) -> f64 {
        let (slow_rate, action_range) = self.setting(value);
        match self.swept {
            Swept::SlowRate | Swept::PartitionS | Swept::DelayMs => f64::from(action_range),
            Swept::ActionRange => slow_rate,
        }
    }

    /// The messages per second the model predicts for machine 1 minus its rate, at any value
    /// `x` of the swept parameter (an action range is at least the number of machines): above
    /// 0, its queue grows without bound.
    pub fn excess(&self, x: f64) -> f64 {
        let (slow_rate, r) = match self.swept {
            Swept::SlowRate => (x, self.action_range),
            Swept::PartitionS | Swept::DelayMs => (self.slow_rate, self.action_range),
            Swept::ActionRange => (
                self.slow_rate,
                (x.round() as u32).max(u32::from(self.machines)),
            ),
        };
        predicted_arrivals(&self.rates(slow_rate), r, 0) - slow_rate
    }
}

/// The figures of one simulated trial, from its machines' summaries.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StudyFigures {
    /// The largest queue peak of any machine (its queue right after a message arrived).
    pub queue_peak: f64,
    /// The largest final-clock gap: max final clock minus min final clock.
    pub final_drift: f64,
    /// The largest single clock jump of any machine.
    pub max_jump: f64,
    /// The messages machine 1 (the first summary) left unprocessed at the end.
    pub first_final_queue: f64,
}

impl StudyFigures {
    /// The figures of the trial whose machines' summaries are `summaries`, by id.
    pub fn of(summaries: &[ClientSummary]) -> StudyFigures {
        let clocks = summaries.iter().map(|s| s.final_clock);
        let max = clocks.clone().max().unwrap_or(0);
        let min = clocks.min().unwrap_or(0);
        StudyFigures {
            queue_peak: summaries
                .iter()
                .map(|s| s.queue_peak)
                .max()
                .unwrap_or(0)
                .into(),
            final_drift: (max - min) as f64,
            max_jump: summaries.iter().map(|s| s.max_jump).max().unwrap_or(0) as f64,
            first_final_queue: summaries.first().map_or(0, |s| s.unprocessed.len()) as f64,
        }
    }
}

/// One simulated trial of a sweep: the swept value, the trial's number and seed, its figures.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepTrial {
    /// The swept value.
    pub value: f64,
    /// The trial's number at that value, from 1.
    pub trial: u32,
    /// The seed it was simulated with.
    pub seed: u64,
    /// Its figures.
    pub figures: StudyFigures,
}

/// A mean and a sample standard deviation, as the experiment tables print them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MeanStd {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation.
    pub std: f64,
}

/// [`stats::mean`] and [`stats::sample_std`] of `values`: 0 where there is none (no values, or a
/// single one for the deviation).
pub fn mean_std(values: &[f64]) -> MeanStd {
    MeanStd {
        mean: stats::mean(values).unwrap_or(0.0),
        std: stats::sample_std(values).unwrap_or(0.0),
    }
}

/// The mean and deviation of one figure over `trials`.
pub fn over(trials: &[StudyFigures], figure: fn(&StudyFigures) -> f64) -> MeanStd {
    mean_std(&trials.iter().map(figure).collect::<Vec<_>>())
}

/// One value of a sweep: the model's predictions, and the means and deviations over its trials.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepRow {
    /// The swept value.
    pub value: f64,
    /// Machine 1's rate at this value.
    pub slow_rate: f64,
    /// The action range at this value.
    pub action_range: u32,
    /// The messages per second the model predicts for machine 1.
    pub arrivals: f64,
    /// The queue growth the arrival rate predicts over the trial: (arrivals - rate) x duration,
    /// 0 when the rate keeps up.
    pub growth: f64,
    /// Machine 1's final queue.
    pub slow_final_queue: MeanStd,
    /// The largest queue peak of any machine.
    pub queue_peak: MeanStd,
    /// The largest final-clock gap.
    pub final_drift: MeanStd,
    /// The largest jump.
    pub max_jump: MeanStd,
}

impl SweepRow {
    /// The row of the swept `value`, from the figures of its `trials`.
    pub fn of(model: &SweepModel, value: f64, trials: &[StudyFigures]) -> SweepRow {
        let (slow_rate, action_range) = model.setting(value);
        let arrivals = predicted_arrivals(&model.rates(slow_rate), action_range, 0);
        SweepRow {
            value,
            slow_rate,
            action_range,
            arrivals,
            growth: (arrivals - slow_rate).max(0.0) * model.duration_s,
            slow_final_queue: over(trials, |t| t.first_final_queue),
            queue_peak: over(trials, |t| t.queue_peak),
            final_drift: over(trials, |t| t.final_drift),
            max_jump: over(trials, |t| t.max_jump),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_sample_deviation() {
        let zero = MeanStd {
            mean: 0.0,
            std: 0.0,
        };
        assert_eq!(mean_std(&[]), zero);
        assert_eq!(mean_std(&[4.0]), MeanStd { mean: 4.0, ..zero });
        let MeanStd { mean, std } = mean_std(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]);
        assert_eq!(mean, 5.0);
        assert!((std - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    fn model(swept: Swept) -> SweepModel {
        SweepModel {
            swept,
            machines: 3,
            peer_rate: 6.0,
            slow_rate: 1.0,
            action_range: 10,
            duration_s: 60.0,
        }
    }

    #[test]
    fn a_value_sets_the_swept_parameter_and_keeps_the_other() {
        let rate = model(Swept::SlowRate);
        assert_eq!(rate.setting(0.5), (0.5, 10));
        assert_eq!(rate.other(0.5), 10.0);
        assert_eq!(rate.rates(0.5), [0.5, 6.0, 6.0]);
        let range = model(Swept::ActionRange);
        assert_eq!(range.setting(19.6), (1.0, 20));
        assert_eq!(range.other(19.6), 1.0);
        // Between values the prediction keeps R at least N, where `setting` takes it as given.
        assert_eq!(
            range.excess(1.0),
            predicted_arrivals(&[1.0, 6.0, 6.0], 3, 0) - 1.0
        );
    }

    #[test]
    fn a_fault_parameter_keeps_the_model_and_sets_the_plan() {
        let partition = model(Swept::PartitionS);
        assert_eq!(partition.setting(5.0), (1.0, 10));
        assert_eq!(partition.other(5.0), 10.0);
        assert_eq!(partition.excess(7.0), partition.excess(0.0));
        assert!(partition.faults(0.0).is_empty());
        let plan =
            crate::config::faults::check_plan(&partition.faults(5.0), "sweep", 3, 60.0).unwrap();
        let weather = plan.weather();
        assert_eq!(weather.partitions.len(), 1);
        let p = &weather.partitions[0];
        assert_eq!(p.groups, [vec![1], vec![2, 3]]);
        assert_eq!(p.mode, crate::core::fault::PartitionMode::Hold);
        assert_eq!(p.window, crate::core::fault::Window::from_secs(20.0, 25.0));
        // A partition that would outlast the trial is refused by the plan's check.
        assert!(
            crate::config::faults::check_plan(&partition.faults(41.0), "sweep", 3, 60.0).is_err()
        );
        let delay = model(Swept::DelayMs);
        let weather = crate::config::faults::check_plan(&delay.faults(50.0), "sweep", 3, 60.0)
            .unwrap()
            .weather();
        assert_eq!(weather.delays.len(), 1);
        assert_eq!(weather.delays[0].latency.to_string(), "fixed:50ms");
        assert_eq!(
            weather.delays[0].window,
            crate::core::fault::Window::from_secs(0.0, 60.0)
        );
        assert!(model(Swept::SlowRate).faults(2.0).is_empty());
        assert!(Swept::DelayMs.is_fault() && !Swept::ActionRange.is_fault());
    }

    #[test]
    fn a_row_is_the_prediction_beside_the_means_over_its_trials() {
        // Two peers at 6 ticks/s and R = 10 send machine 1 two messages a second (each peer
        // sends it 1 in 10 ticks and broadcasts 1 in 10) when it sends little itself: at 0.5
        // ticks/s its queue grows by about 1.5 a second.
        let m = model(Swept::SlowRate);
        let trials = [
            StudyFigures {
                queue_peak: 90.0,
                final_drift: 270.0,
                max_jump: 8.0,
                first_final_queue: 95.0,
            },
            StudyFigures {
                queue_peak: 100.0,
                final_drift: 290.0,
                max_jump: 10.0,
                first_final_queue: 97.0,
            },
        ];
        let row = SweepRow::of(&m, 0.5, &trials);
        assert_eq!((row.slow_rate, row.action_range), (0.5, 10));
        assert_eq!(row.arrivals, predicted_arrivals(&[0.5, 6.0, 6.0], 10, 0));
        assert_eq!(row.growth, (row.arrivals - 0.5) * 60.0);
        assert_eq!(row.queue_peak.mean, 95.0);
        assert_eq!(row.slow_final_queue.mean, 96.0);
        assert_eq!(row.final_drift.mean, 280.0);
        assert_eq!(row.max_jump, mean_std(&[8.0, 10.0]));
        // A rate above the arrivals predicts no growth.
        assert_eq!(SweepRow::of(&m, 6.0, &trials).growth, 0.0);
    }
}
