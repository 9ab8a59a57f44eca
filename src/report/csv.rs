//! CSV exports: `summary.csv` (variant × flow), `hops.csv` (variant × station) and
//! `accounting.csv` (variant). A header row, plain numbers, units in column names; an empty
//! cell means "no value" (no deliveries, no interval with one replication, unlimited servers).
//! Rows are `Serialize` structs, so the column order is the struct's.
//!
//! Every number cell is one of `report::num`'s types (`Ms`, `Secs`, `Sig`) or an integer, so
//! each column is written at its unit's resolution. Counts in `summary.csv` and `hops.csv` are
//! means over replications and their columns end in `_per_rep`; `accounting.csv` holds totals
//! over all replications.

use std::path::Path;

use serde::Serialize;

use super::num::{Ms, Secs, Sig};
use super::{ReportError, write_atomic};
use crate::capacity::{CapacityOutcome, Knob, Step, Verdict};
use crate::runner::StudyOutcome;
use crate::stats::MeanCi;
use crate::stats::summary::FlowSummary;
use crate::sweep::SweepOutcome;

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
    #[serde(rename = "delivered_per_rep")]
    pub delivered: Option<Sig>,
    pub throughput_per_s: Option<Sig>,
    pub mean_ms: Option<Ms>,
    pub p50_ms: Option<Ms>,
    pub p90_ms: Option<Ms>,
    pub p99_ms: Option<Ms>,
    pub p999_ms: Option<Ms>,
    pub max_ms: Option<Ms>,
    #[serde(rename = "expired_per_rep")]
    pub expired: Option<Sig>,
    #[serde(rename = "quarantined_per_rep")]
    pub quarantined: Option<Sig>,
    #[serde(rename = "filtered_spam_per_rep")]
    pub filtered_spam: Option<Sig>,
    #[serde(rename = "deferrals_per_rep")]
    pub deferrals: Option<Sig>,
    pub mean_retry_delay_ms: Option<Ms>,
    pub replications: u32,
    #[serde(rename = "delivered_per_rep_ci95_lo")]
    pub delivered_ci95_lo: Option<Sig>,
    #[serde(rename = "delivered_per_rep_ci95_hi")]
    pub delivered_ci95_hi: Option<Sig>,
    pub throughput_per_s_ci95_lo: Option<Sig>,
    pub throughput_per_s_ci95_hi: Option<Sig>,
    pub mean_ms_ci95_lo: Option<Ms>,
    pub mean_ms_ci95_hi: Option<Ms>,
    pub p50_ms_ci95_lo: Option<Ms>,
    pub p50_ms_ci95_hi: Option<Ms>,
    pub p90_ms_ci95_lo: Option<Ms>,
    pub p90_ms_ci95_hi: Option<Ms>,
    pub p99_ms_ci95_lo: Option<Ms>,
    pub p99_ms_ci95_hi: Option<Ms>,
    pub p999_ms_ci95_lo: Option<Ms>,
    pub p999_ms_ci95_hi: Option<Ms>,
    pub max_ms_ci95_lo: Option<Ms>,
    pub max_ms_ci95_hi: Option<Ms>,
    #[serde(rename = "expired_per_rep_ci95_lo")]
    pub expired_ci95_lo: Option<Sig>,
    #[serde(rename = "expired_per_rep_ci95_hi")]
    pub expired_ci95_hi: Option<Sig>,
    #[serde(rename = "quarantined_per_rep_ci95_lo")]
    pub quarantined_ci95_lo: Option<Sig>,
    #[serde(rename = "quarantined_per_rep_ci95_hi")]
    pub quarantined_ci95_hi: Option<Sig>,
    #[serde(rename = "filtered_spam_per_rep_ci95_lo")]
    pub filtered_spam_ci95_lo: Option<Sig>,
    #[serde(rename = "filtered_spam_per_rep_ci95_hi")]
    pub filtered_spam_ci95_hi: Option<Sig>,
    #[serde(rename = "deferrals_per_rep_ci95_lo")]
    pub deferrals_ci95_lo: Option<Sig>,
    #[serde(rename = "deferrals_per_rep_ci95_hi")]
    pub deferrals_ci95_hi: Option<Sig>,
    pub mean_retry_delay_ms_ci95_lo: Option<Ms>,
    pub mean_retry_delay_ms_ci95_hi: Option<Ms>,
}

