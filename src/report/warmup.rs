//! The warm-up warnings printed after a run and `warmup.csv`: per variant and flow, whether
//! the configured warm-up removed the initial transient by MSER-5 (see
//! [`crate::stats::warmup`]), and the warm-up it would have chosen.

use std::fmt::Write;

use serde::Serialize;

use super::num::Secs;
use crate::runner::StudyOutcome;
use crate::stats::mean_ci;

/// One row of `warmup.csv`.
#[derive(Serialize)]
pub struct WarmupRow<'a> {
    pub variant: &'a str,
    pub flow: &'a str,
    pub configured_warmup_s: Secs,
    /// Mean over replications of the warm-up MSER-5 chose, with its interval, and the latest.
    pub mser_warmup_s: Secs,
    pub mser_warmup_s_ci95_lo: Option<Secs>,
    pub mser_warmup_s_ci95_hi: Option<Secs>,
    pub mser_warmup_s_max: Secs,
    /// MSER-5 on the replications pooled stretch by stretch: the choice the verdict uses.
    pub mser_pooled_warmup_s: Secs,
    pub replications: usize,
    /// Replications whose MSER choice is later than the configured warm-up.
    pub flagged: u32,
    /// Replications where MSER cut half the series (the run is too short to tell).
    pub at_limit: u32,
    /// `ok`, or `warm-up too short` when the pooled choice is later than the configured one.
    pub verdict: &'static str,
}

pub fn rows(study: &StudyOutcome) -> Vec<WarmupRow<'_>> {
    let mut rows = Vec::new();
    for v in &study.variants {
        for w in &v.warmup {
            if w.chosen.is_empty() {
                continue;
            }
            let secs: Vec<f64> = w.chosen.iter().map(|c| c.as_secs_f64()).collect();
            let m = mean_ci(&secs);
            rows.push(WarmupRow {
                variant: &v.name,
                flow: &w.flow,
                configured_warmup_s: Secs(w.configured.as_secs_f64()),
                mser_warmup_s: Secs(m.mean),
                mser_warmup_s_ci95_lo: m.ci95.map(|c| Secs(c.0)),
                mser_warmup_s_ci95_hi: m.ci95.map(|c| Secs(c.1)),
                mser_warmup_s_max: Secs(w.chosen_max().as_secs_f64()),
                mser_pooled_warmup_s: Secs(w.pooled.as_secs_f64()),
                replications: w.chosen.len(),
                flagged: w.flagged,
                at_limit: w.at_limit,
                verdict: if w.warn() { "warm-up too short" } else { "ok" },
            });
        }
    }
    rows
}

/// One warning line per variant and flow whose warm-up did not remove the transient; empty
/// when every warm-up passed.
pub fn warnings(study: &StudyOutcome) -> String {
    let mut out = String::new();
    for v in &study.variants {
        for w in v.warmup.iter().filter(|w| w.warn()) {
            let _ = writeln!(
                out,
                "warning: {} {}: the {:.0} s warm-up did not remove the start-up transient in \
                 the pooled replications ({} of {} one by one); MSER-5 would have chosen {:.0} s \
                 (set run.warmup_s){}",
                v.name,
                w.flow,
                w.configured.as_secs_f64(),
                w.flagged,
                w.chosen.len(),
                w.pooled.as_secs_f64(),
                if w.pooled_at_limit {
                    "; the run is too short to tell where it ends: run longer"
                } else {
                    ""
                }
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{self, RunOptions};
    use crate::scenario::{LoadOptions, from_text};

    fn mm1(warmup_s: f64, window_s: f64) -> crate::scenario::Scenario {
        let text = format!(
            "[run]\nduration_s = {}\nwarmup_s = {warmup_s}\nseed = 11\nreplications = 5\n\
             [sources.a]\nrate_per_s = 9.5\nroute = \"r\"\n\
             [hops.q]\nservers = 1\nservice_ms = {{ dist = \"exponential\", rate_per_s = 10 }}\n\
             [routes.r]\nsteps = [\"q\"]\ndeliver = \"f\"\n",
            warmup_s + window_s
        );
        from_text(&text, "mm1.toml", "mm1", LoadOptions::default()).unwrap()
    }

    /// An M/M/1 queue at ρ = 0.95 (mean sojourn 2 s, relaxation time 1 / (μ (1 − √ρ)²)
    /// ≈ 156 s) started empty: with no warm-up the pooled MSER-5 choice is later than 0 and
    /// the flow is flagged; with a 2000 s warm-up (13 relaxation times) the transient is long
    /// gone and MSER's choice falls inside the warm-up, so nothing is flagged. Fixed seed; the
    /// pooled choice with no warm-up is tens of seconds, far from both 0 and 2000 s.
    #[test]
    fn empty_start_near_saturation_is_flagged_and_a_long_warmup_is_not() {
        let s = runner::run(&mm1(0.0, 2000.0), RunOptions::default(), &|| {}).unwrap();
        let w = &s.variants[0].warmup[0];
        assert!(w.warn(), "pooled choice {:?}", w.pooled);
        let text = warnings(&s);
        assert!(text.contains("mm1 f: the 0 s warm-up"), "{text}");
        assert_eq!(rows(&s)[0].verdict, "warm-up too short");

        let s = runner::run(&mm1(2000.0, 2000.0), RunOptions::default(), &|| {}).unwrap();
        let w = &s.variants[0].warmup[0];
        assert!(!w.warn(), "pooled choice {:?}", w.pooled);
        assert!(warnings(&s).is_empty());
        assert_eq!(rows(&s)[0].verdict, "ok");
    }

    /// `warmup_s = "auto"`: the pilot's pooled MSER-5 choice becomes the warm-up (later than
    /// 0 for the empty start above), and the run with it is not flagged.
    #[test]
    fn auto_warmup_takes_the_pilots_choice() {
        let text = "[run]\nduration_s = 2000\nwarmup_s = \"auto\"\nseed = 11\nreplications = 5\n\
             [sources.a]\nrate_per_s = 9.5\nroute = \"r\"\n\
             [hops.q]\nservers = 1\nservice_ms = { dist = \"exponential\", rate_per_s = 10 }\n\
             [routes.r]\nsteps = [\"q\"]\ndeliver = \"f\"\n";
        let scn = from_text(text, "auto.toml", "auto", LoadOptions::default()).unwrap();
        assert!(scn.run.warmup_auto);
        let s = runner::run(&scn, RunOptions::default(), &|| {}).unwrap();
        let pilot = runner::run(&mm1(0.0, 2000.0), RunOptions::default(), &|| {}).unwrap();
        let expected = pilot.variants[0].warmup[0].pooled.as_secs_f64().ceil();
        assert!(expected > 0.0);
        assert_eq!(s.warmup.as_secs_f64(), expected);
        assert!(warnings(&s).is_empty(), "{}", warnings(&s));
    }
}
