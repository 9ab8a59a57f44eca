//! `run --shard`, `sweep --shard`, `capacity --shard` and `merge` through the real binary:
//! shards merged equal the unsharded run byte for byte; missing, doubled and foreign shards are
//! refused.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// The binary in `dir`, with no batch-system variables that would pick a shard.
fn mailflow(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("mailflow").expect("the binary is built");
    c.current_dir(dir);
    for v in [
        "SLURM_ARRAY_TASK_ID",
        "SLURM_ARRAY_TASK_COUNT",
        "SLURM_ARRAY_TASK_MIN",
        "JOB_COMPLETION_INDEX",
        "MAILFLOW_SHARD_COUNT",
    ] {
        c.env_remove(v);
    }
    c
}

fn ok(c: &mut Command) {
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "{:?} failed: {}",
        c,
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Runs `c`, expects exit code 2, returns stderr.
fn refused(c: &mut Command) -> String {
    let o = c.output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    err
}

/// The hybrid scenario (four variants, outages off) shortened to 10 simulated minutes, written
/// into `dir` as `h.toml`, with `seed`.
fn short_hybrid(dir: &Path, name: &str, seed: u64) {
    let text = std::fs::read_to_string(repo("scenarios/hybrid-routing.toml")).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        let l = if line.starts_with("duration_s") {
            "duration_s = 600".to_string()
        } else if line.starts_with("seed") {
            format!("seed = {seed}")
        } else {
            line.to_string()
        };
        out.push_str(&l);
        out.push('\n');
    }
    assert!(out.contains("duration_s = 600") && out.contains(&format!("seed = {seed}")));
    std::fs::write(dir.join(name), out).unwrap();
}

fn run_shards(dir: &Path, scenario: &str, prefix: &str, extra: &[&str]) {
    for k in 0..3 {
        ok(mailflow(dir)
            .args(["run", scenario, "--replications", "3", "-q", "--out"])
            .arg(format!("{prefix}{k}"))
            .arg("--shard")
            .arg(format!("{k}/3"))
            .args(extra));
    }
}

fn same(a: &Path, b: &Path) {
    let x = std::fs::read(a).unwrap_or_else(|e| panic!("{}: {e}", a.display()));
    let y = std::fs::read(b).unwrap_or_else(|e| panic!("{}: {e}", b.display()));
    assert!(x == y, "{} and {} differ", a.display(), b.display());
}

#[test]
fn three_run_shards_merge_to_the_unsharded_files_and_bad_sets_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    short_hybrid(d, "h.toml", 7);
    ok(mailflow(d).args([
        "run",
        "h.toml",
        "--replications",
        "3",
        "-q",
        "--out",
        "single",
    ]));
    run_shards(d, "h.toml", "s", &[]);
    // Shards given in any order.
    ok(mailflow(d).args(["merge", "s2", "s0", "s1", "--out", "merged", "-q"]));
    for f in [
        "summary.csv",
        "hops.csv",
        "accounting.csv",
        "costs.csv",
        "compare.csv",
    ] {
        same(&d.join("single").join(f), &d.join("merged").join(f));
    }
    for v in ["mx-eop_cmt-off", "mx-onprem_cmt-on"] {
        let f = format!("hgrm/{v}.inbound_to_onprem.hgrm");
        same(&d.join("single").join(&f), &d.join("merged").join(&f));
    }

    // A missing shard: its units are named, with variant and replication.
    let err = refused(mailflow(d).args(["merge", "s0", "s2", "--out", "m1"]));
    assert!(
        err.contains("shard 1 of 3 is missing (--shard 1/3): 4 of 12 units are missing"),
        "{err}"
    );
    assert!(
        err.contains("1 (variant mx-eop_cmt-off, replication 1)"),
        "{err}"
    );
    assert!(!d.join("m1").exists(), "nothing written on refusal");

    // A shard given twice.
    let err = refused(mailflow(d).args(["merge", "s0", "s1", "s1", "s2", "--out", "m2"]));
    assert!(
        err.contains("present twice") && err.contains("1, 4, 7, 10"),
        "{err}"
    );

    // A shard of the same scenario with another seed.
    ok(mailflow(d).args([
        "run",
        "h.toml",
        "--replications",
        "3",
        "-q",
        "--seed",
        "8",
        "--shard",
        "1/3",
        "--out",
        "other-seed",
    ]));
    let err = refused(mailflow(d).args(["merge", "s0", "other-seed", "s2", "--out", "m3"]));
    assert!(
        err.contains("other-seed (units 1, 4, 7, 10) is from another study")
            && err.contains("seed"),
        "{err}"
    );

    // A shard of another scenario (different file contents).
    short_hybrid(d, "g.toml", 9);
    run_shards(d, "g.toml", "g", &[]);
    let err = refused(mailflow(d).args(["merge", "s0", "s1", "g2", "--out", "m4"]));
    assert!(
        err.contains("g2 (units 2, 5, 8, 11) is from another study")
            && err.contains("scenario_sha256"),
        "{err}"
    );

    // The scenario file edited after the shards ran.
    short_hybrid(d, "g.toml", 10);
    let err = refused(mailflow(d).args(["merge", "g0", "g1", "g2", "--out", "m5"]));
    assert!(err.contains("pass --scenario"), "{err}");
    // …and given back under another name with --scenario.
    short_hybrid(d, "g-original.toml", 9);
    ok(mailflow(d).args([
        "merge",
        "g0",
        "g1",
        "g2",
        "--scenario",
        "g-original.toml",
        "--out",
        "m6",
        "-q",
    ]));
}

