//! A generator of realistic Exchange logs from a known model, for tests, benchmarks and the
//! README's worked example: message tracking logs (Exchange 2010's 26 fields, 2013's 27 or
//! 2016's 30, 2007's for the seed topology's Hubs; several servers, hourly files or one file
//! per server), `Get-MessageTrackingLog | Export-Csv` files, Exchange Online message trace
//! exports and the UTF-16 detailed report, in the exact formats the readers take.
//!
//! The model: per flow a busiest-hour rate shaped by 24 weekday hourly weights and a weekend
//! factor (a Poisson process, piecewise constant by hour); recipients per message from a
//! discrete distribution, each inbound recipient on-premises with a fixed probability; log-normal
//! sizes; a front-end time and a Hub processing time (log-normal, known median and sigma) at
//! each on-premises transport server, with FIFO queueing for the server's worker slots (a
//! multi-server simulation inside the generator, so the logged latency components are the
//! queue wait and the processing time that really happened); health-mailbox probes and DSNs
//! (to be excluded by calibration) and spam filtered in Exchange Online. Deterministic: the
//! same model and seed write byte-identical files.
//! Must not: depend on the simulator (the generator is an independent implementation of the
//! same kind of model, so a back-test against it means something).

use std::collections::{BTreeMap, BinaryHeap};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Which way Internet mail comes in (the organization's current routing).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mx {
    /// MX at Exchange Online Protection: Internet mail for on-premises recipients reaches the
    /// on-premises servers from EOP over the hybrid connector.
    Eop,
    /// MX on-premises: Internet mail arrives at the on-premises servers; cloud recipients' copies
    /// leave on `Outbound to Office 365`.
    OnPrem,
}

/// The message tracking log schema to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackingVersion {
    /// Exchange 2010 (`#Version: 14.03.…`): 26 fields (no network-message-id, and none of
    /// transport-traffic-type, log-id, schema-version); submissions and mailbox deliveries
    /// in the transport log (no MSGTRKMS/MSGTRKMD files, which came with 2013's mailbox
    /// transport services); latency components (from 2010 SP1) under a plain `TOTAL=`, with
    /// no front-end part (2010 has no front-end transport).
    Exchange2010,
    /// Exchange 2013 (`#Version: 15.00.…`): 27 fields.
    Exchange2013,
    /// Exchange 2016 (`#Version: 15.01.…`): 30 fields.
    Exchange2016,
    /// Exchange 2007 (`#Version: 08.03.…`): 21 fields, no network-message-id, directionality
    /// or custom-data, no latency components; no mailbox submission or delivery files.
    Exchange2007,
}

impl TrackingVersion {
    pub fn version(self) -> &'static str {
        match self {
            TrackingVersion::Exchange2010 => "14.03.0123.004",
            TrackingVersion::Exchange2013 => "15.00.1497.002",
            TrackingVersion::Exchange2016 => "15.01.2375.007",
            TrackingVersion::Exchange2007 => "08.03.0083.006",
        }
    }

    fn fields(self) -> &'static str {
        match self {
            TrackingVersion::Exchange2010 => FIELDS_26,
            TrackingVersion::Exchange2013 => FIELDS_27,
            TrackingVersion::Exchange2016 => FIELDS_30,
            TrackingVersion::Exchange2007 => FIELDS_2007,
        }
    }

    /// Mailbox submissions and deliveries have log files of their own (MSGTRKMS, MSGTRKMD):
    /// Exchange 2013 and later.
    fn has_mailbox_logs(self) -> bool {
        matches!(
            self,
            TrackingVersion::Exchange2013 | TrackingVersion::Exchange2016
        )
    }

    /// Where each of this version's fields is in the 30-field list.
    fn field_indices(self) -> Vec<usize> {
        let all: Vec<&str> = FIELDS_30.split(',').collect();
        self.fields()
            .split(',')
            .filter_map(|f| all.iter().position(|a| *a == f))
            .collect()
    }
}

const FIELDS_26: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data";
const FIELDS_27: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data";
const FIELDS_2007: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info";
const FIELDS_30: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version";

/// The flows the generator knows (the hybrid scenario's sources, with inbound split by where
/// the recipients are, plus internal mail on each side).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Flow {
    /// Internet mail; each recipient is on-premises with [`SynthModel::inbound_onprem_share`].
    Inbound,
    OutboundFromOnprem,
    OutboundFromCloud,
    OnpremToCloud,
    CloudToOnprem,
    InternalOnprem,
    InternalCloud,
}

impl Flow {
    pub const ALL: [Flow; 7] = [
        Flow::Inbound,
        Flow::OutboundFromOnprem,
        Flow::OutboundFromCloud,
        Flow::OnpremToCloud,
        Flow::CloudToOnprem,
        Flow::InternalOnprem,
        Flow::InternalCloud,
    ];

    /// The scenario's source name (`inbound`, `outbound_from_onprem`, …).
    pub fn name(self) -> &'static str {
        match self {
            Flow::Inbound => "inbound",
            Flow::OutboundFromOnprem => "outbound_from_onprem",
            Flow::OutboundFromCloud => "outbound_from_cloud",
            Flow::OnpremToCloud => "onprem_to_cloud",
            Flow::CloudToOnprem => "cloud_to_onprem",
            Flow::InternalOnprem => "internal_onprem",
            Flow::InternalCloud => "internal_cloud",
        }
    }
}

/// A log-normal distribution by its median and sigma (of the log).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LogNormalSpec {
    pub median: f64,
    pub sigma: f64,
}

impl LogNormalSpec {
    pub fn mean(self) -> f64 {
        self.median * (self.sigma * self.sigma / 2.0).exp()
    }

    fn dist(self) -> LogNormal<f64> {
        // Validated by SynthModel::check.
        LogNormal::new(self.median.ln(), self.sigma)
            .unwrap_or_else(|_| LogNormal::new(0.0, 1.0).expect("the standard log-normal is valid"))
    }
}

/// The base scenario's on-premises topology (`scenarios/hybrid-routing.toml`, the seed's):
/// Exchange 2007 Hub Transport servers submit and deliver the 2007 mailboxes' mail and send it
/// to the Internet; the Exchange 2013 hybrid servers ([`SynthModel::servers`]) take mail from
/// and send mail to EOP, and hand cross-premises mail to and from the Hubs. Each message visits
/// the servers the scenario's routes for the model's routing (MX, CMT) give it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeedTopology {
    /// The Exchange 2007 Hub servers (their logs: `#Version: 08.03`, 2007's fields).
    pub hubs: Vec<String>,
    /// Messages each Hub works on at once.
    pub hub_workers: u32,
    /// A Hub's processing time per message, milliseconds.
    pub hub_ms: LogNormalSpec,
}

/// The known model the logs are generated from.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthModel {
    pub seed: u64,
    /// The first day (UTC midnight) of the logs.
    pub start: Timestamp,
    pub days: u32,
    /// Busiest-hour arrival rate per flow, messages per second (weekdays).
    pub peak_per_s: BTreeMap<Flow, f64>,
    /// Relative weekday rates by UTC hour; the largest is the busiest hour (weight 1 after
    /// scaling).
    pub hourly_weights: [f64; 24],
    /// Saturday and Sunday rates are the weekday rates × this.
    pub weekend_factor: f64,
    /// Recipients per message: (count, weight).
    pub recipients: Vec<(u32, f64)>,
    /// The probability that an inbound recipient is on-premises.
    pub inbound_onprem_share: f64,
    pub size_kb: LogNormalSpec,
    pub mx: Mx,
    /// Centralized mail transport: on-premises senders' Internet mail leaves through EOP.
    pub centralized: bool,
    /// Share of inbound Internet messages that are spam; with the MX at EOP they are filtered
    /// there (message trace `FilteredAsSpam`) and never reach the on-premises servers.
    pub spam_share: f64,
    /// The on-premises transport servers (each a front end and a Hub), e.g. `EX01`, `EX02`;
    /// with [`Self::seed_topology`], the Exchange 2013 hybrid servers.
    pub servers: Vec<String>,
    /// None: every on-premises message passes one of [`Self::servers`] (a single-hop
    /// organization). Some: the base scenario's topology, with 2007 Hubs besides.
    pub seed_topology: Option<SeedTopology>,
    /// Messages each server's Hub works on at once.
    pub hub_workers: u32,
    /// The Hub's processing time per message, milliseconds (the TOTAL-HUB minus queue waits).
    pub hub_ms: LogNormalSpec,
    /// The front end's time per message, milliseconds (TOTAL-FE).
    pub frontend_ms: LogNormalSpec,
    /// Health-mailbox probes each server sends itself per hour.
    pub probes_per_server_hour: f64,
    /// Share of on-premises-originated messages that bounce one recipient (a DSN).
    pub dsn_share: f64,
    pub domain: String,
    pub tenant: String,
    pub tracking: TrackingVersion,
}

impl SynthModel {
    /// A mid-size hybrid organization on Exchange 2016 with the MX at EOP, one week from
    /// Monday 2 March 2026.
    pub fn example(seed: u64) -> SynthModel {
        let peak = [
            (Flow::Inbound, 6.0),
            (Flow::OutboundFromOnprem, 1.5),
            (Flow::OutboundFromCloud, 2.0),
            (Flow::OnpremToCloud, 1.2),
            (Flow::CloudToOnprem, 1.6),
            (Flow::InternalOnprem, 2.5),
            (Flow::InternalCloud, 3.0),
        ];
        SynthModel {
            seed,
            start: "2026-03-02T00:00:00Z".parse().expect("a valid timestamp"),
            days: 7,
            peak_per_s: peak.into_iter().collect(),
            hourly_weights: [
                0.05, 0.04, 0.03, 0.03, 0.04, 0.08, 0.20, 0.45, 0.80, 1.00, 0.95, 0.85, 0.70, 0.80,
                0.90, 0.85, 0.70, 0.50, 0.30, 0.20, 0.15, 0.10, 0.08, 0.06,
            ],
            weekend_factor: 0.2,
            recipients: vec![(1, 0.70), (2, 0.15), (3, 0.07), (5, 0.05), (10, 0.03)],
            inbound_onprem_share: 0.4,
            size_kb: LogNormalSpec {
                median: 45.49,
                sigma: 1.0,
            },
            mx: Mx::Eop,
            centralized: false,
            spam_share: 0.3,
            servers: vec!["EX01".into(), "EX02".into()],
            seed_topology: None,
            hub_workers: 2,
            hub_ms: LogNormalSpec {
                median: 250.0,
                sigma: 0.7,
            },
            frontend_ms: LogNormalSpec {
                median: 15.0,
                sigma: 0.5,
            },
            probes_per_server_hour: 12.0,
            dsn_share: 0.01,
            domain: "contoso.com".into(),
            tenant: "contoso".into(),
            tracking: TrackingVersion::Exchange2016,
        }
    }

    /// [`Self::example`] on the base scenario's topology (`scenarios/hybrid-routing.toml`): one
    /// Exchange 2013 hybrid server `EX01` (`#Version: 15.00`, so calibrate maps it to
    /// `cas2013` by itself) and one Exchange 2007 Hub `HUB01` (`08.03` → `hub2007`), each with
    /// 20 concurrent messages like the scenario's; processing times differ from the
    /// scenario's assumptions (2013: median 180 ms, sigma 0.6; Hub: median 320 ms, sigma 0.5),
    /// so a calibration that recovers them has changed the scenario.
    pub fn seed_example(seed: u64) -> SynthModel {
        SynthModel {
            servers: vec!["EX01".into()],
            tracking: TrackingVersion::Exchange2013,
            hub_workers: 20,
            hub_ms: LogNormalSpec {
                median: 180.0,
                sigma: 0.6,
            },
            seed_topology: Some(SeedTopology {
                hubs: vec!["HUB01".into()],
                hub_workers: 20,
                hub_ms: LogNormalSpec {
                    median: 320.0,
                    sigma: 0.5,
                },
            }),
            ..SynthModel::example(seed)
        }
    }

    /// The arrival rate of `flow` in hour `hour` (from the start), per second.
    pub fn rate_per_s(&self, flow: Flow, hour: u64) -> f64 {
        let top = self.hourly_weights.iter().copied().fold(0.0, f64::max);
        let peak = self.peak_per_s.get(&flow).copied().unwrap_or(0.0);
        if top <= 0.0 {
            return 0.0;
        }
        let day = (hour / 24) as i64;
        let weekday = self
            .start
            .to_zoned_datetime(TimeZone::UTC)
            .weekday()
            .to_monday_zero_offset() as i64;
        let dow = (weekday + day) % 7;
        let factor = if dow >= 5 { self.weekend_factor } else { 1.0 };
        peak * self.hourly_weights[(hour % 24) as usize] / top * factor
    }

