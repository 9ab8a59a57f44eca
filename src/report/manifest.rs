//! `manifest.json`: what produced a result directory — program version, scenario hash, seed,
//! replications, simulated time, events, files. It holds only what the scenario and seed
//! determine, so a rerun rewrites it byte for byte and a committed result stays unchanged;
//! what varies from run to run (threads, wall time, events per second) goes to `timing.json`.

use serde::Serialize;

use crate::runner::StudyOutcome;
use crate::scenario::Scenario;

#[derive(Serialize)]
pub struct Manifest<'a> {
    pub program: &'static str,
    pub version: &'static str,
    pub scenario: &'a str,
    pub scenario_file: String,
    pub scenario_sha256: &'a str,
    pub seed: u64,
    pub replications: u32,
    pub variants: Vec<&'a str>,
    pub warmup_s: f64,
    pub duration_s: Option<f64>,
    /// Every arrival rate is the file's × this (`run.load_scale`).
    pub load_scale: f64,
    pub max_messages: Option<u64>,
    /// Simulated seconds, summed over every variant × replication.
    pub simulated_s: f64,
    pub events: u64,
    /// With `--precision`: the target, the rounds, the replications chosen and what fell short.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<super::precision::ManifestPrecision>,
    pub files: Vec<String>,
}

/// `timing.json`: how this run went on this machine (not reproducible, so not in the manifest).
#[derive(Serialize)]
pub struct Timing {
    pub threads: usize,
    pub wall_time_s: f64,
    pub events: u64,
    pub events_per_s: f64,
}

impl Timing {
    pub fn new(threads: usize, wall: std::time::Duration, events: u64) -> Timing {
        let wall_time_s = wall.as_secs_f64();
        Timing {
            threads,
            wall_time_s,
            events,
            events_per_s: if wall_time_s > 0.0 {
                events as f64 / wall_time_s
            } else {
                0.0
            },
        }
    }
}

pub fn build<'a>(scn: &'a Scenario, study: &'a StudyOutcome, files: Vec<String>) -> Manifest<'a> {
    Manifest {
        program: "mailflow",
        version: env!("CARGO_PKG_VERSION"),
        scenario: &scn.name,
        scenario_file: scn.file.display().to_string(),
        scenario_sha256: &scn.hash,
        seed: study.seed,
        replications: study.replications,
        variants: study.variants.iter().map(|v| v.name.as_str()).collect(),
        warmup_s: scn.run.warmup.as_secs_f64(),
        duration_s: scn.run.duration.map(|d| d.as_secs_f64()),
        load_scale: scn.run.load_scale,
        max_messages: scn.run.max_messages,
        simulated_s: study
            .variants
            .iter()
            .map(|v| v.simulated.as_secs_f64())
            .sum(),
        events: study.events(),
        precision: study
            .precision
            .as_ref()
            .map(super::precision::ManifestPrecision::of),
        files,
    }
}

/// The manifest of a sweep or capacity search: what produced the directory.
#[derive(Serialize)]
pub struct StudyManifest<'a> {
    pub program: &'static str,
    pub version: &'static str,
    /// `sweep` or `capacity`.
    pub command: &'a str,
    pub scenario: &'a str,
    pub scenario_file: String,
    pub scenario_sha256: &'a str,
    pub seed: u64,
    pub replications: u32,
    /// What was varied (`--set` paths, or the search's parameters).
    pub parameters: Vec<String>,
    /// Simulated configurations (sweep points, or search steps).
    pub points: usize,
    pub events: u64,
    /// With `--precision`: the target every point (configuration) replicated towards; each
    /// point's rounds and replications are in `precision.csv` (sweep) or the steps' CSV.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precision: Option<StudyPrecision>,
    pub files: Vec<String>,
}

/// A study's `--precision` and `--max-replications`.
#[derive(Serialize)]
pub struct StudyPrecision {
    /// The largest accepted 95% half-width as a share of the figure (0.05 for `5%`).
    pub share: f64,
    pub max_replications: u32,
}

impl StudyPrecision {
    pub fn of(p: crate::runner::precision::Precision) -> StudyPrecision {
        StudyPrecision {
            share: p.share,
            max_replications: p.max_replications,
        }
    }
}

impl<'a> StudyManifest<'a> {
    pub fn new(command: &'a str, scn: &'a Scenario, study: &StudyOutcome) -> Self {
        StudyManifest {
            program: "mailflow",
            version: env!("CARGO_PKG_VERSION"),
            command,
            scenario: &scn.name,
            scenario_file: scn.file.display().to_string(),
            scenario_sha256: &scn.hash,
            seed: study.seed,
            replications: study.replications,
            parameters: Vec::new(),
            points: 0,
            events: 0,
            precision: study.precision.as_ref().map(|r| StudyPrecision {
                share: r.share,
                max_replications: r.max_replications,
            }),
            files: Vec::new(),
        }
    }
}
