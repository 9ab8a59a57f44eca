//! Capacity search: the largest load, or the fewest servers of a hop, that meets latency SLOs.
//!
//! An SLO bounds one figure of one flow (`inbound_to_onprem.p99<=60s`). A configuration
//! *passes* when, for every SLO, the upper end of the figure's 95% Student-t interval across
//! replications is within the limit: each SLO then holds with at least 97.5% one-sided
//! confidence, all k together with at least 1 − k × 2.5% (Bonferroni). It *fails* otherwise;
//! a failure is *sure* when the interval's lower end is already over the limit, and a
//! configuration whose offered load reaches a station's capacity fails without simulation
//! (its queue grows without bound, so no latency bound holds in steady state).
//!
//! The load search brackets then bisects the load scale of each variant: doubling up from the
//! start (never past the scale at which a station saturates) or halving down, then halving the
//! bracket until `(first failing − last passing) ≤ precision × last passing`. The servers search
//! does the same over whole server counts, starting from the fewest that keep the hop stable,
//! and ends with adjacent counts. It stops early, infeasible, when more servers of the hop
//! cannot help (see [`more_servers_cannot_help`]): another station is offered more than its
//! capacity whatever the hop has, or no message waited for one of the hop's servers at the
//! failing count. Both assume the figure grows with load (and shrinks with
//! servers); common random numbers across the points of a search (every point replays the
//! same arrivals) keep the simulated curve close to monotone.
//!
//! Variants are searched side by side: each round simulates one candidate per unfinished
//! variant, all replications in one pool. Each candidate is simulated as a scenario of its one
//! variant, so a variant's search does not depend on which other variants are searched with
//! it: [`search_variants`] searches a subset (a capacity shard) and finds exactly the steps the
//! full search finds for those variants. This module computes; it writes and prints nothing.

pub mod bounds;

use crate::runner::{self, RunError, RunOptions, VariantOutcome};
use crate::scenario::Scenario;
use crate::scenario::messages::figure;
use crate::stats::MeanCi;

/// A figure of a flow's latency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    P50,
    P90,
    P99,
    P999,
    Mean,
    Max,
}

impl Metric {
    pub const NAMES: [&str; 6] = ["p50", "p90", "p99", "p999", "mean", "max"];

    fn parse(s: &str) -> Option<Metric> {
        Some(match s {
            "p50" => Metric::P50,
            "p90" => Metric::P90,
            "p99" => Metric::P99,
            "p999" => Metric::P999,
            "mean" => Metric::Mean,
            "max" => Metric::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P90 => "p90",
            Metric::P99 => "p99",
            Metric::P999 => "p999",
            Metric::Mean => "mean",
            Metric::Max => "max",
        }
    }

    /// The flow figure this metric is.
    pub fn figure(self) -> crate::stats::summary::FlowFigure {
        use crate::stats::summary::FlowFigure;
        match self {
            Metric::P50 => FlowFigure::P50Ms,
            Metric::P90 => FlowFigure::P90Ms,
            Metric::P99 => FlowFigure::P99Ms,
            Metric::P999 => FlowFigure::P999Ms,
            Metric::Mean => FlowFigure::MeanMs,
            Metric::Max => FlowFigure::MaxMs,
        }
    }

    fn of(self, f: &crate::stats::summary::FlowSummary) -> MeanCi {
        match self {
            Metric::P50 => f.p50_ms,
            Metric::P90 => f.p90_ms,
            Metric::P99 => f.p99_ms,
            Metric::P999 => f.p999_ms,
            Metric::Mean => f.mean_ms,
            Metric::Max => f.max_ms,
        }
    }
}

/// A latency objective: `flow.metric <= limit`.
#[derive(Clone, Debug, PartialEq)]
pub struct Slo {
    pub flow: String,
    pub metric: Metric,
    pub limit_ms: f64,
    /// As the user wrote it, for messages and CSV cells.
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    #[error("bad `--slo {text}`: {message}")]
    Slo { text: String, message: String },
    #[error("`--hop {hop}` is not a hop of variant `{variant}`; hops: {accepted}")]
    UnknownHop {
        hop: String,
        variant: String,
        accepted: String,
    },
    #[error(
        "a capacity search needs 2 or more replications for confidence intervals; pass --replications 5 (or set run.replications)"
    )]
    OneReplication,
    #[error("--bracket must be greater than 0 and below 1, got {}", figure(*.0))]
    Precision(f64),
    #[error("--scale must be a number greater than 0, got {}", figure(*.0))]
    Scale(f64),
    #[error(
        "--headroom must be a share of capacity greater than 0 and at most 1 (e.g. 0.8), got {}",
        figure(*.0)
    )]
    Headroom(f64),
    /// A search that could not end or has nothing to find (see [`bounds`]).
    #[error("{message}")]
    Bounds { message: String },
    #[error(transparent)]
    Run(#[from] RunError),
}

impl CapacityError {
    /// The process exit code this error calls for (see [`crate::error`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            CapacityError::Run(e) => e.exit_code(),
            _ => crate::error::BAD_INPUT,
        }
    }
}

fn slo_err(text: &str, message: impl Into<String>) -> CapacityError {
    CapacityError::Slo {
        text: text.to_string(),
        message: message.into(),
    }
}

/// Parses `flow.metric<=limit` with a unit: `ms`, `s` or `min`. A strict `<` is refused
/// rather than read as `<=`: a verdict compares an interval's upper end with the limit, and
/// "met at the limit" is what the search answers.
pub fn parse_slo(text: &str) -> Result<Slo, CapacityError> {
    let usage = "write `flow.metric<=limit`, e.g. `inbound_to_onprem.p99<=60s`";
    if !text.contains("<=") && text.contains('<') {
        return Err(slo_err(
            text,
            "`<` is not accepted: an SLO holds when the figure is at most its limit, so write              `<=` (e.g. `inbound_to_onprem.p99<=60s`)",
        ));
    }
    let (lhs, rhs) = text.split_once("<=").ok_or_else(|| slo_err(text, usage))?;
    let (flow, metric) = lhs
        .trim()
        .rsplit_once('.')
        .ok_or_else(|| slo_err(text, usage))?;
    if flow.is_empty() {
        return Err(slo_err(text, usage));
    }
    let metric = Metric::parse(metric).ok_or_else(|| {
        slo_err(
            text,
            format!(
                "`{metric}` is not a figure; accepted: {}",
                Metric::NAMES.join(", ")
            ),
        )
    })?;
    let rhs = rhs.trim();
    let split = rhs
        .find(|c: char| c.is_ascii_alphabetic())
        .ok_or_else(|| slo_err(text, "give the limit a unit: ms, s or min (e.g. `60s`)"))?;
    let (num, unit) = rhs.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite() && *v > 0.0)
        .ok_or_else(|| {
            slo_err(
                text,
                format!("the limit `{}` is not a number greater than 0", num.trim()),
            )
        })?;
    let factor = match unit.trim() {
        "ms" => 1.0,
        "s" => 1e3,
        "min" => 60e3,
        u => {
            return Err(slo_err(
                text,
                format!("`{u}` is not a unit; accepted: ms, s, min"),
            ));
        }
    };
    Ok(Slo {
        flow: flow.to_string(),
        metric,
        limit_ms: value * factor,
        text: text.to_string(),
    })
}

