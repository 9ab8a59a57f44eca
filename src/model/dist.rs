//! Distributions of durations and sizes, sampled from a caller's stream.
//!
//! A `Dist` is validated once when the scenario is loaded (so sampling cannot fail) and is a
//! plain enum: sampling is a `match`, not a virtual call. Values are in the unit the owner
//! states (nanoseconds for durations, kilobytes for sizes).

use rand::Rng;
use rand_distr::{Distribution, Exp, Gamma, LogNormal, Uniform};

use crate::engine::SimRng;

/// A validated distribution over non-negative reals.
#[derive(Clone, Debug)]
pub enum Dist {
    Exponential {
        mean: f64,
        d: Exp<f64>,
    },
    /// Log-normal given by its median (`exp(mu)`) and `sigma`.
    LogNormal {
        median: f64,
        sigma: f64,
        d: LogNormal<f64>,
    },
    /// Gamma given by shape `k` and mean (`scale = mean / k`).
    Gamma {
        shape: f64,
        mean: f64,
        d: Gamma<f64>,
    },
    Deterministic {
        value: f64,
    },
    Uniform {
        min: f64,
        max: f64,
        d: Uniform<f64>,
    },
    /// Resamples a list of observations, each with equal weight.
    Empirical {
        samples: Box<[f64]>,
        mean: f64,
    },
    /// The sum of two independent draws (e.g. a link's latency plus its TLS set-up).
    Sum(Box<(Dist, Dist)>),
}

/// Why a distribution's parameters were refused; the scenario loader adds file, line, field.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DistError {
    #[error("`{0}` must be a finite number greater than zero")]
    NotPositive(&'static str),
    #[error("`{0}` must be a finite number, zero or greater")]
    Negative(&'static str),
    #[error("`min` must not exceed `max`")]
    EmptyRange,
    #[error("`samples` needs at least one value, each finite and zero or greater")]
    BadSamples,
}

fn positive(v: f64, name: &'static str) -> Result<f64, DistError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(DistError::NotPositive(name))
    }
}

fn non_negative(v: f64, name: &'static str) -> Result<f64, DistError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(DistError::Negative(name))
    }
}

impl Dist {
    pub fn exponential(mean: f64) -> Result<Self, DistError> {
        let mean = positive(mean, "mean")?;
        Ok(Dist::Exponential {
            mean,
            d: Exp::new(1.0 / mean).map_err(|_| DistError::NotPositive("mean"))?,
        })
    }

    pub fn lognormal(median: f64, sigma: f64) -> Result<Self, DistError> {
        let median = positive(median, "median")?;
        let sigma = non_negative(sigma, "sigma")?;
        let d = LogNormal::new(median.ln(), sigma).map_err(|_| DistError::Negative("sigma"))?;
        Ok(Dist::LogNormal { median, sigma, d })
    }

    pub fn gamma(shape: f64, mean: f64) -> Result<Self, DistError> {
        let shape = positive(shape, "shape")?;
        let mean = positive(mean, "mean")?;
        let d = Gamma::new(shape, mean / shape).map_err(|_| DistError::NotPositive("shape"))?;
        Ok(Dist::Gamma { shape, mean, d })
    }

    pub fn deterministic(value: f64) -> Result<Self, DistError> {
        Ok(Dist::Deterministic {
            value: non_negative(value, "value")?,
        })
    }

    pub fn uniform(min: f64, max: f64) -> Result<Self, DistError> {
        let min = non_negative(min, "min")?;
        let max = non_negative(max, "max")?;
        if min > max {
            return Err(DistError::EmptyRange);
        }
        // `Uniform::new_inclusive` accepts min == max, which is a valid degenerate choice.
        let d = Uniform::new_inclusive(min, max).map_err(|_| DistError::EmptyRange)?;
        Ok(Dist::Uniform { min, max, d })
    }

