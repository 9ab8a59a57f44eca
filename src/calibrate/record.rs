//! The record every log reader produces, and the reader entry points' contract.
//!
//! Owns: [`LogRecord`] (one line of any supported log, normalized), [`LogFormat`],
//! [`EventId`], [`TraceStatus`], [`LatencyComponents`] (Exchange's own latency breakdown from
//! `message-info`), [`ReadOptions`], [`ReadReport`] and [`CalibrateError`].
//! Must not: classify messages into flows or estimate anything (the calibration layer does),
//! or hold more than one line of a file at a time.
//!
//! Field names follow the message tracking log's `#Fields:` names; the other formats fill
//! what they have and leave the rest `None`/empty. Every string is as the file wrote it
//! (decoded to UTF-8), except `source` and the event id, which are upper-cased.

use std::fmt;
use std::path::PathBuf;

pub use jiff::Timestamp;

/// Which kind of file a record came from (detected from the content, never the name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogFormat {
    /// An on-premises `MSGTRK*.LOG` file (`#Software`, `#Version`, `#Fields:` header lines).
    TrackingLog,
    /// `Get-MessageTrackingLog | Export-Csv` (PowerShell property names as columns).
    PowerShellExport,
    /// Exchange Online message trace (`Get-MessageTrace[V2]` or the admin center's export).
    MessageTrace,
    /// The historical search / "message trace detailed report" CSV (snake_case columns).
    DetailedReport,
}

impl LogFormat {
    /// The format in words, as error messages and reports name it.
    pub fn describe(self) -> &'static str {
        match self {
            LogFormat::TrackingLog => "message tracking log",
            LogFormat::PowerShellExport => "Get-MessageTrackingLog export",
            LogFormat::MessageTrace => "Exchange Online message trace",
            LogFormat::DetailedReport => "message trace detailed report",
        }
    }
}

impl LogFormat {
    /// Whether the format is written on-premises (tracking logs and their export) rather
    /// than by Exchange Online (message trace and detailed report).
    pub fn is_onprem(self) -> bool {
        matches!(self, LogFormat::TrackingLog | LogFormat::PowerShellExport)
    }
}

/// Which sides of a hybrid organization a run's logs show: the on-premises format read and
/// the Exchange Online format read, each if any (a run reads at most one of each).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sides {
    pub onprem: Option<LogFormat>,
    pub cloud: Option<LogFormat>,
}

impl Sides {
    /// The sides of `formats` (the first of each side counts).
    pub fn of(formats: &[LogFormat]) -> Sides {
        Sides {
            onprem: formats.iter().copied().find(|f| f.is_onprem()),
            cloud: formats.iter().copied().find(|f| !f.is_onprem()),
        }
    }

    /// Both sides' logs were read (messages are joined across them).
    pub fn both(self) -> bool {
        self.onprem.is_some() && self.cloud.is_some()
    }