/// The figures the SLOs bound in variant `v`: (flow index, figure), for `--precision`.
fn slo_figures(
    v: &crate::scenario::VariantModel,
    slos: &[Slo],
) -> crate::runner::precision::Watched {
    slos.iter()
        .filter_map(|s| {
            let flow = v.network.flows.iter().position(|f| *f == s.flow)?;
            Some((flow, s.metric.figure()))
        })
        .collect()
}

/// Whether some SLO's figure (in `slos`' order, as [`slo_figures`] watches them) has its
/// whole 95% interval over the limit: the configuration fails, and surely so.
fn surely_fails(slos: &[Slo], figures: &[MeanCi]) -> bool {
    slos.iter()
        .zip(figures)
        .any(|(s, m)| m.ci95.is_some_and(|(lo, _)| lo > s.limit_ms))
}

/// Checks that every SLO names a flow of every variant.
pub fn check_slos(scn: &Scenario, slos: &[Slo]) -> Result<(), CapacityError> {
    for s in slos {
        for v in &scn.variants {
            if !v.network.flows.contains(&s.flow) {
                return Err(slo_err(
                    &s.text,
                    format!(
                        "`{}` is not a flow of variant `{}`; flows: {}",
                        s.flow,
                        v.name,
                        v.network.flows.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// What a search varies.
#[derive(Clone, Debug, PartialEq)]
pub enum Knob {
    /// The load scale (multiplier of every arrival rate).
    LoadScale,
    /// The servers of this hop, at the scenario's load scale.
    Servers(String),
}

/// Settings of a search.
#[derive(Clone, Debug)]
pub struct SearchSpec {
    pub slos: Vec<Slo>,
    pub knob: Knob,
    /// Load search: the first scale tried (default: the scenario's).
    pub start: Option<f64>,
    /// Load search: stop when (first failing − last passing) ≤ this × last passing
    /// (`--bracket`).
    pub bracket: f64,
    /// Load search: give up below this scale.
    pub min_scale: f64,
    /// Servers search: give up above this count.
    pub max_servers: u32,
    /// `--headroom`: a configuration whose busiest station's utilization is not shown to be
    /// within this share of its capacity fails, whatever its latency.
    pub headroom: Option<f64>,
    /// `--precision`: each configuration tried gets replications in rounds until every SLO
    /// figure's 95% half-width is within the share of its value (per candidate, see
    /// [`crate::runner::precision`]), or until one SLO surely fails (its whole interval over
    /// the limit; [`surely_fails`]); None runs the fixed replications.
    pub replicate: Option<crate::runner::precision::Precision>,
}

/// An answer whose bottleneck is busier than this is `fragile`: a little more load, or a
/// little less capacity than modeled, moves it onto the steep part of the latency curve.
pub const FRAGILE_UTILIZATION: f64 = 0.9;

/// A statistics window shorter than this many relaxation times of the bottleneck is too short
/// for its load: the figures then rest on a few dozen independent stretches of the queue's
/// history at most, and the start-up transient (which decays on the same time scale) weighs
/// on them.
pub const MIN_RELAXATION_TIMES: f64 = 50.0;

/// The relaxation time, in seconds, of a station with `servers` servers at utilization `rho`
/// fed at `lambda_per_s`: the time scale on which its queue forgets its past and on which its
/// autocorrelations decay. For M/M/1, t_relax = 1 / (μ (1 − √ρ)²) (Morse 1955, "Stochastic
/// properties of waiting lines", Oper. Res. 3; Cohen 1982, *The Single Server Queue*, §II.4).
/// A station with c servers near saturation behaves like one server of rate cμ (heavy traffic),
/// so t_relax ≈ 1 / (cμ (1 − √ρ)²) with cμ = λ / ρ; it is an estimate for other service
/// distributions (whose variability lengthens it). None when ρ is not in (0, 1) or λ ≤ 0.
pub fn relaxation_time_s(rho: f64, lambda_per_s: f64) -> Option<f64> {
    if !(rho > 0.0 && rho < 1.0 && lambda_per_s > 0.0) {
        return None;
    }
    let c_mu = lambda_per_s / rho;
    Some(1.0 / (c_mu * (1.0 - rho.sqrt()).powi(2)))
}

/// Why an answer is fragile.
#[derive(Clone, Debug, PartialEq)]
pub enum Fragile {
    /// The bottleneck's mean utilization is above [`FRAGILE_UTILIZATION`].
    Busy { station: String, utilization: f64 },
    /// The statistics window is shorter than [`MIN_RELAXATION_TIMES`] relaxation times.
    ShortRun { window_s: f64, relaxation_s: f64 },
}

impl Fragile {
    pub fn label(&self) -> &'static str {
        match self {
            Fragile::Busy { .. } => "bottleneck_over_90pct",
            Fragile::ShortRun { .. } => "run_too_short",
        }
    }
}

/// The verdict on one configuration.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Verdict {
    Pass,
    /// SLO `slo` (index) is missed; `sure` when the interval's lower end is over the limit.
    Fail {
        slo: usize,
        sure: bool,
    },
    /// Not simulated: `station`'s offered utilization is `utilization` ≥ 1.
    Unstable {
        station: String,
        utilization: f64,
    },
    /// Every SLO holds, but `station`'s measured utilization (mean `utilization`) is not shown
    /// to be within `--headroom`: the upper end of its interval is over it; `sure` when the
    /// lower end is over it too.
    Headroom {
        station: String,
        utilization: f64,
        sure: bool,
    },
}

impl Verdict {
    pub fn passes(&self) -> bool {
        matches!(self, Verdict::Pass)
    }

    pub fn label(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail { sure: true, .. } => "fail",
            Verdict::Fail { sure: false, .. } => "fail_uncertain",
            Verdict::Unstable { .. } => "unstable",
            Verdict::Headroom { sure: true, .. } => "over_headroom",
            Verdict::Headroom { sure: false, .. } => "over_headroom_uncertain",
        }
    }
}

/// One simulated (or judged unstable) configuration of a variant. Serialized (for a capacity
/// shard) without its `outcome`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub load_scale: f64,
    /// The searched hop's servers (servers search only).
    pub servers: Option<u32>,
    pub verdict: Verdict,
    /// Per SLO, the figure across replications (None when not simulated).
    pub figures: Vec<Option<MeanCi>>,
    /// The busiest station and its measured utilization.
    pub bottleneck: Option<(String, f64)>,
    /// The 95% interval of the bottleneck's utilization across replications.
    #[serde(default)]
    pub bottleneck_ci95: Option<(f64, f64)>,
    /// The bottleneck's relaxation time ([`relaxation_time_s`]), seconds.
    #[serde(default)]
    pub relaxation_s: Option<f64>,
    /// The statistics window of one replication, seconds.
    #[serde(default)]
    pub window_s: Option<f64>,
    /// Replications simulated for it (0: not simulated).
    #[serde(default)]
    pub replications: u32,
    /// With `--precision`: whether every SLO figure met it (None without, or not simulated).
    #[serde(default)]
    pub precision_met: Option<bool>,
    /// With `--precision`: replications stopped before every SLO figure met it because one
    /// SLO already surely failed (the verdict could not change to a pass).
    #[serde(default)]
    pub precision_settled: bool,
    /// The summaries, when simulated (for pictures); not kept in a capacity shard.
    #[serde(skip)]
    pub outcome: Option<VariantOutcome>,
}

impl Step {
    /// The 95% interval of the relaxation time: [`relaxation_time_s`] at the ends of the
    /// bottleneck's utilization interval, with the pooled service rate cμ = λ/ρ of the
    /// estimate held (t grows with ρ, so the ends map onto the ends). The upper end is
    /// infinite when the utilization's interval reaches 1.
    pub fn relaxation_ci95(&self) -> Option<(f64, f64)> {
        let r = self.relaxation_s?;
        let (_, rho) = self.bottleneck.as_ref()?;
        let (lo, hi) = self.bottleneck_ci95?;
        let at = |x: f64| {
            if x >= 1.0 {
                f64::INFINITY
            } else {
                r * (1.0 - rho.sqrt()).powi(2) / (1.0 - x.max(0.0).sqrt()).powi(2)
            }
        };
        Some((at(lo), at(hi)))
    }

    /// Why an answer at this step would be fragile (empty: it is not).
    pub fn fragility(&self) -> Vec<Fragile> {
        let mut out = Vec::new();
        if let Some((station, u)) = &self.bottleneck
            && *u > FRAGILE_UTILIZATION
        {
            out.push(Fragile::Busy {
                station: station.clone(),
                utilization: *u,
            });
        }
        if let (Some(w), Some(r)) = (self.window_s, self.relaxation_s)
            && w < MIN_RELAXATION_TIMES * r
        {
            out.push(Fragile::ShortRun {
                window_s: w,
                relaxation_s: r,
            });
        }
        out
    }
}

/// The answer for one variant.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct VariantAnswer {
    pub variant: String,
    /// Every configuration tried, in order.
    pub steps: Vec<Step>,
    /// Index in `steps` of the best passing configuration (largest scale / fewest servers).
    pub last_pass: Option<usize>,
    /// Index in `steps` of the failing configuration next to it (smallest failing scale /
    /// most servers that fail).
    pub first_fail: Option<usize>,
    /// Why a servers search stopped without a passing count before its largest count: more
    /// servers of the hop cannot help ([`more_servers_cannot_help`]).
    #[serde(default)]
    pub cannot_help: Option<String>,
    /// What the pictures draw at the answer, when its step's `outcome` is gone (a merged
    /// capacity shard); stored apart by the shard.
    #[serde(skip)]
    pub picture: Option<AnswerPicture>,
}

/// The figures the pictures at a variant's answer draw: each flow's merged latency histogram
/// and each station's (name, has finite servers, mean utilization).
#[derive(Clone, Debug)]
pub struct AnswerPicture {
    pub flows: Vec<(String, hdrhistogram::Histogram<u64>)>,
    pub stations: Vec<(String, bool, Option<f64>)>,
}

impl AnswerPicture {
    pub fn of(v: &VariantOutcome) -> AnswerPicture {
        AnswerPicture {
            flows: v
                .flows
                .iter()
                .map(|(n, f)| (n.clone(), f.merged.clone()))
                .collect(),
            stations: v
                .stations
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        s.servers.is_some(),
                        s.summary.utilization.map(|u| u.mean),
                    )
                })
                .collect(),
        }
    }
}

