//! What calibration writes: `calibrated.toml` (the base scenario's text, edited with
//! `toml_edit` so its comments, topology and variants survive, with the estimated load and
//! hop times, each with a comment giving its source, n and interval), and the rows of
//! `calibration.csv`, `observed.csv` and `skipped.csv`.
//!
//! Also owns which flows and hops the logs can show for a routing variant (on-premises
//! tracking logs do not see mail that never touches on-premises), and the current routing
//! (given or inferred). Must not: write files (see [`crate::report`]) or simulate.

use serde::Serialize;
use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, Value, value};

use super::classify::{ClassifyReport, FLOWS, Source, measured_from, measured_to};
use super::estimate::Estimate;
use super::record::{LogFormat, ReadReport, Sides};
use super::tally::{Calibration, HopMethodUsed, RoutingEvidence};
use crate::hybrid::defaults::default_work;
use crate::hybrid::work::Role;
use crate::hybrid::{self, Hop, Mx, Side, Variant};
use crate::load::arrivals::BUSINESS_DAY;
use crate::model::dist::Dist;
use crate::scenario::Scenario;
use crate::scenario::raw::RawDist;
use crate::scenario::validate::dist;

/// Why calibration's outputs could not be made.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{file}: the base scenario is not TOML that calibrate can edit: {message}")]
    BaseSyntax { file: String, message: String },
    #[error(
        "{file}: the base scenario has no `[hybrid]` table; calibrate fills a hybrid scenario (e.g. scenarios/hybrid-routing.toml)"
    )]
    NotHybrid { file: String },
    #[error(
        "the calibrated scenario does not load: {0}; please report this with the logs' summary"
    )]
    Invalid(#[source] crate::scenario::ScenarioError),
    #[error(
        "--current `{found}`: expected mx=eop or mx=onprem and cmt=on or cmt=off, e.g. --current mx=eop,cmt=off"
    )]
    BadCurrent { found: String },
    #[error("{file}: `{field}` {message}")]
    BaseField {
        file: String,
        field: String,
        message: String,
    },
}

impl OutputError {
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// How much of a source's traffic the logs show under a routing variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visibility {
    Full,
    /// Only messages with on-premises recipients (inbound under MX at EOP, CMT off).
    OnpremCopies,
    /// Only messages with cloud recipients (inbound under MX on-premises, in a message trace).
    CloudCopies,
    None,
}

/// Whether logs of `format` show `source`'s messages when routing is `v`.
fn visibility_of(source: Source, v: Variant, format: LogFormat) -> Visibility {
    use Visibility as V;
    let onprem_logs = format.is_onprem();
    let cmt = v.centralized_mail_transport;
    match (onprem_logs, source) {
        (true, Source::Inbound) if v.mx == Mx::Eop && !cmt => V::OnpremCopies,
        (true, Source::Inbound) => V::Full,
        (true, Source::OutboundFromCloud) if cmt => V::Full,
        (true, Source::OutboundFromCloud | Source::CloudInternal) => V::None,
        (true, _) => V::Full,
        (false, Source::Inbound) if v.mx == Mx::Onprem => V::CloudCopies,
        (false, Source::OnpremInternal | Source::OutboundFromOnprem) => V::None,
        (false, _) => V::Full,
    }
}

/// Whether the logs read (one side or both, joined by message id) show `source`'s messages
/// when routing is `v`: the better of the two sides, since a message seen on either is
/// classified once from what both show.
pub fn visibility(source: Source, v: Variant, sides: Sides) -> Visibility {
    let rank = |x: Visibility| match x {
        Visibility::Full => 2,
        Visibility::OnpremCopies | Visibility::CloudCopies => 1,
        Visibility::None => 0,
    };
    [sides.onprem, sides.cloud]
        .into_iter()
        .flatten()
        .map(|f| visibility_of(source, v, f))
        .max_by_key(|x| rank(*x))
        .unwrap_or(Visibility::None)
}

/// Which logs show `source` under `v`, in words for calibrated.toml's comments: "from the
/// message tracking logs", "from the Exchange Online message trace", or both "joined by
/// message id".
pub fn shown_by(source: Source, v: Variant, sides: Sides) -> String {
    let seen: Vec<LogFormat> = [sides.onprem, sides.cloud]
        .into_iter()
        .flatten()
        .filter(|f| visibility_of(source, v, *f) != Visibility::None)
        .collect();
    match seen.as_slice() {
        [a, b] => format!("from the {a}s and the {b}s, joined by message id"),
        [a] => format!("from the {a}s"),
        _ => "from the logs".to_string(),
    }
}

/// The routing the logs were written under.
#[derive(Clone, Debug, PartialEq)]
pub struct Routing {
    pub variant: Variant,
    /// How it was decided (`--current`, or what in the logs showed it).
    pub how: String,
}

/// Parses `--current mx=eop,cmt=off`.
pub fn parse_current(s: &str) -> Result<Variant, OutputError> {
    let bad = || OutputError::BadCurrent {
        found: s.to_string(),
    };
    let (mut mx, mut cmt) = (None, None);
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').ok_or_else(bad)?;
        match (
            k.trim().to_ascii_lowercase().as_str(),
            v.trim().to_ascii_lowercase().as_str(),
        ) {
            ("mx", "eop") => mx = Some(Mx::Eop),
            ("mx", "onprem" | "on-prem" | "on-premises") => mx = Some(Mx::Onprem),
            ("cmt", "on" | "true") => cmt = Some(true),
            ("cmt", "off" | "false") => cmt = Some(false),
            _ => return Err(bad()),
        }
    }
    match (mx, cmt) {
        (Some(mx), Some(c)) => Ok(Variant {
            mx,
            centralized_mail_transport: c,
        }),
        _ => Err(bad()),
    }
}

/// Infers the routing: the MX is on-premises when Internet mail enters at the 2007 Hub, at
/// EOP when it arrives at the 2013 hybrid server; CMT is on when cloud senders' Internet mail
/// or inbound mail for cloud recipients passes on-premises.
pub fn infer_routing(e: &RoutingEvidence, sides: Sides) -> Routing {
    if sides.onprem.is_none() {
        return Routing {
            variant: Variant {
                mx: Mx::Eop,
                centralized_mail_transport: false,
            },
            how: "assumed (a message trace does not show on-premises routing); give --current"
                .to_string(),
        };
    }
    let hub = e.inbound_entered.get("hub2007").copied().unwrap_or(0);
    let cas = e.inbound_entered.get("cas2013").copied().unwrap_or(0);
    let mx = if hub > cas { Mx::Onprem } else { Mx::Eop };
    let cmt = e.cloud_outbound_onprem > 0 || (mx == Mx::Eop && e.inbound_cloud_onprem > 0);
    Routing {
        variant: Variant {
            mx,
            centralized_mail_transport: cmt,
        },
        how: format!(
            "inferred: Internet mail entered at hub2007 {hub} and at cas2013 {cas} times; \
             {} cloud senders' Internet messages and {} inbound messages for cloud recipients passed on-premises",
            e.cloud_outbound_onprem, e.inbound_cloud_onprem
        ),
    }
}

