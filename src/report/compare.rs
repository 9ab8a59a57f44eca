//! `compare.csv` and the terminal's "vs baseline" view: every variant against the baseline,
//! per flow and figure, with the paired interval across replications (common random
//! numbers), the unpaired (Welch) interval beside it, and a verdict.
//!
//! The figures come from each variant's per-replication values (`FlowSummary::
//! per_replication`), which a merge of shards rebuilds in the same unit order, so a merged
//! `compare.csv` equals a single run's byte for byte.

use std::fmt::Write;

use serde::Serialize;

use super::num::Num;

use crate::runner::StudyOutcome;
use crate::stats::compare::{self, Difference, Verdict};
use crate::stats::mean_ci;
use crate::stats::summary::{FlowFigure, FlowSummary};

/// One row of `compare.csv`: `variant − baseline` for one flow's figure. Differences are in
/// the figure's unit (named by `figure`, e.g. `p99_ms`) and written at its resolution
/// (`num::Num::of`); `diff_pct` is relative to the
/// baseline's mean (its interval scales the paired interval by that mean, taken as fixed).
#[derive(Serialize)]
pub struct CompareRow<'a> {
    pub variant: &'a str,
    pub baseline: &'a str,
    pub flow: &'a str,
    pub figure: &'a str,
    /// Replications where both variants have the figure (a flow with no deliveries in a
    /// replication has none).
    pub pairs: usize,
    pub variant_value: Num,
    pub variant_value_ci95_lo: Option<Num>,
    pub variant_value_ci95_hi: Option<Num>,
    pub baseline_value: Num,
    pub baseline_value_ci95_lo: Option<Num>,
    pub baseline_value_ci95_hi: Option<Num>,
    pub diff: Num,
    /// Paired-t interval of the mean difference.
    pub diff_ci95_lo: Option<Num>,
    pub diff_ci95_hi: Option<Num>,
    /// Welch interval of the difference of means (the same values, unpaired).
    pub unpaired_ci95_lo: Option<Num>,
    pub unpaired_ci95_hi: Option<Num>,
    pub diff_pct: Option<Num>,
    pub diff_pct_ci95_lo: Option<Num>,
    pub diff_pct_ci95_hi: Option<Num>,
    /// `better`, `worse` (the paired interval excludes 0) or `no difference detected`.
    pub verdict: &'static str,
}

/// One variant's comparison with the baseline on one flow: the figures in
/// [`FlowFigure::ALL`] order (None where no replication has both).
pub struct FlowComparison<'a> {
    pub variant: &'a str,
    pub flow: &'a str,
    pub figures: Vec<(FlowFigure, Option<Paired>)>,
}

/// A figure's difference and the per-replication values it came from.
pub struct Paired {
    pub diff: Difference,
    pub variant: Vec<f64>,
    pub baseline: Vec<f64>,
}

fn column(f: &FlowSummary, fig: FlowFigure) -> Vec<f64> {
    f.per_replication.iter().map(|v| v[fig as usize]).collect()
}

/// Every variant other than the baseline against it, per flow both have, in variant then flow
/// order.
pub fn comparisons(study: &StudyOutcome) -> Vec<FlowComparison<'_>> {
    let Some(base) = study.variants.get(study.baseline) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (vi, v) in study.variants.iter().enumerate() {
        if vi == study.baseline {
            continue;
        }
        for (flow, f) in &v.flows {
            let Some((_, b)) = base.flows.iter().find(|(n, _)| n == flow) else {
                continue;
            };
            let figures = FlowFigure::ALL
                .iter()
                .map(|&fig| {
                    let (x, y) = (column(f, fig), column(b, fig));
                    let d = compare::compare(&x, &y, fig.better());
                    (
                        fig,
                        d.map(|diff| Paired {
                            diff,
                            variant: x,
                            baseline: y,
                        }),
                    )
                })
                .collect();
            out.push(FlowComparison {
                variant: &v.name,
                flow,
                figures,
            });
        }
    }
    out
}

/// The rows of `compare.csv`.
pub fn rows(study: &StudyOutcome) -> Vec<CompareRow<'_>> {
    let Some(base) = study.variants.get(study.baseline) else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for c in comparisons(study) {
        for (fig, d) in c.figures {
            let Some(Paired {
                diff: d,
                variant: x,
                baseline: y,
            }) = d
            else {
                continue;
            };
            // The per-variant intervals over the same pairs the difference used.
            let (xs, ys): (Vec<f64>, Vec<f64>) = x
                .iter()
                .zip(&y)
                .filter(|(a, b)| a.is_finite() && b.is_finite())
                .map(|(a, b)| (*a, *b))
                .unzip();
            let (mx, my) = (mean_ci(&xs), mean_ci(&ys));
            let pct = |v: f64| {
                (d.baseline_mean != 0.0 && d.baseline_mean.is_finite())
                    .then(|| v / d.baseline_mean * 100.0)
            };
            let unit = |v: f64| Num::of(fig.name(), v);
            let unit_ci = |c: Option<(f64, f64)>| (c.map(|c| unit(c.0)), c.map(|c| unit(c.1)));
            let (vlo, vhi) = unit_ci(mx.ci95);
            let (blo, bhi) = unit_ci(my.ci95);
            let (dlo, dhi) = unit_ci(d.paired_ci95);
            let (ulo, uhi) = unit_ci(d.unpaired_ci95);
            rows.push(CompareRow {
                variant: c.variant,
                baseline: &base.name,
                flow: c.flow,
                figure: fig.name(),
                pairs: d.pairs,
                variant_value: unit(d.variant_mean),
                variant_value_ci95_lo: vlo,
                variant_value_ci95_hi: vhi,
                baseline_value: unit(d.baseline_mean),
                baseline_value_ci95_lo: blo,
                baseline_value_ci95_hi: bhi,
                diff: unit(d.mean),
                diff_ci95_lo: dlo,
                diff_ci95_hi: dhi,
                unpaired_ci95_lo: ulo,
                unpaired_ci95_hi: uhi,
                diff_pct: pct(d.mean).map(Num::Sig),
                diff_pct_ci95_lo: d.paired_ci95.and_then(|c| pct(c.0)).map(Num::Sig),
                diff_pct_ci95_hi: d.paired_ci95.and_then(|c| pct(c.1)).map(Num::Sig),
                verdict: d.verdict.label(),
            });
        }
    }
    rows
}

