//! Shard encoding: the study key, the manifest (`shard.json`, with the SHA-256 of every data
//! file), `units.json` and `units.hlog` of a run or sweep shard, `capacity.json` of a
//! capacity shard.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{
    CAPACITY_JSON, CAPACITY_UNIT_ORDER, MANIFEST, Shard, ShardError, UNIT_ORDER, UNITS_HLOG,
    UNITS_JSON, hlog,
};
use crate::capacity;
use crate::model::sim::RunResult;
use crate::runner::{self, Plan, RunOptions};
use crate::scenario::Scenario;

/// The SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What identifies a study: every shard of one study has the same key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudyKey {
    pub program: String,
    pub version: String,
    /// `run` or `sweep`.
    pub command: String,
    pub scenario: String,
    pub scenario_sha256: String,
    /// The master seed (of the first point, for a sweep that varies `run.seed`).
    pub seed: u64,
    /// Replications per variant (of the first point).
    pub replications: u32,
    /// `--seed` and `--replications` as given, to rebuild the plan.
    pub seed_option: Option<u64>,
    pub replications_option: Option<u32>,
    pub allow_unstable: bool,
    /// A sweep's `--set` arguments, as given (empty for `run`).
    pub axes: Vec<String>,
    /// A sweep's `--slo` arguments (drawn on its pictures).
    pub slos: Vec<String>,
    pub unit_order: String,
    pub total_units: usize,
    /// A capacity search's other settings (absent for `run` and `sweep`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<CapacityKey>,
}

/// The settings of a capacity search besides its `--slo` (in [`StudyKey::slos`]) and `--set`
/// (in [`StudyKey::axes`]) arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CapacityKey {
    pub hop: Option<String>,
    pub scale: Option<f64>,
    /// `--bracket` (the load search's stopping rule).
    pub precision: f64,
    /// `--headroom`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headroom: Option<f64>,
}

impl StudyKey {
    /// The key of a study of `scns` (the points) run with `opts`.
    pub fn new(
        command: &str,
        scns: &[&Scenario],
        opts: RunOptions,
        allow_unstable: bool,
        axes: Vec<String>,
        slos: Vec<String>,
    ) -> StudyKey {
        let plan = Plan::new(scns, opts);
        let first = scns[0];
        StudyKey {
            program: "mailflow".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            command: command.into(),
            scenario: first.name.clone(),
            scenario_sha256: first.hash.clone(),
            seed: plan.runs[0].0,
            replications: plan.runs[0].1,
            seed_option: opts.seed,
            replications_option: opts.replications,
            allow_unstable,
            axes,
            slos,
            unit_order: UNIT_ORDER.into(),
            total_units: plan.units.len(),
            capacity: None,
        }
    }

    /// The key of a capacity search of `scn` (built with `sets` applied) run with `opts`: its
    /// units are the variants.
    pub fn capacity(
        scn: &Scenario,
        opts: RunOptions,
        sets: Vec<String>,
        slos: Vec<String>,
        capacity: CapacityKey,
    ) -> StudyKey {
        StudyKey {
            program: "mailflow".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            command: "capacity".into(),
            scenario: scn.name.clone(),
            scenario_sha256: scn.hash.clone(),
            seed: opts.seed.unwrap_or(scn.run.seed),
            replications: opts.replications.unwrap_or(scn.run.replications),
            seed_option: opts.seed,
            replications_option: opts.replications,
            allow_unstable: true,
            axes: sets,
            slos,
            unit_order: CAPACITY_UNIT_ORDER.into(),
            total_units: scn.variants.len(),
            capacity: Some(capacity),
        }
    }

    pub(super) fn expected_unit_order(&self) -> &'static str {
        if self.command == "capacity" {
            CAPACITY_UNIT_ORDER
        } else {
            UNIT_ORDER
        }
    }

    pub(super) fn options(&self) -> RunOptions {
        RunOptions {
            seed: self.seed_option,
            replications: self.replications_option,
            threads: None,
        }
    }
}

/// `shard.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardManifest {
    #[serde(flatten)]
    pub study: StudyKey,
    /// The scenario file as the shard was given it; `merge` re-loads it from here.
    pub scenario_file: String,
    /// `K/N`, K counted from 0.
    pub shard: String,
    /// The global indices of the units this shard holds.
    pub units: Vec<usize>,
    pub files: Vec<String>,
    /// SHA-256 (hex) of every data file in `files`: `merge` refuses a file that differs.
    #[serde(default)]
    pub sha256: BTreeMap<String, String>,
}