/// One row of `calibration.csv`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct CalibrationRow {
    pub quantity: String,
    pub flow_or_hop: String,
    #[serde(serialize_with = "crate::report::num::serialize_sig")]
    pub value: f64,
    pub unit: String,
    pub n: u64,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub ci95_lo: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub ci95_hi: Option<f64>,
    pub method: String,
}

fn row(q: &str, what: &str, e: Estimate, unit: &str, method: &str) -> CalibrationRow {
    CalibrationRow {
        quantity: q.to_string(),
        flow_or_hop: what.to_string(),
        value: e.value,
        unit: unit.to_string(),
        n: e.n,
        ci95_lo: e.ci95.map(|c| c.0),
        ci95_hi: e.ci95.map(|c| c.1),
        method: method.to_string(),
    }
}

/// What the estimates become in the scenario, decided once for the TOML and the CSV.
pub struct Plan<'a> {
    pub cal: &'a Calibration,
    pub routing: &'a Routing,
    /// The sides the logs show.
    pub sides: Sides,
    /// The validated base scenario (for its recipient split and hop names).
    pub base: &'a Scenario,
    /// Sources the model of this build has (`hybrid::SOURCES`).
    pub model_sources: Vec<&'static str>,
}

/// A source's busiest-hour rate as the scenario takes it, and how it was made; None when the
/// logs cannot give it.
pub fn scenario_rate(p: &Plan<'_>, s: Source) -> Option<(Estimate, String)> {
    let (_, peak, _) = p.cal.peak_rates.iter().find(|(x, _, _)| *x == s)?;
    let method = format!(
        "all its logged messages ÷ the logged hours weighted by the hourly curve and weekend factor, \
         i.e. the rate in the busiest hour of day ({:02}:00); interval by the delta method",
        p.cal.peak_hour_of_day
    );
    match visibility(s, p.routing.variant, p.sides) {
        Visibility::Full if peak.n == 0 => {
            let total: u64 = p
                .cal
                .peak_rates
                .iter()
                .find(|(x, _, _)| *x == s)
                .map_or(0, |r| r.2);
            if total > 0 {
                Some((*peak, method))
            } else {
                // Visible, and none logged: as good as no such mail (a scenario's rate must
                // be positive, so a negligible one).
                Some((
                    Estimate {
                        value: NO_MAIL_RATE,
                        ..*peak
                    },
                    format!(
                        "no message of this source in the logs although they would show it; {NO_MAIL_RATE} stands for none (95% upper bound {:.3e}/s)",
                        peak.ci95.map_or(f64::NAN, |c| c.1)
                    ),
                ))
            }
        }
        Visibility::Full => Some((*peak, method)),
        Visibility::None => None,
        part @ (Visibility::OnpremCopies | Visibility::CloudCopies) => {
            // Only messages with recipients on the visible side are logged: scale by the
            // base's share of recipients there (each recipient placed independently, a
            // message has one there with probability 1 − (1 − share)^k, summed over k).
            let share = base_onprem_share(p.base)?;
            let side = if part == Visibility::OnpremCopies {
                share
            } else {
                1.0 - share
            };
            let seen: f64 = p
                .cal
                .recipients
                .iter()
                .map(|(k, w)| w.value * (1.0 - (1.0 - side).powi(*k as i32)))
                .sum();
            if seen.is_nan() || seen <= 0.0 || peak.n == 0 {
                return None;
            }
            Some((
                peak.scaled(1.0 / seen),
                format!(
                    "{method}; only messages with {} recipients are logged: divided by {seen:.4}, their expected share at the base's on-premises recipient share {share}",
                    if part == Visibility::OnpremCopies {
                        "on-premises"
                    } else {
                        "cloud"
                    }
                ),
            ))
        }
    }
}

fn base_onprem_share(base: &Scenario) -> Option<f64> {
    base.variants
        .first()?
        .sources
        .iter()
        .find(|s| s.name == "inbound")
        .and_then(|s| s.group_shares.first().copied())
}

/// The rate written for a source the logs would show but have no message of.
pub const NO_MAIL_RATE: f64 = 1e-9;

/// Whether the logs give the inbound recipients' split.
fn split_visible(p: &Plan<'_>) -> bool {
    visibility(Source::Inbound, p.routing.variant, p.sides) == Visibility::Full
}

