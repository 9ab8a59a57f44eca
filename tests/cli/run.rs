//! End-to-end tests of the `mailflow` binary: each runs the real program in a fresh temporary
//! directory and checks exit codes, messages and files.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

fn mailflow() -> Command {
    Command::cargo_bin("mailflow").expect("binary is built")
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// Runs `mailflow run <scenario> --out <dir> args…` and returns the output.
fn run(scenario: &Path, out: &Path, args: &[&str]) -> std::process::Output {
    mailflow()
        .arg("run")
        .arg(scenario)
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap()
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn bundled_hybrid_scenario_writes_every_file() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("out");
    let o = mailflow()
        .arg("run")
        .arg(repo("scenarios/hybrid-routing.toml"))
        .args(["--replications", "2", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    for v in [
        "mx-eop_cmt-off",
        "mx-eop_cmt-on",
        "mx-onprem_cmt-off",
        "mx-onprem_cmt-on",
    ] {
        assert!(stdout.contains(v), "table lacks {v}:\n{stdout}");
    }
    assert!(stdout.contains("bottleneck"));
    let summary = read(&out.join("summary.csv"));
    assert!(summary.starts_with(
        "variant,flow,delivered_per_rep,throughput_per_s,mean_ms,p50_ms,p90_ms,p99_ms,p999_ms,max_ms,"
    ));
    assert_eq!(
        summary.lines().count(),
        1 + 4 * 6,
        "a row per variant × flow"
    );
    let hops = read(&out.join("hops.csv"));
    assert!(hops.starts_with(
        "variant,hop,kind,servers,processed_per_rep,utilization,mean_queue_len,max_queue_len,mean_wait_ms,p99_wait_ms,"
    ));
    let acct = read(&out.join("accounting.csv"));
    assert!(acct.starts_with(
        "variant,messages,generated,delivered,expired,quarantined,rejected,filtered_spam,in_flight"
    ));
    for row in acct.lines().skip(1) {
        let n: Vec<u64> = row.split(',').skip(1).map(|x| x.parse().unwrap()).collect();
        assert_eq!(
            n[1],
            n[2..].iter().sum::<u64>(),
            "generated = sum of end states: {row}"
        );
    }
    let hgrm = std::fs::read_dir(out.join("hgrm")).unwrap().count();
    assert_eq!(hgrm, 24);
    let manifest: serde_json::Value =
        serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    for key in [
        "version",
        "seed",
        "scenario_sha256",
        "replications",
        "simulated_s",
        "events",
    ] {
        assert!(manifest.get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(manifest["replications"], 2);
    // What differs between two runs of the same study is kept out of the manifest.
    let timing: serde_json::Value = serde_json::from_str(&read(&out.join("timing.json"))).unwrap();
    for key in ["threads", "wall_time_s", "events_per_s"] {
        assert!(manifest.get(key).is_none(), "manifest holds {key}");
        assert!(timing.get(key).is_some(), "timing.json lacks {key}");
    }
}

#[test]
fn every_bundled_scenario_runs() {
    let tmp = TempDir::new().unwrap();
    for entry in std::fs::read_dir(repo("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let out = tmp.path().join(path.file_stem().unwrap());
        let o = run(&path, &out, &["--replications", "1"]);
        assert!(
            o.status.success(),
            "{}: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.join("summary.csv").exists());
        let e = mailflow().arg("explain").arg(&path).output().unwrap();
        assert!(e.status.success(), "explain {}", path.display());
    }
}

#[test]
fn results_are_identical_whatever_the_thread_count() {
    let tmp = TempDir::new().unwrap();
    let (a, b) = (tmp.path().join("t1"), tmp.path().join("t2"));
    let scn = repo("scenarios/hybrid-routing.toml");
    assert!(
        run(&scn, &a, &["--threads", "1", "--replications", "3"])
            .status
            .success()
    );
    assert!(
        run(&scn, &b, &["--threads", "2", "--replications", "3"])
            .status
            .success()
    );
    let mut files = vec![
        "summary.csv".to_string(),
        "hops.csv".into(),
        "accounting.csv".into(),
        "manifest.json".into(),
    ];
    for e in std::fs::read_dir(a.join("hgrm")).unwrap() {
        files.push(format!("hgrm/{}", e.unwrap().file_name().to_string_lossy()));
    }
    for f in &files {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f} differs"
        );
    }
    // A different seed gives different numbers (so the comparison above is not vacuous).
    let c = tmp.path().join("seed");
    assert!(
        run(
            &scn,
            &c,
            &["--threads", "2", "--replications", "3", "--seed", "7"]
        )
        .status
        .success()
    );
    assert_ne!(read(&a.join("summary.csv")), read(&c.join("summary.csv")));
}

#[test]
fn explain_numbers_the_seed_steps() {
    let o = mailflow()
        .arg("explain")
        .arg(repo("scenarios/mx-eop-cmt-off.toml"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let s = String::from_utf8_lossy(&o.stdout);
    let want = "  flow inbound_to_onprem from source inbound:\n     1. link internet_in\n     2. hop eop\n       filter: spam detection 0.98, false positives 0\n     3. hop exo\n       split: this copy carries the onprem recipients\n     4. hop eop\n     5. link hybrid\n     6. hop cas2013\n     7. link rgc\n     8. hop mbx2007\n";
    assert!(s.contains(want), "got:\n{s}");
}

const GOOD: &str = r#"name = "t"
[run]
duration_s = 100
[sources.a]
rate_per_s = 5
route = "r"
[hops.h]
servers = 2
service_ms = { dist = "exponential", mean = 100 }
[routes.r]
steps = ["h"]
deliver = "f"
"#;

/// Writes `text` as a scenario, runs it, and expects exit code 2 with `needles` in stderr and
/// no output directory created.
fn expect_refused(text: &str, needles: &[&str]) {
    let tmp = TempDir::new().unwrap();
    let scn = tmp.path().join("bad.toml");
    std::fs::write(&scn, text).unwrap();
    let out = tmp.path().join("out");
    let o = run(&scn, &out, &[]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.starts_with("error: "), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
    assert!(!err.contains("panicked"));
    assert!(!out.exists(), "no result file is touched on bad input");
}

#[test]
fn good_scenario_is_accepted() {
    let tmp = TempDir::new().unwrap();
    let scn = tmp.path().join("good.toml");
    std::fs::write(&scn, GOOD).unwrap();
    assert!(run(&scn, &tmp.path().join("o"), &[]).status.success());
}

#[test]
fn unknown_field_is_refused() {
    expect_refused(
        &GOOD.replace("servers = 2", "servers = 2\nserver = 3"),
        &["bad.toml:9:", "unknown field `server`", "`servers`"],
    );
}

#[test]
fn wrong_type_is_refused() {
    expect_refused(
        &GOOD.replace("rate_per_s = 5", "rate_per_s = \"fast\""),
        &[
            "bad.toml:5:",
            "`sources.a.rate_per_s`",
            "found the text \"fast\"; expected a number",
        ],
    );
}

#[test]
fn missing_field_is_refused() {
    expect_refused(
        &GOOD.replace("route = \"r\"\n", ""),
        &["bad.toml:", "`sources.a`: `route` is missing"],
    );
}

#[test]
fn zero_rate_is_refused() {
    expect_refused(
        &GOOD.replace("rate_per_s = 5", "rate_per_s = 0"),
        &["bad.toml:5:", "`sources.a.rate_per_s`", "greater than 0"],
    );
}

#[test]
fn negative_servers_are_refused() {
    expect_refused(
        &GOOD.replace("servers = 2", "servers = -1"),
        &["bad.toml:8:", "`hops.h.servers`", "\"unlimited\""],
    );
}

#[test]
fn bad_service_parameter_is_refused() {
    expect_refused(
        &GOOD.replace("mean = 100", "mean = -5"),
        &["bad.toml:9:", "`hops.h.service_ms.mean`"],
    );
}

#[test]
fn probability_outside_unit_interval_is_refused() {
    let text = GOOD.replace(
        "deliver = \"f\"",
        "next = [{ p = 1.5, deliver = \"f\" }, { p = -0.5, route = \"r\" }]",
    );
    expect_refused(
        &text,
        &["bad.toml:12:", "`routes.r.next.0.p`", "from 0 to 1"],
    );
}

#[test]
fn branches_must_sum_to_one() {
    let text = GOOD.replace(
        "deliver = \"f\"",
        "next = [\n  { p = 0.5, deliver = \"f\" },\n  { p = 0.3, route = \"r\" },\n]",
    );
    expect_refused(&text, &["bad.toml:12:", "`routes.r.next`", "sum to 0.8"]);
}

#[test]
fn unknown_hop_in_route_is_refused() {
    expect_refused(
        &GOOD.replace("steps = [\"h\"]", "steps = [\"h\", \"nope\"]"),
        &[
            "bad.toml:11:",
            "`routes.r.steps.1`",
            "`nope`",
            "accepted: `h`",
        ],
    );
}

#[test]
fn loop_without_exit_is_refused() {
    let text = GOOD.replace("deliver = \"f\"", "next = [{ p = 1.0, route = \"r\" }]");
    expect_refused(&text, &["bad.toml:10:", "`routes.r`", "loop forever"]);
}

#[test]
fn overloaded_hop_is_refused_unless_allowed() {
    // 5/s × 100 ms on 2 servers is 0.25; 25/s makes it 1.25.
    let text = GOOD.replace("rate_per_s = 5", "rate_per_s = 25");
    expect_refused(
        &text,
        &[
            "bad.toml:8:",
            "`hops.h.servers`",
            "hop `h`",
            "utilization 1.25;",
            "--allow-unstable",
        ],
    );
    let tmp = TempDir::new().unwrap();
    let scn = tmp.path().join("u.toml");
    std::fs::write(&scn, text).unwrap();
    assert!(
        run(&scn, &tmp.path().join("o"), &["--allow-unstable"])
            .status
            .success()
    );
}

#[test]
fn missing_file_and_bad_usage_exit_2() {
    let tmp = TempDir::new().unwrap();
    let o = run(&tmp.path().join("nope.toml"), &tmp.path().join("o"), &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot read the scenario"));
    let o = mailflow().args(["run"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = mailflow()
        .args(["run", "x.toml", "--threads", "0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn hybrid_scenario_errors_name_the_field() {
    let text = read(&repo("scenarios/mx-eop-cmt-off.toml"));
    expect_refused(
        &text.replace("peak_factor = 3.0", "peak_factor = -3.0"),
        &["bad.toml:", "`load.peak_factor`"],
    );
    expect_refused(
        &format!(
            "{text}\n[hops.exchange2019]\nservers = 1\nservice_ms = {{ dist = \"deterministic\", value = 1 }}\n"
        ),
        &["`hops.exchange2019`", "accepted: eop, exo"],
    );
    expect_refused(
        &text.replace("mx = \"eop\"", "mx = \"cloud\""),
        &[
            "bad.toml:",
            "found `cloud`; accepted: `eop` or `onprem`",
            "`hybrid.variants.0.mx`",
        ],
    );
}

/// `mailflow run … | head` is not an error: a closed stdout ends the program quietly with
/// success, and the result files are still complete.
#[test]
fn closed_stdout_is_not_an_error() {
    let tmp = TempDir::new().unwrap();
    let out = tmp.path().join("o");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin!("mailflow"))
        .arg("run")
        .arg(repo("scenarios/tandem-mmc.toml"))
        .arg("--out")
        .arg(&out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before anything is printed
    let o = child.wait_with_output().unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stderr.is_empty(),
        "stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.join("manifest.json").exists());
}
