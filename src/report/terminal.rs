//! The side-by-side table printed after a run: for each variant, its bottleneck and one row per
//! flow with p50 / p90 / p99 / p99.9 / max latency and throughput, each with its 95%
//! half-width (`±`); the sweep table, the capacity paragraph and the `--precision` lines. Every
//! estimate printed carries its interval or `±`. Rounded for reading; the CSVs hold the full
//! figures.

use std::fmt::Write;

use crate::runner::StudyOutcome;
use crate::stats::MeanCi;

/// Decimals `ms` writes for a value of this size.
fn ms_decimals(x: f64) -> usize {
    if x.abs() >= 100_000.0 {
        0
    } else if x.abs() >= 100.0 {
        1
    } else {
        2
    }
}

/// A figure and its 95% half-width, `151.1 ±0.2`, both at the mean's decimals, or more when
/// the half-width would round to 0 (up to 3 more: `75.04 ±0.03`); the mean alone without an
/// interval.
fn pm(m: MeanCi, decimals: usize) -> String {
    if !m.mean.is_finite() {
        return "-".into();
    }
    match m.ci95 {
        Some((lo, hi)) => {
            let half = (hi - lo) / 2.0;
            let mut d = decimals;
            while d < decimals + 3 && half > 0.0 && half < 0.5 * 10f64.powi(-(d as i32)) {
                d += 1;
            }
            format!("{:.d$} ±{:.d$}", m.mean, half)
        }
        None => format!("{:.decimals$}", m.mean),
    }
}

/// A latency in ms with its half-width.
fn ms_pm(m: MeanCi) -> String {
    pm(m, ms_decimals(m.mean))
}

/// A utilization as a percentage with its half-width in points: `75.1% ±0.2`.
fn util_pm(m: MeanCi) -> String {
    let pct = MeanCi {
        mean: m.mean * 100.0,
        ci95: m.ci95.map(|(l, h)| (l * 100.0, h * 100.0)),
    };
    match pct.ci95 {
        Some(_) => pm(pct, 1).replacen(' ', "% ", 1),
        None => format!("{:.1}%", pct.mean),
    }
}

/// The busiest station's utilization summary (see [`crate::runner::VariantOutcome::bottleneck`]).
fn bottleneck_ci(v: &crate::runner::VariantOutcome) -> Option<(&str, MeanCi)> {
    let (name, _) = v.bottleneck()?;
    let s = v.stations.iter().find(|s| s.name == name)?;
    Some((name, s.summary.utilization?))
}

pub fn table(study: &StudyOutcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        if study.replications > 1 {
            format!(
                "figures: mean of {} replications ± 95% half-width",
                study.replications
            )
        } else {
            "figures: 1 replication (no interval; run 2 or more for one)".to_string()
        }
    );
    let flow_w = study
        .variants
        .iter()
        .flat_map(|v| v.flows.iter().map(|(f, _)| f.len()))
        .max()
        .unwrap_or(4)
        .max(4);
    for v in &study.variants {
        let bottleneck = match bottleneck_ci(v) {
            Some((name, u)) => format!("bottleneck {name} at {} utilization", util_pm(u)),
            None => "no finite-capacity hop".into(),
        };
        let _ = writeln!(out, "{}  ({bottleneck})", v.name);
        let cells: Vec<[String; 6]> = v
            .flows
            .iter()
            .map(|(_, f)| {
                [
                    ms_pm(f.p50_ms),
                    ms_pm(f.p90_ms),
                    ms_pm(f.p99_ms),
                    ms_pm(f.p999_ms),
                    ms_pm(f.max_ms),
                    pm(f.throughput_per_s, 2),
                ]
            })
            .collect();
        let w = cells
            .iter()
            .flatten()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0)
            .max(10);
        let _ = writeln!(
            out,
            "  {:<flow_w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}",
            "flow", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "rcpt/s"
        );
        for ((flow, _), c) in v.flows.iter().zip(&cells) {
            let _ = writeln!(
                out,
                "  {:<flow_w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}  {:>w$}",
                flow, c[0], c[1], c[2], c[3], c[4], c[5]
            );
        }
        let a = v.accounting;
        let _ = writeln!(
            out,
            "  recipients: {} generated = {} delivered + {} in flight + {} other end states\n",
            a.generated,
            a.delivered,
            a.in_flight,
            a.expired + a.quarantined + a.rejected + a.filtered_spam
        );
    }
    out
}

