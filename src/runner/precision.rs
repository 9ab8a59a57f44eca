//! Replications until precise (`--precision`, `--max-replications`): replications are added in
//! rounds until every watched figure's 95% half-width is within a share of its value.
//!
//! The rule. For a scenario whose first round has n₀ replications, the answer is the smallest
//! n in n₀ ..= max at which every watched figure, summarized over replications 0 … n − 1, has
//! a 95% Student-t half-width at most `share × |value|`; if there is none, n = max and the
//! figures still too wide are reported as falling short. This is the sequential procedure of
//! Law & Kelton (*Simulation Modeling and Analysis*, 3rd ed., §9.4.1, "obtaining a specified
//! relative precision"), applied to every watched figure at once.
//!
//! Why the answer does not depend on rounds, threads or machine: replication r draws from the
//! stream of (master seed, r) whichever round it runs in ([`crate::engine::RngStreams`]), and
//! after each round every n up to the replications simulated is checked in order, so rounds
//! only decide how much is simulated ahead, never which n is chosen. The outcome at n is
//! assembled from replications 0 … n − 1 exactly as a fixed run of `replications = n` is, so
//! its files are the same byte for byte. (With `warmup_s = "auto"` the warm-up pilot runs the
//! first round's replications.)
//!
//! Round sizes (time only): the next round aims at the replications the current half-widths
//! project (half-width ∝ 1/√n: n × (half-width ÷ target)², the worst figure), at least one
//! more and at most twice as many, never past the maximum.
//!
//! Each scenario of a batch (a sweep point, a capacity candidate) stops on its own; the
//! variants of one scenario share n, so they stay paired replication by replication.
//!
//! A caller may also say when a scenario's answer is *settled* before it is precise
//! ([`run_many_precise_until`]): a capacity candidate whose SLO figure is surely over its
//! limit fails whatever more replications show. The rule is then the smallest n at which
//! every variant is precise or settled; it still depends on replications 0 … n − 1 only, so
//! the files are still those of a fixed run of n.

use std::time::Instant;

use super::{Plan, RunError, RunOptions, StudyOutcome, Unit, assemble, resolve_warmup};
use crate::model::sim::RunResult;
use crate::scenario::{Scenario, VariantModel};
use crate::stats::summary::FlowFigure;
use crate::stats::{MeanCi, mean_ci};

/// `--max-replications` when not given.
pub const DEFAULT_MAX_REPLICATIONS: u32 = 100;

/// The precision a study asks for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Precision {
    /// Largest accepted 95% half-width as a share of the figure (0.02 for `--precision 2%`).
    pub share: f64,
    /// Stop here even if some figure is still too wide.
    pub max_replications: u32,
}

impl Precision {
    /// The first round's replications of `scn` (the configured count, at least 2: an interval
    /// needs two), or an error when the maximum is below it.
    pub fn first_round(&self, scn: &Scenario, opts: RunOptions) -> Result<u32, RunError> {
        let first = opts.replications.unwrap_or(scn.run.replications).max(2);
        if self.max_replications < first {
            return Err(RunError::MaxReplications {
                max: self.max_replications,
                first,
            });
        }
        Ok(first)
    }
}

/// Parses `--precision`: a percentage (`2%`) or a share (`0.02`), greater than 0 and below
/// 100%.
pub fn parse_share(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let (num, scale) = match t.strip_suffix('%') {
        Some(n) => (n.trim(), 0.01),
        None => (t, 1.0),
    };
    let bad = || {
        format!(
            "`{text}` is not a precision; write a percentage greater than 0 and below 100% (e.g. `2%`) or a share below 1 (e.g. `0.02`)"
        )
    };
    let x: f64 = num.parse().map_err(|_| bad())?;
    let share = x * scale;
    if !(share.is_finite() && share > 0.0 && share < 1.0) {
        return Err(bad());
    }
    Ok(share)
}