/// The rows of `calibration.csv`.
pub fn calibration_rows(p: &Plan<'_>) -> Vec<CalibrationRow> {
    let c = p.cal;
    let mut out = Vec::new();
    for s in Source::ALL {
        let total = c
            .peak_rates
            .iter()
            .find(|(x, _, _)| *x == s)
            .map_or(0, |r| r.2);
        out.push(row(
            "messages_logged",
            s.name(),
            Estimate::exact(total as f64, total),
            "messages",
            "classified messages of this source in the logs",
        ));
        if let Some((e, method)) = scenario_rate(p, s) {
            out.push(row(
                "busiest_hour_rate",
                s.name(),
                e,
                "messages_per_s",
                &method,
            ));
        }
    }
    for (h, w) in c.hourly_weights.iter().enumerate() {
        if let Some(w) = w {
            out.push(row(
                "hourly_weight",
                &format!("hour_{h:02}"),
                *w,
                "share_of_busiest_hour",
                if c.weekdays_in_logs {
                    "weekday messages in this hour of day ÷ the busiest hour's (all sources)"
                } else {
                    "weekend messages in this hour of day ÷ the busiest hour's (no weekdays logged)"
                },
            ));
        }
    }
    if let Some(w) = c.weekend_factor {
        out.push(row(
            "weekend_factor",
            "all_sources",
            w,
            "ratio",
            "weekend ÷ weekday rate, each weighted by the hourly curve; delta-method interval",
        ));
    }
    for (k, w) in &c.recipients {
        out.push(row(
            "recipients_weight",
            &format!("{k}_recipients"),
            *w,
            "share_of_messages",
            "messages with this many recipients ÷ all; Wilson interval",
        ));
    }
    out.push(row(
        "recipients_mean",
        "all_sources",
        c.mean_recipients,
        "recipients",
        "mean recipients per message; normal interval",
    ));
    if let Some(s) = c.onprem_share.filter(|_| split_visible(p)) {
        out.push(row(
            "onprem_recipient_share",
            "inbound",
            s,
            "share",
            if p.sides.both() {
                "legitimate inbound recipients delivered on-premises (tracking logs) ÷ all the message trace and the tracking logs show, joined by message id; Wilson interval"
            } else {
                "inbound recipients on-premises ÷ all inbound recipients; Wilson interval"
            },
        ));
    }
    if let Some(s) = c.spam_share {
        out.push(row(
            "spam_share",
            "inbound",
            s,
            "share",
            if p.sides.cloud.is_some() {
                "inbound messages the message trace shows FilteredAsSpam or Quarantined ÷ inbound messages (both sides joined by message id); Wilson interval"
            } else {
                "inbound messages filtered or quarantined ÷ inbound messages; Wilson interval"
            },
        ));
    }
    if let Some(sz) = &c.size {
        out.push(row(
            "size_mean",
            "all_sources",
            sz.mean_kb,
            "kb",
            "mean total-bytes ÷ 1024",
        ));
        out.push(row(
            "size_median",
            "all_sources",
            sz.median_kb,
            "kb",
            "order-statistic interval",
        ));
        if let Some(f) = sz.fit {
            let verdict = format!(
                "log-normal by maximum likelihood; Lilliefors D = {:.5} {} critical {:.5} at 5% ({})",
                f.ks_distance,
                if f.accepted() { "<" } else { ">=" },
                f.critical,
                if f.accepted() {
                    "accepted: the scenario uses the log-normal"
                } else {
                    "refused: the scenario uses the empirical distribution"
                }
            );
            out.push(row(
                "size_lognormal_median",
                "all_sources",
                Estimate::exact(f.median, f.n),
                "kb",
                &verdict,
            ));
            out.push(row(
                "size_lognormal_sigma",
                "all_sources",
                Estimate::exact(f.sigma, f.n),
                "ln_kb",
                &verdict,
            ));
        }
    }
    for h in &c.hops {
        out.push(row(
            "max_concurrent_processing",
            &h.hop,
            Estimate::exact(f64::from(h.max_concurrency), h.n),
            "messages",
            "the most processing intervals (record time − processing time, record time) overlapping at once",
        ));
        for (q, e) in [
            ("queue_wait_mean", h.wait_mean_ms),
            ("queue_wait_p90", h.wait_p90_ms),
            ("queue_wait_p99", h.wait_p99_ms),
        ] {
            if let Some(e) = e {
                out.push(row(
                    q,
                    &h.hop,
                    e,
                    "ms",
                    "the server's queue components (QD*) on SEND/DELIVER records",
                ));
            }
        }
        let m = h.method.describe();
        for (q, e) in [
            ("processing_mean", h.mean_ms),
            ("processing_p50", h.p50_ms),
            ("processing_p90", h.p90_ms),
            ("processing_p99", h.p99_ms),
        ] {
            out.push(row(q, &h.hop, e, "ms", &m));
        }
    }
    for (f, l) in c.latency.iter().enumerate() {
        if l.n == 0 {
            continue;
        }
        let m = format!(
            "observed end to end, from {} to {}; order-statistic interval",
            measured_from(f, p.sides),
            measured_to(f, p.sides)
        );
        for (q, e) in [
            ("latency_p50", l.p50),
            ("latency_p90", l.p90),
            ("latency_p99", l.p99),
            ("latency_p999", l.p999),
        ] {
            out.push(row(q, l.flow, e, "s", &m));
        }
    }
    out
}

/// One row of `observed.csv`: a latency percentile of a flow, or its recipient copies in
/// one hour.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct ObservedRow {
    pub flow: String,
    pub statistic: String,
    /// ISO 8601 UTC start of the hour, for hourly counts.
    pub hour_start_utc: Option<String>,
    #[serde(serialize_with = "crate::report::num::serialize_sig")]
    pub value: f64,
    pub unit: String,
    pub n: u64,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub ci95_lo: Option<f64>,
    #[serde(serialize_with = "crate::report::num::serialize_sig_opt")]
    pub ci95_hi: Option<f64>,
    pub measured_to: String,
}

pub fn observed_rows(p: &Plan<'_>) -> Vec<ObservedRow> {
    let c = p.cal;
    let mut out = Vec::new();
    for (f, l) in c.latency.iter().enumerate() {
        if l.n == 0 {
            continue;
        }
        for (q, e) in [
            ("p50", l.p50),
            ("p90", l.p90),
            ("p99", l.p99),
            ("p99.9", l.p999),
        ] {
            out.push(ObservedRow {
                flow: l.flow.to_string(),
                statistic: format!("latency_{q}"),
                hour_start_utc: None,
                value: e.value,
                unit: "s".to_string(),
                n: e.n,
                ci95_lo: e.ci95.map(|x| x.0),
                ci95_hi: e.ci95.map(|x| x.1),
                measured_to: measured_to(f, p.sides).to_string(),
            });
        }
    }
    let start_h = c.period_start.as_second() / 3600;
    for (f, hours) in c.flow_hourly.iter().enumerate() {
        if hours.is_empty() {
            continue;
        }
        for h in start_h..start_h + c.period_hours as i64 {
            let n = hours.get(&h).copied().unwrap_or(0);
            let at = jiff::Timestamp::from_second(h * 3600)
                .map(|t| t.to_string())
                .unwrap_or_default();
            out.push(ObservedRow {
                flow: FLOWS[f].to_string(),
                statistic: "recipient_copies".to_string(),
                hour_start_utc: Some(at),
                value: n as f64,
                unit: "copies_per_hour".to_string(),
                n,
                ci95_lo: None,
                ci95_hi: None,
                measured_to: measured_to(f, p.sides).to_string(),
            });
        }
    }
    out
}

/// One row of `skipped.csv`.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct SkippedRow {
    pub what: String,
    pub reason: String,
    pub count: u64,
    pub detail: String,
}

pub fn skipped_rows(read: &ReadReport, cls: &ClassifyReport) -> Vec<SkippedRow> {
    let mut out = Vec::new();
    for (r, n) in &cls.skipped {
        out.push(SkippedRow {
            what: "messages".into(),
            reason: r.name().into(),
            count: *n,
            detail: r.describe().into(),
        });
    }
    if read.bad_lines > 0 {
        out.push(SkippedRow {
            what: "lines".into(),
            reason: "unreadable_line".into(),
            count: read.bad_lines,
            detail: read
                .bad_examples
                .first()
                .map(|b| format!("first: {}:{}: {}", b.file.display(), b.line, b.reason))
                .unwrap_or_default(),
        });
    }
    if cls.records_without_id > 0 {
        out.push(SkippedRow {
            what: "records".into(),
            reason: "no_message_id".into(),
            count: cls.records_without_id,
            detail: "records with no message-id, network-message-id or internal-message-id".into(),
        });
    }
    for (s, n) in &cls.unmapped_servers {
        out.push(SkippedRow {
            what: "records".into(),
            reason: "server_maps_to_no_hop".into(),
            count: *n,
            detail: format!(
                "server {s}: its processing times are not used; map it with --server {s}=HOP"
            ),
        });
    }
    if cls.mixed_destinations > 0 {
        out.push(SkippedRow {
            what: "messages (counted, not skipped)".into(),
            reason: "mixed_destinations".into(),
            count: cls.mixed_destinations,
            detail: "messages with recipients of several kinds, counted once in the flow of their furthest destination".into(),
        });
    }
    out
}

