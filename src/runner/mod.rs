//! Runs a scenario: one work unit per variant × replication, in parallel on rayon, then
//! summaries per variant.
//!
//! A work unit is computable alone: its random streams derive from the master seed and the
//! replication index only (see [`crate::engine::RngStreams`]), and results are collected in
//! unit order, so the output is the same whatever the thread count or scheduling.
//!
//! Scheduling (which never changes a result): units start longest first, by an estimate of
//! their events from the traffic equations ([`unit_cost`]), and each worker takes the next
//! unit when it finishes one, so the last units to finish are short ones and the threads end
//! together. Worker pools are built once per thread count and reused by every later batch
//! (the rounds of a capacity search, the points of a sweep).

pub mod precision;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::engine::{RngStreams, SimTime};
use crate::model::network::StationKind;
use crate::model::sim::{MailSim, RunLimits, RunResult};
use crate::scenario::{CostBasis, Scenario, VariantModel};
use crate::stats::summary::{FlowSummary, StationSummary, summarize_flow, summarize_station};
use crate::stats::{Accounting, ConservationError, MeanCi, OutageRecord, mean_ci};

/// Command-line overrides of the scenario's run settings.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    pub seed: Option<u64>,
    pub replications: Option<u32>,
    /// Worker threads; None uses rayon's default (one per core).
    pub threads: Option<usize>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot start {threads} worker threads: {source}")]
    Threads {
        threads: usize,
        source: rayon::ThreadPoolBuildError,
    },
    #[error(
        "`warmup_s = \"auto\"` cannot be sharded: every shard would need the whole pilot run; run once without --shard, then set run.warmup_s to the warm-up its manifest records"
    )]
    AutoWarmupSharded,
    #[error(
        "--precision cannot be combined with --shard: how many replications it needs is known only as they run; run it unsharded, or run a pilot with --precision and shard the replications its manifest records with --replications N (README, \"Replications until precise\")"
    )]
    PrecisionSharded,
    #[error(
        "--max-replications {max} is below the first round's {first} replications; pass a larger --max-replications or fewer --replications"
    )]
    MaxReplications { max: u32, first: u32 },
    #[error("`--baseline {name}` is not a variant of the scenario; variants: {accepted}")]
    UnknownBaseline { name: String, accepted: String },
    #[error("variant `{variant}`, replication {replication}: {source}")]
    Conservation {
        variant: String,
        replication: u32,
        source: ConservationError,
    },
}

impl RunError {
    /// The process exit code this error calls for (see [`crate::error`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            RunError::Threads { .. }
            | RunError::UnknownBaseline { .. }
            | RunError::AutoWarmupSharded
            | RunError::PrecisionSharded
            | RunError::MaxReplications { .. } => crate::error::BAD_INPUT,
            RunError::Conservation { .. } => crate::error::FAILED_CHECK,
        }
    }
}

/// One work unit: a variant and a replication index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Unit {
    pub variant: usize,
    pub replication: u32,
}

/// Simulates one unit.
pub fn simulate(scn: &Scenario, unit: Unit, seed: u64) -> Result<RunResult, RunError> {
    let v = &scn.variants[unit.variant];
    let limits = RunLimits {
        warmup: scn.run.warmup,
        duration: scn.run.duration,
        max_messages: scn.run.max_messages,
    };
    let rng = RngStreams::new(seed, u64::from(unit.replication));
    MailSim::new(&v.network, &v.sources, rng, limits, scn.run.retry)
        .run()
        .map_err(|source| RunError::Conservation {
            variant: v.name.clone(),
            replication: unit.replication,
            source,
        })
}