#[derive(Serialize)]
pub struct HopRow<'a> {
    pub variant: &'a str,
    pub hop: &'a str,
    /// `hop`, `link` (latency) or `link_bandwidth`.
    pub kind: &'a str,
    pub servers: Option<u32>,
    #[serde(rename = "processed_per_rep")]
    pub processed: Option<Sig>,
    pub utilization: Option<Sig>,
    pub mean_queue_len: Option<Sig>,
    pub max_queue_len: Option<Sig>,
    pub mean_wait_ms: Option<Ms>,
    pub p99_wait_ms: Option<Ms>,
    pub arrival_rate_per_s: Option<Sig>,
    pub mean_in_system: Option<Sig>,
    pub mean_sojourn_ms: Option<Ms>,
    pub littles_law_rel_err: Option<Sig>,
    pub offered_utilization: Option<Sig>,
    /// Transient refusals answered (full queue or outage).
    #[serde(rename = "deferrals_per_rep")]
    pub deferrals: Option<Sig>,
    /// Copies that expired waiting for the station.
    #[serde(rename = "expired_per_rep")]
    pub expired: Option<Sig>,
    /// Copies refused for good (5xx) by a full hop that rejects.
    #[serde(rename = "rejected_per_rep")]
    pub rejected: Option<Sig>,
    pub replications: u32,
    #[serde(rename = "processed_per_rep_ci95_lo")]
    pub processed_ci95_lo: Option<Sig>,
    #[serde(rename = "processed_per_rep_ci95_hi")]
    pub processed_ci95_hi: Option<Sig>,
    pub utilization_ci95_lo: Option<Sig>,
    pub utilization_ci95_hi: Option<Sig>,
    pub mean_queue_len_ci95_lo: Option<Sig>,
    pub mean_queue_len_ci95_hi: Option<Sig>,
    pub max_queue_len_ci95_lo: Option<Sig>,
    pub max_queue_len_ci95_hi: Option<Sig>,
    pub mean_wait_ms_ci95_lo: Option<Ms>,
    pub mean_wait_ms_ci95_hi: Option<Ms>,
    pub p99_wait_ms_ci95_lo: Option<Ms>,
    pub p99_wait_ms_ci95_hi: Option<Ms>,
    pub mean_sojourn_ms_ci95_lo: Option<Ms>,
    pub mean_sojourn_ms_ci95_hi: Option<Ms>,
    pub arrival_rate_per_s_ci95_lo: Option<Sig>,
    pub arrival_rate_per_s_ci95_hi: Option<Sig>,
    pub mean_in_system_ci95_lo: Option<Sig>,
    pub mean_in_system_ci95_hi: Option<Sig>,
    #[serde(rename = "deferrals_per_rep_ci95_lo")]
    pub deferrals_ci95_lo: Option<Sig>,
    #[serde(rename = "deferrals_per_rep_ci95_hi")]
    pub deferrals_ci95_hi: Option<Sig>,
    #[serde(rename = "expired_per_rep_ci95_lo")]
    pub expired_ci95_lo: Option<Sig>,
    #[serde(rename = "expired_per_rep_ci95_hi")]
    pub expired_ci95_hi: Option<Sig>,
    #[serde(rename = "rejected_per_rep_ci95_lo")]
    pub rejected_ci95_lo: Option<Sig>,
    #[serde(rename = "rejected_per_rep_ci95_hi")]
    pub rejected_ci95_hi: Option<Sig>,
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
            rows.push(summary_row(&v.name, flow, f, study.replications));
        }
    }
    rows
}

/// The summary row of one variant's flow.
pub fn summary_row<'a>(
    variant: &'a str,
    flow: &'a str,
    f: &FlowSummary,
    replications: u32,
) -> SummaryRow<'a> {
    SummaryRow {
        variant,
        flow,
        delivered: val(f.delivered).map(Sig),
        throughput_per_s: val(f.throughput_per_s).map(Sig),
        mean_ms: val(f.mean_ms).map(Ms),
        p50_ms: val(f.p50_ms).map(Ms),
        p90_ms: val(f.p90_ms).map(Ms),
        p99_ms: val(f.p99_ms).map(Ms),
        p999_ms: val(f.p999_ms).map(Ms),
        max_ms: val(f.max_ms).map(Ms),
        expired: val(f.expired).map(Sig),
        quarantined: val(f.quarantined).map(Sig),
        filtered_spam: val(f.filtered_spam).map(Sig),
        deferrals: val(f.deferrals).map(Sig),
        mean_retry_delay_ms: val(f.mean_retry_delay_ms).map(Ms),
        replications,
        delivered_ci95_lo: lo(f.delivered).map(Sig),
        delivered_ci95_hi: hi(f.delivered).map(Sig),
        throughput_per_s_ci95_lo: lo(f.throughput_per_s).map(Sig),
        throughput_per_s_ci95_hi: hi(f.throughput_per_s).map(Sig),
        mean_ms_ci95_lo: lo(f.mean_ms).map(Ms),
        mean_ms_ci95_hi: hi(f.mean_ms).map(Ms),
        p50_ms_ci95_lo: lo(f.p50_ms).map(Ms),
        p50_ms_ci95_hi: hi(f.p50_ms).map(Ms),
        p90_ms_ci95_lo: lo(f.p90_ms).map(Ms),
        p90_ms_ci95_hi: hi(f.p90_ms).map(Ms),
        p99_ms_ci95_lo: lo(f.p99_ms).map(Ms),
        p99_ms_ci95_hi: hi(f.p99_ms).map(Ms),
        p999_ms_ci95_lo: lo(f.p999_ms).map(Ms),
        p999_ms_ci95_hi: hi(f.p999_ms).map(Ms),
        max_ms_ci95_lo: lo(f.max_ms).map(Ms),
        max_ms_ci95_hi: hi(f.max_ms).map(Ms),
        expired_ci95_lo: lo(f.expired).map(Sig),
        expired_ci95_hi: hi(f.expired).map(Sig),
        quarantined_ci95_lo: lo(f.quarantined).map(Sig),
        quarantined_ci95_hi: hi(f.quarantined).map(Sig),
        filtered_spam_ci95_lo: lo(f.filtered_spam).map(Sig),
        filtered_spam_ci95_hi: hi(f.filtered_spam).map(Sig),
        deferrals_ci95_lo: lo(f.deferrals).map(Sig),
        deferrals_ci95_hi: hi(f.deferrals).map(Sig),
        mean_retry_delay_ms_ci95_lo: lo(f.mean_retry_delay_ms).map(Ms),
        mean_retry_delay_ms_ci95_hi: hi(f.mean_retry_delay_ms).map(Ms),
    }
}

