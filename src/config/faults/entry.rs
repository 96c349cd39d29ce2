//! One entry of a fault plan checked against the run, field by field, into a [`Fault`]: the
//! rules of each kind, and the error that names the field and what is allowed.

use super::{Fault, FaultSpec, clock_skew, invalid, listed};
use crate::config::validate::{fmt_num, fmt_str};
use crate::config::{ConfigError, Latency, MAX_SECONDS};
use crate::core::fault::{Link, PartitionMode, Window};

/// One entry being checked: where it is, its kind and the run it is checked against.
pub(super) struct Entry<'a> {
    pub(super) spec: &'a FaultSpec,
    pub(super) origin: &'a str,
    pub(super) index: usize,
    pub(super) kind: &'static str,
    /// The fields its kind needs.
    pub(super) needs: &'static [&'static str],
    pub(super) machines: u16,
    pub(super) duration: f64,
}

impl Entry<'_> {
    /// `field` of this entry holds `value`, which is not allowed.
    pub(super) fn bad(&self, field: &str, value: String, allowed: String) -> ConfigError {
        invalid(self.origin, self.index, field, value, allowed)
    }

    /// `value` of `field`, which the kind needs.
    pub(super) fn given<T>(&self, value: Option<T>, field: &str) -> Result<T, ConfigError> {
        value.ok_or_else(|| ConfigError::Field {
            origin: self.origin.to_owned(),
            field: format!("faults[{}].{field}", self.index),
            problem: "missing".to_owned(),
            allowed: format!("a {} fault needs {}", self.kind, listed(self.needs)),
        })
    }

    /// `id`, in `field`, as the id of one of the run's machines.
    pub(super) fn machine(&self, field: &str, id: i64) -> Result<u16, ConfigError> {
        let machines = self.machines;
        u16::try_from(id)
            .ok()
            .filter(|id| (1..=machines).contains(id))
            .ok_or_else(|| {
                let allowed = format!("a machine id from 1 to {machines} (machines.count)");
                self.bad(field, id.to_string(), allowed)
            })
    }

    /// `from` and `to`, a window within the trial that is not empty.
    pub(super) fn window(&self) -> Result<Window, ConfigError> {
        let from = self.given(self.spec.from, "from")?;
        let to = self.given(self.spec.to, "to")?;
        let (limit, duration) = (self.duration.min(MAX_SECONDS), fmt_num(self.duration));
        if !(from >= 0.0 && from < limit) {
            let allowed = format!(
                "a window starts in the trial: at least 0 and before run.duration ({duration})"
            );
            return Err(self.bad("from", fmt_num(from), allowed));
        }
        if !(to > from && to <= limit) {
            let allowed = format!(
                "a window ends after its start ({}) and at most at run.duration ({duration})",
                fmt_num(from)
            );
            return Err(self.bad("to", fmt_num(to), allowed));
        }
        Ok(Window::from_secs(from, to))
    }

    pub(super) fn delay(&self) -> Result<Fault, ConfigError> {
        let (spec, machines) = (self.spec, self.machines);
        let text = self.given(spec.link.as_deref(), "link")?;
        let refused = || {
            let allowed = format!(
                "a link is \"A->B\", A and B two machine ids from 1 to {machines} or * for any, \
                 e.g. \"1->3\" or \"*->2\""
            );
            self.bad("link", fmt_str(text), allowed)
        };
        let link: Link = text.parse().map_err(|_| refused())?;
        let exists = |id: Option<u16>| id.is_none_or(|id| (1..=machines).contains(&id));
        if !exists(link.from) || !exists(link.to) || (link.from.is_some() && link.from == link.to) {
            return Err(refused());
        }
        let window = self.window()?;
        let text = self.given(spec.latency.as_deref(), "latency")?;
        let latency = text
            .parse::<Latency>()
            .map_err(|e| self.bad("latency", fmt_str(text), e.to_string()))?;
        Ok(Fault::Delay {
            link,
            window,
            latency,
        })
    }

    pub(super) fn partition(&self) -> Result<Fault, ConfigError> {
        let written = self.given(self.spec.groups.as_ref(), "groups")?;
        let mut groups: Vec<Vec<u16>> = Vec::with_capacity(written.len());
        for (g, group) in written.iter().enumerate() {
            let mut ids = Vec::with_capacity(group.len());
            for (k, &id) in group.iter().enumerate() {
                let field = format!("groups[{g}][{k}]");
                let id = self.machine(&field, id)?;
                if let Some(h) = groups.iter().chain([&ids]).position(|h| h.contains(&id)) {
                    let allowed = format!("a machine is in one group only, and groups[{h}] has it");
                    return Err(self.bad(&field, id.to_string(), allowed));
                }
                ids.push(id);
            }
            groups.push(ids);
        }
        if groups.iter().filter(|g| !g.is_empty()).count() < 2 {
            let allowed = "a partition has two or more groups of machine ids, e.g. [[1, 2], [3]]";
            return Err(self.bad("groups", format!("{written:?}"), allowed.to_owned()));
        }
        let window = self.window()?;
        let mode = match self.spec.mode.as_deref() {
            None => PartitionMode::default(),
            Some(word) => PartitionMode::from_word(word).ok_or_else(|| {
                let allowed = "hold (the default: frames are released in order when the window \
                               ends) or drop";
                self.bad("mode", fmt_str(word), allowed.to_owned())
            })?,
        };
        Ok(Fault::Partition {
            groups,
            window,
            mode,
        })
    }

    pub(super) fn clock(&self) -> Result<Fault, ConfigError> {
        let machine = self.machine("machine", self.given(self.spec.machine, "machine")?)?;
        let (offset_ms, drift_ppm) = (
            self.spec.offset_ms.unwrap_or(0.0),
            self.spec.drift_ppm.unwrap_or(0.0),
        );
        let skew = clock_skew(offset_ms, drift_ppm).map_err(|(field, allowed)| {
            let value = if field == "offset_ms" {
                offset_ms
            } else {
                drift_ppm
            };
            self.bad(field, fmt_num(value), allowed)
        })?;
        Ok(Fault::Clock { machine, skew })
    }
}
