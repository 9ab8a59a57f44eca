//! Classification: log records grouped into messages, each message one flow of the hybrid
//! scenario, with what the estimators need from it (arrival time, recipients and their side,
//! size, per-server processing and end-to-end latency).
//!
//! Records are grouped by message-id (network-message-id, then internal-message-id, where a
//! record has none), across servers and formats, so a message that crossed three servers is
//! one message. A message is closed, classified and forgotten once the newest timestamp read
//! is [`ClassifyConfig::horizon_s`] past its last record: memory is bounded by the messages
//! open at once, not by the lines read.
//!
//! Owns the Exchange knowledge of calibration: connector names of the Hybrid Configuration
//! wizard, FromEntity/ToEntity, routing addresses, accepted domains, health-mailbox probes,
//! DSNs, server versions → hops. Must not: read files (the readers do) or compute intervals
//! (see [`super::estimate`]).

use std::collections::{BTreeMap, HashMap};

use super::record::{EventId, LogRecord, Sides, TraceStatus};

/// The hybrid sources a message can belong to: the Exchange layer's own, so a calibrated
/// source is named as the scenario names it.
pub use crate::hybrid::Source;
use crate::hybrid::names::Flow;

/// Where a mailbox (or sender) is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    Onprem,
    Cloud,
    Internet,
}

/// The scenario's flows (latency is recorded per flow): inbound splits by recipient side.
pub use crate::hybrid::FLOWS;

/// The flow of a recipient copy of a message of `source` whose mailbox is on `side`.
pub fn flow_of(source: Source, side: Side) -> usize {
    match (source, side) {
        (Source::Inbound, Side::Cloud) => Flow::InboundToCloud,
        (Source::Inbound, _) => Flow::InboundToOnprem,
        (Source::OutboundFromOnprem, _) => Flow::OutboundFromOnprem,
        (Source::OutboundFromCloud, _) => Flow::OutboundFromCloud,
        (Source::OnpremToCloud, _) => Flow::OnpremToCloud,
        (Source::CloudToOnprem, _) => Flow::CloudToOnprem,
        (Source::OnpremInternal, _) => Flow::OnpremInternal,
        (Source::CloudInternal, _) => Flow::CloudInternal,
    }
    .index()
}

/// Where a latency measurement ends, per flow, in what the logs show: message traces give
/// no delivery times, so an end is always an on-premises record (tracking log, milliseconds).
pub fn measured_to(flow: usize, sides: Sides) -> &'static str {
    match (flow, sides.onprem.is_some()) {
        (_, false) => "none: message traces give no delivery times",
        (0 | 5 | 6, _) => "on-premises delivery",
        // Cloud senders' Internet mail logged on-premises: centralized mail transport.
        (2 | 3, _) => "hand-off to the Internet",
        (1 | 4, _) => "hand-off to Exchange Online",
        (_, _) if sides.cloud.is_some() => "none: message traces give no delivery times",
        _ => "not seen on-premises",
    }
}

/// Where a latency measurement starts, per flow: the message's earliest record on either
/// side. Mail that enters at EOP or Exchange Online starts at the message trace's `Received`
/// when a trace was read (its clock; whole seconds in a Get-MessageTrace export), else at its
/// first on-premises record.
pub fn measured_from(flow: usize, sides: Sides) -> &'static str {
    match (flow, sides.cloud.is_some()) {
        (0 | 1 | 3 | 5 | 7, true) => {
            "the message trace's Received in EOP/Exchange Online (exported to the whole second: starts up to 1 s early) or an earlier on-premises record"
        }
        (2 | 4 | 6, _) => "on-premises submission",
        _ => "the first on-premises record (RECEIVE, or message-info's original arrival)",
    }
}

/// What a connector name says about the direction of mail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectorRole {
    /// On-premises send connector to Exchange Online (`Outbound to Office 365`).
    ToCloud,
    /// On-premises receive connector that takes mail from EOP and the Internet
    /// (`Default Frontend <server>`): the sender decides which.
    Frontend,
    /// Exchange Online's connector for mail from on-premises (`Inbound from <guid>`).
    CloudFromOnprem,
    /// Exchange Online's connector for mail to on-premises (`Outbound to <guid>`).
    CloudToOnprem,
    /// A connector to or from the Internet.
    Internet,
    /// A connector between the organization's own servers.
    Internal,
}

impl ConnectorRole {
    pub fn parse(s: &str) -> Option<ConnectorRole> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "to_cloud" => ConnectorRole::ToCloud,
            "frontend" => ConnectorRole::Frontend,
            "cloud_from_onprem" => ConnectorRole::CloudFromOnprem,
            "cloud_to_onprem" => ConnectorRole::CloudToOnprem,
            "internet" => ConnectorRole::Internet,
            "internal" => ConnectorRole::Internal,
            _ => return None,
        })
    }

    pub const ACCEPTED: &'static str =
        "to_cloud, frontend, cloud_from_onprem, cloud_to_onprem, internet, internal";
}

/// A name pattern with `*` standing for any run of characters, matched case-insensitively.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern(String);

impl Pattern {
    pub fn new(p: &str) -> Pattern {
        Pattern(p.trim().to_ascii_lowercase())
    }

    pub fn matches(&self, name: &str) -> bool {
        glob(
            self.0.as_bytes(),
            name.trim().to_ascii_lowercase().as_bytes(),
        )
    }
}

