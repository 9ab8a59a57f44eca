//! `mailflow validate` through the real binary, each test in a fresh temporary directory.
//! The statistics themselves are tested beside the code (`src/validate/`); these tests pin the
//! command's contract: exit codes, the CSV's columns, determinism across thread counts.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

const HEADER: &str = "case,metric,theory,simulated,ci95_lo,ci95_hi,pass";

fn validate(dir: &std::path::Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("mailflow")
        .current_dir(dir)
        .args(["validate", "--quick", "--case", "mm1_rho0.50"])
        .args(extra)
        .assert()
}

#[test]
fn a_passing_case_exits_0_and_writes_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    validate(dir.path(), &[])
        .code(0)
        .stdout(predicate::str::contains("5 of 5 checks passed"))
        .stdout(predicate::str::contains("sojourn_p99_ms"));
    let csv =
        std::fs::read_to_string(dir.path().join("results/validation/validation.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], HEADER, "expected the issue's columns");
    assert_eq!(lines.len(), 6, "header + 5 metrics of M/M/1, got:\n{csv}");
    for l in &lines[1..] {
        assert!(l.starts_with("mm1_rho0.50,") && l.ends_with(",true"), "{l}");
        assert_eq!(l.split(',').count(), 7, "{l}");
    }
}

#[test]
fn a_wrong_model_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    validate(
        dir.path(),
        &["--service-rate-factor", "1.1", "--out", "v", "--quiet"],
    )
    .code(1)
    .stdout(predicate::str::contains("FAIL mm1_rho0.50 mean_sojourn_ms"));
    let csv = std::fs::read_to_string(dir.path().join("v/validation.csv")).unwrap();
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",false")), "{csv}");
}

#[test]
fn the_csv_does_not_depend_on_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    validate(dir.path(), &["--threads", "1", "--out", "a", "--quiet"]).code(0);
    validate(dir.path(), &["--threads", "2", "--out", "b", "--quiet"]).code(0);
    let a = std::fs::read(dir.path().join("a/validation.csv")).unwrap();
    let b = std::fs::read(dir.path().join("b/validation.csv")).unwrap();
    assert_eq!(a, b);
}

#[test]
fn bad_usage_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    validate(dir.path(), &["--replications", "1"])
        .code(2)
        .stderr(predicate::str::contains("replications"));
    validate(dir.path(), &["--case", "mm9"])
        .code(2)
        .stderr(predicate::str::contains("mm1_rho0.95"));
    validate(dir.path(), &["--service-rate-factor", "0"])
        .code(2)
        .stderr(predicate::str::contains("greater than zero"));
    assert!(
        !dir.path().join("results").exists(),
        "nothing is written on bad usage"
    );
}

#[test]
fn an_unwritable_output_directory_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("file"), "not a directory").unwrap();
    validate(dir.path(), &["--out", "file/sub", "--quiet"])
        .code(2)
        .stderr(predicate::str::contains("--out"));
}
