//! The columns the readers know, and turning one row of byte fields into a [`LogRecord`]:
//! the shared half of every reader (the format modules map their header names to [`Field`]s
//! and choose how timestamps are read).
//!
//! Must not: read files or know which format a name belongs to.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::fmt::strtime;
use jiff::tz::TimeZone;

use super::record::{
    EventId, LatencyComponent, LatencyComponents, LogRecord, ServerLatency, TraceStatus,
};
use super::rows::Row;

/// A column a reader can use. Names differ by format; meanings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    DateTime,
    ClientIp,
    ClientHostname,
    ServerIp,
    ServerHostname,
    SourceContext,
    ConnectorId,
    Source,
    EventId,
    InternalMessageId,
    MessageId,
    NetworkMessageId,
    RecipientAddress,
    RecipientStatus,
    TotalBytes,
    RecipientCount,
    Reference,
    MessageSubject,
    SenderAddress,
    ReturnPath,
    MessageInfo,
    Directionality,
    CustomData,
    /// PowerShell `MessageLatency` (a TimeSpan such as `00:00:01.9210000`).
    MessageLatency,
    /// Message trace `Status`.
    Status,
    FromIp,
    ToIp,
    MessageTraceId,
}

pub(crate) const FIELD_COUNT: usize = Field::MessageTraceId as usize + 1;

/// The tracking log's `#Fields:` names (also the detailed report's, with `_` for `-`).
pub(crate) fn tracking_field(name: &str) -> Option<Field> {
    let n = name.trim();
    let table: [(&str, Field); 23] = [
        ("date-time", Field::DateTime),
        ("client-ip", Field::ClientIp),
        ("client-hostname", Field::ClientHostname),
        ("server-ip", Field::ServerIp),
        ("server-hostname", Field::ServerHostname),
        ("source-context", Field::SourceContext),
        ("connector-id", Field::ConnectorId),
        ("source", Field::Source),
        ("event-id", Field::EventId),
        ("internal-message-id", Field::InternalMessageId),
        ("message-id", Field::MessageId),
        ("network-message-id", Field::NetworkMessageId),
        ("recipient-address", Field::RecipientAddress),
        ("recipient-status", Field::RecipientStatus),
        ("total-bytes", Field::TotalBytes),
        ("recipient-count", Field::RecipientCount),
        ("reference", Field::Reference),
        ("message-subject", Field::MessageSubject),
        ("sender-address", Field::SenderAddress),
        ("return-path", Field::ReturnPath),
        ("message-info", Field::MessageInfo),
        ("directionality", Field::Directionality),
        ("custom-data", Field::CustomData),
    ];
    table
        .iter()
        .find(|(k, _)| {
            k.len() == n.len()
                && k.bytes()
                    .zip(n.bytes())
                    .all(|(a, b)| a == b.to_ascii_lowercase() || (a == b'-' && b == b'_'))
        })
        .map(|(_, f)| *f)
}

/// Which column holds each [`Field`] in the current header.
#[derive(Clone, Debug)]
pub(crate) struct ColumnMap {
    idx: [Option<usize>; FIELD_COUNT],
    /// How many columns the header names (a row with another count is a bad line).
    pub width: usize,
}

impl ColumnMap {
    pub fn new<'a>(
        names: impl Iterator<Item = &'a str>,
        lookup: impl Fn(&str) -> Option<Field>,
    ) -> Self {
        let mut idx = [None; FIELD_COUNT];
        let mut width = 0;
        for (i, name) in names.enumerate() {
            width = i + 1;
            if let Some(f) = lookup(name) {
                // The first column of a name wins.
                idx[f as usize].get_or_insert(i);
            }
        }
        ColumnMap { idx, width }
    }

    pub fn has(&self, f: Field) -> bool {
        self.idx[f as usize].is_some()
    }

    pub fn get<'r>(&self, row: &'r Row, f: Field) -> Option<&'r [u8]> {
        let b = row.get(self.idx[f as usize]?)?;
        (!b.is_empty()).then_some(b)
    }
}