    pub fn empirical(samples: Vec<f64>) -> Result<Self, DistError> {
        if samples.is_empty() || samples.iter().any(|v| !v.is_finite() || *v < 0.0) {
            return Err(DistError::BadSamples);
        }
        let mean = samples.iter().sum::<f64>() / samples.len() as f64;
        Ok(Dist::Empirical {
            samples: samples.into_boxed_slice(),
            mean,
        })
    }

    /// As [`Dist::scaled`], or None when a parameter would leave its valid range (overflow
    /// to infinity, underflow to zero): for values from a user, before they are trusted.
    pub fn try_scaled(&self, k: f64) -> Option<Self> {
        let r = match self {
            Dist::Exponential { mean, .. } => Dist::exponential(mean * k),
            Dist::LogNormal { median, sigma, .. } => Dist::lognormal(median * k, *sigma),
            Dist::Gamma { shape, mean, .. } => Dist::gamma(*shape, mean * k),
            Dist::Deterministic { value } => Dist::deterministic(value * k),
            Dist::Uniform { min, max, .. } => Dist::uniform(min * k, max * k),
            Dist::Empirical { samples, .. } => {
                Dist::empirical(samples.iter().map(|v| v * k).collect())
            }
            Dist::Sum(parts) => Ok(Dist::Sum(Box::new((
                parts.0.try_scaled(k)?,
                parts.1.try_scaled(k)?,
            )))),
        };
        r.ok().filter(|d| d.mean().is_finite())
    }

    /// Multiplies every value by `k` (> 0): converts units, or scales a service time. For
    /// checked values only (see [`Dist::try_scaled`] for a user's).
    pub fn scaled(&self, k: f64) -> Self {
        // Parameters were valid and k > 0, so the constructors cannot fail.
        let r = match self {
            Dist::Exponential { mean, .. } => Dist::exponential(mean * k),
            Dist::LogNormal { median, sigma, .. } => Dist::lognormal(median * k, *sigma),
            Dist::Gamma { shape, mean, .. } => Dist::gamma(*shape, mean * k),
            Dist::Deterministic { value } => Dist::deterministic(value * k),
            Dist::Uniform { min, max, .. } => Dist::uniform(min * k, max * k),
            Dist::Empirical { samples, .. } => {
                Dist::empirical(samples.iter().map(|v| v * k).collect())
            }
            Dist::Sum(parts) => Ok(Dist::Sum(Box::new((parts.0.scaled(k), parts.1.scaled(k))))),
        };
        r.expect("scaling a valid distribution by a positive factor keeps it valid")
    }

    /// The mean, used for offered-load checks and theory.
    pub fn mean(&self) -> f64 {
        match self {
            Dist::Exponential { mean, .. } | Dist::Gamma { mean, .. } => *mean,
            Dist::LogNormal { median, sigma, .. } => median * (sigma * sigma / 2.0).exp(),
            Dist::Deterministic { value } => *value,
            Dist::Uniform { min, max, .. } => (min + max) / 2.0,
            Dist::Empirical { mean, .. } => *mean,
            Dist::Sum(parts) => parts.0.mean() + parts.1.mean(),
        }
    }

    /// The second moment E[X²], for Pollaczek–Khinchine-style checks.
    pub fn second_moment(&self) -> f64 {
        match self {
            Dist::Exponential { mean, .. } => 2.0 * mean * mean,
            Dist::LogNormal { median, sigma, .. } => median * median * (2.0 * sigma * sigma).exp(),
            Dist::Gamma { shape, mean, .. } => mean * mean * (1.0 + 1.0 / shape),
            Dist::Deterministic { value } => value * value,
            Dist::Uniform { min, max, .. } => (min * min + min * max + max * max) / 3.0,
            Dist::Empirical { samples, .. } => {
                samples.iter().map(|v| v * v).sum::<f64>() / samples.len() as f64
            }
            Dist::Sum(parts) => {
                let (a, b) = &**parts;
                a.second_moment() + 2.0 * a.mean() * b.mean() + b.second_moment()
            }
        }
    }

