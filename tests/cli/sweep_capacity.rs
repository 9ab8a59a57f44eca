//! `sweep`, `capacity`, load shapes and trace replay through the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

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

/// Same grid, 1 and 2 worker threads: byte-identical sweep.csv.
#[test]
fn sweep_csv_is_identical_whatever_the_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.path().join(format!("t{threads}"));
        mailflow(dir.path())
            .arg("sweep")
            .arg(scenario("tandem-mmc.toml"))
            .args(["--set", "load.scale=0.5..1:0.5"])
            .args(["--set", "hops.s2.servers=2,3"])
            .args(["--set", "run.duration_s=300"])
            .args(["--replications", "2", "--threads", threads, "--quiet"])
            .arg("--out")
            .arg(&out)
            .assert()
            .success()
            .stdout("");
        outputs.push(std::fs::read(out.join("sweep.csv")).unwrap());
        assert!(out.join("p99-vs-load-tandem.svg").exists());
    }
    assert_eq!(
        outputs[0], outputs[1],
        "sweep.csv differs between 1 and 2 threads"
    );
    let text = String::from_utf8(outputs.remove(0)).unwrap();
    let mut lines = text.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("load.scale,hops.s2.servers,run.duration_s,status,max_offered_utilization,variant,flow,delivered_per_rep,"),
        "{text}"
    );
    // 2 × 2 × 1 points, one variant, one flow.
    assert_eq!(lines.count(), 4, "{text}");
}

#[test]
fn bad_set_paths_and_ranges_exit_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    for (set, needle) in [
        (
            "hops.s9.servers=1..3",
            "`hops.s9` is not in the scenario file",
        ),
        ("hops.s1.server=1..3", "unknown field `server`"),
        ("hops.s1.servers=0..2", "(set by `--set hops.s1.servers=0`)"),
        ("load.scale=3..1", "the end 1 is below the start 3"),
        ("load.scale=1..x", "not a number"),
    ] {
        mailflow(dir.path())
            .arg("sweep")
            .arg(scenario("tandem-mmc.toml"))
            .args(["--set", set])
            .arg("--out")
            .arg(dir.path().join("never"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(needle))
            .stderr(
                predicate::str::contains("tandem-mmc.toml").or(predicate::str::contains("--set")),
            );
        assert!(!dir.path().join("never").exists(), "{set}: nothing written");
    }
}

const TRACED: &str = "[run]\nduration_s = 100\nwarmup_s = 0\n\n[trace]\nfile = \"arrivals.csv\"\n\n\
[sources.mail]\nroute = \"r\"\n\n[hops.h]\nservers = 2\nservice_ms = { dist = \"exponential\", mean = 50 }\n\n\
[routes.r]\nsteps = [\"h\"]\ndeliver = \"f\"\n";

#[test]
fn a_trace_with_a_bad_row_is_refused_with_the_row_number() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), TRACED).unwrap();
    std::fs::write(
        dir.path().join("arrivals.csv"),
        "timestamp,flow,recipients,size_bytes\n0.5,mail,1,2048\n1.0,mail,two,2048\n",
    )
    .unwrap();
    mailflow(dir.path())
        .args(["run", "s.toml", "--out", "out"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "arrivals.csv: row 3: `recipients`",
        ));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn a_trace_is_replayed_message_for_message() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.toml"), TRACED).unwrap();
    let mut csv = String::from("timestamp,flow,recipients,size_bytes\n");
    for i in 0..50 {
        csv.push_str(&format!("{},mail,{},1000\n", i as f64 * 1.5, 1 + i % 3));
    }
    std::fs::write(dir.path().join("arrivals.csv"), csv).unwrap();
    mailflow(dir.path())
        .args(["run", "s.toml", "--out", "out", "--quiet"])
        .assert()
        .success();
    let acc = std::fs::read_to_string(dir.path().join("out/accounting.csv")).unwrap();
    // 50 messages; recipients 1, 2, 3 repeating: 17 + 17×2 + 16×3 = 99.
    assert!(acc.lines().nth(1).unwrap().contains(",50,99,99,"), "{acc}");
}

#[test]
fn capacity_writes_its_answer_and_exits_1_when_nothing_is_feasible() {
    let dir = tempfile::tempdir().unwrap();
    mailflow(dir.path())
        .arg("capacity")
        .arg(scenario("tandem-mmc.toml"))
        .args(["--slo", "tandem.p99<=2s", "--set", "run.duration_s=400"])
        .args(["--replications", "3", "--bracket", "0.05", "--out", "cap"])
        .assert()
        .success()
        .stdout(predicate::str::contains("up to"))
        .stdout(predicate::str::contains("97.5% confidence"));
    let csv = std::fs::read_to_string(dir.path().join("cap/capacity.csv")).unwrap();
    assert!(
        csv.starts_with("variant,search,hop,feasible,load_scale,"),
        "{csv}"
    );
    assert!(
        csv.lines().nth(1).unwrap().contains(",load_scale,,true,"),
        "{csv}"
    );
    for f in [
        "capacity_steps.csv",
        "tandem.p99-vs-load.svg",
        "utilization.svg",
        "manifest.json",
    ] {
        assert!(dir.path().join("cap").join(f).exists(), "{f}");
    }
    // Service alone at s3 takes 1/15 s on average: a 1 ms p50 cannot be met at any load.
    mailflow(dir.path())
        .arg("capacity")
        .arg(scenario("tandem-mmc.toml"))
        .args(["--slo", "tandem.p50<=1ms", "--set", "run.duration_s=200"])
        .args(["--replications", "2", "--out", "none", "--quiet"])
        .assert()
        .code(1);
    assert!(dir.path().join("none/capacity.csv").exists());
    mailflow(dir.path())
        .arg("capacity")
        .arg(scenario("tandem-mmc.toml"))
        .args(["--slo", "elsewhere.p99<=2s", "--out", "bad"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("flows: tandem"));
}

#[test]
fn the_peak_day_scenario_loads_and_a_bad_shape_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    mailflow(dir.path())
        .arg("explain")
        .arg(scenario("peak-day.toml"))
        .assert()
        .success();
    let text = std::fs::read_to_string(scenario("peak-day.toml")).unwrap();
    let broken = text.replacen("start_day = \"mon\"", "start_day = \"someday\"", 1);
    assert_ne!(broken, text, "peak-day.toml sets start_day");
    std::fs::write(dir.path().join("p.toml"), broken).unwrap();
    mailflow(dir.path())
        .args(["explain", "p.toml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "`load.shape.start_day`: must be a day of the week",
        ));
}
