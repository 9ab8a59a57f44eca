//! `mailflow calibrate`: the real binary on small tracking logs written here, in a fresh
//! temporary directory; success writes the whole set, bad input exits 2 with one error line
//! and writes nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use tempfile::TempDir;

fn mailflow() -> Command {
    Command::cargo_bin("mailflow").expect("binary is built")
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

const HEADER: &str = "#Software: Microsoft Exchange Server\n#Version: 15.00.1497.002\n\
#Log-type: Message Tracking Log\n#Date: 2026-03-02T00:00:00.000Z\n\
#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data\n";

fn stamp(ms: u64) -> String {
    let s = ms / 1000;
    format!(
        "2026-03-02T{:02}:{:02}:{:02}.{:03}Z",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ms % 1000
    )
}

/// A 2013 server's log of `n` messages over `hours` hours: alternately Internet mail
/// delivered on-premises and on-premises mail sent to the Internet, each with a latency
/// breakdown (processing 200–300 ms, queue 0–90 ms).
pub(crate) fn tracking_log(n: u64, hours: u64) -> String {
    let mut s = String::from(HEADER);
    let span_ms = hours * 3_600_000;
    for i in 0..n {
        let t = i * span_ms / n;
        let proc_ms = 200 + (i * 37) % 100;
        let queue_ms = (i * 53) % 90;
        let end = t + proc_ms + queue_ms;
        let size = 20_000 + (i * 7919) % 100_000;
        let info = format!(
            "{};LSRV=EX01.contoso.com:TOTAL-HUB={:.3}|SMR=0.010|QDM={:.3}",
            stamp(t),
            (proc_ms + queue_ms) as f64 / 1000.0,
            queue_ms as f64 / 1000.0
        );
        let (first, last, sender, rcpt, conn, custom_in, custom_out) = if i % 2 == 0 {
            (
                ("SMTP", "RECEIVE"),
                ("STOREDRIVER", "DELIVER"),
                "x@fabrikam.net",
                format!("u{}@contoso.com", i % 40),
                "EX01\\Default Frontend EX01",
                "S:FromEntity=Internet",
                "",
            )
        } else {
            (
                ("STOREDRIVER", "RECEIVE"),
                ("SMTP", "SENDEXTERNAL"),
                "me@contoso.com",
                format!("y{}@fabrikam.net", i % 40),
                "",
                "",
                "S:ToEntity=Internet",
            )
        };
        for (at, (src, ev), mi, custom) in [
            (t, first, String::new(), custom_in),
            (end, last, format!("\"{info}\""), custom_out),
        ] {
            writeln!(
                s,
                "{},,,,EX01,,{conn},{src},{ev},{i},<m{i}@contoso.com>,,{rcpt},,{size},1,,,subject,{sender},{sender},{mi},,,,,{custom}",
                stamp(at)
            )
            .unwrap();
        }
    }
    s
}

fn calibrate(dir: &Path, args: &[&str]) -> std::process::Output {
    mailflow()
        .current_dir(dir)
        .arg("calibrate")
        .args(args)
        .output()
        .unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn calibrates_a_tracking_log_into_a_scenario_that_runs() {
    let tmp = TempDir::new().unwrap();
    std::fs::create_dir(tmp.path().join("logs")).unwrap();
    std::fs::write(
        tmp.path().join("logs/MSGTRK2026030200-1.LOG"),
        tracking_log(2000, 24),
    )
    .unwrap();
    let base = repo("scenarios/hybrid-routing.toml");
    let o = calibrate(
        tmp.path(),
        &[
            "logs",
            "--base",
            base.to_str().unwrap(),
            "--out",
            "cal",
            "--accepted-domain",
            "contoso.com",
        ],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("classified 2000 messages over 24 hours"),
        "{stdout}"
    );
    assert!(stdout.contains("server ex01 → hop cas2013"), "{stdout}");
    assert_eq!(
        entries(&tmp.path().join("cal")),
        [
            "calibrated.toml",
            "calibration.csv",
            "manifest.json",
            "observed.csv",
            "report.html",
            "skipped.csv"
        ]
    );
    // Calibration's CSVs follow the number rule of every CSV (report::num): no float noise.
    for f in ["calibration.csv", "observed.csv", "skipped.csv"] {
        let mut r = csv::Reader::from_path(tmp.path().join("cal").join(f)).unwrap();
        let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        for rec in r.records() {
            let rec = rec.unwrap();
            for (col, cell) in head.iter().zip(rec.iter()) {
                assert!(
                    mailflow::report::num::obeys_rule(col, cell),
                    "{f}: {col} = {cell}"
                );
            }
        }
    }
    let csv = std::fs::read_to_string(tmp.path().join("cal/calibration.csv")).unwrap();
    assert!(csv.starts_with("quantity,flow_or_hop,value,unit,n,ci95_lo,ci95_hi,method\n"));
    // Processing is TOTAL − QDM: uniform on 200..299 ms in steps of 1 → mean 249.5 ms.
    let mean = csv
        .lines()
        .find(|l| l.starts_with("processing_mean,cas2013,"))
        .and_then(|l| l.split(',').nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .expect("a processing row for cas2013");
    assert!((mean - 249.5).abs() < 0.5, "{mean}");
    // The scenario runs as it is.
    calibrated_scenario_runs(tmp.path());
}

/// Runs calibrate with `args` in a directory holding `logs/` and `notalog.txt`, and checks
/// exit 2, one error line containing `expect`, and nothing written.
fn refused(args: &[&str], expect: &str) {
    let tmp = TempDir::new().unwrap();
    std::fs::create_dir(tmp.path().join("logs")).unwrap();
    std::fs::create_dir(tmp.path().join("empty")).unwrap();
    std::fs::write(tmp.path().join("logs/MSGTRK1.LOG"), tracking_log(50, 1)).unwrap();
    std::fs::write(
        tmp.path().join("notalog.txt"),
        "hello, world\nthis is not a log\n",
    )
    .unwrap();
    let before = entries(tmp.path());
    let base = repo("scenarios/hybrid-routing.toml");
    let mut all = vec!["--base", base.to_str().unwrap(), "--out", "cal"];
    all.extend_from_slice(args);
    let o = calibrate(tmp.path(), &all);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(
        stderr.contains(expect),
        "{args:?}: expected `{expect}` in {stderr}"
    );
    assert_eq!(entries(tmp.path()), before, "{args:?} wrote something");
}

#[test]
fn bad_inputs_exit_2_with_one_line_and_write_nothing() {
    refused(&["notalog.txt"], "notalog.txt");
    refused(&["empty"], "empty");
    refused(&["missing.log"], "missing.log");
    refused(&["logs", "--server", "EX01=eop"], "--server `EX01=eop`");
    refused(&["logs", "--current", "mx=cloud"], "--current `mx=cloud`");
    refused(&["logs", "--bad-lines", "lots"], "--bad-lines `lots`");
    refused(&["logs", "--timezone", "Mars/Olympus"], "Mars/Olympus");
    refused(
        &["logs", "--check", "--replications", "1"],
        "at least 2 replications",
    );
}

#[test]
fn help_explains_every_flag() {
    let o = mailflow().args(["calibrate", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for flag in [
        "--base",
        "--out",
        "--check",
        "--current",
        "--server",
        "--accepted-domain",
        "--timezone",
        "--date-format",
        "--bad-lines",
        "--replications",
    ] {
        assert!(help.contains(flag), "{flag} missing from\n{help}");
    }
}

/// The done-when case: a folder of on-premises tracking logs and Exchange Online message
/// trace exports (the generator's seed topology, two weekdays at 2% of its rates). The real
/// binary joins the two sides, writes a scenario that runs, and its back-test compares every
/// flow (8) and both hops and passes. The same folder with a Get-MessageTrackingLog export
/// beside the tracking logs (two formats of one side) is refused: exit 2, one line, nothing
/// written.
#[test]
fn a_folder_of_tracking_logs_and_message_traces_calibrates_and_backtests() {
    use mailflow::calibrate::synth::{self, PowerShellStyle, SynthModel, SynthOutput};
    let tmp = TempDir::new().unwrap();
    let mut m = SynthModel::seed_example(5);
    m.days = 2;
    for r in m.peak_per_s.values_mut() {
        *r *= 0.02;
    }
    synth::generate(&m, &SynthOutput::default(), &tmp.path().join("logs")).unwrap();
    let base = repo("scenarios/hybrid-routing.toml");
    let base = base.to_str().unwrap();
    let o = calibrate(
        tmp.path(),
        &["logs", "--base", base, "--out", "cal", "--check"],
    );
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        stdout.contains("message tracking log files and ")
            && stdout.contains("Exchange Online message trace file"),
        "{stdout}"
    );
    assert!(stdout.contains("joined by message id: "), "{stdout}");
    assert!(
        stdout.contains("busiest_hour_rate        cloud_internal"),
        "{stdout}"
    );
    assert!(stdout.contains("spam_share"), "{stdout}");
    assert!(
        stdout.contains(
            "PASS: every deciding figure lies inside the simulation's joint prediction interval (95% for all together) (10 flows compared"
        ),
        "{stdout}"
    );
    calibrated_scenario_runs(tmp.path());

    // Add the same servers' events as a PowerShell export: refused, nothing written.
    let mixed = tmp.path().join("mixed");
    let out = SynthOutput {
        powershell: Some(PowerShellStyle {
            timezone: jiff::tz::TimeZone::UTC,
            join_recipients: true,
        }),
        ..SynthOutput::default()
    };
    synth::generate(&m, &out, &mixed).unwrap();
    let before = entries(tmp.path());
    let o = calibrate(
        tmp.path(),
        &["mixed", "--base", base, "--out", "cal2", "--check"],
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("tracking-export.csv") && stderr.contains("would count its messages twice"),
        "{stderr}"
    );
    assert!(
        stderr.contains("on-premises logs and cloud traces can be combined"),
        "{stderr}"
    );
    assert_eq!(entries(tmp.path()), before, "something was written");
}

/// `mailflow run` accepts `dir/cal/calibrated.toml` as it is (two replications).
fn calibrated_scenario_runs(dir: &std::path::Path) {
    let o = mailflow()
        .current_dir(dir)
        .args([
            "run",
            "cal/calibrated.toml",
            "--replications",
            "2",
            "--quiet",
            "--out",
            "run",
        ])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}
