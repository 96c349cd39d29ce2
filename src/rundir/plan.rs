//! What a trial is before it runs: its number, directory and seed, and its machines by id (names
//! sorted, rates from the configuration, seeds derived from the trial's). `run` and `simulate`
//! both start from it, and `run.yaml` records it ([`TrialPlan::record`]).

use std::path::{Path, PathBuf};

use super::dirs::trial_dir_and_seed;
use super::records::{MachineRecord, RunRecord};
use crate::config::Config;
use crate::core::seed::{self, Stream};

/// One trial of a run, as planned.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialPlan {
    /// Its number, from 1.
    pub trial: u32,
    /// How many trials the run has.
    pub trials: u32,
    /// The run's master seed.
    pub master_seed: u64,
    /// The trial's seed.
    pub seed: u64,
    /// Its directory.
    pub dir: PathBuf,
    /// The machines' names by id (index 0 is machine 1): sorted, as the router gives ids.
    pub names: Vec<String>,
    /// The machines' tick rates by id.
    pub rates: Vec<f64>,
}

impl TrialPlan {
    /// Trial `k` of the run in `run_dir` with master seed `master` under `config` (validated).
    pub fn new(config: &Config, run_dir: &Path, master: u64, k: u32) -> TrialPlan {
        let trials = config.run.trials;
        let (dir, seed) = trial_dir_and_seed(run_dir, master, k, trials);
        let mut names = config.machine_names();
        // Ids go by sorted name; rates and seeds are by id.
        names.sort();
        TrialPlan {
            trial: k,
            trials,
            master_seed: master,
            seed,
            dir,
            names,
            rates: config.machine_rates(seed),
        }
    }

    /// The one trial of a run started by hand (`clocklab server` and `clocklab client`s) in
    /// `dir`: trial 1 of 1, `seed` both the run's and the trial's (the seed the router sends in
    /// WELCOME), the machines the router named by id, and the rates a client takes from
    /// `config` (the rate a machine actually ran at is in its summary).
    pub fn by_hand(config: &Config, dir: &Path, seed: u64, names: &[String]) -> TrialPlan {
        TrialPlan {
            trial: 1,
            trials: 1,
            master_seed: seed,
            seed,
            dir: dir.to_path_buf(),
            names: names.to_vec(),
            rates: config.machine_rates(seed),
        }
    }

    /// The record of this trial under `config` before it runs: a trial of processes, with event
    /// logs, its machines without summaries, nothing started, stopped or recorded yet. The driver
    /// fills in what happened (struct update syntax reads best).
    pub fn record(&self, config: &Config) -> RunRecord {
        RunRecord {
            clocklab_version: env!("CARGO_PKG_VERSION").into(),
            simulated: false,
            logs: true,
            latency: None,
            tick_lateness: None,
            timing_from: None,
            trial: self.trial,
            trials: self.trials,
            master_seed: self.master_seed,
            seed: self.seed,
            config: config.clone(),
            duration: config.run.duration,
            start_time_ns: None,
            stop_time_ns: 0,
            interrupted: false,
            machines: self.machines(),
            router: None,
            processes: Vec::new(),
        }
    }

    /// Machine `id`'s own seed.
    pub fn machine_seed(&self, id: u16) -> u64 {
        seed::derive(self.seed, Stream::Machine(id))
    }

    /// The machines as `run.yaml` records them, without their summaries.
    pub fn machines(&self) -> Vec<MachineRecord> {
        self.names
            .iter()
            .zip(&self.rates)
            .enumerate()
            .map(|(i, (name, &rate))| {
                let id = i as u16 + 1;
                MachineRecord {
                    id,
                    name: name.clone(),
                    rate,
                    seed: self.machine_seed(id),
                    summary: None,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Rates;

    #[test]
    fn ids_go_by_sorted_name_with_rates_by_id_and_derived_seeds() {
        let mut config = Config::default();
        config.machines.count = 3;
        config.machines.names = Some(vec!["c:3".into(), "a:1".into(), "b:2".into()]);
        config.machines.rates = Rates::List(vec![1.0, 2.0, 3.0]);
        config.run.trials = 2;
        let plan = TrialPlan::new(&config, Path::new("r"), 9, 2);
        assert_eq!((plan.trial, plan.trials, plan.master_seed), (2, 2, 9));
        assert_eq!(plan.seed, seed::derive(9, Stream::Trial(2)));
        assert_eq!(plan.dir, Path::new("r/trial-2"));
        let machines = plan.machines();
        let got: Vec<(u16, &str, f64)> = machines
            .iter()
            .map(|m| (m.id, m.name.as_str(), m.rate))
            .collect();
        assert_eq!(got, [(1, "a:1", 1.0), (2, "b:2", 2.0), (3, "c:3", 3.0)]);
        assert_eq!(
            machines[2].seed,
            seed::derive(plan.seed, Stream::Machine(3))
        );
        assert!(machines.iter().all(|m| m.summary.is_none()));
    }

    #[test]
    fn a_run_by_hand_is_one_trial_of_the_routers_seed_and_names() {
        let mut config = Config::default();
        config.machines.count = 2;
        config.machines.rates = Rates::List(vec![1.0, 3.0]);
        let names = vec!["127.0.0.1:8001".to_owned(), "127.0.0.1:8002".to_owned()];
        let plan = TrialPlan::by_hand(&config, Path::new("logs/x"), 7, &names);
        let record = plan.record(&config);
        assert_eq!((record.trial, record.trials), (1, 1));
        assert_eq!((record.master_seed, record.seed), (7, 7));
        let got: Vec<(u16, &str, f64)> = record
            .machines
            .iter()
            .map(|m| (m.id, m.name.as_str(), m.rate))
            .collect();
        assert_eq!(
            got,
            [(1, "127.0.0.1:8001", 1.0), (2, "127.0.0.1:8002", 3.0)]
        );
        // Each machine's seed is the one its client derives from WELCOME's seed.
        assert_eq!(record.machines[1].seed, seed::derive(7, Stream::Machine(2)));
    }
}