    /// The mean recipients per message.
    pub fn mean_recipients(&self) -> f64 {
        let w: f64 = self.recipients.iter().map(|(_, w)| w).sum();
        self.recipients
            .iter()
            .map(|(k, p)| *k as f64 * p)
            .sum::<f64>()
            / w
    }

    fn check(&self) -> io::Result<()> {
        let bad = |what: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                what.to_string(),
            ))
        };
        let ln_ok = |l: LogNormalSpec| l.median > 0.0 && l.median.is_finite() && l.sigma >= 0.0;
        if !(ln_ok(self.size_kb) && ln_ok(self.hub_ms) && ln_ok(self.frontend_ms)) {
            return bad("log-normal medians must be positive and sigmas 0 or more");
        }
        if self.servers.is_empty() || self.hub_workers == 0 {
            return bad("give at least one server with at least one Hub worker");
        }
        if let Some(t) = &self.seed_topology {
            if t.hubs.is_empty() || t.hub_workers == 0 || !ln_ok(t.hub_ms) {
                return bad(
                    "the seed topology needs at least one 2007 Hub with at least one worker and a valid processing time",
                );
            }
            if matches!(
                self.tracking,
                TrackingVersion::Exchange2007 | TrackingVersion::Exchange2010
            ) {
                return bad("the hybrid servers of the seed topology run Exchange 2013 or later");
            }
        }
        if self.recipients.is_empty()
            || self
                .recipients
                .iter()
                .any(|(k, w)| *k == 0 || !w.is_finite() || *w < 0.0)
        {
            return bad("recipient counts must be 1 or more with weights 0 or more");
        }
        if self
            .hourly_weights
            .iter()
            .any(|w| !w.is_finite() || *w < 0.0)
        {
            return bad("hourly weights must be 0 or more");
        }
        Ok(())
    }
}

/// Which files to write.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthOutput {
    /// Tracking logs under `<dir>/<SERVER>/`.
    pub tracking: bool,
    /// A new tracking log file each hour (`MSGTRK<yyyymmddhh>-1.LOG`, as Exchange writes them);
    /// false writes one file per server and kind (for a large benchmark log).
    pub hourly_files: bool,
    /// A `Get-MessageTrackingLog | Export-Csv` of all servers' events at `<dir>/export/`.
    pub powershell: Option<PowerShellStyle>,
    /// An Exchange Online message trace at `<dir>/trace/`, split into files of at most this
    /// many rows (Get-MessageTraceV2 returns 5000 per call).
    pub trace_rows_per_file: Option<u64>,
    /// An Exchange Online detailed (extended) message trace report at
    /// `<dir>/detailed/DetailedReport_001.csv`, as the admin center's historical search
    /// delivers it: UTF-16 LE with a BOM, snake_case tracking-log columns (`date_time_utc`,
    /// `event_id`, …), one row per event of what Exchange Online handled (the message
    /// trace's messages and recipients: a RECEIVE with every recipient, then per recipient
    /// a DELIVER into a cloud mailbox, a SEND to on-premises or the Internet, or a FAIL for
    /// filtered spam, 1.5 s later).
    pub detailed_report: bool,
    /// Stop once this many bytes are written (the last hour is completed).
    pub stop_after_bytes: Option<u64>,
}

impl Default for SynthOutput {
    fn default() -> Self {
        SynthOutput {
            tracking: true,
            hourly_files: true,
            powershell: None,
            trace_rows_per_file: Some(5000),
            detailed_report: false,
            stop_after_bytes: None,
        }
    }
}

/// How the PowerShell export was made.
#[derive(Clone, Debug, PartialEq)]
pub struct PowerShellStyle {
    /// The exporting machine's zone (times are written in it, `3/2/2026 9:00:05 AM`).
    pub timezone: TimeZone,
    /// Recipients joined with `;` (true) or left as PowerShell writes an array,
    /// `System.String[]` (false).
    pub join_recipients: bool,
}

/// What was generated: the true counts to compare calibration with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SynthTruth {
    /// Messages per flow (mail only: no probes, DSNs or filtered spam).
    pub messages: BTreeMap<Flow, u64>,
    /// Recipients per flow; for `Inbound`, also split in `inbound_recipients_onprem`.
    pub recipients: BTreeMap<Flow, u64>,
    pub inbound_recipients_onprem: u64,
    /// Messages per flow per hour from the start.
    pub hourly: BTreeMap<Flow, Vec<u64>>,
    /// Inbound messages filtered as spam.
    pub spam: u64,
    pub probes: u64,
    pub dsns: u64,
    /// Messages processed by the Hubs, and their mean queue wait and processing time, seconds.
    pub hub_messages: u64,
    pub hub_mean_wait_s: f64,
    pub hub_mean_processing_s: f64,
    /// Per kind of server (`"hub"` for [`SynthModel::servers`] without the seed topology;
    /// with it `"cas2013"` and `"hub2007"`, the hops calibrate maps them to): visits, and
    /// their mean queue wait and processing time, seconds (probes included).
    pub per_hop: BTreeMap<&'static str, HopTruth>,
    /// The files written, in path order.
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// Hours generated (fewer than days × 24 when `stop_after_bytes` stopped it).
    pub hours: u64,
}

/// What one kind of server did; see [`SynthTruth::per_hop`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HopTruth {
    pub visits: u64,
    pub mean_wait_s: f64,
    pub mean_processing_s: f64,
}

/// Generates the logs of `model` into `dir` (which must exist).
pub fn generate(model: &SynthModel, out: &SynthOutput, dir: &Path) -> io::Result<SynthTruth> {
    model.check()?;
    let mut g = Gen::new(model, out, dir)?;
    let hours = model.days as u64 * 24;
    for hour in 0..hours {
        g.hour(hour)?;
        if out.stop_after_bytes.is_some_and(|b| g.bytes() >= b) {
            break;
        }
    }
    g.finish()
}

// ------------------------------------------------------------------------------------------
// Generation

const NS: i64 = 1_000_000_000;
/// Mailboxes of the organization (`user<n>@domain`, n below this).
const USERS: u32 = 20_000;
const HOUR_NS: i64 = 3600 * NS;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// Mailbox submission (MSGTRKMS).
    Submission,
    /// Transport (MSGTRK).
    Transport,
    /// Mailbox delivery (MSGTRKMD).
    Delivery,
}

/// What [`Gen::mailbox_delivery`] logs.
struct Delivery<'a> {
    server: usize,
    at: i64,
    msg: usize,
    recipients: Vec<String>,
    /// Mail (not a probe) sent from on-premises: its delivery may fail and bounce.
    may_bounce: bool,
    fqdn: &'a str,
    sender: &'a str,
    message_info: String,
    custom_data: String,
    directionality: &'static str,
}

/// One tracking log line, before formatting.
struct Event {
    at: i64,
    seq: u64,
    server: usize,
    kind: Kind,
    event: &'static str,
    source: &'static str,
    connector: String,
    source_context: String,
    client_ip: String,
    client_host: String,
    msg: usize,
    recipients: Vec<String>,
    status: Vec<String>,
    message_info: String,
    custom_data: String,
    directionality: &'static str,
}

impl PartialEq for Event {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Event {}
impl PartialOrd for Event {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Event {
    // A min-heap on (time, sequence).
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (o.at, o.seq).cmp(&(self.at, self.seq))
    }
}

/// A message's fixed facts, shared by its events.
struct Msg {
    message_id: String,
    network_id: String,
    internal_id: u64,
    sender: String,
    subject: String,
    bytes: u64,
    recipient_count: u32,
}

struct Arrival {
    at: i64,
    flow: Flow,
    kind: MsgKind,
}

#[derive(Clone, Copy, PartialEq)]
enum MsgKind {
    Mail,
    Probe(usize),
}

/// How a message reaches a server of the seed topology.
#[derive(Clone, Copy, PartialEq)]
enum Recv {
    /// Submitted by a mailbox (STOREDRIVER).
    Submit,
    /// From EOP over the hybrid connector, with the sender's `FromEntity`.
    FromEop(&'static str),
    /// From an Internet sender (MX on-premises).
    FromInternet,
    /// From another server of the organization.
    FromServer(usize),
}

/// One server visit of the seed topology: how the message arrives and what leaves.
struct Stop {
    server: usize,
    recv: Recv,
    /// Delivers the on-premises recipients' copies.
    deliver: bool,
    /// Sends (or, with `to_next`, carries) the cloud recipients' copies.
    to_cloud: bool,
    /// Sends (or carries) the Internet recipients' copies.
    to_internet: bool,
    /// Hands the copies it does not deliver to the next stop.
    to_next: bool,
}

struct TraceRow {
    at: i64,
    seq: u64,
    msg: usize,
    recipient: String,
    status: &'static str,
    from_ip: String,
    to_ip: String,
    /// Where Exchange Online received the message from (for the detailed report).
    from: ExoFrom,
    /// On the message's first row: every recipient Exchange Online handles (the detailed
    /// report's RECEIVE lists them all).
    receive: Option<Vec<String>>,
}

/// Where Exchange Online received a message from.
#[derive(Clone, Copy, PartialEq)]
enum ExoFrom {
    Internet,
    Onprem,
    Mailbox,
}

struct Gen<'m> {
    m: &'m SynthModel,
    arrivals_rng: Xoshiro256PlusPlus,
    msg_rng: Xoshiro256PlusPlus,
    hub_rng: Xoshiro256PlusPlus,
    size: LogNormal<f64>,
    /// Per server (the hybrid servers, then the seed topology's Hubs): processing time.
    hub: Vec<LogNormal<f64>>,
    fe: LogNormal<f64>,
    rcpt_cum: Vec<(u32, f64)>,
    /// Per server, when each Hub worker is next free (ns from the start).
    workers: Vec<Vec<i64>>,
    pending: BinaryHeap<Event>,
    pending_trace: BinaryHeap<std::cmp::Reverse<(i64, u64, usize)>>,
    trace_rows: Vec<Option<TraceRow>>,
    msgs: BTreeMap<usize, (Msg, u32)>,
    next_msg: usize,
    seq: u64,
    truth: SynthTruth,
    /// Per hop name: (visits, wait sum, processing sum), seconds.
    per_hop: BTreeMap<&'static str, (u64, f64, f64)>,
    writers: Writers,
}

/// The servers that write logs: the hybrid servers, then the seed topology's Hubs.
fn n_servers(m: &SynthModel) -> usize {
    m.servers.len() + m.seed_topology.as_ref().map_or(0, |t| t.hubs.len())
}

fn server_name(m: &SynthModel, i: usize) -> &str {
    match &m.seed_topology {
        Some(t) if i >= m.servers.len() => &t.hubs[i - m.servers.len()],
        _ => &m.servers[i],
    }
}

/// The hop calibrate should map server `i` to (the name [`SynthTruth::per_hop`] uses).
fn hop_name(m: &SynthModel, i: usize) -> &'static str {
    match &m.seed_topology {
        None => "hub",
        Some(_) if i >= m.servers.len() => "hub2007",
        Some(_) => "cas2013",
    }
}

fn server_version(m: &SynthModel, i: usize) -> TrackingVersion {
    match &m.seed_topology {
        Some(_) if i >= m.servers.len() => TrackingVersion::Exchange2007,
        _ => m.tracking,
    }
}