    /// Draws one value. The exponential, the common case, is drawn inline at the call site;
    /// the others through one call.
    #[inline(always)]
    pub fn sample(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Exponential { d, .. } => d.sample(rng),
            _ => self.sample_other(rng),
        }
    }

    #[inline(never)]
    fn sample_other(&self, rng: &mut SimRng) -> f64 {
        match self {
            Dist::Exponential { d, .. } => d.sample(rng),
            Dist::LogNormal { d, .. } => d.sample(rng),
            Dist::Gamma { d, .. } => d.sample(rng),
            Dist::Deterministic { value } => *value,
            Dist::Uniform { d, .. } => d.sample(rng),
            Dist::Empirical { samples, .. } => samples[rng.random_range(0..samples.len())],
            Dist::Sum(parts) => parts.0.sample(rng) + parts.1.sample(rng),
        }
    }

    /// A short description for `explain`, in the owner's unit.
    pub fn describe(&self, unit: &str) -> String {
        match self {
            Dist::Exponential { mean, .. } => format!("exponential(mean {mean:.4} {unit})"),
            Dist::LogNormal { median, sigma, .. } => {
                format!("lognormal(median {median:.4} {unit}, sigma {sigma})")
            }
            Dist::Gamma { shape, mean, .. } => {
                format!("gamma(shape {shape}, mean {mean:.4} {unit})")
            }
            Dist::Deterministic { value } => format!("{value:.4} {unit}"),
            Dist::Uniform { min, max, .. } => format!("uniform({min:.4}..{max:.4} {unit})"),
            Dist::Empirical { samples, mean } => {
                format!(
                    "empirical({} samples, mean {mean:.4} {unit})",
                    samples.len()
                )
            }
            Dist::Sum(parts) => format!("{} + {}", parts.0.describe(unit), parts.1.describe(unit)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    /// Sample means agree with `mean()` within 5 standard errors (a false alarm is ~1 in 3.5
    /// million per check), using the theoretical second moment for the standard error.
    #[test]
    fn sample_means_match_theory() {
        let dists = [
            Dist::exponential(2.0).unwrap(),
            Dist::lognormal(1.0, 0.8).unwrap(),
            Dist::gamma(2.5, 3.0).unwrap(),
            Dist::deterministic(4.0).unwrap(),
            Dist::uniform(1.0, 3.0).unwrap(),
            Dist::empirical(vec![1.0, 2.0, 10.0]).unwrap(),
            Dist::Sum(Box::new((
                Dist::exponential(1.0).unwrap(),
                Dist::deterministic(2.0).unwrap(),
            ))),
        ];
        let n = 200_000;
        for (i, d) in dists.iter().enumerate() {
            let mut rng = SimRng::seed_from_u64(i as u64);
            let m: f64 = (0..n).map(|_| d.sample(&mut rng)).sum::<f64>() / n as f64;
            let var = d.second_moment() - d.mean() * d.mean();
            let se = (var.max(0.0) / n as f64).sqrt();
            assert!(
                (m - d.mean()).abs() <= 5.0 * se + 1e-12,
                "{d:?}: {m} vs {}",
                d.mean()
            );
        }
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert_eq!(
            Dist::exponential(0.0).unwrap_err(),
            DistError::NotPositive("mean")
        );
        assert_eq!(
            Dist::lognormal(1.0, -1.0).unwrap_err(),
            DistError::Negative("sigma")
        );
        assert_eq!(Dist::uniform(3.0, 1.0).unwrap_err(), DistError::EmptyRange);
        assert_eq!(Dist::empirical(vec![]).unwrap_err(), DistError::BadSamples);
        assert!(Dist::gamma(f64::NAN, 1.0).is_err());
    }

    #[test]
    fn scaling_scales_the_mean() {
        let d = Dist::lognormal(2.0, 0.5).unwrap();
        assert!((d.scaled(1e6).mean() - d.mean() * 1e6).abs() < 1e-3);
    }
}