fn glob(p: &[u8], s: &[u8]) -> bool {
    // Iterative wildcard match with backtracking to the last `*` (linear in practice).
    let (mut pi, mut si) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

/// The built-in connector names of the Hybrid Configuration wizard.
fn wizard_role(name: &str) -> Option<ConnectorRole> {
    let n = name.trim().to_ascii_lowercase();
    // Send connectors are logged as the name; receive connectors as `<server>\<name>`.
    let n = n.rsplit('\\').next().unwrap_or(&n);
    if n == "outbound to office 365" || n.starts_with("outbound to office 365 - ") {
        Some(ConnectorRole::ToCloud)
    } else if n.starts_with("default frontend") {
        Some(ConnectorRole::Frontend)
    } else if n.starts_with("inbound from ") {
        Some(ConnectorRole::CloudFromOnprem)
    } else if n.starts_with("outbound to ") {
        Some(ConnectorRole::CloudToOnprem)
    } else if n.starts_with("intra-organization") || n.starts_with("default ") {
        Some(ConnectorRole::Internal)
    } else {
        None
    }
}

/// How records are classified.
#[derive(Clone, Debug)]
pub struct ClassifyConfig {
    /// Lower-case accepted domains; empty means inferred from the senders of on-premises
    /// submissions (and printed).
    pub accepted_domains: Vec<String>,
    /// `[calibrate.connectors]`: connector name pattern → role, tried before the built-ins.
    pub connectors: Vec<(Pattern, ConnectorRole)>,
    /// `--server` then `[calibrate.servers]`: server name pattern → hop.
    pub servers: Vec<(Pattern, String)>,
    /// Seconds after its last record at which a message is closed.
    pub horizon_s: i64,
    /// Count health-mailbox probes, DSNs and system messages as traffic instead of skipping.
    pub include_system: bool,
}

impl Default for ClassifyConfig {
    fn default() -> Self {
        ClassifyConfig {
            accepted_domains: Vec::new(),
            connectors: Vec::new(),
            servers: Vec::new(),
            // Longer than a transport server holds a message between its records in normal
            // operation (retries excepted), shorter than the hours of files read out of order.
            horizon_s: 2 * 3600,
            include_system: false,
        }
    }
}

/// Why a message was left out of the estimates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkipReason {
    HealthMailbox,
    Dsn,
    SystemMessage,
    /// Only records from after the message's arrival (it arrived before the logs begin).
    StartedBeforeLogs,
    /// Neither sender nor any recipient could be placed.
    Unclassified,
    /// Relayed: sender and every recipient on the Internet.
    Relay,
}

impl SkipReason {
    pub fn name(self) -> &'static str {
        match self {
            SkipReason::HealthMailbox => "health_mailbox_probe",
            SkipReason::Dsn => "ndr_or_dsn",
            SkipReason::SystemMessage => "system_message",
            SkipReason::StartedBeforeLogs => "started_before_logs",
            SkipReason::Unclassified => "unclassified",
            SkipReason::Relay => "relay_internet_to_internet",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::HealthMailbox => {
                "Managed Availability probes (HealthMailbox… senders or recipients)"
            }
            SkipReason::Dsn => "delivery status notifications and NDRs (DSN events, null sender)",
            SkipReason::SystemMessage => {
                "system messages (MicrosoftExchange…, SystemMailbox…, journal and arbitration mailboxes)"
            }
            SkipReason::StartedBeforeLogs => {
                "messages whose first record is not an arrival (they arrived before the logs begin)"
            }
            SkipReason::Unclassified => "messages whose sender and recipients could not be placed",
            SkipReason::Relay => "Internet-to-Internet relays",
        }
    }
}

/// One classified message, as the estimators see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub source: Source,
    /// Unix seconds of its arrival in the organization.
    pub arrival_s: f64,
    pub recipients: u32,
    pub onprem_recipients: u32,
    pub cloud_recipients: u32,
    pub size_bytes: Option<u64>,
    pub spam: bool,
    /// Per recipient copy that ended in the logs: (flow index, latency in seconds).
    pub latencies: Vec<(usize, f64)>,
    /// Per server visited: (hop, processing seconds, how measured, hour of day of arrival there).
    pub processing: Vec<HopSample>,
    /// Destinations of several kinds (e.g. Internet and Exchange Online recipients).
    pub mixed: bool,
    /// The hop of the first mapped server that received it (where it entered on-premises).
    pub first_hop: Option<String>,
    /// Cloud recipients that an on-premises record sent towards Exchange Online (not those
    /// only the message trace shows): mail for the cloud that passed on-premises.
    pub cloud_recipients_via_onprem: u32,
}

/// How a hop's processing time was measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HopMethod {
    /// The server's TOTAL minus its queue components (QD*) from message-info.
    LatencyComponents,
    /// RECEIVE → last SEND/DELIVER at the same server (includes queueing: kept for low load).
    ReceiveToSend,
}

#[derive(Clone, Debug, PartialEq)]
pub struct HopSample {
    pub hop: String,
    pub seconds: f64,
    pub method: HopMethod,
    /// Unix seconds when the message reached the server.
    pub at_s: f64,
    /// Unix seconds when the server sent or delivered it (the processing ends then).
    pub end_s: f64,
    /// The server's queue waits (the QD* components), where the log has them.
    pub wait_s: Option<f64>,
}

#[derive(Debug, Default)]
struct ServerVisit {
    first_receive: Option<f64>,
    last_out: Option<f64>,
    processing: Option<f64>,
    /// (queue waits, time of the record that gave them).
    wait: Option<(f64, f64)>,
}

#[derive(Debug, Default)]
struct Open {
    first_s: f64,
    last_s: f64,
    /// Earliest arrival seen: an arrival record's time or message-info's original arrival.
    arrival_s: Option<f64>,
    /// Whether the first record is an arrival (RECEIVE, SUBMIT, trace row).
    saw_arrival: bool,
    sender: Option<String>,
    onprem_submit: bool,
    from_entity: Option<Side>,
    via_cloud_connector: bool,
    size: Option<u64>,
    recipient_count: u32,
    /// Recipient address (lower case) → (side if known, end time in seconds).
    recipients: Vec<(String, Option<Side>, Option<f64>)>,
    dsn: bool,
    spam: bool,
    seen_onprem: bool,
    /// A message trace (or detailed report) row was read for it.
    seen_cloud: bool,
    /// (server, its visit).
    servers: Vec<(String, ServerVisit)>,
}