impl VariantAnswer {
    pub fn feasible(&self) -> bool {
        self.last_pass.is_some()
    }
}

/// Everything a search found.
#[derive(Clone, Debug)]
pub struct CapacityOutcome {
    pub spec: SearchSpec,
    pub seed: u64,
    pub replications: u32,
    pub threads: usize,
    pub answers: Vec<VariantAnswer>,
    /// Configurations simulated (not counting those judged unstable).
    pub simulated: usize,
    pub events: u64,
    pub wall: std::time::Duration,
}

impl CapacityOutcome {
    /// The confidence that every SLO holds at a passing configuration (Bonferroni bound).
    pub fn confidence(&self) -> f64 {
        1.0 - 0.025 * self.spec.slos.len() as f64
    }
}

/// Per-variant search state.
enum State {
    Load {
        lo: Option<(f64, usize)>,
        hi: Option<(f64, usize)>,
        /// The scale at which the busiest station saturates.
        saturates: f64,
        start: f64,
    },
    Servers {
        lo_fail: Option<(u32, usize)>,
        hi_pass: Option<(u32, usize)>,
        /// The fewest servers that keep the hop stable.
        stable_min: u32,
        /// The load scale searched at.
        scale: f64,
        /// The hop searched.
        hop: String,
        /// A failing count showed that more servers cannot help: the search is over.
        hopeless: bool,
    },
}

enum Next<T> {
    Try(T),
    Done,
}

