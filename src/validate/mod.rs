//! `mailflow validate`: simulates networks that queueing theory solves exactly and checks
//! the simulator's figures against the closed forms.
//!
//! It owns the suite ([`cases`]), the closed forms ([`theory`]) and the pass criterion. Each
//! case is an ordinary scenario text loaded by [`crate::scenario::from_text`] and run by
//! [`crate::runner::run`], the same path as `mailflow run`, so what passes here is what users
//! run. It must not simulate through any other path, and does no I/O: the CSV and the table
//! are written by [`crate::report::validation`].
//!
//! # The pass criterion
//!
//! Each metric is estimated once per replication; replications are independent, so the mean
//! of the R estimates has a Student-t interval with R − 1 degrees of freedom (the `ci95`
//! columns). A metric passes when
//!
//! ```text
//! |simulated − theory| ≤ t(1 − α/2, R − 1) · SE + bias allowance,   α = 0.05 / M
//! ```
//!
//! where SE is the standard error of the mean across replications and M the number of checks
//! in the whole suite. Checking M metrics each at 95% would fail a correct simulator on some
//! metric most of the time (1 − 0.95^M ≈ 76% for the suite's M = 28 checks); the Bonferroni
//! level α = 0.05/M bounds the chance that a correct simulator fails *any* check at 5%,
//! whatever the seed, and still leaves tolerances of a few percent (the table prints each).
//! The bias allowance covers what replications cannot average away, and is derived per kind:
//!
//! - quantiles come from histograms with 3 significant digits that report a bucket's highest
//!   value (at most 1/1024 of the value above the sample quantile) of latencies truncated to
//!   whole microseconds (at most 1 µs below): allowance `theory / 1024 + 0.001 ms`;
//! - means, shares and rates are exact sums (durations are rounded to the nearest nanosecond,
//!   which is unbiased): allowance 0;
//! - the empty start: each case's warm-up is at least 20 relaxation times (see
//!   [`cases::Case::scenario_text`]), leaving a bias below 10⁻⁸ of the answer: allowance 0.

pub mod cases;
pub mod theory;

use std::time::{Duration, Instant};

use statrs::distribution::{ContinuousCDF, StudentsT};

pub use cases::Size;

use crate::engine::stream_seed;
use crate::runner::{self, RunError, RunOptions, VariantOutcome};
use crate::scenario::{self, LoadOptions};
use crate::stats::MeanCi;
use cases::{Case, Measure, Metric, Quantile};

/// The master seed when none is given.
pub const DEFAULT_SEED: u64 = 1;

/// The chance that a correct simulator fails some check of the suite is at most 1 − this.
pub const FAMILY_CONFIDENCE: f64 = 0.95;

/// Random-stream namespace from which each case's seed derives (see [`stream_seed`]).
const CASE_SEED_NAMESPACE: u32 = 0x7A11;

/// What to run.
#[derive(Clone, Debug)]
pub struct ValidateOptions {
    pub seed: u64,
    /// None: the size's default ([`Size::default_replications`]).
    pub replications: Option<u32>,
    /// Worker threads; None uses one per core.
    pub threads: Option<usize>,
    pub size: Size,
    /// Cases to run by name; empty runs every case.
    pub cases: Vec<String>,
    /// Multiplies every simulated service rate (theory keeps the true one): 1 validates the
    /// simulator; any other value builds a deliberately wrong model, which must fail.
    pub service_rate_factor: f64,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        ValidateOptions {
            seed: DEFAULT_SEED,
            replications: None,
            threads: None,
            size: Size::Full,
            cases: Vec::new(),
            service_rate_factor: 1.0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error("unknown validation case `{name}`; accepted: {accepted}")]
    UnknownCase { name: String, accepted: String },
    #[error("validation needs 2 or more replications for confidence intervals, got {0}")]
    TooFewReplications(u32),
    #[error("service rate factor must be a finite number greater than zero, got {0}")]
    BadFactor(f64),
    /// A case's own scenario text was refused: a bug in mailflow, never a user error.
    #[error("validation case `{case}` does not load ({message}); this is a bug in mailflow")]
    Case { case: String, message: String },
    #[error("validation case `{case}`: {source}")]
    Run { case: String, source: RunError },
}

impl ValidateError {
    /// The process exit code this error calls for (see [`crate::error`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            ValidateError::UnknownCase { .. }
            | ValidateError::TooFewReplications(_)
            | ValidateError::BadFactor(_) => crate::error::BAD_INPUT,
            ValidateError::Case { .. } => crate::error::FAILED_CHECK,
            ValidateError::Run { source, .. } => source.exit_code(),
        }
    }
}

