//! `mailflow calibrate` as one library call: read the logs (streaming, through
//! [`super::read_inputs`]), classify every record as it arrives, tally, estimate, and build
//! the output files in memory — nothing is written here, so a failure anywhere leaves `--out`
//! untouched (main.rs publishes the set through [`crate::report::output`]).
//!
//! Must not: print, or write files.

use std::path::{Path, PathBuf};

use super::classify::{Classifier, ClassifyConfig, ClassifyReport, ConnectorRole, Pattern};
use super::record::{CalibrateError, ProgressFn, ReadOptions, ReadReport, Sides};
use super::scenario_out::{
    self, CalibrationRow, ObservedRow, OutputError, Plan, Routing, SkippedRow,
};
use super::tally::{Calibration, Tally};
use crate::hybrid::{Hop, Side, Variant};
use crate::scenario::{self, Scenario, ScenarioError};

/// Why calibration stopped. Every variant is bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Read(#[from] CalibrateError),
    #[error(transparent)]
    Base(#[from] ScenarioError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(
        "--server `{found}`: expected NAME=HOP with HOP an on-premises hop of the base scenario ({accepted}), e.g. --server 'EX*=cas2013'"
    )]
    BadServer { found: String, accepted: String },
    #[error(
        "{file}: calibrate.servers.\"{name}\" = \"{hop}\" is not an on-premises hop of the base scenario; accepted: {accepted}"
    )]
    BadServerTable {
        file: String,
        name: String,
        hop: String,
        accepted: String,
    },
    #[error(
        "{file}: calibrate.connectors.\"{name}\" = \"{role}\" is not a connector role; accepted: {accepted}"
    )]
    BadConnector {
        file: String,
        name: String,
        role: String,
        accepted: String,
    },
    #[error("--bad-lines `{found}`: expected a share of lines such as 1% or 0.01 (from 0 to 100%)")]
    BadShare { found: String },
    #[error("--replications {0}: the back-test needs at least 2 replications for its intervals")]
    TooFewReplications(u32),
    #[error(
        "the logs' messages span {days} days; calibrate reads at most {max_days} days of logs (observed.csv has a row for each hour, and the back-test simulates the whole period). A date far from the others is likely wrong: the earliest record is {earliest}, the latest {latest}; correct or remove it, or give a shorter period's files"
    )]
    PeriodTooLong {
        days: u64,
        max_days: u64,
        earliest: String,
        latest: String,
    },
    #[error(
        "no message in the logs could be classified ({records} records read, {skipped} messages skipped: see the reasons with --accepted-domain and --server); nothing was written"
    )]
    NoMessages { records: u64, skipped: u64 },
}

impl PipelineError {
    pub fn exit_code(&self) -> u8 {
        2
    }
}

/// The longest logged period calibration accepts, in days (a year and a day: tracking logs
/// keep 30 days by default and message traces 90).
pub const MAX_PERIOD_DAYS: u64 = 366;

/// Parses `--bad-lines 1%` (or `0.01`).
pub fn parse_share(s: &str) -> Result<f64, PipelineError> {
    let t = s.trim();
    let v = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|x| x / 100.0),
        None => t.parse::<f64>(),
    };
    match v {
        Ok(x) if (0.0..=1.0).contains(&x) => Ok(x),
        _ => Err(PipelineError::BadShare {
            found: s.to_string(),
        }),
    }
}

fn onprem_hops() -> Vec<&'static str> {
    Hop::REQUIRED
        .iter()
        .chain(Hop::OPTIONAL.iter())
        .filter(|h| h.side() == Side::Onprem)
        .map(|h| h.name())
        .collect()
}

fn onprem_hop(h: &str) -> bool {
    Hop::from_name(h.trim()).is_some_and(|h| h.side() == Side::Onprem)
}

/// Parses one `--server NAME=HOP`.
pub fn parse_server(s: &str) -> Result<(String, String), PipelineError> {
    let bad = || PipelineError::BadServer {
        found: s.to_string(),
        accepted: onprem_hops().join(", "),
    };
    let (n, h) = s.split_once('=').ok_or_else(bad)?;
    if n.trim().is_empty() || !onprem_hop(h) {
        return Err(bad());
    }
    Ok((n.trim().to_string(), h.trim().to_string()))
}

