//! The deployment scripts: `deploy/parallel/run.sh` passes every argument to mailflow as one
//! word (an SLO's `<=` is not a redirection) and says what is missing; `deploy/slurm/submit.sh`
//! says what is missing before submitting anything.

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_mailflow"))
}

fn has_gnu_parallel() -> bool {
    Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("GNU parallel"))
}

#[test]
fn parallel_run_sh_quotes_an_slo_and_merges_the_shards() {
    if !has_gnu_parallel() {
        let msg = "\n*** deploy/parallel/run.sh test SKIPPED: GNU parallel is not installed \
                   (apt-get install parallel; .ci/run does) ***\n";
        assert!(!std::env::var("CI").is_ok_and(|v| v == "true"), "{msg}");
        eprintln!("{msg}");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(repo("deploy/parallel/run.sh"))
        .args(["2", "shards", "cap", "capacity"])
        .arg(repo("scenarios/tandem-mmc.toml"))
        .args(["--slo", "tandem.p99<=2s", "--set", "run.duration_s=200"])
        .args(["--replications", "2", "--bracket", "0.2"])
        .env("MAILFLOW", bin())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "run.sh failed:\n{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let csv = std::fs::read_to_string(dir.path().join("cap/capacity.csv")).unwrap();
    assert!(csv.lines().nth(1).is_some(), "{csv}");
    // Unquoted, the shell would have written a file named `=2s`.
    assert!(!dir.path().join("=2s").exists());
    assert!(dir.path().join("shards/0/shard.json").exists());
}

#[test]
fn deploy_scripts_say_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let o = Command::new("bash")
        .arg(repo("deploy/parallel/run.sh"))
        .args(["2", "shards", "out", "run", "s.toml"])
        .env("MAILFLOW", "/nonexistent/mailflow")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("put mailflow on PATH") && err.contains("MAILFLOW="),
        "{err}"
    );
    // No GNU parallel on PATH: a PATH holding only bash's directory and a mailflow.
    let fake = dir.path().join("bin");
    std::fs::create_dir(&fake).unwrap();
    std::os::unix::fs::symlink(bin(), fake.join("mailflow")).unwrap();
    let o = Command::new("/bin/bash")
        .arg(repo("deploy/parallel/run.sh"))
        .args(["2", "shards", "out", "run", "s.toml"])
        .env("PATH", &fake)
        .env_remove("MAILFLOW")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("needs GNU parallel"), "{err}");
    let o = Command::new("/bin/bash")
        .arg(repo("deploy/slurm/submit.sh"))
        .args(["shards", "out", "run", "s.toml"])
        .env("PATH", &fake)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("sbatch not found"), "{err}");
}
