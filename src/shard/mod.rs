//! Sharding a study across machines, and merging the shards back exactly.
//!
//! A study's work units are numbered in one global, documented order: sweep point (grid order,
//! the first `--set` axis slowest; a plain `run` has one point), then variant (the scenario's
//! order, only those simulated at that point), then replication — the order of
//! [`runner::Plan`]. Shard K of N (K counted from 0) holds the units whose index i has
//! `i % N == K`, so shards are balanced and any unit can run anywhere: its random streams depend
//! on the master seed and its replication index only.
//!
//! A shard writes three files (see [`encode`]): `units.hlog`, every histogram of its units as a
//! tagged HdrHistogram interval log ([`hlog`]); `units.json`, every other figure of every unit
//! (integers and exactly round-tripping floats); and `shard.json`, the manifest — what study it
//! belongs to (program version, scenario SHA-256, seed, replications, sweep axes, total units) and
//! which units it holds. The manifest is written last, so a directory with one is complete.
//!
//! [`merge`] reads shard directories, refuses a missing, doubled or foreign unit (naming it),
//! re-loads the scenario, rebuilds each unit's `RunResult` and hands them, in unit order, to the
//! same [`runner::assemble`] a single-machine run uses: the reports are byte-identical.
//!
//! A `capacity` search is sharded by variant instead (its rounds depend on the previous
//! round's verdicts, but the variants' searches are independent): its units are the scenario's
//! variants, shard K of N searches those whose index v has `v % N == K`, and writes
//! `capacity.json` (each variant's complete answer: every step tried and its verdict and
//! figures) beside the same `shard.json`, whose key also records `--hop`, `--scale`,
//! `--bracket`, `--headroom`. [`merge`] rebuilds the search's outcome from them, for the same
//! `report::write_capacity`.
//!
//! This module encodes, decodes and checks; it writes no files (`report` does) and prints
//! nothing.

pub mod hlog;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::capacity::{self, CapacityError, Slo};
use crate::model::sim::RunResult;
use crate::runner::{self, Plan, RunOptions, StudyOutcome};
use crate::scenario::{LoadOptions, Scenario, ScenarioError, ScenarioFile};
use crate::sweep::{self, SweepError, SweepOutcome};

pub const MANIFEST: &str = "shard.json";
pub const UNITS_JSON: &str = "units.json";
pub const UNITS_HLOG: &str = "units.hlog";
pub const CAPACITY_JSON: &str = "capacity.json";

/// The unit order, stated in every manifest.
pub const UNIT_ORDER: &str = "point, variant, replication";
/// The unit order of a capacity search: its units are the variants.
pub const CAPACITY_UNIT_ORDER: &str = "variant";

/// Environment variable giving the number of shards where the batch system does not (a
/// Kubernetes indexed Job: set it to the Job's `completions`).
pub const COUNT_VAR: &str = "MAILFLOW_SHARD_COUNT";

/// Shard `index` of `count`, `index` counted from 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    #[error(
        "bad --shard `{0}`: write K/N with K counted from 0 and below N, e.g. 0/3 for the first of three shards"
    )]
    Spec(String),
    #[error("{var}={value}: {message}")]
    Env {
        var: &'static str,
        value: String,
        message: String,
    },
    #[error("cannot read {file}: {source}; is it a directory written by `mailflow run --shard`?")]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}: {message}; the shard is damaged or was not written by mailflow, run it again")]
    Format { file: PathBuf, message: String },
    #[error(transparent)]
    Foreign(Box<Foreign>),
    #[error(
        "scenario {file} has SHA-256 {found}, but the shards were made from {expected}; pass --scenario with the file they were made from"
    )]
    ScenarioChanged {
        file: PathBuf,
        found: String,
        expected: String,
    },
    #[error(
        "{count} of {total} units are missing: {units}; run the shards that hold them (or pass their directories) and merge again"
    )]
    Missing {
        count: usize,
        total: usize,
        units: String,
    },
    #[error(
        "units present twice, in {first} and {second}: {units}; pass each shard directory once"
    )]
    Duplicate {
        first: PathBuf,
        second: PathBuf,
        units: String,
    },
    #[error("{file}: {source}")]
    Hlog {
        file: PathBuf,
        source: hlog::HlogError,
    },
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Sweep(#[from] SweepError),
    #[error(transparent)]
    Slo(#[from] CapacityError),
}

impl ShardError {
    /// The process exit code this error calls for (see [`crate::error`]): refused shards.
    pub fn exit_code(&self) -> u8 {
        crate::error::BAD_INPUT
    }
}

/// A shard of another study than the first directory's.
#[derive(Debug, thiserror::Error)]
#[error(
    "{dir} (units {units}) is from another study: its {field} is {theirs} but {first} has {ours}; merge the shards of one study only"
)]
pub struct Foreign {
    pub dir: PathBuf,
    pub units: String,
    pub field: String,
    pub theirs: String,
    pub first: PathBuf,
    pub ours: String,
}

