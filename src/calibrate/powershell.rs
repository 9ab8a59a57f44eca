//! `Get-MessageTrackingLog | Export-Csv`: PowerShell property names as columns, often after a
//! `#TYPE` line, local times in the exporting machine's format, and multi-valued properties
//! (Recipients, RecipientStatus, Reference, EventData) written as the literal `System.String[]`
//! unless the user joined them.
//! Must not: know about the other formats or read the file itself (see `read.rs`).

use super::fields::Field;

pub(crate) fn field(name: &str) -> Option<Field> {
    let table: [(&str, Field); 23] = [
        ("Timestamp", Field::DateTime),
        ("ClientIp", Field::ClientIp),
        ("ClientHostname", Field::ClientHostname),
        ("ServerIp", Field::ServerIp),
        ("ServerHostname", Field::ServerHostname),
        ("SourceContext", Field::SourceContext),
        ("ConnectorId", Field::ConnectorId),
        ("Source", Field::Source),
        ("EventId", Field::EventId),
        ("InternalMessageId", Field::InternalMessageId),
        ("MessageId", Field::MessageId),
        ("NetworkMessageId", Field::NetworkMessageId),
        ("Recipients", Field::RecipientAddress),
        ("RecipientStatus", Field::RecipientStatus),
        ("TotalBytes", Field::TotalBytes),
        ("RecipientCount", Field::RecipientCount),
        ("Reference", Field::Reference),
        ("MessageSubject", Field::MessageSubject),
        ("Sender", Field::SenderAddress),
        ("ReturnPath", Field::ReturnPath),
        ("MessageInfo", Field::MessageInfo),
        ("Directionality", Field::Directionality),
        ("MessageLatency", Field::MessageLatency),
    ];
    let n = name.trim();
    if n.eq_ignore_ascii_case("EventData") {
        return Some(Field::CustomData);
    }
    table
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(n))
        .map(|(_, f)| *f)
}

/// True when a header row is a Get-MessageTrackingLog export's.
pub(crate) fn matches(names: &[String]) -> bool {
    let has = |n: &str| names.iter().any(|c| c.eq_ignore_ascii_case(n));
    has("EventId") && (has("Timestamp") || has("MessageId"))
}

pub(crate) const TIME_COLUMN: &str = "a Get-MessageTrackingLog export needs its Timestamp column";

/// The fix for `System.String[]` cells, for the warning.
pub(crate) fn string_array_fix(property: &str) -> String {
    format!(
        "the {property} column holds the text `System.String[]` instead of the values, so it was not read; export with the property joined, e.g. `Get-MessageTrackingLog … | Select-Object *,@{{n='{property}';e={{$_.{property} -join ';'}}}} -ExcludeProperty {property} | Export-Csv …`"
    )
}