/// Whether figure `m` is precise enough: its 95% half-width is at most `share × |mean|`. A
/// figure with no value in any replication (a flow with no deliveries) has nothing to make
/// precise and passes; a figure with a value but no interval (one finite replication) does
/// not.
pub fn precise(m: MeanCi, share: f64) -> bool {
    if m.mean.is_nan() {
        return true;
    }
    match m.ci95 {
        Some((lo, hi)) => (hi - lo) / 2.0 <= share * m.mean.abs(),
        None => false,
    }
}

/// The 95% half-width of `m` as a share of its value (NaN without an interval or value).
pub fn relative_half_width(m: MeanCi) -> f64 {
    match m.ci95 {
        Some((lo, hi)) if m.mean != 0.0 => (hi - lo) / 2.0 / m.mean.abs(),
        Some(_) => 0.0,
        None => f64::NAN,
    }
}

/// The figures the rule watches in one variant: (flow index in the network, figure).
pub type Watched = Vec<(usize, FlowFigure)>;

/// Every figure `summary.csv` and the terminal table report for a flow (latency mean, p50,
/// p90, p99, p99.9, max, throughput), for every flow: what `run` and `sweep` watch.
pub fn every_flow_figure(v: &VariantModel) -> Watched {
    (0..v.network.flows.len())
        .flat_map(|f| FlowFigure::ALL.map(|fig| (f, fig)))
        .collect()
}

/// One watched figure at the chosen replications.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureCheck {
    pub variant: String,
    pub flow: String,
    pub figure: FlowFigure,
    pub value: MeanCi,
    pub met: bool,
}

/// How a precision-driven scenario ended.
#[derive(Clone, Debug, PartialEq)]
pub struct PrecisionRecord {
    pub share: f64,
    pub max_replications: u32,
    /// Replications simulated by the end of each round (the last may exceed `replications`:
    /// a round simulates ahead; the replications past the answer are not used).
    pub rounds: Vec<u32>,
    /// The replications chosen (the outcome's).
    pub replications: u32,
    /// Every watched figure at `replications`, in variant, flow, figure order.
    pub checks: Vec<FigureCheck>,
    /// Stopped at `replications` because the answer was settled before every figure was
    /// precise ([`run_many_precise_until`]).
    pub settled: bool,
}

impl PrecisionRecord {
    /// Every watched figure met the precision.
    pub fn met(&self) -> bool {
        self.checks.iter().all(|c| c.met)
    }

    /// The figures still too wide at the maximum.
    pub fn short(&self) -> impl Iterator<Item = &FigureCheck> {
        self.checks.iter().filter(|c| !c.met)
    }
}

/// One scenario's rounds in progress.
struct Track {
    first: u32,
    /// Per variant, the results of replications 0 … simulated − 1, in order.
    results: Vec<Vec<RunResult>>,
    /// Per variant, per watched figure, its value in each replication so far.
    values: Vec<Vec<Vec<f64>>>,
    watched: Vec<Watched>,
    rounds: Vec<u32>,
    /// The next n to check.
    next_check: u32,
    chosen: Option<u32>,
    settled: bool,
}

impl Track {
    fn simulated(&self) -> u32 {
        self.rounds.last().copied().unwrap_or(0)
    }

    /// Whether every variant over replications 0 … n − 1 is precise or, by `settles`,
    /// settled (None if not); and whether any was settled without being precise.
    fn precise_or_settled(
        &self,
        n: u32,
        share: f64,
        settles: &dyn Fn(usize, &[MeanCi]) -> bool,
    ) -> Option<bool> {
        let mut settled = false;
        for (v, per_fig) in self.values.iter().enumerate() {
            let figures: Vec<MeanCi> = per_fig
                .iter()
                .map(|vals| mean_ci(&vals[..n as usize]))
                .collect();
            if figures.iter().all(|&m| precise(m, share)) {
                continue;
            }
            if !settles(v, &figures) {
                return None;
            }
            settled = true;
        }
        Some(settled)
    }