/// A summary row with no figures (a variant that was not simulated).
pub fn empty_summary_row<'a>(variant: &'a str, flow: &'a str) -> SummaryRow<'a> {
    SummaryRow {
        variant,
        flow,
        delivered: None,
        throughput_per_s: None,
        mean_ms: None,
        p50_ms: None,
        p90_ms: None,
        p99_ms: None,
        p999_ms: None,
        max_ms: None,
        expired: None,
        quarantined: None,
        filtered_spam: None,
        deferrals: None,
        mean_retry_delay_ms: None,
        replications: 0,
        delivered_ci95_lo: None,
        delivered_ci95_hi: None,
        throughput_per_s_ci95_lo: None,
        throughput_per_s_ci95_hi: None,
        mean_ms_ci95_lo: None,
        mean_ms_ci95_hi: None,
        p50_ms_ci95_lo: None,
        p50_ms_ci95_hi: None,
        p90_ms_ci95_lo: None,
        p90_ms_ci95_hi: None,
        p99_ms_ci95_lo: None,
        p99_ms_ci95_hi: None,
        p999_ms_ci95_lo: None,
        p999_ms_ci95_hi: None,
        max_ms_ci95_lo: None,
        max_ms_ci95_hi: None,
        expired_ci95_lo: None,
        expired_ci95_hi: None,
        quarantined_ci95_lo: None,
        quarantined_ci95_hi: None,
        filtered_spam_ci95_lo: None,
        filtered_spam_ci95_hi: None,
        deferrals_ci95_lo: None,
        deferrals_ci95_hi: None,
        mean_retry_delay_ms_ci95_lo: None,
        mean_retry_delay_ms_ci95_hi: None,
    }
}

/// The header and the cells of one `Serialize` row, as the CSV writer would write them, so
/// rows with leading columns known only at run time (a sweep's axes) reuse the row structs.
fn cells<T: Serialize>(row: &T, file: &Path) -> Result<(Vec<String>, Vec<String>), ReportError> {
    let bytes = to_bytes(std::slice::from_ref(row), file)?;
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(bytes.as_slice());
    let mut recs = r.records().map(|x| {
        x.map(|rec| rec.iter().map(str::to_string).collect::<Vec<_>>())
            .map_err(|source| ReportError::Csv {
                file: file.to_path_buf(),
                source,
            })
    });
    let head = recs.next().expect("a header row")?;
    let body = recs.next().expect("a data row")?;
    Ok((head, body))
}

