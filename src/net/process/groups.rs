//! How `run` spreads a trial's machines over client processes: one process per machine up to
//! [`ALONE_UP_TO`] machines, above that groups of consecutive machines that one `clocklab client
//! --machines-per-process K` carries on one event loop (each machine still with its own
//! connection, log and summary).
//!
//! Why one process per machine by default: it is the model as a reader pictures it (a machine
//! is a process, a `pause` stops exactly it, a crash takes down exactly it), and up to 64
//! machines it costs little. Above that, every process is a scheduler entity woken at its
//! deadlines, a stderr pipe and a thread in `run`, and 1-2 MB of memory; on a 2-vCPU host
//! a thousand processes woken at one instant make the ticks wait for the scheduler. Grouping
//! keeps the router's view (a thousand connections) and the files the same.

use std::ops::Range;

/// Up to this many machines, each has a process of its own unless told otherwise; above it, the
/// default groups them into at most this many processes.
pub const ALONE_UP_TO: usize = 64;

/// The default number of machines per process for `machines` machines.
pub fn default_per_process(machines: usize) -> usize {
    machines.div_ceil(ALONE_UP_TO).max(1)
}

/// The machines (indices into `names`, machine id minus one) of each client process, in order:
/// consecutive machines, at most `per_process` a group, that a grouped client can name, that is
/// `ADDRESS:PORT`, `ADDRESS:PORT+1`, ... with one address. A machine for which `alone(i)` is
/// true (one a `pause` or `clock` fault names: a pause stops a whole process, a clock is set per
/// process) has a group of its own, and so has a name that is not `ADDRESS:PORT`.
pub fn group_machines(
    names: &[String],
    per_process: usize,
    alone: impl Fn(usize) -> bool,
) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    let mut open = false;
    for (i, name) in names.iter().enumerate() {
        let solo = alone(i) || split(name).is_none();
        let joins = open
            && !solo
            && groups
                .last()
                .is_some_and(|g| g.len() < per_process && follows(&names[g.end - 1], name));
        match groups.last_mut() {
            Some(g) if joins => g.end = i + 1,
            _ => groups.push(i..i + 1),
        }
        open = !solo;
    }
    groups
}

/// `ADDRESS:PORT` split, if that is what the name is.
pub fn split(name: &str) -> Option<(&str, u16)> {
    let (host, port) = name.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

/// Whether `next` is `previous` with the port one higher.
fn follows(previous: &str, next: &str) -> bool {
    match (split(previous), split(next)) {
        (Some((a, p)), Some((b, q))) => a == b && p.checked_add(1) == Some(q),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_default_is_one_process_each_up_to_64_machines_then_64_processes_at_most() {
        assert_eq!(default_per_process(3), 1);
        assert_eq!(default_per_process(64), 1);
        assert_eq!(default_per_process(65), 2);
        assert_eq!(default_per_process(256), 4);
        assert_eq!(default_per_process(1000), 16);
        let n: Vec<String> = (0..1000).map(|i| format!("h:{}", 8001 + i)).collect();
        let groups = group_machines(&n, default_per_process(1000), |_| false);
        assert_eq!(groups.len(), 63);
        assert_eq!((groups[0].clone(), groups[62].clone()), (0..16, 992..1000));
    }

    #[test]
    fn groups_are_consecutive_ports_of_one_address_and_faulted_machines_are_alone() {
        let n = names(&[
            "a:1", "a:2", "a:3", "a:4", "a:5", "b:6", "b:7", "b:9", "alice",
        ]);
        assert_eq!(
            group_machines(&n, 2, |_| false),
            [0..2, 2..4, 4..5, 5..7, 7..8, 8..9]
        );
        assert_eq!(
            group_machines(&n, 10, |i| i == 2),
            [0..2, 2..3, 3..5, 5..7, 7..8, 8..9]
        );
        assert_eq!(group_machines(&n, 1, |_| false).len(), n.len());
        assert_eq!(
            group_machines(&names(&["a:65535", "a:0"]), 4, |_| false).len(),
            2
        );
    }
}