impl<'m> Gen<'m> {
    fn new(m: &'m SynthModel, out: &'m SynthOutput, dir: &Path) -> io::Result<Self> {
        let stream = |k: u64| {
            Xoshiro256PlusPlus::seed_from_u64(m.seed ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        };
        let total: f64 = m.recipients.iter().map(|(_, w)| w).sum();
        let mut acc = 0.0;
        let rcpt_cum = m
            .recipients
            .iter()
            .map(|(k, w)| {
                acc += w / total;
                (*k, acc)
            })
            .collect();
        Ok(Gen {
            m,
            arrivals_rng: stream(1),
            msg_rng: stream(2),
            hub_rng: stream(3),
            size: m.size_kb.dist(),
            hub: (0..n_servers(m))
                .map(|i| match &m.seed_topology {
                    Some(t) if i >= m.servers.len() => t.hub_ms.dist(),
                    _ => m.hub_ms.dist(),
                })
                .collect(),
            fe: m.frontend_ms.dist(),
            rcpt_cum,
            workers: (0..n_servers(m))
                .map(|i| match &m.seed_topology {
                    Some(t) if i >= m.servers.len() => vec![0; t.hub_workers as usize],
                    _ => vec![0; m.hub_workers as usize],
                })
                .collect(),
            per_hop: BTreeMap::new(),
            pending: BinaryHeap::new(),
            pending_trace: BinaryHeap::new(),
            trace_rows: Vec::new(),
            msgs: BTreeMap::new(),
            next_msg: 0,
            seq: 0,
            truth: SynthTruth::default(),
            writers: Writers::new(m, out, dir)?,
        })
    }

    fn bytes(&self) -> u64 {
        self.writers.bytes
    }

    fn ts(&self, ns: i64) -> Timestamp {
        self.m
            .start
            .checked_add(SignedDuration::from_nanos(ns))
            .unwrap_or(self.m.start)
    }

    fn hex(&mut self, n: usize) -> String {
        const H: &[u8; 16] = b"0123456789abcdef";
        (0..n)
            .map(|_| H[self.msg_rng.random_range(0..16)] as char)
            .collect()
    }

    fn guid(&mut self) -> String {
        format!(
            "{}-{}-{}-{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(4),
            self.hex(4),
            self.hex(12)
        )
    }

    fn recipient_count(&mut self) -> u32 {
        let u: f64 = self.msg_rng.random();
        self.rcpt_cum
            .iter()
            .find(|(_, c)| u < *c)
            .or(self.rcpt_cum.last())
            .map_or(1, |(k, _)| *k)
    }

    fn hour(&mut self, hour: u64) -> io::Result<()> {
        let m = self.m;
        let h0 = hour as i64 * HOUR_NS;
        // Arrivals: per flow a Poisson number, uniform in the hour; probes per server.
        let mut arrivals: Vec<Arrival> = Vec::new();
        for flow in Flow::ALL {
            let rate = m.rate_per_s(flow, hour);
            let n = if rate > 0.0 {
                Poisson::new(rate * 3600.0)
                    .map(|p| p.sample(&mut self.arrivals_rng) as u64)
                    .unwrap_or(0)
            } else {
                0
            };
            for _ in 0..n {
                let at = h0 + self.arrivals_rng.random_range(0..HOUR_NS);
                arrivals.push(Arrival {
                    at,
                    flow,
                    kind: MsgKind::Mail,
                });
            }
        }
        if m.probes_per_server_hour > 0.0 {
            for s in 0..m.servers.len() {
                let n = Poisson::new(m.probes_per_server_hour)
                    .map(|p| p.sample(&mut self.arrivals_rng) as u64)
                    .unwrap_or(0);
                for _ in 0..n {
                    let at = h0 + self.arrivals_rng.random_range(0..HOUR_NS);
                    arrivals.push(Arrival {
                        at,
                        flow: Flow::InternalOnprem,
                        kind: MsgKind::Probe(s),
                    });
                }
            }
        }
        arrivals.sort_by_key(|a| (a.at, a.flow));
        let hours = (m.days as usize) * 24;
        for a in arrivals {
            self.message(a, hour as usize, hours)?;
        }
        self.flush(h0 + HOUR_NS)?;
        self.truth.hours = hour + 1;
        Ok(())
    }

    fn internet_address(&mut self) -> String {
        let u = self.msg_rng.random_range(0..5000u32);
        let d = self.msg_rng.random_range(0..200u32);
        format!("user{u}@fabrikam{d}.example")
    }

    fn user(&mut self) -> u32 {
        self.msg_rng.random_range(0..USERS)
    }

    fn message(&mut self, a: Arrival, hour: usize, hours: usize) -> io::Result<()> {
        let m = self.m;
        let domain = m.domain.clone();
        let routing = format!("{}.mail.onmicrosoft.com", m.tenant);
        let flow = a.flow;
        // Recipients and where they are.
        let (count, mut onprem, mut cloud, mut internet) =
            (self.recipient_count(), Vec::new(), Vec::new(), Vec::new());
        let count = if matches!(a.kind, MsgKind::Probe(_)) {
            1
        } else {
            count
        };
        // A message names each mailbox once (a trace has one row per recipient): a mailbox
        // or Internet address already drawn for this message is drawn again (11c).
        let mut drawn: Vec<u32> = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let mut u = self.user();
            while drawn.contains(&u) {
                u = self.user();
            }
            drawn.push(u);
            match flow {
                Flow::Inbound => {
                    if self.msg_rng.random::<f64>() < m.inbound_onprem_share {
                        onprem.push(u);
                    } else {
                        cloud.push(u);
                    }
                }
                Flow::OutboundFromOnprem | Flow::OutboundFromCloud => {
                    let mut addr = self.internet_address();
                    while internet.contains(&addr) {
                        addr = self.internet_address();
                    }
                    internet.push(addr);
                }
                Flow::OnpremToCloud | Flow::InternalCloud => cloud.push(u),
                Flow::CloudToOnprem | Flow::InternalOnprem => onprem.push(u),
            }
        }
        let sender = match (a.kind, flow) {
            (MsgKind::Probe(s), _) => format!("HealthMailbox{}@{domain}", probe_id(&m.servers[s])),
            (_, Flow::Inbound) => self.internet_address(),
            _ => format!("user{}@{domain}", self.user()),
        };
        if matches!(a.kind, MsgKind::Probe(_)) {
            cloud.clear();
        }
        let kb = self.size.sample(&mut self.msg_rng);
        let bytes = match a.kind {
            // A probe is a small fixed message; it does not draw from the mail size model.
            MsgKind::Probe(_) => 3_584,
            MsgKind::Mail => (kb * 1024.0).round().max(200.0) as u64,
        };
        let spam = flow == Flow::Inbound
            && a.kind == MsgKind::Mail
            && self.msg_rng.random::<f64>() < m.spam_share;
        let server = match a.kind {
            MsgKind::Probe(s) => s,
            _ => self.hub_rng.random_range(0..m.servers.len()),
        };
        let host = m.servers[server].clone();
        let fqdn = format!("{host}.{domain}").to_ascii_lowercase();
        let msg_index = self.next_msg;
        self.next_msg += 1;
        let subject = match a.kind {
            MsgKind::Probe(_) => "HealthMailbox probe: Transport delivery".to_string(),
            MsgKind::Mail => format!(
                "Re: {} report, week {}",
                ["Sales", "Ops", "Budget", "\"Q1\" plan"][msg_index % 4],
                hour / 168 + 1
            ),
        };
        let network_id = self.guid();
        let msg = Msg {
            message_id: format!(
                "<{}@{}>",
                self.hex(24),
                match flow {
                    Flow::Inbound => "mail.fabrikam.example".to_string(),
                    Flow::OutboundFromCloud | Flow::CloudToOnprem | Flow::InternalCloud => format!(
                        "AM0PR{:02}MB{:04}.eurprd{:02}.prod.outlook.com",
                        msg_index % 7,
                        msg_index % 9973,
                        msg_index % 5
                    ),
                    _ => fqdn.clone(),
                }
            ),
            network_id,
            internal_id: 1_000_000 + msg_index as u64,
            sender: sender.clone(),
            subject,
            bytes,
            recipient_count: count,
        };
        let message_id = msg.message_id.clone();
        self.msgs.insert(msg_index, (msg, 0));

        // Truth counts (mail only).
        if a.kind == MsgKind::Mail {
            if spam && m.mx == Mx::Eop {
                self.truth.spam += 1;
            } else {
                if spam {
                    self.truth.spam += 1;
                }
                *self.truth.messages.entry(flow).or_default() += 1;
                *self.truth.recipients.entry(flow).or_default() += count as u64;
                if flow == Flow::Inbound {
                    self.truth.inbound_recipients_onprem += onprem.len() as u64;
                }
                let hv = self
                    .truth
                    .hourly
                    .entry(flow)
                    .or_insert_with(|| vec![0; hours]);
                if hour < hv.len() {
                    hv[hour] += 1;
                }
            }
        } else {
            self.truth.probes += 1;
        }

        let (touches_onprem, cloud_arrival) = if m.seed_topology.is_some() {
            self.seed_path(&a, msg_index, &onprem, &cloud, &internet, spam)?
        } else {
            // Which side sees it.
            let onprem_originated = matches!(
                flow,
                Flow::OutboundFromOnprem | Flow::OnpremToCloud | Flow::InternalOnprem
            );
            let from_eop = match flow {
                Flow::Inbound => m.mx == Mx::Eop && !onprem.is_empty() && !spam,
                Flow::CloudToOnprem => true,
                _ => false,
            };
            let smtp_from_internet = flow == Flow::Inbound && m.mx == Mx::OnPrem;
            let touches_onprem = onprem_originated || from_eop || smtp_from_internet;
            let mut cloud_arrival = a.at;

            if touches_onprem {
                // Front end (SMTP arrivals) then the Hub's FIFO worker slots.
                let smtp = from_eop || smtp_from_internet;
                let fe_ns = if smtp {
                    (self.fe.sample(&mut self.hub_rng) * 1e6) as i64
                } else {
                    0
                };
                let arrive_hub = a.at + fe_ns;
                let service_ns = (self.hub[server].sample(&mut self.hub_rng) * 1e6).max(1e6) as i64;
                let w = &mut self.workers[server];
                let (slot, free) = w
                    .iter()
                    .copied()
                    .enumerate()
                    .min_by_key(|(i, t)| (*t, *i))
                    .unwrap_or((0, 0));
                let start = arrive_hub.max(free);
                let finish = start + service_ns;
                w[slot] = finish;
                let wait_ns = start - arrive_hub;
                self.count_visit(server, wait_ns, service_ns);

                let orig = fmt_ts(self.ts(a.at));
                let (client_ip, client_host, connector, from_entity) = if from_eop {
                    (
                        format!(
                            "40.107.{}.{}",
                            self.msg_rng.random_range(0..255u8),
                            self.msg_rng.random_range(1..255u8)
                        ),
                        format!(
                            "{}.outbound.protection.outlook.com",
                            ["EUR01-VE1", "EUR02-AM5", "NAM04-BN8"][msg_index % 3]
                        ),
                        format!("{host}\\Default Frontend {host}"),
                        if flow == Flow::CloudToOnprem {
                            "Hosted"
                        } else {
                            "Internet"
                        },
                    )
                } else if smtp_from_internet {
                    (
                        format!("203.0.113.{}", self.msg_rng.random_range(1..255u8)),
                        "mail.fabrikam.example".to_string(),
                        format!("{host}\\Default Frontend {host}"),
                        "Internet",
                    )
                } else {
                    ("".into(), fqdn.clone(), String::new(), "")
                };
                let receive_at = if smtp { arrive_hub } else { a.at };
                let rcpt_onprem: Vec<String> = match a.kind {
                    MsgKind::Probe(s) => {
                        vec![format!("HealthMailbox{}@{domain}", probe_id(&m.servers[s]))]
                    }
                    _ => onprem.iter().map(|u| format!("user{u}@{domain}")).collect(),
                };
                let rcpt_cloud_routing: Vec<String> =
                    cloud.iter().map(|u| format!("user{u}@{routing}")).collect();
                let all: Vec<String> = rcpt_onprem
                    .iter()
                    .cloned()
                    .chain(match flow {
                        Flow::Inbound | Flow::OnpremToCloud => cloud
                            .iter()
                            .map(|u| format!("user{u}@{domain}"))
                            .collect::<Vec<_>>(),
                        _ => internet.clone(),
                    })
                    .collect();
                let directionality = if flow == Flow::Inbound {
                    "Incoming"
                } else {
                    "Originating"
                };
                if !smtp {
                    let source_context = format!(
                        "MDB:{}, Mailbox:{}, Event:{}, MessageClass:IPM.Note",
                        self.guid(),
                        self.guid(),
                        msg_index
                    );
                    self.push(Event {
                        at: a.at,
                        seq: 0,
                        server,
                        kind: Kind::Submission,
                        event: "SUBMIT",
                        source: "STOREDRIVER",
                        connector: String::new(),
                        source_context,
                        client_ip: String::new(),
                        client_host: fqdn.clone(),
                        msg: msg_index,
                        recipients: Vec::new(),
                        status: Vec::new(),
                        message_info: String::new(),
                        custom_data: String::new(),
                        directionality,
                    });
                }
                let mut receive_cd = String::new();
                if !from_entity.is_empty() {
                    receive_cd = format!("S:FromEntity={from_entity}");
                }
                let source_context = if smtp {
                    format!(
                        "08D{};250 2.6.0 {} Queued mail for delivery",
                        self.hex(13).to_ascii_uppercase(),
                        message_id
                    )
                } else {
                    String::new()
                };
                self.push(Event {
                    at: receive_at,
                    seq: 0,
                    server,
                    kind: Kind::Transport,
                    event: "RECEIVE",
                    source: if smtp { "SMTP" } else { "STOREDRIVER" },
                    connector: connector.clone(),
                    source_context,
                    client_ip: client_ip.clone(),
                    client_host: client_host.clone(),
                    msg: msg_index,
                    recipients: all.clone(),
                    status: Vec::new(),
                    message_info: if smtp { orig.clone() } else { String::new() },
                    custom_data: receive_cd,
                    directionality,
                });
                // Shadow redundancy: another server keeps a copy of SMTP-received mail.
                if smtp && m.servers.len() > 1 {
                    let other = (server + 1) % m.servers.len();
                    self.push(Event {
                        at: receive_at,
                        seq: 0,
                        server: other,
                        kind: Kind::Transport,
                        event: "HARECEIVE",
                        source: "SMTP",
                        connector: format!("{}\\Default {}", m.servers[other], m.servers[other]),
                        source_context: String::new(),
                        client_ip: String::new(),
                        client_host: fqdn.clone(),
                        msg: msg_index,
                        recipients: all.clone(),
                        status: Vec::new(),
                        message_info: String::new(),
                        custom_data: String::new(),
                        directionality,
                    });
                }
                // The latency breakdown: receive, categorize and send share the processing time.
                let proc_s = service_ns as f64 / 1e9;
                let wait_s = wait_ns as f64 / 1e9;
                let fe_s = fe_ns as f64 / 1e9;
                let (smr, cat) = (proc_s * 0.1, proc_s * 0.6);
                let sms = proc_s - smr - cat;
                // Exchange 2010 has no front-end transport and writes a plain TOTAL.
                let v2010 = m.tracking == TrackingVersion::Exchange2010;
                let fe_part = if smtp && !v2010 {
                    format!(
                        "SRV={fqdn}:TOTAL-FE={fe_s:.3}|SMR={:.3}|SMS={:.3};",
                        fe_s * 0.4,
                        fe_s * 0.6
                    )
                } else {
                    String::new()
                };
                let total = if v2010 { "TOTAL" } else { "TOTAL-HUB" };
                let e2e = (finish - a.at) as f64 / 1e9;
                let info = |q: &str| {
                    format!(
                        "{orig};{fe_part}LSRV={fqdn}:{total}={:.3}|SMR={smr:.3}(SMRDI={:.3}|SMRCL={:.3})|CAT={cat:.3}(CATRES={:.3}|CATRT={:.3})|{q}={wait_s:.3}|SMS={sms:.3}",
                        wait_s + proc_s,
                        smr * 0.5,
                        smr * 0.5,
                        cat * 0.3,
                        cat * 0.7
                    )
                };
                if !rcpt_onprem.is_empty() {
                    let entity = if from_entity.is_empty() {
                        "Hosted"
                    } else {
                        from_entity
                    };
                    self.mailbox_delivery(Delivery {
                        server,
                        at: finish,
                        msg: msg_index,
                        recipients: rcpt_onprem.clone(),
                        may_bounce: a.kind == MsgKind::Mail && onprem_originated,
                        fqdn: &fqdn,
                        sender: &sender,
                        message_info: info("QDM"),
                        custom_data: format!(
                            "S:E2ELatency={e2e:.3};S:FromEntity={entity};S:ToEntity=Mailbox"
                        ),
                        directionality,
                    });
                }
                let remote: Vec<String> = match flow {
                    Flow::Inbound | Flow::OnpremToCloud => rcpt_cloud_routing,
                    Flow::OutboundFromOnprem => internet.clone(),
                    _ => Vec::new(),
                };
                if !remote.is_empty() {
                    let to_cloud =
                        matches!(flow, Flow::Inbound | Flow::OnpremToCloud) || m.centralized;
                    let (connector, to_entity, event, q) = if to_cloud {
                        let connector =
                            "Outbound to Office 365 - 6d1f0a3c-5b7e-4c8d-9a2f-3e1b7c9d4f10"
                                .to_string();
                        (
                            connector,
                            if flow == Flow::OutboundFromOnprem {
                                "Internet"
                            } else {
                                "Hosted"
                            },
                            "SEND",
                            "QDE",
                        )
                    } else {
                        (
                            "Internet Send Connector".to_string(),
                            "Internet",
                            "SENDEXTERNAL",
                            "QDE",
                        )
                    };
                    let ext = (self.fe.sample(&mut self.hub_rng) * 1e-3 * 4.0).max(0.001);
                    let source_context = format!("08D{}", self.hex(13).to_ascii_uppercase());
                    let to_host = if to_cloud {
                        format!("{}.mail.protection.outlook.com", m.tenant.replace('.', "-"))
                    } else {
                        "mx.fabrikam.example".into()
                    };
                    self.push(Event {
                    at: finish,
                    seq: 0,
                    server,
                    kind: Kind::Transport,
                    event,
                    source: "SMTP",
                    connector,
                    source_context,
                    client_ip: String::new(),
                    client_host: to_host,
                    msg: msg_index,
                    status: remote.iter().map(|_| "250 2.6.0 Queued mail for delivery".to_string()).collect(),
                    recipients: remote,
                    message_info: info(q),
                    custom_data: format!("S:E2ELatency={e2e:.3};S:ExternalSendLatency={ext:.3};S:FromEntity={};S:ToEntity={to_entity}", if from_entity.is_empty() { "Hosted" } else { from_entity }),
                    directionality,
                });
                }
                cloud_arrival = finish + 50_000_000;
            }
            (touches_onprem, cloud_arrival)
        };

        // Exchange Online's message trace: one row per recipient that EXO handles.
        let trace_recipients: Vec<(String, &'static str)> = match flow {
            _ if a.kind != MsgKind::Mail => Vec::new(),
            Flow::Inbound if m.mx == Mx::Eop => {
                let status = if spam { "FilteredAsSpam" } else { "Delivered" };
                onprem
                    .iter()
                    .chain(cloud.iter())
                    .map(|u| (format!("user{u}@{domain}"), status))
                    .collect()
            }
            Flow::Inbound => cloud
                .iter()
                .map(|u| (format!("user{u}@{domain}"), "Delivered"))
                .collect(),
            Flow::OutboundFromCloud => internet.iter().map(|r| (r.clone(), "Delivered")).collect(),
            Flow::OutboundFromOnprem if m.centralized && m.seed_topology.is_none() => {
                internet.iter().map(|r| (r.clone(), "Delivered")).collect()
            }
            Flow::OnpremToCloud | Flow::InternalCloud => cloud
                .iter()
                .map(|u| (format!("user{u}@{domain}"), "Delivered"))
                .collect(),
            Flow::CloudToOnprem => onprem
                .iter()
                .map(|u| (format!("user{u}@{domain}"), "Delivered"))
                .collect(),
            _ => Vec::new(),
        };
        let cloud_received =
            if flow == Flow::CloudToOnprem || (flow == Flow::Inbound && m.mx == Mx::Eop) {
                a.at
            } else {
                cloud_arrival
            };
        let rows = trace_recipients.len() as u32;
        let exo_from = match flow {
            Flow::Inbound if m.mx == Mx::Eop => ExoFrom::Internet,
            Flow::OutboundFromCloud | Flow::InternalCloud | Flow::CloudToOnprem => ExoFrom::Mailbox,
            _ => ExoFrom::Onprem,
        };
        let mut receive = Some(
            trace_recipients
                .iter()
                .map(|(r, _)| r.clone())
                .collect::<Vec<_>>(),
        );
        for (recipient, status) in trace_recipients {
            let from_ip = if matches!(flow, Flow::Inbound) && m.mx == Mx::Eop {
                "198.51.100.25".to_string()
            } else if touches_onprem {
                "192.0.2.10".to_string()
            } else {
                String::new()
            };
            let to_ip = if status == "Delivered"
                && (flow == Flow::CloudToOnprem
                    || (flow == Flow::Inbound && recipient_is_onprem(&onprem, &recipient, &domain)))
            {
                "192.0.2.10".to_string()
            } else {
                String::new()
            };
            let seq = self.seq;
            self.seq += 1;
            let idx = self.trace_rows.len();
            self.trace_rows.push(Some(TraceRow {
                at: cloud_received,
                seq,
                msg: msg_index,
                recipient,
                status,
                from_ip,
                to_ip,
                from: exo_from,
                receive: receive.take(),
            }));
            self.pending_trace
                .push(std::cmp::Reverse((cloud_received, seq, idx)));
        }
        if let Some(x) = self.msgs.get_mut(&msg_index) {
            x.1 += rows;
        }
        self.release_if_unused(msg_index);
        Ok(())
    }