/// How text that is not UTF-8 is decoded, and whether that happened.
pub(crate) struct Decoder {
    pub legacy: &'static encoding_rs::Encoding,
    pub used_legacy: bool,
    /// The whole file is known to be in `legacy` (not UTF-8 at all).
    pub force_legacy: bool,
}

impl Decoder {
    pub fn text(&mut self, b: &[u8]) -> String {
        if !self.force_legacy
            && let Ok(s) = std::str::from_utf8(b)
        {
            return s.to_owned();
        }
        self.used_legacy = true;
        let (s, _) = self.legacy.decode_without_bom_handling(b);
        s.into_owned()
    }
}

/// Timestamps: ISO 8601 with `Z` or an offset are exact; times without a zone are in `zone`,
/// read as ISO 8601 or with `formats` (the first format that reads a file's first timestamp is
/// kept for the rest of the file).
pub(crate) struct TimeParser {
    pub zone: TimeZone,
    pub formats: Vec<String>,
    chosen: Option<usize>,
    /// Set once a timestamp without a zone was read.
    pub saw_local: bool,
    /// The format that was chosen, once one was.
    pub chosen_format: Option<String>,
}

/// The formats tried when `--date-format` is not given, in order.
pub(crate) const DEFAULT_DATE_FORMATS: [&str; 5] = [
    "%m/%d/%Y %I:%M:%S %p",
    "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y %H:%M:%S",
    "%Y/%m/%d %H:%M:%S",
    "%m/%d/%Y %H:%M",
];

impl TimeParser {
    pub fn new(zone: TimeZone, formats: Vec<String>) -> Self {
        TimeParser {
            zone,
            formats,
            chosen: None,
            saw_local: false,
            chosen_format: None,
        }
    }

    pub fn parse(&mut self, s: &str) -> Result<Timestamp, String> {
        let s = s.trim();
        let b = s.as_bytes();
        // ISO 8601: `2024-01-07T00:00:05.535Z`, `2024-01-07 00:00:05+01:00`, or no zone.
        if b.len() >= 19 && b[4] == b'-' && b[7] == b'-' && (b[10] == b'T' || b[10] == b' ') {
            if let Ok(t) = s.parse::<Timestamp>() {
                return Ok(t);
            }
            if let Ok(dt) = s.parse::<DateTime>() {
                self.saw_local = true;
                return self.local(dt, s);
            }
        }
        if let Some(i) = self.chosen
            && let Ok(dt) = strtime::parse(&self.formats[i], s).and_then(|t| t.to_datetime())
        {
            self.saw_local = true;
            return self.local(dt, s);
        }
        if self.chosen.is_none() {
            for (i, f) in self.formats.iter().enumerate() {
                if let Ok(dt) = strtime::parse(f, s).and_then(|t| t.to_datetime()) {
                    self.chosen = Some(i);
                    self.chosen_format = Some(f.clone());
                    self.saw_local = true;
                    return self.local(dt, s);
                }
            }
        }
        Err(match &self.chosen_format {
            Some(f) => format!(
                "the time `{}` is neither ISO 8601 nor in the format `{f}` the file's first time used",
                quoted(s)
            ),
            None => format!(
                "the time `{}` is neither ISO 8601 nor in any of the formats {}; give --date-format",
                quoted(s),
                self.formats.join(", ")
            ),
        })
    }

    fn local(&self, dt: DateTime, s: &str) -> Result<Timestamp, String> {
        self.zone
            .to_ambiguous_timestamp(dt)
            .compatible()
            .map_err(|e| {
                format!(
                    "the time `{}` does not exist in the time zone: {e}",
                    quoted(s)
                )
            })
    }
}

/// The most characters of a field's text an error message quotes.
const QUOTED_CHARS: usize = 60;

/// A field's text as an error message quotes it: on one line (control characters, line ends
/// among them, dropped) and cut to [`QUOTED_CHARS`] characters, so a quote left open or a
/// binary file still gives one short line.
pub(crate) fn quoted(s: &str) -> String {
    let mut out: String = s
        .chars()
        .filter(|c| !c.is_control())
        .take(QUOTED_CHARS + 1)
        .collect();
    if out.chars().count() > QUOTED_CHARS {
        out = out.chars().take(QUOTED_CHARS).collect::<String>() + "…";
    }
    out
}