fn judge(v: &VariantOutcome, spec: &SearchSpec) -> (Verdict, Vec<Option<MeanCi>>) {
    let slos = &spec.slos;
    let mut figures = Vec::with_capacity(slos.len());
    let mut verdict = Verdict::Pass;
    for (i, s) in slos.iter().enumerate() {
        let f = v
            .flows
            .iter()
            .find(|(n, _)| *n == s.flow)
            .map(|(_, f)| s.metric.of(f));
        figures.push(f);
        // No deliveries, or no interval: not shown to pass.
        let (hi, lo) = match f.and_then(|m| m.ci95) {
            Some((lo, hi)) => (hi, lo),
            None => (f64::INFINITY, f64::NAN),
        };
        // NaN (no interval) is not within the limit.
        let within = hi <= s.limit_ms;
        if !within && verdict.passes() {
            verdict = Verdict::Fail {
                slo: i,
                sure: lo > s.limit_ms,
            };
        }
    }
    if let Some(h) = spec.headroom
        && verdict.passes()
    {
        // The station whose utilization interval reaches furthest over the headroom.
        let over = v
            .stations
            .iter()
            .filter_map(|s| {
                let u = s.summary.utilization?;
                let (lo, hi) = u.ci95.unwrap_or((u.mean, u.mean));
                (hi > h).then(|| (s.name.clone(), u.mean, lo > h, hi))
            })
            .max_by(|a, b| a.3.total_cmp(&b.3));
        if let Some((station, utilization, sure, _)) = over {
            verdict = Verdict::Headroom {
                station,
                utilization,
                sure,
            };
        }
    }
    (verdict, figures)
}

/// The stations of `v` offered at least their capacity (index, offered utilization), those
/// that make it unstable: a hop that rejects when full is a loss system, stable at any load.
pub(crate) fn saturated(
    v: &crate::scenario::VariantModel,
) -> impl Iterator<Item = (usize, f64)> + '_ {
    v.offered_utilization()
        .into_iter()
        .enumerate()
        .filter_map(|(i, u)| Some((i, u?)))
        .filter(|&(i, u)| {
            v.network.stations[i].when_full != crate::model::network::WhenFull::Reject
                && (u.is_nan() || u >= 1.0)
        })
}

fn unstable_verdict(v: &crate::scenario::VariantModel) -> Option<Verdict> {
    if v.is_stable() {
        return None;
    }
    let (i, u) = saturated(v).max_by(|a, b| a.1.total_cmp(&b.1))?;
    Some(Verdict::Unstable {
        station: v.network.stations[i].name.clone(),
        utilization: u,
    })
}

/// The settings of a search from the command line's `--slo`, `--hop`, `--scale` and
/// `--precision` (shared by `capacity` and `merge`, which rebuilds them from a shard).
pub fn spec_from_args(
    slos: &[String],
    hop: Option<&str>,
    scale: Option<f64>,
    bracket: f64,
    headroom: Option<f64>,
) -> Result<SearchSpec, CapacityError> {
    if let Some(h) = headroom
        && !(h > 0.0 && h <= 1.0)
    {
        return Err(CapacityError::Headroom(h));
    }
    let slos = slos
        .iter()
        .map(|s| parse_slo(s))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(x) = scale
        && !(x.is_finite() && x > 0.0)
    {
        return Err(CapacityError::Scale(x));
    }
    Ok(SearchSpec {
        slos,
        knob: match hop {
            Some(h) => Knob::Servers(h.to_string()),
            None => Knob::LoadScale,
        },
        start: scale,
        bracket,
        min_scale: 1e-3,
        max_servers: 100_000,
        headroom,
        replicate: None,
    })
}

/// Runs the search on every variant of `scn`. `planned(n)` announces n more simulation runs
/// and `done()` reports one finished, for progress display.
pub fn search(
    scn: &Scenario,
    spec: &SearchSpec,
    opts: RunOptions,
    planned: &(dyn Fn(u64) + Sync),
    done: &(dyn Fn() + Sync),
) -> Result<CapacityOutcome, CapacityError> {
    let all: Vec<usize> = (0..scn.variants.len()).collect();
    search_variants(scn, spec, opts, &all, planned, done)
}