#[test]
fn three_sweep_shards_merge_to_the_unsharded_sweep_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let scn = repo("scenarios/tandem-mmc.toml");
    // s2 at one server and load 1 is unstable: skipped units must be numbered identically.
    let args = [
        "--set",
        "load.scale=0.5,1",
        "--set",
        "hops.s2.servers=1..2",
        "--set",
        "run.duration_s=200",
        "--replications",
        "2",
        "-q",
    ];
    ok(mailflow(d)
        .arg("sweep")
        .arg(&scn)
        .args(args)
        .args(["--out", "single"]));
    for k in 0..3 {
        ok(mailflow(d)
            .arg("sweep")
            .arg(&scn)
            .args(args)
            .arg("--out")
            .arg(format!("s{k}"))
            .arg("--shard")
            .arg(format!("{k}/3")));
    }
    ok(mailflow(d).args(["merge", "s0", "s1", "s2", "--out", "merged", "-q"]));
    same(&d.join("single/sweep.csv"), &d.join("merged/sweep.csv"));
    let csv = std::fs::read_to_string(d.join("merged/sweep.csv")).unwrap();
    assert!(
        csv.contains("unstable"),
        "the grid has an unstable point:\n{csv}"
    );

    // The shard a Slurm array task picks from its environment is the one --shard picks.
    ok(mailflow(d)
        .arg("sweep")
        .arg(&scn)
        .args(args)
        .args(["--out", "env1"])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "3"));
    same(&d.join("s1/units.json"), &d.join("env1/units.json"));
    same(&d.join("s1/units.hlog"), &d.join("env1/units.hlog"));

    // A run shard does not merge with sweep shards.
    ok(mailflow(d).arg("run").arg(&scn).args([
        "--replications",
        "2",
        "-q",
        "--shard",
        "0/3",
        "--out",
        "r0",
    ]));
    let err = refused(mailflow(d).args(["merge", "s0", "r0", "--out", "m"]));
    assert!(err.contains("from another study"), "{err}");

    // Bad shard specs are usage errors.
    for bad in ["3/3", "1", "a/3", "0/0"] {
        let o = mailflow(d)
            .arg("run")
            .arg(&scn)
            .args(["--shard", bad])
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "--shard {bad}");
    }
}

/// `capacity --shard`: shards hold variants. Two shards of the four hybrid variants merge to the
/// unsharded `capacity.csv`, `capacity_steps.csv` and pictures byte for byte; a missing,
/// doubled or foreign shard is refused, naming the variants.
#[test]
fn two_capacity_shards_merge_to_the_unsharded_search() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let scn = repo("scenarios/hybrid-routing.toml");
    // Short runs and a coarse bracket: about a second for the whole search.
    let args = [
        "capacity",
        "--slo",
        "inbound_to_onprem.p99<=5s",
        "--set",
        "run.duration_s=400",
        "--set",
        "run.warmup_s=60",
        "--replications",
        "2",
        "--bracket",
        "0.1",
        "-q",
    ];
    let capacity = |out: &str, extra: &[&str]| {
        let mut c = mailflow(d);
        c.args(args).arg(&scn).args(["--out", out]).args(extra);
        c
    };
    ok(&mut capacity("single", &[]));
    ok(&mut capacity("c0", &["--shard", "0/2"]));
    ok(&mut capacity("c1", &["--shard", "1/2"]));
    let held = std::fs::read_to_string(d.join("c1/shard.json")).unwrap();
    assert!(held.contains("\"unit_order\": \"variant\""), "{held}");
    ok(mailflow(d).args(["merge", "c1", "c0", "--out", "merged", "-q"]));
    // Every file but timing.json (threads and wall time) and report.html (it shows the command
    // that made it: capacity, or merge): the manifest, the CSVs, the SLO against load
    // picture, and the latency and utilization pictures at the answers.
    let mut files: Vec<String> = std::fs::read_dir(d.join("single"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f != "timing.json" && f != "report.html")
        .collect();
    files.sort();
    assert!(
        files.contains(&"capacity_steps.csv".to_string())
            && files.contains(&"utilization.svg".to_string())
            && files.contains(&"latency-inbound_to_onprem.svg".to_string()),
        "{files:?}"
    );
    for f in &files {
        same(&d.join("single").join(f), &d.join("merged").join(f));
    }
    let csv = std::fs::read_to_string(d.join("merged/capacity.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "four variants:\n{csv}");

    // A Slurm array task picks the shard --shard picks.
    ok(capacity("env1", &[])
        .env("SLURM_ARRAY_TASK_ID", "1")
        .env("SLURM_ARRAY_TASK_COUNT", "2"));
    same(&d.join("c1/capacity.json"), &d.join("env1/capacity.json"));

    // A missing shard: its variants are named.
    let err = refused(mailflow(d).args(["merge", "c0", "--out", "m1"]));
    assert!(
        err.contains("shard 1 of 2 is missing (--shard 1/2): 2 of 4 units are missing")
            && err.contains("1 (variant mx-eop_cmt-on), 3 (variant mx-onprem_cmt-on)"),
        "{err}"
    );
    assert!(!d.join("m1").exists(), "nothing written on refusal");

    // A shard given twice.
    let err = refused(mailflow(d).args(["merge", "c0", "c1", "c0", "--out", "m2"]));
    assert!(
        err.contains("present twice") && err.contains("0, 2"),
        "{err}"
    );

    // A shard of a search from another starting scale is from another study.
    ok(&mut capacity("p1", &["--shard", "1/2", "--scale", "1.5"]));
    let err = refused(mailflow(d).args(["merge", "c0", "p1", "--out", "m3"]));
    assert!(
        err.contains("p1 (units 1, 3) is from another study") && err.contains("capacity"),
        "{err}"
    );
}