/// What the command line asks for.
pub struct Settings<'a> {
    pub inputs: Vec<PathBuf>,
    pub base: PathBuf,
    pub current: Option<Variant>,
    /// `--server NAME=HOP`, tried before the base's `[calibrate.servers]`.
    pub servers: Vec<(String, String)>,
    pub accepted_domains: Vec<String>,
    pub timezone: Option<String>,
    pub date_format: Option<String>,
    pub bad_lines: f64,
    pub progress: Option<Box<ProgressFn<'a>>>,
}

/// Everything calibration produced, ready to write.
pub struct Calibrated {
    pub read: ReadReport,
    pub classify: ClassifyReport,
    pub cal: Calibration,
    pub routing: Routing,
    /// The sides the logs show (one format each).
    pub sides: Sides,
    pub base: Scenario,
    /// What the logs were, in words ("3 tracking log files, 12.4 MB").
    pub inputs: String,
    pub toml: String,
    /// Things a person should know about the calibrated scenario.
    pub warnings: Vec<String>,
    pub calibration: Vec<CalibrationRow>,
    pub observed: Vec<ObservedRow>,
    pub skipped: Vec<SkippedRow>,
    /// The time zone hours of day are counted in.
    pub timezone: String,
}

/// The files read, per format: "192 message tracking log files and 7 Exchange Online message
/// trace files".
fn files_in_words(read: &ReadReport) -> String {
    let parts: Vec<String> = read
        .formats()
        .into_iter()
        .map(|f| {
            let n = read.files.iter().filter(|x| x.format == f).count();
            format!("{n} {f} file{}", if n == 1 { "" } else { "s" })
        })
        .collect();
    match parts.as_slice() {
        [] => "no files".to_string(),
        _ => parts.join(" and "),
    }
}

/// A record's time, file (its index in the read report) and line.
type RecordAt = (jiff::Timestamp, usize, u64);

