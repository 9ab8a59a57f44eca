//! Figures per replication and their summaries across replications.
//!
//! Each figure is computed per replication, then reported as the mean across replications with
//! a 95% Student-t interval ([`mean_ci`]); replications are independent, so the interval is
//! exact for normally distributed figures and asymptotically right otherwise.

use hdrhistogram::Histogram;

use super::{FlowStats, MeanCi, StationStats, mean_ci, new_histogram};
use crate::engine::SimTime;

/// Latency and throughput of one flow, summarized across replications.
#[derive(Clone, Debug)]
pub struct FlowSummary {
    pub delivered: MeanCi,
    pub throughput_per_s: MeanCi,
    pub mean_ms: MeanCi,
    pub p50_ms: MeanCi,
    pub p90_ms: MeanCi,
    pub p99_ms: MeanCi,
    pub p999_ms: MeanCi,
    pub max_ms: MeanCi,
    /// Recipients that expired, were quarantined, or were filtered as spam.
    pub expired: MeanCi,
    pub quarantined: MeanCi,
    pub filtered_spam: MeanCi,
    /// Share of the flow's ended recipients that a hop rejected (5xx) because it was full.
    pub rejected_share: MeanCi,
    /// Deferrals met by delivered copies, and the mean time a recipient spent deferred.
    pub deferrals: MeanCi,
    pub mean_retry_delay_ms: MeanCi,
    /// All replications' latencies in one histogram (microseconds).
    pub merged: Histogram<u64>,
    /// The compared figures of each replication, in replication order (indexed by
    /// [`FlowFigure`]), so variants can be paired replication by replication.
    pub per_replication: Vec<[f64; FlowFigure::COUNT]>,
}

/// The figures of a flow that `compare.csv` pairs across variants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowFigure {
    MeanMs,
    P50Ms,
    P90Ms,
    P99Ms,
    P999Ms,
    MaxMs,
    ThroughputPerS,
}

impl FlowFigure {
    pub const COUNT: usize = 7;
    pub const ALL: [FlowFigure; FlowFigure::COUNT] = [
        FlowFigure::MeanMs,
        FlowFigure::P50Ms,
        FlowFigure::P90Ms,
        FlowFigure::P99Ms,
        FlowFigure::P999Ms,
        FlowFigure::MaxMs,
        FlowFigure::ThroughputPerS,
    ];

    /// The column name of the figure in `summary.csv`.
    pub fn name(self) -> &'static str {
        match self {
            FlowFigure::MeanMs => "mean_ms",
            FlowFigure::P50Ms => "p50_ms",
            FlowFigure::P90Ms => "p90_ms",
            FlowFigure::P99Ms => "p99_ms",
            FlowFigure::P999Ms => "p999_ms",
            FlowFigure::MaxMs => "max_ms",
            FlowFigure::ThroughputPerS => "throughput_per_s",
        }
    }

    /// Latency is better low, throughput high.
    pub fn better(self) -> super::compare::Better {
        match self {
            FlowFigure::ThroughputPerS => super::compare::Better::Higher,
            _ => super::compare::Better::Lower,
        }
    }

    /// The figure's summary across replications.
    pub fn of(self, f: &FlowSummary) -> MeanCi {
        match self {
            FlowFigure::MeanMs => f.mean_ms,
            FlowFigure::P50Ms => f.p50_ms,
            FlowFigure::P90Ms => f.p90_ms,
            FlowFigure::P99Ms => f.p99_ms,
            FlowFigure::P999Ms => f.p999_ms,
            FlowFigure::MaxMs => f.max_ms,
            FlowFigure::ThroughputPerS => f.throughput_per_s,
        }
    }

    /// The figure of one replication.
    pub fn of_replication(self, r: &FlowStats, window: SimTime) -> f64 {
        match self {
            FlowFigure::MeanMs => r.mean_ms(),
            FlowFigure::P50Ms => r.quantile_ms(0.5),
            FlowFigure::P90Ms => r.quantile_ms(0.9),
            FlowFigure::P99Ms => r.quantile_ms(0.99),
            FlowFigure::P999Ms => r.quantile_ms(0.999),
            FlowFigure::MaxMs => {
                if r.delivered == 0 {
                    f64::NAN
                } else {
                    r.max.as_millis_f64()
                }
            }
            FlowFigure::ThroughputPerS => {
                if window == SimTime::ZERO {
                    f64::NAN
                } else {
                    r.delivered as f64 / window.as_secs_f64()
                }
            }
        }
    }
}