/// One row of the table: a metric of a case, theory against simulation.
#[derive(Clone, Debug, PartialEq)]
pub struct Check {
    pub case: String,
    pub metric: String,
    pub theory: f64,
    /// Mean across replications.
    pub simulated: f64,
    /// 95% Student-t interval of the mean across replications.
    pub ci95: Option<(f64, f64)>,
    /// The largest |simulated − theory| that passes (see the module documentation).
    pub tolerance: f64,
    pub pass: bool,
}

impl Check {
    /// |simulated − theory| in tolerances: ≤ 1 passes; a wrong model should give ≫ 1.
    pub fn deviation(&self) -> f64 {
        (self.simulated - self.theory).abs() / self.tolerance
    }
}

/// The suite's outcome.
#[derive(Clone, Debug)]
pub struct Validation {
    pub checks: Vec<Check>,
    pub seed: u64,
    pub replications: u32,
    pub threads: usize,
    /// Checks in the whole suite, M in the Bonferroni level α = 0.05 / M.
    pub family_size: usize,
    pub size: Size,
    pub service_rate_factor: f64,
    pub events: u64,
    pub wall: Duration,
}

impl Validation {
    pub fn passed(&self) -> bool {
        self.checks.iter().all(|c| c.pass)
    }
}

/// The cases `names` selects (all when empty), in suite order, with their suite index.
fn select(names: &[String]) -> Result<Vec<(usize, Case)>, ValidateError> {
    let all = cases::all();
    for n in names {
        if !all.iter().any(|c| c.name == n) {
            return Err(ValidateError::UnknownCase {
                name: n.clone(),
                accepted: cases::names().join(", "),
            });
        }
    }
    Ok(all
        .into_iter()
        .enumerate()
        .filter(|(_, c)| names.is_empty() || names.iter().any(|n| n == c.name))
        .collect())
}

/// Replication units the run will simulate, for a progress bar.
pub fn units(opts: &ValidateOptions) -> u64 {
    let r = opts
        .replications
        .unwrap_or(opts.size.default_replications());
    select(&opts.cases).map_or(0, |c| c.len() as u64 * u64::from(r))
}

/// The two-sided Student-t quantile t(1 − α/2, df).
fn t_quantile(alpha: f64, df: f64) -> f64 {
    StudentsT::new(0.0, 1.0, df)
        .expect("degrees of freedom are positive")
        .inverse_cdf(1.0 - alpha / 2.0)
}

/// The systematic error a measurement method may add, in the metric's unit.
fn bias_allowance(m: &Metric) -> f64 {
    match m.measure {
        // One histogram bucket above (≤ 1/1024 relative at 3 significant digits) and the
        // microsecond truncation below.
        Measure::FlowQuantile(_) | Measure::WaitQuantile(..) => m.theory.abs() / 1024.0 + 0.001,
        Measure::FlowMean
        | Measure::MeanWait(_)
        | Measure::WaitProbability(_)
        | Measure::ArrivalRate(_) => 0.0,
    }
}

/// The simulated figure of `measure` across replications.
fn measured(v: &VariantOutcome, measure: Measure) -> MeanCi {
    let flow = || &v.flows[0].1;
    let station = |i: usize| &v.stations[i].summary;
    match measure {
        Measure::FlowMean => flow().mean_ms,
        Measure::FlowQuantile(Quantile::P50) => flow().p50_ms,
        Measure::FlowQuantile(Quantile::P90) => flow().p90_ms,
        Measure::FlowQuantile(Quantile::P99) => flow().p99_ms,
        Measure::MeanWait(i) => station(i).mean_wait_ms,
        Measure::WaitQuantile(i, Quantile::P90) => station(i).p90_wait_ms,
        Measure::WaitQuantile(i, Quantile::P99) => station(i).p99_wait_ms,
        Measure::WaitQuantile(_, Quantile::P50) => {
            unreachable!("no case asks for a station's median wait")
        }
        Measure::WaitProbability(i) => station(i).wait_probability,
        Measure::ArrivalRate(i) => station(i).arrival_rate_per_s,
    }
}