    /// The on-premises part of a message on the seed topology: the visits the base scenario's
    /// routes give it (see [`SeedTopology`]), each a FIFO wait for one of the server's workers
    /// and a processing time, logged as Exchange logs them. Returns whether on-premises saw it
    /// and when Exchange Online receives its cloud copy from on-premises.
    fn seed_path(
        &mut self,
        a: &Arrival,
        msg_index: usize,
        onprem: &[u32],
        cloud: &[u32],
        internet: &[String],
        spam: bool,
    ) -> io::Result<(bool, i64)> {
        let m = self.m;
        let n_ex = m.servers.len();
        let n_hubs = m.seed_topology.as_ref().map_or(1, |t| t.hubs.len());
        let ex = match a.kind {
            MsgKind::Probe(s) => s,
            MsgKind::Mail => self.hub_rng.random_range(0..n_ex),
        };
        let hub = n_ex + self.hub_rng.random_range(0..n_hubs);
        let stop = |server: usize, recv: Recv| Stop {
            server,
            recv,
            deliver: false,
            to_cloud: false,
            to_internet: false,
            to_next: false,
        };
        let (mx_eop, cmt) = (m.mx == Mx::Eop, m.centralized);
        let mut stops: Vec<Stop> = match (a.kind, a.flow) {
            (MsgKind::Probe(_), _) => vec![Stop {
                deliver: true,
                ..stop(ex, Recv::Submit)
            }],
            (_, Flow::Inbound) if spam && mx_eop => vec![],
            // MX at EOP, CMT off: Exchange Online splits; the 2013 server gets the on-premises
            // copy and hands it to the 2007 mailbox server.
            (_, Flow::Inbound) if mx_eop && !cmt => {
                if onprem.is_empty() {
                    vec![]
                } else {
                    vec![Stop {
                        deliver: true,
                        ..stop(ex, Recv::FromEop("Internet"))
                    }]
                }
            }
            // CMT on: the 2013 server gets the whole message and splits.
            (_, Flow::Inbound) if mx_eop => vec![Stop {
                deliver: !onprem.is_empty(),
                to_cloud: !cloud.is_empty(),
                ..stop(ex, Recv::FromEop("Internet"))
            }],
            // MX on-premises: the Hub receives it, splits, and sends cloud copies through the
            // 2013 server.
            (_, Flow::Inbound) => {
                let mut v = vec![Stop {
                    deliver: !onprem.is_empty(),
                    to_next: !cloud.is_empty(),
                    ..stop(hub, Recv::FromInternet)
                }];
                if !cloud.is_empty() {
                    v.push(Stop {
                        to_cloud: true,
                        ..stop(ex, Recv::FromServer(hub))
                    });
                }
                v
            }
            // The 2007 Hub sends on-premises senders' Internet mail straight out (every variant).
            (_, Flow::OutboundFromOnprem) => vec![Stop {
                to_internet: true,
                ..stop(hub, Recv::Submit)
            }],
            (_, Flow::OutboundFromCloud) if cmt => vec![
                Stop {
                    to_next: true,
                    ..stop(ex, Recv::FromEop("Hosted"))
                },
                Stop {
                    to_internet: true,
                    ..stop(hub, Recv::FromServer(ex))
                },
            ],
            (_, Flow::OnpremToCloud) => vec![
                Stop {
                    to_next: true,
                    ..stop(hub, Recv::Submit)
                },
                Stop {
                    to_cloud: true,
                    ..stop(ex, Recv::FromServer(hub))
                },
            ],
            (_, Flow::CloudToOnprem) => vec![Stop {
                deliver: true,
                ..stop(ex, Recv::FromEop("Hosted"))
            }],
            (_, Flow::InternalOnprem) => vec![Stop {
                deliver: true,
                ..stop(hub, Recv::Submit)
            }],
            _ => vec![],
        };
        if stops.is_empty() {
            return Ok((false, a.at));
        }
        let domain = &m.domain;
        let routing = format!("{}.mail.onmicrosoft.com", m.tenant);
        let onprem_addrs: Vec<String> = match a.kind {
            MsgKind::Probe(s) => vec![format!(
                "HealthMailbox{}@{domain}",
                probe_id(server_name(m, s))
            )],
            MsgKind::Mail => onprem.iter().map(|u| format!("user{u}@{domain}")).collect(),
        };
        let cloud_primary: Vec<String> =
            cloud.iter().map(|u| format!("user{u}@{domain}")).collect();
        let cloud_routing: Vec<String> =
            cloud.iter().map(|u| format!("user{u}@{routing}")).collect();
        let onprem_originated = matches!(
            a.flow,
            Flow::OutboundFromOnprem | Flow::OnpremToCloud | Flow::InternalOnprem
        );
        let directionality = if a.flow == Flow::Inbound {
            "Incoming"
        } else {
            "Originating"
        };
        let (sender, message_id) = match self.msgs.get(&msg_index) {
            Some((msg, _)) => (msg.sender.clone(), msg.message_id.clone()),
            None => return Ok((false, a.at)),
        };
        let orig = fmt_ts(self.ts(a.at));
        // What a stop that hands on carries: the recipients of the stop after it.
        for i in (0..stops.len().saturating_sub(1)).rev() {
            if stops[i].to_next {
                stops[i].to_cloud |= stops[i + 1].to_cloud;
                stops[i].to_internet |= stops[i + 1].to_internet;
            }
        }
        let mut arrive = a.at;
        let mut cloud_arrival = a.at;
        let mut prev_fqdn = String::new();
        for (i, st) in stops.iter().enumerate() {
            let server = st.server;
            let host = server_name(m, server).to_string();
            let fqdn = format!("{host}.{domain}").to_ascii_lowercase();
            let v2007 = server_version(m, server) == TrackingVersion::Exchange2007;
            let smtp = !matches!(st.recv, Recv::Submit);
            // The 2013 server's front end takes SMTP from outside the organization.
            let fe_ns = if matches!(st.recv, Recv::FromEop(_) | Recv::FromInternet) && !v2007 {
                (self.fe.sample(&mut self.hub_rng) * 1e6) as i64
            } else {
                0
            };
            let arrive_hub = arrive + fe_ns;
            let service_ns = (self.hub[server].sample(&mut self.hub_rng) * 1e6).max(1e6) as i64;
            let w = &mut self.workers[server];
            let (slot, free) = w
                .iter()
                .copied()
                .enumerate()
                .min_by_key(|(i, t)| (*t, *i))
                .unwrap_or((0, 0));
            let start = arrive_hub.max(free);
            let finish = start + service_ns;
            w[slot] = finish;
            let wait_ns = start - arrive_hub;
            self.count_visit(server, wait_ns, service_ns);

            let carried: Vec<String> = (if st.deliver {
                onprem_addrs.clone()
            } else {
                Vec::new()
            })
            .into_iter()
            .chain(if st.to_cloud {
                cloud_primary.clone()
            } else {
                Vec::new()
            })
            .chain(if st.to_internet {
                internet.to_vec()
            } else {
                Vec::new()
            })
            .collect();
            let (client_ip, client_host, connector, from_entity) = match st.recv {
                Recv::FromEop(entity) => (
                    format!(
                        "40.107.{}.{}",
                        self.msg_rng.random_range(0..255u8),
                        self.msg_rng.random_range(1..255u8)
                    ),
                    format!(
                        "{}.outbound.protection.outlook.com",
                        ["EUR01-VE1", "EUR02-AM5", "NAM04-BN8"][msg_index % 3]
                    ),
                    format!("{host}\\Default Frontend {host}"),
                    entity,
                ),
                Recv::FromInternet => (
                    format!("203.0.113.{}", self.msg_rng.random_range(1..255u8)),
                    "mail.fabrikam.example".to_string(),
                    format!("{host}\\Default {host}"),
                    "Internet",
                ),
                Recv::FromServer(p) => (
                    format!("192.0.2.{}", 10 + p),
                    prev_fqdn.clone(),
                    format!("{host}\\Default {host}"),
                    "",
                ),
                Recv::Submit => (String::new(), fqdn.clone(), String::new(), ""),
            };
            let receive_at = if smtp { arrive_hub } else { arrive };
            if !smtp && !v2007 {
                let source_context = format!(
                    "MDB:{}, Mailbox:{}, Event:{}, MessageClass:IPM.Note",
                    self.guid(),
                    self.guid(),
                    msg_index
                );
                self.push(Event {
                    at: arrive,
                    seq: 0,
                    server,
                    kind: Kind::Submission,
                    event: "SUBMIT",
                    source: "STOREDRIVER",
                    connector: String::new(),
                    source_context,
                    client_ip: String::new(),
                    client_host: fqdn.clone(),
                    msg: msg_index,
                    recipients: Vec::new(),
                    status: Vec::new(),
                    message_info: String::new(),
                    custom_data: String::new(),
                    directionality,
                });
            }
            let source_context = if smtp {
                format!(
                    "08D{};250 2.6.0 {} Queued mail for delivery",
                    self.hex(13).to_ascii_uppercase(),
                    message_id
                )
            } else {
                String::new()
            };
            self.push(Event {
                at: receive_at,
                seq: 0,
                server,
                kind: Kind::Transport,
                event: "RECEIVE",
                source: if smtp { "SMTP" } else { "STOREDRIVER" },
                connector,
                source_context,
                client_ip,
                client_host,
                msg: msg_index,
                recipients: carried.clone(),
                status: Vec::new(),
                message_info: if smtp { orig.clone() } else { String::new() },
                custom_data: if from_entity.is_empty() {
                    String::new()
                } else {
                    format!("S:FromEntity={from_entity}")
                },
                directionality,
            });
            // Shadow redundancy (2013): another hybrid server keeps a copy of SMTP-received mail.
            if smtp && !v2007 && n_ex > 1 {
                let other = (server + 1) % n_ex;
                let oh = server_name(m, other).to_string();
                self.push(Event {
                    at: receive_at,
                    seq: 0,
                    server: other,
                    kind: Kind::Transport,
                    event: "HARECEIVE",
                    source: "SMTP",
                    connector: format!("{oh}\\Default {oh}"),
                    source_context: String::new(),
                    client_ip: String::new(),
                    client_host: fqdn.clone(),
                    msg: msg_index,
                    recipients: carried.clone(),
                    status: Vec::new(),
                    message_info: String::new(),
                    custom_data: String::new(),
                    directionality,
                });
            }
            // Exchange 2013 logs the latency breakdown; 2007 logs none.
            let proc_s = service_ns as f64 / 1e9;
            let wait_s = wait_ns as f64 / 1e9;
            let fe_s = fe_ns as f64 / 1e9;
            let (smr, cat) = (proc_s * 0.1, proc_s * 0.6);
            let sms = proc_s - smr - cat;
            let fe_part = if fe_ns > 0 {
                format!(
                    "SRV={fqdn}:TOTAL-FE={fe_s:.3}|SMR={:.3}|SMS={:.3};",
                    fe_s * 0.4,
                    fe_s * 0.6
                )
            } else {
                String::new()
            };
            let e2e = (finish - a.at) as f64 / 1e9;
            let info = |q: &str| {
                if v2007 {
                    return String::new();
                }
                format!(
                    "{orig};{fe_part}LSRV={fqdn}:TOTAL-HUB={:.3}|SMR={smr:.3}(SMRDI={:.3}|SMRCL={:.3})|CAT={cat:.3}(CATRES={:.3}|CATRT={:.3})|{q}={wait_s:.3}|SMS={sms:.3}",
                    wait_s + proc_s,
                    smr * 0.5,
                    smr * 0.5,
                    cat * 0.3,
                    cat * 0.7
                )
            };
            let entity_cd = if from_entity.is_empty() {
                "Hosted"
            } else {
                from_entity
            };
            if st.deliver && !onprem_addrs.is_empty() {
                self.mailbox_delivery(Delivery {
                    server,
                    at: finish,
                    msg: msg_index,
                    recipients: onprem_addrs.clone(),
                    may_bounce: a.kind == MsgKind::Mail && onprem_originated,
                    fqdn: &fqdn,
                    sender: &sender,
                    message_info: info("QDM"),
                    custom_data: format!(
                        "S:E2ELatency={e2e:.3};S:FromEntity={entity_cd};S:ToEntity=Mailbox"
                    ),
                    directionality,
                });
            }
            let last = i + 1 == stops.len();
            let mut sends: Vec<(String, String, Vec<String>, &'static str, String)> = Vec::new();
            if st.to_next && !last {
                let next = server_name(m, stops[i + 1].server).to_ascii_lowercase();
                // Hop to hop inside the organization: the 2013 server's intra-organization
                // connector, or the 2007 Hub's routing group connector to 2013.
                let connector = if v2007 {
                    "Interop RGC".to_string()
                } else {
                    "Intra-Organization SMTP Send Connector".to_string()
                };
                let to: Vec<String> = carried
                    .iter()
                    .filter(|r| !onprem_addrs.contains(r))
                    .cloned()
                    .collect();
                sends.push((
                    connector,
                    format!("{next}.{domain}"),
                    to,
                    "SEND",
                    String::new(),
                ));
            } else {
                if st.to_cloud && !cloud_routing.is_empty() {
                    sends.push((
                        "Outbound to Office 365 - 6d1f0a3c-5b7e-4c8d-9a2f-3e1b7c9d4f10".into(),
                        format!("{}.mail.protection.outlook.com", m.tenant.replace('.', "-")),
                        cloud_routing.clone(),
                        "SEND",
                        "Hosted".into(),
                    ));
                    cloud_arrival = finish + 50_000_000;
                }
                if st.to_internet && !internet.is_empty() {
                    sends.push((
                        "Internet Send Connector".into(),
                        "mx.fabrikam.example".into(),
                        internet.to_vec(),
                        if v2007 { "SEND" } else { "SENDEXTERNAL" },
                        "Internet".into(),
                    ));
                }
            }
            for (connector, to_host, recipients, event, to_entity) in sends {
                let ext = (self.fe.sample(&mut self.hub_rng) * 1e-3 * 4.0).max(0.001);
                let source_context = format!("08D{}", self.hex(13).to_ascii_uppercase());
                let custom_data = if to_entity.is_empty() {
                    format!("S:E2ELatency={e2e:.3};S:FromEntity={entity_cd}")
                } else {
                    format!(
                        "S:E2ELatency={e2e:.3};S:ExternalSendLatency={ext:.3};S:FromEntity={entity_cd};S:ToEntity={to_entity}"
                    )
                };
                self.push(Event {
                    at: finish,
                    seq: 0,
                    server,
                    kind: Kind::Transport,
                    event,
                    source: "SMTP",
                    connector,
                    source_context,
                    client_ip: String::new(),
                    client_host: to_host,
                    msg: msg_index,
                    status: recipients
                        .iter()
                        .map(|_| "250 2.6.0 Queued mail for delivery".to_string())
                        .collect(),
                    recipients,
                    message_info: info("QDE"),
                    custom_data,
                    directionality,
                });
            }
            // The next server receives it over the LAN 5 ms later.
            arrive = finish + 5_000_000;
            prev_fqdn = fqdn;
        }
        Ok((true, cloud_arrival))
    }

    /// A STOREDRIVER DELIVER into on-premises mailboxes; one delivery in `dsn_share` of the
    /// mail that may bounce fails for its last recipient (one that does not exist), which
    /// then gets its own DSN message.
    fn mailbox_delivery(&mut self, d: Delivery<'_>) {
        let bounce = d.may_bounce && self.msg_rng.random::<f64>() < self.m.dsn_share;
        let mut status: Vec<String> = d
            .recipients
            .iter()
            .map(|_| "250 2.1.5 Recipient OK".to_string())
            .collect();
        if bounce && let Some(s) = status.last_mut() {
            *s = "550 5.1.1 RESOLVER.ADR.RecipNotFound; not found".into();
        }
        self.push(Event {
            at: d.at,
            seq: 0,
            server: d.server,
            kind: Kind::Delivery,
            event: "DELIVER",
            source: "STOREDRIVER",
            connector: String::new(),
            source_context: String::new(),
            client_ip: String::new(),
            client_host: d.fqdn.to_string(),
            msg: d.msg,
            recipients: d.recipients,
            status,
            message_info: d.message_info,
            custom_data: d.custom_data,
            directionality: d.directionality,
        });
        if bounce {
            self.dsn_message(d.server, d.at, d.sender, d.fqdn);
        }
    }

    /// The DSN (NDR) a bounced recipient causes: a message of its own (its own message-id,
    /// the null sender, source DSN, its reference the original), delivered to the sender's
    /// mailbox; calibration leaves it out and counts it.
    fn dsn_message(&mut self, server: usize, at: i64, sender: &str, fqdn: &str) {
        let idx = self.next_msg;
        self.next_msg += 1;
        let message_id = format!("<{}@{fqdn}>", self.hex(24));
        let network_id = self.guid();
        self.msgs.insert(
            idx,
            (
                Msg {
                    message_id,
                    network_id,
                    internal_id: 1_000_000 + idx as u64,
                    sender: String::new(),
                    subject: "Undeliverable: report".into(),
                    bytes: 9_216,
                    recipient_count: 1,
                },
                0,
            ),
        );
        for (dt, event, source, kind) in [
            (5_000_000, "DSN", "DSN", Kind::Transport),
            (6_000_000, "RECEIVE", "DSN", Kind::Transport),
            (40_000_000, "DELIVER", "STOREDRIVER", Kind::Delivery),
        ] {
            self.push(Event {
                at: at + dt,
                seq: 0,
                server,
                kind,
                event,
                source,
                connector: String::new(),
                source_context: String::new(),
                client_ip: String::new(),
                client_host: fqdn.to_string(),
                msg: idx,
                recipients: vec![sender.to_string()],
                status: if event == "DELIVER" {
                    vec!["250 2.1.5 Recipient OK".into()]
                } else {
                    Vec::new()
                },
                message_info: String::new(),
                custom_data: String::new(),
                directionality: "Originating",
            });
        }
        self.truth.dsns += 1;
    }

    fn release_if_unused(&mut self, msg: usize) {
        if self.msgs.get(&msg).is_some_and(|(_, refs)| *refs == 0) {
            self.msgs.remove(&msg);
        }
    }

    fn push(&mut self, mut e: Event) {
        e.seq = self.seq;
        self.seq += 1;
        if let Some(x) = self.msgs.get_mut(&e.msg) {
            x.1 += 1;
        }
        self.pending.push(e);
    }

    /// Writes every event and trace row before `until` (later arrivals cannot precede it).
    fn flush(&mut self, until: i64) -> io::Result<()> {
        while self.pending.peek().is_some_and(|e| e.at < until) {
            let Some(e) = self.pending.pop() else { break };
            let t = self.ts(e.at);
            if let Some((msg, _)) = self.msgs.get(&e.msg) {
                self.writers.event(t, &e, msg)?;
            }
            self.release(e.msg);
        }
        while self.pending_trace.peek().is_some_and(|r| r.0.0 < until) {
            let Some(std::cmp::Reverse((_, _, idx))) = self.pending_trace.pop() else {
                break;
            };
            let Some(row) = self.trace_rows.get_mut(idx).and_then(Option::take) else {
                continue;
            };
            let t = self.ts(row.at);
            if let Some((msg, _)) = self.msgs.get(&row.msg) {
                self.writers.trace_row(t, &row, msg)?;
            }
            self.release(row.msg);
        }
        if self.pending_trace.is_empty() {
            self.trace_rows.clear();
        }
        Ok(())
    }

    fn release(&mut self, msg: usize) {
        if let Some((_, refs)) = self.msgs.get_mut(&msg) {
            *refs -= 1;
            if *refs == 0 {
                self.msgs.remove(&msg);
            }
        }
    }

    fn count_visit(&mut self, server: usize, wait_ns: i64, service_ns: i64) {
        let (w, p) = (wait_ns as f64 / 1e9, service_ns as f64 / 1e9);
        let e = self.per_hop.entry(hop_name(self.m, server)).or_default();
        e.0 += 1;
        e.1 += w;
        e.2 += p;
    }

    fn finish(mut self) -> io::Result<SynthTruth> {
        self.flush(i64::MAX)?;
        // Every hop's visits together.
        let (k, w, p) = self
            .per_hop
            .values()
            .fold((0, 0.0, 0.0), |a, e| (a.0 + e.0, a.1 + e.1, a.2 + e.2));
        self.truth.hub_messages = k;
        let n = k.max(1) as f64;
        self.truth.hub_mean_wait_s = w / n;
        self.truth.hub_mean_processing_s = p / n;
        for (h, (k, w, p)) in &self.per_hop {
            let n = (*k).max(1) as f64;
            self.truth.per_hop.insert(
                h,
                HopTruth {
                    visits: *k,
                    mean_wait_s: w / n,
                    mean_processing_s: p / n,
                },
            );
        }
        let (files, bytes) = self.writers.close()?;
        self.truth.files = files;
        self.truth.bytes = bytes;
        Ok(self.truth)
    }
}

fn recipient_is_onprem(onprem: &[u32], recipient: &str, domain: &str) -> bool {
    onprem
        .iter()
        .any(|u| recipient == format!("user{u}@{domain}"))
}

/// A stable health-mailbox id per server.
fn probe_id(server: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in server.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    format!("{h:016x}")
}

fn fmt_ts(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

// ------------------------------------------------------------------------------------------
// Writers

/// Appends `s` as one CSV field, quoted when it holds a comma, a quote or a line end.
fn field(out: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// Appends UTF-8 `text` to `out` as UTF-16 LE.
fn utf16le(out: &mut Vec<u8>, text: &[u8]) {
    for u in String::from_utf8_lossy(text).encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
}

/// Appends `s` quoted, as Export-Csv writes every field.
fn quoted(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    for b in s.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

struct OpenFile {
    path: PathBuf,
    w: BufWriter<File>,
    /// The hour the file is for (hourly files).
    hour: i64,
}

struct Writers {
    tracking: bool,
    hourly: bool,
    /// Per server: its log version and where its fields are in the 30-field list.
    versions: Vec<(TrackingVersion, Vec<usize>)>,
    dir: PathBuf,
    /// Per server and kind.
    open: BTreeMap<(usize, Kind), OpenFile>,
    ps: Option<(PowerShellStyle, OpenFile)>,
    trace: Option<(u64, u64, u32, Option<OpenFile>)>,
    detailed: Option<OpenFile>,
    files: Vec<PathBuf>,
    bytes: u64,
    line: Vec<u8>,
    servers: Vec<String>,
    domain: String,
}

const PS_COLUMNS: [&str; 28] = [
    "Timestamp",
    "ClientIp",
    "ClientHostname",
    "ServerIp",
    "ServerHostname",
    "SourceContext",
    "ConnectorId",
    "Source",
    "EventId",
    "InternalMessageId",
    "MessageId",
    "NetworkMessageId",
    "Recipients",
    "RecipientStatus",
    "TotalBytes",
    "RecipientCount",
    "RelatedRecipientAddress",
    "Reference",
    "MessageSubject",
    "Sender",
    "ReturnPath",
    "Directionality",
    "TenantId",
    "OriginalClientIp",
    "MessageInfo",
    "MessageLatency",
    "MessageLatencyType",
    "EventData",
];

const TRACE_COLUMNS: [&str; 17] = [
    "PSComputerName",
    "RunspaceId",
    "PSShowComputerName",
    "Organization",
    "MessageId",
    "Received",
    "SenderAddress",
    "RecipientAddress",
    "Subject",
    "Status",
    "ToIP",
    "FromIP",
    "Size",
    "MessageTraceId",
    "StartDate",
    "EndDate",
    "Index",
];

impl Writers {
    fn new(m: &SynthModel, out: &SynthOutput, dir: &Path) -> io::Result<Writers> {
        let mut w = Writers {
            tracking: out.tracking,
            hourly: out.hourly_files,
            versions: (0..n_servers(m))
                .map(|i| {
                    let v = server_version(m, i);
                    (v, v.field_indices())
                })
                .collect(),
            dir: dir.to_owned(),
            open: BTreeMap::new(),
            ps: None,
            trace: out.trace_rows_per_file.map(|n| (n.max(1), 0, 0, None)),
            detailed: None,
            files: Vec::new(),
            bytes: 0,
            line: Vec::with_capacity(2048),
            servers: (0..n_servers(m))
                .map(|i| server_name(m, i).to_string())
                .collect(),
            domain: m.domain.clone(),
        };
        if let Some(style) = &out.powershell {
            std::fs::create_dir_all(dir.join("export"))?;
            let path = dir.join("export").join("tracking-export.csv");
            let mut f = OpenFile {
                w: BufWriter::new(File::create(&path)?),
                path,
                hour: 0,
            };
            let mut head = b"#TYPE Microsoft.Exchange.Management.TransportLogSearchTasks.MessageTrackingEvent\r\n".to_vec();
            for (i, c) in PS_COLUMNS.iter().enumerate() {
                if i > 0 {
                    head.push(b',');
                }
                quoted(&mut head, c);
            }
            head.extend_from_slice(b"\r\n");
            f.w.write_all(&head)?;
            w.bytes += head.len() as u64;
            w.ps = Some((style.clone(), f));
        }
        if out.detailed_report {
            std::fs::create_dir_all(dir.join("detailed"))?;
            let path = dir.join("detailed").join("DetailedReport_001.csv");
            let mut f = OpenFile {
                w: BufWriter::new(File::create(&path)?),
                path,
                hour: 0,
            };
            let mut head = Vec::new();
            for (i, c) in FIELDS_27.split(',').enumerate() {
                if i > 0 {
                    head.push(b',');
                }
                quoted(
                    &mut head,
                    &c.replace('-', "_").replace("date_time", "date_time_utc"),
                );
            }
            head.extend_from_slice(b"\r\n");
            let mut bytes = vec![0xFF, 0xFE];
            utf16le(&mut bytes, &head);
            f.w.write_all(&bytes)?;
            w.bytes += bytes.len() as u64;
            w.files.push(f.path.clone());
            w.detailed = Some(f);
        }
        Ok(w)
    }

    fn tracking_file(
        &mut self,
        server: usize,
        kind: Kind,
        t: Timestamp,
    ) -> io::Result<&mut OpenFile> {
        let version = self.versions[server].0;
        // Exchange 2007 and 2010 log submissions and deliveries in the transport log.
        let kind = if version.has_mailbox_logs() {
            kind
        } else {
            Kind::Transport
        };
        let hour = t.as_second().div_euclid(3600);
        let stale = self
            .open
            .get(&(server, kind))
            .is_some_and(|f| self.hourly && f.hour != hour);
        if stale && let Some(mut f) = self.open.remove(&(server, kind)) {
            f.w.flush()?;
        }
        if !self.open.contains_key(&(server, kind)) {
            let dir = self.dir.join(&self.servers[server]);
            std::fs::create_dir_all(&dir)?;
            let prefix = match kind {
                Kind::Submission => "MSGTRKMS",
                Kind::Transport => "MSGTRK",
                Kind::Delivery => "MSGTRKMD",
            };
            let stamp = t.strftime("%Y%m%d%H").to_string();
            let path = dir.join(format!("{prefix}{stamp}-1.LOG"));
            let mut w = BufWriter::with_capacity(1 << 16, File::create(&path)?);
            let head = format!(
                "#Software: Microsoft Exchange Server\r\n#Version: {}\r\n#Log-type: Message Tracking Log\r\n#Date: {}\r\n#Fields: {}\r\n",
                version.version(),
                fmt_ts(t),
                version.fields()
            );
            w.write_all(head.as_bytes())?;
            self.bytes += head.len() as u64;
            self.files.push(path.clone());
            self.open.insert((server, kind), OpenFile { path, w, hour });
        }
        self.open
            .get_mut(&(server, kind))
            .ok_or_else(|| io::Error::other("tracking log file not open"))
    }

    fn event(&mut self, t: Timestamp, e: &Event, msg: &Msg) -> io::Result<()> {
        let host = &self.servers[e.server].clone();
        let server_ip = format!("192.0.2.{}", 10 + e.server);
        let ts = fmt_ts(t);
        let recipients = e.recipients.join(";");
        let status = e.status.join(";");
        let count = if e.recipients.is_empty() {
            msg.recipient_count
        } else {
            e.recipients.len() as u32
        };
        if self.tracking {
            let mut line = std::mem::take(&mut self.line);
            line.clear();
            let tenant_id = "3b0a6c1e-2f4d-4e8a-9c7b-5d1e8f2a6b30";
            let mut values: Vec<&str> = vec![
                &ts,
                &e.client_ip,
                &e.client_host,
                &server_ip,
                host,
                &e.source_context,
                &e.connector,
                e.source,
                e.event,
            ];
            let internal = msg.internal_id.to_string();
            let bytes = msg.bytes.to_string();
            let count_s = count.to_string();
            values.extend_from_slice(&[
                &internal,
                &msg.message_id,
                &msg.network_id,
                &recipients,
                &status,
                &bytes,
                &count_s,
                "",
                "",
                &msg.subject,
                &msg.sender,
                &msg.sender,
                &e.message_info,
                e.directionality,
                tenant_id,
                &e.client_ip,
                "",
                &e.custom_data,
            ]);
            values.extend_from_slice(&["Email", &msg.network_id, "15.01.2375.007"]);
            for (i, &k) in self.versions[e.server].1.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                field(&mut line, values[k]);
            }
            line.extend_from_slice(b"\r\n");
            let f = self.tracking_file(e.server, e.kind, t)?;
            f.w.write_all(&line)?;
            self.bytes += line.len() as u64;
            self.line = line;
        }
        if let Some((style, f)) = &mut self.ps {
            let local = t.to_zoned_datetime(style.timezone.clone());
            let stamp = local.strftime("%-m/%-d/%Y %-I:%M:%S %p").to_string();
            let rc = if style.join_recipients {
                recipients.clone()
            } else if e.recipients.is_empty() {
                String::new()
            } else {
                "System.String[]".into()
            };
            let rs = if e.status.is_empty() {
                String::new()
            } else if style.join_recipients {
                status.clone()
            } else {
                "System.String[]".into()
            };
            let latency = e
                .custom_data
                .split(';')
                .find_map(|p| p.strip_prefix("S:E2ELatency="))
                .and_then(|v| v.parse::<f64>().ok())
                .map(|s| {
                    let ticks = (s * 1e7).round() as i64;
                    format!(
                        "{:02}:{:02}:{:02}.{:07}",
                        ticks / 36_000_000_000,
                        ticks / 600_000_000 % 60,
                        ticks / 10_000_000 % 60,
                        ticks % 10_000_000
                    )
                })
                .unwrap_or_default();
            let internal = msg.internal_id.to_string();
            let values: [&str; 28] = [
                &stamp,
                &e.client_ip,
                &e.client_host,
                &format!("192.0.2.{}", 10 + e.server),
                host,
                &e.source_context,
                &e.connector,
                e.source,
                e.event,
                &internal,
                &msg.message_id,
                &msg.network_id,
                &rc,
                &rs,
                &msg.bytes.to_string(),
                &count.to_string(),
                "",
                "",
                &msg.subject,
                &msg.sender,
                &msg.sender,
                e.directionality,
                "",
                &e.client_ip,
                &e.message_info,
                &latency,
                if latency.is_empty() { "" } else { "EndToEnd" },
                if e.custom_data.is_empty() {
                    ""
                } else {
                    "System.Collections.Generic.KeyValuePair`2[System.String,System.Object][]"
                },
            ];
            let mut line = Vec::with_capacity(1024);
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                quoted(&mut line, v);
            }
            line.extend_from_slice(b"\r\n");
            f.w.write_all(&line)?;
            self.bytes += line.len() as u64;
        }
        Ok(())
    }

    /// The detailed report's rows for one message trace row (and, on the message's first
    /// row, its RECEIVE).
    fn detailed_rows(&mut self, t: Timestamp, row: &TraceRow, msg: &Msg) -> io::Result<()> {
        let Some(f) = self.detailed.as_mut() else {
            return Ok(());
        };
        let exo = format!(
            "AM0PR{:02}MB{:04}.eurprd{:02}.prod.outlook.com",
            row.msg % 7,
            row.msg % 9973,
            row.msg % 5
        );
        let onprem_ip = "192.0.2.10";
        let org_domain = format!("@{}", self.domain);
        let mut line = Vec::with_capacity(1024);
        let mut write = |at: Timestamp,
                         event: &str,
                         source: &str,
                         client: (&str, &str),
                         connector: &str,
                         recipients: &str,
                         status: &str,
                         custom_data: &str,
                         directionality: &str| {
            let values = [
                fmt_ts(at),
                client.0.to_string(),
                client.1.to_string(),
                "40.107.0.1".to_string(),
                exo.clone(),
                String::new(),
                connector.to_string(),
                source.to_string(),
                event.to_string(),
                msg.internal_id.to_string(),
                msg.message_id.clone(),
                msg.network_id.clone(),
                recipients.to_string(),
                status.to_string(),
                msg.bytes.to_string(),
                recipients.split(';').count().to_string(),
                String::new(),
                String::new(),
                msg.subject.clone(),
                msg.sender.clone(),
                msg.sender.clone(),
                String::new(),
                directionality.to_string(),
                "3b0a6c1e-2f4d-4e8a-9c7b-5d1e8f2a6b30".to_string(),
                client.0.to_string(),
                String::new(),
                custom_data.to_string(),
            ];
            for (i, v) in values.iter().enumerate() {
                if i > 0 {
                    line.push(b',');
                }
                quoted(&mut line, v);
            }
            line.extend_from_slice(b"\r\n");
        };
        let directionality = if msg.sender.ends_with(&org_domain) {
            "Originating"
        } else {
            "Incoming"
        };
        if let Some(all) = &row.receive {
            let (source, client, connector, entity) = match row.from {
                ExoFrom::Internet => (
                    "SMTP",
                    (row.from_ip.as_str(), "mail.fabrikam.example"),
                    "",
                    "Internet",
                ),
                ExoFrom::Onprem => (
                    "SMTP",
                    (onprem_ip, "ex01.contoso.com"),
                    "Inbound from 6d1f0a3c-5b7e-4c8d-9a2f-3e1b7c9d4f10",
                    "OnPrem",
                ),
                ExoFrom::Mailbox => ("STOREDRIVER", ("", exo.as_str()), "", "Hosted"),
            };
            write(
                t,
                "RECEIVE",
                source,
                client,
                connector,
                &all.join(";"),
                "",
                &format!("S:FromEntity={entity}"),
                directionality,
            );
        }
        let done = t + SignedDuration::from_millis(1500);
        let to_onprem = !row.to_ip.is_empty();
        let internal = row.recipient.ends_with(&org_domain);
        let (event, source, client, connector, status, to_entity) =
            if row.status == "FilteredAsSpam" {
                (
                    "FAIL",
                    "AGENT",
                    ("", ""),
                    "",
                    "550 5.7.1 Message rejected as spam by Content Filtering",
                    "",
                )
            } else if to_onprem {
                (
                    "SEND",
                    "SMTP",
                    (onprem_ip, "mail.contoso.com"),
                    "Outbound to 6d1f0a3c-5b7e-4c8d-9a2f-3e1b7c9d4f10",
                    "250 2.6.0 Queued mail for delivery",
                    "OnPrem",
                )
            } else if internal {
                (
                    "DELIVER",
                    "STOREDRIVER",
                    ("", exo.as_str()),
                    "",
                    "250 2.1.5 Recipient OK",
                    "Hosted",
                )
            } else {
                (
                    "SEND",
                    "SMTP",
                    ("203.0.113.80", "mx.fabrikam.example"),
                    "",
                    "250 2.6.0 Queued mail for delivery",
                    "Internet",
                )
            };
        let custom_data = if to_entity.is_empty() {
            String::new()
        } else {
            format!("S:ToEntity={to_entity}")
        };
        write(
            done,
            event,
            source,
            client,
            connector,
            &row.recipient,
            status,
            &custom_data,
            directionality,
        );
        let mut bytes = Vec::with_capacity(line.len() * 2);
        utf16le(&mut bytes, &line);
        f.w.write_all(&bytes)?;
        self.bytes += bytes.len() as u64;
        Ok(())
    }

    fn trace_row(&mut self, t: Timestamp, row: &TraceRow, msg: &Msg) -> io::Result<()> {
        self.detailed_rows(t, row, msg)?;
        let Some((per_file, rows, file_no, open)) = &mut self.trace else {
            return Ok(());
        };
        if *rows % *per_file == 0 {
            if let Some(mut f) = open.take() {
                f.w.flush()?;
            }
            *file_no += 1;
            std::fs::create_dir_all(self.dir.join("trace"))?;
            let path = self
                .dir
                .join("trace")
                .join(format!("MessageTrace_{:03}.csv", file_no));
            let mut w = BufWriter::new(File::create(&path)?);
            let mut head = Vec::new();
            for (i, c) in TRACE_COLUMNS.iter().enumerate() {
                if i > 0 {
                    head.push(b',');
                }
                quoted(&mut head, c);
            }
            head.extend_from_slice(b"\r\n");
            w.write_all(&head)?;
            self.bytes += head.len() as u64;
            self.files.push(path.clone());
            *open = Some(OpenFile { path, w, hour: 0 });
        }
        *rows += 1;
        let Some(f) = open.as_mut() else {
            return Ok(());
        };
        // Get-MessageTrace's Received is UTC, written in the exporting machine's format.
        let stamp = t
            .to_zoned_datetime(TimeZone::UTC)
            .strftime("%-m/%-d/%Y %-I:%M:%S %p")
            .to_string();
        let org = format!(
            "{}.onmicrosoft.com",
            self.domain.split('.').next().unwrap_or("contoso")
        );
        let trace_id = format!("{:08x}-0000-4000-8000-{:012x}", row.msg, row.seq);
        let size = msg.bytes.to_string();
        let index = rows.to_string();
        let values: [&str; 17] = [
            "outlook.office365.com",
            "5f2c1d3e-0000-4000-8000-000000000000",
            "False",
            &org,
            &msg.message_id,
            &stamp,
            &msg.sender,
            &row.recipient,
            &msg.subject,
            row.status,
            &row.to_ip,
            &row.from_ip,
            &size,
            &trace_id,
            "",
            "",
            &index,
        ];
        let mut line = Vec::with_capacity(512);
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                line.push(b',');
            }
            quoted(&mut line, v);
        }
        line.extend_from_slice(b"\r\n");
        f.w.write_all(&line)?;
        self.bytes += line.len() as u64;
        Ok(())
    }