    /// The replications the current half-widths project for the worst figure.
    fn projected(&self, share: f64) -> f64 {
        let n = f64::from(self.simulated());
        self.values
            .iter()
            .flatten()
            .map(|vals| {
                let m = mean_ci(vals);
                if precise(m, share) {
                    return n;
                }
                let r = relative_half_width(m);
                if r.is_finite() {
                    n * (r / share).powi(2)
                } else {
                    2.0 * n
                }
            })
            .fold(n, f64::max)
    }
}

/// Runs several scenarios (as [`super::run_many`] does) with replications added in rounds
/// until every figure `watch(scenario index, variant)` names is precise (see the module
/// docs). `planned(n)` announces the n runs of each round before it starts and `done()`
/// reports each one finished, so a progress bar's total only grows. Each outcome carries its
/// [`PrecisionRecord`].
pub fn run_many_precise(
    scns: &[&Scenario],
    opts: RunOptions,
    precision: Precision,
    watch: &dyn Fn(usize, &VariantModel) -> Watched,
    planned: &(dyn Fn(u64) + Sync),
    done: &(dyn Fn() + Sync),
) -> Result<Vec<StudyOutcome>, RunError> {
    run_many_precise_until(
        scns,
        opts,
        precision,
        watch,
        &|_, _, _| false,
        planned,
        done,
    )
}