/// What classification saw besides the messages.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassifyReport {
    /// Messages skipped, by reason.
    pub skipped: BTreeMap<SkipReason, u64>,
    /// Records of servers that map to no hop, per server.
    pub unmapped_servers: BTreeMap<String, u64>,
    /// Server → hop as used, with how the hop was decided.
    pub server_hops: BTreeMap<String, (String, &'static str)>,
    /// Records without any message id (not grouped, not used).
    pub records_without_id: u64,
    pub records: u64,
    pub messages: u64,
    pub mixed_destinations: u64,
    /// The accepted domains used, and whether they were inferred.
    pub accepted_domains: Vec<String>,
    pub domains_inferred: bool,
    /// Messages classified from records of both sides (tracking logs and message trace,
    /// joined by message id).
    pub joined: u64,
    /// Messages closed while still open at the end of input.
    pub open_at_end: u64,
    /// The most messages open at once.
    pub max_open: usize,
}

/// Groups records into messages and classifies each one when it closes.
pub struct Classifier<'a> {
    cfg: ClassifyConfig,
    open: HashMap<String, Open>,
    watermark: i64,
    next_sweep: i64,
    server_versions: HashMap<String, Option<String>>,
    report: ClassifyReport,
    domains: Vec<String>,
    inferred: BTreeMap<String, u64>,
    /// Messages closed before accepted domains could be inferred are held back for them
    /// only while none are known: at most the first `INFER_AFTER` submissions.
    pending: Vec<Open>,
    sink: Box<dyn FnMut(Message) + 'a>,
}

/// On-premises submissions seen before inferred accepted domains are fixed.
const INFER_AFTER: usize = 200;

fn secs(r: &LogRecord) -> f64 {
    r.timestamp.as_nanosecond() as f64 / 1e9
}

fn norm_id(s: &str) -> String {
    s.trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_ascii_lowercase()
}

fn domain_of(addr: &str) -> Option<&str> {
    addr.rsplit_once('@').map(|(_, d)| d.trim_end_matches('>'))
}

fn local_of(addr: &str) -> &str {
    addr.split_once('@')
        .map_or(addr, |(l, _)| l)
        .trim_start_matches('<')
}

fn is_health(addr: &str) -> bool {
    local_of(addr)
        .to_ascii_lowercase()
        .starts_with("healthmailbox")
}

fn is_system(addr: &str) -> bool {
    let l = local_of(addr).to_ascii_lowercase();
    [
        "microsoftexchange",
        "systemmailbox",
        "federatedemail",
        "migration.",
        "discoverysearchmailbox",
    ]
    .iter()
    .any(|p| l.starts_with(p))
}

fn is_null_sender(addr: &str) -> bool {
    let a = addr.trim();
    a.is_empty() || a == "<>" || a.eq_ignore_ascii_case("mailer-daemon") || {
        let l = local_of(a).to_ascii_lowercase();
        l == "mailer-daemon" || l == "postmaster"
    }
}

fn is_routing_address(addr: &str) -> bool {
    domain_of(addr).is_some_and(|d| d.to_ascii_lowercase().ends_with(".mail.onmicrosoft.com"))
}

fn entity(s: &str) -> Option<Side> {
    match s.trim().to_ascii_lowercase().as_str() {
        "internet" => Some(Side::Internet),
        "hosted" | "cloud" | "exchangeonline" | "exo" => Some(Side::Cloud),
        "onprem" | "onpremises" | "on-premises" => Some(Side::Onprem),
        _ => None,
    }
}

/// The hop a server's logged version implies: Exchange 2013 → `cas2013`, 2007 → `hub2007`.
pub fn hop_from_version(v: &str) -> Option<&'static str> {
    let v = v.trim();
    if v.starts_with("15.00") {
        Some("cas2013")
    } else if v.starts_with("8.") || v.starts_with("08.") {
        Some("hub2007")
    } else {
        None
    }
}

impl<'a> Classifier<'a> {
    pub fn new(cfg: ClassifyConfig, sink: Box<dyn FnMut(Message) + 'a>) -> Classifier<'a> {
        let domains = cfg
            .accepted_domains
            .iter()
            .map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase())
            .collect();
        Classifier {
            cfg,
            open: HashMap::new(),
            watermark: i64::MIN,
            next_sweep: i64::MIN,
            server_versions: HashMap::new(),
            report: ClassifyReport::default(),
            domains,
            inferred: BTreeMap::new(),
            pending: Vec::new(),
            sink,
        }
    }

    fn connector_role(&self, name: &str) -> Option<ConnectorRole> {
        let bare = name.rsplit('\\').next().unwrap_or(name);
        self.cfg
            .connectors
            .iter()
            .find(|(p, _)| p.matches(name) || p.matches(bare))
            .map(|(_, r)| *r)
            .or_else(|| wizard_role(name))
    }

    /// The hop of `server`, and how it was decided; None when it maps to nothing.
    fn hop_of(&mut self, server: &str) -> Option<String> {
        if let Some((h, _)) = self.report.server_hops.get(server) {
            return Some(h.clone());
        }
        let found = self
            .cfg
            .servers
            .iter()
            .find(|(p, _)| p.matches(server))
            .map(|(_, h)| (h.clone(), "--server or [calibrate.servers]"))
            .or_else(|| {
                self.server_versions
                    .get(server)
                    .and_then(|v| v.as_deref())
                    .and_then(hop_from_version)
                    .map(|h| (h.to_string(), "its logged Exchange version"))
            });
        match found {
            Some((h, how)) => {
                self.report
                    .server_hops
                    .insert(server.to_string(), (h.clone(), how));
                Some(h)
            }
            None => {
                *self
                    .report
                    .unmapped_servers
                    .entry(server.to_string())
                    .or_default() += 1;
                None
            }
        }
    }

    /// Takes one record; messages close a horizon after the newest time read.
    pub fn push(&mut self, r: &LogRecord) {
        self.push_bounded(r, i64::MAX);
    }

