//! Exact points: every share is a whole number of hundredths of a point.
//!
//! A stage's points are shared among its tests by weight with the largest-remainder method, in
//! hundredths: the shares add up exactly to the stage's points (`10` over three equal tests is
//! `3.34 + 3.33 + 3.33`; over two it is `5 + 5`), so a finished stage scores exactly its points
//! and the stages add up exactly to the course's maximum. Sums are taken in integers and turned
//! into `f64` once (`cents as f64 / 100.0` is the double nearest the decimal, which JSON
//! writes back as that decimal): no report ever shows `9.999999999999998`.
//!
//! This is the one points model: the status screen, `run`, `watch`, every report and the
//! gradebook all count with it, so `cargo xtask` and `cargo xtask grade` agree to the
//! hundredth. The order of the tests matters only for ties (the earlier test gets the extra
//! hundredth): everyone passes the tests in the order `testscan` finds them.

use super::{Stage, TestId};

/// A test's weight: its `[weights]` entry in `exercise.toml`, else 1.
pub fn weight(stage: &Stage, id: &TestId) -> f64 {
    stage.weights.get(&id.to_string()).copied().unwrap_or(1.0)
}

/// Each test's share of the stage's points, in hundredths, in the order given.
pub fn shares(stage: &Stage, tests: &[TestId]) -> Vec<i64> {
    let weights: Vec<f64> = tests.iter().map(|id| weight(stage, id)).collect();
    distribute(to_cents(stage.points), &weights)
}

/// Hundredths earned: the shares (over every test in `tests`) of those for which `passed`
/// holds and `counted` (a part, say) holds too.
pub fn earned_cents(
    stage: &Stage,
    tests: &[TestId],
    counted: impl Fn(&TestId) -> bool,
    passed: impl Fn(&TestId) -> bool,
) -> i64 {
    tests
        .iter()
        .zip(shares(stage, tests))
        .filter(|(id, _)| counted(id) && passed(id))
        .map(|(_, cents)| cents)
        .sum()
}

/// Points earned: the stage's points shared among `tests` (exactly as the grade shares them),
/// summed over those that passed.
pub fn earned(stage: &Stage, tests: &[TestId], passed: impl Fn(&TestId) -> bool) -> f64 {
    from_cents(earned_cents(stage, tests, |_| true, passed))
}

/// Points as whole hundredths (points are declared with at most two decimals).
pub fn to_cents(points: f64) -> i64 {
    (points * 100.0).round() as i64
}

pub fn from_cents(cents: i64) -> f64 {
    cents as f64 / 100.0
}

/// `total` hundredths shared by `weights`: floors of the exact quotas, then one more hundredth
/// to the largest remainders (ties: the earlier test). Zero weights get zero.
pub fn distribute(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().filter(|w| **w > 0.0).sum();
    if weights.is_empty() || sum <= 0.0 || total <= 0 {
        return vec![0; weights.len()];
    }
    let quotas: Vec<f64> = weights
        .iter()
        .map(|w| {
            if *w > 0.0 {
                total as f64 * w / sum
            } else {
                0.0
            }
        })
        .collect();
    // A quota within a rounding error of a whole number is that number (10 * 1/2 = 5).
    let mut shares: Vec<i64> = quotas.iter().map(|q| (q + 1e-9).floor() as i64).collect();
    let mut left = total - shares.iter().sum::<i64>();
    let mut order: Vec<usize> = (0..weights.len()).filter(|&i| weights[i] > 0.0).collect();
    order.sort_by(|&a, &b| {
        let ra = quotas[a] - shares[a] as f64;
        let rb = quotas[b] - shares[b] as f64;
        rb.partial_cmp(&ra)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.cmp(&b))
    });
    for &i in order.iter().cycle() {
        if left <= 0 {
            break;
        }
        shares[i] += 1;
        left -= 1;
    }
    while left < 0 {
        // Only reachable through the epsilon above: take back from the last positive share.
        if let Some(i) = (0..shares.len()).rev().find(|&i| shares[i] > 0) {
            shares[i] -= 1;
        }
        left += 1;
    }
    shares
}

/// Points as people write them: `10`, `3.5`, `3.34`.
pub fn show(points: f64) -> String {
    let cents = to_cents(points);
    let sign = if cents < 0 { "-" } else { "" };
    let (whole, frac) = (cents.abs() / 100, cents.abs() % 100);
    match frac {
        0 => format!("{sign}{whole}"),
        f if f % 10 == 0 => format!("{sign}{whole}.{}", f / 10),
        f => format!("{sign}{whole}.{f:02}"),
    }
}

/// Scores for a consumer that adds them up as `f64` from left to right (GitHub Classroom's
/// reporter): each value is nudged by a few ulps, if needed, so that every running sum is
/// exactly the double of the decimal total so far; the last sum is then the exact total.
pub fn for_float_sum(cents: &[i64], start_cents: i64) -> Vec<f64> {
    let mut acc_cents = start_cents;
    let mut acc = from_cents(acc_cents);
    let mut out = Vec::with_capacity(cents.len());
    for &c in cents {
        acc_cents += c;
        let target = from_cents(acc_cents);
        let mut value = target - acc;
        for _ in 0..64 {
            let sum = acc + value;
            if sum == target {
                break;
            }
            value = if sum < target {
                value.next_up()
            } else {
                value.next_down()
            };
        }
        if c == 0 {
            value = 0.0;
        }
        acc += value;
        out.push(value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_add_up_to_the_stage() {
        assert_eq!(distribute(1000, &[1.0, 1.0, 1.0]), vec![334, 333, 333]);
        assert_eq!(distribute(1000, &[1.0, 1.0]), vec![500, 500]);
        assert_eq!(distribute(1000, &[2.0, 1.0, 1.0]), vec![500, 250, 250]);
        assert_eq!(distribute(1500, &[1.0; 7]).iter().sum::<i64>(), 1500);
        assert_eq!(distribute(0, &[1.0, 1.0]), vec![0, 0]);
        assert_eq!(distribute(100, &[]), Vec::<i64>::new());
        for n in 1..60 {
            for total in [100, 1000, 1500, 2000, 333] {
                let shares = distribute(total, &vec![1.0; n]);
                assert_eq!(shares.iter().sum::<i64>(), total, "{total} over {n}");
                let (lo, hi) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
                assert!(hi - lo <= 1, "{total} over {n}: {shares:?}");
            }
        }
    }

    #[test]
    fn points_are_shown_without_noise() {
        assert_eq!(show(10.0), "10");
        assert_eq!(show(3.34), "3.34");
        assert_eq!(show(3.5), "3.5");
        assert_eq!(show(9.999_999_999_999_998), "10");
        assert_eq!(from_cents(334 + 333 + 333), 10.0);
        assert_eq!(serde_json::to_string(&from_cents(333)).unwrap(), "3.33");
    }

    #[test]
    fn running_float_sums_land_on_the_decimal_totals() {
        let cents: Vec<i64> = distribute(1000, &[1.0; 7])
            .into_iter()
            .chain(distribute(1500, &[1.0; 13]))
            .chain([0, 0, 10, 20, 30])
            .collect();
        let values = for_float_sum(&cents, 0);
        let mut acc = 0.0;
        let mut acc_cents = 0;
        for (v, c) in values.iter().zip(&cents) {
            acc += v;
            acc_cents += c;
            assert_eq!(acc, from_cents(acc_cents));
        }
    }
}