fn ci_text(e: &Estimate, digits: usize) -> String {
    match e.ci95 {
        Some((lo, hi)) => format!(", 95% CI [{lo:.digits$}, {hi:.digits$}]"),
        None => String::new(),
    }
}

/// The on-premises share of `load.mailboxes` (None without both counts, or with none).
fn mailbox_share(load: &Table) -> Option<f64> {
    let m = load.get("mailboxes")?.as_table_like()?;
    let count = |k: &str| {
        let v = m.get(k)?;
        v.as_float()
            .or_else(|| v.as_integer().map(|i| i as f64))
            .filter(|x| x.is_finite() && *x >= 0.0)
    };
    let (onprem, cloud) = (count("onprem")?, count("cloud")?);
    (onprem + cloud > 0.0).then(|| onprem / (onprem + cloud))
}

fn prefix(t: &mut Table, key: &str, comment: &str) {
    if let Some(mut k) = t.key_mut(key) {
        let lines: String = comment.lines().map(|l| format!("# {l}\n")).collect();
        k.leaf_decor_mut().set_prefix(lines);
    }
}

/// A multi-line array of numbers, ten to a line.
fn number_array(values: &[f64], digits: usize) -> Array {
    let mut a = Array::new();
    for (i, v) in values.iter().enumerate() {
        let rounded: f64 = format!("{v:.digits$}").parse().unwrap_or(*v);
        let mut val = Value::from(rounded);
        let pre = if i % 10 == 0 { "\n  " } else { " " };
        val.decor_mut().set_prefix(pre);
        a.push_formatted(val);
    }
    a.set_trailing("\n");
    a.set_trailing_comma(true);
    a
}