/// Reads, classifies and estimates; builds (but does not write) the outputs.
pub fn calibrate(s: Settings<'_>) -> Result<Calibrated, PipelineError> {
    let base_file = scenario::ScenarioFile::read(&s.base)?;
    let base = base_file.build(scenario::LoadOptions::default(), &[])?;
    let raw: scenario::raw::RawScenario =
        toml::from_str(&base_file.text).map_err(|e| OutputError::BaseSyntax {
            file: s.base.display().to_string(),
            message: e.message().to_string(),
        })?;
    let table = raw.calibrate.unwrap_or_default();
    let file = s.base.display().to_string();
    let mut servers: Vec<(Pattern, String)> = s
        .servers
        .iter()
        .map(|(n, h)| (Pattern::new(n), h.clone()))
        .collect();
    for (n, h) in &table.servers {
        if !onprem_hop(h) {
            return Err(PipelineError::BadServerTable {
                file,
                name: n.clone(),
                hop: h.clone(),
                accepted: onprem_hops().join(", "),
            });
        }
        servers.push((Pattern::new(n), h.clone()));
    }
    let mut connectors = Vec::new();
    for (n, r) in &table.connectors {
        let role = ConnectorRole::parse(r).ok_or_else(|| PipelineError::BadConnector {
            file: file.clone(),
            name: n.clone(),
            role: r.clone(),
            accepted: ConnectorRole::ACCEPTED.to_string(),
        })?;
        connectors.push((Pattern::new(n), role));
    }
    let mut domains = s.accepted_domains.clone();
    domains.extend(table.accepted_domains.iter().cloned());
    let tz = match &s.timezone {
        Some(name) => super::read::timezone(name)?,
        None => jiff::tz::TimeZone::UTC,
    };
    if let Some(f) = &s.date_format {
        super::read::check_date_format(f)?;
    }
    let mut opts = ReadOptions {
        timezone: s.timezone.is_some().then(|| tz.clone()),
        date_format: s.date_format.clone(),
        bad_line_threshold: s.bad_lines,
        progress: s.progress,
        ..ReadOptions::default()
    };
    let cfg = ClassifyConfig {
        accepted_domains: domains,
        connectors,
        servers,
        ..ClassifyConfig::default()
    };
    let tally = std::cell::RefCell::new(Tally::new(tz.clone()));
    let mut classifier = Classifier::new(cfg, Box::new(|m| tally.borrow_mut().add(&m)));
    // The earliest and latest record, to name them if the period is too long.
    let mut span: Option<(RecordAt, RecordAt)> = None;
    let read = super::read::read_inputs_bounded(&s.inputs, &mut opts, &mut |r, bound| {
        let at = (r.timestamp, r.origin.file, r.origin.line);
        span = Some(match span {
            None => (at, at),
            Some((lo, hi)) => (
                if at.0 < lo.0 { at } else { lo },
                if at.0 > hi.0 { at } else { hi },
            ),
        });
        classifier.push_bounded(&r, bound);
        Ok(())
    })?;
    let classify = classifier.finish();
    let tally = tally.into_inner();
    if let Some(hours) = tally.period_hours()
        && hours > MAX_PERIOD_DAYS * 24
    {
        let (lo, hi) = span.expect("a classified message has records");
        let place = |(t, f, line): RecordAt| {
            let file = read
                .files
                .get(f)
                .map_or_else(|| "?".to_string(), |x| x.path.display().to_string());
            format!("{file}:{line} ({t})")
        };
        return Err(PipelineError::PeriodTooLong {
            days: hours.div_ceil(24),
            max_days: MAX_PERIOD_DAYS,
            earliest: place(lo),
            latest: place(hi),
        });
    }
    let sides = read.sides();
    let routing = match s.current {
        Some(v) => Routing {
            variant: v,
            how: "given by --current".to_string(),
        },
        None => scenario_out::infer_routing(tally.routing(), sides),
    };
    // Recipients per message from the sources the logs show whole (inbound under MX at EOP
    // shows only messages with on-premises recipients: more recipients, more often seen).
    let whole = |src| {
        scenario_out::visibility(src, routing.variant, sides) == scenario_out::Visibility::Full
    };
    let Some(cal) = tally.finish(&whole) else {
        return Err(PipelineError::NoMessages {
            records: read.records,
            skipped: classify.skipped.values().sum(),
        });
    };
    let inputs = format!(
        "{} ({:.1} MB)",
        files_in_words(&read),
        read.bytes as f64 / 1e6
    );
    let plan = Plan {
        cal: &cal,
        routing: &routing,
        sides,
        base: &base,
        model_sources: scenario_out::model_sources(),
    };
    let (toml, warnings) = scenario_out::calibrated_toml(&base_file.text, &file, &plan, &inputs)?;
    let calibration = scenario_out::calibration_rows(&plan);
    let observed = scenario_out::observed_rows(&plan);
    let skipped = scenario_out::skipped_rows(&read, &classify);
    Ok(Calibrated {
        read,
        classify,
        routing,
        sides,
        base,
        inputs,
        toml,
        warnings,
        calibration,
        observed,
        skipped,
        timezone: s.timezone.unwrap_or_else(|| "UTC".to_string()),
        cal,
    })
}

/// Serializes `rows` as CSV with a header row (a header even when there is no row).
pub fn csv_bytes<T: serde::Serialize>(rows: &[T], header: &[&str]) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .has_headers(!rows.is_empty())
        .from_writer(Vec::new());
    if rows.is_empty() {
        // Serializing nothing writes nothing: give the header by hand.
        w.write_record(header)
            .expect("writing to memory cannot fail");
    }
    for r in rows {
        w.serialize(r).expect("rows of plain fields serialize");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

/// The manifest of a calibration's result set (also what marks `--out` as replaceable).
#[derive(serde::Serialize)]
struct Manifest<'a> {
    command: &'static str,
    program_version: &'static str,
    base_scenario: String,
    inputs: &'a str,
    files_read: Vec<String>,
    records: u64,
    messages: u64,
    period_start_utc: String,
    period_hours: u64,
    timezone: &'a str,
    routing: String,
    routing_how: &'a str,
    accepted_domains: &'a [String],
    accepted_domains_inferred: bool,
    written: Vec<&'a str>,
}

