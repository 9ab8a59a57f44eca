//! Reader tests: every quirk of DOMAIN-FACTS "Logs an organization already has" and every bad
//! input, on small hand-written files.

use std::path::{Path, PathBuf};

use super::read::{read_bytes, read_inputs, timezone};
use super::record::{
    CalibrateError, EventId, LogFormat, LogRecord, ReadOptions, ReadReport, TraceStatus,
};

const F30: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data,transport-traffic-type,log-id,schema-version";
const F27: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data";
const F26: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data";
const F2007: &str = "date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info";

fn header(version: &str, log_type_key: &str, fields: &str) -> String {
    format!(
        "#Software: Microsoft Exchange Server\r\n#Version: {version}\r\n#{log_type_key}: Message Tracking Log\r\n#Date: 2026-03-02T09:00:00.000Z\r\n#Fields: {fields}\r\n"
    )
}

/// A 30-field RECEIVE from the Internet and a SEND with a latency breakdown.
fn lines30() -> String {
    let mut s = String::new();
    s.push_str("2026-03-02T09:00:05.535Z,203.0.113.5,mail.partner.example,10.0.0.10,EX01,\"08D6;250 2.6.0 <a@partner.example> Queued mail for delivery\",EX01\\Default Frontend EX01,SMTP,RECEIVE,1234,<a@partner.example>,8f6d0000-0000-0000-0000-000000000001,alice@contoso.com;bob@contoso.com,,12345,2,,,\"Offer, \"\"final\"\" version\",carol@partner.example,carol@partner.example,2026-03-02T09:00:05.400Z,Incoming,,203.0.113.5,10.0.0.10,S:FromEntity=Internet;S:ToEntity=Hosted,Email,8f6d0000-0000-0000-0000-000000000001,15.01.2375.007\r\n");
    s.push_str("2026-03-02T09:00:07.500Z,10.0.0.10,EX01,10.0.0.11,EX02,,Intra-Organization SMTP Send Connector,SMTP,SEND,1234,<a@partner.example>,8f6d0000-0000-0000-0000-000000000001,alice@contoso.com;bob@contoso.com,250 2.1.5 OK;250 2.1.5 OK,12345,2,,,\"Offer, \"\"final\"\" version\",carol@partner.example,carol@partner.example,2026-03-02T09:00:05.535Z;SRV=EX01.contoso.com:TOTAL-FE=0.009|SMR=0.004;LSRV=EX01.contoso.com:TOTAL-HUB=1.921|SMR=0.127(SMRDI=0.01)|CAT=1.698(CATRES=0.1|CATRT=0.2)|QDM=0.010|SMSC=0.006|SMS=0.076,Incoming,,,,S:E2ELatency=1.965;S:FromEntity=Internet;S:ToEntity=Hosted,Email,8f6d0000-0000-0000-0000-000000000001,15.01.2375.007\r\n");
    s
}

