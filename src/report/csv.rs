//! CSV exports: `summary.csv` (variant × flow), `hops.csv` (variant × station) and
//! `accounting.csv` (variant). A header row, plain numbers, units in column names; an empty
//! cell means "no value" (no deliveries, no interval with one replication, unlimited servers).
//! Rows are `Serialize` structs, so the column order is the struct's.

use std::path::Path;

use serde::Serialize;

use super::{ReportError, write_atomic};
use crate::runner::StudyOutcome;
use crate::stats::MeanCi;

fn val(m: MeanCi) -> Option<f64> {
    m.mean.is_finite().then_some(m.mean)
}
fn lo(m: MeanCi) -> Option<f64> {
    m.ci95.map(|c| c.0)
}
fn hi(m: MeanCi) -> Option<f64> {
    m.ci95.map(|c| c.1)
}

#[derive(Serialize)]
pub struct SummaryRow<'a> {
    pub variant: &'a str,
    pub flow: &'a str,
    pub delivered: Option<f64>,
    pub throughput_per_s: Option<f64>,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub p999_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub expired: Option<f64>,
    pub quarantined: Option<f64>,
    pub filtered_spam: Option<f64>,
    pub deferrals: Option<f64>,
    pub mean_retry_delay_ms: Option<f64>,
    pub replications: u32,
    pub delivered_ci95_lo: Option<f64>,
    pub delivered_ci95_hi: Option<f64>,
    pub throughput_per_s_ci95_lo: Option<f64>,
    pub throughput_per_s_ci95_hi: Option<f64>,
    pub mean_ms_ci95_lo: Option<f64>,
    pub mean_ms_ci95_hi: Option<f64>,
    pub p50_ms_ci95_lo: Option<f64>,
    pub p50_ms_ci95_hi: Option<f64>,
    pub p90_ms_ci95_lo: Option<f64>,
    pub p90_ms_ci95_hi: Option<f64>,
    pub p99_ms_ci95_lo: Option<f64>,
    pub p99_ms_ci95_hi: Option<f64>,
    pub p999_ms_ci95_lo: Option<f64>,
    pub p999_ms_ci95_hi: Option<f64>,
    pub max_ms_ci95_lo: Option<f64>,
    pub max_ms_ci95_hi: Option<f64>,
}

#[derive(Serialize)]
pub struct HopRow<'a> {
    pub variant: &'a str,
    pub hop: &'a str,
    /// `hop`, `link` (latency) or `link_bandwidth`.
    pub kind: &'a str,
    pub servers: Option<u32>,
    pub processed: Option<f64>,
    pub utilization: Option<f64>,
    pub mean_queue_len: Option<f64>,
    pub max_queue_len: Option<f64>,
    pub mean_wait_ms: Option<f64>,
    pub p99_wait_ms: Option<f64>,
    pub arrival_rate_per_s: Option<f64>,
    pub mean_in_system: Option<f64>,
    pub mean_sojourn_ms: Option<f64>,
    pub littles_law_rel_err: Option<f64>,
    pub offered_utilization: Option<f64>,
    /// Transient refusals answered (full queue or outage).
    pub deferrals: Option<f64>,
    /// Copies that expired waiting for the station.
    pub expired: Option<f64>,
    pub replications: u32,
    pub processed_ci95_lo: Option<f64>,
    pub processed_ci95_hi: Option<f64>,
    pub utilization_ci95_lo: Option<f64>,
    pub utilization_ci95_hi: Option<f64>,
    pub mean_queue_len_ci95_lo: Option<f64>,
    pub mean_queue_len_ci95_hi: Option<f64>,
    pub max_queue_len_ci95_lo: Option<f64>,
    pub max_queue_len_ci95_hi: Option<f64>,
    pub mean_wait_ms_ci95_lo: Option<f64>,
    pub mean_wait_ms_ci95_hi: Option<f64>,
    pub p99_wait_ms_ci95_lo: Option<f64>,
    pub p99_wait_ms_ci95_hi: Option<f64>,
    pub mean_sojourn_ms_ci95_lo: Option<f64>,
    pub mean_sojourn_ms_ci95_hi: Option<f64>,
}

#[derive(Serialize)]
pub struct AccountingRow<'a> {
    pub variant: &'a str,
    pub messages: u64,
    pub generated: u64,
    pub delivered: u64,
    pub expired: u64,
    pub quarantined: u64,
    pub rejected: u64,
    pub filtered_spam: u64,
    pub in_flight: u64,
}