impl Shard {
    /// Parses `K/N` (0 ≤ K < N).
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Spec(text.to_string());
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = k.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }

    /// The shard a batch system assigns, if any: a Slurm job array task
    /// (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN` of `SLURM_ARRAY_TASK_COUNT`, or of
    /// [`COUNT_VAR`] when set) or a Kubernetes indexed Job pod (`JOB_COMPLETION_INDEX` of
    /// [`COUNT_VAR`], which must be set). Returns the shard and where it came from.
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<(Shard, &'static str)>, ShardError> {
        let number = |name: &'static str| -> Result<Option<u32>, ShardError> {
            match var(name) {
                None => Ok(None),
                Some(v) => v.trim().parse().map(Some).map_err(|_| ShardError::Env {
                    var: name,
                    value: v.clone(),
                    message: "is not a whole number".into(),
                }),
            }
        };
        let explicit = number(COUNT_VAR)?;
        let (source, index, count) = if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let count = match explicit.or(number("SLURM_ARRAY_TASK_COUNT")?) {
                Some(c) => c,
                None => {
                    return Err(ShardError::Env {
                        var: "SLURM_ARRAY_TASK_ID",
                        value: id.to_string(),
                        message: format!(
                            "neither SLURM_ARRAY_TASK_COUNT nor {COUNT_VAR} says how many shards there are; set {COUNT_VAR} or pass --shard K/N"
                        ),
                    });
                }
            };
            let index = id.checked_sub(min).ok_or_else(|| ShardError::Env {
                var: "SLURM_ARRAY_TASK_ID",
                value: id.to_string(),
                message: format!("is below SLURM_ARRAY_TASK_MIN={min}"),
            })?;
            ("SLURM_ARRAY_TASK_ID", index, count)
        } else if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = explicit.ok_or_else(|| ShardError::Env {
                var: "JOB_COMPLETION_INDEX",
                value: index.to_string(),
                message: format!(
                    "set {COUNT_VAR} to the Job's completions (the number of shards), or pass --shard K/N"
                ),
            })?;
            ("JOB_COMPLETION_INDEX", index, count)
        } else {
            return Ok(None);
        };
        if count == 0 || index >= count {
            return Err(ShardError::Env {
                var: source,
                value: index.to_string(),
                message: format!(
                    "gives shard {index} of {count}; shards are numbered 0 to {} (use a contiguous array such as --array=0-{})",
                    count.saturating_sub(1),
                    count.saturating_sub(1)
                ),
            });
        }
        Ok(Some((Shard { index, count }, source)))
    }

    pub fn holds(&self, unit: usize) -> bool {
        unit % self.count as usize == self.index as usize
    }

    /// This shard's units among `total`, in order.
    pub fn select(&self, total: usize) -> Vec<usize> {
        (self.index as usize..total)
            .step_by(self.count as usize)
            .collect()
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
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

    fn expected_unit_order(&self) -> &'static str {
        if self.command == "capacity" {
            CAPACITY_UNIT_ORDER
        } else {
            UNIT_ORDER
        }
    }

    fn options(&self) -> RunOptions {
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
}

