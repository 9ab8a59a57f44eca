//! Statistics of calibration: rates with exact Poisson intervals, shares with Wilson
//! intervals, quantiles with distribution-free order-statistic intervals, empirical
//! distributions summarized as quantile points, and the log-normal fit with its Lilliefors
//! goodness-of-fit test.
//!
//! Pure functions of numbers: nothing here knows about mail or logs (the classifier counts,
//! this module turns counts and samples into estimates). Every interval is a 95% interval.

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// The standard normal's 97.5% point.
pub const Z95: f64 = 1.959_963_984_540_054;

/// An estimated value with its sample size and, where one applies, its 95% interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub value: f64,
    pub n: u64,
    pub ci95: Option<(f64, f64)>,
}

impl Estimate {
    pub fn exact(value: f64, n: u64) -> Estimate {
        Estimate {
            value,
            n,
            ci95: None,
        }
    }

    /// Whether `x` lies inside the interval (false when there is none).
    pub fn covers(&self, x: f64) -> bool {
        self.ci95.is_some_and(|(lo, hi)| lo <= x && x <= hi)
    }

    /// The estimate with value and interval multiplied by `k`.
    pub fn scaled(self, k: f64) -> Estimate {
        Estimate {
            value: self.value * k,
            n: self.n,
            ci95: self.ci95.map(|(lo, hi)| (lo * k, hi * k)),
        }
    }
}

/// `value` from `n` observations with its 95% interval on the log scale, `se` the standard
/// error of log(value) (a delta-method ratio or rate): value × exp(∓1.96 se).
pub fn log_scale(value: f64, n: u64, se: f64) -> Estimate {
    Estimate {
        value,
        n,
        ci95: Some((value * (-Z95 * se).exp(), value * (Z95 * se).exp())),
    }
}

/// A Poisson rate: `count` events over `exposure` (seconds, hours, …), with Garwood's exact
/// interval from the chi-square distribution.
pub fn poisson_rate(count: u64, exposure: f64) -> Estimate {
    let k = count as f64;
    let lo = if count == 0 {
        0.0
    } else {
        ChiSquared::new(2.0 * k)
            .expect("positive degrees of freedom")
            .inverse_cdf(0.025)
            / 2.0
    };
    let hi = ChiSquared::new(2.0 * k + 2.0)
        .expect("positive degrees of freedom")
        .inverse_cdf(0.975)
        / 2.0;
    let e = exposure.max(f64::MIN_POSITIVE);
    Estimate {
        value: k / e,
        n: count,
        ci95: Some((lo / e, hi / e)),
    }
}

/// The rate of recipient copies, `total` over `exposure`, when messages arrive as a Poisson
/// process and each brings k copies: the total is compound Poisson, var = λ·E[k²], estimated
/// by `sum_sq` = Σ k² over the messages (a Poisson interval on the copies themselves would be
/// √(E[k²]/E[k]) times too narrow, about 1.9× at the model's recipient counts). Normal
/// interval, so for totals of more than a few dozen copies.
pub fn compound_poisson_rate(total: u64, sum_sq: f64, exposure: f64) -> Estimate {
    let e = exposure.max(f64::MIN_POSITIVE);
    let k = total as f64;
    let half = Z95 * sum_sq.max(k).sqrt();
    Estimate {
        value: k / e,
        n: total,
        ci95: Some((((k - half) / e).max(0.0), (k + half) / e)),
    }
}

/// A share `k` of `n` with the Wilson score interval (good at shares near 0 or 1).
pub fn wilson(k: u64, n: u64) -> Estimate {
    if n == 0 {
        return Estimate {
            value: f64::NAN,
            n: 0,
            ci95: None,
        };
    }
    let nf = n as f64;
    let p = k as f64 / nf;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * nf)) / (1.0 + z2 / nf);
    let half = Z95 / (1.0 + z2 / nf) * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    Estimate {
        value: p,
        n,
        ci95: Some(((centre - half).max(0.0), (centre + half).min(1.0))),
    }
}