/// Builds records from rows under one header.
pub(crate) struct RowReader<'a> {
    pub cols: &'a ColumnMap,
    pub dec: &'a mut Decoder,
    pub time: &'a mut TimeParser,
    /// Separators of multi-valued columns (`;` in logs; `;` or `,` in exports).
    pub list_separators: &'a [char],
    /// Set when a multi-valued column holds PowerShell's `System.String[]`.
    pub saw_string_array: &'a mut Option<&'static str>,
}

const STRING_ARRAY: &[u8] = b"System.String[]";

impl RowReader<'_> {
    fn opt(&mut self, row: &Row, f: Field) -> Option<String> {
        self.cols.get(row, f).map(|b| self.dec.text(b))
    }

    fn list(&mut self, row: &Row, f: Field, name: &'static str) -> Vec<String> {
        let Some(b) = self.cols.get(row, f) else {
            return Vec::new();
        };
        if b == STRING_ARRAY {
            self.saw_string_array.get_or_insert(name);
            return Vec::new();
        }
        let s = self.dec.text(b);
        s.split(self.list_separators)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// One row as a record, or why it cannot be one.
    pub fn read(&mut self, row: &Row) -> Result<LogRecord, String> {
        let cols = self.cols;
        let Some(ts) = cols.get(row, Field::DateTime) else {
            return Err("the time column is empty".into());
        };
        let ts = std::str::from_utf8(ts).map_err(|_| "the time is not text".to_string())?;
        let timestamp = self.time.parse(ts)?;
        let total_bytes = match cols.get(row, Field::TotalBytes) {
            None => None,
            Some(b) => Some(parse_u64(b).ok_or_else(|| {
                format!(
                    "the size `{}` is not a whole number of bytes",
                    quoted(&String::from_utf8_lossy(b))
                )
            })?),
        };
        let recipient_count = match cols.get(row, Field::RecipientCount) {
            None => None,
            Some(b) => Some(
                parse_u64(b)
                    .and_then(|v| u32::try_from(v).ok())
                    .ok_or_else(|| {
                        format!(
                            "the recipient count `{}` is not a whole number",
                            quoted(&String::from_utf8_lossy(b))
                        )
                    })?,
            ),
        };
        let message_info = self.opt(row, Field::MessageInfo);
        let latency = message_info.as_deref().and_then(parse_message_info);
        let custom_data = self.opt(row, Field::CustomData);
        let custom_data = custom_data.filter(|c| !c.starts_with("System."));
        let mut rec = LogRecord {
            timestamp,
            server: self.opt(row, Field::ServerHostname),
            client_hostname: self.opt(row, Field::ClientHostname),
            client_ip: self.opt(row, Field::ClientIp),
            server_ip: self.opt(row, Field::ServerIp),
            source: self.opt(row, Field::Source).map(|mut s| {
                s.make_ascii_uppercase();
                s
            }),
            event: cols
                .get(row, Field::EventId)
                .map(|b| EventId::parse(&String::from_utf8_lossy(b))),
            message_id: self.opt(row, Field::MessageId),
            network_message_id: self.opt(row, Field::NetworkMessageId),
            internal_message_id: self.opt(row, Field::InternalMessageId),
            sender: self.opt(row, Field::SenderAddress),
            return_path: self.opt(row, Field::ReturnPath),
            recipients: self.list(row, Field::RecipientAddress, "Recipients"),
            recipient_status: self.list(row, Field::RecipientStatus, "RecipientStatus"),
            total_bytes,
            recipient_count,
            connector_id: self.opt(row, Field::ConnectorId),
            source_context: self.opt(row, Field::SourceContext),
            reference: self.opt(row, Field::Reference),
            message_info,
            latency,
            custom_data,
            directionality: self.opt(row, Field::Directionality),
            subject: self.opt(row, Field::MessageSubject),
            trace_status: cols
                .get(row, Field::Status)
                .map(|b| TraceStatus::parse(&String::from_utf8_lossy(b))),
            from_ip: self.opt(row, Field::FromIp),
            to_ip: self.opt(row, Field::ToIp),
            message_trace_id: self.opt(row, Field::MessageTraceId),
            ..LogRecord::default()
        };
        if let Some(cd) = rec.custom_data.take() {
            apply_custom_data(&cd, &mut rec);
            rec.custom_data = Some(cd);
        }
        if rec.e2e_latency_s.is_none()
            && let Some(b) = cols.get(row, Field::MessageLatency)
        {
            rec.e2e_latency_s = parse_timespan(&String::from_utf8_lossy(b));
        }
        Ok(rec)
    }
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.trim().parse().ok()
}