    fn close(mut self) -> io::Result<(Vec<PathBuf>, u64)> {
        for (_, mut f) in std::mem::take(&mut self.open) {
            f.w.flush()?;
        }
        if let Some((_, mut f)) = self.ps.take() {
            f.w.flush()?;
            self.files.push(f.path);
        }
        if let Some((_, _, _, Some(mut f))) = self.trace.take() {
            f.w.flush()?;
        }
        if let Some(mut f) = self.detailed.take() {
            f.w.flush()?;
        }
        self.files.sort();
        Ok((self.files, self.bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibrate::read::read_inputs;
    use crate::calibrate::record::{EventId, LogFormat, ReadOptions};

    fn small(seed: u64) -> SynthModel {
        let mut m = SynthModel::example(seed);
        m.days = 1;
        for r in m.peak_per_s.values_mut() {
            *r /= 100.0;
        }
        m
    }

    fn read_all(dir: &Path) -> Vec<crate::calibrate::LogRecord> {
        let mut recs = Vec::new();
        let mut opts = ReadOptions::default();
        read_inputs(&[dir.to_owned()], &mut opts, &mut |r| {
            recs.push(r);
            Ok(())
        })
        .unwrap();
        recs
    }

    #[test]
    fn tracking_logs_read_back_consistently() {
        let m = small(7);
        let dir = tempfile::tempdir().unwrap();
        let out = SynthOutput {
            trace_rows_per_file: None,
            ..SynthOutput::default()
        };
        let truth = generate(&m, &out, dir.path()).unwrap();
        assert!(truth.files.len() > 24, "{} files", truth.files.len());
        let recs = read_all(dir.path());
        let receives = recs
            .iter()
            .filter(|r| r.event == Some(EventId::Receive) && r.source.as_deref() != Some("DSN"))
            .count() as u64;
        // One RECEIVE per message a Hub processed (and one per DSN, its own message).
        assert_eq!(receives, truth.hub_messages);
        let dsn_receives = recs
            .iter()
            .filter(|r| r.event == Some(EventId::Receive) && r.source.as_deref() == Some("DSN"))
            .count() as u64;
        assert_eq!(dsn_receives, truth.dsns);
        // Every DELIVER/SEND carries a breakdown whose TOTAL-HUB is the queue wait plus the
        // processing time, and whose local server wrote the record.
        let mut n = 0;
        let mut proc_sum = 0.0;
        for r in recs.iter().filter(|r| {
            matches!(
                r.event,
                Some(EventId::Deliver | EventId::Send | EventId::SendExternal)
            ) && !r.sender.as_deref().unwrap_or("").is_empty()
        }) {
            // (A DSN's delivery, from the null sender, has no breakdown.)
            let l = r
                .latency
                .as_ref()
                .and_then(|l| l.local())
                .expect("a breakdown");
            assert!(
                l.server
                    .starts_with(&r.server.as_ref().unwrap().to_ascii_lowercase())
            );
            let p = l.processing_s().unwrap();
            assert!(p > 0.0);
            assert!(r.e2e_latency_s.unwrap() + 0.002 >= l.total_s.unwrap());
            proc_sum += p;
            n += 1;
        }
        assert!(n as u64 >= truth.hub_messages);
        // The logged processing times average the true ones (messages with both a DELIVER and
        // a SEND count twice, which does not bias the mean); 3 decimals of rounding only.
        let mean = proc_sum / n as f64;
        let true_mean = m.hub_ms.mean() / 1000.0;
        // n is in the thousands; the log-normal's sd/mean ≈ 0.8, so 4 standard errors ≈ 6%.
        assert!(
            (mean / true_mean - 1.0).abs() < 0.1,
            "{mean} vs {true_mean}"
        );
        assert!(truth.probes > 0 && truth.hub_mean_wait_s >= 0.0);
        assert!(recs.iter().any(|r| {
            r.sender
                .as_deref()
                .is_some_and(|s| s.starts_with("HealthMailbox"))
        }));
        assert!(recs.iter().any(|r| r.event == Some(EventId::HaReceive)));
        assert!(recs.iter().any(|r| {
            r.connector_id
                .as_deref()
                .is_some_and(|c| c.starts_with("Outbound to Office 365"))
        }));
        assert!(
            recs.iter()
                .any(|r| r.from_entity.as_deref() == Some("Internet"))
        );
    }

    #[test]
    fn every_format_reads_and_generation_is_deterministic() {
        let mut m = small(11);
        m.tracking = TrackingVersion::Exchange2013;
        m.days = 1;
        let out = SynthOutput {
            tracking: false,
            hourly_files: false,
            powershell: Some(PowerShellStyle {
                timezone: TimeZone::get("Europe/Berlin").unwrap(),
                join_recipients: false,
            }),
            trace_rows_per_file: Some(500),
            detailed_report: false,
            stop_after_bytes: None,
        };
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        let ta = generate(&m, &out, a.path()).unwrap();
        let tb = generate(&m, &out, b.path()).unwrap();
        assert_eq!(ta.files.len(), tb.files.len());
        for (fa, fb) in ta.files.iter().zip(&tb.files) {
            assert_eq!(
                std::fs::read(fa).unwrap(),
                std::fs::read(fb).unwrap(),
                "{}",
                fa.display()
            );
        }
        // Several trace files of one trace.
        let traces: Vec<_> = ta
            .files
            .iter()
            .filter(|f| f.starts_with(a.path().join("trace")))
            .collect();
        assert!(traces.len() > 2);
        let mut opts = ReadOptions {
            timezone: Some(TimeZone::get("Europe/Berlin").unwrap()),
            ..ReadOptions::default()
        };
        let mut n_ps = 0u64;
        let mut n_trace = 0u64;
        let mut first_ps = None;
        let report = read_inputs(&[a.path().to_owned()], &mut opts, &mut |r| {
            if r.event.is_some() {
                n_ps += 1;
                first_ps.get_or_insert(r.timestamp);
            } else {
                n_trace += 1;
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(report.bad_lines, 0, "{:?}", report.bad_examples);
        assert!(
            report
                .files
                .iter()
                .any(|f| f.format == LogFormat::PowerShellExport)
        );
        assert!(
            report
                .files
                .iter()
                .any(|f| f.format == LogFormat::MessageTrace)
        );
        assert!(
            report
                .warnings
                .iter()
                .any(|w| w.contains("System.String[]"))
        );
        assert!(n_ps > 0 && n_trace > 0);
        // Berlin local times read back as the UTC instants written (within the first hour).
        let first = first_ps.unwrap();
        assert!(
            first >= m.start && first < m.start + SignedDuration::from_hours(2),
            "{first}"
        );
    }

    /// The logs' hourly counts are the model's: per logged hour, the messages whose first
    /// arrival (RECEIVE or SUBMIT) is in it — mail only, as calibration counts it — against
    /// the model's expected count, Σ over the flows on-premises sees of rate × 3600 × the
    /// share of the flow's messages that reach on-premises. Seed topology, MX at EOP, CMT
    /// off (the README's worked example at 2% scale): outbound from on-premises, both
    /// cross-premises flows and on-premises internal mail are seen whole, inbound mail when
    /// it is not spam and has an on-premises recipient (1 − Σ w_k · (1 − p)^k of it), cloud
    /// senders' Internet and cloud-internal mail not at all.
    /// Tolerances (the counts are Poisson, so z = (n − e) / √e): the 48 cells of weekday and
    /// weekend hours of day each within a Bonferroni bound for a family-wise 1% (|z| ≤ 3.71 =
    /// Φ⁻¹(1 − 0.01/96)), and the 168 single hours' Σ z² within the χ²(168) 0.1% upper
    /// quantile; fixed seed. Power: a weekday hour-of-day cell holds about 190 (23h) to 3200
    /// (09h) messages here, so the bound catches an excess of 3.71/√e: 6.6% in the busiest
    /// hour, 27% in the quietest.
    #[test]
    fn logged_hourly_counts_match_the_models_expected_counts() {
        let mut m = SynthModel::seed_example(5);
        for r in m.peak_per_s.values_mut() {
            *r *= 0.02;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = SynthOutput {
            trace_rows_per_file: None,
            ..SynthOutput::default()
        };
        let truth = generate(&m, &out, dir.path()).unwrap();
        let hours = m.days as usize * 24;
        // First arrival per message-id, mail only.
        let mut first: BTreeMap<String, Timestamp> = BTreeMap::new();
        let mut left_out = std::collections::BTreeSet::new();
        for r in read_all(dir.path()) {
            let Some(id) = r.message_id.clone() else {
                continue;
            };
            let sender = r.sender.as_deref().unwrap_or("");
            if sender.starts_with("HealthMailbox")
                || r.source.as_deref() == Some("DSN")
                || (sender.is_empty() && r.event == Some(EventId::Receive))
            {
                left_out.insert(id);
                continue;
            }
            if matches!(r.event, Some(EventId::Receive | EventId::Submit)) {
                let t = first.entry(id).or_insert(r.timestamp);
                *t = (*t).min(r.timestamp);
            }
        }
        let mut observed = vec![0u64; hours];
        for (id, t) in &first {
            if left_out.contains(id) {
                continue;
            }
            let h = (t.as_second() - m.start.as_second()) / 3600;
            observed[h as usize] += 1;
        }
        let mail: u64 = observed.iter().sum();
        assert!(mail > 20_000, "{mail} messages");
        assert_eq!(left_out.len() as u64, truth.probes + truth.dsns);
        // The model's expectation.
        let total_w: f64 = m.recipients.iter().map(|(_, w)| w).sum();
        let p_onprem = m.inbound_onprem_share;
        let reaches = 1.0
            - m.recipients
                .iter()
                .map(|(k, w)| w / total_w * (1.0 - p_onprem).powi(*k as i32))
                .sum::<f64>();
        let expected: Vec<f64> = (0..hours as u64)
            .map(|h| {
                3600.0
                    * (m.rate_per_s(Flow::Inbound, h) * (1.0 - m.spam_share) * reaches
                        + [
                            Flow::OutboundFromOnprem,
                            Flow::OnpremToCloud,
                            Flow::CloudToOnprem,
                            Flow::InternalOnprem,
                        ]
                        .iter()
                        .map(|f| m.rate_per_s(*f, h))
                        .sum::<f64>())
            })
            .collect();
        let weekday = |h: usize| (h / 24) < 5; // 2 March 2026 is a Monday.
        let mut worst = (0.0f64, String::new());
        for weekend in [false, true] {
            for hd in 0..24 {
                let (mut o, mut e) = (0.0, 0.0);
                for h in (hd..hours).step_by(24).filter(|h| weekday(*h) != weekend) {
                    o += observed[h] as f64;
                    e += expected[h];
                }
                let z = (o - e) / e.sqrt();
                if z.abs() > worst.0.abs() {
                    worst = (
                        z,
                        format!(
                            "{} {hd:02}h: {o} vs {e:.1}",
                            if weekend { "weekend" } else { "weekday" }
                        ),
                    );
                }
            }
        }
        assert!(worst.0.abs() <= 3.71, "z = {:.2} at {}", worst.0, worst.1);
        let chi2: f64 = observed
            .iter()
            .zip(&expected)
            .map(|(o, e)| (*o as f64 - e).powi(2) / e)
            .sum();
        use statrs::distribution::{ChiSquared, ContinuousCDF};
        let bound = ChiSquared::new(hours as f64).unwrap().inverse_cdf(0.999);
        assert!(
            chi2 <= bound,
            "χ² = {chi2:.1} over {hours} hours, bound {bound:.1}"
        );
    }

    /// The detailed report is what the readers take as one (UTF-16 LE with a BOM, snake_case
    /// columns) and holds the message trace's messages and recipients: every trace row has
    /// its DELIVER, SEND or FAIL row for that recipient, every message one RECEIVE listing
    /// them all, at the trace's times; no line is unreadable.
    #[test]
    fn the_detailed_report_reads_back_as_the_trace() {
        let m = small(13);
        let dir = tempfile::tempdir().unwrap();
        let out = SynthOutput {
            tracking: false,
            detailed_report: true,
            ..SynthOutput::default()
        };
        let truth = generate(&m, &out, dir.path()).unwrap();
        let path = dir.path().join("detailed").join("DetailedReport_001.csv");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[..4], &[0xFF, 0xFE, b'"', 0], "UTF-16 LE with a BOM");
        // (Two Exchange Online formats are not read in one run: each folder by itself.)
        let trace = read_all(&dir.path().join("trace"));
        let mut opts = ReadOptions::default();
        let mut detailed = Vec::new();
        let report = read_inputs(&[dir.path().join("detailed")], &mut opts, &mut |r| {
            detailed.push(r);
            Ok(())
        })
        .unwrap();
        assert_eq!(report.bad_lines, 0, "{:?}", report.bad_examples);
        let f = report
            .files
            .iter()
            .find(|f| f.format == LogFormat::DetailedReport)
            .expect("read as a detailed report");
        assert_eq!(f.encoding, "UTF-16LE");
        assert!(truth.files.contains(&path));
        // Per (message, recipient): the trace's status and the report's final event.
        let key = |r: &crate::calibrate::LogRecord, a: &str| {
            (r.message_id.clone().unwrap(), a.to_ascii_lowercase())
        };
        let mut ends = BTreeMap::new();
        let mut receives: BTreeMap<String, (Timestamp, usize)> = BTreeMap::new();
        for r in &detailed {
            match &r.event {
                Some(EventId::Receive) => {
                    let old = receives.insert(
                        r.message_id.clone().unwrap(),
                        (r.timestamp, r.recipients.len()),
                    );
                    assert!(old.is_none(), "two RECEIVEs of {:?}", r.message_id);
                }
                Some(e) => {
                    assert_eq!(r.recipients.len(), 1);
                    ends.insert(key(r, &r.recipients[0]), e.clone());
                }
                None => unreachable!(),
            }
        }
        assert!(trace.len() > 100, "{} trace rows", trace.len());
        assert_eq!(ends.len(), trace.len());
        let mut per_msg: BTreeMap<String, usize> = BTreeMap::new();
        for t in &trace {
            let id = t.message_id.clone().unwrap();
            *per_msg.entry(id.clone()).or_default() += 1;
            let end = &ends[&key(t, &t.recipients[0])];
            let status = format!("{:?}", t.trace_status.as_ref().unwrap());
            match status.as_str() {
                "FilteredAsSpam" => assert_eq!(*end, EventId::Fail),
                _ => assert!(matches!(end, EventId::Deliver | EventId::Send), "{end:?}"),
            }
            // (The trace's Received is exported to the whole second.)
            assert_eq!(
                receives[&id].0.as_second(),
                t.timestamp.as_second(),
                "RECEIVE at the trace's Received"
            );
        }
        assert_eq!(receives.len(), per_msg.len());
        for (id, n) in per_msg {
            assert_eq!(
                receives[&id].1, n,
                "{id}: the RECEIVE lists every recipient"
            );
        }
    }
}
