//! Running tallies of classified messages, and the estimates made from them at the end.
//!
//! Everything kept is bounded by the logged period's hours and the histograms' resolution
//! (HdrHistogram, 3 significant digits), never by the number of messages: a year of logs
//! costs the same memory as a day, plus 8760 hourly counters per flow.
//!
//! Must not: read records (see [`super::classify`]) or write files.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use hdrhistogram::Histogram;
use jiff::Timestamp;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;

use super::classify::{FLOWS, HopMethod, Message, Source};
use super::estimate::{self, Estimate, LogNormalFit};

/// Points kept of an empirical distribution written into the scenario (uniform draws from
/// them reproduce the distribution to 1/400 in probability, so p99.5 and below).
pub const EMPIRICAL_POINTS: usize = 400;

fn histogram() -> Histogram<u64> {
    Histogram::new(3).expect("3 significant digits is valid")
}

/// Records into an auto-resizing histogram (which grows to any u64 value).
trait RecordAuto {
    fn record_auto(&mut self, v: u64);
}

impl RecordAuto for Histogram<u64> {
    fn record_auto(&mut self, v: u64) {
        // Auto-resizing histograms only refuse values above u64's range: none here.
        let _ = self.record(v);
    }
}

/// The most processing intervals in progress at once, by a sweep over their starts. Intervals
/// arrive as messages close, up to the classifier's horizon late, so they are held for
/// [`CONCURRENCY_SLACK_US`] before the sweep passes them (memory: the intervals of that span).
#[derive(Clone, Debug, Default)]
struct Concurrency {
    pending: BinaryHeap<Reverse<(i64, i64)>>,
    active: BinaryHeap<Reverse<i64>>,
    newest: i64,
    max: u32,
}

/// Tracking logs write times and latency components to the millisecond.
const LOG_RESOLUTION_US: i64 = 1000;

/// Longer than the classifier's horizon (2 h) plus a message's time at one server.
const CONCURRENCY_SLACK_US: i64 = 3 * 3600 * 1_000_000;

impl Concurrency {
    fn add(&mut self, start_us: i64, end_us: i64) {
        self.pending.push(Reverse((start_us, end_us)));
        self.newest = self.newest.max(end_us);
        self.drain(self.newest - CONCURRENCY_SLACK_US);
    }

    fn drain(&mut self, upto: i64) {
        while let Some(Reverse((s, e))) = self.pending.peek().copied() {
            if s >= upto {
                break;
            }
            self.pending.pop();
            // Times and components are logged to the millisecond: intervals that touch
            // within it do not overlap.
            while self
                .active
                .peek()
                .is_some_and(|Reverse(x)| *x <= s + LOG_RESOLUTION_US)
            {
                self.active.pop();
            }
            self.active.push(Reverse(e));
            self.max = self.max.max(self.active.len() as u32);
        }
    }

    fn finish(&self) -> u32 {
        let mut c = self.clone();
        c.drain(i64::MAX);
        c.max
    }
}

/// Per hop of the base scenario: what its processing times look like.
#[derive(Clone, Debug)]
struct HopTally {
    /// Latency components (TOTAL − QD*), microseconds.
    components: Histogram<u64>,
    /// Queue waits (the QD* components), microseconds.
    waits: Histogram<u64>,
    concurrency: Concurrency,
    /// RECEIVE → SEND/DELIVER, microseconds, per hour of day (local), for the low-load pick.
    receive_to_send: Vec<Histogram<u64>>,
    /// Messages that visited the hop (whatever their samples were used for).
    visits: u64,
}

impl HopTally {
    fn new() -> HopTally {
        HopTally {
            components: histogram(),
            waits: histogram(),
            concurrency: Concurrency::default(),
            receive_to_send: (0..24).map(|_| histogram()).collect(),
            visits: 0,
        }
    }
}

