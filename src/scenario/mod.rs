//! Scenario files: the TOML schema, its validation, and the model they produce.
//!
//! Loading is two-stage: [`raw`] mirrors the file with serde (unknown fields refused), then
//! [`validate`] checks values and builds the [`Scenario`] the runner trusts. Every error names
//! the file, the line, the field and what is accepted. `--set` overrides ([`overrides`]) are
//! applied to the parsed tree between the two stages. This module reads the scenario file and
//! the trace it names, nothing else; it never writes.

pub mod budget;
pub mod limits;
pub mod lines;
pub mod messages;
#[cfg(test)]
mod mutation_tests;
pub mod overrides;
pub mod raw;
pub mod validate;

pub use overrides::Override;

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::engine::SimTime;
pub use crate::hybrid::CostBasis;
use crate::load::Source;
use crate::model::network::{MeterId, Network};
use crate::model::transport::RetryPolicy;

/// How a run stops and how it is seeded.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Retry and expiry for senders without a policy of their own (`[transport]`).
    pub retry: RetryPolicy,
    pub duration: Option<SimTime>,
    pub max_messages: Option<u64>,
    pub warmup: SimTime,
    /// `warmup_s = "auto"`: `warmup` is 0 until `runner::resolve_warmup` sets it from a pilot.
    pub warmup_auto: bool,
    pub seed: u64,
    pub replications: u32,
    /// Every source's rate is the file's times this (`run.load_scale`, default 1).
    pub load_scale: f64,
}

/// One routing option to simulate: its network and its load.
#[derive(Clone, Debug)]
pub struct VariantModel {
    pub name: String,
    pub network: Network,
    pub sources: Vec<Source>,
    /// Meters whose summed per-minute traffic gives the variant's peak-minute figure (a hybrid
    /// variant's on-premises Internet connection; empty otherwise).
    pub peak_meters: Vec<MeterId>,
    /// For hybrid variants: what the cost figures need.
    pub costs: Option<CostBasis>,
}

impl VariantModel {
    /// Multiplies every source's arrival rate by `k`.
    pub fn scale_load(&mut self, k: f64) {
        if k == 1.0 {
            return;
        }
        for s in &mut self.sources {
            s.scale_load(k);
        }
    }

    /// Offered utilization per station from the traffic equations (None: unlimited servers).
    pub fn offered_utilization(&self) -> Vec<Option<f64>> {
        validate::offered_utilization(&self.network, &self.sources)
    }

    /// Sets the servers of hop `hop`; None if the variant has no hop of that name.
    pub fn set_servers(&mut self, hop: &str, servers: u32) -> Option<()> {
        let st = self
            .network
            .stations
            .iter_mut()
            .find(|s| s.name == hop && s.kind == crate::model::network::StationKind::Hop)?;
        st.servers = crate::model::network::Servers::Finite(servers);
        Some(())
    }

    /// The busiest station's offered utilization (0 if every station is unlimited).
    pub fn max_offered_utilization(&self) -> f64 {
        self.offered_utilization()
            .into_iter()
            .flatten()
            // NaN (an undefined load) wins, so no check mistakes it for an idle station.
            .fold(0.0, |a: f64, u| {
                if a.is_nan() || u.is_nan() {
                    f64::NAN
                } else {
                    a.max(u)
                }
            })
    }

    /// Whether the offered load is within every station's capacity.
    pub fn is_stable(&self) -> bool {
        validate::stability(self).is_ok()
    }
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

impl Scenario {
    /// Variant `vi` alone, with every rate at `k` × the file's: one candidate of a search.
    /// Clones that variant only (a search builds one per candidate).
    pub fn one_variant_at_load_scale(&self, vi: usize, k: f64) -> Scenario {
        let mut v = self.variants[vi].clone();
        v.scale_load(k / self.run.load_scale);
        Scenario {
            name: self.name.clone(),
            description: self.description.clone(),
            file: self.file.clone(),
            hash: self.hash.clone(),
            run: RunSpec {
                load_scale: k,
                ..self.run.clone()
            },
            variants: vec![v],
        }
    }