/// Judges one metric: see the module documentation for the criterion.
pub fn judge(case: &str, m: &Metric, sim: MeanCi, replications: u32, family_size: usize) -> Check {
    let df = f64::from(replications - 1);
    let bias = bias_allowance(m);
    let tolerance = match sim.ci95 {
        Some((lo, hi)) => {
            // The 95% half-width is t(0.975, df)·SE; rescale it to the Bonferroni level.
            let se = (hi - lo) / 2.0 / t_quantile(0.05, df);
            let alpha = (1.0 - FAMILY_CONFIDENCE) / family_size as f64;
            t_quantile(alpha, df) * se + bias
        }
        None => f64::NAN,
    };
    let pass = sim.mean.is_finite() && (sim.mean - m.theory).abs() <= tolerance;
    Check {
        case: case.to_string(),
        metric: m.name.clone(),
        theory: m.theory,
        simulated: sim.mean,
        ci95: sim.ci95,
        tolerance,
        pass,
    }
}

/// Runs the selected cases one after another (each case's replications in parallel) and
/// judges every metric. `on_unit_done` is called after each replication, for progress.
pub fn run(
    opts: &ValidateOptions,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<Validation, ValidateError> {
    let start = Instant::now();
    let replications = opts
        .replications
        .unwrap_or(opts.size.default_replications());
    if replications < 2 {
        return Err(ValidateError::TooFewReplications(replications));
    }
    let f = opts.service_rate_factor;
    if !(f.is_finite() && f > 0.0) {
        return Err(ValidateError::BadFactor(f));
    }
    let family_size = cases::all().iter().map(|c| c.metrics().len()).sum();
    let mut checks = Vec::new();
    let mut events = 0;
    let mut threads = 0;
    for (index, case) in select(&opts.cases)? {
        let text = case.scenario_text(opts.size, replications, f);
        let label = format!("<validation case {}>", case.name);
        let scn =
            scenario::from_text(&text, &label, case.name, LoadOptions::default()).map_err(|e| {
                ValidateError::Case {
                    case: case.name.to_string(),
                    message: e.to_string(),
                }
            })?;
        // Each case's seed derives from the master seed and the case's place in the suite,
        // so running one case alone reproduces its rows of the full table.
        let run_opts = RunOptions {
            seed: Some(stream_seed(opts.seed, 0, CASE_SEED_NAMESPACE, index as u64)),
            replications: Some(replications),
            threads: opts.threads,
        };
        let study =
            runner::run(&scn, run_opts, on_unit_done).map_err(|source| ValidateError::Run {
                case: case.name.to_string(),
                source,
            })?;
        events += study.events();
        threads = study.threads;
        let v = &study.variants[0];
        for m in case.metrics() {
            checks.push(judge(
                case.name,
                &m,
                measured(v, m.measure),
                replications,
                family_size,
            ));
        }
    }
    Ok(Validation {
        checks,
        seed: opts.seed,
        replications,
        threads,
        family_size,
        size: opts.size,
        service_rate_factor: f,
        events,
        wall: start.elapsed(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quick(case: &str, factor: f64, threads: usize) -> Validation {
        let opts = ValidateOptions {
            size: Size::Quick,
            cases: vec![case.to_string()],
            service_rate_factor: factor,
            threads: Some(threads),
            ..Default::default()
        };
        run(&opts, &|| {}).unwrap()
    }

    fn show(v: &Validation) -> String {
        crate::report::validation::table(v)
    }

    /// Runs `case` at quick size twice: as built, every metric must pass; with every service
    /// rate 10% too high (theory unchanged), the case must fail, and by a wide margin.
    ///
    /// Tolerances: a correct model passes with probability ≥ 95% for the whole suite by the
    /// Bonferroni construction (see the module documentation), and the seeds are fixed, so
    /// this is deterministic. The wrong model must put some metric at least 5 tolerances
    /// from theory: the effect of a 10% faster server is 17% (mean sojourn, M/M/1 at 0.5) to
    /// 67% (M/M/1 at 0.95) while the quick tolerances are 1–18%, so a case that only just
    /// failed would mean the check had lost its power, not that the model was right.
    fn check_case(case: &str) {
        let right = quick(case, 1.0, 1);
        assert!(!right.checks.is_empty());
        assert!(
            right.passed(),
            "expected every check to pass, got:\n{}",
            show(&right)
        );
        let wrong = quick(case, 1.1, 1);
        assert!(!wrong.passed(), "a wrong model passed:\n{}", show(&wrong));
        let worst = wrong
            .checks
            .iter()
            .map(Check::deviation)
            .fold(0.0, f64::max);
        assert!(
            worst >= 5.0,
            "the wrong model failed by only {worst:.2} tolerances:\n{}",
            show(&wrong)
        );
    }

    macro_rules! case_tests {
        ($($test:ident => $case:literal),* $(,)?) => {
            const TESTED: &[&str] = &[$($case),*];
            $(#[test] fn $test() { check_case($case); })*
        };
    }

    case_tests! {
        mm1_rho050_agrees_and_a_wrong_model_fails => "mm1_rho0.50",
        mm1_rho080_agrees_and_a_wrong_model_fails => "mm1_rho0.80",
        mm1_rho095_agrees_and_a_wrong_model_fails => "mm1_rho0.95",
        mmc_c4_agrees_and_a_wrong_model_fails => "mmc_c4_rho0.90",
        mmc_c16_agrees_and_a_wrong_model_fails => "mmc_c16_rho0.90",
        md1_agrees_and_a_wrong_model_fails => "md1_rho0.80",
        mg1_lognormal_agrees_and_a_wrong_model_fails => "mg1_lognormal_rho0.80",
        jackson_tandem_agrees_and_a_wrong_model_fails => "jackson_tandem",
        jackson_feedback_agrees_and_a_wrong_model_fails => "jackson_feedback",
    }

    #[test]
    fn every_case_has_a_test() {
        assert_eq!(TESTED, cases::names().as_slice());
    }

    #[test]
    fn servers_too_slow_fail_too() {
        // 10% slower servers: M/M/1 at 0.8 becomes 0.889, the mean sojourn doubles.
        let v = quick("mm1_rho0.80", 0.9, 1);
        assert!(!v.passed(), "{}", show(&v));
        assert!(v.checks.iter().all(|c| !c.pass), "{}", show(&v));
    }

    #[test]
    fn results_do_not_depend_on_the_thread_count() {
        let one = quick("jackson_feedback", 1.0, 1);
        let two = quick("jackson_feedback", 1.0, 2);
        assert_eq!(one.checks, two.checks);
    }

    #[test]
    fn the_criterion_widens_the_95_interval_to_the_family_level() {
        let m = Metric {
            name: "mean_wait_ms".into(),
            theory: 10.0,
            measure: Measure::MeanWait(0),
        };
        // 20 replications: the 95% half-width is t(0.975, 19) = 2.0930 standard errors; at
        // α = 0.05/28 the two-sided quantile is t(1 − 0.000893, 19) = 3.6292 (numerical integration
        // of the t density, independent of statrs).
        let sim = |mean: f64| MeanCi {
            mean,
            ci95: Some((mean - 2.093_024, mean + 2.093_024)),
        };
        let c = judge("c", &m, sim(13.0), 20, 28);
        assert!((c.tolerance - 3.629_2).abs() < 1e-3, "{}", c.tolerance);
        assert!(
            c.pass,
            "outside the 95% interval but within the family-wise one"
        );
        assert!(!judge("c", &m, sim(13.7), 20, 28).pass);
        assert!(judge("c", &m, sim(6.5), 20, 28).pass);
        // No interval (one replication) or no value never passes.
        let none = MeanCi {
            mean: 10.0,
            ci95: None,
        };
        assert!(!judge("c", &m, none, 20, 28).pass);
        assert!(!judge("c", &m, sim(f64::NAN), 20, 28).pass);
        // Quantiles add the histogram's resolution: 1/1024 of the value and 1 µs.
        let q = Metric {
            measure: Measure::FlowQuantile(Quantile::P90),
            ..m
        };
        let exact = MeanCi {
            mean: 10.0,
            ci95: Some((10.0, 10.0)),
        };
        let t = judge("c", &q, exact, 20, 28).tolerance;
        assert!((t - (10.0 / 1024.0 + 0.001)).abs() < 1e-12);
    }

    #[test]
    fn bad_options_are_refused() {
        let mut o = ValidateOptions {
            replications: Some(1),
            ..Default::default()
        };
        assert!(matches!(
            run(&o, &|| {}),
            Err(ValidateError::TooFewReplications(1))
        ));
        o.replications = None;
        o.cases = vec!["mm2".into()];
        let e = run(&o, &|| {}).unwrap_err();
        assert!(e.to_string().contains("mm1_rho0.50"), "{e}");
        o.cases.clear();
        o.service_rate_factor = 0.0;
        assert!(matches!(run(&o, &|| {}), Err(ValidateError::BadFactor(_))));
    }
}