/// Sums of the running tallies.
#[derive(Clone, Debug)]
pub struct Tally {
    tz: TimeZone,
    /// Per source: messages per absolute hour (Unix seconds ÷ 3600).
    source_hourly: Vec<BTreeMap<i64, u64>>,
    /// Per flow: recipient copies per absolute hour (by the message's arrival).
    flow_hourly: Vec<BTreeMap<i64, u64>>,
    /// Per flow: Σ over messages of (its copies in the flow)², for the copies' variance.
    flow_copies_sq: Vec<f64>,
    /// Per source: recipients per message → messages.
    recipients: Vec<BTreeMap<u32, u64>>,
    inbound_onprem: u64,
    inbound_cloud: u64,
    inbound_messages: u64,
    inbound_spam: u64,
    sizes: Histogram<u64>,
    size_ln_sum: f64,
    size_ln_sq: f64,
    hops: BTreeMap<String, HopTally>,
    /// Per flow: end-to-end latency, microseconds.
    latency: Vec<Histogram<u64>>,
    messages: u64,
    first_s: f64,
    last_s: f64,
    routing: RoutingEvidence,
}

/// What in the logs shows the routing they were written under.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoutingEvidence {
    /// Inbound messages by the hop where they entered on-premises.
    pub inbound_entered: BTreeMap<String, u64>,
    /// Cloud senders' Internet messages seen on-premises (CMT on).
    pub cloud_outbound_onprem: u64,
    /// Inbound messages with cloud recipients seen on-premises.
    pub inbound_cloud_onprem: u64,
}

impl Tally {
    pub fn new(tz: TimeZone) -> Tally {
        Tally {
            tz,
            source_hourly: vec![BTreeMap::new(); Source::ALL.len()],
            flow_hourly: vec![BTreeMap::new(); FLOWS.len()],
            flow_copies_sq: vec![0.0; FLOWS.len()],
            recipients: vec![BTreeMap::new(); Source::ALL.len()],
            inbound_onprem: 0,
            inbound_cloud: 0,
            inbound_messages: 0,
            inbound_spam: 0,
            sizes: histogram(),
            size_ln_sum: 0.0,
            size_ln_sq: 0.0,
            hops: BTreeMap::new(),
            latency: (0..FLOWS.len()).map(|_| histogram()).collect(),
            messages: 0,
            first_s: f64::INFINITY,
            last_s: f64::NEG_INFINITY,
            routing: RoutingEvidence::default(),
        }
    }

    fn local_hour(&self, t_s: f64) -> usize {
        Timestamp::from_second(t_s.floor() as i64)
            .map(|t| self.tz.to_datetime(t).hour() as usize)
            .unwrap_or(0)
    }

    pub fn add(&mut self, m: &Message) {
        self.messages += 1;
        self.first_s = self.first_s.min(m.arrival_s);
        self.last_s = self.last_s.max(m.arrival_s);
        let hour = (m.arrival_s / 3600.0).floor() as i64;
        *self.source_hourly[m.source.index()]
            .entry(hour)
            .or_default() += 1;
        *self.recipients[m.source.index()]
            .entry(m.recipients.max(1))
            .or_default() += 1;
        if let Some(h) = &m.first_hop {
            match m.source {
                Source::Inbound => {
                    *self.routing.inbound_entered.entry(h.clone()).or_default() += 1;
                    self.routing.inbound_cloud_onprem +=
                        u64::from(m.cloud_recipients_via_onprem > 0);
                }
                Source::OutboundFromCloud => self.routing.cloud_outbound_onprem += 1,
                _ => {}
            }
        }
        if m.source == Source::Inbound {
            self.inbound_messages += 1;
            self.inbound_spam += u64::from(m.spam);
            if !m.spam {
                self.inbound_onprem += u64::from(m.onprem_recipients);
                self.inbound_cloud += u64::from(m.cloud_recipients);
            }
            for (flow, n) in [(0, m.onprem_recipients), (1, m.cloud_recipients)] {
                if n > 0 && !m.spam {
                    *self.flow_hourly[flow].entry(hour).or_default() += u64::from(n);
                    self.flow_copies_sq[flow] += f64::from(n).powi(2);
                }
            }
        } else {
            let flow = super::classify::flow_of(m.source, super::classify::Side::Onprem);
            let n = m.recipients.max(1);
            *self.flow_hourly[flow].entry(hour).or_default() += u64::from(n);
            self.flow_copies_sq[flow] += f64::from(n).powi(2);
        }
        if let Some(b) = m.size_bytes.filter(|b| *b > 0) {
            self.sizes.record_auto(b);
            let l = (b as f64 / 1024.0).ln();
            self.size_ln_sum += l;
            self.size_ln_sq += l * l;
        }
        for (flow, s) in &m.latencies {
            self.latency[*flow].record_auto((s * 1e6).round() as u64);
        }
        for p in &m.processing {
            let us = (p.seconds * 1e6).round() as u64;
            let h = self.local_hour(p.at_s);
            let t = self.hops.entry(p.hop.clone()).or_insert_with(HopTally::new);
            t.visits += 1;
            match p.method {
                HopMethod::LatencyComponents => {
                    t.components.record_auto(us);
                    if let Some(w) = p.wait_s {
                        t.waits.record_auto((w * 1e6).round() as u64);
                    }
                    let end = (p.end_s * 1e6).round() as i64;
                    t.concurrency.add(end - us as i64, end);
                }
                HopMethod::ReceiveToSend => t.receive_to_send[h].record_auto(us),
            }
        }
    }

