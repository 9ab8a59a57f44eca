//! The whole multi-file calibration path (`mailflow calibrate <folder>` up to, not including,
//! the back-test's simulation): 2–4 files in a fresh folder, ordered by the earliest time they
//! can hold (MSGTRK names' hours, other files read ahead), read, joined by message id,
//! classified, tallied, estimated; the output files and report page built in memory; the
//! back-test scenario built and loaded. Each input must give outputs or one error of exit
//! code 2 (bad input) on one line — never a panic, a hang or an unbounded allocation.
//!
//! Input layout: byte 0 holds flags (bit 0: give `--accepted-domain contoso.com`; bit 1: give
//! the files themselves instead of the folder; bits 2–3: the split point when the rest has no
//! file marker, in quarters); bytes 1–4 pick each file's name from [`NAMES`]; the rest is the
//! files' bytes, separated by [`MARKER`] (2 to 4 files: fewer pieces are split at the point
//! byte 0 picks, more are joined into the fourth).
#![no_main]

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use mailflow::calibrate::{backtest, pipeline, report};
use mailflow::scenario;

const MARKER: &[u8] = b"\n@@FILE@@\n";

/// MSGTRK names with hours (ordered by the hour, a bad hour, two files of one hour, other
/// kinds) and names without (read ahead for their earliest record).
const NAMES: [&str; 12] = [
    "MSGTRK2026030209-1.LOG",
    "MSGTRK2026030210-1.LOG",
    "MSGTRKMS2026030209-1.LOG",
    "MSGTRKMD2026030208-1.LOG",
    "MSGTRK2026023124-1.LOG",
    "MSGTRK9999999999-1.LOG",
    "MSGTRK2026030209-2.LOG",
    "MSGTRK-1.LOG",
    "MessageTrace.csv",
    "trace_20260302.csv",
    "DetailedReport.csv",
    "export.csv",
];

/// A per-process folder, emptied before each input (libFuzzer runs inputs one at a time).
fn folder() -> PathBuf {
    std::env::temp_dir().join(format!("mailflow-fuzz-folder-{}", std::process::id()))
}

fn base() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/hybrid-routing.toml")
}

fn split(data: &[u8], flags: u8) -> Vec<&[u8]> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = data;
    while parts.len() < 3 {
        match rest.windows(MARKER.len()).position(|w| w == MARKER) {
            Some(i) => {
                parts.push(&rest[..i]);
                rest = &rest[i + MARKER.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    if parts.len() == 1 {
        let at = rest.len() * usize::from(1 + ((flags >> 2) & 3)) / 5;
        parts = vec![&rest[..at], &rest[at..]];
    }
    parts
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let flags = data[0];
    let names = &data[1..5];
    let parts = split(&data[5..], flags);
    let dir = folder();
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a temporary folder");
    let mut files = Vec::new();
    for (i, bytes) in parts.iter().enumerate() {
        // One sub-folder per file, so two files may share a name (two servers' logs).
        let sub = dir.join(format!("s{i}"));
        std::fs::create_dir_all(&sub).expect("a temporary folder");
        let p = sub.join(NAMES[usize::from(names[i]) % NAMES.len()]);
        std::fs::write(&p, bytes).expect("a temporary file");
        files.push(p);
    }
    let settings = pipeline::Settings {
        inputs: if flags & 2 != 0 {
            files
        } else {
            vec![dir.clone()]
        },
        base: base(),
        current: None,
        servers: Vec::new(),
        accepted_domains: if flags & 1 != 0 {
            vec!["contoso.com".to_string()]
        } else {
            Vec::new()
        },
        timezone: None,
        date_format: None,
        bad_lines: 0.01,
        progress: None,
    };
    match pipeline::calibrate(settings) {
        Ok(c) => {
            let out = pipeline::files(&c, &base(), Vec::new());
            assert!(out.iter().any(|(n, _)| n == "calibrated.toml"));
            let _ = report::html_report(&c, None, "");
            // The back-test's scenario (its simulation is too slow to fuzz).
            match backtest::scenario_text(&c, 2) {
                Ok(text) => {
                    if let Err(e) = scenario::from_text(
                        &text,
                        "backtest.toml",
                        "backtest",
                        scenario::LoadOptions::default(),
                    ) {
                        assert_eq!(e.exit_code(), 2, "{e}");
                    }
                }
                Err(e) => assert_eq!(e.exit_code(), 2, "{e}"),
            }
        }
        Err(e) => {
            assert_eq!(e.exit_code(), 2, "{e}");
            let msg = e.to_string();
            assert!(
                !msg.is_empty() && !msg.contains('\n'),
                "not one line: {msg:?}"
            );
        }
    }
});
