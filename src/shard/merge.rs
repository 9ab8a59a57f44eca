//! `merge`: shard directories back into the outcome of the whole study, in steps — read the
//! manifests, check they are one study, find each unit's shard, load the scenario (and the
//! sweep's points), read every data file whose SHA-256 matches, rebuild each unit's result,
//! check every result adds up, assemble as a single run would. A capacity study merges its
//! variants' answers instead ([`merge_capacity`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::encode::{CapacityFile, PictureRecord, ShardManifest, StudyKey, UnitsFile};
use super::read::{parse_capacity, parse_units, read_checked, read_manifest};
use super::{
    CAPACITY_JSON, Foreign, MANIFEST, Merged, ShardError, UNITS_HLOG, UNITS_JSON, hlog, list,
};
use crate::capacity::{self, Slo};
use crate::model::sim::RunResult;
use crate::runner::{self, Plan};
use crate::scenario::{LoadOptions, Scenario, ScenarioFile};
use crate::sweep::{self, Axis, Prepared};

/// Merges shard directories into the outcome of the whole study. `scenario` replaces the file
/// recorded in the manifests (it must have the same SHA-256).
pub fn merge(dirs: &[PathBuf], scenario: Option<&Path>) -> Result<Merged, ShardError> {
    let manifests = dirs
        .iter()
        .map(|d| read_manifest(d))
        .collect::<Result<Vec<_>, _>>()?;
    check_one_study(dirs, &manifests)?;
    let owner = owners(dirs, &manifests)?;
    let first = &manifests[0];
    let path = scenario.map_or_else(|| PathBuf::from(&first.scenario_file), Path::to_path_buf);
    if first.study.command == "capacity" {
        return merge_capacity(dirs, &manifests, &owner, &path);
    }
    merge_units(dirs, &manifests, &owner, &path)
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

/// Every shard has this version's format and the first shard's study key.
fn check_one_study(dirs: &[PathBuf], manifests: &[ShardManifest]) -> Result<(), ShardError> {
    let key = &manifests[0].study;
    if key.program != "mailflow" || key.unit_order != key.expected_unit_order() {
        return Err(ShardError::Format {
            file: dirs[0].join(MANIFEST),
            message: format!(
                "program `{}` with unit order `{}` is not a mailflow shard of this version's format",
                key.program, key.unit_order
            ),
        });
    }
    for (dir, m) in dirs.iter().zip(manifests).skip(1) {
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
    Ok(())
}

/// The shards of the directories' `--shard K/N` split that none of them is, as the start of
/// a missing-units message: "shard 3 of 8 is missing (--shard 3/8): ", "shards 1 and 3 of 4
/// are missing (--shard 1/4, 3/4): ". Empty when every shard is present or the directories
/// come from different splits (whose units may still add up).
fn missing_shards(manifests: &[ShardManifest]) -> String {
    let shards: Option<Vec<super::Shard>> = manifests
        .iter()
        .map(|m| super::Shard::parse(&m.shard).ok())
        .collect();
    let Some(shards) = shards else {
        return String::new();
    };
    let n = shards[0].count;
    if shards.iter().any(|s| s.count != n) {
        return String::new();
    }
    let present: BTreeSet<u32> = shards.iter().map(|s| s.index).collect();
    let missing: Vec<u32> = (0..n).filter(|k| !present.contains(k)).collect();
    let names: Vec<String> = missing.iter().take(10).map(|k| k.to_string()).collect();
    let flags: Vec<String> = missing
        .iter()
        .take(10)
        .map(|k| format!("{k}/{n}"))
        .collect();
    let more = if missing.len() > 10 {
        format!(" and {} more", missing.len() - 10)
    } else {
        String::new()
    };
    match names.as_slice() {
        [] => String::new(),
        [one] => format!("shard {one} of {n} is missing (--shard {one}/{n}): "),
        [rest @ .., last] if more.is_empty() => format!(
            "shards {} and {last} of {n} are missing (--shard {}): ",
            rest.join(", "),
            flags.join(", ")
        ),
        all => format!(
            "shards {}{more} of {n} are missing (--shard {}{more}): ",
            all.join(", "),
            flags.join(", ")
        ),
    }
}

/// The shard holding each unit (`owner[u]`), refusing a unit held twice or out of range.
/// Never allocates by the manifest's word alone: a study of more units than the shards hold
/// together is refused as missing units first.
fn owners(dirs: &[PathBuf], manifests: &[ShardManifest]) -> Result<Vec<Option<usize>>, ShardError> {
    let key = &manifests[0].study;
    let held: usize = manifests.iter().map(|m| m.units.len()).sum();
    // Units missing in ordinary numbers are named below, with their variants; a total far
    // beyond what the shards hold is refused here, before allocating by it.
    if key.total_units > held.saturating_add(1_000_000) {
        let present: BTreeSet<usize> = manifests
            .iter()
            .flat_map(|m| m.units.iter().copied())
            .collect();
        let missing: Vec<usize> = (0..key.total_units)
            .filter(|u| !present.contains(u))
            .take(11)
            .collect();
        return Err(ShardError::Missing {
            shards: missing_shards(manifests),
            count: key.total_units - present.len().min(key.total_units),
            total: key.total_units,
            units: list(&missing[..missing.len().min(10)], |u| u.to_string()),
        });
    }
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
    Ok(owner)
}

/// A run's scenario, or a sweep's axes, points and SLOs, loaded as the shards were made.
struct Study {
    axes: Vec<Axis>,
    prepared: Option<Prepared>,
    slos: Vec<Slo>,
    scenario: Option<Scenario>,
}

impl Study {
    fn load(key: &StudyKey, path: &Path) -> Result<Study, ShardError> {
        let file = ScenarioFile::read(path)?;
        if key.command != "sweep" {
            let opts = LoadOptions {
                allow_unstable: key.allow_unstable,
            };
            // A run's `--set` values travel in the key's axes, one value each.
            let overrides = sweep::single_overrides(&key.axes)?;
            return Ok(Study {
                axes: Vec::new(),
                prepared: None,
                slos: Vec::new(),
                scenario: Some(file.build(opts, &overrides)?),
            });
        }
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
        Ok(Study {
            axes,
            prepared: Some(sweep::prepare(points, key.allow_unstable)),
            slos,
            scenario: None,
        })
    }

    fn scenarios(&self) -> Vec<&Scenario> {
        match (&self.prepared, &self.scenario) {
            (Some(p), _) => p.scenarios(),
            (None, Some(s)) => vec![s],
            (None, None) => unreachable!("a run or a sweep"),
        }
    }
}

/// The run and sweep half of [`merge`].
fn merge_units(
    dirs: &[PathBuf],
    manifests: &[ShardManifest],
    owner: &[Option<usize>],
    path: &Path,
) -> Result<Merged, ShardError> {
    let key = &manifests[0].study;
    let study = Study::load(key, path)?;
    let scns = study.scenarios();
    if scns[0].hash != key.scenario_sha256 {
        return Err(ShardError::ScenarioChanged {
            file: path.to_path_buf(),
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
            shards: missing_shards(manifests),
            count: missing.len(),
            total: key.total_units,
            units: list(&missing, describe),
        });
    }
    let mut results: Vec<Option<RunResult>> = vec![None; key.total_units];
    for (dir, m) in dirs.iter().zip(manifests) {
        rebuild_shard(dir, m, &scns, &plan, &describe, &mut results)?;
    }
    let results: Vec<RunResult> = results
        .into_iter()
        .map(|r| r.expect("every unit was checked present"))
        .collect();
    for (u, r) in results.iter().enumerate() {
        check_adds_up(r)
            .map_err(|m| ShardError::Inconsistent(format!("unit {}: {m}", describe(u))))?;
    }
    let mut outcomes = runner::assemble(&scns, &plan, &results, 0, std::time::Duration::ZERO);
    drop(scns);
    Ok(match (study.prepared, study.scenario) {
        (Some(p), _) => Merged::Sweep {
            sweep: Box::new(p.finish(&study.axes, outcomes)),
            slos: study.slos,
        },
        (None, Some(s)) => Merged::Run {
            scenario: Box::new(s),
            study: outcomes.pop().expect("one point"),
        },
        (None, None) => unreachable!("a run or a sweep"),
    })
}

/// Reads one shard's `units.json` and `units.hlog` (each only if its SHA-256 matches) and
/// puts each unit's rebuilt result into `results`.
fn rebuild_shard(
    dir: &Path,
    m: &ShardManifest,
    scns: &[&Scenario],
    plan: &Plan,
    describe: &dyn Fn(usize) -> String,
    results: &mut [Option<RunResult>],
) -> Result<(), ShardError> {
    let jfile = dir.join(UNITS_JSON);
    let bad = |message: String| ShardError::Format {
        file: jfile.clone(),
        message,
    };
    let units: UnitsFile = parse_units(&read_checked(dir, m, UNITS_JSON)?).map_err(bad)?;
    let indices: Vec<usize> = units.units.iter().map(|r| r.index).collect();
    if indices != m.units {
        return Err(bad(format!(
            "holds units {} but {MANIFEST} lists {}",
            list(&indices, |u| u.to_string()),
            list(&m.units, |u| u.to_string())
        )));
    }
    let hfile = dir.join(UNITS_HLOG);
    let hlog_err = |source| ShardError::Hlog {
        file: hfile.clone(),
        source,
    };
    let mut hists = hlog::decode(&read_checked(dir, m, UNITS_HLOG)?).map_err(hlog_err)?;
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
        hlog::restore(&mut hists, r.index, &mut r.result, &net.flows, &stations)
            .map_err(hlog_err)?;
        results[r.index] = Some(r.result);
    }
    Ok(())
}

/// The checks a run makes of its own result, with sums that cannot overflow: every
/// recipient in exactly one end state, and the flows' deliveries (after the warm-up) no more
/// than the accounting's.
fn check_adds_up(r: &RunResult) -> Result<(), String> {
    let a = &r.accounting;
    let sum = |xs: &[u64]| xs.iter().try_fold(0u64, |s, &x| s.checked_add(x));
    let ended = sum(&[
        a.delivered,
        a.expired,
        a.quarantined,
        a.rejected,
        a.filtered_spam,
        a.in_flight,
    ]);
    if ended != Some(a.generated) {
        return Err(format!(
            "generated {} recipients but the end states add up to {}",
            a.generated,
            ended.map_or("more than 2^64".into(), |e| e.to_string())
        ));
    }
    let delivered = sum(&r.flows.iter().map(|f| f.delivered).collect::<Vec<_>>());
    // The flows count deliveries after the warm-up only; the accounting counts them all.
    if delivered.is_none_or(|d| d > a.delivered) {
        return Err(format!(
            "the flows delivered {} recipients but the accounting only {}",
            delivered.map_or("more than 2^64".into(), |e| e.to_string()),
            a.delivered
        ));
    }
    Ok(())
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
            shards: missing_shards(manifests),
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
    let (mut simulated, mut events) = (0usize, 0u64);
    for (dir, m) in dirs.iter().zip(manifests) {
        let (s, e) = read_answers(dir, m, &scn, &spec, &describe, &mut answers)?;
        simulated = simulated.saturating_add(s);
        events = events.saturating_add(e);
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

/// Reads one capacity shard's `capacity.json` (only if its SHA-256 matches) into `answers`;
/// returns its configurations simulated and events.
fn read_answers(
    dir: &Path,
    m: &ShardManifest,
    scn: &Scenario,
    spec: &capacity::SearchSpec,
    describe: &dyn Fn(usize) -> String,
    answers: &mut [Option<capacity::VariantAnswer>],
) -> Result<(usize, u64), ShardError> {
    let jfile = dir.join(CAPACITY_JSON);
    let bad = |message: String| ShardError::Format {
        file: jfile.clone(),
        message,
    };
    let file: CapacityFile = parse_capacity(&read_checked(dir, m, CAPACITY_JSON)?).map_err(bad)?;
    let indices: Vec<usize> = file.variants.iter().map(|r| r.index).collect();
    if indices != m.units {
        return Err(bad(format!(
            "holds variants {} but {MANIFEST} lists {}",
            list(&indices, |u| u.to_string()),
            list(&m.units, |u| u.to_string())
        )));
    }
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
    Ok((file.simulated, file.events))
}