/// The `p` quantile of `sorted` (ascending) by the nearest-rank rule, with the
/// distribution-free interval between the order statistics whose ranks are
/// n·p ∓ 1.96·√(n·p·(1−p)) (the normal approximation to the binomial count below the quantile).
pub fn quantile(sorted: &[f64], p: f64) -> Estimate {
    let n = sorted.len();
    if n == 0 {
        return Estimate {
            value: f64::NAN,
            n: 0,
            ci95: None,
        };
    }
    let at = |rank: f64| {
        let i = (rank.ceil() as i64 - 1).clamp(0, n as i64 - 1) as usize;
        sorted[i]
    };
    let nf = n as f64;
    let half = Z95 * (nf * p * (1.0 - p)).sqrt();
    let lo_rank = (nf * p - half).floor();
    let hi_rank = (nf * p + half).ceil() + 1.0;
    // Ranks beyond the sample mean the interval is open on that side: no bound.
    let ci = if lo_rank < 1.0 || hi_rank > nf {
        None
    } else {
        Some((at(lo_rank), at(hi_rank)))
    };
    Estimate {
        value: at(nf * p),
        n: n as u64,
        ci95: ci,
    }
}

/// The mean of `v` with a normal-approximation interval (for large samples).
pub fn mean(v: &[f64]) -> Estimate {
    let n = v.len();
    if n == 0 {
        return Estimate {
            value: f64::NAN,
            n: 0,
            ci95: None,
        };
    }
    let m = v.iter().sum::<f64>() / n as f64;
    let ci = (n >= 2).then(|| {
        let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
        let half = Z95 * (var / n as f64).sqrt();
        (m - half, m + half)
    });
    Estimate {
        value: m,
        n: n as u64,
        ci95: ci,
    }
}

/// `points` values summarizing `sorted`: its quantiles at (i + ½) ÷ points, so that drawing
/// one of them uniformly reproduces the distribution (to 1 ÷ points in probability).
pub fn quantile_points(sorted: &[f64], points: usize) -> Vec<f64> {
    if sorted.is_empty() || points == 0 {
        return Vec::new();
    }
    if sorted.len() <= points {
        return sorted.to_vec();
    }
    (0..points)
        .map(|i| {
            let p = (i as f64 + 0.5) / points as f64;
            quantile(sorted, p).value
        })
        .collect()
}

/// A log-normal fitted by maximum likelihood (the mean and standard deviation of ln x), and
/// the Lilliefors test of normality of ln x: the Kolmogorov–Smirnov distance to the fitted
/// normal, accepted at the 5% level when it is below 0.886 ÷ √n (Lilliefors 1967, the
/// large-sample critical value for estimated mean and variance; valid for n > 30).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormalFit {
    pub median: f64,
    pub sigma: f64,
    pub n: u64,
    /// The Kolmogorov–Smirnov distance D between ln x and the fitted normal.
    pub ks_distance: f64,
    /// The 5% critical value 0.886 ÷ √n.
    pub critical: f64,
}

impl LogNormalFit {
    pub fn accepted(&self) -> bool {
        self.n > 30 && self.ks_distance < self.critical
    }
}

