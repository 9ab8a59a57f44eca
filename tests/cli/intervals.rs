//! Intervals everywhere: every estimate in a run's CSVs has its `_ci95_lo`/`_ci95_hi`
//! columns, and every figure the terminal table prints carries its `±`.

use std::path::Path;

use assert_cmd::Command;

/// Columns that are not estimates across replications, so have no interval: names and
/// settings, counts of the study, `offered_utilization` (the traffic equations' exact value
/// from the model), `littles_law_rel_err` (a consistency check of the means) and
/// `eop_licences` (the scenario's mailbox count).
const NOT_ESTIMATES: [&str; 9] = [
    "variant",
    "flow",
    "hop",
    "kind",
    "servers",
    "replications",
    "offered_utilization",
    "littles_law_rel_err",
    "eop_licences",
];

fn header(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.headers().unwrap().iter().map(str::to_string).collect()
}

#[test]
fn every_csv_figure_has_its_interval_and_the_table_its_plus_minus() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let o = Command::cargo_bin("mailflow")
        .unwrap()
        .current_dir(tmp.path())
        .arg("run")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml"))
        .args([
            "--set",
            "run.duration_s=600",
            "--replications",
            "3",
            "--out",
        ])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for file in ["summary.csv", "hops.csv", "costs.csv"] {
        let head = header(&out.join(file));
        let missing: Vec<&String> = head
            .iter()
            .filter(|c| !c.contains("_ci95_") && !NOT_ESTIMATES.contains(&c.as_str()))
            .filter(|c| {
                !(head.contains(&format!("{c}_ci95_lo")) && head.contains(&format!("{c}_ci95_hi")))
            })
            .collect();
        assert!(missing.is_empty(), "{file}: no interval for {missing:?}");
    }
    // Intervals are filled in (3 replications) and hold their figure.
    let mut r = csv::Reader::from_path(out.join("costs.csv")).unwrap();
    let head = r.headers().unwrap().clone();
    let at = |n: &str| head.iter().position(|c| c == n).unwrap();
    for rec in r.records() {
        let rec = rec.unwrap();
        for fig in ["to_cloud_messages_per_day", "onprem_internet_peak_mbps"] {
            let v: f64 = rec[at(fig)].parse().unwrap();
            let lo: f64 = rec[at(&format!("{fig}_ci95_lo"))].parse().unwrap();
            let hi: f64 = rec[at(&format!("{fig}_ci95_hi"))].parse().unwrap();
            assert!(lo <= v && v <= hi, "{fig}: {lo} {v} {hi}");
        }
    }
    // The table: every latency and throughput cell has its ±, and the bottleneck too.
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("mean of 3 replications ± 95% half-width"),
        "{stdout}"
    );
    // The run table: the lines from a flow header to its variant's recipients line (the
    // "vs baseline" view below it has its own ±).
    let mut rows = 0;
    let mut in_table = false;
    for line in stdout.lines() {
        if line.contains("(bottleneck ") {
            assert!(line.contains("% ±"), "{line}");
        }
        if line.trim_start().starts_with("flow ") && line.contains("p50 ms") {
            in_table = true;
            continue;
        }
        if line.trim_start().starts_with("recipients:") {
            in_table = false;
        }
        if in_table {
            assert_eq!(line.matches('±').count(), 6, "{line}");
            rows += 1;
        }
    }
    assert!(rows >= 8, "{stdout}");
}