    /// The hours from the first classified message's arrival hour to the last one's (what
    /// [`Tally::finish`] makes `period_hours`); None when no message was classified.
    pub fn period_hours(&self) -> Option<u64> {
        (self.messages > 0).then(|| {
            let (start_hour, end_hour) = self.hour_span();
            end_hour.saturating_sub(start_hour).max(0) as u64
        })
    }

    /// The absolute hours (Unix s ÷ 3600) of the first classified message's arrival and one
    /// past the last one's.
    fn hour_span(&self) -> (i64, i64) {
        (
            (self.first_s / 3600.0).floor() as i64,
            (self.last_s / 3600.0).floor() as i64 + 1,
        )
    }

    /// What the logs show of the routing (for inferring it before [`Tally::finish`]).
    pub fn routing(&self) -> &RoutingEvidence {
        &self.routing
    }

    /// The estimates; None when no message was classified. Recipients per message are pooled
    /// over the sources `whole` accepts (those the logs show whole).
    pub fn finish(&self, whole: &dyn Fn(Source) -> bool) -> Option<Calibration> {
        if self.messages == 0 {
            return None;
        }
        let (start_hour, end_hour) = self.hour_span();
        // Exposure: how many times each (weekday?, hour of day) occurs in the period.
        let mut exposure = [[0u64; 24]; 2];
        let mut kind_of_hour = BTreeMap::new();
        for h in start_hour..end_hour {
            let z = self.tz.to_datetime(
                Timestamp::from_second(h * 3600).expect("hours of logged timestamps are valid"),
            );
            let weekend = matches!(z.weekday(), Weekday::Saturday | Weekday::Sunday);
            let hod = z.hour() as usize;
            exposure[usize::from(weekend)][hod] += 1;
            kind_of_hour.insert(h, (usize::from(weekend), hod));
        }
        let has_weekdays = exposure[0].iter().any(|e| *e > 0);
        // The kind of day the shape is estimated on: weekdays if the logs have any.
        let base_kind = if has_weekdays { 0 } else { 1 };
        // counts[source][kind][hod]
        let mut counts = vec![[[0u64; 24]; 2]; Source::ALL.len()];
        for (s, per_hour) in self.source_hourly.iter().enumerate() {
            for (h, n) in per_hour {
                if let Some((k, hod)) = kind_of_hour.get(h) {
                    counts[s][*k][*hod] += n;
                }
            }
        }
        let pooled = |kind: usize, hod: usize| -> u64 { counts.iter().map(|c| c[kind][hod]).sum() };
        let rate = |kind: usize, hod: usize| -> Estimate {
            estimate::poisson_rate(pooled(kind, hod), exposure[kind][hod] as f64 * 3600.0)
        };
        let peak_hod = (0..24)
            .filter(|h| exposure[base_kind][*h] > 0)
            .max_by(|a, b| {
                rate(base_kind, *a)
                    .value
                    .total_cmp(&rate(base_kind, *b).value)
                    .then(b.cmp(a))
            })
            .unwrap_or(0);
        let peak = rate(base_kind, peak_hod).value;
        let hourly_weights: Vec<Option<Estimate>> = (0..24)
            .map(|h| {
                (exposure[base_kind][h] > 0 && peak > 0.0)
                    .then(|| rate(base_kind, h).scaled(1.0 / peak))
            })
            .collect();
        // Weekend ÷ weekday: each kind's count over its exposure weighted by the curve.
        let weighted = |kind: usize| -> (u64, f64) {
            let n: u64 = (0..24).map(|h| pooled(kind, h)).sum();
            let w: f64 = (0..24)
                .map(|h| exposure[kind][h] as f64 * hourly_weights[h].map_or(0.0, |e| e.value))
                .sum();
            (n, w)
        };
        let weekend_factor = if has_weekdays && exposure[1].iter().any(|e| *e > 0) {
            let (nd, wd) = weighted(0);
            let (ne, we) = weighted(1);
            (nd > 0 && wd > 0.0 && we > 0.0).then(|| {
                let f = (ne as f64 / we) / (nd as f64 / wd);
                // Log-ratio of two Poisson counts: var ≈ 1/ne + 1/nd (delta method).
                let se = (1.0 / (ne.max(1) as f64) + 1.0 / nd as f64).sqrt();
                estimate::log_scale(f, ne, se)
            })
        } else {
            None
        };
        // Each source's busiest-hour rate from all its logged messages: N ÷ the logged hours
        // weighted by the curve and the weekend factor (the maximum-likelihood rate of a
        // Poisson process of that shape), so the scenario reproduces each source's logged
        // total. Its interval: var(log r) ≈ 1/N + 1/N_peak (delta method; N_peak is the
        // busiest hour's pooled count, which every weight is relative to).
        let f_kind = [1.0, weekend_factor.map_or(1.0, |w| w.value)];
        // (Without weekdays there is no weekend factor: f_kind is 1 for both kinds.)
        let shape_s = 3600.0 * (weighted(0).1 * f_kind[0] + weighted(1).1 * f_kind[1]);
        let n_peak = pooled(base_kind, peak_hod);
        let peak_rates = Source::ALL
            .iter()
            .map(|s| {
                let total: u64 = self.source_hourly[s.index()].values().sum();
                let e = if total > 0 && shape_s > 0.0 && n_peak > 0 {
                    let r = total as f64 / shape_s;
                    let se = (1.0 / total as f64 + 1.0 / n_peak as f64).sqrt();
                    estimate::log_scale(r, total, se)
                } else {
                    estimate::poisson_rate(0, shape_s.max(3600.0))
                };
                (*s, e, total)
            })
            .collect();
        let mut pool: BTreeMap<u32, u64> = BTreeMap::new();
        for s in Source::ALL.into_iter().filter(|s| whole(*s)) {
            for (k, n) in &self.recipients[s.index()] {
                *pool.entry(*k).or_default() += n;
            }
        }
        let total_rcpt: u64 = pool.values().sum();
        let recipients = pool
            .iter()
            .map(|(c, n)| (*c, estimate::wilson(*n, total_rcpt)))
            .collect();
        let mean_recipients = {
            let n = total_rcpt as f64;
            let m = pool
                .iter()
                .map(|(c, k)| f64::from(*c) * *k as f64)
                .sum::<f64>()
                / n;
            let var = pool
                .iter()
                .map(|(c, k)| (f64::from(*c) - m).powi(2) * *k as f64)
                .sum::<f64>()
                / (n - 1.0).max(1.0);
            let half = estimate::Z95 * (var / n).sqrt();
            Estimate {
                value: m,
                n: total_rcpt,
                ci95: Some((m - half, m + half)),
            }
        };
        let onprem_share = (self.inbound_onprem + self.inbound_cloud > 0).then(|| {
            estimate::wilson(
                self.inbound_onprem,
                self.inbound_onprem + self.inbound_cloud,
            )
        });
        let spam_share = (self.inbound_spam > 0)
            .then(|| estimate::wilson(self.inbound_spam, self.inbound_messages));
        let size = self.size_estimate();
        let hops = self
            .hops
            .iter()
            .filter_map(|(name, t)| hop_estimate(name, t, &exposure_by_hod(&counts, base_kind)))
            .collect();
        let latency = self
            .latency
            .iter()
            .enumerate()
            .map(|(f, h)| FlowLatency {
                flow: FLOWS[f],
                n: h.len(),
                p50: hist_quantile(h, 0.5, 1e-6),
                p90: hist_quantile(h, 0.9, 1e-6),
                p99: hist_quantile(h, 0.99, 1e-6),
                p999: hist_quantile(h, 0.999, 1e-6),
            })
            .collect();
        let start = Timestamp::from_second(start_hour * 3600).expect("valid hour");
        let zoned = self.tz.to_datetime(start);
        Some(Calibration {
            messages: self.messages,
            period_start: start,
            period_hours: (end_hour - start_hour) as u64,
            start_day: jiff_day(zoned.weekday()),
            start_hour: zoned.hour() as u32,
            weekdays_in_logs: has_weekdays,
            peak_hour_of_day: peak_hod as u32,
            peak_rates,
            hourly_weights,
            weekend_factor,
            recipients,
            mean_recipients,
            onprem_share,
            spam_share,
            size,
            hops,
            latency,
            flow_hourly: self.flow_hourly.clone(),
            flow_copies_sq: self.flow_copies_sq.clone(),
            routing: self.routing.clone(),
        })
    }