/// The output files, name and bytes, manifest last; `extra` (the back-test's) go before it.
pub fn files(c: &Calibrated, base: &Path, extra: Vec<(String, Vec<u8>)>) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("calibrated.toml".to_string(), c.toml.clone().into_bytes()),
        (
            "calibration.csv".to_string(),
            csv_bytes(
                &c.calibration,
                &[
                    "quantity",
                    "flow_or_hop",
                    "value",
                    "unit",
                    "n",
                    "ci95_lo",
                    "ci95_hi",
                    "method",
                ],
            ),
        ),
        (
            "observed.csv".to_string(),
            csv_bytes(
                &c.observed,
                &[
                    "flow",
                    "statistic",
                    "hour_start_utc",
                    "value",
                    "unit",
                    "n",
                    "ci95_lo",
                    "ci95_hi",
                    "measured_to",
                ],
            ),
        ),
        (
            "skipped.csv".to_string(),
            csv_bytes(&c.skipped, &["what", "reason", "count", "detail"]),
        ),
    ];
    out.extend(extra);
    let names: Vec<String> = out.iter().map(|(n, _)| n.clone()).collect();
    let m = Manifest {
        command: "calibrate",
        program_version: env!("CARGO_PKG_VERSION"),
        base_scenario: base.display().to_string(),
        inputs: &c.inputs,
        files_read: c
            .read
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect(),
        records: c.read.records,
        messages: c.cal.messages,
        period_start_utc: c.cal.period_start.to_string(),
        period_hours: c.cal.period_hours,
        timezone: &c.timezone,
        routing: c.routing.variant.name(),
        routing_how: &c.routing.how,
        accepted_domains: &c.classify.accepted_domains,
        accepted_domains_inferred: c.classify.domains_inferred,
        written: names.iter().map(String::as_str).collect(),
    };
    let json = serde_json::to_vec_pretty(&m).expect("the manifest serializes");
    out.push(("manifest.json".to_string(), json));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_servers_parse() {
        assert_eq!(parse_share("1%").unwrap(), 0.01);
        assert_eq!(parse_share("0.05").unwrap(), 0.05);
        assert!(parse_share("150%").is_err() && parse_share("lots").is_err());
        assert_eq!(
            parse_server("EX*=cas2013").unwrap(),
            ("EX*".to_string(), "cas2013".to_string())
        );
        let e = parse_server("EX01=eop").unwrap_err().to_string();
        assert!(e.contains("cas2013") && e.contains("hub2007"), "{e}");
        assert!(parse_server("EX01").is_err());
    }

    /// Calibrates the files `files` (name, bytes) written into a fresh folder, with
    /// `--accepted-domain contoso.com` and the bundled hybrid base.
    fn calibrate_files(files: &[(&str, &[u8])]) -> Result<Calibrated, PipelineError> {
        let tmp = tempfile::tempdir().unwrap();
        for (name, bytes) in files {
            let p = tmp.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, bytes).unwrap();
        }
        calibrate(Settings {
            inputs: vec![tmp.path().to_path_buf()],
            base: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/hybrid-routing.toml"),
            current: None,
            servers: vec![],
            accepted_domains: vec!["contoso.com".into()],
            timezone: None,
            date_format: None,
            bad_lines: 0.01,
            progress: None,
        })
    }

    const TRACE_HEADER: &str = "\"PSComputerName\",\"RunspaceId\",\"PSShowComputerName\",\"Organization\",\"MessageId\",\"Received\",\"SenderAddress\",\"RecipientAddress\",\"Subject\",\"Status\",\"ToIP\",\"FromIP\",\"Size\",\"MessageTraceId\",\"StartDate\",\"EndDate\",\"Index\"\r\n";

    /// An inbound message trace row received at `received` (`3/2/2026 12:04:16 AM`).
    fn inbound_row(id: &str, received: &str) -> String {
        format!(
            "\"outlook.office365.com\",\"5f2c1d3e-0000-4000-8000-000000000000\",\"False\",\"contoso.onmicrosoft.com\",\"<{id}@mail.fabrikam.example>\",\"{received}\",\"user116@fabrikam187.example\",\"user302@contoso.com\",\"Re: Budget report, week 1\",\"Delivered\",\"192.0.2.10\",\"198.51.100.25\",\"16244\",\"00000002-0000-4000-8000-000000000001\",\"\",\"\",\"2\"\r\n"
        )
    }

    /// Fuzzing (calibration_folder) found a record dated 1013 among 2026's: the period of
    /// about a million years went hour by hour into the tally and observed.csv (20 GB in a
    /// minute). Now one error naming the earliest and latest record.
    #[test]
    fn a_period_longer_than_a_year_is_one_error_naming_the_records() {
        let trace = format!(
            "{TRACE_HEADER}{}{}",
            inbound_row("b26481be82fc27e4ea26dad1", "3/2/2026 12:04:16 AM"),
            inbound_row("a26481be82fc27e4ea26dad1", "3/2/1013 12:04:16 AM"),
        );
        let e = calibrate_files(&[("trace/MessageTrace.csv", trace.as_bytes())])
            .err()
            .expect("a thousand years of logs is refused");
        assert_eq!(e.exit_code(), 2);
        let msg = e.to_string();
        assert!(
            matches!(e, PipelineError::PeriodTooLong { days: 369_992, .. }),
            "{msg}"
        );
        assert!(
            msg.contains("MessageTrace.csv:3 (1013-03-02T00:04:16Z)")
                && msg.contains("MessageTrace.csv:2 (2026-03-02T00:04:16Z)")
                && msg.contains("at most 366 days"),
            "{msg}"
        );
        // Within a year the same rows calibrate.
        let trace = format!(
            "{TRACE_HEADER}{}{}",
            inbound_row("b26481be82fc27e4ea26dad1", "3/2/2026 12:04:16 AM"),
            inbound_row("a26481be82fc27e4ea26dad1", "6/2/2025 12:04:16 AM"),
        );
        let c = calibrate_files(&[("trace/MessageTrace.csv", trace.as_bytes())]).unwrap();
        assert_eq!(c.cal.period_hours, 273 * 24 + 1);
    }

    /// Fuzzing (calibration_folder's seed: both sides' logs, with no inbound mail) found
    /// every source's rate calibrated, so the mailbox profile was removed, and with it the
    /// only source of the inbound recipients' on-premises share: calibrated.toml did not
    /// load ("please report this"). The base's share of on-premises mailboxes is kept.
    #[test]
    fn without_inbound_recipients_the_base_share_of_mailboxes_is_kept() {
        let tracking = "#Fields: date-time,client-ip,client-hostname,server-ip,server-hostname,source-context,connector-id,source,event-id,internal-message-id,message-id,network-message-id,recipient-address,recipient-status,total-bytes,recipient-count,related-recipient-address,reference,message-subject,sender-address,return-path,message-info,directionality,tenant-id,original-client-ip,original-server-ip,custom-data";
        let trace = format!(
            "{TRACE_HEADER}\"outlook.office365.com\",\"5f2c1d3e-0000-4000-8000-000000000000\",\"False\",\"contoso.onmicrosoft.com\",\"<4f214cbe74260b6087b84b59@AM0PR04MB1257.eurprd02.prod.outlook.com>\",\"3/2/2026 9:00:30 AM\",\"user2594@contoso.com\",\"user11237@contoso.com\",\"Re: Ops report, week 1\",\"Delivered\",\"192.0.2.10\",\"192.0.2.10\",\"153014\",\"000004e9-0000-4000-8000-000000000bf2\",\"\",\"\",\"1489\""
        );
        let c = calibrate_files(&[
            ("EX01/MSGTRK2026030209-1.LOG", tracking.as_bytes()),
            ("trace/MessageTrace.csv", trace.as_bytes()),
        ])
        .unwrap_or_else(|e| panic!("{e}"));
        // hybrid-routing.toml: mailboxes = { onprem = 12000, cloud = 18000 }.
        assert!(
            c.toml.contains(
                "# kept from the base scenario: these logs have no inbound recipients to split\nonprem_recipient_share = 0.4\n"
            ),
            "{}",
            c.toml
        );
        assert!(!c.toml.contains("\nmailboxes"), "{}", c.toml);
    }

    #[test]
    fn empty_csv_still_has_its_header() {
        let rows: Vec<SkippedRow> = Vec::new();
        let b = csv_bytes(&rows, &["what", "reason", "count", "detail"]);
        assert_eq!(String::from_utf8(b).unwrap(), "what,reason,count,detail\n");
    }
}