/// `sweep.csv`: one row per point × variant × flow. Leading columns are the swept paths (as
/// given to `--set`), then `load_scale` (unless swept), `status` (`ok`, or `unstable`: not
/// simulated, figures empty), `max_offered_utilization`, then the columns of `summary.csv`.
pub fn sweep_bytes(sweep: &SweepOutcome, file: &Path) -> Result<Vec<u8>, ReportError> {
    let scale_swept = sweep.axes.iter().any(|a| {
        a == crate::scenario::overrides::LOAD_SCALE_ALIAS
            || a == crate::scenario::overrides::LOAD_SCALE_FIELD
    });
    let err = |source| ReportError::Csv {
        file: file.to_path_buf(),
        source,
    };
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut header_done = false;
    for p in &sweep.points {
        for pv in &p.variants {
            for (fi, flow) in pv.flows.iter().enumerate() {
                let row = match pv.outcome {
                    Some(i) => {
                        let v = &p.outcome.variants[i];
                        summary_row(&v.name, flow, &v.flows[fi].1, p.outcome.replications)
                    }
                    None => empty_summary_row(&pv.name, flow),
                };
                let (head, body) = cells(&row, file)?;
                if !header_done {
                    let mut h: Vec<String> = sweep.axes.clone();
                    if !scale_swept {
                        h.push("load_scale".into());
                    }
                    h.push("status".into());
                    h.push("max_offered_utilization".into());
                    h.extend(head);
                    w.write_record(&h).map_err(err)?;
                    header_done = true;
                }
                let mut r: Vec<String> = p
                    .overrides
                    .iter()
                    .map(|o| crate::scenario::overrides::value_text(&o.value))
                    .collect();
                if !scale_swept {
                    r.push(super::num::sig6(p.load_scale).unwrap_or_default());
                }
                r.push(
                    if pv.unstable.is_some() {
                        "unstable"
                    } else {
                        "ok"
                    }
                    .into(),
                );
                r.push(super::num::sig6(pv.max_offered_utilization).unwrap_or_default());
                r.extend(body);
                w.write_record(&r).map_err(err)?;
            }
        }
    }
    w.into_inner().map_err(|e| err(e.into_error().into()))
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
                processed: val(m.processed).map(Sig),
                utilization: opt(m.utilization).map(Sig),
                mean_queue_len: val(m.mean_queue_len).map(Sig),
                max_queue_len: val(m.max_queue_len).map(Sig),
                mean_wait_ms: val(m.mean_wait_ms).map(Ms),
                p99_wait_ms: val(m.p99_wait_ms).map(Ms),
                arrival_rate_per_s: val(m.arrival_rate_per_s).map(Sig),
                mean_in_system: val(m.mean_in_system).map(Sig),
                mean_sojourn_ms: val(m.mean_sojourn_ms).map(Ms),
                littles_law_rel_err: m
                    .littles_law_rel_err
                    .is_finite()
                    .then_some(m.littles_law_rel_err)
                    .map(Sig),
                offered_utilization: s.offered_utilization.map(Sig),
                deferrals: val(m.refusals).map(Sig),
                expired: val(m.expired).map(Sig),
                rejected: val(m.rejections).map(Sig),
                replications: study.replications,
                processed_ci95_lo: lo(m.processed).map(Sig),
                processed_ci95_hi: hi(m.processed).map(Sig),
                utilization_ci95_lo: m.utilization.and_then(lo).map(Sig),
                utilization_ci95_hi: m.utilization.and_then(hi).map(Sig),
                mean_queue_len_ci95_lo: lo(m.mean_queue_len).map(Sig),
                mean_queue_len_ci95_hi: hi(m.mean_queue_len).map(Sig),
                max_queue_len_ci95_lo: lo(m.max_queue_len).map(Sig),
                max_queue_len_ci95_hi: hi(m.max_queue_len).map(Sig),
                mean_wait_ms_ci95_lo: lo(m.mean_wait_ms).map(Ms),
                mean_wait_ms_ci95_hi: hi(m.mean_wait_ms).map(Ms),
                p99_wait_ms_ci95_lo: lo(m.p99_wait_ms).map(Ms),
                p99_wait_ms_ci95_hi: hi(m.p99_wait_ms).map(Ms),
                mean_sojourn_ms_ci95_lo: lo(m.mean_sojourn_ms).map(Ms),
                mean_sojourn_ms_ci95_hi: hi(m.mean_sojourn_ms).map(Ms),
                arrival_rate_per_s_ci95_lo: lo(m.arrival_rate_per_s).map(Sig),
                arrival_rate_per_s_ci95_hi: hi(m.arrival_rate_per_s).map(Sig),
                mean_in_system_ci95_lo: lo(m.mean_in_system).map(Sig),
                mean_in_system_ci95_hi: hi(m.mean_in_system).map(Sig),
                deferrals_ci95_lo: lo(m.refusals).map(Sig),
                deferrals_ci95_hi: hi(m.refusals).map(Sig),
                expired_ci95_lo: lo(m.expired).map(Sig),
                expired_ci95_hi: hi(m.expired).map(Sig),
                rejected_ci95_lo: lo(m.rejections).map(Sig),
                rejected_ci95_hi: hi(m.rejections).map(Sig),
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
    pub eop_licences: Option<Sig>,
    pub to_cloud_messages_per_day: Option<Sig>,
    pub to_cloud_gb_per_day: Option<Sig>,
    pub to_onprem_messages_per_day: Option<Sig>,
    pub to_onprem_gb_per_day: Option<Sig>,
    /// Peak one-minute rate over the on-premises Internet connection (hybrid connector both
    /// ways, plus Internet mail to and from on-premises hops).
    pub onprem_internet_peak_mbps: Option<Sig>,
    pub to_cloud_messages_per_day_ci95_lo: Option<Sig>,
    pub to_cloud_messages_per_day_ci95_hi: Option<Sig>,
    pub to_cloud_gb_per_day_ci95_lo: Option<Sig>,
    pub to_cloud_gb_per_day_ci95_hi: Option<Sig>,
    pub to_onprem_messages_per_day_ci95_lo: Option<Sig>,
    pub to_onprem_messages_per_day_ci95_hi: Option<Sig>,
    pub to_onprem_gb_per_day_ci95_lo: Option<Sig>,
    pub to_onprem_gb_per_day_ci95_hi: Option<Sig>,
    pub onprem_internet_peak_mbps_ci95_lo: Option<Sig>,
    pub onprem_internet_peak_mbps_ci95_hi: Option<Sig>,
}