    /// The formats in words: "message tracking log and Exchange Online message trace".
    pub fn describe(self) -> String {
        match (self.onprem, self.cloud) {
            (Some(a), Some(b)) => format!("{a} and {b}"),
            (Some(a), None) | (None, Some(a)) => a.describe().to_string(),
            (None, None) => "no log".to_string(),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

/// A message tracking `event-id`. Ids this list does not know are kept as [`EventId::Other`]
/// (upper-cased), never refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventId {
    Receive,
    Send,
    SendExternal,
    Deliver,
    Submit,
    Defer,
    Fail,
    Dsn,
    Expand,
    Resolve,
    Redirect,
    Transfer,
    HaReceive,
    HaRedirect,
    HaRedirectFail,
    HaDiscard,
    NotifyMapi,
    AgentInfo,
    Throttle,
    PoisonMessage,
    Badmail,
    Drop,
    Resubmit,
    Suppressed,
    Other(String),
}

impl EventId {
    /// Parses an event id, case-insensitively.
    pub fn parse(s: &str) -> EventId {
        let t = s.trim();
        let known = [
            ("RECEIVE", EventId::Receive),
            ("SEND", EventId::Send),
            ("SENDEXTERNAL", EventId::SendExternal),
            ("DELIVER", EventId::Deliver),
            ("SUBMIT", EventId::Submit),
            ("DEFER", EventId::Defer),
            ("FAIL", EventId::Fail),
            ("DSN", EventId::Dsn),
            ("EXPAND", EventId::Expand),
            ("RESOLVE", EventId::Resolve),
            ("REDIRECT", EventId::Redirect),
            ("TRANSFER", EventId::Transfer),
            ("HARECEIVE", EventId::HaReceive),
            ("HAREDIRECT", EventId::HaRedirect),
            ("HAREDIRECTFAIL", EventId::HaRedirectFail),
            ("HADISCARD", EventId::HaDiscard),
            ("NOTIFYMAPI", EventId::NotifyMapi),
            ("AGENTINFO", EventId::AgentInfo),
            ("THROTTLE", EventId::Throttle),
            ("POISONMESSAGE", EventId::PoisonMessage),
            ("BADMAIL", EventId::Badmail),
            ("DROP", EventId::Drop),
            ("RESUBMIT", EventId::Resubmit),
            ("SUPPRESSED", EventId::Suppressed),
        ];
        for (name, id) in known {
            if t.eq_ignore_ascii_case(name) {
                return id;
            }
        }
        EventId::Other(t.to_ascii_uppercase())
    }

    /// The id as tracking logs write it (`RECEIVE`, `SENDEXTERNAL`, …).
    pub fn as_str(&self) -> &str {
        match self {
            EventId::Receive => "RECEIVE",
            EventId::Send => "SEND",
            EventId::SendExternal => "SENDEXTERNAL",
            EventId::Deliver => "DELIVER",
            EventId::Submit => "SUBMIT",
            EventId::Defer => "DEFER",
            EventId::Fail => "FAIL",
            EventId::Dsn => "DSN",
            EventId::Expand => "EXPAND",
            EventId::Resolve => "RESOLVE",
            EventId::Redirect => "REDIRECT",
            EventId::Transfer => "TRANSFER",
            EventId::HaReceive => "HARECEIVE",
            EventId::HaRedirect => "HAREDIRECT",
            EventId::HaRedirectFail => "HAREDIRECTFAIL",
            EventId::HaDiscard => "HADISCARD",
            EventId::NotifyMapi => "NOTIFYMAPI",
            EventId::AgentInfo => "AGENTINFO",
            EventId::Throttle => "THROTTLE",
            EventId::PoisonMessage => "POISONMESSAGE",
            EventId::Badmail => "BADMAIL",
            EventId::Drop => "DROP",
            EventId::Resubmit => "RESUBMIT",
            EventId::Suppressed => "SUPPRESSED",
            EventId::Other(s) => s,
        }
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Exchange Online message trace `Status`. Unknown values are kept as [`TraceStatus::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum TraceStatus {
    Delivered,
    Failed,
    Pending,
    Expanded,
    Quarantined,
    FilteredAsSpam,
    GettingStatus,
    Other(String),
}

impl TraceStatus {
    /// Parses a status, case-insensitively.
    pub fn parse(s: &str) -> TraceStatus {
        let t = s.trim();
        let known = [
            ("Delivered", TraceStatus::Delivered),
            ("Failed", TraceStatus::Failed),
            ("Pending", TraceStatus::Pending),
            ("Expanded", TraceStatus::Expanded),
            ("Quarantined", TraceStatus::Quarantined),
            ("FilteredAsSpam", TraceStatus::FilteredAsSpam),
            ("GettingStatus", TraceStatus::GettingStatus),
        ];
        for (name, st) in known {
            if t.eq_ignore_ascii_case(name) {
                return st;
            }
        }
        TraceStatus::Other(t.to_string())
    }

    /// The status as message traces write it.
    pub fn as_str(&self) -> &str {
        match self {
            TraceStatus::Delivered => "Delivered",
            TraceStatus::Failed => "Failed",
            TraceStatus::Pending => "Pending",
            TraceStatus::Expanded => "Expanded",
            TraceStatus::Quarantined => "Quarantined",
            TraceStatus::FilteredAsSpam => "FilteredAsSpam",
            TraceStatus::GettingStatus => "GettingStatus",
            TraceStatus::Other(s) => s,
        }
    }
}

/// One named latency component, in seconds (`SMR=0.127`, `QDM=0.010`, …). Sub-components in
/// parentheses (`CAT=1.698(CATRES=0.010|…)`) are not kept.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyComponent {
    pub name: String,
    pub seconds: f64,
}

/// One server's part of a latency breakdown: `SRV=<name>:` (a previous server) or
/// `LSRV=<name>:` (the server that wrote the record), then `TOTAL-<kind>=<s>|<components>`.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerLatency {
    pub server: String,
    /// True for `LSRV=` (the local server).
    pub local: bool,
    /// `HUB`, `FE`, `SUB`, … from `TOTAL-<kind>`.
    pub total_kind: Option<String>,
    pub total_s: Option<f64>,
    pub components: Vec<LatencyComponent>,
}

impl ServerLatency {
    /// Seconds spent waiting in queues: the sum of the `Q*` components (QDE, QDM, QUE, …).
    pub fn queue_s(&self) -> f64 {
        self.components
            .iter()
            .filter(|c| c.name.starts_with('Q'))
            .map(|c| c.seconds)
            .sum()
    }

    /// The server's processing time: its TOTAL minus its queue components (never negative).
    pub fn processing_s(&self) -> Option<f64> {
        self.total_s.map(|t| (t - self.queue_s()).max(0.0))
    }
}

/// The latency breakdown a SEND/DELIVER record's `message-info` holds:
/// `<original arrival>;SRV=…:TOTAL-FE=…|…;LSRV=…:TOTAL-HUB=…|…`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LatencyComponents {
    /// When the message first arrived in the organization, as the record says.
    pub original_arrival: Option<Timestamp>,
    pub servers: Vec<ServerLatency>,
}

impl LatencyComponents {
    /// The local server's part (`LSRV=`), if the breakdown has one.
    pub fn local(&self) -> Option<&ServerLatency> {
        self.servers.iter().find(|s| s.local)
    }
}

/// Where a record came from: the index of its file in [`ReadReport::files`], its line
/// number in that file (the first line is 1), and the file's format (None for a record not
/// read from a file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    pub file: usize,
    pub line: u64,
    pub format: Option<LogFormat>,
}

/// One log line, normalized across formats.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct LogRecord {
    pub timestamp: Timestamp,
    /// The server that wrote the record (`server-hostname`, PowerShell `ServerHostname`).
    pub server: Option<String>,
    pub client_hostname: Option<String>,
    pub client_ip: Option<String>,
    pub server_ip: Option<String>,
    /// `SMTP`, `STOREDRIVER`, `ROUTING`, `AGENT`, … upper-cased.
    pub source: Option<String>,
    /// `None` for formats without event ids (message trace summary rows).
    pub event: Option<EventId>,
    pub message_id: Option<String>,
    pub network_message_id: Option<String>,
    pub internal_message_id: Option<String>,
    pub sender: Option<String>,
    pub return_path: Option<String>,
    /// One entry per recipient (the `;`-separated `recipient-address`).
    pub recipients: Vec<String>,
    /// One entry per recipient where the file gives them (`recipient-status`).
    pub recipient_status: Vec<String>,
    pub total_bytes: Option<u64>,
    pub recipient_count: Option<u32>,
    pub connector_id: Option<String>,
    pub source_context: Option<String>,
    pub reference: Option<String>,
    /// `message-info` as written.
    pub message_info: Option<String>,
    /// `message-info` parsed, when it holds a latency breakdown.
    pub latency: Option<LatencyComponents>,
    /// `custom-data` as written.
    pub custom_data: Option<String>,
    /// `S:FromEntity=` from custom-data (`Internet`, `Hosted`, …).
    pub from_entity: Option<String>,
    /// `S:ToEntity=` from custom-data.
    pub to_entity: Option<String>,
    /// `S:E2ELatency=` from custom-data, in seconds.
    pub e2e_latency_s: Option<f64>,
    /// `S:ExternalSendLatency=` from custom-data, in seconds.
    pub external_send_latency_s: Option<f64>,
    /// `Originating`, `Incoming`, … as written.
    pub directionality: Option<String>,
    pub subject: Option<String>,
    /// Message trace `Status`.
    pub trace_status: Option<TraceStatus>,
    /// Message trace `FromIP` / `ToIP`.
    pub from_ip: Option<String>,
    pub to_ip: Option<String>,
    /// Message trace `MessageTraceId`.
    pub message_trace_id: Option<String>,
    /// The `#Version:` of the file (tracking logs only), e.g. `15.01.2375.007`.
    pub exchange_version: Option<String>,
    pub origin: Origin,
}

/// Called with the number of bytes read so far (summed over files), at most every few MB.
pub type ProgressFn<'a> = dyn FnMut(u64) + 'a;

/// How readers interpret what the files do not say.
pub struct ReadOptions<'a> {
    /// The zone that local-time timestamps are in (PowerShell exports); `None` means UTC, with a
    /// warning in the report when a file has local times. Message traces and detailed reports
    /// write UTC, so their times without a zone are read as UTC whatever this says. A local
    /// time that occurs twice (the hour the clocks go back) is read as the earlier one.
    pub timezone: Option<jiff::tz::TimeZone>,
    /// A strftime-style format (`%m/%d/%Y %I:%M:%S %p`) for timestamps that are not ISO 8601;
    /// `None` tries the common exports' formats (US `3/2/2026 9:00:05 AM`, ISO, `2026-03-02 09:00:05`).
    pub date_format: Option<String>,
    /// The largest share of bad lines (0..1) that is reported rather than refused; default 0.01.
    pub bad_line_threshold: f64,
    /// The code page of files that are not UTF-8 or UTF-16; `None` means windows-1252.
    pub legacy_encoding: Option<&'static encoding_rs::Encoding>,
    pub progress: Option<Box<ProgressFn<'a>>>,
}

impl Default for ReadOptions<'_> {
    fn default() -> Self {
        ReadOptions {
            timezone: None,
            date_format: None,
            bad_line_threshold: 0.01,
            legacy_encoding: None,
            progress: None,
        }
    }
}

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq)]
pub struct BadLine {
    pub file: PathBuf,
    pub line: u64,
    /// What was wrong, in words.
    pub reason: String,
}