/// `S:E2ELatency=1.921;S:FromEntity=Internet;S:ToEntity=Hosted;…` (the `S:`/`I:` type prefix
/// is optional, so a PowerShell export's joined EventData reads too).
fn apply_custom_data(cd: &str, out: &mut LogRecord) {
    for part in cd.split(';') {
        let Some((key, value)) = part.split_once('=') else {
            continue;
        };
        let key = key.trim();
        let key = match key.split_once(':') {
            Some((p, k)) if p.len() == 1 => k,
            _ => key,
        };
        let value = value.trim();
        if key.eq_ignore_ascii_case("FromEntity") {
            out.from_entity = Some(value.to_owned());
        } else if key.eq_ignore_ascii_case("ToEntity") {
            out.to_entity = Some(value.to_owned());
        } else if key.eq_ignore_ascii_case("E2ELatency") {
            out.e2e_latency_s = value.parse().ok().filter(|v: &f64| v.is_finite());
        } else if key.eq_ignore_ascii_case("ExternalSendLatency") {
            out.external_send_latency_s = value.parse().ok().filter(|v: &f64| v.is_finite());
        }
    }
}

/// A .NET TimeSpan as PowerShell exports it: `[d.]hh:mm:ss[.fffffff]`, in seconds.
fn parse_timespan(s: &str) -> Option<f64> {
    let s = s.trim();
    let (days, rest) = match s.split_once('.') {
        Some((d, r)) if !d.contains(':') => (d.parse::<f64>().ok()?, r),
        _ => (0.0, s),
    };
    let mut it = rest.split(':');
    let h: f64 = it.next()?.parse().ok()?;
    let m: f64 = it.next()?.parse().ok()?;
    let sec: f64 = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    let v = days * 86400.0 + h * 3600.0 + m * 60.0 + sec;
    v.is_finite().then_some(v)
}

/// Parses a latency breakdown from `message-info`, if it holds one:
/// `2024-01-07T00:00:05.535Z;SRV=fe.example.com:TOTAL-FE=0.009|SMR=0.004;LSRV=ex01.example.com:TOTAL-HUB=1.921|SMR=0.127(…)|CAT=1.698(…)|QDM=0.010`.
pub fn parse_message_info(s: &str) -> Option<LatencyComponents> {
    if !s.contains("SRV=") {
        return None;
    }
    let mut out = LatencyComponents::default();
    for (i, part) in s.split(';').enumerate() {
        let part = part.trim();
        if i == 0
            && let Ok(t) = part.parse::<Timestamp>()
        {
            out.original_arrival = Some(t);
            continue;
        }
        let (local, rest) = if let Some(r) = part.strip_prefix("LSRV=") {
            (true, r)
        } else if let Some(r) = part.strip_prefix("SRV=") {
            (false, r)
        } else {
            continue;
        };
        let Some((server, comps)) = rest.split_once(':') else {
            continue;
        };
        let mut sl = ServerLatency {
            server: server.to_owned(),
            local,
            total_kind: None,
            total_s: None,
            components: Vec::new(),
        };
        for comp in split_top_level(comps) {
            let Some((name, value)) = comp.split_once('=') else {
                continue;
            };
            // Drop sub-components: `1.698(CATRES=0.010|…)`.
            let value = value.split('(').next().unwrap_or(value);
            let Ok(seconds) = value.trim().parse::<f64>() else {
                continue;
            };
            if !seconds.is_finite() {
                continue;
            }
            if let Some(kind) = name.strip_prefix("TOTAL-") {
                sl.total_kind = Some(kind.to_owned());
                sl.total_s = Some(seconds);
            } else if name == "TOTAL" {
                sl.total_s = Some(seconds);
            } else {
                sl.components.push(LatencyComponent {
                    name: name.to_owned(),
                    seconds,
                });
            }
        }
        out.servers.push(sl);
    }
    (!out.servers.is_empty()).then_some(out)
}

