//! Code shared by the criterion benches and `examples/tandem_throughput.rs` (included there
//! with `#[path]`): the bare-loop reference and the message-bounded tandem scenario.
//! Nothing here is part of the library.

#![allow(dead_code)] // each includer uses a different subset

pub mod bare_loop;

use std::path::Path;

use mailflow::scenario::{self, LoadOptions, Scenario};

/// The tandem M/M/c scenario file, relative to the crate root.
pub const TANDEM: &str = "scenarios/tandem-mmc.toml";
/// The bundled hybrid scenario file, relative to the crate root.
pub const HYBRID: &str = "scenarios/hybrid-routing.toml";

/// Loads `path` (relative to the crate root) with its `[run]` table replaced by
/// `messages = N` (no duration, no warm-up: every message counts) and the file's seed, so a
/// run simulates exactly `messages` messages with full statistics.
pub fn with_messages(path: &str, messages: u64) -> Scenario {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(&full).expect("scenario file is readable");
    let mut doc: toml_edit::DocumentMut = text.parse().expect("scenario is valid TOML");
    let seed = doc["run"]["seed"].as_integer().unwrap_or(1);
    let mut run = toml_edit::Table::new();
    run["messages"] = toml_edit::value(messages as i64);
    run["seed"] = toml_edit::value(seed);
    doc["run"] = toml_edit::Item::Table(run);
    scenario::from_text(
        &doc.to_string(),
        &full.display().to_string(),
        "bench",
        LoadOptions::default(),
    )
    .expect("scenario with a message bound is valid")
}

/// Loads `path` (relative to the crate root) as it is.
pub fn load(path: &str) -> Scenario {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    scenario::load(&full, LoadOptions::default()).expect("bundled scenario is valid")
}