/// Rows of `costs.csv`, for hybrid variants. Daily figures scale the simulated (peak-hour)
/// rates by 86 400 s ÷ the peak factor; GB are 10⁹ bytes, KB 1024 bytes. Each figure's
/// interval is its rate's across replications scaled the same way (a positive constant
/// factor maps a Student-t interval onto the scaled figure's); a meter no copy crossed is 0
/// with the interval 0 to 0 (empty, as every interval, with one replication).
pub fn cost_rows(study: &StudyOutcome) -> Vec<CostRow<'_>> {
    use crate::hybrid::Meter;
    let mut rows = Vec::new();
    for v in &study.variants {
        let Some(basis) = v.costs else { continue };
        let day = 86_400.0 / basis.peak_factor;
        let meter = |m: Meter| v.meters.get(m.index()).copied();
        let msgs = |m: Meter| meter(m).and_then(|x| val(x.copies_per_s)).map(|r| r * day);
        let gb = |m: Meter| {
            meter(m)
                .and_then(|x| val(x.kb_per_s))
                .map(|r| r * day * 1024.0 / 1e9)
        };
        let reps = study.replications;
        // (low, high) of a meter's rate × k; a meter never crossed is exactly 0.
        let ci = |m: Meter, kb: bool, k: f64| -> Option<(f64, f64)> {
            match meter(m) {
                Some(x) => (if kb { x.kb_per_s } else { x.copies_per_s })
                    .ci95
                    .map(|(l, h)| (l * k, h * k)),
                None => (reps > 1).then_some((0.0, 0.0)),
            }
        };
        let gb_k = day * 1024.0 / 1e9;
        let (c_msgs, c_gb) = (
            ci(Meter::ToCloud, false, day),
            ci(Meter::ToCloud, true, gb_k),
        );
        let (o_msgs, o_gb) = (
            ci(Meter::ToOnprem, false, day),
            ci(Meter::ToOnprem, true, gb_k),
        );
        let peak = v
            .peak_meters_kb_per_s
            .ci95
            .map(|(l, h)| (l * 8192.0 / 1e6, h * 8192.0 / 1e6));
        let lo_ = |x: Option<(f64, f64)>| x.map(|c| Sig(c.0));
        let hi_ = |x: Option<(f64, f64)>| x.map(|c| Sig(c.1));
        rows.push(CostRow {
            to_cloud_messages_per_day_ci95_lo: lo_(c_msgs),
            to_cloud_messages_per_day_ci95_hi: hi_(c_msgs),
            to_cloud_gb_per_day_ci95_lo: lo_(c_gb),
            to_cloud_gb_per_day_ci95_hi: hi_(c_gb),
            to_onprem_messages_per_day_ci95_lo: lo_(o_msgs),
            to_onprem_messages_per_day_ci95_hi: hi_(o_msgs),
            to_onprem_gb_per_day_ci95_lo: lo_(o_gb),
            to_onprem_gb_per_day_ci95_hi: hi_(o_gb),
            onprem_internet_peak_mbps_ci95_lo: lo_(peak),
            onprem_internet_peak_mbps_ci95_hi: hi_(peak),
            variant: &v.name,
            eop_licences: basis.eop_licences.map(Sig),
            to_cloud_messages_per_day: msgs(Meter::ToCloud).or(Some(0.0)).map(Sig),
            to_cloud_gb_per_day: gb(Meter::ToCloud).or(Some(0.0)).map(Sig),
            to_onprem_messages_per_day: msgs(Meter::ToOnprem).or(Some(0.0)).map(Sig),
            to_onprem_gb_per_day: gb(Meter::ToOnprem).or(Some(0.0)).map(Sig),
            onprem_internet_peak_mbps: val(v.peak_meters_kb_per_s)
                .map(|kb| kb * 8192.0 / 1e6)
                .map(Sig),
        });
    }
    rows
}

#[derive(Serialize)]
pub struct OutageRow<'a> {
    pub variant: &'a str,
    pub replication: u32,
    pub hop: &'a str,
    pub start_s: Secs,
    /// Empty if the hop was still down when the run ended.
    pub duration_s: Option<Secs>,
    /// Most copies waiting for the hop at once (queued, or deferred by their senders).
    pub peak_backlog: u64,
    /// Time from recovery until the backlog had drained; empty if not by the end of the run.
    pub drain_s: Option<Secs>,
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
                start_s: Secs(o.start.as_secs_f64()),
                duration_s: o.end.map(|e| (e - o.start).as_secs_f64()).map(Secs),
                peak_backlog: o.peak_backlog,
                drain_s: match (o.end, o.drained) {
                    (Some(e), Some(d)) => Some((d - e).as_secs_f64()),
                    _ => None,
                }
                .map(Secs),
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

/// `capacity.csv`: one row per variant — the search's answer and how sure it is.
#[derive(Serialize)]
pub struct CapacityRow<'a> {
    pub variant: &'a str,
    /// `load_scale` or `servers`.
    pub search: &'a str,
    /// The hop whose servers were searched (servers search only).
    pub hop: Option<&'a str>,
    /// A configuration meeting every SLO was found.
    pub feasible: bool,
    /// Largest passing load scale (load search), or the scale searched at (servers search).
    pub load_scale: Option<Sig>,
    /// Fewest passing servers (servers search).
    pub servers: Option<u32>,
    /// The failing configuration next to the answer.
    pub first_failing_load_scale: Option<Sig>,
    pub first_failing_servers: Option<u32>,
    /// `fail` (interval above the SLO), `fail_uncertain` (interval straddles it) or `unstable`.
    pub first_failing_verdict: Option<&'a str>,
    /// The SLO missed there, or the saturated station.
    pub first_failing_reason: Option<String>,
    /// The SLO closest to its limit at the answer, its figure and interval.
    pub tightest_slo: Option<&'a str>,
    pub tightest_value_ms: Option<Ms>,
    pub tightest_ci95_lo_ms: Option<Ms>,
    pub tightest_ci95_hi_ms: Option<Ms>,
    pub tightest_limit_ms: Option<Ms>,
    pub bottleneck: Option<&'a str>,
    pub bottleneck_utilization: Option<Sig>,
    pub bottleneck_utilization_ci95_lo: Option<Sig>,
    pub bottleneck_utilization_ci95_hi: Option<Sig>,
    /// The bottleneck's relaxation time at the answer (`capacity::relaxation_time_s`).
    pub relaxation_time_s: Option<Secs>,
    /// Its interval from the utilization's (`capacity::Step::relaxation_ci95`); the upper
    /// end is empty when the utilization's interval reaches 1.
    pub relaxation_time_s_ci95_lo: Option<Secs>,
    pub relaxation_time_s_ci95_hi: Option<Secs>,
    /// One replication's statistics window, and how many relaxation times it spans (with
    /// the interval that of the relaxation time inverted).
    pub window_s: Option<Secs>,
    pub window_relaxation_times: Option<Sig>,
    pub window_relaxation_times_ci95_lo: Option<Sig>,
    pub window_relaxation_times_ci95_hi: Option<Sig>,
    /// The answer's bottleneck is over 90% busy, or the window is under 50 relaxation times.
    pub fragile: Option<bool>,
    /// `bottleneck_over_90pct`, `run_too_short`, or both (`;`-separated).
    pub fragile_reason: Option<String>,
    /// `--headroom`, when given.
    pub headroom: Option<Sig>,
    /// Lower bound on the probability that every SLO holds at the answer (Bonferroni).
    pub confidence: Sig,
    /// Load search's stopping rule: (first failing − last passing) ≤ bracket × last passing.
    pub bracket: Option<Sig>,
    /// Replications at the answer (with `--precision`, the fewest that met it there).
    pub replications: u32,
    /// `--precision` in percent, when given, and whether the answer's SLO figures met it.
    pub precision_pct: Option<Sig>,
    pub precision_met: Option<bool>,
    pub steps: usize,
    /// Why a servers search ended infeasible before its largest count: more servers of the
    /// hop cannot help (another station saturates whatever it has, or nothing waited for it).
    pub cannot_help: Option<&'a str>,
}