    /// Takes one record that no later record precedes by more than the time `bound_s` (Unix
    /// seconds; [`super::read::read_inputs_bounded`] gives it): messages close a horizon after
    /// the earlier of the newest time read and the bound, so a message whose records come from
    /// both sides (tracking logs and the message trace, read one file after another) is closed
    /// only once both sides have passed it.
    pub fn push_bounded(&mut self, r: &LogRecord, bound_s: i64) {
        self.report.records += 1;
        let key = r
            .message_id
            .as_deref()
            .or(r.network_message_id.as_deref())
            .or(r.internal_message_id.as_deref())
            .map(norm_id)
            .filter(|k| !k.is_empty());
        let Some(key) = key else {
            self.report.records_without_id += 1;
            return;
        };
        let t = secs(r);
        if let Some(s) = r
            .server
            .as_ref()
            .filter(|_| r.origin.format.is_none_or(|f| f.is_onprem()))
        {
            self.server_versions
                .entry(s.to_ascii_lowercase())
                .or_insert_with(|| r.exchange_version.clone());
        }
        // Exchange Online's records (message trace rows, and detailed-report rows, which
        // have event ids but are EXO's servers' events): the cloud side, not an
        // on-premises server visit.
        let is_trace = r.event.is_none() || r.origin.format.is_some_and(|f| !f.is_onprem());
        let arrival = r.event.is_none()
            || matches!(
                r.event,
                Some(EventId::Receive | EventId::Submit | EventId::NotifyMapi)
            );
        let m = self.open.entry(key).or_insert_with(|| Open {
            first_s: t,
            last_s: t,
            saw_arrival: arrival,
            ..Open::default()
        });
        if t < m.first_s {
            m.first_s = t;
            // An earlier record decides whether the message's start is in the logs.
            m.saw_arrival = arrival;
        } else if t == m.first_s && arrival {
            // A shadow copy (HARECEIVE) on another server logged at the same instant.
            m.saw_arrival = true;
        }
        m.last_s = m.last_s.max(t);
        m.seen_cloud |= is_trace;
        absorb(m, r, t);
        // Server-side facts need the hop map and connector roles.
        if let Some(server) = r
            .server
            .as_ref()
            .filter(|_| !is_trace)
            .map(|s| s.to_ascii_lowercase())
        {
            let role = r
                .connector_id
                .as_deref()
                .and_then(|c| self.connector_role(c));
            let hop = self.hop_of(&server);
            let m = self.open.get_mut(&norm_key(r)).expect("just inserted");
            m.seen_onprem |= !is_trace;
            on_server(m, r, t, &server, hop.is_some(), role);
        }
        if self.open.len() > self.report.max_open {
            self.report.max_open = self.open.len();
        }
        let ts = (t as i64).min(bound_s);
        if ts > self.watermark {
            self.watermark = ts;
        }
        if self.watermark >= self.next_sweep {
            self.sweep(self.watermark - self.cfg.horizon_s);
            self.next_sweep = self.watermark + (self.cfg.horizon_s / 4).max(1);
        }
    }

    /// Closes every message whose last record is before `before_s`.
    fn sweep(&mut self, before_s: i64) {
        let closing: Vec<String> = self
            .open
            .iter()
            .filter(|(_, m)| (m.last_s as i64) < before_s)
            .map(|(k, _)| k.clone())
            .collect();
        let mut closing: Vec<(String, Open)> = closing
            .into_iter()
            .filter_map(|k| self.open.remove(&k).map(|m| (k, m)))
            .collect();
        // Deterministic order whatever the hash map's.
        closing.sort_by(|a, b| a.1.first_s.total_cmp(&b.1.first_s).then(a.0.cmp(&b.0)));
        for (_, m) in closing {
            self.close(m);
        }
    }

    fn close(&mut self, m: Open) {
        if self.domains.is_empty() {
            // Learn accepted domains from on-premises submissions first.
            if m.onprem_submit
                && let Some(d) = m.sender.as_deref().and_then(domain_of)
            {
                *self.inferred.entry(d.to_ascii_lowercase()).or_default() += 1;
            }
            self.pending.push(m);
            if self.inferred.values().sum::<u64>() as usize >= INFER_AFTER {
                self.fix_domains();
            }
            return;
        }
        self.classify(m);
    }

    fn fix_domains(&mut self) {
        if self.domains.is_empty() {
            self.domains = self.inferred.keys().cloned().collect();
            self.report.domains_inferred = true;
        }
        for m in std::mem::take(&mut self.pending) {
            self.classify(m);
        }
    }

    fn accepted(&self, addr: &str) -> bool {
        domain_of(addr).is_some_and(|d| {
            let d = d.to_ascii_lowercase();
            is_routing_address(addr)
                || self
                    .domains
                    .iter()
                    .any(|a| d == *a || d.ends_with(&format!(".{a}")))
        })
    }

