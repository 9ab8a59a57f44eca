//! `manifest.json`: what produced a result directory — program version, scenario hash, seed,
//! replications, threads, simulated time, events and wall time.

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
    pub threads: usize,
    pub variants: Vec<&'a str>,
    pub warmup_s: f64,
    pub duration_s: Option<f64>,
    /// Every arrival rate is the file's × this (`run.load_scale`).
    pub load_scale: f64,
    pub max_messages: Option<u64>,
    /// Simulated seconds, summed over every variant × replication.
    pub simulated_s: f64,
    pub events: u64,
    pub wall_time_s: f64,
    pub events_per_s: f64,
    pub files: Vec<String>,
}

pub fn build<'a>(scn: &'a Scenario, study: &'a StudyOutcome, files: Vec<String>) -> Manifest<'a> {
    let wall = study.wall.as_secs_f64();
    Manifest {
        program: "mailflow",
        version: env!("CARGO_PKG_VERSION"),
        scenario: &scn.name,
        scenario_file: scn.file.display().to_string(),
        scenario_sha256: &scn.hash,
        seed: study.seed,
        replications: study.replications,
        threads: study.threads,
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
        wall_time_s: wall,
        events_per_s: if wall > 0.0 {
            study.events() as f64 / wall
        } else {
            0.0
        },
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
    pub threads: usize,
    /// What was varied (`--set` paths, or the search's parameters).
    pub parameters: Vec<String>,
    /// Simulated configurations (sweep points, or search steps).
    pub points: usize,
    pub events: u64,
    pub wall_time_s: f64,
    pub files: Vec<String>,
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
            threads: study.threads,
            parameters: Vec::new(),
            points: 0,
            events: 0,
            wall_time_s: 0.0,
            files: Vec::new(),
        }
    }
}