    fn size_estimate(&self) -> Option<SizeEstimate> {
        let n = self.sizes.len();
        if n == 0 {
            return None;
        }
        let sorted_kb = expand_sorted(&self.sizes, 1.0 / 1024.0, 200_000);
        let mean_kb = Estimate {
            value: self.sizes.mean() / 1024.0,
            n,
            ci95: {
                let sd = self.sizes.stdev() / 1024.0;
                let m = self.sizes.mean() / 1024.0;
                let half = estimate::Z95 * sd / (n as f64).sqrt();
                Some((m - half, m + half))
            },
        };
        let nf = n as f64;
        let mu = self.size_ln_sum / nf;
        let sigma = ((self.size_ln_sq - nf * mu * mu) / (nf - 1.0).max(1.0))
            .max(0.0)
            .sqrt();
        let fit = estimate::fit_lognormal(&sorted_kb).map(|mut f| {
            // Exact parameters from the running sums (the histogram rounds to 0.1%).
            f.median = mu.exp();
            f.sigma = sigma;
            f
        });
        Some(SizeEstimate {
            mean_kb,
            median_kb: hist_quantile(&self.sizes, 0.5, 1.0 / 1024.0),
            fit,
            points_kb: estimate::quantile_points(&sorted_kb, EMPIRICAL_POINTS),
        })
    }
}