fn per_rep(values: impl Iterator<Item = f64>) -> MeanCi {
    mean_ci(&values.collect::<Vec<_>>())
}

/// Summarizes one flow over replications; `windows[i]` is replication i's statistics window.
pub fn summarize_flow(reps: &[&FlowStats], windows: &[SimTime]) -> FlowSummary {
    let mut merged = new_histogram();
    for r in reps {
        merged.add(&r.latency).expect("histograms share bounds");
    }
    let per_replication: Vec<[f64; FlowFigure::COUNT]> = reps
        .iter()
        .zip(windows)
        .map(|(r, w)| FlowFigure::ALL.map(|fig| fig.of_replication(r, *w)))
        .collect();
    let col = |fig: FlowFigure| per_rep(per_replication.iter().map(|v| v[fig as usize]));
    FlowSummary {
        delivered: per_rep(reps.iter().map(|r| r.delivered as f64)),
        throughput_per_s: col(FlowFigure::ThroughputPerS),
        mean_ms: col(FlowFigure::MeanMs),
        p50_ms: col(FlowFigure::P50Ms),
        p90_ms: col(FlowFigure::P90Ms),
        p99_ms: col(FlowFigure::P99Ms),
        p999_ms: col(FlowFigure::P999Ms),
        max_ms: col(FlowFigure::MaxMs),
        expired: per_rep(reps.iter().map(|r| r.expired as f64)),
        quarantined: per_rep(reps.iter().map(|r| r.quarantined as f64)),
        filtered_spam: per_rep(reps.iter().map(|r| r.filtered_spam as f64)),
        rejected_share: per_rep(reps.iter().map(|r| {
            let ended = r.delivered + r.expired + r.quarantined + r.filtered_spam + r.rejected;
            if ended == 0 {
                0.0
            } else {
                r.rejected as f64 / ended as f64
            }
        })),
        deferrals: per_rep(reps.iter().map(|r| r.deferrals as f64)),
        mean_retry_delay_ms: per_rep(reps.iter().map(|r| r.mean_retry_delay_ms())),
        merged,
        per_replication,
    }
}

/// Load figures of one station, summarized across replications.
#[derive(Clone, Debug)]
pub struct StationSummary {
    pub processed: MeanCi,
    /// Busy servers ÷ servers; None for unlimited servers.
    pub utilization: Option<MeanCi>,
    pub mean_busy: MeanCi,
    pub mean_queue_len: MeanCi,
    pub max_queue_len: MeanCi,
    pub mean_wait_ms: MeanCi,
    pub p90_wait_ms: MeanCi,
    pub p99_wait_ms: MeanCi,
    /// Share of copies that waited at all (found every server busy): Erlang C's P(wait).
    pub wait_probability: MeanCi,
    pub arrival_rate_per_s: MeanCi,
    /// Time-average number in the station (waiting + in service): L.
    pub mean_in_system: MeanCi,
    /// Mean time in the station of copies that completed: W.
    pub mean_sojourn_ms: MeanCi,
    /// |L − λW| ÷ L, from the means across replications (Little's law check).
    pub littles_law_rel_err: f64,
    /// Transient refusals answered (full queue or outage), and copies that expired waiting.
    pub refusals: MeanCi,
    pub expired: MeanCi,
    /// Copies refused for good by a full hop that rejects.
    pub rejections: MeanCi,
    /// Each replication's own figures (the back-test's prediction intervals need them).
    pub per_replication: Vec<StationReplication>,
}