/// `capacity_steps.csv`: every configuration a search tried, one row per SLO.
#[derive(Serialize)]
pub struct CapacityStepRow<'a> {
    pub variant: &'a str,
    pub step: usize,
    pub load_scale: Sig,
    pub servers: Option<u32>,
    pub verdict: &'a str,
    pub slo: &'a str,
    pub limit_ms: Ms,
    pub value_ms: Option<Ms>,
    pub value_ci95_lo_ms: Option<Ms>,
    pub value_ci95_hi_ms: Option<Ms>,
    pub bottleneck: Option<&'a str>,
    pub bottleneck_utilization: Option<Sig>,
    pub bottleneck_utilization_ci95_lo: Option<Sig>,
    pub bottleneck_utilization_ci95_hi: Option<Sig>,
    /// Replications simulated for the step (0: judged unstable, not simulated).
    pub replications: u32,
    /// With `--precision`: whether every SLO figure met it at this step.
    pub precision_met: Option<bool>,
    /// With `--precision`: whether this row's SLO figure met it (its 95% half-width within
    /// the share of its value) at this step.
    pub slo_precision_met: Option<bool>,
    /// With `--precision`, why the step's replications stopped: `precise` (every SLO figure
    /// met it), `sure_fail` (an SLO figure's whole interval was over its limit first) or
    /// `maximum` (`--max-replications` reached).
    pub precision_stop: Option<&'static str>,
}

fn failing_reason(c: &CapacityOutcome, v: &Verdict) -> Option<String> {
    match v {
        Verdict::Pass => None,
        Verdict::Fail { slo, .. } => Some(c.spec.slos[*slo].text.clone()),
        Verdict::Headroom {
            station,
            utilization,
            ..
        } => Some(format!(
            "{station} utilization {utilization:.4} over --headroom {}",
            c.spec.headroom.unwrap_or(f64::NAN)
        )),
        Verdict::Unstable {
            station,
            utilization,
        } => Some(format!("{station} offered utilization {utilization:.4}")),
    }
}

/// The SLO whose interval's upper end is closest to (or furthest over) its limit at `step`.
pub fn tightest(c: &CapacityOutcome, step: &Step) -> Option<(usize, MeanCi)> {
    c.spec
        .slos
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            let m = step.figures[i]?;
            let hi = m.ci95.map_or(m.mean, |x| x.1);
            Some((i, m, hi / s.limit_ms))
        })
        .max_by(|a, b| a.2.total_cmp(&b.2))
        .map(|(i, m, _)| (i, m))
}