/// Summaries of one variant across its replications.
#[derive(Clone, Debug)]
pub struct VariantOutcome {
    pub name: String,
    /// Per flow of the variant's network, in network order: (flow name, summary).
    pub flows: Vec<(String, FlowSummary)>,
    /// Per station, in network order.
    pub stations: Vec<StationOutcome>,
    /// Summed over replications.
    pub accounting: Accounting,
    pub events: u64,
    /// Simulated time summed over replications.
    pub simulated: SimTime,
    /// Traffic figures per meter slot (slot 0 unused; see `model::network::MeterId`).
    pub meters: Vec<MeterSummary>,
    /// Peak one-minute rate summed over the variant's `peak_meters` (for a hybrid variant, the
    /// on-premises Internet connection), KB/s.
    pub peak_meters_kb_per_s: MeanCi,
    /// Every outage of every replication: (replication, record).
    pub outages: Vec<(u32, OutageRecord)>,
    pub costs: Option<CostBasis>,
    /// Per flow of the network (in network order), what the MSER-5 warm-up check found.
    pub warmup: Vec<FlowWarmup>,
}

/// The warm-up check of one flow across replications (see [`crate::stats::warmup`]).
#[derive(Clone, Debug)]
pub struct FlowWarmup {
    pub flow: String,
    /// The scenario's warm-up.
    pub configured: SimTime,
    /// Per replication, the warm-up MSER-5 would have chosen over the whole run.
    pub chosen: Vec<SimTime>,
    /// Replications whose choice is later than the configured warm-up: the transient was not
    /// removed.
    pub flagged: u32,
    /// Replications where MSER cut half the series (its limit): too short to tell.
    pub at_limit: u32,
    /// MSER-5 on the replications' latency profiles pooled stretch by stretch: the warm-up
    /// it would choose for the variant and flow, and whether that hit MSER's limit.
    pub pooled: SimTime,
    pub pooled_at_limit: bool,
}

impl FlowWarmup {
    /// The latest warm-up any replication chose.
    pub fn chosen_max(&self) -> SimTime {
        self.chosen.iter().copied().max().unwrap_or(SimTime::ZERO)
    }

    /// The configured warm-up did not remove the initial transient: MSER-5 on the pooled
    /// replications chooses a later one. (One replication of a queue near saturation hides
    /// an empty start among its own excursions; pooling the replications keeps the
    /// transient's bias and divides that noise by √replications.)
    pub fn warn(&self) -> bool {
        self.pooled > self.configured
    }
}

/// Traffic on one meter, per second of the statistics window.
#[derive(Clone, Copy, Debug)]
pub struct MeterSummary {
    pub copies_per_s: MeanCi,
    pub kb_per_s: MeanCi,
}

#[derive(Clone, Debug)]
pub struct StationOutcome {
    pub name: String,
    pub kind: StationKind,
    pub servers: Option<u32>,
    pub offered_utilization: Option<f64>,
    /// Whether the scenario schedules outages or failures for it (so `outages.csv` is due).
    pub has_outages: bool,
    pub summary: StationSummary,
}

