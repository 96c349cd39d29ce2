//! What the model predicts about queues, from the rates and the action range alone: the messages
//! per second each machine receives in the steady state, and where a slow machine's queue starts
//! to grow without bound (docs/ANALYSIS.md, "Expected queue behaviour").

/// The messages per second machine `index` (0-based) receives, in the steady state of the model.
///
/// A machine j draws r from 1..=R only on a tick with an empty queue, and sends a given other
/// machine a message when r names it (1 chance in R) or when r = N, a broadcast (1 chance in R),
/// whatever N is. So machine i receives `arrivals_i = sum over j != i of rate_j * idle_j * 2 / R`,
/// where `idle_j`, the share of j's ticks that find its queue empty, is
/// `1 - min(1, arrivals_j / rate_j)`: a machine that receives faster than it ticks is never idle
/// and sends nothing. The fixed point is found by damped iteration from "everyone idle" (the
/// undamped map swings between its extremes when many machines share a small R); the first step
/// alone is the first-order estimate `sum rate_j * 2 / R`.
pub fn predicted_arrivals(rates: &[f64], action_range: u32, index: usize) -> f64 {
    /// How far each step moves towards the map's answer: below 2 / (1 + (N - 1) * 2 / R), which
    /// is at least 2/3 since R >= N, so the iteration contracts.
    const DAMPING: f64 = 0.5;
    let per_tick = 2.0 / f64::from(action_range);
    let sent = |idle: &[f64]| -> Vec<f64> {
        rates
            .iter()
            .zip(idle)
            .map(|(rate, idle)| rate * idle * per_tick)
            .collect()
    };
    // What machine i receives: everything sent, less what it sends itself.
    let arrivals = |sent: &[f64], i: usize| sent.iter().sum::<f64>() - sent[i];
    let mut idle = vec![1.0; rates.len()];
    for _ in 0..10_000 {
        let out = sent(&idle);
        let mut moved = 0.0f64;
        for (i, idle_i) in idle.iter_mut().enumerate() {
            let target = 1.0 - (arrivals(&out, i) / rates[i]).min(1.0);
            let next = *idle_i + DAMPING * (target - *idle_i);
            moved = moved.max((next - *idle_i).abs());
            *idle_i = next;
        }
        if moved < 1e-12 {
            break;
        }
    }
    arrivals(&sent(&idle), index)
}

/// Where `excess(x)` (arrivals minus rate, falling as `x` rises) crosses 0 between `lo` and `hi`:
/// the queue-stability boundary of a swept value, found by bisection to within 1e-9 of the range.
/// `None` when it does not change sign in the range (the queue grows throughout, or never).
pub fn stability_boundary(lo: f64, hi: f64, excess: impl Fn(f64) -> f64) -> Option<f64> {
    let (mut a, mut b) = (lo, hi);
    let (fa, fb) = (excess(a), excess(b));
    if !(fa > 0.0 && fb <= 0.0) {
        return None;
    }
    while b - a > 1e-9 * (hi - lo).max(1e-9) {
        let mid = 0.5 * (a + b);
        if excess(mid) > 0.0 {
            a = mid;
        } else {
            b = mid;
        }
    }
    Some(0.5 * (a + b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicted_arrivals_count_only_idle_ticks() {
        // Two peers at 6 ticks/s, R = 10, machine 1 overloaded (never idle): each peer receives
        // 1.2 * idle from the other, so idle = 1 - 0.2 idle = 5/6, and machine 1 receives
        // 2 * 6 * (5/6) * 0.2 = 2 messages a second.
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 10, 0) - 2.0).abs() < 1e-9);
        // A peer receives 1.2 * 5/6 = 1 from the other peer and nothing from machine 1.
        assert!((predicted_arrivals(&[1.0, 6.0, 6.0], 10, 1) - 1.0).abs() < 1e-9);
        // Everyone fast and equal: nobody is overloaded; a = 2 * 6 * 0.2 * (1 - a / 6).
        let a = predicted_arrivals(&[6.0, 6.0, 6.0], 10, 0);
        assert!((a - 2.4 * (1.0 - a / 6.0)).abs() < 1e-9, "{a}");
        assert!((a - 2.4 / 1.4).abs() < 1e-9, "{a}");
        // Many machines on a small R, where the undamped map swings: a = 8 f, f = 1 - 8 f / 6.
        let a = predicted_arrivals(&[6.0, 6.0, 6.0], 3, 0);
        assert!((a - 24.0 / 7.0).abs() < 1e-9, "{a}");
        let mut thirty = vec![6.0; 30];
        thirty[0] = 1.0;
        let a = predicted_arrivals(&thirty, 30, 0);
        assert!(a > 1.0 && a < 6.0, "{a}");
    }

    #[test]
    fn the_boundary_is_where_arrivals_meet_the_slow_rate() {
        // Two peers at 6 ticks/s, R = 10: machine 1 receives 2 messages a second while it is
        // overloaded, so its queue grows below a rate of 2 and the boundary is at 2.
        let excess = |rate: f64| predicted_arrivals(&[rate, 6.0, 6.0], 10, 0) - rate;
        let b = stability_boundary(0.5, 6.0, excess).unwrap();
        assert!((b - 2.0).abs() < 1e-6, "{b}");
        // No crossing in a range that is all above it, or all below.
        assert_eq!(stability_boundary(3.0, 6.0, excess), None);
        assert_eq!(stability_boundary(0.5, 1.5, excess), None);
    }
}