pub fn capacity_rows(c: &CapacityOutcome) -> Vec<CapacityRow<'_>> {
    let servers_search = match &c.spec.knob {
        Knob::Servers(h) => Some(h.as_str()),
        Knob::LoadScale => None,
    };
    c.answers
        .iter()
        .map(|a| {
            let pass = a.last_pass.map(|i| &a.steps[i]);
            let fail = a.first_fail.map(|i| &a.steps[i]);
            let tight = pass.and_then(|p| tightest(c, p));
            CapacityRow {
                variant: &a.variant,
                search: if servers_search.is_some() {
                    "servers"
                } else {
                    "load_scale"
                },
                hop: servers_search,
                feasible: a.feasible(),
                load_scale: if servers_search.is_some() {
                    a.steps.first().map(|s| s.load_scale)
                } else {
                    pass.map(|s| s.load_scale)
                }
                .map(Sig),
                servers: pass.and_then(|s| s.servers),
                first_failing_load_scale: fail
                    .filter(|_| servers_search.is_none())
                    .map(|s| s.load_scale)
                    .map(Sig),
                first_failing_servers: fail.and_then(|s| s.servers),
                first_failing_verdict: fail.map(|s| s.verdict.label()),
                first_failing_reason: fail.and_then(|s| failing_reason(c, &s.verdict)),
                tightest_slo: tight.map(|(i, _)| c.spec.slos[i].text.as_str()),
                tightest_value_ms: tight.map(|(_, m)| m.mean).map(Ms),
                tightest_ci95_lo_ms: tight.and_then(|(_, m)| lo(m)).map(Ms),
                tightest_ci95_hi_ms: tight.and_then(|(_, m)| hi(m)).map(Ms),
                tightest_limit_ms: tight.map(|(i, _)| c.spec.slos[i].limit_ms).map(Ms),
                bottleneck: pass.and_then(|p| p.bottleneck.as_ref().map(|b| b.0.as_str())),
                bottleneck_utilization: pass
                    .and_then(|p| p.bottleneck.as_ref().map(|b| b.1))
                    .map(Sig),
                bottleneck_utilization_ci95_lo: pass
                    .and_then(|p| p.bottleneck_ci95.map(|x| x.0))
                    .map(Sig),
                bottleneck_utilization_ci95_hi: pass
                    .and_then(|p| p.bottleneck_ci95.map(|x| x.1))
                    .map(Sig),
                relaxation_time_s: pass.and_then(|p| p.relaxation_s).map(Secs),
                relaxation_time_s_ci95_lo: pass
                    .and_then(|p| p.relaxation_ci95())
                    .map(|x| Secs(x.0)),
                relaxation_time_s_ci95_hi: pass
                    .and_then(|p| p.relaxation_ci95())
                    .map(|x| Secs(x.1)),
                window_relaxation_times_ci95_lo: pass
                    .and_then(|p| Some(p.window_s? / p.relaxation_ci95()?.1))
                    .map(Sig),
                window_relaxation_times_ci95_hi: pass
                    .and_then(|p| Some(p.window_s? / p.relaxation_ci95()?.0))
                    .map(Sig),
                window_s: pass.and_then(|p| p.window_s).map(Secs),
                window_relaxation_times: pass
                    .and_then(|p| Some(p.window_s? / p.relaxation_s?))
                    .map(Sig),
                fragile: pass.map(|p| !p.fragility().is_empty()),
                fragile_reason: pass.and_then(|p| {
                    let f = p.fragility();
                    (!f.is_empty())
                        .then(|| f.iter().map(|x| x.label()).collect::<Vec<_>>().join(";"))
                }),
                headroom: c.spec.headroom.map(Sig),
                confidence: Sig(c.confidence()),
                bracket: servers_search.is_none().then_some(c.spec.bracket).map(Sig),
                replications: pass
                    .map(|p| p.replications)
                    .filter(|&n| n > 0)
                    .unwrap_or(c.replications),
                precision_pct: c.spec.replicate.map(|p| Sig(p.share * 100.0)),
                precision_met: pass.and_then(|p| p.precision_met),
                steps: a.steps.len(),
                cannot_help: a.cannot_help.as_deref(),
            }
        })
        .collect()
}

