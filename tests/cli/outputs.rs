//! What an analyst opens: every CSV obeys the number rule (`report::num`), and the tree a
//! command writes into is the one asked for.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name)
}

fn mailflow(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("mailflow").expect("the binary is built");
    c.current_dir(dir);
    c
}

/// Every `.csv` under `dir`, recursively.
fn csv_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(csv_files(&p));
        } else if p.extension().is_some_and(|x| x == "csv") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Scans every cell of every CSV in `dir`: no float noise, no `.0` on whole numbers, each
/// column at its unit's resolution. Returns how many files were scanned.
fn assert_number_rule(dir: &Path) -> usize {
    let files = csv_files(dir);
    let mut bad = Vec::new();
    for f in &files {
        let mut r = csv::Reader::from_path(f).unwrap();
        let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let figure = head.iter().position(|h| h == "figure");
        for (line, rec) in r.records().enumerate() {
            let rec = rec.unwrap();
            for (col, cell) in head.iter().zip(rec.iter()) {
                // compare.csv names each row's unit in `figure`; its value and difference
                // columns are in that unit (percentages are ratios).
                let unit = match figure {
                    Some(i) if !col.contains("pct") && col != "pairs" && col != "figure" => {
                        rec.get(i).unwrap_or(col)
                    }
                    _ => col.as_str(),
                };
                if !mailflow::report::num::obeys_rule(unit, cell) {
                    bad.push(format!(
                        "{} line {}: {col} = {cell}",
                        f.file_name().unwrap().to_string_lossy(),
                        line + 2
                    ));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "cells breaking the number rule:\n{}",
        bad.join("\n")
    );
    files.len()
}

#[test]
fn every_csv_of_run_sweep_capacity_and_validate_obeys_the_number_rule() {
    let dir = tempfile::tempdir().unwrap();
    // The outage study: summary, hops, accounting, costs and outages.
    mailflow(dir.path())
        .args(["run", "--replications", "2", "--quiet", "--out", "run"])
        .arg(scenario("connector-outage.toml"))
        .assert()
        .success();
    // summary, hops, accounting, warmup, compare, costs, outages.
    assert_eq!(assert_number_rule(&dir.path().join("run")), 7);
    mailflow(dir.path())
        .arg("sweep")
        .arg(scenario("tandem-mmc.toml"))
        .args(["--set", "load.scale=0.7,1.1", "--set", "run.duration_s=300"])
        .args(["--replications", "3", "--quiet", "--out", "sweep"])
        .assert()
        .success();
    assert_eq!(assert_number_rule(&dir.path().join("sweep")), 1);
    mailflow(dir.path())
        .arg("capacity")
        .arg(scenario("tandem-mmc.toml"))
        .args(["--slo", "tandem.p99<=2s", "--set", "run.duration_s=300"])
        .args([
            "--replications",
            "3",
            "--bracket",
            "0.1",
            "--quiet",
            "--out",
            "cap",
        ])
        .assert()
        .success();
    assert_eq!(assert_number_rule(&dir.path().join("cap")), 2);
    mailflow(dir.path())
        .args([
            "validate",
            "--quick",
            "--case",
            "mm1_rho0.50",
            "--out",
            "val",
        ])
        .assert()
        .success();
    assert_eq!(assert_number_rule(&dir.path().join("val")), 1);
}