/// What a file turned out to be.
#[derive(Clone, Debug, PartialEq)]
pub struct FileReport {
    pub path: PathBuf,
    pub format: LogFormat,
    /// The `#Version:` line (tracking logs), e.g. `15.01.2375.007`.
    pub version: Option<String>,
    /// `UTF-8`, `UTF-16LE`, `windows-1252`, …
    pub encoding: &'static str,
    pub bytes: u64,
    pub records: u64,
    pub bad_lines: u64,
}

/// What a read saw, for the calibration report.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ReadReport {
    /// In the order read; [`Origin::file`] indexes this.
    pub files: Vec<FileReport>,
    pub bytes: u64,
    pub records: u64,
    pub bad_lines: u64,
    /// The first 10 bad lines.
    pub bad_examples: Vec<BadLine>,
    /// Things a person should know: `System.String[]` cells, local times read as UTC, a
    /// legacy code page, … Each says the first file it applies to (`<file>: …`, and `(and N
    /// other files)` when it applies to more), once.
    pub warnings: Vec<String>,
    /// Servers seen, sorted, each once (at most 4096; a warning says when there were more).
    pub servers: Vec<String>,
}

impl ReadReport {
    /// The sides the files read show.
    pub fn sides(&self) -> Sides {
        Sides::of(&self.formats())
    }