pub fn capacity_step_rows(c: &CapacityOutcome) -> Vec<CapacityStepRow<'_>> {
    let mut rows = Vec::new();
    for a in &c.answers {
        for (i, st) in a.steps.iter().enumerate() {
            for (k, slo) in c.spec.slos.iter().enumerate() {
                let m = st.figures[k];
                rows.push(CapacityStepRow {
                    variant: &a.variant,
                    step: i + 1,
                    load_scale: Sig(st.load_scale),
                    servers: st.servers,
                    verdict: st.verdict.label(),
                    slo: &slo.text,
                    limit_ms: Ms(slo.limit_ms),
                    value_ms: m.and_then(val).map(Ms),
                    value_ci95_lo_ms: m.and_then(lo).map(Ms),
                    value_ci95_hi_ms: m.and_then(hi).map(Ms),
                    bottleneck: st.bottleneck.as_ref().map(|b| b.0.as_str()),
                    bottleneck_utilization: st.bottleneck.as_ref().map(|b| b.1).map(Sig),
                    bottleneck_utilization_ci95_lo: st.bottleneck_ci95.map(|x| Sig(x.0)),
                    bottleneck_utilization_ci95_hi: st.bottleneck_ci95.map(|x| Sig(x.1)),
                    replications: st.replications,
                    precision_met: st.precision_met,
                    slo_precision_met: c
                        .spec
                        .replicate
                        .filter(|_| st.replications > 0)
                        .and_then(|p| Some(crate::runner::precision::precise(m?, p.share))),
                    precision_stop: st
                        .precision_met
                        .map(|met| match (met, st.precision_settled) {
                            (true, _) => "precise",
                            (false, true) => "sure_fail",
                            (false, false) => "maximum",
                        }),
                });
            }
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runner::{self, RunOptions};
    use crate::scenario::{self, LoadOptions};

    /// The bundled hybrid scenario with only the variants in `variants` (a TOML array body),
    /// 600 s of statistics after its 300 s warm-up, and 3 replications.
    fn bundled(variants: &str) -> StudyOutcome {
        let text = include_str!("../../scenarios/hybrid-routing.toml");
        let start = text.find("variants = [").unwrap();
        let end = start + text[start..].find("\n]\n").unwrap() + 3;
        let text = format!(
            "{}variants = [{variants}]\n{}",
            &text[..start],
            &text[end..]
        )
        .replace("duration_s = 3600", "duration_s = 900")
        .replace("replications = 5", "replications = 3");
        let scn =
            scenario::from_text(&text, "hybrid-routing.toml", "t", LoadOptions::default()).unwrap();
        runner::run(&scn, RunOptions::default(), &|| {}).unwrap()
    }

    /// MX at EOP, CMT off: only cross-premises mail rides the hybrid link to the cloud, one
    /// copy per message, so `to_cloud_messages_per_day` is the profile's on-premises → cloud
    /// mail: 12 000 mailboxes × 30 sent × (1 − 0.3 to the Internet) × 18 000/30 000 of the
    /// internal mail to cloud mailboxes = 151 200 a day. Its GB are that × the 75 KB mean size
    /// (log-normal, median 45.49, σ = 1). Tolerances: 4 standard errors of a Poisson count of
    /// N ≈ 5.25/s × 600 s × 3 ≈ 9450 messages (1/√N = 1.03%), and for bytes of the compound
    /// sum √(1 + CV²)/√N with the log-normal's CV² = e − 1 (1.70%).
    #[test]
    fn costs_count_the_profiles_cross_premises_mail() {
        let study = bundled(r#"{ mx = "eop", centralized_mail_transport = false }"#);
        let rows = cost_rows(&study);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.variant, "mx-eop_cmt-off");
        assert_eq!(r.eop_licences.map(|s| s.0), Some(12_000.0));
        let per_day = 12_000.0 * 30.0 * 0.7 * 0.6;
        let n = per_day * 3.0 / 86_400.0 * 600.0 * 3.0;
        let msgs = r.to_cloud_messages_per_day.unwrap().0;
        assert!(
            (msgs / per_day - 1.0).abs() < 4.0 / n.sqrt(),
            "{msgs} vs {per_day}"
        );
        let gb = r.to_cloud_gb_per_day.unwrap().0;
        let want_gb = per_day * 45.49 * 0.5f64.exp() * 1024.0 / 1e9;
        let rel_sd = (1.0 + (1f64.exp() - 1.0)).sqrt() / n.sqrt();
        assert!(
            (gb / want_gb - 1.0).abs() < 4.0 * rel_sd,
            "{gb} vs {want_gb}"
        );
        // Mail toward on-premises crosses too (cloud → on-premises, inbound copies), and the
        // on-premises Internet connection carries at least the hybrid link's peak minute.
        assert!(r.to_onprem_messages_per_day.unwrap().0 > 0.0);
        assert!(r.onprem_internet_peak_mbps.unwrap().0 > 0.0);
    }

    /// With MX on-premises no inbound mail goes through EOP first, so no EOP licence is
    /// counted; the file has one row per variant, in order.
    #[test]
    fn mx_onprem_needs_no_eop_licences_and_rows_follow_the_variants() {
        let study = bundled(
            r#"{ mx = "onprem", centralized_mail_transport = false }, { mx = "eop", centralized_mail_transport = true }"#,
        );
        let rows = cost_rows(&study);
        let names: Vec<&str> = rows.iter().map(|r| r.variant).collect();
        assert_eq!(names, ["mx-onprem_cmt-off", "mx-eop_cmt-on"]);
        assert_eq!(rows[0].eop_licences.map(|s| s.0), Some(0.0));
        assert_eq!(rows[1].eop_licences.map(|s| s.0), Some(12_000.0));
        // CMT on hairpins cloud outbound mail through on-premises: more copies toward
        // on-premises than with the same MX and CMT off would carry.
        assert!(rows[1].to_onprem_messages_per_day.unwrap().0 > 0.0);
    }

    /// The CSV contract: the hop and summary files carry every figure's interval columns,
    /// an undefined figure (no copy waited at a link) is an empty cell, never `NaN`, and the
    /// accounting rows add up.
    #[test]
    fn rows_serialize_with_intervals_empty_cells_and_accounting_that_adds_up() {
        let study = bundled(r#"{ mx = "eop", centralized_mail_transport = false }"#);
        let hops = to_bytes(&hop_rows(&study), Path::new("hops.csv")).unwrap();
        let hops = String::from_utf8(hops).unwrap();
        let header: Vec<&str> = hops.lines().next().unwrap().split(',').collect();
        for col in [
            "utilization",
            "mean_wait_ms",
            "p99_wait_ms",
            "mean_sojourn_ms",
        ] {
            assert!(header.contains(&col), "{col}");
            assert!(header.contains(&format!("{col}_ci95_lo").as_str()), "{col}");
            assert!(header.contains(&format!("{col}_ci95_hi").as_str()), "{col}");
        }
        assert!(header.contains(&"rejected_per_rep"));
        assert!(!hops.contains("NaN") && !hops.contains("inf"), "{hops}");
        let summary = to_bytes(&summary_rows(&study), Path::new("summary.csv")).unwrap();
        let summary = String::from_utf8(summary).unwrap();
        assert_eq!(summary.lines().count(), 1 + study.variants[0].flows.len());
        assert!(!summary.contains("NaN"));
        for a in accounting_rows(&study) {
            assert_eq!(
                a.generated,
                a.delivered
                    + a.expired
                    + a.quarantined
                    + a.rejected
                    + a.filtered_spam
                    + a.in_flight,
                "{} does not add up",
                a.variant
            );
        }
    }
}