/// `calibrated.toml`: `base_text` with the estimates written in. Checked by loading it.
/// Returns the text and warnings: variants (what-ifs other than the current routing) whose
/// hops are offered more than they can do at the calibrated load, which `mailflow run` then
/// simulates only with `--allow-unstable`.
pub fn calibrated_toml(
    base_text: &str,
    base_file: &str,
    p: &Plan<'_>,
    inputs: &str,
) -> Result<(String, Vec<String>), OutputError> {
    let mut doc: DocumentMut =
        base_text
            .parse()
            .map_err(|e: toml_edit::TomlError| OutputError::BaseSyntax {
                file: base_file.to_string(),
                message: e.message().to_string(),
            })?;
    if !doc.contains_key("hybrid") {
        return Err(OutputError::NotHybrid {
            file: base_file.to_string(),
        });
    }
    let c = p.cal;
    let base_name = doc
        .get("name")
        .and_then(Item::as_str)
        .unwrap_or(&p.base.name)
        .to_string();
    doc["name"] = value(format!("{base_name}-calibrated"));
    doc["description"] = value(format!(
        "{base_name} with load and on-premises hop times calibrated from {inputs}"
    ));
    let mut load = doc
        .get("load")
        .and_then(Item::as_table)
        .cloned()
        .unwrap_or_default();
    let src = "from the logs";
    // Rates.
    let mut rates = Table::new();
    let mut kept = Vec::new();
    for s in Source::ALL {
        if !p.model_sources.contains(&s.name()) {
            continue;
        }
        match scenario_rate(p, s) {
            Some((e, method)) => {
                rates[s.name()] = value(round_sig(e.value, 6));
                prefix(
                    &mut rates,
                    s.name(),
                    &format!(
                        "calibrated: busiest-hour rate {}, n = {} messages{}\n({method})",
                        shown_by(s, p.routing.variant, p.sides),
                        e.n,
                        ci_text(&e, 5)
                    ),
                );
            }
            None => kept.push(s.name()),
        }
    }
    if let Some(old) = load.get("rates_per_s").and_then(Item::as_table_like) {
        for (k, v) in old.iter() {
            if !rates.contains_key(k) {
                rates[k] = v.clone();
                kept.push("");
                prefix(&mut rates, k, "kept from the base scenario");
            }
        }
    }
    kept.retain(|k| !k.is_empty());
    if !rates.is_empty() {
        rates.set_implicit(false);
        load["rates_per_s"] = Item::Table(rates);
    }
    if !kept.is_empty() {
        for key in ["mailboxes", "sent_per_mailbox_per_day"] {
            if load.contains_key(key) {
                prefix(
                    &mut load,
                    key,
                    &format!(
                        "kept from the base scenario: the mailbox profile gives the sources the logs cannot show ({}; routing {})",
                        kept.join(", "),
                        p.routing.variant.name()
                    ),
                );
                break;
            }
        }
    } else {
        // Every source's rate is calibrated: the mailbox profile would not be used. Its
        // on-premises share of mailboxes is still the base's share of inbound recipients when
        // the logs do not give one (removing it would leave the scenario without a share).
        let calibrated_share = c.onprem_share.is_some() && split_visible(p);
        if !calibrated_share
            && !load.contains_key("onprem_recipient_share")
            && let Some(share) = mailbox_share(&load)
        {
            // Commented below, with the reason the logs do not give it.
            load["onprem_recipient_share"] = value(round_sig(share, 6));
        }
        for key in [
            "mailboxes",
            "sent_per_mailbox_per_day",
            "received_per_mailbox_per_day",
            "internet_share_of_received",
            "internet_share_of_sent",
            "peak_factor",
        ] {
            load.remove(key);
        }
    }
    // Recipients.
    if !c.recipients.is_empty() {
        let mut t = InlineTable::new();
        let counts: Array = c.recipients.iter().map(|(k, _)| i64::from(*k)).collect();
        let weights: Array = c
            .recipients
            .iter()
            .map(|(_, w)| round_sig(w.value, 6))
            .collect();
        t.insert("counts", Value::Array(counts));
        t.insert("weights", Value::Array(weights));
        load["recipients"] = value(t);
        prefix(
            &mut load,
            "recipients",
            &format!(
                "calibrated: recipients per message {src}, n = {} messages, mean {:.3}{}",
                c.mean_recipients.n,
                c.mean_recipients.value,
                ci_text(&c.mean_recipients, 3)
            ),
        );
    }
    if let Some(s) = c.onprem_share.filter(|_| split_visible(p)) {
        load["onprem_recipient_share"] = value(round_sig(s.value, 6));
        prefix(
            &mut load,
            "onprem_recipient_share",
            &format!(
                "calibrated: on-premises share of inbound recipients {}, n = {} recipients{}",
                if p.sides.both() {
                    "from the on-premises deliveries and the message trace's recipients, joined by message id"
                } else {
                    src
                },
                s.n,
                ci_text(&s, 4)
            ),
        );
    } else if load.contains_key("onprem_recipient_share") {
        prefix(
            &mut load,
            "onprem_recipient_share",
            if c.onprem_share.is_none() {
                "kept from the base scenario: these logs have no inbound recipients to split"
            } else {
                "kept from the base scenario: these logs show only one side's inbound recipients"
            },
        );
    }
    if let Some(s) = c.spam_share {
        load["spam_share"] = value(round_sig(s.value, 6));
        prefix(
            &mut load,
            "spam_share",
            &format!(
                "calibrated: share of inbound messages filtered as spam {}, n = {} messages{}",
                if p.sides.cloud.is_some() {
                    "from the message trace (FilteredAsSpam and Quarantined rows)"
                } else {
                    "from the logs (content filter FAIL records)"
                },
                s.n,
                ci_text(&s, 4)
            ),
        );
    } else if load.contains_key("spam_share") {
        prefix(
            &mut load,
            "spam_share",
            "kept from the base scenario: these logs show no filtered mail",
        );
    }
    if let Some(sz) = &c.size {
        let mut t = InlineTable::new();
        let comment = match sz.fit.filter(|f| f.accepted()) {
            Some(f) => {
                t.insert("dist", "lognormal".into());
                t.insert("median", round_sig(f.median, 6).into());
                t.insert("sigma", round_sig(f.sigma, 6).into());
                load["size_kb"] = value(t);
                format!(
                    "calibrated: message size {src}, n = {}: log-normal fitted by maximum likelihood, \
                     accepted by the Lilliefors test at 5% (D = {:.5} < {:.5});\nmean {:.2} KB{}",
                    f.n,
                    f.ks_distance,
                    f.critical,
                    sz.mean_kb.value,
                    ci_text(&sz.mean_kb, 2)
                )
            }
            None => {
                let mut st = Table::new();
                st["dist"] = value("empirical");
                st["samples"] = value(number_array(&sz.points_kb, 3));
                load["size_kb"] = Item::Table(st);
                let test = sz.fit.map_or(String::new(), |f| {
                    format!(
                        "; a log-normal was refused by the Lilliefors test at 5% (D = {:.5} >= {:.5})",
                        f.ks_distance, f.critical
                    )
                });
                format!(
                    "calibrated: message size {src}, n = {}: empirical, {} quantiles{test};\nmean {:.2} KB{}",
                    sz.mean_kb.n,
                    sz.points_kb.len(),
                    sz.mean_kb.value,
                    ci_text(&sz.mean_kb, 2)
                )
            }
        };
        prefix(&mut load, "size_kb", &comment);
    }
    // The diurnal shape.
    let mut shape = Table::new();
    let covered: Vec<bool> = c.hourly_weights.iter().map(Option::is_some).collect();
    let top = BUSINESS_DAY.iter().copied().fold(0.0, f64::max);
    let weights: Vec<f64> = c
        .hourly_weights
        .iter()
        .enumerate()
        .map(|(h, w)| w.map_or(BUSINESS_DAY[h] / top, |e| round_sig(e.value, 5)))
        .collect();
    shape["hourly_weights"] = value(number_array(&weights, 5));
    let missing: Vec<String> = (0..24)
        .filter(|h| !covered[*h])
        .map(|h| format!("{h:02}h"))
        .collect();
    prefix(
        &mut shape,
        "hourly_weights",
        &format!(
            "calibrated: messages per hour of day ({}) ÷ the busiest hour's ({:02}:00), all sources, {src}{}",
            if c.weekdays_in_logs {
                "weekdays"
            } else {
                "weekend days: no weekday was logged"
            },
            c.peak_hour_of_day,
            if missing.is_empty() {
                String::new()
            } else {
                format!(
                    "\nhours the logs do not cover keep mailflow's default business-day curve: {}",
                    missing.join(" ")
                )
            }
        ),
    );
    shape["weekday_factor"] = value(1.0);
    prefix(
        &mut shape,
        "weekday_factor",
        "the busiest weekday hour is the rates' reference",
    );
    match c.weekend_factor {
        Some(w) => {
            shape["weekend_factor"] = value(round_sig(w.value, 5));
            prefix(
                &mut shape,
                "weekend_factor",
                &format!(
                    "calibrated: weekend ÷ weekday rate, n = {} weekend messages{}",
                    w.n,
                    ci_text(&w, 4)
                ),
            );
        }
        None => {
            shape["weekend_factor"] = value(crate::load::arrivals::DEFAULT_WEEKEND_FACTOR);
            prefix(
                &mut shape,
                "weekend_factor",
                "not in the logs (no weekend and weekday both logged): mailflow's default",
            );
        }
    }
    shape["start_day"] = value("tue");
    shape["start_hour"] = value(i64::from(c.peak_hour_of_day));
    prefix(
        &mut shape,
        "start_day",
        "the run starts at the busiest weekday hour, so a one-hour run is the peak hour",
    );
    load["shape"] = Item::Table(shape);
    doc["load"] = Item::Table(load);
    // Hops.
    let estimated: Vec<&str> = c.hops.iter().map(|h| h.hop.as_str()).collect();
    if let Some(hops) = doc.get_mut("hops").and_then(Item::as_table_mut) {
        for h in &c.hops {
            let Some(t) = hops.get_mut(&h.hop).and_then(Item::as_table_mut) else {
                continue;
            };
            let mut st = InlineTable::new();
            st.insert("dist", "empirical".into());
            st.insert("samples", Value::Array(number_array(&h.points_ms, 3)));
            t["service_ms"] = value(st);
            let how = match &h.method {
                HopMethodUsed::LatencyComponents => "the latency components Exchange logs",
                HopMethodUsed::ReceiveToSendAtLowLoad(_) => "RECEIVE to SEND/DELIVER at low load",
            };
            prefix(
                t,
                "service_ms",
                &format!(
                    "calibrated: processing time per message {src}, from {how}, n = {}:\n{}\nmean {:.2} ms{}; p50 {:.2}, p90 {:.2}, p99 {:.2} ms; {} quantiles",
                    h.n,
                    h.method.describe(),
                    h.mean_ms.value,
                    ci_text(&h.mean_ms, 2),
                    h.p50_ms.value,
                    h.p90_ms.value,
                    h.p99_ms.value,
                    h.points_ms.len()
                ),
            );
            // Full: one message in ten waited longer than a typical message takes (the
            // p90 wait at least the median processing), so the concurrency seen is the limit.
            let queued = h.wait_p90_ms.is_some_and(|w| w.value >= h.p50_ms.value);
            if queued && h.max_concurrency > 0 {
                t["servers"] = value(i64::from(h.max_concurrency));
                prefix(
                    t,
                    "servers",
                    &format!(
                        "calibrated: the most messages in processing at once in the logs; messages queued \
                         (mean wait {:.1} ms), so the hop was full then and this is its limit",
                        h.wait_mean_ms.map_or(0.0, |w| w.value)
                    ),
                );
            } else if t.contains_key("servers") {
                prefix(
                    t,
                    "servers",
                    &if h.max_concurrency == 0 {
                        "kept from the base scenario: these logs time no processing intervals here (no latency components), so they show nothing of its concurrency".to_string()
                    } else {
                        format!(
                            "kept from the base scenario: messages hardly queued here, so the logs show only that at least {} ran at once",
                            h.max_concurrency
                        )
                    },
                );
            }
            if t.contains_key("per_kb_ms") {
                t["per_kb_ms"] = value(0.0);
                prefix(
                    t,
                    "per_kb_ms",
                    "calibrated: 0, the measured processing times already include the size's effect",
                );
            }
        }
        let names: Vec<String> = hops.iter().map(|(k, _)| k.to_string()).collect();
        for k in names {
            if estimated.contains(&k.as_str()) {
                continue;
            }
            if let Some(t) = hops.get_mut(&k).and_then(Item::as_table_mut) {
                t.decor_mut().set_prefix(format!(
                    "\n# kept from the base scenario: the logs give no processing times for {k}\n"
                ));
            }
        }
    }
    calibrated_work(&mut doc, c, base_file)?;
    let header = format!(
        "# Calibrated by `mailflow calibrate` from {inputs}: {} messages over {} hours from {}.\n\
         # Values marked `calibrated:` come from the logs (with their sample size n and 95% interval);\n\
         # values marked `kept from the base scenario` are the base's ({base_file}). Routing when\n\
         # the logs were written: {} ({}).\n\n",
        c.messages,
        c.period_hours,
        c.period_start,
        p.routing.variant.name(),
        p.routing.how
    );
    let text = format!("{header}{doc}");
    let load = |allow_unstable| {
        crate::scenario::from_text(
            &text,
            "calibrated.toml",
            "calibrated",
            crate::scenario::LoadOptions { allow_unstable },
        )
    };
    let mut warnings = Vec::new();
    match load(false) {
        Ok(_) => {}
        Err(e @ crate::scenario::ScenarioError::Unstable { .. }) => {
            let scn = load(true).map_err(OutputError::Invalid)?;
            let current = p.routing.variant.name();
            for v in &scn.variants {
                if !v.is_stable() {
                    if v.name == current {
                        return Err(OutputError::Invalid(e));
                    }
                    warnings.push(format!(
                        "calibrated.toml: variant {} is offered more than one of its hops can do at the calibrated load; `mailflow run` needs --allow-unstable for it",
                        v.name
                    ));
                }
            }
        }
        Err(e) => return Err(OutputError::Invalid(e)),
    }
    Ok((text, warnings))
}