/// Runs the search on the variants of `scn` whose indices are in `which` (ascending); the
/// outcome's answers are theirs, in that order, and equal those of a [`search`] of every
/// variant. The SLOs and the hop are checked against every variant.
pub fn search_variants(
    scn: &Scenario,
    spec: &SearchSpec,
    opts: RunOptions,
    which: &[usize],
    planned: &(dyn Fn(u64) + Sync),
    done: &(dyn Fn() + Sync),
) -> Result<CapacityOutcome, CapacityError> {
    let started = std::time::Instant::now();
    check_slos(scn, &spec.slos)?;
    bounds::check_searchable(scn, spec)?;
    let replications = opts.replications.unwrap_or(scn.run.replications);
    if replications < 2 {
        return Err(CapacityError::OneReplication);
    }
    if !(spec.bracket > 0.0 && spec.bracket < 1.0) {
        return Err(CapacityError::Precision(spec.bracket));
    }
    if let Some(p) = spec.replicate {
        p.first_round(scn, opts)?;
    }
    let base = spec.start.unwrap_or(scn.run.load_scale);
    let base_scn = scn.at_load_scale(base);
    let mut states = Vec::new();
    for v in &base_scn.variants {
        states.push(match &spec.knob {
            Knob::LoadScale => {
                let rho = v.max_offered_utilization();
                State::Load {
                    lo: None,
                    hi: None,
                    // Nudged up so that float rounding cannot make the saturating scale look
                    // stable: it is judged unstable without simulation.
                    saturates: if rho > 0.0 {
                        base / rho * (1.0 + 1e-9)
                    } else {
                        f64::INFINITY
                    },
                    start: base,
                }
            }
            Knob::Servers(hop) => {
                let station = v
                    .network
                    .stations
                    .iter()
                    .position(|s| {
                        s.name == *hop && s.kind == crate::model::network::StationKind::Hop
                    })
                    .ok_or_else(|| CapacityError::UnknownHop {
                        hop: hop.clone(),
                        variant: v.name.clone(),
                        accepted: v
                            .network
                            .stations
                            .iter()
                            .filter(|s| s.kind == crate::model::network::StationKind::Hop)
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })?;
                // Work offered to the hop in server-equivalents: utilization × servers.
                let work = match (
                    v.offered_utilization()[station],
                    v.network.stations[station].servers.count(),
                ) {
                    (Some(u), Some(c)) => u * f64::from(c),
                    _ => 0.0,
                };
                State::Servers {
                    lo_fail: None,
                    hi_pass: None,
                    stable_min: (work.floor() as u32).saturating_add(1).max(1),
                    scale: base,
                    hop: hop.clone(),
                    hopeless: false,
                }
            }
        });
    }
    let mut answers: Vec<VariantAnswer> = which
        .iter()
        .map(|&vi| &base_scn.variants[vi])
        .map(|v| VariantAnswer {
            variant: v.name.clone(),
            steps: Vec::new(),
            last_pass: None,
            first_fail: None,
            cannot_help: None,
            picture: None,
        })
        .collect();
    let (mut simulated, mut events, mut threads) = (0usize, 0u64, 0usize);
    loop {
        // Candidates of this round: (variant, scenario with that one variant, scale, servers).
        // (`ai` indexes `answers` and `which`, `vi` the scenario's variants.)
        let mut round: Vec<(usize, Scenario, f64, Option<u32>)> = Vec::new();
        for (ai, &vi) in which.iter().enumerate() {
            let st = &mut states[vi];
            loop {
                let cand = next_candidate(st, spec);
                let Next::Try((scale, servers)) = cand else {
                    break;
                };
                let mut one = base_scn.one_variant_at_load_scale(vi, scale);
                if let Some(c) = servers {
                    let hop = match &spec.knob {
                        Knob::Servers(h) => h,
                        Knob::LoadScale => unreachable!("servers only in a servers search"),
                    };
                    one.variants[0]
                        .set_servers(hop, c)
                        .expect("hop checked above");
                }
                if let Some(verdict) = unstable_verdict(&one.variants[0]) {
                    answers[ai].steps.push(Step {
                        load_scale: scale,
                        servers,
                        verdict,
                        figures: vec![None; spec.slos.len()],
                        bottleneck: None,
                        bottleneck_ci95: None,
                        relaxation_s: None,
                        window_s: None,
                        replications: 0,
                        precision_met: None,
                        precision_settled: false,
                        outcome: None,
                    });
                    record(st, &mut answers[ai], scale, servers);
                    continue;
                }
                round.push((ai, one, scale, servers));
                break;
            }
        }
        if round.is_empty() {
            break;
        }
        let refs: Vec<&Scenario> = round.iter().map(|r| &r.1).collect();
        let outcomes = match spec.replicate {
            None => {
                planned(round.len() as u64 * u64::from(replications));
                runner::run_many(&refs, opts, done)?
            }
            // A candidate whose SLO figure is surely over its limit fails whatever more
            // replications show: it stops there (`settled`), precise or not.
            Some(p) => runner::precision::run_many_precise_until(
                &refs,
                opts,
                p,
                &|_, v| slo_figures(v, &spec.slos),
                &|_, _, figures| surely_fails(&spec.slos, figures),
                planned,
                done,
            )?,
        };
        for ((ai, _, scale, servers), out) in round.into_iter().zip(outcomes) {
            simulated += 1;
            events += out.events();
            threads = out.threads;
            let v = out
                .variants
                .into_iter()
                .next()
                .expect("one variant per run");
            let (verdict, figures) = judge(&v, spec);
            let precision_met = out.precision.as_ref().map(|p| p.met());
            let precision_settled = out.precision.as_ref().is_some_and(|p| p.settled);
            let reps_used = out.replications;
            let reps = f64::from(out.replications.max(1));
            let window_s =
                (v.simulated.as_secs_f64() / reps - base_scn.run.warmup.as_secs_f64()).max(0.0);
            let busiest = v
                .bottleneck()
                .and_then(|(n, _)| v.stations.iter().find(|s| s.name == n));
            answers[ai].steps.push(Step {
                load_scale: scale,
                servers,
                verdict,
                figures,
                bottleneck: v.bottleneck().map(|(n, u)| (n.to_string(), u)),
                bottleneck_ci95: busiest.and_then(|s| s.summary.utilization.and_then(|u| u.ci95)),
                relaxation_s: busiest.and_then(|s| {
                    relaxation_time_s(
                        s.summary.utilization?.mean,
                        s.summary.arrival_rate_per_s.mean,
                    )
                }),
                window_s: Some(window_s),
                replications: reps_used,
                precision_met,
                precision_settled,
                outcome: Some(v),
            });
            record(&mut states[which[ai]], &mut answers[ai], scale, servers);
        }
    }
    Ok(CapacityOutcome {
        spec: spec.clone(),
        seed: opts.seed.unwrap_or(scn.run.seed),
        replications,
        threads,
        answers,
        simulated,
        events,
        wall: started.elapsed(),
    })
}

/// The next configuration to try, or Done.
fn next_candidate(st: &State, spec: &SearchSpec) -> Next<(f64, Option<u32>)> {
    match *st {
        State::Load {
            lo,
            hi,
            saturates,
            start,
        } => {
            let s = match (lo, hi) {
                (None, None) => start.min(saturates),
                (Some((l, _)), None) => (l * 2.0).min(saturates),
                (None, Some((h, _))) => {
                    let s = h / 2.0;
                    if s < spec.min_scale {
                        return Next::Done; // infeasible
                    }
                    s
                }
                (Some((l, _)), Some((h, _))) => {
                    if h - l <= spec.bracket * l {
                        return Next::Done;
                    }
                    0.5 * (l + h)
                }
            };
            Next::Try((s, None))
        }
        State::Servers {
            lo_fail,
            hi_pass,
            stable_min,
            scale,
            hopeless,
            ..
        } => {
            if hopeless {
                return Next::Done; // infeasible
            }
            let c = match (lo_fail.map(|x| x.0), hi_pass.map(|x| x.0)) {
                // One below the stable minimum is judged unstable without simulation, so the
                // answer's first failing count is known from the start.
                (None, None) => stable_min.saturating_sub(1).max(1),
                (Some(f), None) => {
                    if f >= spec.max_servers {
                        return Next::Done; // infeasible
                    }
                    let c = if f < stable_min {
                        stable_min
                    } else {
                        f + (f / 4).max(1)
                    };
                    c.min(spec.max_servers)
                }
                (None, Some(p)) => {
                    if p <= 1 {
                        return Next::Done;
                    }
                    p / 2
                }
                (Some(f), Some(p)) => {
                    if p <= f + 1 {
                        return Next::Done;
                    }
                    f + (p - f) / 2
                }
            };
            Next::Try((scale, Some(c)))
        }
    }
}

/// Why more servers of `hop` than a failing step's cannot make it pass, if they cannot:
///
/// - another station is offered at least its capacity: its offered load (the traffic
///   equations) does not depend on `hop`'s servers, so every count is unstable;
/// - no message waited for one of `hop`'s servers in any replication (its waiting probability
///   and its longest queue are 0). Every replication replays the same arrivals and draws at
///   every count (common random numbers), and a visit that found a free server among c finds
///   one among more, so each sample path, and with it the verdict, is the same at every
///   larger count. (Strictly so when the warm-up had no queue at the hop either; the window
///   alone is measured.)
fn more_servers_cannot_help(step: &Step, hop: &str) -> Option<String> {
    let c = step.servers?;
    if let Verdict::Unstable { station, .. } = &step.verdict {
        return (station != hop)
            .then(|| format!("{station}'s load does not depend on {hop}'s servers"));
    }
    let v = step.outcome.as_ref()?;
    let s = v.stations.iter().find(|s| s.name == hop)?;
    let waited = s.summary.wait_probability.mean;
    let longest = s.summary.max_queue_len.mean;
    (waited == 0.0 && longest == 0.0).then(|| {
        format!(
            "no message waited for a {hop} server at {c} servers, so more cannot shorten \
             the latency that misses the SLO"
        )
    })
}