fn jiff_day(d: Weekday) -> &'static str {
    match d {
        Weekday::Monday => "mon",
        Weekday::Tuesday => "tue",
        Weekday::Wednesday => "wed",
        Weekday::Thursday => "thu",
        Weekday::Friday => "fri",
        Weekday::Saturday => "sat",
        Weekday::Sunday => "sun",
    }
}

/// Mean messages per logged hour, per hour of day, for days of `kind`.
fn exposure_by_hod(counts: &[[[u64; 24]; 2]], kind: usize) -> [u64; 24] {
    let mut out = [0u64; 24];
    for c in counts {
        for (h, o) in out.iter_mut().enumerate() {
            *o += c[kind][h];
        }
    }
    out
}

/// The values of `h` in ascending order, multiplied by `k`, thinned evenly to at most `cap`.
fn expand_sorted(h: &Histogram<u64>, k: f64, cap: u64) -> Vec<f64> {
    let n = h.len();
    let step = n.div_ceil(cap).max(1);
    let mut out = Vec::with_capacity((n / step) as usize + 1);
    let mut seen = 0u64;
    for v in h.iter_recorded() {
        let value = h.median_equivalent(v.value_iterated_to()) as f64 * k;
        for _ in 0..v.count_at_value() {
            if seen.is_multiple_of(step) {
                out.push(value);
            }
            seen += 1;
        }
    }
    out
}

