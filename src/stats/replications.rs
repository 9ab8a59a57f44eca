//! Means and Student-t confidence intervals across independent replications, and Student-t
//! prediction intervals for one more realization.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// A mean over replications and, with two or more finite values, its 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MeanCi {
    /// NaN (no finite value) is written to JSON as `null`.
    #[serde(with = "nan_as_null")]
    pub mean: f64,
    pub ci95: Option<(f64, f64)>,
}

/// JSON has no NaN: a NaN mean is written as `null` and read back as NaN.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_some(x)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// The finite values' count, mean and sample variance (0 with fewer than two), the figures
/// both intervals below are built from.
fn mean_and_variance(values: &[f64]) -> (usize, f64, f64) {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    let n = v.len();
    if n == 0 {
        return (0, f64::NAN, 0.0);
    }
    let mean = v.iter().sum::<f64>() / n as f64;
    if n < 2 {
        return (n, mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
    (n, mean, var)
}

/// The mean of `values` and a two-sided 95% Student-t interval (n − 1 degrees of freedom).
/// Non-finite values (a flow with no deliveries in one replication) are left out; with fewer
/// than two values left there is no interval.
pub fn mean_ci(values: &[f64]) -> MeanCi {
    let (n, mean, var) = mean_and_variance(values);
    if n < 2 {
        return MeanCi { mean, ci95: None };
    }
    let half = t_quantile(n, 0.975) * (var / n as f64).sqrt();
    MeanCi {
        mean,
        ci95: Some((mean - half, mean + half)),
    }
}

/// The `p` quantile of Student's t with n − 1 degrees of freedom (n ≥ 2 values).
pub fn t_quantile(n: usize, p: f64) -> f64 {
    StudentsT::new(0.0, 1.0, (n.max(2) - 1) as f64)
        .expect("degrees of freedom are positive")
        .inverse_cdf(p)
}

/// A two-sided 95% prediction interval for one more realization of what `values` are
/// independent realizations of (e.g. one observed week against the replications' figures):
/// mean ± t(n − 1, 0.975) · s · √(1 + 1/n), s the sample standard deviation — the interval
/// covers a new value with 95% probability when the values are normal, and it is √(n + 1)
/// times wider than the mean's confidence interval. Non-finite values are left out; with
/// fewer than two left there is no interval.
pub fn prediction95(values: &[f64]) -> Option<(f64, f64)> {
    let (n, mean, var) = mean_and_variance(values);
    if n < 2 {
        return None;
    }
    let half = t_quantile(n, 0.975) * (var * (1.0 + 1.0 / n as f64)).sqrt();
    Some((mean - half, mean + half))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A capacity shard stores figures as JSON: exact floats, and NaN (no deliveries) as null.
    #[test]
    fn mean_ci_round_trips_through_json_nan_included() {
        let m = mean_ci(&[1.0 / 3.0, 2.0f64.sqrt(), 0.1 + 0.2]);
        let back: MeanCi = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back.mean.to_bits(), m.mean.to_bits());
        assert_eq!(back.ci95, m.ci95);
        let empty = mean_ci(&[f64::NAN]);
        let json = serde_json::to_string(&empty).unwrap();
        assert_eq!(json, r#"{"mean":null,"ci95":null}"#);
        let back: MeanCi = serde_json::from_str(&json).unwrap();
        assert!(back.mean.is_nan() && back.ci95.is_none());
    }

    #[test]
    fn known_interval() {
        // n = 4, mean 2.5, s = 1.29099; t(0.975, 3) = 3.18245.
        let m = mean_ci(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(m.mean, 2.5);
        let (lo, hi) = m.ci95.unwrap();
        let half = 3.182_446_305 * 1.290_994_449 / 2.0;
        assert!((lo - (2.5 - half)).abs() < 1e-6 && (hi - (2.5 + half)).abs() < 1e-6);
    }

    #[test]
    fn single_value_has_no_interval() {
        assert_eq!(
            mean_ci(&[3.0]),
            MeanCi {
                mean: 3.0,
                ci95: None
            }
        );
        assert!(mean_ci(&[f64::NAN]).mean.is_nan());
    }

    #[test]
    fn known_prediction_interval() {
        // By hand: n = 5, values 10, 12, 9, 11, 13: mean 11, s² = (1 + 1 + 4 + 0 + 4) / 4 = 2.5;
        // t(0.975, 4) = 2.776445; half = 2.776445 × √(2.5 × 1.2) = 2.776445 × 1.732051 = 4.808944.
        let (lo, hi) = prediction95(&[10.0, 12.0, 9.0, 11.0, 13.0]).unwrap();
        assert!((lo - (11.0 - 4.808_944)).abs() < 1e-5, "{lo}");
        assert!((hi - (11.0 + 4.808_944)).abs() < 1e-5, "{hi}");
        // √(n + 1) times the confidence interval of the mean.
        let (clo, chi) = mean_ci(&[10.0, 12.0, 9.0, 11.0, 13.0]).ci95.unwrap();
        assert!(((hi - lo) / (chi - clo) - 6f64.sqrt()).abs() < 1e-9);
        // Non-finite values are left out; fewer than two values give no interval.
        assert_eq!(
            prediction95(&[10.0, f64::NAN, 12.0, 9.0, 11.0, 13.0]),
            Some((lo, hi))
        );
        assert_eq!(prediction95(&[3.0, f64::NAN]), None);
    }
}
