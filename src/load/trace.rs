//! Arrival traces: recorded messages to replay, parsed from CSV text.
//!
//! The file has a header row naming the columns `timestamp,flow,recipients,size_bytes` (any
//! order, no others) and one row per message:
//! - `timestamp`: either seconds from the start of the run (a number, e.g. `12.5`), or an
//!   RFC 3339 date-time (`2024-03-04T09:15:02Z`, `2024-03-04 09:15:02.250+01:00`), in which
//!   case times count from the earliest row. A file uses one form throughout.
//! - `flow`: the source the message enters on (a hybrid scenario's `inbound`,
//!   `outbound_from_onprem`, …; a custom scenario's `[sources.<name>]`).
//! - `recipients`: a whole number of 1 or more.
//! - `size_bytes`: the message size in bytes (1 KB = 1024 bytes).
//!
//! Rows need not be in time order; each source's rows are sorted (stably) when parsed. This
//! module parses text it is given; it reads no files, and any malformed row is refused with
//! its line number in the file (the header is line 1).

use std::sync::Arc;

use crate::engine::SimTime;

/// One recorded message.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TraceMsg {
    /// When it arrives, from the start of the run (before any load scale).
    pub at: SimTime,
    pub recipients: u32,
    pub size_kb: f64,
}

#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum TraceError {
    #[error(
        "the header must name the columns timestamp, flow, recipients, size_bytes (each once, no others); got `{0}`"
    )]
    Header(String),
    #[error("row {row}: {message}")]
    Row { row: u64, message: String },
    #[error("has no rows; give at least one message")]
    Empty,
}

fn row_err(row: u64, message: impl Into<String>) -> TraceError {
    TraceError::Row {
        row,
        message: message.into(),
    }
}

/// Recorded messages per source, in the order of `sources`.
#[derive(Clone, Debug)]
pub struct Trace {
    pub per_source: Vec<Arc<[TraceMsg]>>,
    /// The latest arrival, from the start of the run.
    pub span: SimTime,
}

enum Stamp {
    Secs(f64),
    Epoch(jiff::Timestamp),
}

/// Parses a trace whose `flow` column must name one of `sources`.
pub fn parse(text: &str, sources: &[&str]) -> Result<Trace, TraceError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| TraceError::Header(e.to_string()))?
        .clone();
    let cols: Vec<&str> = header.iter().collect();
    let find = |name: &str| cols.iter().position(|c| *c == name);
    let (Some(ts), Some(fl), Some(rc), Some(sz)) = (
        find("timestamp"),
        find("flow"),
        find("recipients"),
        find("size_bytes"),
    ) else {
        return Err(TraceError::Header(cols.join(",")));
    };
    if cols.len() != 4 {
        return Err(TraceError::Header(cols.join(",")));
    }
    let mut parsed: Vec<(usize, Stamp, u32, f64, u64)> = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line() + 1;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let row = e.position().map_or(line, |p| p.line());
                let msg = match e.kind() {
                    csv::ErrorKind::UnequalLengths { len, .. } => {
                        format!("has {len} fields; give 4: timestamp,flow,recipients,size_bytes")
                    }
                    _ => e.to_string(),
                };
                return Err(row_err(row, msg));
            }
        }
        let row = record.position().map_or(line, |p| p.line());
        let stamp = parse_stamp(&record[ts]).ok_or_else(|| {
            row_err(
                row,
                format!(
                    "`timestamp` must be seconds from the start of the run (0 or more) or an RFC 3339 date-time such as 2024-03-04T09:15:02Z; got `{}`",
                    &record[ts]
                ),
            )
        })?;
        let flow = &record[fl];
        let Some(source) = sources.iter().position(|s| *s == flow) else {
            return Err(row_err(
                row,
                format!(
                    "`flow` `{flow}` is not a source of the scenario; accepted: {}",
                    sources.join(", ")
                ),
            ));
        };
        let recipients = record[rc]
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                row_err(
                    row,
                    format!(
                        "`recipients` must be a whole number of 1 or more, got `{}`",
                        &record[rc]
                    ),
                )
            })?;
        let size = record[sz]
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s >= 0.0)
            .ok_or_else(|| {
                row_err(
                    row,
                    format!(
                        "`size_bytes` must be a number of bytes, 0 or more, got `{}`",
                        &record[sz]
                    ),
                )
            })?;
        if let (Some((_, first, ..)), s) = (parsed.first(), &stamp)
            && matches!(first, Stamp::Secs(_)) != matches!(s, Stamp::Secs(_))
        {
            return Err(row_err(
                row,
                "`timestamp` mixes seconds and date-times; use one form throughout the file",
            ));
        }
        parsed.push((source, stamp, recipients, size / 1024.0, row));
    }
    if parsed.is_empty() {
        return Err(TraceError::Empty);
    }
    let origin = parsed
        .iter()
        .filter_map(|(_, s, ..)| match s {
            Stamp::Secs(_) => None,
            Stamp::Epoch(e) => Some(*e),
        })
        .min();
    let mut per_source: Vec<Vec<TraceMsg>> = vec![Vec::new(); sources.len()];
    let mut span = SimTime::ZERO;
    for (source, stamp, recipients, size_kb, _) in parsed {
        let secs = match stamp {
            Stamp::Secs(s) => s,
            Stamp::Epoch(e) => origin.map_or(0.0, |o| e.duration_since(o).as_secs_f64()),
        };
        let at = SimTime::from_secs_f64(secs);
        span = span.max(at);
        per_source[source].push(TraceMsg {
            at,
            recipients,
            size_kb,
        });
    }
    Ok(Trace {
        per_source: per_source
            .into_iter()
            .map(|mut v| {
                v.sort_by_key(|m| m.at);
                v.into()
            })
            .collect(),
        span,
    })
}

