//! Scenario files: the TOML schema, its validation, and the model they produce.
//!
//! Loading is two-stage: [`raw`] mirrors the file with serde (unknown fields refused), then
//! [`validate`] checks values and builds the [`Scenario`] the runner trusts. Every error names
//! the file, the line, the field and what is accepted. This module reads the scenario file and
//! nothing else; it never writes.

pub mod lines;
pub mod raw;
pub mod validate;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::engine::SimTime;
use crate::load::Source;
use crate::model::network::Network;
use crate::model::transport::RetryPolicy;

/// How a run stops and how it is seeded.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Retry and expiry for senders without a policy of their own (`[transport]`).
    pub retry: RetryPolicy,
    pub duration: Option<SimTime>,
    pub max_messages: Option<u64>,
    pub warmup: SimTime,
    pub seed: u64,
    pub replications: u32,
}

/// One routing option to simulate: its network and its load.
#[derive(Clone, Debug)]
pub struct VariantModel {
    pub name: String,
    pub network: Network,
    pub sources: Vec<Source>,
    /// Offered utilization per station from the traffic equations (None: unlimited servers).
    pub offered_utilization: Vec<Option<f64>>,
    /// For hybrid variants: what the cost figures need.
    pub costs: Option<CostBasis>,
}

/// What turns a hybrid variant's measured traffic into `costs.csv`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostBasis {
    /// On-premises mailboxes that receive Internet mail through EOP (None: mailbox counts not
    /// given).
    pub eop_licences: Option<f64>,
    /// The simulated rates are the peak hour's; a day carries 86 400 s ÷ this factor of them.
    pub peak_factor: f64,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: String,
    pub description: Option<String>,
    pub file: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub hash: String,
    pub run: RunSpec,
    pub variants: Vec<VariantModel>,
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{file}:{line}: `{field}`: {message}")]
    Invalid {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
    #[error("{file}:{line}: `{field}`: {message}")]
    Unstable {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
}

/// Options that change what a scenario accepts.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Simulate hops offered utilization ≥ 1 instead of refusing them.
    pub allow_unstable: bool,
}

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path, opts: LoadOptions) -> Result<Scenario, ScenarioError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
        file: file.clone(),
        source,
    })?;
    let default_name = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("scenario");
    from_text(&text, &file, default_name, opts).map(|mut s| {
        s.file = path.to_path_buf();
        s
    })
}

/// Validates scenario `text`; `file` labels errors, `default_name` names an unnamed scenario.
pub fn from_text(
    text: &str,
    file: &str,
    default_name: &str,
    opts: LoadOptions,
) -> Result<Scenario, ScenarioError> {
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        ScenarioError::Syntax {
            file: file.to_string(),
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })?;
    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    let to_error = |b: validate::Bad| {
        let line = lines::LineIndex::new(text).line(&b.field);
        if b.unstable {
            ScenarioError::Unstable {
                file: file.to_string(),
                line,
                field: b.field,
                message: b.message,
            }
        } else {
            ScenarioError::Invalid {
                file: file.to_string(),
                line,
                field: b.field,
                message: b.message,
            }
        }
    };
    if name.is_empty() || name.contains(['/', '\\', ',', '"']) {
        return Err(to_error(validate::Bad {
            field: "name".into(),
            message:
                "must be non-empty, without `/`, `\\`, `,` or `\"` (it names files and CSV cells)"
                    .into(),
            unstable: false,
        }));
    }
    let mut run = validate::run_spec(&raw.run).map_err(to_error)?;
    if let Some(t) = &raw.transport {
        run.retry =
            validate::retry_policy(t, RetryPolicy::default(), "transport").map_err(to_error)?;
    }
    let variants = validate::variants(&raw, &name, opts.allow_unstable).map_err(to_error)?;
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(Scenario {
        name,
        description: raw.description,
        file: PathBuf::from(file),
        hash,
        run,
        variants,
    })
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, column)
}