/// Folds the verdict of the step just pushed into the search state.
fn record(st: &mut State, ans: &mut VariantAnswer, scale: f64, servers: Option<u32>) {
    let idx = ans.steps.len() - 1;
    let pass = ans.steps[idx].verdict.passes();
    match st {
        State::Load { lo, hi, .. } => {
            if pass {
                if lo.is_none_or(|(l, _)| scale > l) {
                    *lo = Some((scale, idx));
                }
            } else if hi.is_none_or(|(h, _)| scale < h) {
                *hi = Some((scale, idx));
            }
            ans.last_pass = lo.map(|x| x.1);
            ans.first_fail = hi.map(|x| x.1);
        }
        State::Servers {
            lo_fail,
            hi_pass,
            hop,
            hopeless,
            ..
        } => {
            let c = servers.expect("servers search");
            if pass {
                if hi_pass.is_none_or(|(p, _)| c < p) {
                    *hi_pass = Some((c, idx));
                }
            } else if lo_fail.is_none_or(|(f, _)| c > f) {
                *lo_fail = Some((c, idx));
                if hi_pass.is_none()
                    && let Some(why) = more_servers_cannot_help(&ans.steps[idx], hop)
                {
                    *hopeless = true;
                    ans.cannot_help = Some(why);
                }
            }
            ans.last_pass = hi_pass.map(|x| x.1);
            ans.first_fail = lo_fail.map(|x| x.1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flag values out of range are quoted short (`1.000e300`, not 301 digits).
    #[test]
    fn flag_errors_quote_numbers_short() {
        assert_eq!(
            CapacityError::Precision(1e300).to_string(),
            "--bracket must be greater than 0 and below 1, got 1.000e300"
        );
        assert_eq!(
            CapacityError::Scale(-0.5).to_string(),
            "--scale must be a number greater than 0, got -0.5"
        );
        assert!(
            CapacityError::Headroom(2e200)
                .to_string()
                .ends_with("got 2.000e200")
        );
    }
    use crate::scenario::{LoadOptions, from_text};

    #[test]
    fn slos_parse_with_units() {
        let s = parse_slo("inbound_to_onprem.p99<=60s").unwrap();
        assert_eq!(s.flow, "inbound_to_onprem");
        assert_eq!(s.metric, Metric::P99);
        assert_eq!(s.limit_ms, 60_000.0);
        assert_eq!(parse_slo("a.b.mean <= 250ms").unwrap().limit_ms, 250.0);
        assert_eq!(parse_slo("x.p999<=1.5min").unwrap().limit_ms, 90_000.0);
        for (bad, needle) in [
            ("x.p99=60s", "flow.metric<=limit"),
            ("x.p99<60s", "`<` is not accepted"),
            ("x.p95<=60s", "p50, p90"),
            ("x.p99<=60", "unit"),
            ("x.p99<=60h", "not a unit"),
            ("x.p99<=-1s", "greater than 0"),
            (".p99<=1s", "flow.metric"),
        ] {
            let e = parse_slo(bad).unwrap_err().to_string();
            assert!(e.contains(needle), "{bad}: {e}");
        }
    }

    /// P(T > t) for the sojourn time T of an M/M/c queue (FIFO): with probability 1 − C the
    /// wait is 0 and T is the service Exp(μ); otherwise the wait is Exp(a), a = cμ − λ, and T
    /// is the sum of the two exponentials (C is Erlang's C formula).
    fn mmc_sojourn_tail(lambda: f64, mu: f64, c: u32, t: f64) -> f64 {
        let a_load = lambda / mu;
        let mut term = 1.0;
        let mut sum = 0.0;
        for k in 0..c {
            if k > 0 {
                term *= a_load / f64::from(k);
            }
            sum += term;
        }
        let last = term * a_load / f64::from(c) * f64::from(c) / (f64::from(c) - a_load);
        let erlang_c = last / (sum + last);
        let a = f64::from(c) * mu - lambda;
        // The sum of Exp(a) and Exp(μ); when a = μ it is Erlang-2.
        let hypo = if (a - mu).abs() < 1e-9 * mu {
            (1.0 + mu * t) * (-mu * t).exp()
        } else {
            (a * (-mu * t).exp() - mu * (-a * t).exp()) / (a - mu)
        };
        (1.0 - erlang_c) * (-mu * t).exp() + erlang_c * hypo
    }

    /// The sojourn time's q-quantile, by bisection on the tail.
    fn mmc_quantile(lambda: f64, mu: f64, c: u32, q: f64) -> f64 {
        let (mut lo, mut hi) = (0.0, 1e6);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mmc_sojourn_tail(lambda, mu, c, mid) > 1.0 - q {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// The largest λ whose p99 sojourn is `slo_s` (the quantile grows with λ).
    fn lambda_at(mu: f64, c: u32, slo_s: f64) -> f64 {
        let (mut lo, mut hi) = (1e-9, f64::from(c) * mu * (1.0 - 1e-12));
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mmc_quantile(mid, mu, c, 0.99) <= slo_s {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn mmc(rate: f64, servers: u32) -> Scenario {
        let text = format!(
            "[run]\nduration_s = 20000\nwarmup_s = 200\nseed = 7\nreplications = 5\n\
             [sources.a]\nrate_per_s = {rate}\nroute = \"r\"\n\
             [hops.q]\nservers = {servers}\nservice_ms = {{ dist = \"exponential\", rate_per_s = 10 }}\n\
             [routes.r]\nsteps = [\"q\"]\ndeliver = \"f\"\n"
        );
        from_text(&text, "mmc.toml", "mmc", LoadOptions::default()).unwrap()
    }

    /// One SLO, searched by `knob`: bracket 1%, at most 1000 servers, fixed replications.
    fn test_spec(slo: &str, knob: Knob) -> SearchSpec {
        SearchSpec {
            slos: vec![parse_slo(slo).unwrap()],
            knob,
            start: None,
            bracket: 0.01,
            min_scale: 1e-3,
            max_servers: 1000,
            headroom: None,
            replicate: None,
        }
    }

    #[test]
    fn sojourn_formula_checks_out() {
        // c = 1: T is Exp(μ − λ), so P(T > t) = exp(−(μ − λ) t).
        let p = mmc_sojourn_tail(6.0, 10.0, 1, 0.3);
        assert!((p - (-4.0f64 * 0.3).exp()).abs() < 1e-12, "{p}");
    }

    /// The load search on an M/M/2 queue (μ = 10/s per server, base λ = 10/s) against the
    /// analytic largest λ whose p99 sojourn is within 1 s.
    ///
    /// Tolerance: at the last passing scale the simulated p99's interval lies under the SLO,
    /// and at the first failing one its upper end lies over it; with h the larger relative
    /// half-width of those two intervals, the true p99 at the last pass is at most the SLO
    /// (up to one more h, should the interval miss), and at the first failure at least
    /// SLO × (1 − 3h) (the upper end minus the full interval, less one more h). So the answer
    /// must lie between λ(SLO × (1 − 3h)) and λ(SLO × (1 + h)) computed exactly, and the
    /// bracket must be within the stated precision.
    #[test]
    fn load_search_finds_the_erlang_c_answer() {
        let scn = mmc(10.0, 2);
        let spec = test_spec("f.p99<=1s", Knob::LoadScale);
        let out = search(&scn, &spec, RunOptions::default(), &|_| {}, &|| {}).unwrap();
        let a = &out.answers[0];
        let pass = &a.steps[a.last_pass.expect("feasible")];
        let fail = &a.steps[a.first_fail.expect("bracketed")];
        let exact = lambda_at(10.0, 2, 1.0);
        let rel_half = |s: &Step| {
            let m = s.figures[0].expect("simulated");
            let (lo, hi) = m.ci95.unwrap();
            (hi - lo) / 2.0 / m.mean
        };
        let h = rel_half(pass).max(if fail.outcome.is_some() {
            rel_half(fail)
        } else {
            0.0
        });
        let (l_pass, l_fail) = (pass.load_scale * 10.0, fail.load_scale * 10.0);

        let lower = lambda_at(10.0, 2, 1.0 - 3.0 * h);
        let upper = lambda_at(10.0, 2, 1.0 + h);
        assert!(
            l_pass <= upper && l_fail >= lower,
            "exact λ {exact:.3}; search: last pass {l_pass:.3}, first fail {l_fail:.3}; allowed [{lower:.3}, {upper:.3}] (h = {h:.4})"
        );
        assert!((l_fail - l_pass) <= 0.01 * l_pass + 1e-9);
        assert!(out.confidence() > 0.97);
    }

    /// The servers search on M/M/c at λ = 30/s, μ = 10/s: the fewest servers whose exact p99
    /// sojourn is within an SLO set midway (geometrically) between the p99s of c* − 1 and c*
    /// servers. The two differ by far more than the simulated p99's interval, so the answer
    /// must be c* exactly.
    #[test]
    fn servers_search_finds_the_fewest_servers() {
        let lambda = 30.0;
        let q = |c| mmc_quantile(lambda, 10.0, c, 0.99);
        let c_star = 5;
        let slo_s = (q(c_star) * q(c_star - 1)).sqrt();
        // At least 20% apart: the SLO is then ~10% from each, several times the p99's
        // relative interval half-width (~2% with these runs).
        let ratio = q(c_star - 1) / q(c_star);
        assert!(ratio > 1.2, "a clear gap between c* − 1 and c*: {ratio}");
        let scn = mmc(lambda, 40);
        let spec = test_spec(
            &format!("f.p99<={}ms", slo_s * 1e3),
            Knob::Servers("q".into()),
        );
        let out = search(&scn, &spec, RunOptions::default(), &|_| {}, &|| {}).unwrap();
        let a = &out.answers[0];
        assert_eq!(a.steps[a.last_pass.unwrap()].servers, Some(c_star));
        assert_eq!(a.steps[a.first_fail.unwrap()].servers, Some(c_star - 1));
        let e = search(
            &scn,
            &SearchSpec {
                knob: Knob::Servers("nope".into()),
                ..spec
            },
            RunOptions::default(),
            &|_| {},
            &|| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("hops: q"), "{e}");
    }

    /// A servers search stops as soon as more servers cannot help, instead of growing the
    /// count to `max_servers`:
    /// - an SLO below the service time alone (p99 of Exp(10/s) is 461 ms against 100 ms)
    ///   fails at every count; the search stops at the first count at which no message waited
    ///   (with λ = 30/s that is some tens of servers, far below the 1000 allowed), and that
    ///   count's figures equal those of twice as many servers exactly (the same sample path);
    /// - a second hop offered 300% of its one server is unstable whatever `q` has: one step.
    #[test]
    fn servers_search_stops_when_more_servers_cannot_help() {
        let text = |h_servers: u32, q_servers: u32| {
            format!(
                "[run]\nduration_s = 400\nwarmup_s = 0\nseed = 7\nreplications = 3\n\
                 [sources.a]\nrate_per_s = 30\nroute = \"r\"\n\
                 [hops.q]\nservers = {q_servers}\nservice_ms = {{ dist = \"exponential\", rate_per_s = 10 }}\n\
                 [hops.h]\nservers = {h_servers}\nservice_ms = {{ dist = \"exponential\", rate_per_s = 10 }}\n\
                 [routes.r]\nsteps = [\"q\", \"h\"]\ndeliver = \"f\"\n"
            )
        };
        let opts = LoadOptions {
            allow_unstable: true,
        };
        let scn = |h, q| from_text(&text(h, q), "two.toml", "two", opts).unwrap();
        let spec = test_spec("f.p99<=100ms", Knob::Servers("q".into()));
        let out = search(&scn(1000, 4), &spec, RunOptions::default(), &|_| {}, &|| {}).unwrap();
        let a = &out.answers[0];
        assert!(!a.feasible());
        let why = a.cannot_help.as_deref().expect("stopped early");
        assert!(why.contains("no message waited for a q server"), "{why}");
        let last = &a.steps[a.first_fail.unwrap()];
        let c = last.servers.unwrap();
        assert!(
            c < 100 && a.steps.len() < 20,
            "{c} servers, {} steps",
            a.steps.len()
        );
        // The same sample path at 2c: the SLO figure is equal to the last bit.
        let twice = runner::run(&scn(1000, 2 * c), RunOptions::default(), &|| {}).unwrap();
        let (_, figs) = judge(&twice.variants[0], &spec);
        assert_eq!(figs[0].unwrap().mean, last.figures[0].unwrap().mean);

        let out = search(&scn(1, 4), &spec, RunOptions::default(), &|_| {}, &|| {}).unwrap();
        let a = &out.answers[0];
        assert_eq!((a.feasible(), a.steps.len(), out.simulated), (false, 1, 0));
        assert_eq!(
            a.cannot_help.as_deref(),
            Some("h's load does not depend on q's servers")
        );
    }

    /// Morse's M/M/1 relaxation time: μ = 10/s, ρ = 0.81 → 1 / (10 × (1 − 0.9)²) = 10 s; with
    /// c servers the pooled rate cμ = λ/ρ replaces μ.
    #[test]
    fn relaxation_time_follows_morse() {
        let t = relaxation_time_s(0.81, 8.1).unwrap();
        assert!((t - 10.0).abs() < 1e-9, "{t}");
        // Four servers of 2.5/s at the same ρ: the same pooled rate, the same time.
        assert!((relaxation_time_s(0.81, 8.1).unwrap() - t).abs() < 1e-12);
        assert!(relaxation_time_s(1.0, 8.0).is_none() && relaxation_time_s(0.5, 0.0).is_none());
        // It grows without bound toward saturation.
        assert!(relaxation_time_s(0.99, 9.9).unwrap() > 100.0 * t);
    }

    fn step(u: f64, window_s: f64, relax_s: f64) -> Step {
        Step {
            load_scale: 1.0,
            servers: None,
            verdict: Verdict::Pass,
            figures: vec![],
            bottleneck: Some(("q".into(), u)),
            bottleneck_ci95: None,
            relaxation_s: Some(relax_s),
            window_s: Some(window_s),
            replications: 3,
            precision_met: None,
            precision_settled: false,
            outcome: None,
        }
    }

    /// The relaxation time's interval follows Morse's formula at the utilization interval's
    /// ends with the estimate's cμ: ρ = 0.81 and 10 s give cμ = 1 / (10 × 0.1²) = 10/s, so
    /// t(0.64) = 1 / (10 × (1 − 0.8)²) = 2.5 s and t(0.9) = 1 / (10 × (1 − √0.9)²) ≈ 37.4 s.
    #[test]
    fn relaxation_interval_maps_the_utilization_interval() {
        let mut s = step(0.81, 5000.0, 10.0);
        s.bottleneck_ci95 = Some((0.64, 0.9));
        let (lo, hi) = s.relaxation_ci95().unwrap();
        assert!((lo - 2.5).abs() < 1e-9, "{lo}");
        let want = 1.0 / (10.0 * (1.0 - 0.9f64.sqrt()).powi(2));
        assert!((hi - want).abs() < 1e-9, "{hi} vs {want}");
        s.bottleneck_ci95 = Some((0.8, 1.0));
        assert!(s.relaxation_ci95().unwrap().1.is_infinite());
    }

    #[test]
    fn fragile_above_90_percent_or_under_50_relaxation_times() {
        assert!(step(0.85, 5000.0, 10.0).fragility().is_empty());
        let f = step(0.95, 5000.0, 10.0).fragility();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].label(), "bottleneck_over_90pct");
        let f = step(0.85, 400.0, 10.0).fragility();
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].label(), "run_too_short");
        assert_eq!(step(0.95, 400.0, 10.0).fragility().len(), 2);
    }

    /// M/M/2 (μ = 10/s per server) with a loose SLO: without headroom the answer sits near
    /// saturation and is marked fragile; with `--headroom 0.8` every passing step's
    /// utilization interval lies under 0.8, the answer's first failing neighbour fails on
    /// headroom, and the answer is near ρ = 0.8 (λ = 16/s: base λ = 10/s, so scale ≈ 1.6).
    /// The progress callbacks announce exactly the runs they then report done, round by
    /// round, so the bar's total only grows and ends equal to its position.
    #[test]
    fn headroom_fails_busy_configurations_and_answers_are_marked_fragile() {
        let text = "[run]\nduration_s = 2000\nwarmup_s = 100\nseed = 7\nreplications = 3\n\
             [sources.a]\nrate_per_s = 10\nroute = \"r\"\n\
             [hops.q]\nservers = 2\nservice_ms = { dist = \"exponential\", rate_per_s = 10 }\n\
             [routes.r]\nsteps = [\"q\"]\ndeliver = \"f\"\n";
        let scn = from_text(text, "mmc.toml", "mmc", LoadOptions::default()).unwrap();
        let spec = spec_from_args(&["f.p99<=60s".into()], None, None, 0.02, None).unwrap();
        let out = search(&scn, &spec, RunOptions::default(), &|_| {}, &|| {}).unwrap();
        let a = &out.answers[0];
        let p = &a.steps[a.last_pass.unwrap()];
        assert!(p.bottleneck.as_ref().unwrap().1 > 0.9);
        assert!(!p.fragility().is_empty());

        let planned = std::sync::atomic::AtomicU64::new(0);
        let done = std::sync::atomic::AtomicU64::new(0);
        let totals = std::sync::Mutex::new(Vec::new());
        let spec = spec_from_args(&["f.p99<=60s".into()], None, None, 0.02, Some(0.8)).unwrap();
        let out = search(
            &scn,
            &spec,
            RunOptions::default(),
            &|n| {
                let t = planned.fetch_add(n, std::sync::atomic::Ordering::SeqCst) + n;
                totals.lock().unwrap().push(t);
            },
            &|| {
                done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            },
        )
        .unwrap();
        let totals = totals.into_inner().unwrap();
        assert!(totals.windows(2).all(|w| w[0] <= w[1]), "{totals:?}");
        assert_eq!(planned.into_inner(), done.into_inner());
        let a = &out.answers[0];
        let p = &a.steps[a.last_pass.unwrap()];
        let f = &a.steps[a.first_fail.unwrap()];
        assert!(
            matches!(f.verdict, Verdict::Headroom { .. }),
            "{:?}",
            f.verdict
        );
        for s in a.steps.iter().filter(|s| s.verdict.passes()) {
            assert!(s.bottleneck_ci95.unwrap().1 <= 0.8);
        }
        // ρ = λ / 20 at scale k: λ = 10 k. The pass is within the 2% bracket of ρ = 0.8 less
        // the utilization's interval (a few tenths of a percent at 2000 s × 3 replications).
        assert!(
            p.load_scale > 1.5 && p.load_scale <= 1.6,
            "{}",
            p.load_scale
        );
        assert!(spec_from_args(&["f.p99<=60s".into()], None, None, 0.02, Some(1.5)).is_err());
    }
}
