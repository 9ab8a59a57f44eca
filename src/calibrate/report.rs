//! The `report.html` of a calibration: what was read and estimated from how much data, the
//! back-test's verdict and its table, and what was skipped — one page a planner can open from
//! the output folder, like `run`'s.
//!
//! Must not: compute anything the CSVs do not hold. It only arranges what the pipeline and the
//! back-test produced (the tables are read back from the files written beside it).

use super::backtest::Backtest;
use super::pipeline::Calibrated;
use crate::report::html::{Report, Section};

/// The page for calibration `c` (and its back-test `bt` with `--check`); `summary` is what the
/// terminal printed about the logs (read, classified, servers and hops).
pub fn html_report(c: &Calibrated, bt: Option<&Backtest>, summary: &str) -> Report {
    let mut warnings: Vec<String> = c.read.warnings.iter().chain(&c.warnings).cloned().collect();
    if let Some(b) = bt
        && !b.passed
    {
        warnings.push(
            "the back-test FAILED: some observed figures lie outside the simulation's joint \
             prediction interval (95% for all deciding figures together; see the back-test table); \
             do not plan on calibrated.toml before finding out why"
                .to_string(),
        );
    }
    let mut facts = vec![
        (
            "base scenario".to_string(),
            c.base.file.display().to_string(),
        ),
        ("logs".to_string(), c.inputs.clone()),
        (
            "period".to_string(),
            format!(
                "{} hours from {} (hours of day in {})",
                c.cal.period_hours, c.cal.period_start, c.timezone
            ),
        ),
        (
            "messages classified".to_string(),
            c.cal.messages.to_string(),
        ),
        (
            "current routing".to_string(),
            format!("{} ({})", c.routing.variant.name(), c.routing.how),
        ),
    ];
    if let Some(b) = bt {
        facts.push((
            "back-test".to_string(),
            format!(
                "{} ({} flows compared, {} replications)",
                if b.passed { "passed" } else { "FAILED" },
                b.compared,
                b.replications
            ),
        ));
    }
    // The findings are prose (each wraps); the estimates from "estimated …" on are an
    // aligned table (kept preformatted).
    let summary = summary.trim_end();
    let (prose, table) = match summary.find("\nestimated") {
        Some(i) => (&summary[..i], &summary[i + 1..]),
        None => (summary, ""),
    };
    let mut read = Section::new("What was read")
        .text(
            "The logs as calibration read them: records, unreadable lines, how each server \
             was mapped to a hop of the base scenario.",
        )
        .lines(prose.to_string());
    if !table.is_empty() {
        read = read.pre(table.to_string());
    }
    let mut sections = vec![read];
    if let Some(b) = bt {
        let mut s = Section::new("Back-test").text(format!(
            "calibrated.toml run over the logged {} hours with routing {}, against what the \
             logs show. The logs are one realization: a figure passes when the observed \
             value lies inside the prediction interval of one realization from the \
             replications' figures (mean ± t · s · √(1 + 1/n)). The verdict decides on k figures \
             at once, so each uses t(n − 1, 1 − 0.025/k) (Bonferroni): all k lie inside \
             together with at least 95% probability when the model is right (with each at 95% \
             alone, ten would fail about 40% of the time).",
            c.cal.period_hours,
            c.routing.variant.name()
        ));
        if !b.verdict.is_empty() {
            s = s.lines(b.verdict.join("\n"));
        }
        sections.push(s.table("backtest.csv", &[]));
    }
    sections.push(
        Section::new("What was estimated")
            .text(
                "Every quantity calibrated.toml takes from the logs, with its sample size, its \
                 95% interval where one applies, and how it was estimated.",
            )
            .table("calibration.csv", &[]),
    );
    sections.push(
        Section::new("Observed latency")
            .text(
                "End-to-end latency per flow as the logs show it (hourly counts in observed.csv).",
            )
            .table_rows("observed.csv", &[], 60),
    );
    sections.push(
        Section::new("Skipped")
            .text("Messages calibration left out, by reason.")
            .table("skipped.csv", &[]),
    );
    Report {
        title: format!("mailflow calibrate: {}", c.base.name),
        scenario: c.base.name.clone(),
        scenario_sha256: c.base.hash.clone(),
        description: c.base.description.clone(),
        facts,
        warnings,
        sections,
    }
}