    /// The formats read, sorted, each once (at most two: one per side).
    pub fn formats(&self) -> Vec<LogFormat> {
        let mut v: Vec<LogFormat> = self.files.iter().map(|f| f.format).collect();
        v.sort();
        v.dedup();
        v
    }
}

/// Why a read failed. Every message names the file (and line and field where one applies),
/// what was found and what is accepted.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: no such file or folder; give a log file or a folder of logs")]
    NotFound { path: PathBuf },
    #[error("{path}: the folder holds no files; give a folder with tracking logs or trace exports")]
    EmptyFolder { path: PathBuf },
    #[error("{path}: is a folder, not a file; {expected}")]
    IsDirectory { path: PathBuf, expected: String },
    #[error(
        "{path}:{line}: not a log this reads: found `{found}`; expected a message tracking log (#Software/#Fields: lines), a Get-MessageTrackingLog export, an Exchange Online message trace or a detailed report CSV"
    )]
    NotALog {
        path: PathBuf,
        line: u64,
        found: String,
    },
    #[error(
        "{path}:{line}: a message tracking log without a #Fields: line before its first record; the file may be cut at the top"
    )]
    NoFields { path: PathBuf, line: u64 },
    #[error("{path}:{line}: the header has no `{field}` column; {accepted}")]
    MissingColumn {
        path: PathBuf,
        line: u64,
        field: String,
        accepted: String,
    },
    #[error(
        "{path}:{line}: is a {found}, but {first} is a {expected}: two formats of the same side would count its messages twice; give one on-premises format (tracking logs or their Get-MessageTrackingLog export) and one Exchange Online format (message trace or detailed report) — on-premises logs and cloud traces can be combined"
    )]
    MixedFormats {
        path: PathBuf,
        /// The line that showed its format (the header).
        line: u64,
        found: LogFormat,
        first: PathBuf,
        expected: LogFormat,
    },
    #[error(
        "{bad} of {total} lines ({share:.1}%) could not be read, more than the {threshold:.1}% allowed; first: {first}"
    )]
    TooManyBadLines {
        bad: u64,
        total: u64,
        share: f64,
        threshold: f64,
        first: String,
    },
    #[error("unknown time zone `{name}`; give an IANA name such as Europe/Berlin or UTC")]
    UnknownTimeZone { name: String },
    #[error("--date-format `{format}` is not usable: {reason}")]
    BadDateFormat { format: String, reason: String },
    #[error("{path}:{line}: {message}")]
    Consumer {
        path: PathBuf,
        line: u64,
        message: String,
    },
}

impl CalibrateError {
    /// 2 for bad input (every variant today), like the rest of mailflow's input errors.
    pub fn exit_code(&self) -> u8 {
        crate::error::BAD_INPUT
    }
}