    /// The scenario with every rate at `k` × the file's (replacing `run.load_scale`).
    pub fn at_load_scale(&self, k: f64) -> Scenario {
        let mut s = self.clone();
        let rel = k / self.run.load_scale;
        for v in &mut s.variants {
            v.scale_load(rel);
        }
        s.run.load_scale = k;
        s
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("{file}: cannot read the scenario: {source}")]
    Read {
        file: String,
        source: std::io::Error,
    },
    #[error("{file}: {message}")]
    Override { file: String, message: String },
    /// A `--set` value of the wrong type: where it came from is the flag, not a file line.
    #[error("`{flag}`: `{field}`: {message} (a --set for {file})")]
    OverrideValue {
        flag: String,
        field: String,
        message: String,
        file: String,
    },
    #[error("{trace}: {source} (the trace of {file})")]
    Trace {
        file: String,
        trace: String,
        source: crate::load::trace::TraceError,
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
    /// A study beyond the run-size budget (see [`budget`]).
    #[error("{message}")]
    TooLong { message: String },
    #[error("{file}:{line}: `{field}`: {message}")]
    Unstable {
        file: String,
        line: usize,
        field: String,
        message: String,
    },
}

impl ScenarioError {
    /// The process exit code this error calls for (see [`crate::error`]): bad input.
    pub fn exit_code(&self) -> u8 {
        crate::error::BAD_INPUT
    }
}

/// Options that change what a scenario accepts.
#[derive(Clone, Copy, Debug, Default)]
pub struct LoadOptions {
    /// Simulate hops offered utilization ≥ 1 instead of refusing them.
    pub allow_unstable: bool,
}

/// Reads and validates the scenario at `path`.
pub fn load(path: &Path, opts: LoadOptions) -> Result<Scenario, ScenarioError> {
    ScenarioFile::read(path)?.build(opts, &[])
}

/// A scenario file read once, to be built many times with different overrides (a sweep).
#[derive(Clone, Debug)]
pub struct ScenarioFile {
    pub path: PathBuf,
    pub text: String,
}

impl ScenarioFile {
    pub fn read(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            file: path.display().to_string(),
            source,
        })?;
        Ok(ScenarioFile {
            path: path.to_path_buf(),
            text,
        })
    }

    /// Validates the file with `overrides` set.
    pub fn build(
        &self,
        opts: LoadOptions,
        overrides: &[Override],
    ) -> Result<Scenario, ScenarioError> {
        let default_name = self
            .path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("scenario");
        let file = self.path.display().to_string();
        from_text_with(&self.text, &file, default_name, opts, overrides).map(|mut s| {
            s.file = self.path.clone();
            s
        })
    }
}

/// Validates scenario `text`; `file` labels errors, `default_name` names an unnamed scenario.
pub fn from_text(
    text: &str,
    file: &str,
    default_name: &str,
    opts: LoadOptions,
) -> Result<Scenario, ScenarioError> {
    from_text_with(text, file, default_name, opts, &[])
}

