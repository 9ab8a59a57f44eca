//! The back-test: `calibrated.toml` run over the period the logs cover, for the routing
//! variant they were written under, compared flow by flow with what the logs show (hourly
//! recipient copies, latency p50/p90/p99, each calibrated hop's volume and queue waits).
//!
//! The logs are one realization of the organization's traffic, so each observed figure is
//! judged against a 95% prediction interval for one realization from the replications'
//! figures (mean ± t(n − 1, 0.975) · s · √(1 + 1/n), [`crate::stats::prediction95`]), not
//! against the simulated mean's confidence interval (which shrinks with more replications
//! while a realization's spread does not) nor by the overlap of the observed interval (the
//! observed queue waits' intervals treat waits as independent, about half the real spread
//! between realizations).
//!
//! The verdict decides on several figures at once (each flow's volume, each hop's volume and
//! queue waits), so it uses the *joint* interval: each deciding figure's prediction interval
//! at level 1 − 0.05/k for the k deciding figures (Bonferroni), so that when the model is
//! right all k lie inside together with at least 95% probability. With per-figure 95%
//! intervals, ten figures of a right model would fail about 40% of the time (1 − 0.95¹⁰).
//!
//! The simulation goes through [`crate::scenario::from_text`] and [`crate::runner::run`] like
//! any user's scenario. A comparison is made only where the log's measurement ends where the
//! model's does (on-premises delivery, hand-off to the Internet) and the routing lets the logs
//! see the flow; the others are listed as not comparable, with the reason.
//!
//! Must not: write files or print (main.rs does both).

use serde::Serialize;
use toml_edit::{Array, DocumentMut, InlineTable, value};

use super::classify::{FLOWS, Source, measured_to};
use super::estimate::{self, Estimate};
use super::pipeline::Calibrated;
use super::scenario_out::{Visibility, visibility};
use crate::hybrid::Mx;
use crate::runner::{self, RunError, RunOptions};
use crate::scenario::{self, ScenarioError};
use crate::stats::summary::{FlowFigure, StationReplication};
use crate::stats::{MeanCi, prediction95};

#[derive(Debug, thiserror::Error)]
pub enum BacktestError {
    #[error("the back-test scenario does not load: {0}")]
    Scenario(#[source] ScenarioError),
    #[error("the back-test simulation failed: {0}")]
    Run(#[source] RunError),
}

impl BacktestError {
    pub fn exit_code(&self) -> u8 {
        match self {
            BacktestError::Scenario(_) => 2,
            BacktestError::Run(e) => e.exit_code(),
        }
    }
}

/// The columns of `backtest.csv` (later ones added at the end, so older spreadsheets' column
/// positions still hold).
pub const HEADER: [&str; 20] = [
    "flow",
    "statistic",
    "unit",
    "observed",
    "observed_ci95_lo",
    "observed_ci95_hi",
    "simulated",
    "simulated_ci95_lo",
    "simulated_ci95_hi",
    "relative_error",
    "inside_simulated_ci95",
    "intervals_overlap",
    "note",
    "simulated_pi95_lo",
    "simulated_pi95_hi",
    "inside_simulated_pi95",
    "method",
    "simulated_pi_joint_lo",
    "simulated_pi_joint_hi",
    "inside_simulated_pi_joint",
];

/// One comparison: a flow's statistic, observed vs simulated.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct BacktestRow {
    pub flow: String,
    pub statistic: String,
    pub unit: String,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub observed: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub observed_ci95_lo: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub observed_ci95_hi: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated_ci95_lo: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated_ci95_hi: Option<f64>,
    /// (simulated − observed) ÷ observed.
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub relative_error: Option<f64>,
    /// The observation lies inside the simulated mean's 95% confidence interval.
    pub inside_simulated_ci95: Option<bool>,
    /// The observation's and the simulated mean's 95% intervals overlap (for information; the
    /// pass criterion is `inside_simulated_pi95`).
    pub intervals_overlap: Option<bool>,
    /// Why a flow is not compared, if it is not.
    pub note: String,
    /// The 95% prediction interval for one realization, from the replications' figures.
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated_pi95_lo: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated_pi95_hi: Option<f64>,
    /// The observation lies inside the prediction interval (the pass criterion of a row
    /// judged alone).
    pub inside_simulated_pi95: Option<bool>,
    /// How the row was judged.
    pub method: String,
    /// For a row the verdict decides on: its prediction interval at level 1 − 0.05/k, k the
    /// deciding rows (see the module docs).
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated_pi_joint_lo: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub simulated_pi_joint_hi: Option<f64>,
    /// The observation lies inside the joint interval (the verdict's pass criterion).
    pub inside_simulated_pi_joint: Option<bool>,
    /// Replications with a finite figure (the prediction interval's n).
    #[serde(skip)]
    pub pi_n: usize,
}

impl BacktestRow {
    /// The row fails the back-test: the observation lies outside the joint interval (a row
    /// the verdict decides on), else outside its 95% prediction interval, else (fewer than
    /// two replications: no prediction interval) the two confidence intervals do not overlap.
    pub fn fails(&self) -> bool {
        match self
            .inside_simulated_pi_joint
            .or(self.inside_simulated_pi95)
        {
            Some(inside) => !inside,
            None => self.intervals_overlap == Some(false),
        }
    }

