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

pub mod encode;
pub mod hlog;
mod merge;
pub mod read;
mod select;

pub use encode::{CapacityKey, ShardManifest, StudyKey, encode, encode_capacity, run, sha256_hex};
pub use merge::merge;
pub use select::Shard;

use std::path::PathBuf;

use crate::capacity::{self, CapacityError, Slo};
use crate::runner::StudyOutcome;
use crate::scenario::{Scenario, ScenarioError};
use crate::sweep::{SweepError, SweepOutcome};

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
        "{shards}{count} of {total} units are missing: {units}; run the shards that hold them (or pass their directories) and merge again"
    )]
    Missing {
        /// The whole shards of the split that are absent ("shard 3 of 8 is missing (--shard
        /// 3/8): "), or empty when the directories do not come from one split.
        shards: String,
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
    #[error(
        "{file} has SHA-256 {found} but shard.json records {expected}: it was changed or damaged after the shard wrote it; run that shard again"
    )]
    Corrupt {
        file: PathBuf,
        found: String,
        expected: String,
    },
    /// The merged results fail a check a run makes (conservation, sums): exit 1, as for a run.
    #[error(
        "the merged results do not add up: {0}; a shard was changed after it was written, run the shards again"
    )]
    Inconsistent(String),
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
        match self {
            ShardError::Inconsistent(_) => crate::error::FAILED_CHECK,
            _ => crate::error::BAD_INPUT,
        }
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