/// The base's `[hybrid.work.<hop>].<key>` (or `hybrid.<key>` when `hop` is None) as a
/// distribution in milliseconds, if the base gives it.
fn base_work_dist(
    doc: &DocumentMut,
    base_file: &str,
    hop: Option<&str>,
    key: &str,
) -> Result<Option<Dist>, OutputError> {
    let hybrid = doc.get("hybrid").and_then(Item::as_table_like);
    let table = match hop {
        None => hybrid,
        Some(h) => hybrid
            .and_then(|t| t.get("work"))
            .and_then(Item::as_table_like)
            .and_then(|t| t.get(h))
            .and_then(Item::as_table_like),
    };
    let Some(item) = table.and_then(|t| t.get(key)) else {
        return Ok(None);
    };
    let field = match hop {
        None => format!("hybrid.{key}"),
        Some(h) => format!("hybrid.work.{h}.{key}"),
    };
    #[derive(serde::Deserialize)]
    struct One {
        d: RawDist,
    }
    let text = format!("d = {}", item.to_string().trim());
    let invalid = |message: String| OutputError::BaseField {
        file: base_file.to_string(),
        field: field.clone(),
        message,
    };
    let raw: One = toml::from_str(&text).map_err(|e| invalid(e.message().to_string()))?;
    dist(&raw.d, &field, 1.0, true)
        .map(Some)
        .map_err(|b| invalid(b.message))
}

/// A log-normal with the mean and variance of `d` (ms): a stated approximation, used where a
/// sum of two distributions must be written as one.
fn moment_matched_lognormal(d: &Dist) -> Option<(f64, f64)> {
    let m = d.mean();
    let var = d.second_moment() - m * m;
    (m > 0.0 && var.is_finite()).then(|| {
        let s2 = (1.0 + var.max(0.0) / (m * m)).ln();
        (m / (s2 / 2.0).exp(), s2.sqrt())
    })
}