    fn classify(&mut self, m: Open) {
        let sender = m.sender.clone().unwrap_or_default();
        let addrs = || m.recipients.iter().map(|(a, _, _)| a.as_str());
        let skip = if !self.cfg.include_system && (is_health(&sender) || addrs().any(is_health)) {
            Some(SkipReason::HealthMailbox)
        } else if !self.cfg.include_system
            && (m.dsn || m.sender.as_deref().is_some_and(is_null_sender))
        {
            Some(SkipReason::Dsn)
        } else if !self.cfg.include_system && (is_system(&sender) || addrs().any(is_system)) {
            Some(SkipReason::SystemMessage)
        } else if !m.saw_arrival {
            Some(SkipReason::StartedBeforeLogs)
        } else {
            None
        };
        if let Some(s) = skip {
            *self.report.skipped.entry(s).or_default() += 1;
            return;
        }
        let sender_internal = self.accepted(&sender);
        let from = if m.onprem_submit {
            Some(Side::Onprem)
        } else if let Some(e) = m.from_entity {
            Some(e)
        } else if !sender_internal && !sender.is_empty() {
            Some(Side::Internet)
        } else if sender_internal && (m.via_cloud_connector || !m.seen_onprem) {
            Some(Side::Cloud)
        } else if sender_internal {
            // An internal sender arriving by SMTP with no submission here: from the cloud.
            Some(Side::Cloud)
        } else {
            None
        };
        let via_onprem = m
            .recipients
            .iter()
            .filter(|(a, side, _)| *side == Some(Side::Cloud) && self.accepted(a))
            .count() as u32;
        let sides: Vec<(Side, Option<f64>)> = m
            .recipients
            .iter()
            .map(|(a, side, end)| {
                let accepted = self.accepted(a);
                let s = match side {
                    // Sent towards Exchange Online but not an organization address: Internet
                    // mail leaving through EOP (centralized transport off in the cloud, or on).
                    Some(Side::Cloud) if !accepted => Side::Internet,
                    Some(s) => *s,
                    // An organization recipient the on-premises logs never delivered: its
                    // mailbox is in the cloud (Exchange Online delivered it).
                    None if accepted => Side::Cloud,
                    None => Side::Internet,
                };
                (s, *end)
            })
            .collect();
        let Some(from) = from.filter(|_| !sides.is_empty()) else {
            *self
                .report
                .skipped
                .entry(SkipReason::Unclassified)
                .or_default() += 1;
            return;
        };
        let count = |s: Side| sides.iter().filter(|(x, _)| *x == s).count() as u32;
        let (on, cl, net) = (
            count(Side::Onprem),
            count(Side::Cloud),
            count(Side::Internet),
        );
        let kinds = [on, cl, net].iter().filter(|c| **c > 0).count();
        let source = match from {
            Side::Internet if on + cl == 0 => {
                *self.report.skipped.entry(SkipReason::Relay).or_default() += 1;
                return;
            }
            Side::Internet => Source::Inbound,
            Side::Onprem if net > 0 => Source::OutboundFromOnprem,
            Side::Onprem if cl > 0 => Source::OnpremToCloud,
            Side::Onprem => Source::OnpremInternal,
            Side::Cloud if net > 0 => Source::OutboundFromCloud,
            Side::Cloud if on > 0 => Source::CloudToOnprem,
            Side::Cloud => Source::CloudInternal,
        };
        let mixed = if source == Source::Inbound {
            net > 0
        } else {
            kinds > 1
        };
        if mixed {
            self.report.mixed_destinations += 1;
        }
        let arrival = m.arrival_s.unwrap_or(m.first_s).min(m.first_s);
        let latencies = sides
            .iter()
            .filter_map(|(s, end)| {
                let e = (*end)?;
                // Inbound copies to the Internet (relayed recipients) belong to no flow.
                if source == Source::Inbound && *s == Side::Internet {
                    return None;
                }
                Some((flow_of(source, *s), (e - arrival).max(0.0)))
            })
            .collect();
        let mut processing = Vec::new();
        for (server, v) in &m.servers {
            let Some((hop, _)) = self.report.server_hops.get(server) else {
                continue;
            };
            let at = v.first_receive.unwrap_or(arrival);
            if let Some(p) = v.processing {
                let (wait, end) = v.wait.map_or((None, at + p), |(w, t)| (Some(w), t));
                processing.push(HopSample {
                    hop: hop.clone(),
                    seconds: p,
                    method: HopMethod::LatencyComponents,
                    at_s: at,
                    end_s: end,
                    wait_s: wait,
                });
            } else if let (Some(a), Some(b)) = (v.first_receive, v.last_out)
                && b >= a
            {
                processing.push(HopSample {
                    hop: hop.clone(),
                    seconds: b - a,
                    method: HopMethod::ReceiveToSend,
                    at_s: at,
                    end_s: b,
                    wait_s: None,
                });
            }
        }
        let first_hop = m
            .servers
            .iter()
            .filter_map(|(s, v)| Some((v.first_receive?, self.report.server_hops.get(s)?)))
            .min_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, (h, _))| h.clone());
        self.report.messages += 1;
        self.report.joined += u64::from(m.seen_onprem && m.seen_cloud);
        (self.sink)(Message {
            first_hop,
            cloud_recipients_via_onprem: via_onprem,
            source,
            arrival_s: arrival,
            recipients: (sides.len() as u32).max(m.recipient_count),
            onprem_recipients: on,
            cloud_recipients: cl,
            size_bytes: m.size,
            spam: m.spam,
            latencies,
            processing,
            mixed,
        });
    }

    /// Closes every open message (end of input) and returns what was seen.
    pub fn finish(mut self) -> ClassifyReport {
        self.report.open_at_end = self.open.len() as u64;
        self.sweep(i64::MAX);
        self.fix_domains();
        self.report.accepted_domains = self.domains.clone();
        self.report
    }
}

fn norm_key(r: &LogRecord) -> String {
    r.message_id
        .as_deref()
        .or(r.network_message_id.as_deref())
        .or(r.internal_message_id.as_deref())
        .map(norm_id)
        .unwrap_or_default()
}

/// Facts any record gives, whatever the server.
fn absorb(m: &mut Open, r: &LogRecord, t: f64) {
    if m.sender.is_none()
        && let Some(s) = r.sender.as_deref().or(r.return_path.as_deref())
    {
        m.sender = Some(s.trim().to_ascii_lowercase());
    }
    if let Some(b) = r.total_bytes
        && b > 0
    {
        m.size = Some(m.size.map_or(b, |x| x.min(b)));
    }
    if let Some(c) = r.recipient_count {
        m.recipient_count = m.recipient_count.max(c);
    }
    if let Some(e) = r.from_entity.as_deref().and_then(entity) {
        m.from_entity.get_or_insert(e);
    }
    if let Some(l) = &r.latency
        && let Some(a) = l.original_arrival
    {
        let a = a.as_nanosecond() as f64 / 1e9;
        m.arrival_s = Some(m.arrival_s.map_or(a, |x: f64| x.min(a)));
    }
    if matches!(r.event, Some(EventId::Dsn)) || r.source.as_deref() == Some("DSN") {
        m.dsn = true;
    }
    let arrival = r.event.is_none() || matches!(r.event, Some(EventId::Receive | EventId::Submit));
    if arrival {
        m.arrival_s = Some(m.arrival_s.map_or(t, |x| x.min(t)));
    }
    // Message trace rows: one per recipient, EXO's view.
    if let Some(st) = &r.trace_status {
        if matches!(st, TraceStatus::FilteredAsSpam | TraceStatus::Quarantined) {
            m.spam = true;
        }
        for a in &r.recipients {
            recipient(m, a, None, None);
        }
    }
    if matches!(r.event, Some(EventId::Receive)) {
        for a in &r.recipients {
            recipient(m, a, None, None);
        }
    }
    if matches!(r.event, Some(EventId::Fail)) && r.source.as_deref() == Some("AGENT") {
        // Content filtering refused it: spam caught on-premises.
        m.spam = true;
    }
}