    /// Sets the joint interval of a deciding row, one of `k`: the 95% prediction interval
    /// widened by t(n − 1, 1 − 0.025/k) ÷ t(n − 1, 0.975) about the mean (same s and n).
    fn judge_jointly(&mut self, k: usize) {
        let (Some(lo), Some(hi)) = (self.simulated_pi95_lo, self.simulated_pi95_hi) else {
            return;
        };
        let widen = crate::stats::t_quantile(self.pi_n, 1.0 - 0.025 / k as f64)
            / crate::stats::t_quantile(self.pi_n, 0.975);
        let (mid, half) = ((lo + hi) / 2.0, (hi - lo) / 2.0 * widen);
        self.simulated_pi_joint_lo = Some(mid - half);
        self.simulated_pi_joint_hi = Some(mid + half);
        self.inside_simulated_pi_joint = self.observed.map(|o| mid - half <= o && o <= mid + half);
        self.method = format!(
            "{}; joint: the same at level 1 - 0.05/{k} (t(n-1, 1 - 0.025/{k})) for the {k} figures the verdict decides on, all inside together with >= 95% probability when the model is right; passes when the observation lies inside",
            self.method
        );
    }
}

/// The `method` of a compared row.
fn method(replications: usize, note: &str) -> String {
    let judged = if replications >= 2 {
        format!(
            "pi95 = mean +- t({}, 0.975) * s * sqrt(1 + 1/{replications}) over the {replications} replications' figures (one realization's 95% range); passes when the observation lies inside",
            replications - 1
        )
    } else {
        "one replication: no prediction interval; the 95% intervals' overlap decides".to_string()
    };
    if note.is_empty() {
        judged
    } else {
        format!("{judged}; {note}")
    }
}

/// The back-test's result.
#[derive(Clone, Debug)]
pub struct Backtest {
    pub scenario_text: String,
    pub rows: Vec<BacktestRow>,
    /// One line per comparable flow, a planner can paste.
    pub verdict: Vec<String>,
    /// Every deciding comparison's observation lies inside its joint interval.
    pub passed: bool,
    pub replications: u32,
    pub compared: usize,
}

/// The back-test scenario: `calibrated` with one variant (the current routing), run for the
/// logged period from the logs' first hour, no warm-up.
pub fn scenario_text(c: &Calibrated, replications: u32) -> Result<String, BacktestError> {
    let mut doc: DocumentMut = c
        .toml
        .parse()
        .expect("calibrated.toml was produced and loaded by calibrate");
    let v = c.routing.variant;
    doc["run"]["duration_s"] = value((c.cal.period_hours * 3600) as i64);
    doc["run"]["warmup_s"] = value(0);
    doc["run"]["replications"] = value(i64::from(replications));
    let mut variant = InlineTable::new();
    variant.insert(
        "mx",
        match v.mx {
            Mx::Eop => "eop",
            Mx::Onprem => "onprem",
        }
        .into(),
    );
    variant.insert(
        "centralized_mail_transport",
        v.centralized_mail_transport.into(),
    );
    let mut list = Array::new();
    list.push(variant);
    doc["hybrid"]["variants"] = value(list);
    doc["load"]["shape"]["start_day"] = value(c.cal.start_day);
    doc["load"]["shape"]["start_hour"] = value(i64::from(c.cal.start_hour));
    let text = format!(
        "# Back-test of calibrated.toml: the logged period ({} hours from {}), routing {}.\n{doc}",
        c.cal.period_hours,
        c.cal.period_start,
        v.name()
    );
    Ok(text)
}

/// Whether the logs show `flow`'s every copy (then its hourly volume is compared), and
/// whether its latency is measured to where the model's ends (then its latency rows are
/// shown too; informational either way). Err: why the flow is not compared at all.
fn comparable(c: &Calibrated, flow: usize) -> Result<bool, String> {
    let source = match flow {
        0 | 1 => Source::Inbound,
        2 => Source::OutboundFromOnprem,
        3 => Source::OutboundFromCloud,
        4 => Source::OnpremToCloud,
        5 => Source::CloudToOnprem,
        6 => Source::OnpremInternal,
        _ => Source::CloudInternal,
    };
    let vis = visibility(source, c.routing.variant, c.sides);
    let seen = matches!(
        (vis, flow),
        (Visibility::Full, _) | (Visibility::OnpremCopies, 0) | (Visibility::CloudCopies, 1)
    );
    if !seen {
        return Err(format!(
            "not in these logs under routing {}",
            c.routing.variant.name()
        ));
    }
    let to = measured_to(flow, c.sides);
    Ok(to == "on-premises delivery" || to == "hand-off to the Internet")
}

fn mean_ci_of(m: &MeanCi, k: f64) -> Estimate {
    Estimate {
        value: m.mean * k,
        n: 0,
        ci95: m.ci95.map(|(a, b)| (a * k, b * k)),
    }
}

/// One compared figure: the observation against the simulated mean (with its confidence
/// interval) and the prediction interval of one realization from `per_replication` (the
/// replications' own figures, in the same unit as `sim`).
fn compare(
    flow: &str,
    stat: &str,
    unit: &str,
    obs: Estimate,
    sim: Estimate,
    per_replication: &[f64],
) -> BacktestRow {
    let rel = (obs.value.is_finite() && sim.value.is_finite() && obs.value != 0.0)
        .then(|| (sim.value - obs.value) / obs.value);
    let inside = sim.ci95.map(|(lo, hi)| lo <= obs.value && obs.value <= hi);
    let overlap = match (obs.ci95, sim.ci95) {
        (Some((a, b)), Some((c, d))) => Some(a <= d && c <= b),
        (None, Some(_)) => inside,
        _ => None,
    };
    let pi = prediction95(per_replication);
    let f = |x: f64| x.is_finite().then_some(x);
    let n = per_replication.iter().filter(|x| x.is_finite()).count();
    BacktestRow {
        flow: flow.to_string(),
        statistic: stat.to_string(),
        unit: unit.to_string(),
        observed: f(obs.value),
        observed_ci95_lo: obs.ci95.map(|c| c.0),
        observed_ci95_hi: obs.ci95.map(|c| c.1),
        simulated: f(sim.value),
        simulated_ci95_lo: sim.ci95.map(|c| c.0),
        simulated_ci95_hi: sim.ci95.map(|c| c.1),
        relative_error: rel,
        inside_simulated_ci95: inside,
        intervals_overlap: overlap,
        note: String::new(),
        simulated_pi95_lo: pi.map(|c| c.0),
        simulated_pi95_hi: pi.map(|c| c.1),
        inside_simulated_pi95: pi
            .filter(|_| obs.value.is_finite())
            .map(|(lo, hi)| lo <= obs.value && obs.value <= hi),
        method: method(n, ""),
        simulated_pi_joint_lo: None,
        simulated_pi_joint_hi: None,
        inside_simulated_pi_joint: None,
        pi_n: n,
    }
}

/// Runs the back-test with `replications` replications (seeded by the scenario's seed).
pub fn run(
    c: &Calibrated,
    replications: u32,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<Backtest, BacktestError> {
    let text = scenario_text(c, replications)?;
    let scn = scenario::from_text(
        &text,
        "backtest.toml",
        "backtest",
        scenario::LoadOptions::default(),
    )
    .map_err(BacktestError::Scenario)?;
    let study =
        runner::run(&scn, RunOptions::default(), on_unit_done).map_err(BacktestError::Run)?;
    let v = &study.variants[0];
    let hours = c.cal.period_hours as f64;
    let mut rows = Vec::new();
    // The verdict's lines, rendered once every deciding row is judged jointly.
    let mut verdict: Vec<Line> = Vec::new();
    let mut passed = true;
    let mut compared = 0;
    // Indexes in `rows` of the rows the verdict decides on.
    let mut deciding: Vec<usize> = Vec::new();
    for (f, name) in FLOWS.iter().enumerate() {
        let obs_lat = &c.cal.latency[f];
        let total: u64 = c.cal.flow_hourly[f].values().sum();
        let sim = v.flows.iter().find(|(n, _)| n == name).map(|(_, s)| s);
        let latency_comparable = match comparable(c, f) {
            Ok(l) => l,
            Err(why) => {
                if total > 0 || sim.is_some() {
                    rows.push(BacktestRow {
                        flow: name.to_string(),
                        statistic: "all".to_string(),
                        note: why,
                        ..BacktestRow::default()
                    });
                }
                continue;
            }
        };
        if sim.is_none() && total > 0 {
            rows.push(BacktestRow {
                flow: name.to_string(),
                statistic: "all".to_string(),
                observed: Some(total as f64 / hours),
                note: "the base scenario's model has no such flow: not compared".into(),
                ..BacktestRow::default()
            });
            continue;
        }
        let Some(sim) = sim.filter(|s| s.delivered.mean > 0.0) else {
            if total > 0 {
                passed = false;
                verdict.push(Line::Text(format!(
                    "the calibrated model delivers no {name} mail, but the logs have {total} copies"
                )));
            }
            continue;
        };
        if total == 0 {
            continue;
        }
        compared += 1;
        // Each replication's figures: copies per logged hour (its throughput over the
        // statistics window, which is the logged period: no warm-up) and latency in s.
        let per_rep = |fig: FlowFigure, k: f64| -> Vec<f64> {
            sim.per_replication
                .iter()
                .map(|v| v[fig as usize] * k)
                .collect()
        };
        let mut flow_rows = vec![compare(
            name,
            "copies_per_hour",
            "copies_per_hour",
            // Copies come k to a message: compound Poisson, not Poisson (11c).
            estimate::compound_poisson_rate(total, c.cal.flow_copies_sq[f], hours),
            mean_ci_of(&sim.delivered, 1.0 / hours),
            &per_rep(FlowFigure::ThroughputPerS, 3600.0),
        )];
        for (stat, o, s, fig) in [
            ("p50", obs_lat.p50, &sim.p50_ms, FlowFigure::P50Ms),
            ("p90", obs_lat.p90, &sim.p90_ms, FlowFigure::P90Ms),
            ("p99", obs_lat.p99, &sim.p99_ms, FlowFigure::P99Ms),
        ] {
            if o.n > 0 && latency_comparable {
                flow_rows.push(compare(
                    name,
                    &format!("latency_{stat}"),
                    "s",
                    o,
                    mean_ci_of(s, 1e-3),
                    &per_rep(fig, 1e-3),
                ));
            }
        }
        // End-to-end latency includes hops whose times the logs do not give (EOP, Exchange
        // Online, the 2007 mailbox server: kept from the base), so it informs, not decides:
        // only the volume row below decides the flow's verdict.
        for r in flow_rows.iter_mut().skip(1) {
            r.note = "informational: the model's route includes hops the logs do not time".into();
        }
        deciding.push(rows.len());
        verdict.push(Line::Row(rows.len()));
        if let Some(p99) = flow_rows.iter().position(|r| r.statistic == "latency_p99") {
            verdict.push(Line::Informational(rows.len() + p99));
        }
        rows.extend(flow_rows);
    }
    // Each calibrated on-premises hop: messages through it and its queue waits, which the
    // logs time exactly (the latency components) and the model produces from the calibrated
    // processing times, servers and load.
    for h in &c.cal.hops {
        let Some(st) = v.stations.iter().find(|s| s.name == h.hop) else {
            continue;
        };
        let what = format!("hop:{}", h.hop);
        let reps = &st.summary.per_replication;
        let mut hop_rows = vec![compare(
            &what,
            "messages_per_hour",
            "messages_per_hour",
            estimate::poisson_rate(h.visits, hours),
            mean_ci_of(&st.summary.processed, 1.0 / hours),
            &reps.iter().map(|r| r.processed / hours).collect::<Vec<_>>(),
        )];
        type Wait = fn(&StationReplication) -> f64;
        let waits: [(&str, _, _, Wait); 3] = [
            (
                "queue_wait_mean",
                h.wait_mean_ms,
                &st.summary.mean_wait_ms,
                |r| r.mean_wait_ms,
            ),
            (
                "queue_wait_p90",
                h.wait_p90_ms,
                &st.summary.p90_wait_ms,
                |r| r.p90_wait_ms,
            ),
            (
                "queue_wait_p99",
                h.wait_p99_ms,
                &st.summary.p99_wait_ms,
                |r| r.p99_wait_ms,
            ),
        ];
        for (stat, o, s, of) in waits {
            if let Some(o) = o {
                let mut row = compare(
                    &what,
                    stat,
                    "s",
                    o.scaled(1e-3),
                    mean_ci_of(s, 1e-3),
                    &reps.iter().map(|r| of(r) * 1e-3).collect::<Vec<_>>(),
                );
                row.method = format!(
                    "{}; observed_ci95 assumes independent waits (queue waits are correlated, so it is too narrow; not used)",
                    row.method
                );
                hop_rows.push(row);
            }
        }
        compared += 1;
        deciding.extend(rows.len()..rows.len() + hop_rows.len());
        verdict.push(Line::Row(rows.len()));
        if let Some(i) = hop_rows
            .iter()
            .position(|r| r.statistic == "queue_wait_p99")
        {
            verdict.push(Line::Row(rows.len() + i));
        }
        rows.extend(hop_rows);
    }
    let k = deciding
        .iter()
        .filter(|&&i| rows[i].simulated_pi95_lo.is_some())
        .count();
    for &i in &deciding {
        rows[i].judge_jointly(k);
        if rows[i].fails() {
            passed = false;
        }
    }
    let verdict = verdict
        .into_iter()
        .map(|l| match l {
            Line::Row(i) => sentence(&rows[i], k),
            Line::Informational(i) => format!("(informational) {}", sentence(&rows[i], k)),
            Line::Text(t) => t,
        })
        .collect();
    Ok(Backtest {
        scenario_text: text,
        rows,
        verdict,
        passed,
        replications,
        compared,
    })
}

/// A line of the verdict: a row's sentence, an informational row's, or a text.
enum Line {
    Row(usize),
    Informational(usize),
    Text(String),
}

/// The planner's sentence for a row: the joint interval when the row decides (one of `k`),
/// else its own 95% prediction interval, else the mean's interval.
fn sentence(r: &BacktestRow, k: usize) -> String {
    let (Some(o), Some(s), Some(rel)) = (r.observed, r.simulated, r.relative_error) else {
        return format!("{} {}: no comparison", r.flow, r.statistic);
    };
    let (joint, pi, ci) = (
        r.simulated_pi_joint_lo.zip(r.simulated_pi_joint_hi),
        r.simulated_pi95_lo.zip(r.simulated_pi95_hi),
        r.simulated_ci95_lo.zip(r.simulated_ci95_hi),
    );
    let interval = match (joint, pi, ci) {
        (Some((a, b)), _, _) => format!(
            ", prediction interval [{}, {}], 95% for all {k} deciding figures together",
            fmt(a, &r.unit),
            fmt(b, &r.unit)
        ),
        (None, Some((a, b)), _) => format!(
            ", 95% prediction interval [{}, {}]",
            fmt(a, &r.unit),
            fmt(b, &r.unit)
        ),
        (None, None, Some((a, b))) => format!(
            ", mean's 95% interval [{}, {}]",
            fmt(a, &r.unit),
            fmt(b, &r.unit)
        ),
        _ => String::new(),
    };
    let what = what(r);
    let pct = (rel.abs() * 100.0).ceil();
    let verb = if r.fails() {
        "does NOT reproduce"
    } else {
        "reproduces"
    };
    format!(
        "the calibrated model {verb} {} {what} within {pct:.0}% (observed {}, simulated {}{interval})",
        r.flow,
        fmt_unit(o, &r.unit),
        fmt_unit(s, &r.unit)
    )
}

/// What a row's statistic is, in words.
fn what(r: &BacktestRow) -> String {
    match r.statistic.as_str() {
        "copies_per_hour" | "messages_per_hour" => "hourly volume".to_string(),
        "queue_wait_p99" => "p99 queue wait".to_string(),
        s => s.trim_start_matches("latency_").to_string(),
    }
}

fn fmt(v: f64, unit: &str) -> String {
    match unit {
        "s" => format!("{v:.2}"),
        _ => format!("{v:.1}"),
    }
}

fn fmt_unit(v: f64, unit: &str) -> String {
    match unit {
        "s" => format!("{v:.2} s"),
        _ => format!("{v:.1} per hour"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparison_rows_and_sentences() {
        let obs = Estimate {
            value: 2.31,
            n: 1000,
            ci95: Some((2.2, 2.4)),
        };
        // Five replications' p99s: mean 2.22, s² = (0.12² + 0.02² + 0 + 0.03² + 0.11²) / 4
        // = 0.00695; the prediction interval's half-width by hand: t(0.975, 4) × s × √(1 + 1/5)
        // = 2.776445 × √(0.00695 × 1.2) = 2.776445 × 0.0913236 = 0.253553.
        let reps = [2.10, 2.20, 2.22, 2.25, 2.33];
        let sim = Estimate {
            value: 2.22,
            n: 0,
            ci95: Some((2.10, 2.35)),
        };
        let r = compare("inbound_to_onprem", "latency_p99", "s", obs, sim, &reps);
        let (lo, hi) = (r.simulated_pi95_lo.unwrap(), r.simulated_pi95_hi.unwrap());
        assert!((lo - (2.22 - 0.253_553)).abs() < 1e-5, "{lo}");
        assert!((hi - (2.22 + 0.253_553)).abs() < 1e-5, "{hi}");
        assert_eq!(r.inside_simulated_pi95, Some(true));
        assert_eq!(r.inside_simulated_ci95, Some(true));
        assert!(!r.fails());
        assert!(
            r.method.starts_with("pi95 = mean +- t(4, 0.975)"),
            "{}",
            r.method
        );
        assert_eq!(
            sentence(&r, 1),
            "the calibrated model reproduces inbound_to_onprem p99 within 4% (observed 2.31 s, simulated 2.22 s, 95% prediction interval [1.97, 2.47])"
        );
        // Outside the simulated mean's interval but inside the prediction interval: one
        // realization may lie that far from the mean, so it passes.
        let near = Estimate {
            value: 2.45,
            n: 1000,
            ci95: Some((2.44, 2.46)),
        };
        let r = compare("inbound_to_onprem", "latency_p99", "s", near, sim, &reps);
        assert_eq!(r.inside_simulated_ci95, Some(false));
        assert_eq!(r.intervals_overlap, Some(false));
        assert!(!r.fails());
        // Outside the prediction interval fails, even though a wide observed interval
        // overlaps the simulation's (the old criterion would have passed it).
        let far = Estimate {
            value: 2.60,
            n: 1000,
            ci95: Some((2.0, 3.2)),
        };
        let r = compare("inbound_to_onprem", "latency_p99", "s", far, sim, &reps);
        assert_eq!(r.intervals_overlap, Some(true));
        assert_eq!(r.inside_simulated_pi95, Some(false));
        assert!(r.fails());
        assert!(sentence(&r, 1).contains("does NOT reproduce"));
        // One replication: no prediction interval; the intervals' overlap decides.
        let r = compare("inbound_to_onprem", "latency_p99", "s", far, sim, &[2.22]);
        assert_eq!(r.inside_simulated_pi95, None);
        assert!(!r.fails());
        assert!(r.method.starts_with("one replication"), "{}", r.method);
        assert!(sentence(&r, 1).contains("mean's 95% interval [2.10, 2.35]"));
    }

    /// Judged jointly with k deciding rows, a row's interval is its 95% prediction interval
    /// widened by t(4, 1 − 0.025/k) ÷ t(4, 0.975) about the mean: for k = 1 it is the same;
    /// for k = 10, t(4, 0.9975) = 5.5976 against 2.7764 (tables), 2.0161 times wider, so the
    /// observation 2.60 s that fails alone (outside [1.97, 2.47]) passes among ten.
    #[test]
    fn joint_intervals_widen_by_the_bonferroni_quantile() {
        let reps = [2.10, 2.20, 2.22, 2.25, 2.33];
        let sim = Estimate {
            value: 2.22,
            n: 0,
            ci95: Some((2.10, 2.35)),
        };
        let far = Estimate {
            value: 2.60,
            n: 1000,
            ci95: Some((2.59, 2.61)),
        };
        let alone = compare("f", "copies_per_hour", "copies_per_hour", far, sim, &reps);
        let mut one = alone.clone();
        one.judge_jointly(1);
        assert!(
            (one.simulated_pi_joint_lo.unwrap() - alone.simulated_pi95_lo.unwrap()).abs() < 1e-12
        );
        assert!(one.fails());
        let mut ten = alone.clone();
        ten.judge_jointly(10);
        let w = |lo: Option<f64>, hi: Option<f64>| hi.unwrap() - lo.unwrap();
        let ratio = w(ten.simulated_pi_joint_lo, ten.simulated_pi_joint_hi)
            / w(alone.simulated_pi95_lo, alone.simulated_pi95_hi);
        assert!((ratio - 5.5976 / 2.7764).abs() < 1e-3, "{ratio}");
        assert_eq!(ten.inside_simulated_pi95, Some(false));
        assert_eq!(ten.inside_simulated_pi_joint, Some(true));
        assert!(!ten.fails());
        assert!(
            sentence(&ten, 10).ends_with("95% for all 10 deciding figures together)"),
            "{}",
            sentence(&ten, 10)
        );
    }
}