/// [`run_many_precise`], where scenario `i` also stops at the smallest n at which each of its
/// variants is precise or `settled(i, variant, its watched figures over replications
/// 0 … n − 1)` (in `watch`'s order) says its answer is decided.
pub fn run_many_precise_until(
    scns: &[&Scenario],
    opts: RunOptions,
    precision: Precision,
    watch: &dyn Fn(usize, &VariantModel) -> Watched,
    settled: &dyn Fn(usize, usize, &[MeanCi]) -> bool,
    planned: &(dyn Fn(u64) + Sync),
    done: &(dyn Fn() + Sync),
) -> Result<Vec<StudyOutcome>, RunError> {
    let start = Instant::now();
    let share = precision.share;
    let max = precision.max_replications;
    let firsts = scns
        .iter()
        .map(|s| precision.first_round(s, opts))
        .collect::<Result<Vec<_>, _>>()?;
    // The warm-up pilot (warmup_s = "auto") runs the first round's replications.
    let pilot_opts = |i: usize| RunOptions {
        replications: Some(firsts[i]),
        ..opts
    };
    let mut resolved = Vec::with_capacity(scns.len());
    for (i, s) in scns.iter().enumerate() {
        resolved.push(resolve_warmup(&[*s], pilot_opts(i))?.pop().flatten());
    }
    let scns: Vec<&Scenario> = scns
        .iter()
        .zip(&resolved)
        .map(|(s, r)| r.as_ref().unwrap_or(s))
        .collect();
    let seeds: Vec<u64> = scns
        .iter()
        .map(|s| opts.seed.unwrap_or(s.run.seed))
        .collect();
    let mut tracks: Vec<Track> = scns
        .iter()
        .zip(&firsts)
        .enumerate()
        .map(|(i, (s, &first))| {
            let watched: Vec<Watched> = s.variants.iter().map(|v| watch(i, v)).collect();
            Track {
                first,
                results: s.variants.iter().map(|_| Vec::new()).collect(),
                values: watched.iter().map(|w| vec![Vec::new(); w.len()]).collect(),
                watched,
                rounds: Vec::new(),
                next_check: first,
                chosen: None,
                settled: false,
            }
        })
        .collect();
    let mut threads = 0;
    loop {
        // This round's units: for every unfinished scenario, each variant's replications from
        // what it has to its target.
        let mut runs = Vec::with_capacity(scns.len());
        let mut units = Vec::new();
        for (i, t) in tracks.iter().enumerate() {
            let have = t.simulated();
            let target = if t.chosen.is_some() {
                have
            } else if have == 0 {
                t.first
            } else {
                let aim = t.projected(share).ceil().min(f64::from(u32::MAX)) as u32;
                aim.clamp(have + 1, have.saturating_mul(2).max(have + 1))
                    .min(max)
            };
            runs.push((seeds[i], target));
            for variant in 0..scns[i].variants.len() {
                for replication in have..target {
                    units.push((
                        i,
                        Unit {
                            variant,
                            replication,
                        },
                    ));
                }
            }
        }
        if units.is_empty() {
            break;
        }
        let plan = Plan { runs, units };
        planned(plan.units.len() as u64);
        let which: Vec<usize> = (0..plan.units.len()).collect();
        let (results, used) = super::simulate_units(&scns, &plan, &which, opts, done)?;
        threads = used;
        for ((i, u), r) in plan.units.iter().zip(results) {
            let t = &mut tracks[*i];
            let v = u.variant;
            for (k, &(flow, fig)) in t.watched[v].iter().enumerate() {
                t.values[v][k].push(fig.of_replication(&r.flows[flow], r.window));
            }
            t.results[v].push(r);
        }
        for (i, t) in tracks.iter_mut().enumerate() {
            if t.chosen.is_some() {
                continue;
            }
            let have = plan.runs[i].1;
            t.rounds.push(have);
            while t.next_check <= have {
                let n = t.next_check;
                t.next_check += 1;
                if let Some(s) = t.precise_or_settled(n, share, &|v, f| settled(i, v, f)) {
                    t.chosen = Some(n);
                    t.settled = s;
                    break;
                }
            }
            if t.chosen.is_none() && have >= max {
                t.chosen = Some(max);
            }
        }
    }
    // Each scenario as a fixed run of its chosen replications.
    let mut outcomes = Vec::with_capacity(scns.len());
    for (i, t) in tracks.into_iter().enumerate() {
        let n = t.chosen.expect("every scenario ends with a choice");
        let variants = &scns[i].variants;
        let plan = Plan::new(
            &[scns[i]],
            RunOptions {
                replications: Some(n),
                seed: Some(seeds[i]),
                ..opts
            },
        );
        let mut flat = Vec::with_capacity(plan.units.len());
        for reps in t.results {
            flat.extend(reps.into_iter().take(n as usize));
        }
        let mut out = assemble(&[scns[i]], &plan, &flat, threads, start.elapsed())
            .pop()
            .expect("one scenario in, one outcome out");
        let checks = variants
            .iter()
            .zip(&t.watched)
            .zip(&t.values)
            .flat_map(|((v, watched), values)| {
                watched
                    .iter()
                    .zip(values)
                    .map(move |(&(flow, figure), vals)| {
                        let value = mean_ci(&vals[..n as usize]);
                        FigureCheck {
                            variant: v.name.clone(),
                            flow: v.network.flows[flow].clone(),
                            figure,
                            value,
                            met: precise(value, share),
                        }
                    })
            })
            .collect();
        out.precision = Some(PrecisionRecord {
            share,
            max_replications: max,
            rounds: t.rounds,
            replications: n,
            checks,
            settled: t.settled,
        });
        outcomes.push(out);
    }
    let wall = start.elapsed();
    for o in &mut outcomes {
        o.wall = wall;
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{LoadOptions, from_text};
    use statrs::distribution::{ChiSquared, ContinuousCDF, StudentsT};

    /// Poisson arrivals at λ = 3.2/s through one hop of unlimited servers and a deterministic
    /// 50 ms service, over a 100 s window: every latency figure is exactly 50 ms in every
    /// replication (no spread, precise from the first round), and the recipients delivered in
    /// the window are the arrivals of a 100 s stretch shifted by 50 ms, Poisson(λT = 320). So
    /// the throughput N/T has relative standard deviation σ = 1/√(λT) exactly, and it alone
    /// decides when the rule stops.
    fn poisson_case(first: u32) -> Scenario {
        let text = format!(
            "[run]\nduration_s = 110\nwarmup_s = 10\nseed = 11\nreplications = {first}\n\
             [sources.a]\nrate_per_s = 3.2\nroute = \"r\"\n\
             [hops.s]\nservers = \"unlimited\"\nservice_ms = {{ dist = \"deterministic\", value = 50 }}\n\
             [routes.r]\nsteps = [\"s\"]\ndeliver = \"f\"\n"
        );
        from_text(&text, "t.toml", "t", LoadOptions::default()).unwrap()
    }

    fn precise_run(scn: &Scenario, p: Precision, threads: usize) -> StudyOutcome {
        let opts = RunOptions {
            threads: Some(threads),
            ..RunOptions::default()
        };
        run_many_precise(
            &[scn],
            opts,
            p,
            &|_, v| every_flow_figure(v),
            &|_| {},
            &|| {},
        )
        .unwrap()
        .pop()
        .unwrap()
    }

    /// The rule stops at the fewest replications that meet the target, not earlier, not
    /// later: checked exactly against a fixed run of the maximum (replication r is the same
    /// whichever round it ran in, so every prefix of the fixed run is what the rule saw), and
    /// against theory.
    ///
    /// Theory's tolerance: the rule stops at the first n with t(n−1) · s_n / √n ≤ 2% · x̄_n,
    /// where s_n/x̄_n estimates σ = 1/√320. (n − 1) s_n² / σ² is χ²(n − 1) (Poisson(320) is
    /// normal to within its skewness 0.056), so with probability 1 − 2·10⁻⁴ at each n,
    /// s_n/σ lies in [√(q(10⁻⁴)/(n−1)), √(q(1 − 10⁻⁴)/(n−1))]; x̄_n/λ is within 1 ± 4σ/√n
    /// (< 1.3%), left to the slack. Over the ≤ 90 n's considered, the union bound keeps the
    /// band's failure probability under 2%, and the seed is fixed. So the stop lies between
    /// the first n at which the low end of the band would stop and the first n at which the
    /// high end must.
    #[test]
    fn stops_at_the_fewest_precise_replications_poisson_throughput() {
        let scn = poisson_case(10);
        let p = Precision {
            share: 0.02,
            max_replications: 100,
        };
        let out = precise_run(&scn, p, 2);
        let rec = out.precision.clone().unwrap();
        let n = rec.replications;
        assert!(rec.met(), "{rec:?}");
        assert_eq!(out.replications, n);
        assert_eq!(*rec.rounds.first().unwrap(), 10);
        assert!(*rec.rounds.last().unwrap() >= n);

        // Exact: against every prefix of a fixed run of 100 replications.
        let fixed = super::super::run(
            &scn,
            RunOptions {
                replications: Some(100),
                ..RunOptions::default()
            },
            &|| {},
        )
        .unwrap();
        let per_rep = &fixed.variants[0].flows[0].1.per_replication;
        let ok_at = |k: usize| {
            FlowFigure::ALL.iter().all(|f| {
                precise(
                    mean_ci(
                        &per_rep[..k]
                            .iter()
                            .map(|r| r[*f as usize])
                            .collect::<Vec<_>>(),
                    ),
                    0.02,
                )
            })
        };
        assert!(ok_at(n as usize), "met at the chosen {n}");
        for k in 10..n as usize {
            assert!(!ok_at(k), "already met at {k} < chosen {n}");
        }
        // The outcome is the fixed run's at n, figure for figure.
        let at_n = super::super::run(
            &scn,
            RunOptions {
                replications: Some(n),
                ..RunOptions::default()
            },
            &|| {},
        )
        .unwrap();
        let (a, b) = (&out.variants[0].flows[0].1, &at_n.variants[0].flows[0].1);
        assert_eq!(a.per_replication, b.per_replication);
        assert_eq!(a.throughput_per_s, b.throughput_per_s);
        assert_eq!(a.p99_ms, b.p99_ms);

        // Theory's band (see above).
        let sigma = 1.0 / 320f64.sqrt();
        let stops = |k: u32, q: f64| {
            let df = f64::from(k - 1);
            let t = StudentsT::new(0.0, 1.0, df).unwrap().inverse_cdf(0.975);
            let ratio = (ChiSquared::new(df).unwrap().inverse_cdf(q) / df).sqrt();
            t * ratio * sigma / f64::from(k).sqrt() <= 0.02
        };
        let lo = (10..=100).find(|&k| stops(k, 1e-4)).unwrap();
        let hi = (10..=100).find(|&k| stops(k, 1.0 - 1e-4)).unwrap();
        assert!(
            lo <= n && n <= hi,
            "stopped at {n}; theory's band [{lo}, {hi}]"
        );
        // Every latency figure is exact: 50 ms (p99 at its histogram bucket's top, 50.015 ms)
        // with no spread beyond float rounding.
        let (l, h) = a.p99_ms.ci95.unwrap();
        assert!(
            h - l < 1e-9 && (a.p99_ms.mean - 50.0).abs() < 0.02,
            "{:?}",
            a.p99_ms
        );
        eprintln!(
            "stopped at {n} (band [{lo}, {hi}]), rounds {:?}",
            rec.rounds
        );
    }

    /// At the maximum the rule stops and names what fell short: here only the throughput
    /// (latency is exact), whose relative half-width with 6 replications, about
    /// t(5) · σ / √6 ≈ 5.7%, is far over 0.1%.
    #[test]
    fn maximum_reached_names_the_figures_that_fell_short() {
        let scn = poisson_case(3);
        let p = Precision {
            share: 0.001,
            max_replications: 6,
        };
        let out = precise_run(&scn, p, 1);
        let rec = out.precision.unwrap();
        assert_eq!(rec.replications, 6);
        assert_eq!(out.replications, 6);
        assert_eq!(*rec.rounds.last().unwrap(), 6);
        let short: Vec<_> = rec.short().map(|c| c.figure).collect();
        assert_eq!(short, [FlowFigure::ThroughputPerS]);
        let err = Precision {
            share: 0.02,
            max_replications: 2,
        }
        .first_round(&scn, RunOptions::default())
        .unwrap_err();
        assert!(
            err.to_string().contains("below the first round's 3"),
            "{err}"
        );
    }

    /// The choice and the summaries are the same with 1 or 2 threads.
    #[test]
    fn precision_runs_do_not_depend_on_threads() {
        let scn = poisson_case(4);
        let p = Precision {
            share: 0.03,
            max_replications: 40,
        };
        let a = precise_run(&scn, p, 1);
        let b = precise_run(&scn, p, 2);
        assert_eq!(a.precision, b.precision);
        assert_eq!(
            a.variants[0].flows[0].1.per_replication,
            b.variants[0].flows[0].1.per_replication
        );
    }

    #[test]
    fn precision_parses_percentages_and_shares() {
        assert_eq!(parse_share("2%").unwrap(), 0.02);
        assert_eq!(parse_share("0.5 %").unwrap(), 0.005);
        assert_eq!(parse_share("0.02").unwrap(), 0.02);
        for bad in ["0%", "100%", "2", "-1%", "abc", "", "nan%"] {
            let e = parse_share(bad).unwrap_err();
            assert!(e.contains("e.g. `2%`"), "{bad}: {e}");
        }
    }

    #[test]
    fn precise_compares_the_half_width_with_the_value() {
        let m = |mean, half: f64| MeanCi {
            mean,
            ci95: Some((mean - half, mean + half)),
        };
        assert!(precise(m(100.0, 2.0), 0.02));
        assert!(!precise(m(100.0, 2.1), 0.02));
        assert!(
            precise(m(-100.0, 1.0), 0.02),
            "a negative value's size counts"
        );
        assert!(precise(m(0.0, 0.0), 0.02), "no spread at zero is precise");
        assert!(!precise(m(0.0, 0.1), 0.02));
        assert!(!precise(
            MeanCi {
                mean: 5.0,
                ci95: None
            },
            0.5
        ));
        assert!(
            precise(mean_ci(&[f64::NAN, f64::NAN]), 0.02),
            "no value at all"
        );
        assert!((relative_half_width(m(50.0, 1.0)) - 0.02).abs() < 1e-12);
    }
}