fn recipient(m: &mut Open, addr: &str, side: Option<Side>, end: Option<f64>) {
    let a = addr.trim().to_ascii_lowercase();
    if a.is_empty() {
        return;
    }
    // A routing address stands for the mailbox whose primary address has the same alias.
    let slot = m
        .recipients
        .iter()
        .position(|(x, _, _)| *x == a)
        .or_else(|| {
            is_routing_address(&a)
                .then(|| {
                    m.recipients
                        .iter()
                        .position(|(x, s, _)| s.is_none() && local_of(x) == local_of(&a))
                })
                .flatten()
        });
    match slot {
        Some(i) => {
            let r = &mut m.recipients[i];
            if r.1.is_none() && side.is_some() {
                // The first record that says where the copy went: its end is the copy's.
                r.1 = side;
                if end.is_some() {
                    r.2 = end;
                }
            } else if r.2.is_none() {
                r.2 = end;
            }
        }
        None => m.recipients.push((a, side, end)),
    }
}

/// Facts of a record written by an on-premises server (or EXO, for connector roles).
fn on_server(
    m: &mut Open,
    r: &LogRecord,
    t: f64,
    server: &str,
    mapped: bool,
    role: Option<ConnectorRole>,
) {
    let src = r.source.as_deref().unwrap_or("");
    let visit = match m.servers.iter().position(|(s, _)| s == server) {
        Some(i) => i,
        None => {
            m.servers.push((server.to_string(), ServerVisit::default()));
            m.servers.len() - 1
        }
    };
    match &r.event {
        Some(EventId::Receive | EventId::Submit) => {
            if src == "STOREDRIVER" || matches!(r.event, Some(EventId::Submit)) {
                m.onprem_submit |= role != Some(ConnectorRole::CloudFromOnprem);
            }
            if matches!(role, Some(ConnectorRole::CloudToOnprem)) {
                m.via_cloud_connector = true;
            }
            let v = &mut m.servers[visit].1;
            v.first_receive = Some(v.first_receive.map_or(t, |x: f64| x.min(t)));
        }
        Some(EventId::Deliver) => {
            for a in &r.recipients {
                recipient(m, a, Some(Side::Onprem), Some(t));
            }
            out(m, visit, r, t, mapped);
        }
        Some(EventId::Send | EventId::SendExternal) => {
            let to = r.to_entity.as_deref().and_then(entity);
            for a in &r.recipients {
                let side = if is_routing_address(a) {
                    Some(Side::Cloud)
                } else if to == Some(Side::Internet)
                    || role == Some(ConnectorRole::Internet)
                    || matches!(r.event, Some(EventId::SendExternal))
                {
                    Some(Side::Internet)
                } else if to == Some(Side::Cloud) || role == Some(ConnectorRole::ToCloud) {
                    // Cloud, unless the address is not the organization's (decided on close).
                    Some(Side::Cloud)
                } else {
                    None
                };
                // An internal hop-to-hop send ends nothing. A send whose direction neither
                // the record nor the connector says (Exchange 2007 writes no ToEntity) ends
                // the copy for now: the recipient's side is decided on close (an address
                // outside the accepted domains is on the Internet), and a later record that
                // says where it went replaces this end.
                if side.is_some() {
                    recipient(m, a, side, Some(t));
                } else if role != Some(ConnectorRole::Internal) {
                    recipient(m, a, None, Some(t));
                }
            }
            out(m, visit, r, t, mapped);
        }
        _ => {}
    }
}