/// Fits a log-normal to `sorted` (ascending, all > 0); None with fewer than 2 positive values
/// or no spread.
pub fn fit_lognormal(sorted: &[f64]) -> Option<LogNormalFit> {
    let logs: Vec<f64> = sorted
        .iter()
        .filter(|x| **x > 0.0)
        .map(|x| x.ln())
        .collect();
    let n = logs.len();
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let mu = logs.iter().sum::<f64>() / nf;
    let sd = (logs.iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (nf - 1.0)).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return None;
    }
    let norm = Normal::new(mu, sd).ok()?;
    // `logs` is ascending because `sorted` is and ln is increasing. Tied values (sizes are
    // whole bytes) are compared once, at the end of the run of ties.
    let mut d: f64 = 0.0;
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && logs[j + 1] == logs[i] {
            j += 1;
        }
        let f = norm.cdf(logs[i]);
        d = d
            .max((f - i as f64 / nf).abs())
            .max(((j + 1) as f64 / nf - f).abs());
        i = j + 1;
    }
    Some(LogNormalFit {
        median: mu.exp(),
        sigma: sd,
        n: n as u64,
        ks_distance: d,
        critical: 0.886 / nf.sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::{Distribution, LogNormal, Poisson};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn sorted(mut v: Vec<f64>) -> Vec<f64> {
        v.sort_by(f64::total_cmp);
        v
    }

    #[test]
    fn poisson_interval_matches_tables() {
        // Garwood intervals for 10 events: [4.795, 18.39] (standard tables).
        let e = poisson_rate(10, 1.0);
        let (lo, hi) = e.ci95.unwrap();
        assert!(
            (lo - 4.795).abs() < 1e-3 && (hi - 18.390).abs() < 1e-3,
            "{lo} {hi}"
        );
        let e = poisson_rate(0, 2.0);
        assert_eq!(e.ci95.unwrap().0, 0.0);
        assert!((e.ci95.unwrap().1 - 3.689 / 2.0).abs() < 1e-3);
    }

    #[test]
    fn poisson_interval_covers_at_its_level() {
        // 400 draws of Poisson(50): the exact interval covers the rate in ≥ 95% of them;
        // the count of misses is Binomial(400, ≤ 0.05): mean ≤ 20, sd ≈ 4.4, so ≤ 33 misses
        // (3 sd) unless the interval is wrong.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let p = Poisson::new(50.0).unwrap();
        let misses = (0..400)
            .filter(|_| !poisson_rate(p.sample(&mut rng) as u64, 1.0).covers(50.0))
            .count();
        assert!(misses <= 33, "{misses}");
    }

    #[test]
    fn wilson_interval_matches_a_known_case() {
        // 8 of 10: Wilson 95% interval [0.490, 0.943].
        let e = wilson(8, 10);
        let (lo, hi) = e.ci95.unwrap();
        assert!(
            (lo - 0.4902).abs() < 1e-3 && (hi - 0.9433).abs() < 1e-3,
            "{lo} {hi}"
        );
        assert!(wilson(0, 0).value.is_nan());
    }

    #[test]
    fn quantile_interval_covers_the_true_quantile() {
        // 200 samples of 1000 log-normal draws: the order-statistic interval of the p90 covers
        // the true p90 (e^(1.2816·σ)) in about 95% of samples; misses ~ Binomial(200, 0.05):
        // mean 10, sd 3.1, so ≤ 20 (3 sd).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let d = LogNormal::new(0.0, 0.8).unwrap();
        let truth = (1.281_551_565_5 * 0.8f64).exp();
        let misses = (0..200)
            .filter(|_| {
                let v = sorted((0..1000).map(|_| d.sample(&mut rng)).collect());
                !quantile(&v, 0.9).covers(truth)
            })
            .count();
        assert!(misses <= 20, "{misses}");
    }

    #[test]
    fn quantile_of_small_samples() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5).value, 2.0);
        assert_eq!(quantile(&v, 1.0).value, 4.0);
        assert!(quantile(&v, 0.99).ci95.is_none());
        assert!(quantile(&[], 0.5).value.is_nan());
    }

    #[test]
    fn lognormal_fit_accepts_lognormal_and_refuses_a_mixture() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
        let d = LogNormal::new(45.49f64.ln(), 1.0).unwrap();
        let v = sorted((0..5000).map(|_| d.sample(&mut rng)).collect());
        let f = fit_lognormal(&v).unwrap();
        assert!(f.accepted(), "{f:?}");
        // Standard errors: ln median ± σ/√n = 0.014, σ ± σ/√(2n) = 0.01; 4 se bounds.
        assert!((f.median.ln() - 45.49f64.ln()).abs() < 0.06, "{f:?}");
        assert!((f.sigma - 1.0).abs() < 0.04, "{f:?}");
        // Two well-separated log-normal modes are not one log-normal.
        let a = LogNormal::new(2.0, 0.3).unwrap();
        let b = LogNormal::new(6.0, 0.3).unwrap();
        let v = sorted(
            (0..5000)
                .map(|i| {
                    if i % 2 == 0 {
                        a.sample(&mut rng)
                    } else {
                        b.sample(&mut rng)
                    }
                })
                .collect(),
        );
        assert!(!fit_lognormal(&v).unwrap().accepted());
    }

    #[test]
    fn quantile_points_reproduce_the_distribution() {
        let v: Vec<f64> = (1..=10_000).map(f64::from).collect();
        let q = quantile_points(&v, 100);
        assert_eq!(q.len(), 100);
        assert_eq!(q[0], 50.0);
        assert_eq!(q[99], 9950.0);
        assert_eq!(quantile_points(&v[..5], 100), v[..5].to_vec());
    }
}