/// The `p` quantile of a histogram with the order-statistic interval, values times `k`.
pub fn hist_quantile(h: &Histogram<u64>, p: f64, k: f64) -> Estimate {
    let n = h.len();
    if n == 0 {
        return Estimate {
            value: f64::NAN,
            n: 0,
            ci95: None,
        };
    }
    let nf = n as f64;
    let at = |rank: f64| {
        let q = (rank / nf).clamp(0.0, 1.0);
        h.median_equivalent(h.value_at_quantile(q)) as f64 * k
    };
    let half = estimate::Z95 * (nf * p * (1.0 - p)).sqrt();
    let lo = (nf * p - half).floor();
    let hi = (nf * p + half).ceil() + 1.0;
    Estimate {
        value: at(nf * p),
        n,
        ci95: (lo >= 1.0 && hi <= nf).then(|| (at(lo), at(hi))),
    }
}

fn hop_estimate(name: &str, t: &HopTally, load_by_hod: &[u64; 24]) -> Option<HopEstimate> {
    let (hist, method) = if !t.components.is_empty() {
        (t.components.clone(), HopMethodUsed::LatencyComponents)
    } else {
        // The quietest quarter of the hours of day (6 of 24) with samples: queueing there is
        // least, so RECEIVE→SEND is closest to processing alone.
        let mut hours: Vec<usize> = (0..24)
            .filter(|h| !t.receive_to_send[*h].is_empty())
            .collect();
        if hours.is_empty() {
            return None;
        }
        hours.sort_by_key(|h| (load_by_hod[*h], *h));
        let keep = hours.len().div_ceil(4);
        let mut merged = histogram();
        for h in &hours[..keep] {
            merged.add(&t.receive_to_send[*h]).ok()?;
        }
        let mut picked: Vec<u32> = hours[..keep].iter().map(|h| *h as u32).collect();
        picked.sort_unstable();
        (merged, HopMethodUsed::ReceiveToSendAtLowLoad(picked))
    };
    let sorted_ms = expand_sorted(&hist, 1e-3, 200_000);
    let w = &t.waits;
    Some(HopEstimate {
        hop: name.to_string(),
        max_concurrency: t.concurrency.finish(),
        wait_mean_ms: (!w.is_empty()).then(|| Estimate {
            value: w.mean() / 1e3,
            n: w.len(),
            ci95: {
                let half = estimate::Z95 * w.stdev() / 1e3 / (w.len() as f64).sqrt();
                Some((w.mean() / 1e3 - half, w.mean() / 1e3 + half))
            },
        }),
        wait_p90_ms: (!w.is_empty()).then(|| hist_quantile(w, 0.9, 1e-3)),
        wait_p99_ms: (!w.is_empty()).then(|| hist_quantile(w, 0.99, 1e-3)),
        method,
        n: hist.len(),
        visits: t.visits,
        mean_ms: Estimate {
            value: hist.mean() / 1e3,
            n: hist.len(),
            ci95: {
                let m = hist.mean() / 1e3;
                let half = estimate::Z95 * hist.stdev() / 1e3 / (hist.len() as f64).sqrt();
                Some((m - half, m + half))
            },
        },
        p50_ms: hist_quantile(&hist, 0.5, 1e-3),
        p90_ms: hist_quantile(&hist, 0.9, 1e-3),
        p99_ms: hist_quantile(&hist, 0.99, 1e-3),
        points_ms: estimate::quantile_points(&sorted_ms, EMPIRICAL_POINTS),
    })
}