impl VariantOutcome {
    /// The station with the highest measured utilization, if any has finite servers.
    pub fn bottleneck(&self) -> Option<(&str, f64)> {
        self.stations
            .iter()
            .filter_map(|s| s.summary.utilization.map(|u| (s.name.as_str(), u.mean)))
            .filter(|(_, u)| u.is_finite())
            .max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// Everything a run produced.
#[derive(Clone, Debug)]
pub struct StudyOutcome {
    pub seed: u64,
    pub replications: u32,
    pub threads: usize,
    pub variants: Vec<VariantOutcome>,
    pub wall: Duration,
    /// The warm-up used (chosen by a pilot when the scenario says `warmup_s = "auto"`).
    pub warmup: SimTime,
    /// Index in `variants` of the baseline the others are compared with (`compare.csv`);
    /// the first unless `--baseline` names another (see [`StudyOutcome::set_baseline`]).
    pub baseline: usize,
    /// With `--precision`: how the replications were chosen and which figures fell short.
    pub precision: Option<precision::PrecisionRecord>,
}

impl StudyOutcome {
    pub fn events(&self) -> u64 {
        self.variants.iter().map(|v| v.events).sum()
    }

    /// Makes the variant named `name` the baseline of the comparison.
    pub fn set_baseline(&mut self, name: &str) -> Result<(), RunError> {
        self.baseline = baseline_index(self.variants.iter().map(|v| v.name.as_str()), name)?;
        Ok(())
    }
}

/// The index of variant `name` among `names`, or an error listing them.
pub fn baseline_index<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    name: &str,
) -> Result<usize, RunError> {
    names
        .clone()
        .position(|n| n == name)
        .ok_or_else(|| RunError::UnknownBaseline {
            name: name.to_string(),
            accepted: names.collect::<Vec<_>>().join(", "),
        })
}

fn summarize(
    v: &VariantModel,
    reps: &[RunResult],
    configured: SimTime,
    duration: Option<SimTime>,
) -> VariantOutcome {
    let warmup = v
        .network
        .flows
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let checks: Vec<_> = reps.iter().filter_map(|r| r.warmup_checks.get(i)).collect();
            let horizon = reps.iter().map(|r| r.end).max().unwrap_or(SimTime::ZERO);
            let horizon = duration.unwrap_or(horizon);
            let profiles: Vec<&[(f64, u64)]> =
                checks.iter().map(|c| c.profile.as_slice()).collect();
            let (pooled, pooled_at_limit) = crate::stats::warmup::pooled_choice(&profiles, horizon);
            FlowWarmup {
                pooled,
                pooled_at_limit,
                flow: name.clone(),
                configured,
                chosen: checks.iter().map(|c| c.chosen).collect(),
                flagged: checks.iter().filter(|c| c.chosen > configured).count() as u32,
                at_limit: checks.iter().filter(|c| c.at_limit).count() as u32,
            }
        })
        .collect();
    let windows: Vec<SimTime> = reps.iter().map(|r| r.window).collect();
    let flows = v
        .network
        .flows
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let stats: Vec<_> = reps.iter().map(|r| &r.flows[i]).collect();
            (name.clone(), summarize_flow(&stats, &windows))
        })
        .collect();
    let utilization = v.offered_utilization();
    let stations = v
        .network
        .stations
        .iter()
        .enumerate()
        .map(|(i, st)| {
            let stats: Vec<_> = reps.iter().map(|r| &r.stations[i]).collect();
            StationOutcome {
                name: st.name.clone(),
                kind: st.kind,
                servers: st.servers.count(),
                offered_utilization: utilization[i],
                has_outages: !st.availability.is_always_up(),
                summary: summarize_station(&stats, &windows, st.servers.count()),
            }
        })
        .collect();
    let mut accounting = Accounting::default();
    for r in reps {
        accounting.add(&r.accounting);
    }
    let secs = |r: &RunResult| r.window.as_secs_f64();
    let meter_count = reps.iter().map(|r| r.meters.len()).max().unwrap_or(0);
    let meters_summary = (0..meter_count)
        .map(|m| MeterSummary {
            copies_per_s: mean_ci(
                &reps
                    .iter()
                    .map(|r| r.meters.get(m).map_or(0.0, |x| x.copies as f64) / secs(r))
                    .collect::<Vec<_>>(),
            ),
            kb_per_s: mean_ci(
                &reps
                    .iter()
                    .map(|r| r.meters.get(m).map_or(0.0, |x| x.kb) / secs(r))
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    // Peak minute over the variant's peak meters: their per-minute sums.
    let peaks: Vec<f64> = reps
        .iter()
        .map(|r| {
            let minutes = r
                .meters
                .iter()
                .map(|m| m.per_minute_kb.len())
                .max()
                .unwrap_or(0);
            (0..minutes)
                .map(|i| {
                    v.peak_meters
                        .iter()
                        .filter_map(|m| {
                            r.meters.get(m.index()).and_then(|x| x.per_minute_kb.get(i))
                        })
                        .sum::<f64>()
                        / 60.0
                })
                .fold(0.0, f64::max)
        })
        .collect();
    let outages = reps
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.outages.iter().map(move |o| (i as u32, o.clone())))
        .collect();
    VariantOutcome {
        warmup,
        meters: meters_summary,
        peak_meters_kb_per_s: mean_ci(&peaks),
        outages,
        costs: v.costs,
        name: v.name.clone(),
        flows,
        stations,
        accounting,
        events: reps.iter().map(|r| r.events).sum(),
        simulated: reps.iter().fold(SimTime::ZERO, |a, r| a + r.end),
    }
}

/// Runs every variant × replication of `scn` and summarizes them. `on_unit_done` is called
/// after each unit (from worker threads), for progress display.
pub fn run(
    scn: &Scenario,
    opts: RunOptions,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<StudyOutcome, RunError> {
    let mut out = run_many(&[scn], opts, on_unit_done)?;
    Ok(out.pop().expect("one scenario in, one outcome out"))
}

/// The work units of a batch of scenarios (the points of a sweep or a search, or one
/// scenario), in their global order: scenario (point) first, then variant, then replication.
/// A unit's global index is its position here; shards select units by this index
/// (see [`crate::shard`]), so the order is part of the shard format.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Per scenario: (master seed, replications).
    pub runs: Vec<(u64, u32)>,
    /// (scenario index, unit), in global order.
    pub units: Vec<(usize, Unit)>,
}

impl Plan {
    pub fn new(scns: &[&Scenario], opts: RunOptions) -> Plan {
        let runs: Vec<(u64, u32)> = scns
            .iter()
            .map(|scn| {
                (
                    opts.seed.unwrap_or(scn.run.seed),
                    opts.replications.unwrap_or(scn.run.replications),
                )
            })
            .collect();
        let units = scns
            .iter()
            .enumerate()
            .flat_map(|(i, scn)| {
                let reps = runs[i].1;
                (0..scn.variants.len()).flat_map(move |variant| {
                    (0..reps).map(move |replication| {
                        (
                            i,
                            Unit {
                                variant,
                                replication,
                            },
                        )
                    })
                })
            })
            .collect();
        Plan { runs, units }
    }
}

/// The worker pool for `opts.threads`, built on first use and kept for the process's life.
fn pool(opts: RunOptions) -> Result<Arc<rayon::ThreadPool>, RunError> {
    type Pools = Mutex<Vec<(Option<usize>, Arc<rayon::ThreadPool>)>>;
    static POOLS: OnceLock<Pools> = OnceLock::new();
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = pools.iter().find(|(t, _)| *t == opts.threads) {
        return Ok(Arc::clone(p));
    }
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(t) = opts.threads {
        builder = builder.num_threads(t);
    }
    let p = Arc::new(builder.build().map_err(|source| RunError::Threads {
        threads: opts.threads.unwrap_or(0),
        source,
    })?);
    pools.push((opts.threads, Arc::clone(&p)));
    Ok(p)
}

/// An estimate of the events one unit of variant `v` of `scn` handles: per source, its
/// messages (rate × duration, or its share of the message bound) × (1 arrival + the expected
/// station visits per message from the traffic equations). Used only to order work; a wrong
/// estimate costs time, never a different result.
pub fn unit_cost(scn: &Scenario, v: &VariantModel) -> f64 {
    let net = &v.network;
    let per_message: Vec<(f64, f64)> = v
        .sources
        .iter()
        .map(|s| {
            let Some(entry) = net.route_entry(&s.route) else {
                return (s.rate_per_s, 1.0);
            };
            let presence = s.group_presence();
            let visits = |spam: bool| -> f64 {
                let per_node = net.expected_node_visits(entry, &presence, spam);
                net.nodes
                    .iter()
                    .zip(per_node)
                    .filter(|(n, _)| matches!(n, crate::model::network::Node::Visit { .. }))
                    .map(|(_, x)| x)
                    .sum()
            };
            let mut events = 1.0 + visits(false) * (1.0 - s.spam_share);
            if s.spam_share > 0.0 {
                events += visits(true) * s.spam_share;
            }
            (s.rate_per_s.max(0.0), events)
        })
        .collect();
    let rate: f64 = per_message.iter().map(|(r, _)| r).sum();
    let events_per_s: f64 = per_message.iter().map(|(r, e)| r * e).sum();
    match (scn.run.duration, scn.run.max_messages) {
        (Some(d), Some(m)) => (events_per_s * d.as_secs_f64()).min(m as f64 * events_per_s / rate),
        (Some(d), None) => events_per_s * d.as_secs_f64(),
        (None, Some(m)) if rate > 0.0 => m as f64 * events_per_s / rate,
        _ => events_per_s,
    }
}

/// Simulates the units of `plan` at the global indices `which`; returns their results in the
/// order of `which` and the number of worker threads used.
///
/// Units start in decreasing [`unit_cost`] (ties in `which` order) and each worker takes the
/// next one as it finishes one. After a failure no new unit starts; the error returned is
/// that of the earliest failed unit in `which` order among those that ran.
pub fn simulate_units(
    scns: &[&Scenario],
    plan: &Plan,
    which: &[usize],
    opts: RunOptions,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<(Vec<RunResult>, usize), RunError> {
    let pool = pool(opts)?;
    let threads = pool.current_num_threads();
    // Cost per (scenario, variant), computed once.
    let mut costs: Vec<Vec<Option<f64>>> =
        scns.iter().map(|s| vec![None; s.variants.len()]).collect();
    let mut order: Vec<(f64, usize)> = which
        .iter()
        .enumerate()
        .map(|(pos, &k)| {
            let (i, u) = plan.units[k];
            let c = *costs[i][u.variant]
                .get_or_insert_with(|| unit_cost(scns[i], &scns[i].variants[u.variant]));
            (c, pos)
        })
        .collect();
    order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let slots: Vec<OnceLock<Result<RunResult, RunError>>> =
        which.iter().map(|_| OnceLock::new()).collect();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let work = || {
        while !failed.load(Ordering::Relaxed) {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, pos)) = order.get(n) else {
                return;
            };
            let (i, u) = plan.units[which[pos]];
            let r = simulate(scns[i], u, plan.runs[i].0);
            failed.fetch_or(r.is_err(), Ordering::Relaxed);
            on_unit_done();
            let _ = slots[pos].set(r);
        }
    };
    pool.scope(|s| {
        for _ in 0..threads.min(which.len()) {
            s.spawn(|_| work());
        }
    });
    let mut results = Vec::with_capacity(which.len());
    let mut first_error = None;
    for slot in slots {
        match slot.into_inner() {
            Some(Ok(r)) => results.push(r),
            Some(Err(e)) => {
                first_error.get_or_insert(e);
            }
            // Not started after a failure.
            None => assert!(failed.load(Ordering::Relaxed), "every unit ran"),
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok((results, threads)),
    }
}

/// Summarizes every unit's result of `plan` (`results` in global unit order) into one outcome
/// per scenario. The single-machine run and the merge of shards both end here, so their
/// outputs are the same.
pub fn assemble(
    scns: &[&Scenario],
    plan: &Plan,
    results: &[RunResult],
    threads: usize,
    wall: Duration,
) -> Vec<StudyOutcome> {
    assert_eq!(results.len(), plan.units.len(), "one result per unit");
    let mut rest = results;
    let mut out = Vec::with_capacity(scns.len());
    for (scn, &(seed, replications)) in scns.iter().zip(&plan.runs) {
        let per_variant = replications as usize;
        let (mine, tail) = rest.split_at(per_variant * scn.variants.len());
        rest = tail;
        let variants = scn
            .variants
            .iter()
            .zip(mine.chunks(per_variant))
            .map(|(v, reps)| summarize(v, reps, scn.run.warmup, scn.run.duration))
            .collect();
        out.push(StudyOutcome {
            seed,
            replications,
            threads,
            variants,
            wall,
            warmup: scn.run.warmup,
            baseline: 0,
            precision: None,
        });
    }
    out
}

/// For each scenario with `warmup_s = "auto"`, the scenario with its warm-up chosen: a pilot
/// simulates every unit with no warm-up (same seeds, so the same arrivals), and the warm-up is
/// the latest pooled MSER-5 choice over its variants and flows (see
/// [`crate::stats::warmup::pooled_choice`]), rounded up to a whole second and kept under half
/// the duration. None for the others. Deterministic: it depends on the scenario and the seed
/// only.
pub fn resolve_warmup(
    scns: &[&Scenario],
    opts: RunOptions,
) -> Result<Vec<Option<Scenario>>, RunError> {
    let auto: Vec<&Scenario> = scns.iter().copied().filter(|s| s.run.warmup_auto).collect();
    if auto.is_empty() {
        return Ok(vec![None; scns.len()]);
    }
    let plan = Plan::new(&auto, opts);
    let all: Vec<usize> = (0..plan.units.len()).collect();
    let (results, threads) = simulate_units(&auto, &plan, &all, opts, &|| {})?;
    let pilots = assemble(&auto, &plan, &results, threads, Duration::ZERO);
    let mut pilots = pilots.into_iter();
    Ok(scns
        .iter()
        .map(|s| {
            if !s.run.warmup_auto {
                return None;
            }
            let p = pilots.next().expect("one pilot per auto scenario");
            let chosen = p
                .variants
                .iter()
                .flat_map(|v| v.warmup.iter().map(|w| w.pooled))
                .max()
                .unwrap_or(SimTime::ZERO);
            let secs = chosen.as_secs_f64().ceil();
            let cap = s
                .run
                .duration
                .map_or(f64::INFINITY, |d| d.as_secs_f64() / 2.0);
            let mut out = (*s).clone();
            out.run.warmup = SimTime::from_secs_f64(secs.min(cap));
            out.run.warmup_auto = false;
            Some(out)
        })
        .collect())
}

/// Runs several scenarios (the points of a sweep or a search) as one pool of work units
/// (scenario × variant × replication) and summarizes each scenario. A unit's random streams
/// depend only on the master seed and its replication index, so every scenario and variant
/// sees the same arrivals (common random numbers) and the outcome does not depend on how
/// units are scheduled. Each outcome's `wall` is the whole batch's.
pub fn run_many(
    scns: &[&Scenario],
    opts: RunOptions,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<Vec<StudyOutcome>, RunError> {
    let start = Instant::now();
    let resolved = resolve_warmup(scns, opts)?;
    let scns: Vec<&Scenario> = scns
        .iter()
        .zip(&resolved)
        .map(|(s, r)| r.as_ref().unwrap_or(s))
        .collect();
    let scns = scns.as_slice();
    let plan = Plan::new(scns, opts);
    let all: Vec<usize> = (0..plan.units.len()).collect();
    let (results, threads) = simulate_units(scns, &plan, &all, opts, on_unit_done)?;
    Ok(assemble(scns, &plan, &results, threads, start.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{self, LoadOptions};

    /// Two M/M/1 hops in series, rate λ, 100 s after a 10 s warm-up.
    fn tandem(rate_per_s: f64, replications: u32) -> Scenario {
        let text = format!(
            r#"
            [run]
            duration_s = 110
            warmup_s = 10
            seed = 7
            replications = {replications}
            [sources.a]
            rate_per_s = {rate_per_s}
            route = "r"
            [hops.s1]
            servers = 1
            service_ms = {{ dist = "exponential", rate_per_s = 100 }}
            [hops.s2]
            servers = 1
            service_ms = {{ dist = "exponential", rate_per_s = 100 }}
            [routes.r]
            steps = ["s1", "s2"]
            deliver = "d"
            "#
        );
        scenario::from_text(&text, "t.toml", "t", LoadOptions::default()).unwrap()
    }

    /// A unit's measurements, as they would travel in a shard file, plus its histograms.
    fn fingerprint(r: &RunResult) -> (String, Vec<Histogram>) {
        (
            serde_json::to_string(r).unwrap(),
            r.flows.iter().map(|f| f.latency.clone()).collect(),
        )
    }
    type Histogram = hdrhistogram::Histogram<u64>;

    /// The unit order is the shard format: scenario, then variant, then replication; the
    /// command line's seed and replications win over the file's.
    #[test]
    fn the_plan_lists_units_scenario_then_variant_then_replication() {
        let (a, b) = (tandem(10.0, 2), tandem(20.0, 3));
        let plan = Plan::new(&[&a, &b], RunOptions::default());
        assert_eq!(plan.runs, [(7, 2), (7, 3)]);
        let units: Vec<(usize, u32)> = plan
            .units
            .iter()
            .map(|(i, u)| (*i, u.replication))
            .collect();
        assert_eq!(units, [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]);
        let opts = RunOptions {
            seed: Some(9),
            replications: Some(1),
            threads: None,
        };
        let plan = Plan::new(&[&a, &b], opts);
        assert_eq!(plan.runs, [(9, 1), (9, 1)]);
        assert_eq!(plan.units.len(), 2);
    }

    /// What makes sharding and `--threads` safe: a unit's result depends on the scenario, the
    /// seed and the unit only — not on the thread count, the other units in the batch, or
    /// the order they ran in — and two replications differ.
    #[test]
    fn a_units_result_depends_on_its_seed_and_index_only() {
        let scn = tandem(50.0, 4);
        let plan = Plan::new(&[&scn], RunOptions::default());
        let all: Vec<usize> = (0..plan.units.len()).collect();
        let one = |threads, which: &[usize]| {
            let opts = RunOptions {
                threads: Some(threads),
                ..RunOptions::default()
            };
            let (r, used) = simulate_units(&[&scn], &plan, which, opts, &|| {}).unwrap();
            assert_eq!(used, threads);
            r.iter().map(fingerprint).collect::<Vec<_>>()
        };
        let serial = one(1, &all);
        assert_eq!(serial, one(2, &all), "thread count changed a result");
        assert_eq!(one(2, &[3, 1]), [serial[3].clone(), serial[1].clone()]);
        assert_ne!(serial[0], serial[1], "replications share a stream");
    }

    /// The scheduling estimate follows the traffic equations: per message, one arrival and a
    /// visit to each of the two hops, over the 110 s the unit simulates.
    #[test]
    fn unit_cost_is_arrivals_plus_visits_over_the_run() {
        for rate in [10.0, 40.0] {
            let scn = tandem(rate, 1);
            let cost = unit_cost(&scn, &scn.variants[0]);
            let want = rate * 110.0 * 3.0;
            assert!((cost - want).abs() < 1e-9 * want, "{cost} vs {want}");
        }
    }

    #[test]
    fn an_unknown_baseline_is_bad_input_and_lists_the_variants() {
        let names = ["mx-eop_cmt-off", "mx-eop_cmt-on"];
        assert_eq!(
            baseline_index(names.iter().copied(), "mx-eop_cmt-on").unwrap(),
            1
        );
        let e = baseline_index(names.iter().copied(), "mx-onprem").unwrap_err();
        assert_eq!(e.exit_code(), crate::error::BAD_INPUT);
        assert_eq!(
            e.to_string(),
            "`--baseline mx-onprem` is not a variant of the scenario; variants: mx-eop_cmt-off, mx-eop_cmt-on"
        );
    }

    /// The summary a study prints keeps every generated message: conservation holds per
    /// variant, and a run's outcome names its replications and seed.
    #[test]
    fn a_run_conserves_messages_and_reports_its_settings() {
        let scn = tandem(50.0, 3);
        let out = run(&scn, RunOptions::default(), &|| {}).unwrap();
        assert_eq!((out.seed, out.replications, out.baseline), (7, 3, 0));
        let a = &out.variants[0].accounting;
        assert_eq!(a.generated, a.ended(), "{a:?}");
        assert!(a.delivered > 0);
        // 2 M/M/1 hops at ρ = 0.5 (a Jackson network): the expected sojourn is
        // 2 × 1/(μ − λ) = 40 ms; it lies inside the replications' 95% interval.
        let m = out.variants[0].flows[0].1.mean_ms;
        let (lo, hi) = m.ci95.unwrap();
        assert!(lo <= 40.0 && 40.0 <= hi, "{m:?}");
    }
}