/// Per-visit work of the calibrated hops. A hop's logged processing time (TOTAL minus its
/// queue waits) is its whole visit: agents, filtering and the categorizer's look-ups,
/// global-catalog round trips included. So every role such a hop has in the base (or in
/// mailflow's defaults, which apply where the base says nothing) costs the calibrated
/// `service_ms`, its per-recipient look-up costs 0, and the global-catalog round trip is 0;
/// hops not calibrated keep the base's look-up cost, their round trip folded into their
/// `lookup_ms` (the round trip is one global figure, so it cannot stay for them alone).
fn calibrated_work(
    doc: &mut DocumentMut,
    c: &Calibration,
    base_file: &str,
) -> Result<(), OutputError> {
    let estimated: Vec<&str> = c.hops.iter().map(|h| h.hop.as_str()).collect();
    if estimated.is_empty() {
        return Ok(());
    }
    let defaults = default_work();
    let gc = match base_work_dist(doc, base_file, None, "gc_round_trip_ms")? {
        Some(d) => d,
        None => defaults.gc_round_trip.scaled(1e-6),
    };
    // Non-calibrated on-premises hops with a per-recipient look-up: own work + round trip.
    // (hop, the log-normal's median and sigma, the sum's mean), ms.
    type Folded = (String, Option<(f64, f64)>, f64);
    let mut folded: Vec<Folded> = Vec::new();
    for (hop, w) in &defaults.hops {
        let name = hop.name();
        if hop.side() != Side::Onprem || estimated.contains(&name) {
            continue;
        }
        let own = match base_work_dist(doc, base_file, Some(name), "lookup_ms")? {
            Some(d) => Some(d),
            None => w.lookup.as_ref().map(|d| d.scaled(1e-6)),
        };
        if let Some(own) = own {
            let sum = Dist::Sum(Box::new((own, gc.clone())));
            folded.push((name.to_string(), moment_matched_lognormal(&sum), sum.mean()));
        }
    }
    let roles_of = |doc: &DocumentMut, hop: &str| -> Vec<&'static str> {
        let in_base = |key: &str| {
            doc.get("hybrid")
                .and_then(|t| t.get("work"))
                .and_then(|t| t.get(hop))
                .and_then(|t| t.get(key))
                .is_some()
        };
        let dflt = Hop::from_name(hop).and_then(|h| defaults.of(h));
        Role::ALL
            .into_iter()
            .filter(|r| in_base(r.key()) || dflt.is_some_and(|w| w.role(*r).is_some()))
            .map(Role::key)
            .collect()
    };
    let services: Vec<(String, Array, Vec<&'static str>)> = c
        .hops
        .iter()
        .map(|h| {
            (
                h.hop.clone(),
                number_array(&h.points_ms, 3),
                roles_of(doc, &h.hop),
            )
        })
        .collect();
    let hybrid = doc["hybrid"]
        .as_table_mut()
        .ok_or_else(|| OutputError::BaseField {
            file: base_file.to_string(),
            field: "hybrid".into(),
            message: "is not a table".into(),
        })?;
    if !hybrid.contains_key("work") {
        let mut t = Table::new();
        t.set_implicit(true);
        hybrid["work"] = Item::Table(t);
    }
    let zero = || {
        let mut z = InlineTable::new();
        z.insert("dist", "deterministic".into());
        z.insert("value", Value::from(0.0));
        value(z)
    };
    hybrid["gc_round_trip_ms"] = zero();
    prefix(
        hybrid,
        "gc_round_trip_ms",
        &format!(
            "calibrated: 0, the processing times logged at {} include the categorizer's global-catalog look-ups;\n\
             the base's round trip ({:.2} ms mean) is folded into the look-up cost of the hops not calibrated (below)",
            estimated.join(", "),
            gc.mean()
        ),
    );
    let work = hybrid["work"]
        .as_table_mut()
        .ok_or_else(|| OutputError::BaseField {
            file: base_file.to_string(),
            field: "hybrid.work".into(),
            message: "is not a table".into(),
        })?;
    for (hop, samples, roles) in services {
        let mut t = Table::new();
        for key in &roles {
            let mut st = InlineTable::new();
            st.insert("dist", "empirical".into());
            st.insert("samples", Value::Array(samples.clone()));
            t[key] = value(st);
        }
        t["lookup_ms"] = zero();
        prefix(
            &mut t,
            "lookup_ms",
            "calibrated: 0, the logged processing time includes the look-ups",
        );
        t.decor_mut().set_prefix(format!(
            "\n# calibrated: every visit to {hop} costs its logged processing time (the same quantiles as\n\
             # [hops.{hop}].service_ms){}: the log times the whole visit, whatever its role\n",
            if roles.is_empty() {
                String::new()
            } else {
                format!(
                    "; its role times below ({}) repeat them, as the base or mailflow's defaults give those roles times of their own",
                    roles.join(", ")
                )
            }
        ));
        work[&hop] = Item::Table(t);
    }
    for (hop, ln, mean) in folded {
        let Some((median, sigma)) = ln else { continue };
        if gc.mean() <= 0.0 {
            continue;
        }
        let t = match work.get_mut(&hop).and_then(Item::as_table_mut) {
            Some(t) => t,
            None => {
                work[&hop] = Item::Table(Table::new());
                work[&hop].as_table_mut().expect("just inserted")
            }
        };
        let mut d = InlineTable::new();
        d.insert("dist", "lognormal".into());
        d.insert("median", round_sig(median, 6).into());
        d.insert("sigma", round_sig(sigma, 6).into());
        t["lookup_ms"] = value(d);
        prefix(
            t,
            "lookup_ms",
            &format!(
                "kept from the base scenario: its look-up work per recipient plus the global-catalog round trip \
                 (a log-normal with their sum's mean {mean:.3} ms and variance)"
            ),
        );
    }
    Ok(())
}

/// `v` rounded to `sig` significant digits (so the scenario reads as numbers, not noise).
pub fn round_sig(v: f64, sig: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let mag = v.abs().log10().floor() as i32;
    let f = 10f64.powi(sig - 1 - mag);
    (v * f).round() / f
}

