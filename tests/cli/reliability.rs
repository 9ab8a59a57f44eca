//! Nothing a user types can crash, hang or corrupt a study (issue 12): for each class of bad
//! input, the exit code, the one-line message, and `--out` unchanged byte for byte — also when
//! it held a previous run — with no temporary files left beside it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use tempfile::TempDir;

fn mailflow() -> Command {
    Command::cargo_bin("mailflow").expect("binary is built")
}

/// A small valid scenario (one M/M/1 hop, 2000 messages): quick to run as the "previous run".
pub const BASE: &str = "name = \"small\"\n\
[run]\nmessages = 2000\nseed = 3\nreplications = 2\n\
[sources.a]\nrate_per_s = 50\nroute = \"r\"\n\
[hops.h]\nservers = 1\nservice_ms = { dist = \"exponential\", mean = 10 }\n\
[routes.r]\nsteps = [\"h\"]\ndeliver = \"f\"\n";

/// Every file under `dir` (relative path → bytes), with its mode on Unix.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<PathBuf, (Vec<u8>, u32)>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd {
            let p = e.unwrap().path();
            let m = std::fs::symlink_metadata(&p).unwrap();
            #[cfg(unix)]
            let mode = std::os::unix::fs::PermissionsExt::mode(&m.permissions());
            #[cfg(not(unix))]
            let mode = 0;
            if m.is_dir() {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    (Vec::new(), mode),
                );
                walk(root, &p, out);
            } else {
                out.insert(
                    p.strip_prefix(root).unwrap().to_path_buf(),
                    (std::fs::read(&p).unwrap(), mode),
                );
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// A temporary directory with `s.toml` (the text given) and `out/` holding a previous run of
/// [`BASE`].
pub struct Study {
    pub tmp: TempDir,
}

impl Study {
    pub fn new(scenario: &str) -> Study {
        let tmp = TempDir::new().unwrap();
        std::fs::write(tmp.path().join("base.toml"), BASE).unwrap();
        std::fs::write(tmp.path().join("s.toml"), scenario).unwrap();
        let o = mailflow()
            .current_dir(tmp.path())
            .args(["run", "base.toml", "--out", "out", "--quiet"])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        Study { tmp }
    }

    pub fn path(&self, p: &str) -> PathBuf {
        self.tmp.path().join(p)
    }

    /// Runs mailflow with `args` (in the study's directory) and checks the exit code, that
    /// stderr is one `error:` line containing every one of `wanted`, that `out/` is unchanged
    /// and that no `.mailflow-*` file is left.
    pub fn refuses(&self, args: &[&str], code: i32, wanted: &[&str]) -> String {
        self.refuses_in(&[], args, code, wanted)
    }

    /// As [`Study::refuses`], with the environment variables `env` set (and the batch
    /// systems' shard variables otherwise unset).
    pub fn refuses_in(
        &self,
        env: &[(&str, &str)],
        args: &[&str],
        code: i32,
        wanted: &[&str],
    ) -> String {
        let before = snapshot(&self.path("out"));
        let top_before = snapshot(self.tmp.path()).len();
        let mut cmd = mailflow();
        for v in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_MIN",
            "JOB_COMPLETION_INDEX",
            "MAILFLOW_SHARD_COUNT",
        ] {
            cmd.env_remove(v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let o = cmd
            .current_dir(self.tmp.path())
            .args(args)
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(code), "{args:?}: stderr: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(!err.contains("panicked"), "{err}");
        for w in wanted {
            assert!(err.contains(w), "{args:?}: wanted `{w}` in: {err}");
        }
        assert!(
            before == snapshot(&self.path("out")),
            "{args:?}: --out changed"
        );
        assert_eq!(
            snapshot(self.tmp.path()).len(),
            top_before,
            "{args:?}: files left"
        );
        leftovers(self.tmp.path());
        err
    }
}

fn leftovers(dir: &Path) {
    for e in std::fs::read_dir(dir).unwrap() {
        let n = e.unwrap().file_name();
        assert!(
            !n.to_string_lossy().starts_with(".mailflow-"),
            "left behind: {n:?}"
        );
    }
}

// ── class 4: whole result sets ─────────────────────────────────────────────────────────────

#[test]
fn a_bad_out_is_refused_before_simulating() {
    let s = Study::new(BASE);
    std::fs::write(s.path("file"), "mine").unwrap();
    let t = std::time::Instant::now();
    s.refuses(
        &["run", "s.toml", "--out", "file", "--quiet"],
        2,
        &["output directory file is a file"],
    );
    assert_eq!(std::fs::read(s.path("file")).unwrap(), b"mine");
    std::fs::create_dir(s.path("home")).unwrap();
    std::fs::write(s.path("home/notes.txt"), "mine").unwrap();
    for cmd in [
        vec!["run", "s.toml", "--out", "home"],
        vec!["sweep", "s.toml", "--set", "run.seed=1,2", "--out", "home"],
        vec!["capacity", "s.toml", "--slo", "f.p99<=1s", "--out", "home"],
        vec![
            "validate",
            "--quick",
            "--case",
            "mm1_rho0.50",
            "--out",
            "home",
        ],
        vec!["merge", "out", "--out", "home"],
    ] {
        s.refuses(&cmd, 2, &["not a mailflow result set"]);
    }
    assert_eq!(std::fs::read(s.path("home/notes.txt")).unwrap(), b"mine");
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "refused before any work"
    );
}

#[test]
fn a_new_run_replaces_the_previous_set_whole() {
    let s = Study::new(BASE);
    // A previous set with a file the new one does not write: it must not survive.
    std::fs::write(s.path("out/latency-old.svg"), "old").unwrap();
    let text = BASE.replace("deliver = \"f\"", "deliver = \"g\"");
    std::fs::write(s.path("s.toml"), text).unwrap();
    let o = mailflow()
        .current_dir(s.tmp.path())
        .args(["run", "s.toml", "--out", "out", "--quiet"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let files = snapshot(&s.path("out"));
    assert!(files.contains_key(Path::new("latency-g.svg")));
    assert!(!files.contains_key(Path::new("latency-f.svg")));
    assert!(!files.contains_key(Path::new("latency-old.svg")));
    leftovers(s.tmp.path());
}

#[cfg(unix)]
#[test]
fn results_are_readable_by_others_under_the_usual_umask() {
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("s.toml"), BASE).unwrap();
    let bin = assert_cmd::cargo::cargo_bin("mailflow");
    let o = std::process::Command::new("sh")
        .current_dir(tmp.path())
        .arg("-c")
        .arg(format!(
            "umask 022 && exec '{}' run s.toml --out out --quiet",
            bin.display()
        ))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for (p, (_, mode)) in snapshot(&tmp.path().join("out")) {
        let want = if p.extension().is_some() {
            0o644
        } else {
            0o755
        };
        assert_eq!(mode & 0o777, want, "{}: {:o}", p.display(), mode & 0o777);
    }
    let out_mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(tmp.path().join("out"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(out_mode & 0o777, 0o755);
}

/// SIGTERM and SIGINT while simulating: exit 130, the previous set unchanged, no staging left.
#[cfg(unix)]
#[test]
fn a_signal_while_simulating_leaves_the_previous_set() {
    let long = BASE.replace("messages = 2000", "duration_s = 1000000");
    let s = Study::new(&long);
    let before = snapshot(&s.path("out"));
    for signal in ["TERM", "INT"] {
        let bin = assert_cmd::cargo::cargo_bin("mailflow");
        let mut child = std::process::Command::new(bin)
            .current_dir(s.tmp.path())
            .args(["run", "s.toml", "--out", "out", "--quiet"])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until the staging directory exists: the run is past its checks.
        let t = std::time::Instant::now();
        while !std::fs::read_dir(s.tmp.path()).unwrap().any(|e| {
            e.unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".mailflow-staging")
        }) {
            assert!(t.elapsed() < Duration::from_secs(20), "no staging appeared");
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(200));
        let k = std::process::Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(k.success());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "SIG{signal}");
        assert!(
            before == snapshot(&s.path("out")),
            "SIG{signal}: --out changed"
        );
        leftovers(s.tmp.path());
    }
}

/// Runs each (find, replace) edit of [`BASE`] and expects exit 2 with the fragments given,
/// `--out` (holding a previous run) unchanged.
fn refused_edits(cases: &[(&str, &str, &[&str])]) {
    let s = Study::new(BASE);
    for (find, replace, wanted) in cases {
        assert!(BASE.contains(find), "{find}");
        std::fs::write(s.path("s.toml"), BASE.replacen(find, replace, 1)).unwrap();
        s.refuses(&["run", "s.toml", "--out", "out", "--quiet"], 2, wanted);
        s.refuses(&["explain", "s.toml"], 2, wanted);
    }
}

// ── class 1: numbers checked in the engine's unit ─────────────────────────────────────────

#[test]
fn numbers_that_would_overflow_the_engine_are_refused() {
    refused_edits(&[
        (
            "service_ms = { dist = \"exponential\", mean = 10 }",
            "service_ms = { dist = \"deterministic\", value = 1e305 }",
            &[
                "s.toml:11: `hops.h.service_ms.value`",
                "accepted: at most 1.000e12 ms",
            ],
        ),
        (
            "mean = 10 }",
            "mean = 10, rate_per_s = 1 }",
            &["`hops.h.service_ms`", "exactly one of"],
        ),
        (
            "service_ms = { dist = \"exponential\", mean = 10 }",
            "service_ms = { dist = \"lognormal\", median = 1, sigma = 40 }",
            &["`hops.h.service_ms.sigma`", "makes a mean of"],
        ),
        (
            "rate_per_s = 50",
            "rate_per_s = 1e9",
            &["`hops.h.servers`", "utilization 1.000e7;"],
        ),
    ]);
    // NaN or infinite loads are refused even when unstable runs are allowed.
    let s = Study::new(&BASE.replace("rate_per_s = 50", "rate_per_s = 1e300"));
    s.refuses(
        &[
            "run",
            "s.toml",
            "--out",
            "out",
            "--quiet",
            "--allow-unstable",
        ],
        2,
        &["`sources.a.rate_per_s`", "at most 1.000e9"],
    );
}

#[test]
fn mailbox_counts_near_the_largest_float_are_refused_not_run() {
    let hybrid = "[run]\nduration_s = 60\n[load]\nmailboxes = { onprem = 1.7e308, cloud = 1 }\n\
        sent_per_mailbox_per_day = 10\nreceived_per_mailbox_per_day = 10\n\
        internet_share_of_received = 0.5\ninternet_share_of_sent = 0.5\npeak_factor = 2\n[hybrid]\n";
    let s = Study::new(hybrid);
    for extra in [&[][..], &["--allow-unstable"][..]] {
        let mut args = vec!["run", "s.toml", "--out", "out", "--quiet"];
        args.extend_from_slice(extra);
        s.refuses(
            &args,
            2,
            &["s.toml:3: `load`", "infinite messages per second"],
        );
    }
}

// ── class 2: ranges Exchange publishes, durations that fit the clock ──────────────────────

#[test]
fn values_outside_published_ranges_are_refused() {
    refused_edits(&[
        (
            "[sources.a]",
            "[transport]\nmessage_retry_interval_s = 1e-9\n[sources.a]",
            &[
                "`transport.message_retry_interval_s`",
                "from 1 s",
                "got 1.000e-9 s",
            ],
        ),
        (
            "[sources.a]",
            "[transport]\nexpiration_timeout_s = 1\n[sources.a]",
            &[
                "`transport.expiration_timeout_s`",
                "from 5 s to 90 days",
                "got 1 s",
            ],
        ),
        (
            "messages = 2000",
            "duration_s = 1e15",
            &["`run.duration_s`", "fits the simulator's clock"],
        ),
    ]);
}

// ── class 5: names that become paths ─────────────────────────────────────────────────────

#[test]
fn names_that_would_leave_out_are_refused() {
    let long = format!("name = \"{}\"", "x".repeat(300));
    refused_edits(&[
        (
            "name = \"small\"",
            "name = \"../x\"",
            &["`name`", "the name `../x` names files"],
        ),
        (
            "name = \"small\"",
            "name = \"..\"",
            &["`name`", "not starting with `.`"],
        ),
        ("name = \"small\"", &long, &["`name`", "1 to 64 characters"]),
        (
            "deliver = \"f\"",
            "deliver = \"a/b\"",
            &["`routes.r.deliver`", "the flow `a/b`"],
        ),
    ]);
}

// ── class 7: type-stage messages in words ────────────────────────────────────────────────

#[test]
fn type_errors_name_the_field_and_say_what_is_accepted_in_words() {
    refused_edits(&[
        (
            "messages = 2000",
            "messages = \"1h\"",
            &[
                "s.toml:3: `run.messages`",
                "found the text \"1h\"; expected a whole number",
            ],
        ),
        (
            "service_ms = { dist = \"exponential\", mean = 10 }",
            "service_ms = 50",
            &[
                "s.toml:11: `hops.h.service_ms`",
                "found the whole number 50; expected a distribution table",
            ],
        ),
        (
            "seed = 3",
            "seed = 3\nseed = 4",
            &["s.toml:5: `run.seed`", "`seed` is given twice"],
        ),
        (
            "seed = 3",
            "seed = -1",
            &[
                "`run.seed`",
                "found the whole number -1; expected a whole number from 0",
            ],
        ),
        (
            "seed = 3",
            "seed = 1000000000000000000000000000000000000000000000000000000000000000",
            &["s.toml:4: `run.seed`", "too large to read"],
        ),
        (
            "route = \"r\"",
            "rout = \"r\"",
            &["`sources.a.rout`", "unknown field `rout`; accepted:"],
        ),
    ]);
    // No Rust type names anywhere.
    let s = Study::new(&BASE.replace("mean = 10 }", "mean = \"x\" }"));
    let e = s.refuses(
        &["run", "s.toml", "--out", "out"],
        2,
        &["`hops.h.service_ms`"],
    );
    for rust in ["f64", "u64", "RawDist", "internally tagged", "enum"] {
        assert!(!e.contains(rust), "{e}");
    }
}

#[test]
fn an_os_error_is_said_once() {
    let s = Study::new(BASE);
    let e = s.refuses(
        &["run", "missing.toml", "--out", "out"],
        2,
        &["missing.toml"],
    );
    assert_eq!(e.matches("os error").count(), 1, "{e}");
}

// ── class 2: run-size budgets ────────────────────────────────────────────────────────────

#[test]
fn studies_beyond_the_budget_are_refused_with_the_estimate_and_the_flag() {
    let s = Study::new(BASE);
    for args in [
        vec![
            "run",
            "base.toml",
            "--out",
            "out",
            "--replications",
            "4000000000",
        ],
        vec![
            "sweep",
            "base.toml",
            "--set",
            "run.seed=1,2",
            "--out",
            "out",
            "--replications",
            "4000000000",
        ],
        vec![
            "run",
            "base.toml",
            "--out",
            "out",
            "--replications",
            "4000000000",
            "--shard",
            "0/2",
        ],
    ] {
        s.refuses(&args, 2, &["would simulate about", "--allow-long"]);
    }
    std::fs::write(
        s.path("s.toml"),
        BASE.replace("messages = 2000", "duration_s = 1e8"),
    )
    .unwrap();
    s.refuses(
        &["run", "s.toml", "--out", "out"],
        2,
        &["would simulate about 3.000e10 events", "pass --allow-long"],
    );
    // A huge rate on an unlimited hop: memory, not events, is what grows.
    let unlimited = BASE
        .replace("servers = 1", "servers = \"unlimited\"")
        .replace("rate_per_s = 50", "rate_per_s = 1e9")
        .replace("mean = 10 }", "mean = 1000 }")
        .replace("messages = 2000", "duration_s = 10\nwarmup_s = 0");
    std::fs::write(s.path("s.toml"), unlimited).unwrap();
    s.refuses(
        &["run", "s.toml", "--out", "out"],
        2,
        &["GiB of memory", "--allow-long"],
    );
}

#[test]
fn a_weekend_factor_outside_a_monday_run_costs_nothing() {
    let text = BASE
        .replace("messages = 2000", "duration_s = 3600")
        .replace(
            "route = \"r\"",
            "route = \"r\"\nshape = { weekend_factor = 1e300, start_hour = 9 }",
        );
    let tmp = TempDir::new().unwrap();
    std::fs::write(tmp.path().join("s.toml"), text).unwrap();
    let t = std::time::Instant::now();
    let o = mailflow()
        .current_dir(tmp.path())
        .args(["run", "s.toml", "--out", "out", "--quiet"])
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(t.elapsed() < Duration::from_secs(30));
}

// ── class 3: merge trusts nothing it reads ───────────────────────────────────────────────

#[test]
fn merge_refuses_changed_shards_and_results_that_do_not_add_up() {
    let s = Study::new(BASE);
    for k in 0..2 {
        let o = mailflow()
            .current_dir(s.tmp.path())
            .args([
                "run",
                "base.toml",
                "--quiet",
                "--shard",
                &format!("{k}/2"),
                "--out",
                &format!("s{k}"),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let units = s.path("s0/units.json");
    let original = std::fs::read_to_string(&units).unwrap();
    // A changed digit: refused by its checksum, naming the file.
    let changed = original.replacen("\"delivered\":", "\"delivered\":1", 1);
    std::fs::write(&units, &changed).unwrap();
    s.refuses(
        &["merge", "s0", "s1", "--out", "out"],
        2,
        &["s0/units.json has SHA-256", "run that shard again"],
    );
    // The same change with the checksum updated: the accounting no longer adds up (exit 1).
    let manifest = s.path("s0/shard.json");
    let m = std::fs::read_to_string(&manifest).unwrap();
    let sha = |b: &[u8]| mailflow::shard::sha256_hex(b);
    std::fs::write(
        &manifest,
        m.replace(&sha(original.as_bytes()), &sha(changed.as_bytes())),
    )
    .unwrap();
    s.refuses(
        &["merge", "s0", "s1", "--out", "out"],
        1,
        &["do not add up"],
    );
}

// ── class 8: searches that cannot end, batch environments, --set values ─────────────────

/// [`BASE`] with a second, unlimited hop `u` after `h`.
fn with_unlimited_hop() -> String {
    BASE.replace(
        "[routes.r]\nsteps = [\"h\"]",
        "[hops.u]\nservers = \"unlimited\"\nservice_ms = { dist = \"exponential\", mean = 5 }\n\
         [routes.r]\nsteps = [\"h\", \"u\"]",
    )
}

#[test]
fn capacity_searches_that_cannot_end_are_refused() {
    let s = Study::new(&with_unlimited_hop());
    let slo = "f.p99<=5s";
    // A hop with unlimited servers has no fewest count.
    s.refuses(
        &[
            "capacity", "s.toml", "--slo", slo, "--hop", "u", "--out", "out",
        ],
        2,
        &[
            "`--hop u`: hop `u` has unlimited servers",
            "accepted: a hop with a server count (h)",
            "--set hops.u.servers=N",
        ],
    );
    // The same with a shard: refused before anything is written.
    s.refuses(
        &[
            "capacity", "s.toml", "--slo", slo, "--hop", "u", "--shard", "0/2", "--out", "out",
        ],
        2,
        &["hop `u` has unlimited servers"],
    );
    // A load search where nothing saturates would double the load without end.
    std::fs::write(
        s.path("s.toml"),
        with_unlimited_hop().replace("servers = 1\n", "servers = \"unlimited\"\n"),
    )
    .unwrap();
    s.refuses(
        &["capacity", "s.toml", "--slo", slo, "--out", "out"],
        2,
        &["no load saturates it", "hops.<name>.servers = N"],
    );
    // A start scale whose rates no scenario may have.
    std::fs::write(s.path("s.toml"), with_unlimited_hop()).unwrap();
    s.refuses(
        &[
            "capacity", "s.toml", "--slo", slo, "--hop", "h", "--scale", "1e300", "--out", "out",
        ],
        2,
        &["at load scale 1.000e300", "choose a lower --scale"],
    );
}

/// One round of this search is within the budget (50/s × 6.67e6 s × 3 events × 2
/// replications = 2e9 events), its every round is not: at utilization 0.5 it may simulate up
/// to the saturating scale (2×, 4e9 a round) in one doubling round and ⌈log2(1/0.02)⌉ + 1 = 7
/// bisection rounds (8 × 4e9 = 3.2e10), plus the halving rounds below the start (at most one
/// round's worth, 2e9): 3.4e10 in all.
#[test]
fn the_capacity_budget_covers_every_round() {
    let text = BASE.replace(
        "messages = 2000",
        "duration_s = 6666666.666666667\nwarmup_s = 0",
    );
    let s = Study::new(&text);
    s.refuses(
        &["capacity", "s.toml", "--slo", "f.p99<=5s", "--out", "out"],
        2,
        &[
            "this capacity search, over every round it may take, would simulate about 3.400e10 events",
            "--allow-long",
        ],
    );
}

#[test]
fn a_batch_environment_without_a_shard_count_is_explained() {
    let s = Study::new(BASE);
    let run = ["run", "base.toml", "--out", "out", "--quiet"];
    let e = s.refuses_in(
        &[("JOB_COMPLETION_INDEX", "0")],
        &run,
        2,
        &[
            "JOB_COMPLETION_INDEX=0",
            "MAILFLOW_SHARD_COUNT (the number of shards) is not set",
            "--shard K/N",
        ],
    );
    assert!(!e.contains("0 of 0"), "{e}");
    for count in ["0", ""] {
        let e = s.refuses_in(
            &[
                ("JOB_COMPLETION_INDEX", "0"),
                ("MAILFLOW_SHARD_COUNT", count),
            ],
            &run,
            2,
            &["MAILFLOW_SHARD_COUNT="],
        );
        assert!(!e.contains("0 of 0") && !e.contains("--array=0-0"), "{e}");
    }
    s.refuses_in(
        &[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_COUNT", "0"),
        ],
        &run,
        2,
        &["SLURM_ARRAY_TASK_COUNT=0: a study needs 1 or more shards"],
    );
}

#[test]
fn set_values_of_the_wrong_type_name_the_flag_and_the_field() {
    let s = Study::new(BASE);
    for (set, wanted) in [
        (
            "hops.h.servers=abc",
            "`--set hops.h.servers=abc`: `hops.h.servers`: found the text \"abc\"; expected a whole \
             number of servers (1 or more) or \"unlimited\"",
        ),
        (
            "run.seed=-1",
            "`--set run.seed=-1`: `run.seed`: found the whole number -1; expected a whole number \
             from 0 to 18446744073709551615",
        ),
        (
            "hops.h.service_ms.dist=1",
            "`--set hops.h.service_ms.dist=1`: `hops.h.service_ms.dist`: found the whole number 1; \
             expected a distribution name in quotes",
        ),
    ] {
        for cmd in ["run", "capacity"] {
            let mut args = vec![cmd, "base.toml", "--set", set, "--out", "out"];
            if cmd == "capacity" {
                args.extend(["--slo", "f.p99<=5s"]);
            }
            let e = s.refuses(&args, 2, &[wanted]);
            assert!(!e.contains("f64") && !e.contains("identifier"), "{e}");
        }
    }
    // A type error in the file itself, with a --set elsewhere: the file's line.
    std::fs::write(s.path("s.toml"), BASE.replace("seed = 3", "seed = \"x\"")).unwrap();
    s.refuses(
        &["run", "s.toml", "--set", "hops.h.servers=2", "--out", "out"],
        2,
        &["s.toml:4: `run.seed`: found the text \"x\"; expected a whole number"],
    );
}

// ── issue 15: merge names a missing shard ────────────────────────────────────────────────

#[test]
fn merge_names_the_missing_shards() {
    let s = Study::new(BASE);
    for k in 0..4 {
        let o = mailflow()
            .current_dir(s.tmp.path())
            .args([
                "run",
                "base.toml",
                "--quiet",
                "--replications",
                "8",
                "--shard",
                &format!("{k}/4"),
                "--out",
                &format!("s{k}"),
            ])
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    s.refuses(
        &["merge", "s0", "s1", "s3", "--out", "out"],
        2,
        &[
            "shard 2 of 4 is missing (--shard 2/4): 2 of 8 units are missing: 2 (variant small, replication 2), 6 (variant small, replication 6)",
            "run the shards that hold them",
        ],
    );
    s.refuses(
        &["merge", "s0", "s2", "--out", "out"],
        2,
        &["shards 1 and 3 of 4 are missing (--shard 1/4, 3/4): 4 of 8 units are missing"],
    );
}