/// One unit in `units.json`.
#[derive(Serialize, Deserialize)]
pub struct UnitRecord {
    pub index: usize,
    pub point: usize,
    pub variant: String,
    pub replication: u32,
    pub result: RunResult,
}

#[derive(Serialize, Deserialize)]
pub struct UnitsFile {
    pub units: Vec<UnitRecord>,
}

/// Runs this shard's units of `scns` (the points, each with only the variants to simulate);
/// returns their indices and results, and the worker threads used.
pub fn run(
    scns: &[&Scenario],
    opts: RunOptions,
    shard: Shard,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<(Vec<usize>, Vec<RunResult>, usize), runner::RunError> {
    let plan = Plan::new(scns, opts);
    let which = shard.select(plan.units.len());
    let (results, threads) = runner::simulate_units(scns, &plan, &which, opts, on_unit_done)?;
    Ok((which, results, threads))
}

/// The files of a shard, manifest last: (file name, bytes).
pub fn encode(
    key: StudyKey,
    scenario_file: &Path,
    shard: Shard,
    scns: &[&Scenario],
    opts: RunOptions,
    units: &[usize],
    results: Vec<RunResult>,
) -> Result<Vec<(&'static str, Vec<u8>)>, ShardError> {
    let plan = Plan::new(scns, opts);
    let network = |index: usize| {
        let (point, u) = plan.units[index];
        &scns[point].variants[u.variant].network
    };
    let station_names: Vec<Vec<String>> = units
        .iter()
        .map(|&i| network(i).stations.iter().map(|s| s.name.clone()).collect())
        .collect();
    let hists: Vec<hlog::UnitHistograms<'_>> = units
        .iter()
        .zip(&results)
        .zip(&station_names)
        .map(|((&index, result), stations)| hlog::UnitHistograms {
            index,
            result,
            flows: &network(index).flows,
            stations,
        })
        .collect();
    let comment = format!(
        "mailflow {} shard {shard} of {} {}: latency and waiting times in microseconds",
        key.version, key.command, key.scenario
    );
    let hlog_bytes = hlog::encode(&hists, &comment).map_err(|source| ShardError::Hlog {
        file: PathBuf::from(UNITS_HLOG),
        source,
    })?;
    drop(hists);
    let records = UnitsFile {
        units: units
            .iter()
            .zip(results)
            .map(|(&index, result)| {
                let (point, u) = plan.units[index];
                UnitRecord {
                    index,
                    point,
                    variant: scns[point].variants[u.variant].name.clone(),
                    replication: u.replication,
                    result,
                }
            })
            .collect(),
    };
    let json = serde_json::to_vec(&records).expect("unit results serialize");
    let manifest = ShardManifest {
        study: key,
        scenario_file: scenario_file.display().to_string(),
        shard: shard.to_string(),
        units: units.to_vec(),
        files: vec![UNITS_HLOG.into(), UNITS_JSON.into()],
        sha256: [(UNITS_HLOG, &hlog_bytes), (UNITS_JSON, &json)]
            .into_iter()
            .map(|(n, b)| (n.to_string(), sha256_hex(b)))
            .collect(),
    };
    let manifest = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    Ok(vec![
        (UNITS_HLOG, hlog_bytes),
        (UNITS_JSON, json),
        (MANIFEST, manifest),
    ])
}

/// One variant in `capacity.json`.
#[derive(Serialize, Deserialize)]
pub struct VariantRecord {
    pub index: usize,
    pub answer: capacity::VariantAnswer,
    /// What the pictures at the answer draw (when there is a simulated answer).
    #[serde(default)]
    pub picture: Option<PictureRecord>,
}

/// [`capacity::AnswerPicture`] in JSON: histograms as in an interval log (V2 deflate, base64).
#[derive(Serialize, Deserialize)]
pub struct PictureRecord {
    pub flows: Vec<(String, String)>,
    pub stations: Vec<(String, bool, Option<f64>)>,
}

impl PictureRecord {
    fn of(p: capacity::AnswerPicture) -> Result<PictureRecord, ShardError> {
        let hlog_err = |source| ShardError::Hlog {
            file: PathBuf::from(CAPACITY_JSON),
            source,
        };
        Ok(PictureRecord {
            flows: p
                .flows
                .iter()
                .map(|(n, h)| Ok((n.clone(), hlog::to_base64(h).map_err(hlog_err)?)))
                .collect::<Result<_, ShardError>>()?,
            // JSON has no NaN or infinity; the pictures leave non-finite values out anyway.
            stations: p
                .stations
                .into_iter()
                .map(|(n, finite, u)| (n, finite, u.filter(|x| x.is_finite())))
                .collect(),
        })
    }

    pub fn restore(self) -> Result<capacity::AnswerPicture, String> {
        let mut de = hdrhistogram::serialization::Deserializer::new();
        Ok(capacity::AnswerPicture {
            flows: self
                .flows
                .into_iter()
                .map(|(n, text)| {
                    let h = hlog::from_base64(&mut de, &text)
                        .map_err(|e| format!("flow {n}'s histogram: {e}"))?;
                    Ok((n, h))
                })
                .collect::<Result<_, String>>()?,
            stations: self.stations,
        })
    }
}

#[derive(Serialize, Deserialize)]
pub struct CapacityFile {
    /// Configurations simulated and events, over this shard's variants.
    pub simulated: usize,
    pub events: u64,
    pub variants: Vec<VariantRecord>,
}

/// The files of a capacity shard, manifest last: `outcome` is the search of the variants
/// `units` (in that order).
pub fn encode_capacity(
    key: StudyKey,
    scenario_file: &Path,
    shard: Shard,
    units: &[usize],
    outcome: capacity::CapacityOutcome,
) -> Result<Vec<(&'static str, Vec<u8>)>, ShardError> {
    let file = CapacityFile {
        simulated: outcome.simulated,
        events: outcome.events,
        variants: units
            .iter()
            .zip(outcome.answers)
            .map(|(&index, answer)| {
                let picture = answer
                    .last_pass
                    .and_then(|i| answer.steps[i].outcome.as_ref())
                    .map(|o| PictureRecord::of(capacity::AnswerPicture::of(o)))
                    .transpose()?;
                Ok(VariantRecord {
                    index,
                    answer,
                    picture,
                })
            })
            .collect::<Result<_, ShardError>>()?,
    };
    let json = serde_json::to_vec(&file).expect("capacity answers serialize");
    let manifest = ShardManifest {
        study: key,
        scenario_file: scenario_file.display().to_string(),
        shard: shard.to_string(),
        units: units.to_vec(),
        files: vec![CAPACITY_JSON.into()],
        sha256: [(CAPACITY_JSON.to_string(), sha256_hex(&json))].into(),
    };
    let manifest = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    Ok(vec![(CAPACITY_JSON, json), (MANIFEST, manifest)])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_results_round_trip_through_json_exactly() {
        use crate::engine::SimTime;
        use crate::stats::{MeterStats, OutageRecord, StationStats};
        let mut st = StationStats::default();
        st.busy.set(SimTime::from_nanos(0), 3);
        st.busy.set(SimTime::from_nanos(u64::MAX / 3), 1);
        st.sojourn_sum_ns = u128::MAX / 7;
        let r = RunResult {
            flows: Vec::new(),
            stations: vec![st],
            meters: vec![MeterStats {
                copies: 3,
                kb: 0.1 + 0.2,
                per_minute_kb: vec![1.0 / 3.0, 2.0f64.sqrt(), 1e-310],
            }],
            outages: vec![OutageRecord {
                station: 1,
                start: SimTime::from_nanos(5),
                end: None,
                peak_backlog: 9,
                backlog_at_start: 0,
                drained: Some(SimTime::from_nanos(7)),
                expired: 2,
            }],
            accounting: Default::default(),
            events: 12,
            end: SimTime::from_nanos(99),
            window: SimTime::from_nanos(90),
            warmup_checks: Vec::new(),
        };
        let back: RunResult = serde_json::from_slice(&serde_json::to_vec(&r).unwrap()).unwrap();
        assert_eq!(back.stations[0].busy, r.stations[0].busy);
        assert_eq!(back.stations[0].sojourn_sum_ns, u128::MAX / 7);
        assert_eq!(back.meters, r.meters);
        for (a, b) in back.meters[0]
            .per_minute_kb
            .iter()
            .zip(&r.meters[0].per_minute_kb)
        {
            assert_eq!(a.to_bits(), b.to_bits());
        }
        assert_eq!(back.outages, r.outages);
        assert_eq!((back.end, back.window), (r.end, r.window));
    }
}
