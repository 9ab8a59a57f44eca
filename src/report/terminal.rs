//! The side-by-side table printed after a run: for each variant, its bottleneck and one row per
//! flow with p50 / p90 / p99 / p99.9 / max latency and throughput. Rounded for reading; the
//! CSVs hold the full figures.

use std::fmt::Write;

use crate::runner::StudyOutcome;
use crate::stats::MeanCi;

fn ms(m: MeanCi) -> String {
    if !m.mean.is_finite() {
        return "-".into();
    }
    if m.mean >= 100_000.0 {
        format!("{:.0}", m.mean)
    } else if m.mean >= 100.0 {
        format!("{:.1}", m.mean)
    } else {
        format!("{:.2}", m.mean)
    }
}

pub fn table(study: &StudyOutcome) -> String {
    let mut out = String::new();
    let flow_w = study
        .variants
        .iter()
        .flat_map(|v| v.flows.iter().map(|(f, _)| f.len()))
        .max()
        .unwrap_or(4)
        .max(4);
    for v in &study.variants {
        let bottleneck = match v.bottleneck() {
            Some((name, u)) => format!("bottleneck {name} at {:.1}% utilization", u * 100.0),
            None => "no finite-capacity hop".into(),
        };
        let _ = writeln!(out, "{}  ({bottleneck})", v.name);
        let _ = writeln!(
            out,
            "  {:<flow_w$} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "flow", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "per s"
        );
        for (flow, f) in &v.flows {
            let rate = if f.throughput_per_s.mean.is_finite() {
                format!("{:.2}", f.throughput_per_s.mean)
            } else {
                "-".into()
            };
            let _ = writeln!(
                out,
                "  {:<flow_w$} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                flow,
                ms(f.p50_ms),
                ms(f.p90_ms),
                ms(f.p99_ms),
                ms(f.p999_ms),
                ms(f.max_ms),
                rate
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
/// and that p99, the bottleneck and its utilization (or why the variant was not simulated).
pub fn sweep_table(sweep: &crate::sweep::SweepOutcome) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}  variant  worst p99 (flow)  bottleneck",
        sweep.axes.join("  ")
    );
    for p in &sweep.points {
        let values: Vec<String> = p
            .overrides
            .iter()
            .map(|o| crate::scenario::overrides::value_text(&o.value))
            .collect();
        for pv in &p.variants {
            let what = match (&pv.unstable, pv.outcome) {
                (Some(u), _) => format!(
                    "not simulated: {} offered {:.0}% of capacity",
                    u.station,
                    u.utilization * 100.0
                ),
                (None, Some(i)) => {
                    let v = &p.outcome.variants[i];
                    let worst = v
                        .flows
                        .iter()
                        .filter(|(_, f)| f.p99_ms.mean.is_finite())
                        .max_by(|a, b| a.1.p99_ms.mean.total_cmp(&b.1.p99_ms.mean));
                    let worst = match worst {
                        Some((flow, f)) => format!("{} ms ({flow})", ms(f.p99_ms)),
                        None => "no deliveries".into(),
                    };
                    let bottleneck = match v.bottleneck() {
                        Some((name, u)) => format!("{name} {:.1}%", u * 100.0),
                        None => "-".into(),
                    };
                    format!("{worst}  {bottleneck}")
                }
                (None, None) => unreachable!("a stable variant is simulated"),
            };
            let _ = writeln!(out, "{}  {}  {what}", values.join("  "), pv.name);
        }
    }
    out
}