/// One unit in `units.json`.
#[derive(Serialize, Deserialize)]
struct UnitRecord {
    index: usize,
    point: usize,
    variant: String,
    replication: u32,
    result: RunResult,
}

#[derive(Serialize, Deserialize)]
struct UnitsFile {
    units: Vec<UnitRecord>,
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
struct VariantRecord {
    index: usize,
    answer: capacity::VariantAnswer,
    /// What the pictures at the answer draw (when there is a simulated answer).
    #[serde(default)]
    picture: Option<PictureRecord>,
}

/// [`capacity::AnswerPicture`] in JSON: histograms as in an interval log (V2 deflate, base64).
#[derive(Serialize, Deserialize)]
struct PictureRecord {
    flows: Vec<(String, String)>,
    stations: Vec<(String, bool, Option<f64>)>,
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

    fn restore(self) -> Result<capacity::AnswerPicture, String> {
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
struct CapacityFile {
    /// Configurations simulated and events, over this shard's variants.
    simulated: usize,
    events: u64,
    variants: Vec<VariantRecord>,
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
    };
    let manifest = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    Ok(vec![(CAPACITY_JSON, json), (MANIFEST, manifest)])
}

/// What merging shards gives: the outcome a single-machine run of the study would have.
pub enum Merged {
    /// A capacity search; the steps carry no `outcome` (no histograms are kept in a shard).
    Capacity {
        scenario: Box<Scenario>,
        outcome: Box<capacity::CapacityOutcome>,
    },
    Run {
        scenario: Box<Scenario>,
        study: StudyOutcome,
    },
    Sweep {
        sweep: Box<SweepOutcome>,
        slos: Vec<Slo>,
    },
}

/// A list of unit indices for messages: the first ten, then how many more.
fn list(units: &[usize], describe: impl Fn(usize) -> String) -> String {
    let mut s: Vec<String> = units.iter().take(10).map(|&u| describe(u)).collect();
    if units.len() > 10 {
        s.push(format!("and {} more", units.len() - 10));
    }
    if s.is_empty() {
        "none".into()
    } else {
        s.join(", ")
    }
}

fn read(file: &Path) -> Result<Vec<u8>, ShardError> {
    std::fs::read(file).map_err(|source| ShardError::Read {
        file: file.to_path_buf(),
        source,
    })
}

fn read_manifest(dir: &Path) -> Result<ShardManifest, ShardError> {
    let file = dir.join(MANIFEST);
    let bytes = read(&file)?;
    serde_json::from_slice(&bytes).map_err(|e| ShardError::Format {
        file,
        message: e.to_string(),
    })
}

/// Field by field, the first difference between two study keys: (field, ours, theirs).
fn difference(ours: &StudyKey, theirs: &StudyKey) -> Option<(String, String, String)> {
    let a = serde_json::to_value(ours).expect("key serializes");
    let b = serde_json::to_value(theirs).expect("key serializes");
    let (serde_json::Value::Object(a), serde_json::Value::Object(b)) = (a, b) else {
        unreachable!("a key is an object")
    };
    a.iter()
        .find(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.to_string(), b[k].to_string()))
}

/// Merges shard directories into the outcome of the whole study. `scenario` replaces the file
/// recorded in the manifests (it must have the same SHA-256).
pub fn merge(dirs: &[PathBuf], scenario: Option<&Path>) -> Result<Merged, ShardError> {
    let manifests = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = &manifests[0];
    let key = &first.study;
    if key.program != "mailflow" || key.unit_order != key.expected_unit_order() {
        return Err(ShardError::Format {
            file: dirs[0].join(MANIFEST),
            message: format!(
                "program `{}` with unit order `{}` is not a mailflow shard of this version's format",
                key.program, key.unit_order
            ),
        });
    }
    for (dir, m) in dirs.iter().zip(&manifests).skip(1) {
        if let Some((field, ours, theirs)) = difference(key, &m.study) {
            return Err(ShardError::Foreign(Box::new(Foreign {
                dir: dir.clone(),
                units: list(&m.units, |u| u.to_string()),
                field,
                theirs,
                first: dirs[0].clone(),
                ours,
            })));
        }
    }
    // Every unit exactly once.
    let mut owner: Vec<Option<usize>> = vec![None; key.total_units];
    for (d, m) in manifests.iter().enumerate() {
        let mut twice: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for &u in &m.units {
            let Some(slot) = owner.get_mut(u) else {
                return Err(ShardError::Format {
                    file: dirs[d].join(MANIFEST),
                    message: format!("unit {u} is outside the study's {} units", key.total_units),
                });
            };
            match slot {
                Some(o) => twice.entry(*o).or_default().push(u),
                None => *slot = Some(d),
            }
        }
        if let Some((&o, units)) = twice.iter().next() {
            return Err(ShardError::Duplicate {
                first: dirs[o].clone(),
                second: dirs[d].clone(),
                units: list(units, |u| u.to_string()),
            });
        }
    }
    let path = scenario.map_or_else(|| PathBuf::from(&first.scenario_file), Path::to_path_buf);
    if key.command == "capacity" {
        return merge_capacity(dirs, &manifests, &owner, &path);
    }
    let file = ScenarioFile::read(&path)?;
    let opts = LoadOptions {
        allow_unstable: key.allow_unstable,
    };
    let (points, prepared, slos, scn) = if key.command == "sweep" {
        let axes = key
            .axes
            .iter()
            .map(|a| sweep::parse_axis(a))
            .collect::<Result<Vec<_>, _>>()?;
        let slos = key
            .slos
            .iter()
            .map(|s| capacity::parse_slo(s))
            .collect::<Result<Vec<_>, _>>()?;
        let points = sweep::build_points(&file, &axes)?;
        let prepared = sweep::prepare(points, key.allow_unstable);
        (axes, Some(prepared), slos, None)
    } else {
        (Vec::new(), None, Vec::new(), Some(file.build(opts, &[])?))
    };
    let scns: Vec<&Scenario> = match (&prepared, &scn) {
        (Some(p), _) => p.scenarios(),
        (None, Some(s)) => vec![s],
        (None, None) => unreachable!("a run or a sweep"),
    };
    if scns[0].hash != key.scenario_sha256 {
        return Err(ShardError::ScenarioChanged {
            file: path,
            found: scns[0].hash.clone(),
            expected: key.scenario_sha256.clone(),
        });
    }
    let plan = Plan::new(&scns, key.options());
    let describe = |u: usize| {
        let (p, unit) = plan.units[u];
        let v = &scns[p].variants[unit.variant].name;
        if key.command == "sweep" {
            format!(
                "{u} (point {p}, variant {v}, replication {})",
                unit.replication
            )
        } else {
            format!("{u} (variant {v}, replication {})", unit.replication)
        }
    };
    if plan.units.len() != key.total_units {
        return Err(ShardError::Format {
            file: dirs[0].join(MANIFEST),
            message: format!(
                "the study has {} units but the scenario and options give {}",
                key.total_units,
                plan.units.len()
            ),
        });
    }
    let missing: Vec<usize> = (0..owner.len()).filter(|&u| owner[u].is_none()).collect();
    if !missing.is_empty() {
        return Err(ShardError::Missing {
            count: missing.len(),
            total: key.total_units,
            units: list(&missing, describe),
        });
    }
    // Rebuild every unit's result.
    let mut results: Vec<Option<RunResult>> = vec![None; key.total_units];
    for (dir, m) in dirs.iter().zip(&manifests) {
        let jfile = dir.join(UNITS_JSON);
        let bad = |message: String| ShardError::Format {
            file: jfile.clone(),
            message,
        };
        let units: UnitsFile =
            serde_json::from_slice(&read(&jfile)?).map_err(|e| bad(e.to_string()))?;
        let indices: Vec<usize> = units.units.iter().map(|r| r.index).collect();
        if indices != m.units {
            return Err(bad(format!(
                "holds units {} but {MANIFEST} lists {}",
                list(&indices, |u| u.to_string()),
                list(&m.units, |u| u.to_string())
            )));
        }
        let hfile = dir.join(UNITS_HLOG);
        let mut hists = hlog::decode(&read(&hfile)?).map_err(|source| ShardError::Hlog {
            file: hfile.clone(),
            source,
        })?;
        for mut r in units.units {
            let (p, unit) = plan.units[r.index];
            let net = &scns[p].variants[unit.variant].network;
            if r.point != p
                || r.replication != unit.replication
                || r.variant != scns[p].variants[unit.variant].name
                || r.result.flows.len() != net.flows.len()
                || r.result.stations.len() != net.stations.len()
            {
                return Err(bad(format!(
                    "unit {} does not match the study's unit {}",
                    r.index,
                    describe(r.index)
                )));
            }
            let stations: Vec<String> = net.stations.iter().map(|s| s.name.clone()).collect();
            hlog::restore(&mut hists, r.index, &mut r.result, &net.flows, &stations).map_err(
                |source| ShardError::Hlog {
                    file: hfile.clone(),
                    source,
                },
            )?;
            results[r.index] = Some(r.result);
        }
    }
    let results: Vec<RunResult> = results
        .into_iter()
        .map(|r| r.expect("every unit was checked present"))
        .collect();
    let mut outcomes = runner::assemble(&scns, &plan, &results, 0, std::time::Duration::ZERO);
    drop(scns);
    Ok(match (prepared, scn) {
        (Some(p), _) => Merged::Sweep {
            sweep: Box::new(p.finish(&points, outcomes)),
            slos,
        },
        (None, Some(s)) => Merged::Run {
            scenario: Box::new(s),
            study: outcomes.pop().expect("one point"),
        },
        (None, None) => unreachable!("a run or a sweep"),
    })
}

/// The capacity half of [`merge`], once the shards are known to be of one study with no
/// variant twice (`owner[v]` is the shard holding variant v).
fn merge_capacity(
    dirs: &[PathBuf],
    manifests: &[ShardManifest],
    owner: &[Option<usize>],
    path: &Path,
) -> Result<Merged, ShardError> {
    let key = &manifests[0].study;
    let Some(ck) = &key.capacity else {
        return Err(ShardError::Format {
            file: dirs[0].join(MANIFEST),
            message: "a capacity shard without its search settings".into(),
        });
    };
    let overrides = sweep::single_overrides(&key.axes)?;
    let scn = ScenarioFile::read(path)?.build(
        LoadOptions {
            allow_unstable: true,
        },
        &overrides,
    )?;
    if scn.hash != key.scenario_sha256 {
        return Err(ShardError::ScenarioChanged {
            file: path.to_path_buf(),
            found: scn.hash.clone(),
            expected: key.scenario_sha256.clone(),
        });
    }
    if scn.variants.len() != key.total_units {
        return Err(ShardError::Format {
            file: dirs[0].join(MANIFEST),
            message: format!(
                "the search has {} variants but the scenario has {}",
                key.total_units,
                scn.variants.len()
            ),
        });
    }
    let describe = |v: usize| format!("{v} (variant {})", scn.variants[v].name);
    let missing: Vec<usize> = (0..owner.len()).filter(|&v| owner[v].is_none()).collect();
    if !missing.is_empty() {
        return Err(ShardError::Missing {
            count: missing.len(),
            total: key.total_units,
            units: list(&missing, describe),
        });
    }
    let spec = capacity::spec_from_args(
        &key.slos,
        ck.hop.as_deref(),
        ck.scale,
        ck.precision,
        ck.headroom,
    )?;
    let mut answers: Vec<Option<capacity::VariantAnswer>> = vec![None; key.total_units];
    let (mut simulated, mut events) = (0, 0);
    for (dir, m) in dirs.iter().zip(manifests) {
        let jfile = dir.join(CAPACITY_JSON);
        let bad = |message: String| ShardError::Format {
            file: jfile.clone(),
            message,
        };
        let file: CapacityFile =
            serde_json::from_slice(&read(&jfile)?).map_err(|e| bad(e.to_string()))?;
        let indices: Vec<usize> = file.variants.iter().map(|r| r.index).collect();
        if indices != m.units {
            return Err(bad(format!(
                "holds variants {} but {MANIFEST} lists {}",
                list(&indices, |u| u.to_string()),
                list(&m.units, |u| u.to_string())
            )));
        }
        simulated += file.simulated;
        events += file.events;
        for r in file.variants {
            let a = &r.answer;
            let in_range = |i: Option<usize>| i.is_none_or(|i| i < a.steps.len());
            if a.variant != scn.variants[r.index].name
                || !in_range(a.last_pass)
                || !in_range(a.first_fail)
                || a.steps.iter().any(|s| s.figures.len() != spec.slos.len())
            {
                return Err(bad(format!(
                    "variant {} does not match the search's variant {}",
                    r.index,
                    describe(r.index)
                )));
            }
            let mut answer = r.answer;
            answer.picture = r
                .picture
                .map(PictureRecord::restore)
                .transpose()
                .map_err(bad)?;
            answers[r.index] = Some(answer);
        }
    }
    let outcome = capacity::CapacityOutcome {
        spec,
        seed: key.seed,
        replications: key.replications,
        threads: 0,
        answers: answers
            .into_iter()
            .map(|a| a.expect("every variant was checked present"))
            .collect(),
        simulated,
        events,
        wall: std::time::Duration::ZERO,
    };
    Ok(Merged::Capacity {
        scenario: Box::new(scn),
        outcome: Box::new(outcome),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_the_units() {
        let shards: Vec<Shard> = (0..3)
            .map(|k| Shard::parse(&format!("{k}/3")).unwrap())
            .collect();
        let mut seen = vec![0; 10];
        for s in &shards {
            for u in s.select(10) {
                assert!(s.holds(u));
                seen[u] += 1;
            }
        }
        assert_eq!(seen, vec![1; 10]);
        assert_eq!(shards[1].select(10), [1, 4, 7]);
        assert!(Shard::parse("4/4").unwrap_err().to_string().contains("K/N"));
        for bad in ["", "1", "a/2", "1/0", "-1/3", "2/2"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn batch_systems_pick_the_shard() {
        assert_eq!(Shard::from_env(env(&[])).unwrap(), None);
        let slurm = [
            ("SLURM_ARRAY_TASK_ID", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        assert_eq!(
            Shard::from_env(env(&slurm)).unwrap(),
            Some((Shard { index: 2, count: 4 }, "SLURM_ARRAY_TASK_ID"))
        );
        // An array numbered 1-4 is shards 0-3.
        let one_based = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
        ];
        assert_eq!(
            Shard::from_env(env(&one_based)).unwrap().unwrap().0,
            Shard { index: 3, count: 4 }
        );
        let k8s = [("JOB_COMPLETION_INDEX", "0"), (COUNT_VAR, "5")];
        assert_eq!(
            Shard::from_env(env(&k8s)).unwrap().unwrap().0,
            Shard { index: 0, count: 5 }
        );
        let no_count = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "0")])).unwrap_err();
        assert!(no_count.to_string().contains(COUNT_VAR), "{no_count}");
        let past = [
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ];
        let e = Shard::from_env(env(&past)).unwrap_err();
        assert!(e.to_string().contains("--array=0-3"), "{e}");
        let e = Shard::from_env(env(&[("JOB_COMPLETION_INDEX", "x")])).unwrap_err();
        assert!(e.to_string().contains("whole number"), "{e}");
    }

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