/// Splits on `|` outside parentheses.
fn split_top_level(s: &str) -> impl Iterator<Item = &str> {
    let mut depth = 0i32;
    let mut start = 0;
    let bytes = s.as_bytes();
    let mut parts = Vec::new();
    for (i, &c) in bytes.iter().enumerate() {
        match c {
            b'(' => depth += 1,
            b')' => depth -= 1,
            b'|' if depth <= 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_info_breakdown() {
        let li = parse_message_info(
            "2024-01-07T00:00:05.535Z;SRV=fe.example.com:TOTAL-FE=0.009|SMR=0.004|SMS=0.005;LSRV=ex01.example.com:TOTAL-HUB=1.921|SMR=0.127(SMRDI=0.010|SMRCL=0.1)|CAT=1.698(CATRES=0.010|CATRT=0.5)|QDM=0.010|SMSC=0.006|SMS=0.076",
        )
        .unwrap();
        assert_eq!(
            li.original_arrival,
            Some("2024-01-07T00:00:05.535Z".parse().unwrap())
        );
        assert_eq!(li.servers.len(), 2);
        assert!(!li.servers[0].local);
        assert_eq!(li.servers[0].total_kind.as_deref(), Some("FE"));
        let l = li.local().unwrap();
        assert_eq!(l.server, "ex01.example.com");
        assert_eq!(l.total_s, Some(1.921));
        let names: Vec<&str> = l.components.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["SMR", "CAT", "QDM", "SMSC", "SMS"]);
        assert!((l.queue_s() - 0.010).abs() < 1e-12);
        assert!((l.processing_s().unwrap() - 1.911).abs() < 1e-12);
        assert_eq!(parse_message_info("0cI: 2024-01-07"), None);
    }

    #[test]
    fn custom_data_keys() {
        let mut r = LogRecord::default();
        apply_custom_data(
            "S:E2ELatency=2.5;S:ExternalSendLatency=0.4;S:FromEntity=Hosted;S:ToEntity=Internet;S:P2RecipientType=To",
            &mut r,
        );
        assert_eq!(r.e2e_latency_s, Some(2.5));
        assert_eq!(r.external_send_latency_s, Some(0.4));
        assert_eq!(r.from_entity.as_deref(), Some("Hosted"));
        assert_eq!(r.to_entity.as_deref(), Some("Internet"));
        let mut r = LogRecord::default();
        apply_custom_data("FromEntity=Internet", &mut r);
        assert_eq!(r.from_entity.as_deref(), Some("Internet"));
    }

    #[test]
    fn timespans() {
        assert_eq!(parse_timespan("00:00:01.5000000"), Some(1.5));
        assert_eq!(parse_timespan("1.00:00:02"), Some(86402.0));
        assert_eq!(parse_timespan("soon"), None);
    }

    #[test]
    fn times_local_and_utc() {
        let zone = TimeZone::get("Europe/Berlin").unwrap();
        let mut tp = TimeParser::new(
            zone,
            DEFAULT_DATE_FORMATS.iter().map(|s| s.to_string()).collect(),
        );
        let t = tp.parse("2026-03-02T09:00:05.535Z").unwrap();
        assert_eq!(t.to_string(), "2026-03-02T09:00:05.535Z");
        assert!(!tp.saw_local);
        // 9:00:05 AM in Berlin (UTC+1 in March before the change) is 08:00:05 UTC.
        let t = tp.parse("3/2/2026 9:00:05 AM").unwrap();
        assert_eq!(t.to_string(), "2026-03-02T08:00:05Z");
        let t = tp.parse("12/31/2026 11:59:59 PM").unwrap();
        assert_eq!(t.to_string(), "2026-12-31T22:59:59Z");
        assert!(tp.saw_local);
        let e = tp.parse("31.12.2026 10:00:00").unwrap_err();
        assert!(e.contains("%m/%d/%Y %I:%M:%S %p"), "{e}");
    }
}
