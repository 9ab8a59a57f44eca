//! Exchange Online's exports: the message trace (`Get-MessageTrace`, `Get-MessageTraceV2`, the
//! admin center's CSV: one row per message and recipient with Received, SenderAddress,
//! RecipientAddress, Subject, Status, ToIP, FromIP, Size, MessageId, MessageTraceId; a trace
//! often comes as several files) and the historical search "detailed report" (snake_case
//! tracking-log columns such as `date_time_utc`, `event_id`, often UTF-16). Times without a
//! zone are UTC (both exports write UTC).
//! Must not: know about the other formats or read the file itself (see `read.rs`).

use super::fields::{Field, tracking_field};

pub(crate) fn trace_field(name: &str) -> Option<Field> {
    let table: [(&str, Field); 10] = [
        ("Received", Field::DateTime),
        ("SenderAddress", Field::SenderAddress),
        ("RecipientAddress", Field::RecipientAddress),
        ("Subject", Field::MessageSubject),
        ("Status", Field::Status),
        ("ToIP", Field::ToIp),
        ("FromIP", Field::FromIp),
        ("Size", Field::TotalBytes),
        ("MessageId", Field::MessageId),
        ("MessageTraceId", Field::MessageTraceId),
    ];
    let n = name.trim();
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(n))
        .map(|(_, f)| *f)
}

pub(crate) fn detailed_field(name: &str) -> Option<Field> {
    let n = name.trim();
    if n.eq_ignore_ascii_case("date_time_utc") || n.eq_ignore_ascii_case("origin_timestamp_utc") {
        return Some(Field::DateTime);
    }
    if n.contains('-') {
        return None;
    }
    tracking_field(n)
}

/// True when a header row is a message trace's.
pub(crate) fn is_trace(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|c| c.eq_ignore_ascii_case(n));
    has("Received") && has("RecipientAddress")
}

/// True when a header row is a detailed report's.
pub(crate) fn is_detailed(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|c| c.eq_ignore_ascii_case(n));
    has("date_time_utc")
        || has("origin_timestamp_utc")
        || (has("event_id") && (has("message_id") || has("network_message_id")))
}

pub(crate) const TRACE_TIME_COLUMN: &str = "a message trace export needs its Received column";
pub(crate) const DETAILED_TIME_COLUMN: &str =
    "a detailed report needs a date_time_utc (or origin_timestamp_utc) column";
