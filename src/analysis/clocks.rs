//! The reconstructed clocks of a trial as `analyze` reports them: the vector clock figures of
//! [`causality`](super::causality) and the hybrid logical clocks of [`hlc`](super::hlc), side by
//! side (the one module that uses both, so that neither needs the other).

use super::causality::CausalFigures;
use super::hlc::HlcMachine;
#[cfg(test)]
use super::{
    TrialInput,
    causality::{Causality, figures, reconstruct},
    hlc,
};

/// The causality figures and hybrid clocks of one trial, as `analyze` reports them.
#[derive(Clone, Debug, PartialEq)]
pub struct TrialCausality {
    /// Concurrency, false orderings and the longest chain.
    pub figures: CausalFigures,
    /// Each machine's hybrid logical clock figures, in trial order.
    pub hlc: Vec<HlcMachine>,
}

impl TrialCausality {
    /// The largest drift of any machine's hybrid clock from its wall clock, milliseconds.
    pub fn hlc_drift_max_ms(&self) -> Option<f64> {
        self.hlc
            .iter()
            .map(|h| h.drift_max_us)
            .max()
            .map(|us| us as f64 / 1e3)
    }

    /// The largest drift at a machine's last event, milliseconds.
    pub fn hlc_drift_final_ms(&self) -> Option<f64> {
        self.hlc
            .iter()
            .map(|h| h.drift_final_us)
            .max()
            .map(|us| us as f64 / 1e3)
    }

    /// The largest counter of any machine's hybrid clock.
    pub fn hlc_counter_max(&self) -> Option<f64> {
        self.hlc.iter().map(|h| h.counter_max).max().map(f64::from)
    }
}

/// Vector clocks, their figures and the hybrid clocks of `trial`; `None` when it is too large
/// ([`MAX_ENTRIES`](super::causality::MAX_ENTRIES) entries).
#[cfg(test)]
pub fn analyze(trial: &TrialInput) -> Option<TrialCausality> {
    analyze_with(trial, reconstruct(trial).as_ref())
}

/// [`analyze`] with the trial's vector clocks already reconstructed (`None` when too large).
#[cfg(test)]
pub fn analyze_with(trial: &TrialInput, c: Option<&Causality>) -> Option<TrialCausality> {
    let c = c?;
    let stamps = hlc::timestamps(trial, c);
    Some(TrialCausality {
        figures: figures(trial, c),
        hlc: hlc::machine_figures(trial, &stamps),
    })
}
