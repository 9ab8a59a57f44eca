//! `report.html` in a real browser: headless Chromium renders the page of a run, a sweep and a
//! capacity search; the test fails on any console message (the page has no script, so any
//! message is an error: a blocked load, a parse problem), on any request the page makes that
//! leaves the file (Chromium's net log, page-initiated requests only), and on any table cell
//! whose text differs from its CSV file's. It keeps a screenshot of each page under
//! `target/report-screenshots/` for people to look at.
//!
//! Without Chromium the test says so loudly and passes, except in CI (`CI=true`), where
//! `.ci/run` installs it and its absence is a failure.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

fn mailflow(dir: &Path) -> Command {
    let mut c = Command::cargo_bin("mailflow").expect("the binary is built");
    c.current_dir(dir);
    c
}

/// The Chromium binary: `$CHROMIUM`, or the first of the usual names on PATH.
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// The flags that keep headless Chromium from touching the network on its own behalf and
/// from needing a desktop session; each run gets a fresh profile.
fn browser(bin: &Path, profile: &Path) -> Process {
    let mut c = Process::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-quic",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// What one page load showed.
struct Load {
    dom: String,
    console: Vec<String>,
    /// URLs the page itself requested that are not files.
    external: Vec<String>,
}

fn load(bin: &Path, page: &Path, scratch: &Path) -> Load {
    let netlog = scratch.join("net.json");
    let o = browser(bin, &scratch.join("profile"))
        .args(["--enable-logging=stderr", "--v=0"])
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(
        o.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    Load {
        dom: String::from_utf8(o.stdout).expect("the DOM is UTF-8"),
        console,
        external: page_requests(
            &std::fs::read_to_string(&netlog).expect("chromium wrote its net log"),
        ),
    }
}

/// URLs of the requests the page started (their network isolation key is the file's),
/// other than `file:` and `data:` ones. Chromium's own background requests (which the flags
/// mostly but not always stop) have other keys and are not the page's doing.
fn page_requests(netlog: &str) -> Vec<String> {
    // A log cut short by the browser's exit lacks its closing brackets.
    let v: serde_json::Value = serde_json::from_str(netlog)
        .or_else(|_| {
            serde_json::from_str(&format!("{}]}}", netlog.trim_end().trim_end_matches(',')))
        })
        .expect("the net log is JSON");
    let mut out = Vec::new();
    for e in v["events"].as_array().into_iter().flatten() {
        let p = &e["params"];
        let (Some(url), Some(key)) = (p["url"].as_str(), p["network_isolation_key"].as_str())
        else {
            continue;
        };
        if key.contains("file://") && !url.starts_with("file:") && !url.starts_with("data:") {
            out.push(url.to_string());
        }
    }
    out
}

/// The text of each `<t?>…</t?>` cell in `row` (tags inside removed, entities decoded).
fn cells(row: &str, tag: &str) -> Vec<String> {
    let open = format!("<{tag}");
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = row;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i..];
        let start = after.find('>').expect("a closed tag") + 1;
        let end = after.find(&close).expect("a closed cell");
        let inner = &after[start..end];
        let mut plain = String::new();
        let mut in_tag = false;
        for c in inner.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag => plain.push(c),
                _ => {}
            }
        }
        out.push(html_escape::decode_html_entities(&plain).into_owned());
        rest = &after[end + close.len()..];
    }
    out
}

/// Checks every table of `dom` that names its CSV (`data-csv`) against that file in `dir`:
/// same column names, and each shown row's cells equal the file's cells of those columns.
/// Returns how many tables were checked.
fn tables_match_csvs(dom: &str, dir: &Path) -> usize {
    let mut n = 0;
    let mut rest = dom;
    while let Some(i) = rest.find("<table data-csv=\"") {
        let t = &rest[i + "<table data-csv=\"".len()..];
        let file = &t[..t.find('"').unwrap()];
        let end = t.find("</table>").expect("a closed table");
        let table = &t[..end];
        rest = &t[end..];
        let mut r = csv::Reader::from_path(dir.join(file)).unwrap();
        let head: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|x| x.unwrap().iter().map(str::to_string).collect())
            .collect();
        let thead = &table[table.find("<thead>").unwrap()..table.find("</thead>").unwrap()];
        let shown: Vec<String> = cells(thead, "th");
        let idx: Vec<usize> = shown
            .iter()
            .map(|c| {
                head.iter()
                    .position(|h| h == c)
                    .unwrap_or_else(|| panic!("{file}: column {c} is not in the file"))
            })
            .collect();
        let body = &table[table.find("<tbody>").unwrap()..];
        let trs: Vec<&str> = body.split("<tr>").skip(1).collect();
        if !table.contains("the first ") {
            assert_eq!(trs.len(), rows.len(), "{file}: every row is shown");
        }
        assert!(!trs.is_empty() || rows.is_empty(), "{file}: rows shown");
        for (k, tr) in trs.iter().enumerate() {
            let got = cells(tr, "td");
            let want: Vec<String> = idx.iter().map(|&i| rows[k][i].clone()).collect();
            assert_eq!(got, want, "{file} row {}: page against file", k + 1);
        }
        n += 1;
    }
    n
}