fn collect(name: &str, bytes: &[u8], opts: &mut ReadOptions<'_>) -> (Vec<LogRecord>, ReadReport) {
    let mut recs = Vec::new();
    let report = read_bytes(Path::new(name), bytes, opts, &mut |r| {
        recs.push(r);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"));
    (recs, report)
}

fn read_err(name: &str, bytes: &[u8]) -> CalibrateError {
    match read_bytes(
        Path::new(name),
        bytes,
        &mut ReadOptions::default(),
        &mut |_| Ok(()),
    ) {
        Ok(r) => panic!("{name}: expected an error, read {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn tracking_2016_thirty_fields() {
    let text = header("15.01.2375.007", "Log-type", F30) + &lines30();
    let (recs, report) = collect(
        "MSGTRK2026030209-1.LOG",
        text.as_bytes(),
        &mut ReadOptions::default(),
    );
    assert_eq!(recs.len(), 2);
    assert_eq!(report.files[0].format, LogFormat::TrackingLog);
    assert_eq!(report.files[0].version.as_deref(), Some("15.01.2375.007"));
    assert_eq!(report.servers, ["EX01", "EX02"]);
    let r = &recs[0];
    assert_eq!(r.timestamp.to_string(), "2026-03-02T09:00:05.535Z");
    assert_eq!(r.event, Some(EventId::Receive));
    assert_eq!(r.source.as_deref(), Some("SMTP"));
    assert_eq!(
        r.connector_id.as_deref(),
        Some("EX01\\Default Frontend EX01")
    );
    assert_eq!(r.recipients, ["alice@contoso.com", "bob@contoso.com"]);
    assert_eq!(r.total_bytes, Some(12345));
    assert_eq!(r.recipient_count, Some(2));
    // A quoted comma and a doubled quote inside a field.
    assert_eq!(r.subject.as_deref(), Some("Offer, \"final\" version"));
    assert_eq!(r.from_entity.as_deref(), Some("Internet"));
    assert_eq!(r.to_entity.as_deref(), Some("Hosted"));
    assert_eq!(
        r.network_message_id.as_deref(),
        Some("8f6d0000-0000-0000-0000-000000000001")
    );
    assert_eq!(r.origin.line, 6);
    assert_eq!(r.exchange_version.as_deref(), Some("15.01.2375.007"));
    let s = &recs[1];
    assert_eq!(s.event, Some(EventId::Send));
    assert_eq!(s.recipient_status.len(), 2);
    assert_eq!(s.e2e_latency_s, Some(1.965));
    let l = s.latency.as_ref().unwrap().local().unwrap();
    assert_eq!(l.total_s, Some(1.921));
    assert_eq!(l.total_kind.as_deref(), Some("HUB"));
    assert_eq!(s.origin.line, 7);
}

#[test]
fn tracking_columns_by_name_for_every_version() {
    // The same RECEIVE written under the 27-, 26-field and Exchange 2007 headers, and under a
    // header listing the 30 fields in another order.
    let values = |fields: &str| -> String {
        fields
            .split(',')
            .map(|f| match f {
                "date-time" => "2026-03-02T10:00:00.000Z",
                "server-hostname" => "HUB07",
                "source" => "SMTP",
                "event-id" => "RECEIVE",
                "message-id" => "<m@x>",
                "network-message-id" => "nmid-1",
                "recipient-address" => "a@contoso.com",
                "total-bytes" => "2048",
                "recipient-count" => "1",
                "sender-address" => "s@x",
                _ => "",
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut reversed: Vec<&str> = F30.split(',').collect();
    reversed.reverse();
    let reversed = reversed.join(",");
    for (version, fields) in [
        ("15.00.1497.002", F27),
        ("14.03.0123.004", F26),
        ("08.03.0083.006", F2007),
        ("15.02.1118.007", reversed.as_str()),
    ] {
        let text = header(version, "Log-Type", fields) + &values(fields) + "\r\n";
        let (recs, report) = collect("x.log", text.as_bytes(), &mut ReadOptions::default());
        assert_eq!(recs.len(), 1, "{version}");
        let r = &recs[0];
        assert_eq!(r.server.as_deref(), Some("HUB07"));
        assert_eq!(r.total_bytes, Some(2048), "{version}");
        assert_eq!(r.recipients, ["a@contoso.com"]);
        assert_eq!(r.message_id.as_deref(), Some("<m@x>"));
        let has_nmid = fields.contains("network-message-id");
        assert_eq!(r.network_message_id.is_some(), has_nmid, "{version}");
        assert_eq!(report.files[0].version.as_deref(), Some(version));
    }
}

#[test]
fn utf8_bom_and_unknown_event_ids() {
    let body = header(
        "15.01.2375.007",
        "Log-type",
        "date-time,event-id,source,server-hostname",
    ) + "2026-03-02T10:00:00.000Z,FUTUREEVENT,SMTP,EX01\r\n2026-03-02T10:00:01.000Z,haredirect,SMTP,EX01\r\n";
    let mut bytes = vec![0xEF, 0xBB, 0xBF];
    bytes.extend_from_slice(body.as_bytes());
    let (recs, report) = collect("bom.log", &bytes, &mut ReadOptions::default());
    assert_eq!(recs[0].event, Some(EventId::Other("FUTUREEVENT".into())));
    assert_eq!(recs[1].event, Some(EventId::HaRedirect));
    assert_eq!(report.files[0].encoding, "UTF-8");
}

#[test]
fn legacy_code_page_is_decoded_and_reported() {
    let mut bytes = header("15.01.2375.007", "Log-type", "date-time,message-subject").into_bytes();
    bytes.extend_from_slice(b"2026-03-02T10:00:00.000Z,Gr\xfc\xdfe aus M\xfcnchen\r\n");
    let (recs, report) = collect("cp.log", &bytes, &mut ReadOptions::default());
    assert_eq!(recs[0].subject.as_deref(), Some("Grüße aus München"));
    assert_eq!(report.files[0].encoding, "windows-1252");
    assert!(
        report.warnings.iter().any(|w| w.contains("not UTF-8")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn truncated_last_line_is_a_bad_line() {
    let mut text = header("15.01.2375.007", "Log-type", F30);
    for _ in 0..100 {
        text += &lines30();
    }
    // Cut inside the last record: no line end, fewer fields.
    let cut = text.len() - 200;
    let (recs, report) = collect(
        "cut.log",
        &text.as_bytes()[..cut],
        &mut ReadOptions::default(),
    );
    assert_eq!(recs.len(), 199);
    assert_eq!(report.bad_lines, 1);
    assert_eq!(report.bad_examples[0].line, 205);
    assert!(
        report.bad_examples[0].reason.contains("cut short"),
        "{:?}",
        report.bad_examples
    );
    // Cut inside the last field: all fields there, but no line end.
    let cut = text.len() - 4;
    let (recs, report) = collect(
        "cut.log",
        &text.as_bytes()[..cut],
        &mut ReadOptions::default(),
    );
    assert_eq!(recs.len(), 199);
    assert_eq!(report.bad_lines, 1);
    assert!(report.bad_examples[0].reason.contains("no line end"));
}

#[test]
fn too_many_bad_lines_is_an_error_naming_the_first() {
    let text = header("15.01.2375.007", "Log-type", "date-time,total-bytes")
        + "2026-03-02T10:00:00.000Z,100\r\nyesterday,100\r\n2026-03-02T10:00:00.000Z,lots\r\n";
    let e = read_err("bad.log", text.as_bytes());
    let msg = e.to_string();
    assert!(msg.contains("2 of 3 lines"), "{msg}");
    assert!(msg.contains("bad.log:7"), "{msg}");
    assert!(msg.contains("`yesterday`"), "{msg}");
    assert_eq!(e.exit_code(), 2);
    // A higher threshold reads it, with the bad lines counted.
    let mut opts = ReadOptions {
        bad_line_threshold: 0.7,
        ..ReadOptions::default()
    };
    let (recs, report) = collect("bad.log", text.as_bytes(), &mut opts);
    assert_eq!((recs.len(), report.bad_lines), (1, 2));
    assert!(report.bad_examples[1].reason.contains("`lots`"));
}

/// Fuzzing (calibration_folder) found a message trace whose time field held a quote left
/// open: the field ran on over the following lines (another file's header pasted in, NUL
/// bytes), and the error quoted it whole — over several lines. A quoted field is now on one
/// line, without control characters, cut to 60 characters.
#[test]
fn a_bad_field_is_quoted_on_one_short_line() {
    let row = |id: &str, received: &str| {
        format!(
            "\"outlook.office365.com\",\"5f2c1d3e\",\"False\",\"contoso.onmicrosoft.com\",\"<{id}@contoso.com>\",\"{received}\",\"a@contoso.com\",\"b@contoso.com\",\"Hi\",\"Delivered\",\"\",\"192.0.2.10\",\"100\",\"00000001\",\"\",\"\",\"1\"\n"
        )
    };
    let mut text = String::from(
        "\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"\n",
    );
    text.push_str(&row("a", "3/2/2026 9:00:00 AM"));
    text.push_str(&row("b", "3/2/2026 9:00:\u{2}\0\u{8}\0\0#Software: Microsoft Exchange Server\n#Version: 15.00.1497.002\n#Log-type: Message Tracking Log\n#Date: 2026-03-02T00:03:28.335Z\n#Fields: date-time,client-ip\n20 AM"));
    let e = read_err("MessageTrace.csv", text.as_bytes());
    let msg = e.to_string();
    assert_eq!(e.exit_code(), 2);
    assert!(!msg.chars().any(char::is_control), "{msg:?}");
    assert!(
        msg.contains("MessageTrace.csv:3: the time `3/2/2026 9:00:#Software: Microsoft Exchange Server#Version: …` is neither"),
        "{msg}"
    );
}

const PS_HEADER: &str = "\"Timestamp\",\"ClientIp\",\"ClientHostname\",\"ServerIp\",\"ServerHostname\",\"SourceContext\",\"ConnectorId\",\"Source\",\"EventId\",\"InternalMessageId\",\"MessageId\",\"NetworkMessageId\",\"Recipients\",\"RecipientStatus\",\"TotalBytes\",\"RecipientCount\",\"RelatedRecipientAddress\",\"Reference\",\"MessageSubject\",\"Sender\",\"ReturnPath\",\"Directionality\",\"TenantId\",\"OriginalClientIp\",\"MessageInfo\",\"MessageLatency\",\"MessageLatencyType\",\"EventData\"";

fn ps_row(ts: &str, recipients: &str) -> String {
    format!(
        "\"{ts}\",\"10.0.0.10\",\"EX01\",\"10.0.0.11\",\"EX02\",\"\",\"Outbound to Office 365 - 6d1f\",\"SMTP\",\"SEND\",\"77\",\"<b@contoso.com>\",\"nmid-2\",\"{recipients}\",\"System.String[]\",\"4096\",\"2\",\"\",\"\",\"Quarterly, numbers\",\"dave@contoso.com\",\"dave@contoso.com\",\"Originating\",\"\",\"\",\"2026-03-02T08:00:00.000Z;LSRV=EX02.contoso.com:TOTAL-HUB=0.5|QDE=0.2|SMS=0.1\",\"00:00:01.2500000\",\"EndToEnd\",\"System.Collections.Generic.KeyValuePair`2[System.String,System.Object][]\"\r\n"
    )
}

#[test]
fn powershell_export_with_string_arrays_and_local_times() {
    let text = format!(
        "#TYPE Microsoft.Exchange.Management.TransportLogSearchTasks.MessageTrackingEvent\r\n{PS_HEADER}\r\n{}{}",
        ps_row("3/2/2026 9:00:05 AM", "System.String[]"),
        ps_row(
            "3/2/2026 1:30:00 PM",
            "a@contoso.mail.onmicrosoft.com;b@contoso.com"
        ),
    );
    let mut opts = ReadOptions {
        timezone: Some(timezone("America/New_York").unwrap()),
        ..ReadOptions::default()
    };
    let (recs, report) = collect("export.csv", text.as_bytes(), &mut opts);
    assert_eq!(report.files[0].format, LogFormat::PowerShellExport);
    assert_eq!(recs.len(), 2);
    // New York is UTC−5 on 2 March 2026.
    assert_eq!(recs[0].timestamp.to_string(), "2026-03-02T14:00:05Z");
    assert_eq!(recs[1].timestamp.to_string(), "2026-03-02T18:30:00Z");
    assert!(recs[0].recipients.is_empty());
    assert_eq!(
        recs[1].recipients,
        ["a@contoso.mail.onmicrosoft.com", "b@contoso.com"]
    );
    assert_eq!(recs[0].recipient_count, Some(2));
    assert_eq!(recs[0].subject.as_deref(), Some("Quarterly, numbers"));
    assert_eq!(recs[0].e2e_latency_s, Some(1.25));
    assert_eq!(
        recs[0].latency.as_ref().unwrap().local().unwrap().queue_s(),
        0.2
    );
    assert_eq!(recs[0].custom_data, None);
    let w = report.warnings.join("\n");
    assert!(
        w.contains("System.String[]") && w.contains("-join ';'"),
        "{w}"
    );
    assert!(w.contains("Recipients"), "{w}");
    assert!(w.contains("EventData"), "{w}");
    assert!(!w.contains("read as UTC"), "{w}");

    // Without --timezone: read as UTC, with a warning; a given --date-format is used.
    let text = format!(
        "{PS_HEADER}\r\n{}",
        ps_row("02.03.2026 09:00:05", "x@contoso.com")
    );
    let mut opts = ReadOptions {
        date_format: Some("%d.%m.%Y %H:%M:%S".into()),
        ..ReadOptions::default()
    };
    let (recs, report) = collect("export.csv", text.as_bytes(), &mut opts);
    assert_eq!(recs[0].timestamp.to_string(), "2026-03-02T09:00:05Z");
    assert!(
        report.warnings.iter().any(|w| w.contains("--timezone")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn message_trace_in_several_files_of_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let head = "\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageId\",\"MessageTraceId\"\r\n";
    let row = |ts: &str, st: &str| {
        format!(
            "\"{ts}\",\"x@fabrikam.example\",\"u@contoso.com\",\"Hi, there\",\"{st}\",\"\",\"198.51.100.7\",\"20480\",\"<t@fabrikam.example>\",\"0c1d\"\r\n"
        )
    };
    // Later days in the first file name: reading does not depend on order.
    std::fs::create_dir(dir.path().join("trace")).unwrap();
    std::fs::write(
        dir.path().join("trace/part1.csv"),
        format!(
            "{head}{}{}",
            row("2026-03-05T10:00:00.0000000Z", "Delivered"),
            row("3/1/2026 8:00:00 AM", "FilteredAsSpam")
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("trace/part2.csv"),
        format!("{head}{}", row("2026-03-01T07:00:00Z", "Quarantined")),
    )
    .unwrap();
    std::fs::write(dir.path().join("trace/.DS_Store"), "junk").unwrap();
    let mut recs = Vec::new();
    let report = read_inputs(
        &[dir.path().to_owned()],
        &mut ReadOptions::default(),
        &mut |r| {
            recs.push(r);
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(report.files.len(), 2);
    assert!(
        report
            .files
            .iter()
            .all(|f| f.format == LogFormat::MessageTrace)
    );
    assert_eq!(recs.len(), 3);
    // Files are read by the earliest time they hold (part2's 07:00 before part1's 08:00),
    // rows in file order.
    assert_eq!(recs[0].trace_status, Some(TraceStatus::Quarantined));
    assert_eq!(recs[0].origin.file, 0);
    assert!(report.files[0].path.ends_with("trace/part2.csv"));
    assert_eq!(recs[1].trace_status, Some(TraceStatus::Delivered));
    assert_eq!(recs[2].trace_status, Some(TraceStatus::FilteredAsSpam));
    // A trace's times are UTC.
    assert_eq!(recs[2].timestamp.to_string(), "2026-03-01T08:00:00Z");
    assert_eq!(recs[2].origin.file, 1);
    assert_eq!(recs[0].total_bytes, Some(20480));
    assert_eq!(recs[0].subject.as_deref(), Some("Hi, there"));
    assert_eq!(recs[0].from_ip.as_deref(), Some("198.51.100.7"));
}

fn utf16le(s: &str, bom: bool) -> Vec<u8> {
    let mut out = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_le_bytes());
    }
    out
}

#[test]
fn detailed_report_in_utf16() {
    let text = "date_time_utc,client_ip,server_hostname,source,event_id,message_id,network_message_id,recipient_address,recipient_status,total_bytes,message_subject,sender_address,custom_data\r\n\
        2026-03-02T09:00:00.123Z,198.51.100.7,AM0PR01MB1234,SMTP,RECEIVE,<d@f.example>,n-3,u@contoso.com,,9000,\"Straße, zwei\",x@f.example,S:FromEntity=Internet\r\n";
    for bom in [true, false] {
        let (recs, report) = collect(
            "report.csv",
            &utf16le(text, bom),
            &mut ReadOptions::default(),
        );
        assert_eq!(report.files[0].format, LogFormat::DetailedReport);
        assert_eq!(report.files[0].encoding, "UTF-16LE");
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].subject.as_deref(), Some("Straße, zwei"));
        assert_eq!(recs[0].event, Some(EventId::Receive));
        assert_eq!(recs[0].from_entity.as_deref(), Some("Internet"));
        assert_eq!(recs[0].timestamp.to_string(), "2026-03-02T09:00:00.123Z");
    }
}

#[test]
fn several_servers_in_nested_folders() {
    let dir = tempfile::tempdir().unwrap();
    for (i, srv) in ["EX02", "EX01"].iter().enumerate() {
        let sub = dir.path().join(srv).join("MessageTracking");
        std::fs::create_dir_all(&sub).unwrap();
        let text = header(
            "15.01.2375.007",
            "Log-type",
            "date-time,server-hostname,event-id",
        ) + &format!(
            "2026-03-02T1{i}:00:00.000Z,{srv},RECEIVE\r\n2026-03-02T09:00:00.000Z,{srv},SEND\r\n"
        );
        std::fs::write(sub.join("MSGTRK2026030209-1.LOG"), &text).unwrap();
        std::fs::write(sub.join("MSGTRKMD2026030209-1.LOG"), &text).unwrap();
    }
    let mut n = 0;
    let report = read_inputs(
        &[dir.path().to_owned()],
        &mut ReadOptions::default(),
        &mut |_| {
            n += 1;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(n, 8);
    assert_eq!(report.files.len(), 4);
    let listed = super::read::input_files(&[dir.path().to_owned()]).unwrap();
    assert_eq!(listed.iter().map(|(_, n)| n).sum::<u64>(), report.bytes);
    assert!(
        listed
            .iter()
            .map(|(p, _)| p)
            .eq(report.files.iter().map(|f| &f.path))
    );
    assert_eq!(report.servers, ["EX01", "EX02"]);
    // Path order: EX01's folder first.
    assert!(
        report.files[0]
            .path
            .ends_with("EX01/MessageTracking/MSGTRK2026030209-1.LOG")
    );
}

#[test]
fn bad_inputs_each_get_one_clear_error() {
    let e = read_err("notes.txt", b"Dear team,\nplease find attached\n");
    let m = e.to_string();
    assert!(m.starts_with("notes.txt:1: not a log"), "{m}");
    assert!(m.contains("found `Dear team,`"), "{m}");

    let e = read_err("nofields.log", b"#Software: Microsoft Exchange Server\r\n#Version: 15.01.2375.007\r\n2026-03-02T10:00:00.000Z,EX01\r\n");
    assert_eq!(
        e.to_string(),
        "nofields.log:3: a message tracking log without a #Fields: line before its first record; the file may be cut at the top"
    );
    let e = read_err("script.sh", b"#!/bin/sh\necho hi\n");
    assert!(e.to_string().starts_with("script.sh:1: not a log"), "{e}");

    let e = read_err(
        "nots.log",
        (header("15.01.2375.007", "Log-type", "server-hostname,event-id") + "EX01,SEND\r\n")
            .as_bytes(),
    );
    assert!(e.to_string().contains("no `date-time` column"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let run =
        |p: PathBuf| read_inputs(&[p], &mut ReadOptions::default(), &mut |_| Ok(())).unwrap_err();
    let e = run(empty.clone());
    assert!(matches!(e, CalibrateError::EmptyFolder { .. }), "{e}");
    assert!(e.to_string().contains("the folder holds no files"), "{e}");
    let e = run(dir.path().join("missing"));
    assert!(e.to_string().contains("no such file or folder"), "{e}");
    let named = dir.path().join("MSGTRK2026030209-1.LOG");
    std::fs::create_dir(&named).unwrap();
    let e = run(named);
    assert!(e.to_string().contains("is a folder, not a file"), "{e}");

    // Mixed formats: a tracking log and a PowerShell export of the same side.
    let mixed = dir.path().join("mixed");
    std::fs::create_dir(&mixed).unwrap();
    std::fs::write(
        mixed.join("a.log"),
        header("15.01.2375.007", "Log-type", F30) + &lines30(),
    )
    .unwrap();
    std::fs::write(
        mixed.join("b.csv"),
        format!("{PS_HEADER}\r\n{}", ps_row("2026-03-02T09:00:00Z", "x@y")),
    )
    .unwrap();
    let e = run(mixed.clone());
    let m = e.to_string();
    // Whichever of the two is read first is named as the first.
    assert!(
        m.contains("b.csv:1: is a Get-MessageTrackingLog export, but")
            && m.contains("a.log is a message tracking log")
            || m.contains("a.log:5: is a message tracking log, but")
                && m.contains("b.csv is a Get-MessageTrackingLog export"),
        "{m}"
    );
    assert!(
        m.contains("would count its messages twice")
            && m.contains("on-premises logs and cloud traces can be combined"),
        "{m}"
    );
    assert_eq!(e.exit_code(), 2);
    // A tracking log with a message trace (the other side) is fine.
    std::fs::remove_file(mixed.join("b.csv")).unwrap();
    std::fs::write(mixed.join("c.csv"), "Received,SenderAddress,RecipientAddress,Status\r\n2026-03-02T09:00:00Z,a@b,c@d,Delivered\r\n").unwrap();
    let mut n = 0;
    read_inputs(&[mixed], &mut ReadOptions::default(), &mut |_| {
        n += 1;
        Ok(())
    })
    .unwrap();
    assert_eq!(n, 3);
}

#[test]
fn sink_errors_stop_the_read() {
    let text = header("15.01.2375.007", "Log-type", F30) + &lines30();
    let e = read_bytes(
        Path::new("x.log"),
        text.as_bytes(),
        &mut ReadOptions::default(),
        &mut |r| {
            Err(CalibrateError::Consumer {
                path: "x.log".into(),
                line: r.origin.line,
                message: "stop".into(),
            })
        },
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "x.log:6: stop");
}

#[test]
fn unknown_time_zone_and_bad_date_format() {
    assert_eq!(
        timezone("Mars/Olympus").unwrap_err().to_string(),
        "unknown time zone `Mars/Olympus`; give an IANA name such as Europe/Berlin or UTC"
    );
    let mut opts = ReadOptions {
        date_format: Some("%H:%M".into()),
        ..ReadOptions::default()
    };
    let e = read_bytes(Path::new("x.csv"), b"", &mut opts, &mut |_| Ok(())).unwrap_err();
    assert!(e.to_string().contains("has no year"), "{e}");
}

#[test]
fn progress_reports_bytes_read() {
    let text = header("15.01.2375.007", "Log-type", F30) + &lines30();
    let mut seen = Vec::new();
    {
        let mut opts = ReadOptions {
            progress: Some(Box::new(|b| seen.push(b))),
            ..ReadOptions::default()
        };
        collect("p.log", text.as_bytes(), &mut opts);
    }
    assert_eq!(seen.last(), Some(&(text.len() as u64)));
}

#[test]
fn mangled_logs_never_panic() {
    use rand::{Rng, SeedableRng};
    // Random byte edits of valid files of every format: each read ends in records or in one
    // error, never a panic (helper 12's fuzz target explores further).
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let tracking = header("15.01.2375.007", "Log-type", F30) + &lines30() + &lines30();
    let ps = format!(
        "{PS_HEADER}\r\n{}",
        ps_row("3/2/2026 9:00:05 AM", "a@b;c@d")
    );
    let utf16 = utf16le(
        "date_time_utc,event_id,message_id\r\n2026-03-02T09:00:00Z,SEND,<x>\r\n",
        true,
    );
    for base in [tracking.as_bytes(), ps.as_bytes(), &utf16[..]] {
        for _ in 0..300 {
            let mut b = base.to_vec();
            for _ in 0..rng.random_range(1..8) {
                let i = rng.random_range(0..b.len());
                match rng.random_range(0..3) {
                    0 => b[i] = rng.random(),
                    1 => b.truncate(i),
                    _ => b.insert(
                        i,
                        [b'"', b',', b'\n', b'\r', b'|', b'(', b';', 0xFF][rng.random_range(0..8)],
                    ),
                }
                if b.is_empty() {
                    break;
                }
            }
            let mut opts = ReadOptions {
                bad_line_threshold: 1.0,
                ..ReadOptions::default()
            };
            let _ = read_bytes(Path::new("m.log"), &b, &mut opts, &mut |_| Ok(()));
        }
    }
}

#[test]
fn a_warning_for_many_files_is_given_once() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..3 {
        let mut bytes =
            header("15.01.2375.007", "Log-type", "date-time,message-subject").into_bytes();
        bytes.extend_from_slice(b"2026-03-02T10:00:00.000Z,M\xfcnchen\r\n");
        std::fs::write(dir.path().join(format!("MSGTRK202603020{i}-1.LOG")), bytes).unwrap();
    }
    let report = read_inputs(
        &[dir.path().to_owned()],
        &mut ReadOptions::default(),
        &mut |_| Ok(()),
    )
    .unwrap();
    assert_eq!(report.warnings.len(), 1, "{:?}", report.warnings);
    assert!(
        report.warnings[0].contains("MSGTRK2026030200-1.LOG: the file is not UTF-8"),
        "{:?}",
        report.warnings
    );
    assert!(
        report.warnings[0].ends_with("(and 2 other files)"),
        "{:?}",
        report.warnings
    );
    assert_eq!(report.formats(), [LogFormat::TrackingLog]);
}
