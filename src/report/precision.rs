//! `precision.csv`, written by `run` and `sweep` with `--precision`: every watched figure at
//! the replications chosen, its 95% interval, its half-width as a share of the value, and
//! whether it met the target (see [`crate::runner::precision`]). A sweep's rows start with
//! the swept values, as in `sweep.csv`. The manifest's `precision` record is here too.

use std::path::Path;

use super::ReportError;
use super::num::{Num, sig6};
use crate::runner::precision::{PrecisionRecord, relative_half_width};

fn num(name: &str, x: f64) -> String {
    let text = match Num::of(name, x) {
        Num::Ms(v) => super::num::ms(v),
        Num::Secs(v) => super::num::secs(v),
        Num::Sig(v) => sig6(v),
    };
    text.unwrap_or_default()
}

const HEAD: [&str; 10] = [
    "variant",
    "flow",
    "figure",
    "value",
    "value_ci95_lo",
    "value_ci95_hi",
    "half_width_pct",
    "target_pct",
    "met",
    "replications",
];

fn push_rows(
    w: &mut ::csv::Writer<Vec<u8>>,
    prefix: &[String],
    p: &PrecisionRecord,
) -> Result<(), ::csv::Error> {
    for c in &p.checks {
        let name = c.figure.name();
        let mut r: Vec<String> = prefix.to_vec();
        r.extend([
            c.variant.clone(),
            c.flow.clone(),
            name.to_string(),
            num(name, c.value.mean),
            c.value.ci95.map(|x| num(name, x.0)).unwrap_or_default(),
            c.value.ci95.map(|x| num(name, x.1)).unwrap_or_default(),
            sig6(relative_half_width(c.value) * 100.0).unwrap_or_default(),
            sig6(p.share * 100.0).unwrap_or_default(),
            c.met.to_string(),
            p.replications.to_string(),
        ]);
        w.write_record(&r)?;
    }
    Ok(())
}

/// The bytes of `precision.csv`: `points` holds each scenario's leading cells (the swept
/// values; empty for a run) and its record; `axes` names the leading columns.
pub fn bytes(
    axes: &[String],
    points: &[(Vec<String>, &PrecisionRecord)],
    file: &Path,
) -> Result<Vec<u8>, ReportError> {
    let err = |source| ReportError::Csv {
        file: file.to_path_buf(),
        source,
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut head: Vec<String> = axes.to_vec();
    head.extend(HEAD.iter().map(|h| h.to_string()));
    w.write_record(&head).map_err(err)?;
    for (prefix, p) in points {
        push_rows(&mut w, prefix, p).map_err(err)?;
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
}

/// The manifest's record of a precision-driven scenario.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ManifestPrecision {
    pub target_pct: f64,
    pub max_replications: u32,
    /// Replications simulated by the end of each round.
    pub rounds: Vec<u32>,
    /// The replications chosen: the fewest from the first round's that meet the target, or
    /// the maximum.
    pub replications: u32,
    pub met: bool,
    /// `variant/flow/figure` of every figure still wider than the target.
    pub short: Vec<String>,
}

impl ManifestPrecision {
    pub fn of(p: &PrecisionRecord) -> ManifestPrecision {
        ManifestPrecision {
            target_pct: p.share * 100.0,
            max_replications: p.max_replications,
            rounds: p.rounds.clone(),
            replications: p.replications,
            met: p.met(),
            short: p
                .short()
                .map(|c| format!("{}/{}/{}", c.variant, c.flow, c.figure.name()))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::precision::FigureCheck;
    use crate::stats::mean_ci;
    use crate::stats::summary::FlowFigure;

    #[test]
    fn rows_follow_the_number_rule_and_name_what_fell_short() {
        let p = PrecisionRecord {
            share: 0.02,
            max_replications: 10,
            rounds: vec![5, 10],
            replications: 10,
            settled: false,
            checks: vec![
                FigureCheck {
                    variant: "a".into(),
                    flow: "f".into(),
                    figure: FlowFigure::P99Ms,
                    value: mean_ci(&[100.0, 101.0, 99.0]),
                    met: true,
                },
                FigureCheck {
                    variant: "a".into(),
                    flow: "f".into(),
                    figure: FlowFigure::ThroughputPerS,
                    value: mean_ci(&[1.0, 2.0]),
                    met: false,
                },
            ],
        };
        let b = bytes(&["x".into()], &[(vec!["3".into()], &p)], Path::new("p.csv")).unwrap();
        let text = String::from_utf8(b).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "x,variant,flow,figure,value,value_ci95_lo,value_ci95_hi,half_width_pct,target_pct,met,replications"
        );
        assert!(lines[1].starts_with("3,a,f,p99_ms,100,"), "{}", lines[1]);
        assert!(lines[1].ends_with(",2,true,10"), "{}", lines[1]);
        assert!(lines[2].contains(",throughput_per_s,1.5,"), "{}", lines[2]);
        assert!(lines[2].ends_with(",false,10"), "{}", lines[2]);
        let m = ManifestPrecision::of(&p);
        assert!(!m.met);
        assert_eq!(m.short, ["a/f/throughput_per_s"]);
    }
}