pub fn summary_rows(study: &StudyOutcome) -> Vec<SummaryRow<'_>> {
    let mut rows = Vec::new();
    for v in &study.variants {
        for (flow, f) in &v.flows {
            rows.push(SummaryRow {
                variant: &v.name,
                flow,
                delivered: val(f.delivered),
                throughput_per_s: val(f.throughput_per_s),
                mean_ms: val(f.mean_ms),
                p50_ms: val(f.p50_ms),
                p90_ms: val(f.p90_ms),
                p99_ms: val(f.p99_ms),
                p999_ms: val(f.p999_ms),
                max_ms: val(f.max_ms),
                expired: val(f.expired),
                quarantined: val(f.quarantined),
                filtered_spam: val(f.filtered_spam),
                deferrals: val(f.deferrals),
                mean_retry_delay_ms: val(f.mean_retry_delay_ms),
                replications: study.replications,
                delivered_ci95_lo: lo(f.delivered),
                delivered_ci95_hi: hi(f.delivered),
                throughput_per_s_ci95_lo: lo(f.throughput_per_s),
                throughput_per_s_ci95_hi: hi(f.throughput_per_s),
                mean_ms_ci95_lo: lo(f.mean_ms),
                mean_ms_ci95_hi: hi(f.mean_ms),
                p50_ms_ci95_lo: lo(f.p50_ms),
                p50_ms_ci95_hi: hi(f.p50_ms),
                p90_ms_ci95_lo: lo(f.p90_ms),
                p90_ms_ci95_hi: hi(f.p90_ms),
                p99_ms_ci95_lo: lo(f.p99_ms),
                p99_ms_ci95_hi: hi(f.p99_ms),
                p999_ms_ci95_lo: lo(f.p999_ms),
                p999_ms_ci95_hi: hi(f.p999_ms),
                max_ms_ci95_lo: lo(f.max_ms),
                max_ms_ci95_hi: hi(f.max_ms),
            });
        }
    }
    rows
}

pub fn hop_rows(study: &StudyOutcome) -> Vec<HopRow<'_>> {
    let mut rows = Vec::new();
    for v in &study.variants {
        for s in &v.stations {
            let m = &s.summary;
            let opt = |x: Option<MeanCi>| x.and_then(val);
            rows.push(HopRow {
                variant: &v.name,
                hop: &s.name,
                kind: s.kind.label(),
                servers: s.servers,
                processed: val(m.processed),
                utilization: opt(m.utilization),
                mean_queue_len: val(m.mean_queue_len),
                max_queue_len: val(m.max_queue_len),
                mean_wait_ms: val(m.mean_wait_ms),
                p99_wait_ms: val(m.p99_wait_ms),
                arrival_rate_per_s: val(m.arrival_rate_per_s),
                mean_in_system: val(m.mean_in_system),
                mean_sojourn_ms: val(m.mean_sojourn_ms),
                littles_law_rel_err: m
                    .littles_law_rel_err
                    .is_finite()
                    .then_some(m.littles_law_rel_err),
                offered_utilization: s.offered_utilization,
                deferrals: val(m.refusals),
                expired: val(m.expired),
                replications: study.replications,
                processed_ci95_lo: lo(m.processed),
                processed_ci95_hi: hi(m.processed),
                utilization_ci95_lo: m.utilization.and_then(lo),
                utilization_ci95_hi: m.utilization.and_then(hi),
                mean_queue_len_ci95_lo: lo(m.mean_queue_len),
                mean_queue_len_ci95_hi: hi(m.mean_queue_len),
                max_queue_len_ci95_lo: lo(m.max_queue_len),
                max_queue_len_ci95_hi: hi(m.max_queue_len),
                mean_wait_ms_ci95_lo: lo(m.mean_wait_ms),
                mean_wait_ms_ci95_hi: hi(m.mean_wait_ms),
                p99_wait_ms_ci95_lo: lo(m.p99_wait_ms),
                p99_wait_ms_ci95_hi: hi(m.p99_wait_ms),
                mean_sojourn_ms_ci95_lo: lo(m.mean_sojourn_ms),
                mean_sojourn_ms_ci95_hi: hi(m.mean_sojourn_ms),
            });
        }
    }
    rows
}