/// How a hop's processing time was estimated.
#[derive(Clone, Debug, PartialEq)]
pub enum HopMethodUsed {
    LatencyComponents,
    /// RECEIVE → SEND/DELIVER in these (quietest) hours of day.
    ReceiveToSendAtLowLoad(Vec<u32>),
}

impl HopMethodUsed {
    pub fn describe(&self) -> String {
        match self {
            HopMethodUsed::LatencyComponents => {
                "latency components: the server's TOTAL minus its queue waits (QD*)".to_string()
            }
            HopMethodUsed::ReceiveToSendAtLowLoad(h) => format!(
                "RECEIVE to SEND/DELIVER at the same server in the quietest hours of day ({}); includes any queueing",
                h.iter()
                    .map(|x| format!("{x:02}h"))
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        }
    }

    pub fn short(&self) -> &'static str {
        match self {
            HopMethodUsed::LatencyComponents => "latency_components",
            HopMethodUsed::ReceiveToSendAtLowLoad(_) => "receive_to_send_low_load",
        }
    }
}

#[derive(Clone, Debug)]
pub struct HopEstimate {
    pub hop: String,
    /// The most messages in processing at once (from the latency components' intervals):
    /// a lower bound on the hop's parallel servers, equal to it when the hop was ever full.
    pub max_concurrency: u32,
    /// Queue waits (QD*), where the logs have latency components.
    pub wait_mean_ms: Option<Estimate>,
    pub wait_p90_ms: Option<Estimate>,
    pub wait_p99_ms: Option<Estimate>,
    pub method: HopMethodUsed,
    /// Samples the processing time is estimated from (at low load only, without latency
    /// components).
    pub n: u64,
    /// Messages that visited the hop in the logged period (the back-test's volume).
    pub visits: u64,
    pub mean_ms: Estimate,
    pub p50_ms: Estimate,
    pub p90_ms: Estimate,
    pub p99_ms: Estimate,
    /// [`EMPIRICAL_POINTS`] quantiles, for `service_ms = { dist = "empirical", … }`.
    pub points_ms: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct SizeEstimate {
    pub mean_kb: Estimate,
    pub median_kb: Estimate,
    /// The log-normal fit and its test; used when accepted.
    pub fit: Option<LogNormalFit>,
    pub points_kb: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct FlowLatency {
    pub flow: &'static str,
    pub n: u64,
    /// Seconds.
    pub p50: Estimate,
    pub p90: Estimate,
    pub p99: Estimate,
    pub p999: Estimate,
}

/// Everything estimated from the logs.
#[derive(Clone, Debug)]
pub struct Calibration {
    pub messages: u64,
    pub period_start: Timestamp,
    pub period_hours: u64,
    /// Day and hour (in the chosen time zone) the logged period starts at.
    pub start_day: &'static str,
    pub start_hour: u32,
    pub weekdays_in_logs: bool,
    pub peak_hour_of_day: u32,
    /// Per source: the busiest hour's rate (messages/s) and the total messages logged.
    pub peak_rates: Vec<(Source, Estimate, u64)>,
    /// Hour of day → weight (busiest = 1); None where the logs do not cover that hour.
    pub hourly_weights: Vec<Option<Estimate>>,
    pub weekend_factor: Option<Estimate>,
    /// Recipients per message → share of messages.
    pub recipients: Vec<(u32, Estimate)>,
    pub mean_recipients: Estimate,
    /// Share of legitimate inbound recipients that are on-premises.
    pub onprem_share: Option<Estimate>,
    pub spam_share: Option<Estimate>,
    pub size: Option<SizeEstimate>,
    pub hops: Vec<HopEstimate>,
    pub latency: Vec<FlowLatency>,
    /// Per flow: recipient copies per absolute hour (Unix s ÷ 3600).
    pub flow_hourly: Vec<BTreeMap<i64, u64>>,
    /// Per flow: Σ over messages of (its copies in the flow)² (see
    /// [`estimate::compound_poisson_rate`]).
    pub flow_copies_sq: Vec<f64>,
    pub routing: RoutingEvidence,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::classify::HopSample;

    fn msg(source: Source, t: f64, rcpt: u32) -> Message {
        Message {
            source,
            arrival_s: t,
            recipients: rcpt,
            onprem_recipients: rcpt,
            cloud_recipients: 0,
            size_bytes: Some(75 * 1024),
            spam: false,
            latencies: vec![(0, 1.5)],
            processing: vec![HopSample {
                hop: "cas2013".into(),
                seconds: 0.25,
                method: HopMethod::LatencyComponents,
                at_s: t,
                end_s: t + 0.25,
                wait_s: Some(0.0),
            }],
            mixed: false,
            first_hop: None,
            cloud_recipients_via_onprem: 0,
        }
    }

    #[test]
    fn peak_rate_weights_and_weekend_factor() {
        // Monday 2026-03-02 00:00 UTC to Sunday 2026-03-08 24:00: on weekdays 2 messages in
        // every hour but 09:00, which has 8; on the weekend 1 per hour.
        let monday = 1_772_409_600.0; // 2026-03-02T00:00:00Z
        let mut t = Tally::new(TimeZone::UTC);
        for day in 0..7 {
            for hour in 0..24 {
                let n = if day >= 5 {
                    1
                } else if hour == 9 {
                    8
                } else {
                    2
                };
                for i in 0..n {
                    let at = monday + f64::from(day * 86_400 + hour * 3600 + i * 60);
                    t.add(&msg(Source::Inbound, at, 1));
                }
            }
        }
        let c = t.finish(&|_| true).unwrap();
        assert_eq!(c.period_hours, 168);
        assert_eq!(c.start_day, "mon");
        assert_eq!(c.peak_hour_of_day, 9);
        let (_, r, total) = c.peak_rates[0];
        assert_eq!(total, 5 * (23 * 2 + 8) + 2 * 24);
        assert!((r.value - 8.0 / 3600.0).abs() < 1e-12);
        assert!((c.hourly_weights[0].unwrap().value - 0.25).abs() < 1e-12);
        // Weekend: 24 per day; weekday curve weight sum = 23 × 0.25 + 1 = 6.75 per day, so
        // weekend factor = (48 / (2 × 6.75)) / (270 / (5 × 6.75)) = 3.5556 / 8 = 0.4444.
        let w = c.weekend_factor.unwrap();
        assert!((w.value - 48.0 / 13.5 / 8.0).abs() < 1e-9, "{w:?}");
        assert!(w.covers(w.value));
        assert_eq!(c.hops[0].method, HopMethodUsed::LatencyComponents);
        assert!(
            (c.hops[0].p50_ms.value - 250.0).abs() < 0.5,
            "{:?}",
            c.hops[0]
        );
        assert!((c.latency[0].p50.value - 1.5).abs() < 0.002);
        let s = c.size.unwrap();
        assert!((s.median_kb.value - 75.0).abs() < 0.1);
    }

    #[test]
    fn concurrency_is_the_most_overlapping_intervals() {
        let mut c = Concurrency::default();
        // In seconds: [0,10) [5,15) [9,12) overlap 3 at 9; [15,20) starts as [5,15) ends.
        for (s, e) in [(5, 15), (0, 10), (15, 20), (9, 12)] {
            c.add(s * 1_000_000, e * 1_000_000);
        }
        assert_eq!(c.finish(), 3);
    }

    #[test]
    fn histogram_quantile_interval_has_the_order_statistic_width() {
        let mut h = histogram();
        for v in 1..=10_000u64 {
            h.record(v).unwrap();
        }
        let e = hist_quantile(&h, 0.5, 1.0);
        assert!((e.value - 5000.0).abs() <= 5.0);
        let (lo, hi) = e.ci95.unwrap();
        // ±1.96·√(n/4) = ±98 ranks.
        assert!(
            (lo - 4902.0).abs() <= 6.0 && (hi - 5099.0).abs() <= 6.0,
            "{lo} {hi}"
        );
    }
}
