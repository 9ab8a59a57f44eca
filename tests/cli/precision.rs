//! `--precision` and `--max-replications` on `run`, `sweep` and `capacity`, on the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn mailflow() -> Command {
    Command::cargo_bin("mailflow").unwrap()
}

/// An M/M/1 queue (λ = 5/s, μ = 10/s, ρ = 0.5) over a 200 s window: latency and throughput
/// vary from replication to replication, so reaching 5% takes a few rounds.
fn mm1(dir: &Path) -> PathBuf {
    let p = dir.join("mm1.toml");
    std::fs::write(
        &p,
        "[run]\nduration_s = 220\nwarmup_s = 20\nseed = 5\nreplications = 3\n\
         [sources.a]\nrate_per_s = 5\nroute = \"r\"\n\
         [hops.q]\nservers = 1\nservice_ms = { dist = \"exponential\", rate_per_s = 10 }\n\
         [routes.r]\nsteps = [\"q\"]\ndeliver = \"f\"\n",
    )
    .unwrap();
    p
}

fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}

/// Every file but the manifest and precision.csv (which record the precision), the report
/// (which shows the command) and the run's timing.
fn same_files(a: &Path, b: &Path) {
    let mut names = vec![];
    for e in walk(a) {
        let rel = e.strip_prefix(a).unwrap().to_path_buf();
        let name = rel.display().to_string();
        if [
            "manifest.json",
            "timing.json",
            "precision.csv",
            "report.html",
        ]
        .contains(&name.as_str())
        {
            continue;
        }
        let x = std::fs::read(&e).unwrap();
        let y = std::fs::read(b.join(&rel)).unwrap_or_else(|_| panic!("{name} missing"));
        assert!(x == y, "{name} differs");
        names.push(name);
    }
    assert!(names.iter().any(|n| n == "summary.csv"), "{names:?}");
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// A precision run that stops at n replications writes the files of a fixed run of n
/// (replication r is the same stream in any round), whatever --threads; the manifest and
/// precision.csv say what was asked and reached.
#[test]
fn a_precision_run_equals_the_fixed_run_it_chose_whatever_the_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = mm1(tmp.path());
    let a = tmp.path().join("a");
    let o = mailflow()
        .arg("run")
        .arg(&scn)
        .args(["--precision", "5%", "--threads", "2", "--out"])
        .arg(&a)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let m = manifest(&a);
    let p = &m["precision"];
    let n = p["replications"].as_u64().unwrap();
    assert_eq!(m["replications"].as_u64(), Some(n));
    assert_eq!(p["met"], true, "{p}");
    assert!(n > 3, "5% needs more than the first round's 3: {p}");
    assert!(
        stdout.contains(&format!("within 5% of it with {n} replications")),
        "{stdout}"
    );
    let pc = std::fs::read_to_string(a.join("precision.csv")).unwrap();
    assert_eq!(pc.lines().count(), 1 + 7, "{pc}");
    assert!(pc.lines().skip(1).all(|l| l.contains(",true,")), "{pc}");
    // The number rule: value columns in the row's figure's unit, percentages as ratios.
    let mut r = csv::Reader::from_path(a.join("precision.csv")).unwrap();
    let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    for rec in r.records() {
        let rec = rec.unwrap();
        for (col, cell) in head.iter().zip(rec.iter()) {
            let unit = if col.starts_with("value") {
                &rec[2]
            } else {
                col.as_str()
            };
            assert!(
                mailflow::report::num::obeys_rule(unit, cell),
                "{col} = {cell}"
            );
        }
    }

    let b = tmp.path().join("b");
    let o = mailflow()
        .arg("run")
        .arg(&scn)
        .args(["--replications", &n.to_string(), "--quiet", "--out"])
        .arg(&b)
        .output()
        .unwrap();
    assert!(o.status.success());
    same_files(&a, &b);
    assert!(manifest(&b).get("precision").is_none());

    let c = tmp.path().join("c");
    let o = mailflow()
        .arg("run")
        .arg(&scn)
        .args(["--precision", "5%", "--threads", "1", "--quiet", "--out"])
        .arg(&c)
        .output()
        .unwrap();
    assert!(o.status.success());
    same_files(&a, &c);
    assert_eq!(manifest(&a), manifest(&c));
    assert_eq!(
        std::fs::read(a.join("precision.csv")).unwrap(),
        std::fs::read(c.join("precision.csv")).unwrap()
    );
}

/// At --max-replications the run stops and names the figures still too wide.
#[test]
fn the_maximum_names_what_fell_short() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = mm1(tmp.path());
    let out = tmp.path().join("out");
    let o = mailflow()
        .arg("run")
        .arg(&scn)
        .args(["--precision", "0.1%", "--max-replications", "4", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("NOT reached"), "{stdout}");
    assert!(stdout.contains("mm1 f p99_ms: "), "{stdout}");
    let p = &manifest(&out)["precision"];
    assert_eq!(p["replications"], 4);
    assert_eq!(p["met"], false);
    assert!(
        p["short"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "mm1/f/p99_ms"),
        "{p}"
    );
}

