//! Differences between two variants of one study: the paired interval across replications and
//! the unpaired (Welch) one beside it.
//!
//! Variants of one replication replay the same arrivals (common random numbers: a unit's
//! random streams depend on the master seed and the replication index only), so replication
//! i of a variant and replication i of the baseline form a pair. The paired difference
//! d_i = x_i − b_i has a Student-t interval with n − 1 degrees of freedom (Law, *Simulation
//! Modeling and Analysis*, 5th ed., §10.2.1: the paired-t confidence interval); its variance
//! is Var(x) + Var(b) − 2 Cov(x, b), smaller than the unpaired variance whenever the pair is
//! positively correlated, which is what common random numbers buy. The Welch interval (Law
//! §10.2.2; Welch 1938) ignores the pairing and is printed beside it so the gain is visible.
//!
//! This module only computes; it prints and writes nothing.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Whether a smaller or a larger value of a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Lower,
    Higher,
}

/// What the paired interval says about a variant against the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Better,
    Worse,
    /// The interval contains 0, or there is no interval (fewer than two pairs).
    NoDifference,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Worse => "worse",
            Verdict::NoDifference => "no difference detected",
        }
    }
}

/// The difference variant − baseline of one figure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Difference {
    /// Mean of the variant's and of the baseline's values over the pairs used.
    pub variant_mean: f64,
    pub baseline_mean: f64,
    /// Mean paired difference (equal to `variant_mean − baseline_mean`).
    pub mean: f64,
    /// 95% paired-t interval of the mean difference.
    pub paired_ci95: Option<(f64, f64)>,
    /// 95% Welch interval, from the same values taken as two independent samples.
    pub unpaired_ci95: Option<(f64, f64)>,
    /// Replications where both values are finite.
    pub pairs: usize,
    pub verdict: Verdict,
}

/// t quantile 0.975 with `df` degrees of freedom.
fn t975(df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("degrees of freedom are positive")
        .inverse_cdf(0.975)
}

fn mean_var(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = if v.len() > 1 {
        v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        f64::NAN
    };
    (m, var)
}

/// Compares `variant[i]` with `baseline[i]` (replication i of each). Replications where either
/// value is not finite (a flow with no deliveries) are left out of both intervals, so the
/// paired and unpaired intervals describe the same values. None when no pair is left.
pub fn compare(variant: &[f64], baseline: &[f64], better: Better) -> Option<Difference> {
    let (xs, bs): (Vec<f64>, Vec<f64>) = variant
        .iter()
        .zip(baseline)
        .filter(|(x, b)| x.is_finite() && b.is_finite())
        .map(|(x, b)| (*x, *b))
        .unzip();
    let n = xs.len();
    if n == 0 {
        return None;
    }
    let d: Vec<f64> = xs.iter().zip(&bs).map(|(x, b)| x - b).collect();
    let (dm, dvar) = mean_var(&d);
    let (xm, xvar) = mean_var(&xs);
    let (bm, bvar) = mean_var(&bs);
    let (paired_ci95, unpaired_ci95) = if n >= 2 {
        let half = t975((n - 1) as f64) * (dvar / n as f64).sqrt();
        let nf = n as f64;
        let (sx, sb) = (xvar / nf, bvar / nf);
        let se = (sx + sb).sqrt();
        // Welch–Satterthwaite degrees of freedom; with both variances 0 the interval is a
        // point and any positive df will do.
        let df = if sx + sb > 0.0 {
            (sx + sb).powi(2) / (sx * sx / (nf - 1.0) + sb * sb / (nf - 1.0))
        } else {
            nf - 1.0
        };
        let uhalf = t975(df) * se;
        (Some((dm - half, dm + half)), Some((dm - uhalf, dm + uhalf)))
    } else {
        (None, None)
    };
    let verdict = match paired_ci95 {
        Some((lo, _)) if lo > 0.0 => match better {
            Better::Lower => Verdict::Worse,
            Better::Higher => Verdict::Better,
        },
        Some((_, hi)) if hi < 0.0 => match better {
            Better::Lower => Verdict::Better,
            Better::Higher => Verdict::Worse,
        },
        _ => Verdict::NoDifference,
    };
    Some(Difference {
        variant_mean: xm,
        baseline_mean: bm,
        mean: dm,
        paired_ci95,
        unpaired_ci95,
        pairs: n,
        verdict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_values_give_a_point_interval_at_zero() {
        let v = [3.0, 5.0, 4.0, 7.5];
        let d = compare(&v, &v, Better::Lower).unwrap();
        assert_eq!(d.mean, 0.0);
        assert_eq!(d.paired_ci95, Some((0.0, 0.0)));
        let (lo, hi) = d.unpaired_ci95.unwrap();
        assert!(lo < 0.0 && hi > 0.0);
        assert_eq!(d.verdict, Verdict::NoDifference);
    }

    /// Worked by hand: d = (2, 2.5, 3), mean 2.5, s_d = 0.5, t(0.975, 2) = 4.302653; the
    /// paired half-width is 4.302653 × 0.5 / √3 = 1.242, so the interval (1.258, 3.742)
    /// excludes 0. Welch: s_x² = 110.25, s_b² = 100, se² = 210.25 / 3,
    /// df = se⁴ / ((110.25² + 100²) / 9 / 2).
    #[test]
    fn paired_and_welch_intervals_match_hand_computation() {
        let b = [10.0, 20.0, 30.0];
        let x = [12.0, 22.5, 33.0];
        let d = compare(&x, &b, Better::Lower).unwrap();
        assert_eq!(d.mean, 2.5);
        let (lo, hi) = d.paired_ci95.unwrap();
        let half = 4.302_652_73 * 0.5 / 3f64.sqrt();
        assert!((lo - (2.5 - half)).abs() < 1e-6 && (hi - (2.5 + half)).abs() < 1e-6);
        let se2 = 210.25f64 / 3.0;
        let df = se2.powi(2) / ((110.25f64.powi(2) + 100.0f64.powi(2)) / 9.0 / 2.0);
        let t = StudentsT::new(0.0, 1.0, df).unwrap().inverse_cdf(0.975);
        let (ulo, uhi) = d.unpaired_ci95.unwrap();
        assert!((uhi - ulo - 2.0 * t * se2.sqrt()).abs() < 1e-9);
        assert!(
            ulo < 0.0,
            "unpaired, the shared spread hides the difference"
        );
        assert_eq!(d.verdict, Verdict::Worse, "the interval is above 0: slower");
        let d = compare(&b, &x, Better::Lower).unwrap();
        assert_eq!(d.verdict, Verdict::Better);
        let d = compare(&b, &x, Better::Higher).unwrap();
        assert_eq!(d.verdict, Verdict::Worse);
    }

    #[test]
    fn non_finite_replications_are_dropped_from_both() {
        let d = compare(&[1.0, f64::NAN, 3.0], &[1.0, 2.0, f64::NAN], Better::Lower).unwrap();
        assert_eq!(d.pairs, 1);
        assert!(d.paired_ci95.is_none() && d.unpaired_ci95.is_none());
        assert_eq!(d.verdict, Verdict::NoDifference);
        assert!(compare(&[f64::NAN], &[1.0], Better::Lower).is_none());
    }
}
