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
        let before = snapshot(&self.path("out"));
        let top_before = snapshot(self.tmp.path()).len();
        let o = mailflow()
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