fn parse_stamp(s: &str) -> Option<Stamp> {
    if let Ok(v) = s.parse::<f64>() {
        return (v.is_finite() && v >= 0.0).then_some(Stamp::Secs(v));
    }
    rfc3339(s).map(Stamp::Epoch)
}

/// An RFC 3339 date-time (`T` or a space between date and time; fraction optional; `Z` or
/// `±hh:mm`; no offset means UTC), read by jiff.
fn rfc3339(s: &str) -> Option<jiff::Timestamp> {
    if let Ok(t) = s.parse::<jiff::Timestamp>() {
        return Some(t);
    }
    let dt = s.parse::<jiff::civil::DateTime>().ok()?;
    jiff::tz::TimeZone::UTC
        .to_ambiguous_timestamp(dt)
        .compatible()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOURCES: [&str; 2] = ["inbound", "outbound_from_onprem"];

    #[test]
    fn parses_and_sorts_per_source() {
        let t = parse(
            "timestamp,flow,recipients,size_bytes\n5,inbound,2,2048\n1.5,inbound,1,1024\n3,outbound_from_onprem,1,0\n",
            &SOURCES,
        )
        .unwrap();
        assert_eq!(t.per_source[0].len(), 2);
        assert_eq!(t.per_source[0][0].at, SimTime::from_secs_f64(1.5));
        assert_eq!(t.per_source[0][1].size_kb, 2.0);
        assert_eq!(t.per_source[1][0].recipients, 1);
        assert_eq!(t.span, SimTime::from_secs_f64(5.0));
    }

    #[test]
    fn date_times_count_from_the_earliest_row() {
        let t = parse(
            "flow,timestamp,size_bytes,recipients\ninbound,2024-03-04T09:00:10Z,10,1\ninbound,2024-03-04 10:00:00.5+01:00,10,1\n",
            &SOURCES,
        )
        .unwrap();
        // 10:00:00.5+01:00 is 09:00:00.5Z, the earliest; the other is 9.5 s later.
        assert_eq!(t.per_source[0][0].at, SimTime::ZERO);
        assert_eq!(t.per_source[0][1].at, SimTime::from_secs_f64(9.5));
        let t = parse(
            "flow,timestamp,size_bytes,recipients\ninbound,2024-02-29T23:59:59.75-00:30,10,1\ninbound,2024-03-01 00:00:00,10,1\n",
            &SOURCES,
        )
        .unwrap();
        // A leap day, an offset of −00:30 and a row without an offset (UTC): 30 min − 0.25 s.
        assert_eq!(t.per_source[0][1].at, SimTime::from_secs_f64(1799.75));
    }

    #[test]
    fn bad_rows_are_refused_with_their_line() {
        let head = "timestamp,flow,recipients,size_bytes\n";
        let cases = [
            ("1,inbound,1,10\n2,inbound,0,10\n", 3, "recipients"),
            ("1,inbound,1,10\nsoon,inbound,1,10\n", 3, "timestamp"),
            ("1,inbound,1,10\n1,inbound,1\n", 3, "4"),
            ("1,elsewhere,1,10\n", 2, "elsewhere"),
            ("1,inbound,1,-5\n", 2, "size_bytes"),
            (
                "1,inbound,1,10\n2024-01-01T00:00:00Z,inbound,1,10\n",
                3,
                "mixes",
            ),
        ];
        for (body, row, needle) in cases {
            let e = parse(&format!("{head}{body}"), &SOURCES).unwrap_err();
            let TraceError::Row { row: got, message } = &e else {
                panic!("expected a row error, got {e}");
            };
            assert_eq!(*got, row, "{body}: {e}");
            assert!(message.contains(needle), "{body}: {e}");
        }
        assert!(matches!(
            parse("time,flow,recipients,size_bytes\n", &SOURCES),
            Err(TraceError::Header(_))
        ));
        assert_eq!(parse(head, &SOURCES).unwrap_err(), TraceError::Empty);
    }
}