/// Refusals: one line, exit 2, --out untouched.
#[test]
fn precision_refusals_are_one_line_and_leave_out_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = mm1(tmp.path());
    let out = tmp.path().join("out");
    for (args, needle) in [
        (
            vec!["run", "--precision", "2%", "--shard", "0/2"],
            "--precision cannot be combined with --shard",
        ),
        (
            vec![
                "sweep",
                "--set",
                "load.scale=1,1.2",
                "--precision",
                "2%",
                "--shard",
                "1/2",
            ],
            "--precision cannot be combined with --shard",
        ),
        (
            vec![
                "capacity",
                "--slo",
                "f.p99<=2s",
                "--precision",
                "2%",
                "--shard",
                "0/2",
            ],
            "--precision cannot be combined with --shard",
        ),
        (
            vec![
                "run",
                "--precision",
                "2%",
                "--replications",
                "8",
                "--max-replications",
                "5",
            ],
            "--max-replications 5 is below the first round's 8 replications",
        ),
        (vec!["run", "--precision", "2"], "write a percentage"),
        (vec!["run", "--max-replications", "9"], "--precision"),
    ] {
        let o = mailflow()
            .arg(args[0])
            .arg(&scn)
            .args(&args[1..])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} wrote --out");
    }
}

/// A sweep stops each point on its own and writes precision.csv with the swept values; a
/// capacity search gives each configuration its replications and records them.
#[test]
fn sweep_points_and_capacity_candidates_reach_the_precision() {
    let tmp = tempfile::tempdir().unwrap();
    let scn = mm1(tmp.path());
    let out = tmp.path().join("sweep");
    let o = mailflow()
        .arg("sweep")
        .arg(&scn)
        .args(["--set", "load.scale=0.6,1.2", "--precision", "5%", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("2 of 2 points reached it"), "{stdout}");
    // The manifests record the target (the rounds are per point, in precision.csv).
    let target = serde_json::json!({"share": 0.05, "max_replications": 100});
    assert_eq!(manifest(&out)["precision"], target);
    let pc = std::fs::read_to_string(out.join("precision.csv")).unwrap();
    assert!(pc.starts_with("load.scale,variant,flow,figure,"), "{pc}");
    assert_eq!(pc.lines().count(), 1 + 2 * 7);
    // Each point's replications in sweep.csv are those precision.csv records for it.
    let mut r = csv::Reader::from_path(out.join("sweep.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = h.iter().position(|c| c == "replications").unwrap();
    let sweep_reps: Vec<String> = r.records().map(|x| x.unwrap()[col].to_string()).collect();
    let mut r = csv::Reader::from_path(out.join("precision.csv")).unwrap();
    let prec_reps: Vec<String> = r
        .records()
        .map(|x| x.unwrap()[10].to_string())
        .step_by(7)
        .collect();
    assert_eq!(sweep_reps, prec_reps);

    let cap = tmp.path().join("cap");
    let o = mailflow()
        .arg("capacity")
        .arg(&scn)
        .args([
            "--slo",
            "f.p90<=1s",
            "--bracket",
            "0.1",
            "--precision",
            "5%",
            "--out",
        ])
        .arg(&cap)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("within 5% of it, from 3 up to 100"),
        "{stdout}"
    );
    assert_eq!(manifest(&cap)["precision"], target);
    let mut r = csv::Reader::from_path(cap.join("capacity_steps.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let at = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (reps, met, verdict) = (at("replications"), at("precision_met"), at("verdict"));
    let slo_met = at("slo_precision_met");
    let (stop, limit) = (at("precision_stop"), at("limit_ms"));
    let mut sure_fails = 0;
    let (lo, hi, v) = (
        at("value_ci95_lo_ms"),
        at("value_ci95_hi_ms"),
        at("value_ms"),
    );
    let mut simulated = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        if &rec[verdict] == "unstable" {
            continue;
        }
        simulated += 1;
        // One SLO: its own precision verdict is the step's.
        assert_eq!(&rec[slo_met], &rec[met], "{rec:?}");
        let n: u32 = rec[reps].parse().unwrap();
        assert!(n >= 3);
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        // Met; or stopped where the SLO surely failed (its whole interval over the limit: more
        // replications could not make it pass); or at the maximum.
        match (&rec[met], &rec[stop]) {
            ("true", "precise") => {}
            ("false", "sure_fail") => {
                assert_eq!(&rec[verdict], "fail", "{rec:?}");
                assert!(f(lo) > f(limit), "{rec:?}");
                sure_fails += 1;
                continue;
            }
            ("false", "maximum") => {
                assert_eq!(n, 100, "{rec:?}");
                continue;
            }
            _ => panic!("{rec:?}"),
        }
        // Cells are written to 1 µs: the half-width is within 5% up to that rounding.
        assert!((f(hi) - f(lo)) / 2.0 <= 0.05 * f(v) + 1e-3, "{rec:?}");
    }
    assert!(simulated >= 3);
    // The search's first failing load is surely over: it stopped there early.
    assert!(sure_fails >= 1, "no step stopped as a sure failure");
}