/// As [`from_text`], with `overrides` set in the parsed tree before it is deserialized.
/// A trace file is read relative to the directory of `file`.
pub fn from_text_with(
    text: &str,
    file: &str,
    default_name: &str,
    opts: LoadOptions,
    overrides: &[Override],
) -> Result<Scenario, ScenarioError> {
    let raw: raw::RawScenario = toml::from_str(text).map_err(|e| type_error(text, file, &e))?;
    let flags = overrides
        .iter()
        .map(Override::flag)
        .collect::<Vec<_>>()
        .join(" ");
    let raw = if overrides.is_empty() {
        raw
    } else {
        let override_err = |message: String| ScenarioError::Override {
            file: file.to_string(),
            message,
        };
        let mut table: toml::Table = toml::from_str(text).expect("the text parsed above");
        for o in overrides {
            overrides::apply(&mut table, o)
                .map_err(|m| override_err(format!("cannot apply `{}`: {m}", o.flag())))?;
        }
        raw::RawScenario::deserialize(table.clone())
            .map_err(|e| override_type_error(text, file, &table, overrides, &e, &flags))?
    };
    let name = raw.name.clone().unwrap_or_else(|| default_name.to_string());
    let to_error = |mut b: validate::Bad| {
        let line = lines::LineIndex::new(text).line(&b.field);
        if let Some(o) = overrides.iter().find(|o| {
            let f = o.field();
            b.field == f
                || b.field.starts_with(&format!("{f}."))
                || f.starts_with(&format!("{}.", b.field))
        }) {
            b.message = format!("{} (set by `{}`)", b.message, o.flag());
        } else if !overrides.is_empty() {
            b.message = format!("{} (with {flags})", b.message);
        }
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
    limits::check_name(&name, raw.name.is_some()).map_err(to_error)?;
    limits::check_raw(&raw).map_err(to_error)?;
    let mut run = validate::run_spec(&raw.run).map_err(to_error)?;
    if let Some(t) = &raw.transport {
        run.retry =
            validate::retry_policy(t, RetryPolicy::default(), "transport").map_err(to_error)?;
    }
    let trace = match &raw.trace {
        None => None,
        Some(t) => {
            let dir = Path::new(file).parent().unwrap_or(Path::new(""));
            let trace_path = dir.join(&t.file);
            let names = validate::source_names(&raw);
            Some(trace_cache::get(&trace_path, &names, || {
                let trace_label = trace_path.display().to_string();
                let trace_text = std::fs::read_to_string(&trace_path).map_err(|e| {
                    to_error(validate::Bad {
                        field: "trace.file".into(),
                        message: format!(
                            "cannot read {trace_label}: {e}; the path is relative to the scenario file"
                        ),
                        unstable: false,
                    })
                })?;
                crate::load::trace::parse(&trace_text, &names).map_err(|source| {
                    ScenarioError::Trace {
                        file: file.to_string(),
                        trace: trace_label,
                        source,
                    }
                })
            })?)
        }
    };
    let variants = validate::variants(
        &raw,
        &name,
        opts.allow_unstable,
        trace.as_ref(),
        run.load_scale,
    )
    .map_err(to_error)?;
    let hash = Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut variants = variants;
    if let Some(d) = run.duration {
        // Thinning draws candidates at the highest rate within the simulated period only.
        for s in variants.iter_mut().flat_map(|v| v.sources.iter_mut()) {
            if let crate::load::ArrivalSpec::Shaped(shape) = &mut s.arrivals {
                shape.limit_envelope(d.as_secs_f64());
            }
        }
    }
    let scenario = Scenario {
        name,
        description: raw.description,
        file: PathBuf::from(file),
        hash,
        run,
        variants,
    };
    limits::check_model(&scenario).map_err(to_error)?;
    Ok(scenario)
}

/// A type error after `--set` overrides: the tree no longer has the file's spans, so it is
/// written back to TOML and read again to find the field's dotted path. An error in a field
/// an override set names that `--set` argument as where the value came from; an error
/// elsewhere points at the field's line in the file.
fn override_type_error(
    text: &str,
    file: &str,
    table: &toml::Table,
    overrides: &[Override],
    e: &toml::de::Error,
    flags: &str,
) -> ScenarioError {
    let words = messages::words(e.message(), None);
    let fallback = || ScenarioError::Override {
        file: file.to_string(),
        message: format!("{words} (with {flags})"),
    };
    let Ok(written) = toml::to_string(table) else {
        return fallback();
    };
    let Err(again) = toml::from_str::<raw::RawScenario>(&written) else {
        return fallback();
    };
    let Some(field) = again
        .span()
        .and_then(|sp| lines::LineIndex::new(&written).path_at(sp.start))
    else {
        return fallback();
    };
    let message = messages::words(again.message(), None);
    let set_by = overrides.iter().find(|o| {
        let f = o.field();
        field == f || field.starts_with(&format!("{f}.")) || f.starts_with(&format!("{field}."))
    });
    match set_by {
        Some(o) => ScenarioError::OverrideValue {
            flag: o.flag(),
            field,
            message,
            file: file.to_string(),
        },
        None => ScenarioError::Invalid {
            file: file.to_string(),
            line: lines::LineIndex::new(text).line(&field),
            field,
            message: format!("{message} (with {flags})"),
        },
    }
}

/// A parse or type error of the file as one message: the line, the field's dotted path when
/// it can be found, and what was found and what is accepted in words.
fn type_error(text: &str, file: &str, e: &toml::de::Error) -> ScenarioError {
    let Some(span) = e.span() else {
        return ScenarioError::Syntax {
            file: file.to_string(),
            line: 1,
            column: 1,
            message: messages::words(e.message(), None),
        };
    };
    let (line, column) = line_col(text, span.start);
    let duplicate = e.message().trim_start().starts_with("duplicate key");
    // The whole line holding the error, and the field it writes (`key = …` under a header).
    let line_start = text[..span.start.min(text.len())]
        .rfind('\n')
        .map_or(0, |i| i + 1);
    let line_text = text[line_start..].lines().next().unwrap_or("");
    let written_here = || -> Option<String> {
        let t = line_text.trim();
        if t.starts_with('[') {
            return header_name(t);
        }
        let (k, _) = t.split_once('=')?;
        let k = k.trim().trim_matches(['"', '\'']);
        (!k.is_empty()).then(|| match header_before(text, line_start) {
            Some(h) => format!("{h}.{k}"),
            None => k.to_string(),
        })
    };
    let field = if duplicate {
        // A file with a doubled key does not parse into a tree: say what the line writes.
        written_here()
    } else {
        lines::LineIndex::new(text)
            .path_at(span.start)
            .or_else(written_here)
    };
    // The doubled key itself, when the span is a bare key (in an inline table it is not the
    // line's key).
    let at_span = text
        .get(span.clone())
        .unwrap_or("")
        .trim()
        .trim_matches(['"', '\'']);
    let bare = !at_span.is_empty()
        && at_span
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let last = |f: &str| f.rsplit('.').next().unwrap_or(f).to_string();
    let (field, key) = match (duplicate, field) {
        (true, Some(f)) if bare && last(&f) != at_span => {
            (Some(format!("{f}.{at_span}")), Some(at_span.to_string()))
        }
        (true, f) => {
            let k = f
                .as_deref()
                .map(last)
                .unwrap_or_else(|| at_span.to_string());
            (f, Some(k))
        }
        (false, f) => (f, None),
    };
    let message = messages::words(e.message(), key.as_deref());
    match field {
        Some(field) => ScenarioError::Invalid {
            file: file.to_string(),
            line,
            field,
            message,
        },
        None => ScenarioError::Syntax {
            file: file.to_string(),
            line,
            column,
            message,
        },
    }
}

/// The name of the last `[table]` header before byte `offset`.
fn header_before(text: &str, offset: usize) -> Option<String> {
    let before = text.get(..offset)?;
    before
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('['))
        .and_then(|l| header_name(l.trim()))
}