/// One line per sweep point and variant: the swept values, then the flow with the highest p99
/// and that p99, the bottleneck and its utilization (or why the variant was not simulated),
/// in columns padded to their widest cell.
pub fn sweep_table(sweep: &crate::sweep::SweepOutcome) -> String {
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut head: Vec<String> = sweep.axes.clone();
    head.extend([
        "variant".into(),
        "worst p99 ± 95% half-width (flow)".into(),
        "bottleneck ± 95% half-width".into(),
    ]);
    rows.push(head);
    for p in &sweep.points {
        let values: Vec<String> = p
            .overrides
            .iter()
            .map(|o| crate::scenario::overrides::value_text(&o.value))
            .collect();
        for pv in &p.variants {
            let (worst, bottleneck) = match (&pv.unstable, pv.outcome) {
                (Some(u), _) => (
                    "not simulated".to_string(),
                    format!(
                        "{} offered {:.0}% of capacity",
                        u.station,
                        u.utilization * 100.0
                    ),
                ),
                (None, Some(i)) => {
                    let v = &p.outcome.variants[i];
                    let worst = v
                        .flows
                        .iter()
                        .filter(|(_, f)| f.p99_ms.mean.is_finite())
                        .max_by(|a, b| a.1.p99_ms.mean.total_cmp(&b.1.p99_ms.mean));
                    let worst = match worst {
                        Some((flow, f)) => format!("{} ms ({flow})", ms_pm(f.p99_ms)),
                        None => "no deliveries".into(),
                    };
                    let bottleneck = match bottleneck_ci(v) {
                        Some((name, u)) => format!("{name} {}", util_pm(u)),
                        None => "-".into(),
                    };
                    (worst, bottleneck)
                }
                (None, None) => unreachable!("a stable variant is simulated"),
            };
            let mut row = values.clone();
            row.extend([pv.name.clone(), worst, bottleneck]);
            rows.push(row);
        }
    }
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in &rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - cell.chars().count();
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', pad));
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// A latency for prose: milliseconds below 10 s, seconds above.
fn prose_ms(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v >= 10_000.0 {
        format!("{:.1} s", v / 1e3)
    } else {
        format!("{v:.0} ms")
    }
}

/// A duration for prose: seconds below 10 minutes, minutes above.
fn prose_s(v: f64) -> String {
    if v >= 600.0 {
        format!("{:.0} min", v / 60.0)
    } else if v >= 10.0 {
        format!("{v:.0} s")
    } else {
        format!("{v:.1} s")
    }
}

/// " FRAGILE: …" when an answer is fragile (see `capacity::Step::fragility`), else empty.
fn fragile_text(p: &crate::capacity::Step) -> String {
    use crate::capacity::{FRAGILE_UTILIZATION, Fragile, MIN_RELAXATION_TIMES};
    let reasons: Vec<String> = p
        .fragility()
        .iter()
        .map(|f| match f {
            Fragile::Busy {
                station,
                utilization,
            } => format!(
                "{station} is {:.0}% busy (over {:.0}%: a little more load moves it onto the \
                 steep part of the latency curve)",
                utilization * 100.0,
                FRAGILE_UTILIZATION * 100.0
            ),
            Fragile::ShortRun {
                window_s,
                relaxation_s,
            } => format!(
                "the {} window spans only {:.0} relaxation times ({:.0} wanted)",
                prose_s(*window_s),
                window_s / relaxation_s,
                MIN_RELAXATION_TIMES
            ),
        })
        .collect();
    if reasons.is_empty() {
        String::new()
    } else {
        format!(
            " FRAGILE: {}; keep headroom (--headroom 0.8) or run longer.",
            reasons.join(", and ")
        )
    }
}

/// The answer of a capacity search as a paragraph a planner can paste into a report.
pub fn capacity_text(scenario: &str, c: &crate::capacity::CapacityOutcome) -> String {
    use crate::capacity::{Knob, Verdict};
    let mut o = String::new();
    let slos: Vec<&str> = c.spec.slos.iter().map(|s| s.text.as_str()).collect();
    let what = match &c.spec.knob {
        Knob::LoadScale => {
            "the largest load (as a multiple of the scenario's arrival rates)".to_string()
        }
        Knob::Servers(h) => format!("the fewest `{h}` servers"),
    };
    let reps = match c.spec.replicate {
        None => format!("{} replications per point", c.replications),
        Some(p) => format!(
            "replications per point added until every SLO figure's 95% half-width is within {} of it, from {} up to {}",
            pct(p.share),
            c.replications,
            p.max_replications
        ),
    };
    let _ = writeln!(
        o,
        "Capacity of {scenario}: {what} that meets {} ({reps}, seed {}).",
        slos.join(" and "),
        c.seed
    );
    for a in &c.answers {
        let pass = a.last_pass.map(|i| &a.steps[i]);
        let fail = a.first_fail.map(|i| &a.steps[i]);
        let fail_text = |s: &crate::capacity::Step| match &s.verdict {
            Verdict::Unstable {
                station,
                utilization,
            } => format!(
                "{station} is offered {:.0}% of its capacity",
                utilization * 100.0
            ),
            Verdict::Fail { slo, sure } => {
                let sl = &c.spec.slos[*slo];
                let m = s.figures[*slo].expect("a failed SLO was measured");
                let ci = m
                    .ci95
                    .map(|(l, h)| format!(" (95% CI {}–{})", prose_ms(l), prose_ms(h)))
                    .unwrap_or_default();
                format!(
                    "{}.{} is {}{ci}, {} its {} limit",
                    sl.flow,
                    sl.metric.name(),
                    prose_ms(m.mean),
                    if *sure { "over" } else { "possibly over" },
                    prose_ms(sl.limit_ms)
                )
            }
            Verdict::Headroom {
                station,
                utilization,
                sure,
            } => format!(
                "{station} is {:.1}% busy{}, {} the {:.0}% headroom limit",
                utilization * 100.0,
                match (&s.bottleneck, s.bottleneck_ci95) {
                    (Some((b, _)), Some((l, h))) if b == station =>
                        format!(" (95% CI {:.1}–{:.1}%)", l * 100.0, h * 100.0),
                    _ => String::new(),
                },
                if *sure { "over" } else { "possibly over" },
                c.spec.headroom.unwrap_or(f64::NAN) * 100.0
            ),
            Verdict::Pass => unreachable!("a failing step"),
        };
        let at = |s: &crate::capacity::Step| match s.servers {
            Some(n) => format!("{n} servers"),
            None => format!("{:.3} ×", s.load_scale),
        };
        let line = match (pass, &c.spec.knob) {
            (None, _) => format!(
                "- {}: no configuration tried meets them{}{}.",
                a.variant,
                fail.map(|f| format!("; at {} {}", at(f), fail_text(f)))
                    .unwrap_or_default(),
                a.cannot_help
                    .as_deref()
                    .map(|why| format!("; more servers cannot help: {why}"))
                    .unwrap_or_default()
            ),
            (Some(p), knob) => {
                let head = match knob {
                    Knob::LoadScale => format!(
                        "- {}: up to {:.3} × the scenario's load",
                        a.variant, p.load_scale
                    ),
                    Knob::Servers(h) => format!(
                        "- {}: {} `{h}` servers at {:.3} × the scenario's load",
                        a.variant,
                        p.servers.expect("servers search"),
                        p.load_scale
                    ),
                };
                let next = fail
                    .map(|f| format!("; at {} {}", at(f), fail_text(f)))
                    .unwrap_or_default();
                let tight = crate::report::csv::tightest(c, p)
                    .map(|(i, m)| {
                        let sl = &c.spec.slos[i];
                        let ci = m
                            .ci95
                            .map(|(l, h)| format!(" (95% CI {}–{})", prose_ms(l), prose_ms(h)))
                            .unwrap_or_default();
                        format!(
                            " At the answer the tightest is {}.{}: {}{ci} against {}",
                            sl.flow,
                            sl.metric.name(),
                            prose_ms(m.mean),
                            prose_ms(sl.limit_ms)
                        )
                    })
                    .unwrap_or_default();
                let bottleneck = p
                    .bottleneck
                    .as_ref()
                    .map(|(n, u)| {
                        let ci = p
                            .bottleneck_ci95
                            .map(|(l, h)| format!(" (95% CI {:.1}–{:.1}%)", l * 100.0, h * 100.0))
                            .unwrap_or_default();
                        let relax = match (p.relaxation_s, p.window_s) {
                            (Some(r), Some(w)) => {
                                let ci = p
                                    .relaxation_ci95()
                                    .map(|(l, h)| {
                                        let hi = if h.is_finite() {
                                            prose_s(h)
                                        } else {
                                            "unbounded".into()
                                        };
                                        format!(" (95% CI {}–{hi})", prose_s(l))
                                    })
                                    .unwrap_or_default();
                                format!(
                                    ", relaxation time ≈ {}{ci} against a {} statistics window ({:.0} ×)",
                                    prose_s(r),
                                    prose_s(w),
                                    w / r
                                )
                            }
                            _ => String::new(),
                        };
                        format!(
                            "; busiest hop {n} at {:.1}% utilization{ci}{relax}",
                            u * 100.0
                        )
                    })
                    .unwrap_or_default();
                let fragile = fragile_text(p);
                let precision = match (c.spec.replicate, p.precision_met) {
                    (Some(_), Some(true)) => {
                        format!(" The answer rests on {} replications.", p.replications)
                    }
                    (Some(r), Some(false)) => format!(
                        " PRECISION NOT REACHED: at the answer an SLO figure's 95% half-width is still wider than {} after --max-replications {}.",
                        pct(r.share),
                        r.max_replications
                    ),
                    _ => String::new(),
                };
                format!("{head}{next}.{tight}{bottleneck}.{fragile}{precision}")
            }
        };
        let _ = writeln!(o, "{line}");
    }
    let k = c.spec.slos.len();
    let _ = writeln!(
        o,
        "A configuration passes only if the upper end of each figure's 95% confidence interval \
         is within its limit: each SLO then holds with at least 97.5% confidence{}.{}",
        if k > 1 {
            format!(
                ", all {k} together with at least {:.1}%",
                c.confidence() * 100.0
            )
        } else {
            String::new()
        },
        match &c.spec.knob {
            Knob::LoadScale => format!(
                " Load scales are resolved to within {}% of the answer.",
                c.spec.bracket * 100.0
            ),
            Knob::Servers(_) => String::new(),
        }
    );
    if let Some(h) = c.spec.headroom {
        let _ = writeln!(
            o,
            "With --headroom {h}, a configuration also fails when its busiest station is not \
             shown to stay within {:.0}% utilization (the upper end of its 95% interval).",
            h * 100.0
        );
    }
    o
}

/// A figure and its ± half-width for the terminal, in the figure's unit.
fn figure_pm(figure: crate::stats::summary::FlowFigure, m: MeanCi) -> String {
    let unit = if figure.name().ends_with("_ms") {
        " ms"
    } else {
        " rcpt/s"
    };
    let half = m.ci95.map(|(lo, hi)| (hi - lo) / 2.0);
    match half {
        Some(h) => format!(
            "{}{unit} ± {} ({:.1}%)",
            sig4(m.mean),
            sig4(h),
            crate::runner::precision::relative_half_width(m) * 100.0
        ),
        None => format!("{}{unit} (no interval)", sig4(m.mean)),
    }
}

/// Four significant digits, for figures of any size.
fn sig4(x: f64) -> String {
    if !x.is_finite() {
        return "-".into();
    }
    let digits = if x == 0.0 {
        0
    } else {
        (3 - x.abs().log10().floor() as i32).max(0) as usize
    };
    format!("{x:.digits$}")
}

/// A share as a percentage: `2%`, `0.5%`.
pub fn pct(share: f64) -> String {
    format!(
        "{}%",
        crate::report::num::sig6(share * 100.0).unwrap_or_default()
    )
}

/// What `--precision` decided for one scenario: the replications chosen and, when the
/// maximum was reached first, every figure still wider than asked. Empty without
/// `--precision`. `label` names the sweep point (empty for a run).
fn precision_lines(out: &mut String, label: &str, p: &crate::runner::precision::PrecisionRecord) {
    let rounds: Vec<String> = p.rounds.iter().map(u32::to_string).collect();
    let at = if label.is_empty() {
        String::new()
    } else {
        format!(" at {label}")
    };
    if p.met() {
        let _ = writeln!(
            out,
            "precision{at}: every figure's 95% half-width is within {} of it with {} replications, the fewest that reach it (simulated in rounds to {}).",
            pct(p.share),
            p.replications,
            rounds.join(", ")
        );
    } else {
        let short: Vec<_> = p.short().collect();
        let _ = writeln!(
            out,
            "precision{at}: NOT reached: {} of {} figures are still wider than {} at --max-replications {}:",
            short.len(),
            p.checks.len(),
            pct(p.share),
            p.max_replications
        );
        for c in short {
            let _ = writeln!(
                out,
                "  {} {} {}: {}",
                c.variant,
                c.flow,
                c.figure.name(),
                figure_pm(c.figure, c.value)
            );
        }
    }
}

/// The `--precision` lines after a run's table (empty without `--precision`).
pub fn precision_text(study: &StudyOutcome) -> String {
    let mut out = String::new();
    if let Some(p) = &study.precision {
        precision_lines(&mut out, "", p);
    }
    out
}

/// The `--precision` lines after a sweep's table: one per point that fell short, and a
/// summary of the replications the points chose (empty without `--precision`).
pub fn sweep_precision_text(sweep: &crate::sweep::SweepOutcome) -> String {
    let mut out = String::new();
    let recs: Vec<(String, &crate::runner::precision::PrecisionRecord)> = sweep
        .points
        .iter()
        .filter_map(|p| {
            let label = sweep
                .axes
                .iter()
                .zip(&p.overrides)
                .map(|(a, o)| format!("{a}={}", crate::scenario::overrides::value_text(&o.value)))
                .collect::<Vec<_>>()
                .join(" ");
            p.outcome.precision.as_ref().map(|r| (label, r))
        })
        .collect();
    let Some(first) = recs.first().map(|r| r.1) else {
        return out;
    };
    let met = recs.iter().filter(|r| r.1.met()).count();
    let lo = recs.iter().map(|r| r.1.replications).min().unwrap_or(0);
    let hi = recs.iter().map(|r| r.1.replications).max().unwrap_or(0);
    let _ = writeln!(
        out,
        "precision {}: {met} of {} points reached it; {lo} to {hi} replications per point (precision.csv has every figure).",
        pct(first.share),
        recs.len()
    );
    for (label, r) in recs.iter().filter(|r| !r.1.met()) {
        precision_lines(&mut out, label, r);
    }
    out
}