/// The sources this build's hybrid model has.
pub fn model_sources() -> Vec<&'static str> {
    hybrid::SOURCES.to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::classify::{HopMethod, HopSample, Message};
    use crate::calibrate::tally::Tally;

    const BASE: &str = include_str!("../../scenarios/hybrid-routing.toml");

    fn calibration() -> Calibration {
        let monday = 1_772_409_600.0; // 2026-03-02T00:00:00Z
        let mut t = Tally::new(jiff::tz::TimeZone::UTC);
        let mut i = 0u64;
        for day in 0..7 {
            for hour in 0..24 {
                let n = if day >= 5 { 2 } else { 4 + (hour % 5) };
                for s in Source::ALL {
                    for k in 0..n {
                        i += 1;
                        t.add(&Message {
                            source: s,
                            arrival_s: monday + f64::from(day * 86_400 + hour * 3600 + k * 97),
                            recipients: 1 + (i % 3) as u32,
                            onprem_recipients: 1,
                            cloud_recipients: (i % 3) as u32,
                            size_bytes: Some(1000 + (i * 7919) % 200_000),
                            spam: false,
                            latencies: vec![(0, 1.0 + (i % 10) as f64 / 10.0)],
                            processing: vec![HopSample {
                                hop: "cas2013".into(),
                                seconds: 0.2 + (i % 7) as f64 / 100.0,
                                method: HopMethod::LatencyComponents,
                                at_s: monday,
                                end_s: monday + 0.2,
                                wait_s: Some(0.0),
                            }],
                            mixed: false,
                            first_hop: Some("cas2013".into()),
                            cloud_recipients_via_onprem: 0,
                        });
                    }
                }
            }
        }
        t.finish(&|_| true).unwrap()
    }

    fn base() -> Scenario {
        crate::scenario::from_text(BASE, "hybrid-routing.toml", "b", Default::default()).unwrap()
    }

    #[test]
    fn calibrated_scenario_loads_keeps_structure_and_marks_values() {
        let cal = calibration();
        let base = base();
        let routing = Routing {
            variant: parse_current("mx=eop,cmt=on").unwrap(),
            how: "given".into(),
        };
        let p = Plan {
            cal: &cal,
            routing: &routing,
            sides: Sides::of(&[LogFormat::TrackingLog]),
            base: &base,
            model_sources: model_sources(),
        };
        let (text, _) = calibrated_toml(BASE, "hybrid-routing.toml", &p, "2 files").unwrap();
        // The base's comments, variants and links survive.
        assert!(text.contains("# the seed's recommended default"), "{text}");
        assert!(text.contains("[links.rgc]"));
        assert!(text.contains("# calibrated: busiest-hour rate"));
        assert!(
            text.contains(
                "# kept from the base scenario: the logs give no processing times for eop"
            )
        );
        let scn = crate::scenario::from_text(&text, "c.toml", "c", Default::default()).unwrap();
        assert_eq!(scn.variants.len(), 4);
        // The inbound rate: the busiest weekday hour has 4 + 4 = 8 messages on 5 days.
        let inbound = scn.variants[0]
            .sources
            .iter()
            .find(|s| s.name == "inbound")
            .unwrap();
        assert!(
            (inbound.rate_per_s - 8.0 / 3600.0).abs() < 1e-8,
            "{}",
            inbound.rate_per_s
        );
        // CMT on: cloud senders' Internet mail is visible; cloud-internal mail is not, so the
        // mailbox profile stays where the model has that source (else every rate is given).
        assert_eq!(
            text.contains("mailboxes"),
            model_sources().contains(&"cloud_internal")
        );
        let rows = calibration_rows(&p);
        assert!(
            rows.iter().any(
                |r| r.quantity == "busiest_hour_rate" && r.flow_or_hop == "outbound_from_cloud"
            )
        );
        assert!(
            !rows
                .iter()
                .any(|r| r.quantity == "busiest_hour_rate" && r.flow_or_hop == "cloud_internal")
        );
    }

    /// A calibrated hop's every visit costs its logged processing time, whatever its role and
    /// however many recipients the copy has: mailflow's default role times (the Hub's 300 ms
    /// anti-spam filtering on Internet mail) and look-ups must not come back for it; a hop not
    /// calibrated keeps the base's per-recipient cost, the global-catalog round trip included.
    #[test]
    fn every_visit_to_a_calibrated_hop_costs_the_calibrated_time() {
        let mut cal = calibration();
        // Calibrate hub2007 too, with the cas2013 quantiles.
        let mut hub = cal.hops[0].clone();
        hub.hop = "hub2007".into();
        cal.hops.push(hub);
        let base = base();
        let routing = Routing {
            variant: parse_current("mx=onprem,cmt=on").unwrap(),
            how: "given".into(),
        };
        let p = Plan {
            cal: &cal,
            routing: &routing,
            sides: Sides::of(&[LogFormat::TrackingLog]),
            base: &base,
            model_sources: model_sources(),
        };
        let (text, _) = calibrated_toml(BASE, "hybrid-routing.toml", &p, "2 files").unwrap();
        let scn = crate::scenario::from_text(&text, "c.toml", "c", Default::default()).unwrap();
        let mean_s = cal.hops[0].mean_ms.value / 1e3;
        let points_mean_s =
            cal.hops[0].points_ms.iter().sum::<f64>() / cal.hops[0].points_ms.len() as f64 / 1e3;
        assert!((mean_s - points_mean_s).abs() < 0.01 * mean_s);
        let base_scn = &base.variants;
        for (v, bv) in scn.variants.iter().zip(base_scn) {
            let net = &v.network;
            let at = |name: &str| net.stations.iter().position(|s| s.name == name).unwrap();
            let (hub, cas) = (at("hub2007"), at("cas2013"));
            // Outbound from on-premises visits the Hub once (relay, then the look-up); MX
            // on-premises, inbound mail visits it once (filter, then the look-up).
            let mut sources = vec!["outbound_from_onprem"];
            if v.name.starts_with("mx-onprem") {
                sources.push("inbound");
            }
            for src in sources {
                let entry = net.route_entry(src).unwrap();
                for rcpt in [1.0, 10.0] {
                    let w = net.expected_work_s(entry, &[1.0, 0.0], 75.0, rcpt, false);
                    assert!(
                        (w[hub] - points_mean_s).abs() < 1e-9 * points_mean_s.max(1.0),
                        "{} {src} with {rcpt} recipients: {} s at hub2007, calibrated {points_mean_s}",
                        v.name,
                        w[hub]
                    );
                }
            }
            // Inbound with MX at EOP and CMT on looks recipients up at cas2013 (calibrated too):
            // no per-recipient cost there either.
            if v.name == "mx-eop_cmt-on" {
                let entry = net.route_entry("inbound").unwrap();
                let w1 = net.expected_work_s(entry, &[1.0, 0.0], 75.0, 1.0, false);
                let w10 = net.expected_work_s(entry, &[1.0, 0.0], 75.0, 10.0, false);
                assert!(
                    (w1[cas] - w10[cas]).abs() < 1e-12,
                    "{} {}",
                    w1[cas],
                    w10[cas]
                );
            }
            // A hop not calibrated (Exchange Online's look-up) keeps the base's costs.
            let exo = at("exo");
            let entry = net.route_entry("cloud_internal").unwrap();
            let bnet = &bv.network;
            let bentry = bnet.route_entry("cloud_internal").unwrap();
            let bexo = bnet.stations.iter().position(|s| s.name == "exo").unwrap();
            let w = net.expected_work_s(entry, &[0.0, 1.0], 75.0, 3.0, false)[exo];
            let bw = bnet.expected_work_s(bentry, &[0.0, 1.0], 75.0, 3.0, false)[bexo];
            assert!((w - bw).abs() < 1e-12, "{w} {bw}");
        }
        // With only cas2013 calibrated, the Hub keeps its per-recipient cost: its own work plus
        // the global-catalog round trip, folded into one log-normal with their sum's mean.
        let cal = calibration();
        let p = Plan { cal: &cal, ..p };
        let (text, _) = calibrated_toml(BASE, "hybrid-routing.toml", &p, "2 files").unwrap();
        let scn = crate::scenario::from_text(&text, "c.toml", "c", Default::default()).unwrap();
        for (v, bv) in scn.variants.iter().zip(base_scn) {
            let per_rcpt = |net: &crate::model::network::Network| {
                let hub = net
                    .stations
                    .iter()
                    .position(|s| s.name == "hub2007")
                    .unwrap();
                let e = net.route_entry("outbound_from_onprem").unwrap();
                let w = |r| net.expected_work_s(e, &[1.0, 0.0], 75.0, r, false)[hub];
                (w(10.0) - w(1.0)) / 9.0
            };
            let (now, was) = (per_rcpt(&v.network), per_rcpt(&bv.network));
            assert!((now - was).abs() < 1e-6 * was, "{}: {now} vs {was}", v.name);
        }
    }

    #[test]
    fn inbound_rate_is_scaled_when_only_onprem_copies_are_logged() {
        let cal = calibration();
        let base = base();
        let routing = Routing {
            variant: parse_current("mx=eop,cmt=off").unwrap(),
            how: "given".into(),
        };
        let p = Plan {
            cal: &cal,
            routing: &routing,
            sides: Sides::of(&[LogFormat::TrackingLog]),
            base: &base,
            model_sources: model_sources(),
        };
        let (e, m) = scenario_rate(&p, Source::Inbound).unwrap();
        assert!(e.value > 8.0 / 3600.0, "{e:?}");
        assert!(m.contains("only messages with on-premises recipients"));
        assert!(
            !calibration_rows(&p)
                .iter()
                .any(|r| r.quantity == "onprem_recipient_share")
        );
    }

    #[test]
    fn current_routing_parses_and_refuses_nonsense() {
        assert_eq!(
            parse_current("mx=onprem, cmt=on").unwrap(),
            Variant {
                mx: Mx::Onprem,
                centralized_mail_transport: true
            }
        );
        for bad in ["", "mx=eop", "mx=cloud,cmt=off", "cmt=maybe,mx=eop"] {
            assert!(parse_current(bad).is_err(), "{bad}");
        }
    }
}
