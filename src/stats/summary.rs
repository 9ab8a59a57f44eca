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
    let rate = |r: &FlowStats, w: SimTime| {
        if w == SimTime::ZERO {
            f64::NAN
        } else {
            r.delivered as f64 / w.as_secs_f64()
        }
    };
    FlowSummary {
        delivered: per_rep(reps.iter().map(|r| r.delivered as f64)),
        throughput_per_s: per_rep(reps.iter().zip(windows).map(|(r, w)| rate(r, *w))),
        mean_ms: per_rep(reps.iter().map(|r| r.mean_ms())),
        p50_ms: per_rep(reps.iter().map(|r| r.quantile_ms(0.5))),
        p90_ms: per_rep(reps.iter().map(|r| r.quantile_ms(0.9))),
        p99_ms: per_rep(reps.iter().map(|r| r.quantile_ms(0.99))),
        p999_ms: per_rep(reps.iter().map(|r| r.quantile_ms(0.999))),
        max_ms: per_rep(reps.iter().map(|r| {
            if r.delivered == 0 {
                f64::NAN
            } else {
                r.max.as_millis_f64()
            }
        })),
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
    StationSummary {
        processed: per_rep(reps.iter().map(|r| r.completions as f64)),
        utilization,
        mean_busy,
        mean_queue_len,
        max_queue_len: per_rep(reps.iter().map(|r| r.max_queue as f64)),
        mean_wait_ms: per_rep(reps.iter().map(|r| {
            if r.waits == 0 {
                f64::NAN
            } else {
                r.wait_sum_ns as f64 / r.waits as f64 / 1e6
            }
        })),
        p90_wait_ms: per_rep(reps.iter().map(|r| wait_quantile_ms(r, 0.9))),
        p99_wait_ms: per_rep(reps.iter().map(|r| wait_quantile_ms(r, 0.99))),
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
    }
}