/// `hops.s1` for a header line `[hops.s1]` (or `[[x]]`), quotes removed.
fn header_name(line: &str) -> Option<String> {
    let inner = line.trim_start_matches('[').split(']').next()?;
    let name = inner
        .split('.')
        .map(|p| p.trim().trim_matches(['"', '\'']))
        .collect::<Vec<_>>()
        .join(".");
    (!name.is_empty()).then_some(name)
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

/// Parsed trace files, kept for the process: a sweep or a search builds every point from the
/// scenario file, and reading and parsing a large trace again per point would cost more than
/// simulating it. Keyed by path, the file's length and modification time, and the source
/// names, so a changed file is read again; the last few traces are kept.
mod trace_cache {
    use std::path::{Path, PathBuf};
    use std::sync::{Mutex, OnceLock};
    use std::time::SystemTime;

    use crate::load::trace::Trace;

    type Key = (PathBuf, u64, SystemTime, Vec<String>);
    const KEPT: usize = 4;

    fn cache() -> &'static Mutex<Vec<(Key, Trace)>> {
        static CACHE: OnceLock<Mutex<Vec<(Key, Trace)>>> = OnceLock::new();
        CACHE.get_or_init(Default::default)
    }

    fn key(path: &Path, names: &[&str]) -> Option<Key> {
        let meta = std::fs::metadata(path).ok()?;
        let names = names.iter().map(|n| n.to_string()).collect();
        Some((path.to_path_buf(), meta.len(), meta.modified().ok()?, names))
    }

    /// The trace at `path` for sources `names`: from the cache, or from `load` (then kept).
    pub fn get<E>(
        path: &Path,
        names: &[&str],
        load: impl FnOnce() -> Result<Trace, E>,
    ) -> Result<Trace, E> {
        let Some(key) = key(path, names) else {
            return load(); // unreadable: `load` says why
        };
        let lock = || cache().lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, t)) = lock().iter().find(|(k, _)| *k == key) {
            return Ok(t.clone());
        }
        let t = load()?;
        let mut c = lock();
        if c.len() >= KEPT {
            c.remove(0);
        }
        c.push((key, t.clone()));
        Ok(t)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// A second look-up of an unchanged file does not load it; a changed file is loaded.
        #[test]
        fn loads_a_file_once_until_it_changes() {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("trace.csv");
            std::fs::write(&path, "a").unwrap();
            let empty = || Trace {
                per_source: Vec::new(),
                span: crate::engine::SimTime::ZERO,
            };
            let mut loads = 0;
            for _ in 0..3 {
                get::<()>(&path, &["s"], || {
                    loads += 1;
                    Ok(empty())
                })
                .unwrap();
            }
            assert_eq!(loads, 1);
            std::fs::write(&path, "longer").unwrap();
            get::<()>(&path, &["s"], || {
                loads += 1;
                Ok(empty())
            })
            .unwrap();
            assert_eq!(loads, 2);
        }
    }
}