/// A signed difference with its paired half-width, rounded for reading: `−391 ±3.1`.
fn signed(d: &Difference) -> String {
    let digits = |v: f64| {
        if v.abs() >= 100.0 {
            0
        } else if v.abs() >= 1.0 {
            1
        } else {
            2
        }
    };
    let m = d.mean;
    let p = digits(m);
    let mean = if m < 0.0 {
        format!("−{:.p$}", -m)
    } else {
        format!("+{m:.p$}")
    };
    match d.paired_ci95 {
        Some((lo, hi)) => {
            let h = (hi - lo) / 2.0;
            let q = digits(h).max(p);
            format!("{mean} ±{h:.q$}")
        }
        None => mean,
    }
}

fn word(v: Verdict) -> &'static str {
    match v {
        Verdict::Better => "better",
        Verdict::Worse => "worse",
        Verdict::NoDifference => "no diff.",
    }
}

/// The "vs baseline" view printed under the table: per variant and flow, the paired
/// difference in mean and p99 latency with its 95% half-width and the verdict. Empty with a
/// single variant.
pub fn vs_baseline(study: &StudyOutcome) -> String {
    let mut out = String::new();
    let cmp = comparisons(study);
    if cmp.is_empty() {
        return out;
    }
    let base = &study.variants[study.baseline].name;
    let _ = writeln!(
        out,
        "vs baseline {base}: variant − baseline, mean of {} paired replications ± 95% half-width \
         (negative = faster; full table in compare.csv)",
        study.replications
    );
    let flow_w = cmp.iter().map(|c| c.flow.len()).max().unwrap_or(4).max(4);
    let mut last = "";
    for c in &cmp {
        if c.variant != last {
            let head = format!(
                "    {:<flow_w$} {:>23} {:>23}",
                "flow", "mean ms Δ        ", "p99 ms Δ        "
            );
            let _ = writeln!(out, "  {}\n{}", c.variant, head.trim_end());
            last = c.variant;
        }
        let cell = |fig: FlowFigure| {
            c.figures
                .iter()
                .find(|(f, _)| *f == fig)
                .and_then(|(_, d)| d.as_ref())
                .map(|p| format!("{:>14} {:<8}", signed(&p.diff), word(p.diff.verdict)))
                .unwrap_or_else(|| "-".into())
        };
        let line = format!(
            "    {:<flow_w$} {:>23} {:>23}",
            c.flow,
            cell(FlowFigure::MeanMs),
            cell(FlowFigure::P99Ms)
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{self, RunOptions};
    use crate::scenario::{LoadOptions, from_text};

    /// A variant and its exact copy under another name: same network, same streams, so every
    /// paired difference is 0 and every interval (paired and unpaired) contains 0; the
    /// verdict is "no difference detected". Also: `--baseline` picks the reference.
    #[test]
    fn two_identical_variants_show_no_difference() {
        let text = "[run]\nduration_s = 400\nwarmup_s = 40\nseed = 3\nreplications = 4\n\
            [sources.a]\nrate_per_s = 20\nroute = \"r\"\n\
            [hops.q]\nservers = 1\nservice_ms = { dist = \"exponential\", rate_per_s = 25 }\n\
            [routes.r]\nsteps = [\"q\"]\ndeliver = \"f\"\n";
        let mut scn = from_text(text, "twin.toml", "twin", LoadOptions::default()).unwrap();
        let mut twin = scn.variants[0].clone();
        twin.name = "copy".into();
        scn.variants.push(twin);
        let mut study = runner::run(&scn, RunOptions::default(), &|| {}).unwrap();
        let r = rows(&study);
        assert_eq!(r.len(), FlowFigure::COUNT, "one flow, every figure");
        for row in &r {
            assert_eq!(row.diff.value(), 0.0, "{}", row.figure);
            let (lo, hi) = (
                row.diff_ci95_lo.unwrap().value(),
                row.diff_ci95_hi.unwrap().value(),
            );
            assert!(lo <= 0.0 && 0.0 <= hi);
            let (ulo, uhi) = (
                row.unpaired_ci95_lo.unwrap().value(),
                row.unpaired_ci95_hi.unwrap().value(),
            );
            assert!(ulo <= 0.0 && 0.0 <= uhi);
            assert_eq!(row.verdict, "no difference detected");
            assert_eq!(row.pairs, 4);
        }
        assert!(vs_baseline(&study).contains("no diff."));
        study.set_baseline("copy").unwrap();
        let r = rows(&study);
        assert!(
            r.iter()
                .all(|x| x.baseline == "copy" && x.variant == "twin")
        );
        let e = study.set_baseline("triplet").unwrap_err().to_string();
        assert!(e.contains("variants: "), "{e}");
    }
}
