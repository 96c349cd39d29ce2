//! The trial runner: a command's independent trials on a pool of threads of its own (`--jobs`),
//! their results handed back in trial order, and which shard of a run this process takes
//! (`--shard I/N`, or `auto/N` from a cluster's array index).
//!
//! Each trial is a pure function of its options and seed, and writes only into its own
//! directory; whatever a command prints or writes for the whole run it does in `take`, which sees
//! the results in trial order. So the output is the same, byte for byte, whatever the number of
//! jobs.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;

use crate::cli::args::{JobsArgs, ShardArg, ShardIndex};
use crate::cli::common::Failure;
use crate::rundir::shard::Shard;

/// How many trials to run at once: `--jobs`, or every core this process may use.
pub fn jobs(args: &JobsArgs) -> usize {
    match args.jobs {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(1, usize::from),
    }
}

/// Runs `work` on every item, `jobs` at a time on a pool of that many threads (one: one after
/// another on this thread), and hands each result to `take` in the order of `items`, as soon as
/// those before it have been taken. The first error in that order stops the run: no trial
/// starts after it, and it is returned.
pub fn in_order<T, R, W, K>(jobs: usize, items: Vec<T>, work: W, mut take: K) -> Result<(), Failure>
where
    T: Send,
    R: Send,
    W: Fn(T) -> Result<R, Failure> + Sync,
    K: FnMut(R) -> Result<(), Failure>,
{
    if jobs <= 1 || items.len() <= 1 {
        return items.into_iter().try_for_each(|item| take(work(item)?));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs.min(items.len()))
        .thread_name(|i| format!("trial-worker-{i}"))
        .build()
        .map_err(|e| format!("--jobs {jobs}: cannot start the worker threads: {e}"))?;
    let stop = AtomicBool::new(false);
    let (tx, rx) = mpsc::channel::<(usize, Result<R, Failure>)>();
    pool.in_place_scope_fifo(|scope| {
        for (i, item) in items.into_iter().enumerate() {
            let (tx, work, stop) = (tx.clone(), &work, &stop);
            scope.spawn_fifo(move |_| {
                if !stop.load(Ordering::Relaxed) {
                    // The receiver outlives every sender: it is read until they are all gone.
                    let _ = tx.send((i, work(item)));
                }
            });
        }
        drop(tx);
        let mut waiting = BTreeMap::new();
        let mut next = 0;
        let mut outcome = Ok(());
        for (i, result) in rx {
            waiting.insert(i, result);
            while let Some(result) = waiting.remove(&next) {
                next += 1;
                if outcome.is_ok() {
                    outcome = result.and_then(&mut take);
                    if outcome.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
            }
        }
        outcome
    })
}

/// The shard this process runs: `--shard I/N` as given, `--shard auto/N` from the cluster's
/// index (`env` reads a variable), or the whole run.
///
/// `auto` reads, in this order: `SLURM_ARRAY_TASK_ID`, counted from `SLURM_ARRAY_TASK_MIN`
/// (so `--array=1-N` and `--array=0-(N-1)` both give shards 1 to N); then Kubernetes'
/// `JOB_COMPLETION_INDEX`, which counts from 0 (shard = index + 1).
pub fn shard(
    arg: Option<&ShardArg>,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Shard, Failure> {
    let Some(arg) = arg else {
        return Ok(Shard::WHOLE);
    };
    let count = arg.count;
    let number = |var: &str, text: String| {
        text.trim()
            .parse::<i64>()
            .map_err(|_| format!("--shard auto/{count}: {var} is {text:?}, not a whole number"))
    };
    let (index, from) = match arg.index {
        ShardIndex::Given(i) => (i64::from(i), String::new()),
        ShardIndex::Auto => {
            if let Some(id) = env("SLURM_ARRAY_TASK_ID") {
                let id = number("SLURM_ARRAY_TASK_ID", id)?;
                let min = match env("SLURM_ARRAY_TASK_MIN") {
                    Some(min) => number("SLURM_ARRAY_TASK_MIN", min)?,
                    None => 1,
                };
                (
                    id - min + 1,
                    format!(" (SLURM_ARRAY_TASK_ID {id}, counted from SLURM_ARRAY_TASK_MIN {min})"),
                )
            } else if let Some(index) = env("JOB_COMPLETION_INDEX") {
                let index = number("JOB_COMPLETION_INDEX", index)?;
                (
                    index + 1,
                    format!(" (JOB_COMPLETION_INDEX {index}, which counts from 0)"),
                )
            } else {
                return Err(format!(
                    "--shard auto/{count}: neither SLURM_ARRAY_TASK_ID (a Slurm job array) nor \
                     JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) is set; outside a cluster \
                     give the shard itself: --shard I/{count}, I from 1 to {count}"
                ));
            }
        }
    };
    if !(1..=i64::from(count)).contains(&index) {
        return Err(format!(
            "--shard: shard {index}{from} is not one of 1 to {count}: a run split into {count} \
             shards has shards 1 to {count} (a Slurm array of {count} tasks: --array=1-{count}; \
             a Kubernetes Indexed Job: completions: {count})"
        ));
    }
    Ok(Shard {
        index: index as u32,
        count,
    })
}

/// A shard of a run needs the run's seed: without one each shard would draw its own and
/// simulate a run of its own.
pub fn seed_for(shard: Shard, seed: Option<u64>) -> Result<(), Failure> {
    match seed {
        None if shard.is_part() => Err(format!(
            "--shard {shard}: give the run's seed (--seed S, or run.seed in the configuration): \
             every shard of a run must simulate it with the same seed, and a seed drawn afresh \
             would differ in each"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[test]
    fn results_come_back_in_order_whatever_the_jobs() {
        for jobs in [1, 2, 4] {
            let mut seen = Vec::new();
            // Later items finish first: the work sleeps less for them.
            in_order(
                jobs,
                (0..12u64).collect(),
                |i| {
                    std::thread::sleep(std::time::Duration::from_millis(12 - i));
                    Ok(i * 10)
                },
                |r| {
                    seen.push(r);
                    Ok(())
                },
            )
            .unwrap();
            assert_eq!(
                seen,
                (0..12).map(|i| i * 10).collect::<Vec<_>>(),
                "{jobs} jobs"
            );
        }
    }

    #[test]
    fn the_first_error_in_order_stops_the_run() {
        let started = AtomicUsize::new(0);
        let mut taken = Vec::new();
        let err = in_order(
            2,
            (0..1000u32).collect(),
            |i| {
                started.fetch_add(1, Ordering::Relaxed);
                // Each trial after the error takes a while: the run has time to stop.
                if i > 3 {
                    std::thread::sleep(std::time::Duration::from_millis(2));
                }
                if i == 3 || i == 5 {
                    Err(format!("trial {i} failed"))
                } else {
                    Ok(i)
                }
            },
            |r| {
                taken.push(r);
                Ok(())
            },
        )
        .unwrap_err();
        assert_eq!(err, "trial 3 failed");
        assert_eq!(taken, [0, 1, 2]);
        let started = started.load(Ordering::Relaxed);
        assert!(started < 100, "{started} trials started: the run went on");
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn auto_reads_slurm_from_its_minimum_and_kubernetes_from_zero() {
        let auto = ShardArg {
            index: ShardIndex::Auto,
            count: 4,
        };
        let got = |vars: &[(&str, &str)]| shard(Some(&auto), env(vars));
        assert_eq!(
            got(&[("SLURM_ARRAY_TASK_ID", "2")]),
            Ok(Shard { index: 2, count: 4 })
        );
        let zero_based = [("SLURM_ARRAY_TASK_ID", "3"), ("SLURM_ARRAY_TASK_MIN", "0")];
        assert_eq!(got(&zero_based), Ok(Shard { index: 4, count: 4 }));
        assert_eq!(
            got(&[("JOB_COMPLETION_INDEX", "0")]),
            Ok(Shard { index: 1, count: 4 })
        );
        let e = got(&[("JOB_COMPLETION_INDEX", "4")]).unwrap_err();
        assert!(
            e.contains(
                "shard 5 (JOB_COMPLETION_INDEX 4, which counts from 0) is not one of 1 to 4"
            ),
            "{e}"
        );
        let e = got(&[]).unwrap_err();
        assert!(
            e.contains("neither SLURM_ARRAY_TASK_ID") && e.contains("--shard I/4"),
            "{e}"
        );
        let e = got(&[("SLURM_ARRAY_TASK_ID", "x")]).unwrap_err();
        assert!(e.contains("SLURM_ARRAY_TASK_ID is \"x\""), "{e}");
        assert_eq!(shard(None, env(&[])), Ok(Shard::WHOLE));
    }
}