pub fn accounting_rows(study: &StudyOutcome) -> Vec<AccountingRow<'_>> {
    study
        .variants
        .iter()
        .map(|v| {
            let a = v.accounting;
            AccountingRow {
                variant: &v.name,
                messages: a.messages,
                generated: a.generated,
                delivered: a.delivered,
                expired: a.expired,
                quarantined: a.quarantined,
                rejected: a.rejected,
                filtered_spam: a.filtered_spam,
                in_flight: a.in_flight,
            }
        })
        .collect()
}

#[derive(Serialize)]
pub struct CostRow<'a> {
    pub variant: &'a str,
    /// On-premises mailboxes receiving Internet mail through EOP (empty: mailboxes not given).
    pub eop_licences: Option<f64>,
    pub to_cloud_messages_per_day: Option<f64>,
    pub to_cloud_gb_per_day: Option<f64>,
    pub to_onprem_messages_per_day: Option<f64>,
    pub to_onprem_gb_per_day: Option<f64>,
    /// Peak one-minute rate over the on-premises Internet connection (hybrid connector both
    /// ways, plus Internet mail to and from on-premises hops).
    pub onprem_internet_peak_mbps: Option<f64>,
}

/// Rows of `costs.csv`, for hybrid variants. Daily figures scale the simulated (peak-hour)
/// rates by 86 400 s ÷ the peak factor; GB are 10⁹ bytes, KB 1024 bytes.
pub fn cost_rows(study: &StudyOutcome) -> Vec<CostRow<'_>> {
    use crate::model::hybrid::meters;
    let mut rows = Vec::new();
    for v in &study.variants {
        let Some(basis) = v.costs else { continue };
        let day = 86_400.0 / basis.peak_factor;
        let meter = |m: u8| v.meters.get(usize::from(m)).copied();
        let msgs = |m: u8| meter(m).and_then(|x| val(x.copies_per_s)).map(|r| r * day);
        let gb = |m: u8| {
            meter(m)
                .and_then(|x| val(x.kb_per_s))
                .map(|r| r * day * 1024.0 / 1e9)
        };
        rows.push(CostRow {
            variant: &v.name,
            eop_licences: basis.eop_licences,
            to_cloud_messages_per_day: msgs(meters::TO_CLOUD).or(Some(0.0)),
            to_cloud_gb_per_day: gb(meters::TO_CLOUD).or(Some(0.0)),
            to_onprem_messages_per_day: msgs(meters::TO_ONPREM).or(Some(0.0)),
            to_onprem_gb_per_day: gb(meters::TO_ONPREM).or(Some(0.0)),
            onprem_internet_peak_mbps: val(v.onprem_internet_peak_kb_per_s)
                .map(|kb| kb * 8192.0 / 1e6),
        });
    }
    rows
}

#[derive(Serialize)]
pub struct OutageRow<'a> {
    pub variant: &'a str,
    pub replication: u32,
    pub hop: &'a str,
    pub start_s: f64,
    /// Empty if the hop was still down when the run ended.
    pub duration_s: Option<f64>,
    /// Most copies waiting for the hop at once (queued, or deferred by their senders).
    pub peak_backlog: u64,
    /// Time from recovery until the backlog had drained; empty if not by the end of the run.
    pub drain_s: Option<f64>,
    /// Recipients that expired waiting for the hop during the outage or its drain.
    pub expired: u64,
}

pub fn outage_rows(study: &StudyOutcome) -> Vec<OutageRow<'_>> {
    let mut rows = Vec::new();
    for v in &study.variants {
        for (rep, o) in &v.outages {
            let station = &v.stations[o.station as usize];
            rows.push(OutageRow {
                variant: &v.name,
                replication: *rep,
                hop: station.name.trim_end_matches(".bandwidth"),
                start_s: o.start.as_secs_f64(),
                duration_s: o.end.map(|e| (e - o.start).as_secs_f64()),
                peak_backlog: o.peak_backlog,
                drain_s: match (o.end, o.drained) {
                    (Some(e), Some(d)) => Some((d - e).as_secs_f64()),
                    _ => None,
                },
                expired: o.expired,
            });
        }
    }
    rows
}

/// Serializes `rows` to CSV bytes.
pub fn to_bytes<T: Serialize>(rows: &[T], file: &Path) -> Result<Vec<u8>, ReportError> {
    let err = |source| ReportError::Csv {
        file: file.to_path_buf(),
        source,
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r).map_err(err)?;
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
}

/// Writes `rows` to `path` atomically.
pub fn write<T: Serialize>(path: &Path, rows: &[T]) -> Result<(), ReportError> {
    write_atomic(path, &to_bytes(rows, path)?)
}