fn out(m: &mut Open, visit: usize, r: &LogRecord, t: f64, mapped: bool) {
    let v = &mut m.servers[visit].1;
    v.last_out = Some(v.last_out.map_or(t, |x: f64| x.max(t)));
    if mapped
        && v.processing.is_none()
        && let Some(local) = r.latency.as_ref().and_then(|l| l.local())
        && let Some(p) = local.processing_s()
    {
        v.processing = Some(p);
        v.wait = Some((local.queue_s(), t));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::record::{
        LatencyComponent, LatencyComponents, LogFormat, ServerLatency, Timestamp,
    };
    use super::*;

    pub(crate) fn rec(t_s: i64, server: &str, source: &str, event: EventId, id: &str) -> LogRecord {
        LogRecord {
            timestamp: Timestamp::from_second(t_s).unwrap(),
            server: Some(server.to_string()),
            source: Some(source.to_string()),
            event: Some(event),
            message_id: Some(format!("<{id}@example.com>")),
            exchange_version: Some("15.00.1497.002".to_string()),
            ..LogRecord::default()
        }
    }

    fn cfg() -> ClassifyConfig {
        ClassifyConfig {
            accepted_domains: vec!["contoso.com".into()],
            ..ClassifyConfig::default()
        }
    }

    fn classify(records: &[LogRecord], cfg: ClassifyConfig) -> (Vec<Message>, ClassifyReport) {
        let mut out = Vec::new();
        let mut c = Classifier::new(cfg, Box::new(|m| out.push(m)));
        for r in records {
            c.push(r);
        }
        let rep = c.finish();
        (out, rep)
    }

    fn inbound(t: i64, id: &str, to: &[&str]) -> Vec<LogRecord> {
        let mut a = rec(t, "EX01", "SMTP", EventId::Receive, id);
        a.sender = Some("someone@fabrikam.net".into());
        a.recipients = to.iter().map(|s| s.to_string()).collect();
        a.from_entity = Some("Internet".into());
        a.total_bytes = Some(50_000);
        a.connector_id = Some("EX01\\Default Frontend EX01".into());
        let mut d = rec(t + 2, "EX01", "STOREDRIVER", EventId::Deliver, id);
        d.recipients = to
            .iter()
            .filter(|s| s.ends_with("contoso.com"))
            .map(|s| s.to_string())
            .collect();
        d.latency = Some(LatencyComponents {
            original_arrival: Some(Timestamp::from_second(t).unwrap()),
            servers: vec![ServerLatency {
                server: "ex01".into(),
                local: true,
                total_kind: Some("HUB".into()),
                total_s: Some(1.5),
                components: vec![LatencyComponent {
                    name: "QDM".into(),
                    seconds: 0.5,
                }],
            }],
        });
        let mut s = rec(t + 1, "EX01", "SMTP", EventId::Send, id);
        s.recipients = to
            .iter()
            .filter(|s| s.ends_with("onmicrosoft.com"))
            .map(|s| s.to_string())
            .collect();
        s.connector_id = Some("Outbound to Office 365 - 1234".into());
        if s.recipients.is_empty() {
            vec![a, d]
        } else {
            vec![a, s, d]
        }
    }

    #[test]
    fn inbound_split_latency_and_processing() {
        let recs = inbound(
            1000,
            "m1",
            &[
                "a@contoso.com",
                "b@contoso.com",
                "c@contoso.mail.onmicrosoft.com",
            ],
        );
        let (msgs, rep) = classify(&recs, cfg());
        assert_eq!(rep.messages, 1);
        let m = &msgs[0];
        assert_eq!(m.source, Source::Inbound);
        assert_eq!((m.onprem_recipients, m.cloud_recipients), (2, 1));
        assert_eq!(m.size_bytes, Some(50_000));
        assert!(m.latencies.contains(&(0, 2.0)) && m.latencies.contains(&(1, 1.0)));
        assert_eq!(m.processing.len(), 1);
        assert_eq!(m.processing[0].hop, "cas2013");
        assert_eq!(m.processing[0].seconds, 1.0);
        assert_eq!(m.processing[0].method, HopMethod::LatencyComponents);
    }

    #[test]
    fn records_across_servers_make_one_message() {
        // Submitted on EX01 (2013), relayed to HUB07 (2007), delivered there.
        let mut sub = rec(0, "EX01", "STOREDRIVER", EventId::Receive, "x");
        sub.sender = Some("me@contoso.com".into());
        sub.recipients = vec!["you@contoso.com".into()];
        let mut s1 = rec(1, "EX01", "SMTP", EventId::Send, "x");
        s1.recipients = vec!["you@contoso.com".into()];
        let mut r2 = rec(2, "HUB07", "SMTP", EventId::Receive, "x");
        r2.recipients = vec!["you@contoso.com".into()];
        r2.exchange_version = Some("08.03.0083.006".into());
        let mut d2 = rec(3, "HUB07", "STOREDRIVER", EventId::Deliver, "x");
        d2.recipients = vec!["you@contoso.com".into()];
        d2.exchange_version = Some("08.03.0083.006".into());
        let (msgs, rep) = classify(&[sub, s1, r2, d2], cfg());
        assert_eq!(rep.messages, 1, "{rep:?}");
        let m = &msgs[0];
        assert_eq!(m.source, Source::OnpremInternal);
        assert_eq!(m.recipients, 1);
        assert_eq!(m.latencies, vec![(6, 3.0)]);
        let hops: Vec<_> = m
            .processing
            .iter()
            .map(|p| (p.hop.as_str(), p.seconds, p.method))
            .collect();
        assert_eq!(
            hops,
            vec![
                ("cas2013", 1.0, HopMethod::ReceiveToSend),
                ("hub2007", 1.0, HopMethod::ReceiveToSend)
            ]
        );
        assert_eq!(rep.server_hops["hub07"].0, "hub2007");
    }

    #[test]
    fn outbound_and_cross_premises() {
        let mut sub = rec(0, "EX01", "STOREDRIVER", EventId::Receive, "o");
        sub.sender = Some("me@contoso.com".into());
        sub.recipients = vec!["x@fabrikam.net".into()];
        let mut s = rec(5, "EX01", "SMTP", EventId::SendExternal, "o");
        s.recipients = vec!["x@fabrikam.net".into()];
        s.to_entity = Some("Internet".into());
        let mut sub2 = rec(10, "EX01", "STOREDRIVER", EventId::Receive, "c");
        sub2.sender = Some("me@contoso.com".into());
        sub2.recipients = vec!["cloudy@contoso.com".into()];
        let mut s2 = rec(11, "EX01", "SMTP", EventId::Send, "c");
        s2.recipients = vec!["cloudy@contoso.mail.onmicrosoft.com".into()];
        s2.connector_id = Some("Outbound to Office 365".into());
        let (msgs, _) = classify(&[sub, s, sub2, s2], cfg());
        assert_eq!(msgs[0].source, Source::OutboundFromOnprem);
        assert_eq!(msgs[0].latencies, vec![(2, 5.0)]);
        assert_eq!(msgs[1].source, Source::OnpremToCloud);
        // The routing address is the same recipient as the primary address.
        assert_eq!(msgs[1].recipients, 1);
        assert_eq!(msgs[1].latencies, vec![(4, 1.0)]);
    }

    #[test]
    fn cloud_sender_arriving_from_eop() {
        let mut r = rec(0, "EX01", "SMTP", EventId::Receive, "k");
        r.sender = Some("cloudy@contoso.com".into());
        r.recipients = vec!["me@contoso.com".into()];
        r.connector_id = Some("EX01\\Default Frontend EX01".into());
        let mut d = rec(1, "EX01", "STOREDRIVER", EventId::Deliver, "k");
        d.recipients = vec!["me@contoso.com".into()];
        let (msgs, _) = classify(&[r, d], cfg());
        assert_eq!(msgs[0].source, Source::CloudToOnprem);
    }

    #[test]
    fn probes_dsns_and_partial_messages_are_skipped_and_counted() {
        let mut h = rec(0, "EX01", "STOREDRIVER", EventId::Receive, "h");
        h.sender = Some("HealthMailbox0123abcd@contoso.com".into());
        h.recipients = vec!["HealthMailbox0123abcd@contoso.com".into()];
        let mut n = rec(0, "EX01", "DSN", EventId::Dsn, "n");
        n.sender = Some("".into());
        n.recipients = vec!["a@contoso.com".into()];
        let mut p = rec(0, "EX01", "STOREDRIVER", EventId::Deliver, "p");
        p.recipients = vec!["a@contoso.com".into()];
        let (msgs, rep) = classify(&[h, n, p], cfg());
        assert!(msgs.is_empty());
        assert_eq!(rep.skipped[&SkipReason::HealthMailbox], 1);
        assert_eq!(rep.skipped[&SkipReason::Dsn], 1);
        assert_eq!(rep.skipped[&SkipReason::StartedBeforeLogs], 1);
    }

    #[test]
    fn messages_close_after_the_horizon_so_memory_stays_bounded() {
        // 1000 messages, one a minute, each 2 s long: never more than horizon ÷ 60 s + a
        // sweep period's worth open at once.
        let mut recs = Vec::new();
        for i in 0..1000 {
            recs.extend(inbound(i * 60, &format!("m{i}"), &["a@contoso.com"]));
        }
        let (msgs, rep) = classify(&recs, cfg());
        assert_eq!(msgs.len(), 1000);
        let bound = (ClassifyConfig::default().horizon_s * 5 / 4 / 60 + 2) as usize;
        assert!(rep.max_open <= bound, "{} > {bound}", rep.max_open);
        assert_eq!(
            rep.open_at_end as usize,
            rep.max_open.min(rep.open_at_end as usize)
        );
    }

    #[test]
    fn unmapped_servers_are_reported_and_patterns_map_servers() {
        let mut recs = inbound(0, "u", &["a@contoso.com"]);
        for r in &mut recs {
            r.exchange_version = Some("15.01.2375.007".into());
        }
        let (msgs, rep) = classify(&recs, cfg());
        assert!(msgs[0].processing.is_empty());
        // Counted per record: the receive and the delivery.
        assert_eq!(rep.unmapped_servers["ex01"], 2);
        let mut c = cfg();
        c.servers = vec![(Pattern::new("EX*"), "cas2013".into())];
        let (msgs, rep) = classify(&recs, c);
        assert_eq!(msgs[0].processing[0].hop, "cas2013");
        assert!(rep.unmapped_servers.is_empty());
    }

    #[test]
    fn accepted_domains_are_inferred_from_submissions() {
        let mut recs = Vec::new();
        for i in 0..(INFER_AFTER as i64 + 10) {
            let mut s = rec(i, "EX01", "STOREDRIVER", EventId::Receive, &format!("s{i}"));
            s.sender = Some("me@contoso.com".into());
            s.recipients = vec!["x@fabrikam.net".into()];
            recs.push(s);
        }
        let (msgs, rep) = classify(&recs, ClassifyConfig::default());
        assert!(rep.domains_inferred);
        assert_eq!(rep.accepted_domains, vec!["contoso.com".to_string()]);
        assert!(msgs.iter().all(|m| m.source == Source::OutboundFromOnprem));
    }

    #[test]
    fn detailed_report_rows_are_the_cloud_side_and_join_the_tracking_logs() {
        let exo = |mut r: LogRecord| {
            r.origin.format = Some(LogFormat::DetailedReport);
            r.exchange_version = None;
            r
        };
        // On-premises sender to a cloud mailbox: EX01 sends it to Exchange Online, whose
        // detailed report shows it received and delivered.
        let mut sub = rec(0, "EX01", "STOREDRIVER", EventId::Receive, "j");
        sub.sender = Some("me@contoso.com".into());
        sub.recipients = vec!["cloudy@contoso.com".into()];
        let mut s = rec(1, "EX01", "SMTP", EventId::Send, "j");
        s.recipients = vec!["cloudy@contoso.mail.onmicrosoft.com".into()];
        s.connector_id = Some("Outbound to Office 365".into());
        let mut r = exo(rec(2, "AM0PR01MB0001", "SMTP", EventId::Receive, "j"));
        r.sender = Some("me@contoso.com".into());
        r.recipients = vec!["cloudy@contoso.com".into()];
        let mut d = exo(rec(
            3,
            "AM0PR01MB0001",
            "STOREDRIVER",
            EventId::Deliver,
            "j",
        ));
        d.recipients = vec!["cloudy@contoso.com".into()];
        // Cloud-internal mail only Exchange Online's report shows: its DELIVER is a cloud
        // mailbox, not an on-premises one.
        let mut r2 = exo(rec(
            10,
            "AM0PR01MB0001",
            "STOREDRIVER",
            EventId::Receive,
            "k",
        ));
        r2.sender = Some("cloudy@contoso.com".into());
        r2.recipients = vec!["other@contoso.com".into()];
        let mut d2 = exo(rec(
            11,
            "AM0PR01MB0001",
            "STOREDRIVER",
            EventId::Deliver,
            "k",
        ));
        d2.recipients = vec!["other@contoso.com".into()];
        let (msgs, rep) = classify(&[sub, s, r, d, r2, d2], cfg());
        assert_eq!(rep.messages, 2, "{rep:?}");
        assert_eq!(rep.joined, 1);
        assert_eq!(msgs[0].source, Source::OnpremToCloud);
        assert_eq!((msgs[0].recipients, msgs[0].cloud_recipients), (1, 1));
        assert_eq!(msgs[0].cloud_recipients_via_onprem, 1);
        assert_eq!(msgs[1].source, Source::CloudInternal);
        assert_eq!(msgs[1].onprem_recipients, 0);
        // Exchange Online's servers are not on-premises hops.
        assert!(rep.unmapped_servers.is_empty(), "{rep:?}");
        assert!(!rep.server_hops.contains_key("am0pr01mb0001"));
    }

    #[test]
    fn glob_patterns() {
        assert!(Pattern::new("EX*").matches("ex01.contoso.com"));
        assert!(Pattern::new("*hub*").matches("LONHUB07"));
        assert!(!Pattern::new("ex0?").matches("ex01"));
        assert!(Pattern::new("ex01").matches("EX01"));
        assert!(!Pattern::new("ex01").matches("ex012"));
        assert_eq!(
            wizard_role("Outbound to Office 365 - 5b2c"),
            Some(ConnectorRole::ToCloud)
        );
        assert_eq!(
            wizard_role("EX01\\Default Frontend EX01"),
            Some(ConnectorRole::Frontend)
        );
        assert_eq!(
            wizard_role("Inbound from 8e1f"),
            Some(ConnectorRole::CloudFromOnprem)
        );
        assert_eq!(
            wizard_role("Outbound to 8e1f"),
            Some(ConnectorRole::CloudToOnprem)
        );
    }
}
