//! The validation suite's outputs: `validation.csv` (one row per case × metric, 6
//! significant digits) and the table `mailflow validate` prints (rounded for reading).

use std::fmt::Write;
use std::path::Path;

use serde::Serialize;

use super::num::Sig;
use super::{ReportError, create_dir, csv::write};
use crate::validate::{Size, Validation};

#[derive(Serialize)]
pub struct ValidationRow<'a> {
    pub case: &'a str,
    pub metric: &'a str,
    pub theory: Sig,
    pub simulated: Option<Sig>,
    pub ci95_lo: Option<Sig>,
    pub ci95_hi: Option<Sig>,
    pub pass: bool,
}

pub fn rows(v: &Validation) -> Vec<ValidationRow<'_>> {
    v.checks
        .iter()
        .map(|c| ValidationRow {
            case: &c.case,
            metric: &c.metric,
            theory: Sig(c.theory),
            simulated: c.simulated.is_finite().then_some(Sig(c.simulated)),
            ci95_lo: c.ci95.map(|x| Sig(x.0)),
            ci95_hi: c.ci95.map(|x| Sig(x.1)),
            pass: c.pass,
        })
        .collect()
}

/// Writes `dir/validation.csv` atomically; returns its path.
pub fn write_csv(dir: &Path, v: &Validation) -> Result<std::path::PathBuf, ReportError> {
    create_dir(dir)?;
    let path = dir.join("validation.csv");
    write(&path, &rows(v))?;
    Ok(path)
}

/// Six significant digits, enough to see a 0.1% difference.
fn num(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    if x == 0.0 {
        return "0".into();
    }
    let decimals = (5 - x.abs().log10().floor() as i32).clamp(0, 9) as usize;
    format!("{x:.decimals$}")
}

/// The table printed by `mailflow validate`.
pub fn table(v: &Validation) -> String {
    let mut out = String::new();
    let case_w = v
        .checks
        .iter()
        .map(|c| c.case.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let metric_w = v
        .checks
        .iter()
        .map(|c| c.metric.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:<case_w$}  {:<metric_w$}  {:>11}  {:>11}  {:>25}  {:>9}  result",
        "case", "metric", "theory", "simulated", "95% CI", "tolerance"
    );
    for c in &v.checks {
        let ci = match c.ci95 {
            Some((lo, hi)) => format!("[{}, {}]", num(lo), num(hi)),
            None => "-".into(),
        };
        let tol = if c.tolerance.is_finite() && c.theory != 0.0 {
            format!("±{:.2}%", c.tolerance / c.theory.abs() * 100.0)
        } else {
            "-".into()
        };
        let _ = writeln!(
            out,
            "{:<case_w$}  {:<metric_w$}  {:>11}  {:>11}  {:>25}  {:>9}  {}",
            c.case,
            c.metric,
            num(c.theory),
            num(c.simulated),
            ci,
            tol,
            if c.pass { "PASS" } else { "FAIL" }
        );
    }
    let passed = v.checks.iter().filter(|c| c.pass).count();
    let size = match v.size {
        Size::Full => "full",
        Size::Quick => "quick",
    };
    let _ = writeln!(
        out,
        "\n{passed} of {} checks passed ({size} size, {} replications per case, seed {}{}).",
        v.checks.len(),
        v.replications,
        v.seed,
        if v.service_rate_factor == 1.0 {
            String::new()
        } else {
            format!(
                ", service rates × {} in the simulated model only",
                v.service_rate_factor
            )
        }
    );
    let _ = writeln!(
        out,
        "PASS: |simulated − theory| ≤ tolerance = Student-t half-width at family-wise 95% over \
         all {} checks (Bonferroni), plus 0.1% + 1 µs histogram resolution for quantiles.",
        v.family_size
    );
    out
}