fn screenshot(bin: &Path, page: &Path, scratch: &Path, name: &str) -> PathBuf {
    let dir = repo("target/report-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    let png = dir.join(format!("{name}.png"));
    let o = browser(bin, &scratch.join("profile-shot"))
        .arg("--window-size=1280,4000")
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium starts");
    assert!(
        o.status.success(),
        "screenshot failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let bytes = std::fs::read(&png).unwrap();
    assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", png.display());
    png
}

/// Loads `dir/report.html`, checks it, keeps a screenshot; returns the DOM.
fn check_report(bin: &Path, dir: &Path, name: &str, min_tables: usize) -> String {
    let page = dir.join("report.html");
    assert!(page.exists(), "{} has report.html", dir.display());
    let scratch = tempfile::tempdir().unwrap();
    let l = load(bin, &page, scratch.path());
    assert!(
        l.console.is_empty(),
        "{name}: console messages:\n{}",
        l.console.join("\n")
    );
    assert!(
        l.external.is_empty(),
        "{name}: requests leaving the file: {:?}",
        l.external
    );
    assert!(!l.dom.contains("<script"), "{name}: no script");
    let tables = tables_match_csvs(&l.dom, dir);
    assert!(tables >= min_tables, "{name}: {tables} tables checked");
    let png = screenshot(bin, &page, scratch.path(), name);
    eprintln!(
        "{name}: {tables} tables match their CSVs; screenshot {}",
        png.display()
    );
    l.dom
}

#[test]
fn report_html_opens_cleanly_in_chromium_and_its_tables_are_the_csvs() {
    let Some(bin) = chromium() else {
        let msg = "\n\n*** report.html browser test SKIPPED: no chromium on PATH (set CHROMIUM= or \
                   install Debian's `chromium`; .ci/run does) ***\n";
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("{msg} In CI (CI=true) Chromium is required.");
        }
        eprintln!("{msg}");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // The outage study with a description full of markup: costs, outages, every section.
    let text = std::fs::read_to_string(repo("scenarios/connector-outage.toml")).unwrap();
    let hostile = "<script>alert(\"x\")</script> & <img src=http://example.com/x.png> 'q'";
    let text = text.replacen(
        "name = \"connector-outage\"",
        &format!("name = \"connector-outage\"\ndescription = {hostile:?}"),
        1,
    );
    assert!(text.contains("<script>"), "the description is set");
    std::fs::write(d.join("outage.toml"), text).unwrap();
    mailflow(d)
        .args([
            "run",
            "outage.toml",
            "--replications",
            "2",
            "--quiet",
            "--out",
            "run",
        ])
        .assert()
        .success();
    let dom = check_report(&bin, &d.join("run"), "run", 6);
    // The description reached the page as text, not markup.
    assert!(
        dom.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; &lt;img"),
        "escaped description"
    );
    // The command that made it, less `--quiet` (which changes no result).
    assert!(dom.contains("mailflow run outage.toml --replications 2 --out run"));
    assert!(!dom.contains("--quiet"));

    mailflow(d)
        .arg("sweep")
        .arg(repo("scenarios/tandem-mmc.toml"))
        .args([
            "--set",
            "load.scale=0.6,1.0,1.4",
            "--set",
            "run.duration_s=300",
        ])
        .args(["--replications", "2", "--quiet", "--out", "sweep"])
        .assert()
        .success();
    let dom = check_report(&bin, &d.join("sweep"), "sweep", 1);
    assert!(
        dom.contains("not simulated"),
        "the unstable point is a warning"
    );

    mailflow(d)
        .arg("capacity")
        .arg(repo("scenarios/tandem-mmc.toml"))
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
    check_report(&bin, &d.join("cap"), "capacity", 2);

    // Replications until precise: the rounds and every watched figure, as in precision.csv.
    mailflow(d)
        .arg("run")
        .arg(repo("scenarios/tandem-mmc.toml"))
        .args(["--precision", "5%", "--set", "run.duration_s=300"])
        .args(["--quiet", "--out", "prec"])
        .assert()
        .success();
    let dom = check_report(&bin, &d.join("prec"), "precision", 4);
    assert!(
        dom.contains("Replications until precise"),
        "precision section"
    );

    // Calibration from a day of tracking logs: what was read, estimated, observed, skipped.
    std::fs::create_dir(d.join("logs")).unwrap();
    std::fs::write(
        d.join("logs/MSGTRK2026030200-1.LOG"),
        crate::calibrate::tracking_log(2000, 24),
    )
    .unwrap();
    mailflow(d)
        .args(["calibrate", "logs", "--accepted-domain", "contoso.com"])
        .arg("--base")
        .arg(repo("scenarios/hybrid-routing.toml"))
        .args(["--quiet", "--out", "cal"])
        .assert()
        .success();
    let dom = check_report(&bin, &d.join("cal"), "calibrate", 3);
    assert!(dom.contains("What was estimated"), "calibration section");
}

/// The checks can fail: a page with a console error and a request to the network is caught.
#[test]
fn the_browser_check_catches_console_errors_and_requests() {
    let Some(bin) = chromium() else {
        eprintln!("\n*** browser self-check SKIPPED: no chromium ***\n");
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "CI needs chromium"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("bad.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>bad</title></head><body>\
         <script>console.error('boom')</script><img src=\"http://192.0.2.1/x.png\"></body></html>",
    )
    .unwrap();
    let l = load(&bin, &page, tmp.path());
    assert!(
        l.console.iter().any(|c| c.contains("boom")),
        "{:?}",
        l.console
    );
    assert!(
        l.external.iter().any(|u| u.contains("192.0.2.1")),
        "{:?}",
        l.external
    );
}