/// One replication's figures of a station, as summarized in [`StationSummary`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StationReplication {
    pub processed: f64,
    /// NaN when no copy started service.
    pub mean_wait_ms: f64,
    pub p90_wait_ms: f64,
    pub p99_wait_ms: f64,
}

/// The waiting time at `quantile` in milliseconds; NaN when no copy started service.
fn wait_quantile_ms(r: &StationStats, quantile: f64) -> f64 {
    if r.waits == 0 {
        f64::NAN
    } else {
        // Microseconds → ms, the bucket's highest equivalent value as for flow latencies.
        r.wait.value_at_quantile(quantile) as f64 / 1e3
    }
}

pub fn summarize_station(
    reps: &[&StationStats],
    windows: &[SimTime],
    servers: Option<u32>,
) -> StationSummary {
    let both = || reps.iter().zip(windows);
    let mean_busy = per_rep(both().map(|(r, w)| r.busy.mean_over(*w)));
    let utilization =
        servers.map(|c| per_rep(both().map(|(r, w)| r.busy.mean_over(*w) / f64::from(c))));
    let mean_queue_len = per_rep(both().map(|(r, w)| r.queue.mean_over(*w)));
    let arrival_rate_per_s = per_rep(both().map(|(r, w)| {
        if *w == SimTime::ZERO {
            f64::NAN
        } else {
            r.arrivals as f64 / w.as_secs_f64()
        }
    }));
    let mean_in_system = per_rep(both().map(|(r, w)| r.busy.mean_over(*w) + r.queue.mean_over(*w)));
    let mean_sojourn_ms = per_rep(reps.iter().map(|r| {
        if r.completions == 0 {
            f64::NAN
        } else {
            r.sojourn_sum_ns as f64 / r.completions as f64 / 1e6
        }
    }));
    let l = mean_in_system.mean;
    let lambda_w = arrival_rate_per_s.mean * mean_sojourn_ms.mean / 1e3;
    let littles_law_rel_err = if l > 0.0 {
        (l - lambda_w).abs() / l
    } else {
        f64::NAN
    };
    let per_replication: Vec<StationReplication> = reps
        .iter()
        .map(|r| StationReplication {
            processed: r.completions as f64,
            mean_wait_ms: if r.waits == 0 {
                f64::NAN
            } else {
                r.wait_sum_ns as f64 / r.waits as f64 / 1e6
            },
            p90_wait_ms: wait_quantile_ms(r, 0.9),
            p99_wait_ms: wait_quantile_ms(r, 0.99),
        })
        .collect();
    StationSummary {
        processed: per_rep(per_replication.iter().map(|r| r.processed)),
        utilization,
        mean_busy,
        mean_queue_len,
        max_queue_len: per_rep(reps.iter().map(|r| r.max_queue as f64)),
        mean_wait_ms: per_rep(per_replication.iter().map(|r| r.mean_wait_ms)),
        p90_wait_ms: per_rep(per_replication.iter().map(|r| r.p90_wait_ms)),
        p99_wait_ms: per_rep(per_replication.iter().map(|r| r.p99_wait_ms)),
        wait_probability: per_rep(reps.iter().map(|r| {
            if r.waits == 0 {
                f64::NAN
            } else {
                r.delayed as f64 / r.waits as f64
            }
        })),
        arrival_rate_per_s,
        mean_in_system,
        mean_sojourn_ms,
        littles_law_rel_err,
        refusals: per_rep(reps.iter().map(|r| r.refusals as f64)),
        expired: per_rep(reps.iter().map(|r| r.expired as f64)),
        rejections: per_rep(reps.iter().map(|r| r.rejections as f64)),
        per_replication,
    }
}
