//! Writes realistic Exchange logs from mailflow's known test model (`calibrate::synth`):
//! message tracking logs per server, optionally a Get-MessageTrackingLog export and an
//! Exchange Online message trace.
//!
//!     cargo run --release --example synth_logs -- OUT_DIR [--days N] [--seed S] [--scale X]
//!         [--one-file] [--powershell ZONE] [--no-trace] [--exchange2013 | --exchange2010]
//!         [--detailed-report] [--bytes N]
//!         [--seed-topology] [--mx eop|onprem] [--cmt on|off]
//!
//! `--seed-topology` writes the logs of the base scenario's organization
//! (`scenarios/hybrid-routing.toml`: an Exchange 2013 hybrid server EX01 and an Exchange 2007
//! Hub HUB01, each message through the servers the scenario's routes give it) instead of two
//! Exchange 2016 servers that every on-premises message passes; `--mx` and `--cmt` set the
//! routing the logs are written under (default: MX at EOP, CMT off).
//! `--exchange2013` writes Exchange 2013's 27-field tracking logs instead of 2016's 30;
//! `--exchange2010` Exchange 2010's 26 fields (`#Version: 14.03`, no network-message-id,
//! submissions and deliveries in the transport log, no MSGTRKMS/MSGTRKMD files).
//! `--detailed-report` also writes Exchange Online's detailed (extended) message trace report
//! of the same messages, `detailed/DetailedReport_001.csv`: UTF-16 LE with a BOM, snake_case
//! columns (`date_time_utc`, `event_id`, …), one row per event Exchange Online logged.
//! `--scale` multiplies every flow's rate; `--one-file` writes one tracking log per server and
//! kind instead of one per hour; `--bytes` stops after about that many bytes (e.g. 1000000000).

use std::path::PathBuf;
use std::process::ExitCode;

use mailflow::calibrate::synth::{self, PowerShellStyle, SynthModel, SynthOutput, TrackingVersion};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut dir: Option<PathBuf> = None;
    let mut model = SynthModel::example(2026);
    let mut out = SynthOutput::default();
    let mut scale = 1.0;
    // Applied after every flag is read, so that the flags' order does not matter.
    let (mut seed_topology, mut tracking) = (false, None);
    while let Some(a) = args.next() {
        let mut val = |name: &str| {
            args.next()
                .unwrap_or_else(|| panic!("{name} needs a value"))
        };
        match a.as_str() {
            "--days" => model.days = val("--days").parse().expect("--days: a whole number"),
            "--seed" => model.seed = val("--seed").parse().expect("--seed: a whole number"),
            "--scale" => scale = val("--scale").parse().expect("--scale: a number"),
            "--bytes" => {
                out.stop_after_bytes =
                    Some(val("--bytes").parse().expect("--bytes: a whole number"))
            }
            "--one-file" => out.hourly_files = false,
            "--no-trace" => out.trace_rows_per_file = None,
            "--detailed-report" => out.detailed_report = true,
            "--exchange2013" => tracking = Some(TrackingVersion::Exchange2013),
            "--exchange2010" => tracking = Some(TrackingVersion::Exchange2010),
            "--seed-topology" => seed_topology = true,
            "--mx" => {
                model.mx = match val("--mx").as_str() {
                    "eop" => synth::Mx::Eop,
                    "onprem" => synth::Mx::OnPrem,
                    other => {
                        eprintln!("--mx `{other}`: expected eop or onprem");
                        return ExitCode::from(2);
                    }
                }
            }
            "--cmt" => {
                model.centralized = match val("--cmt").as_str() {
                    "on" => true,
                    "off" => false,
                    other => {
                        eprintln!("--cmt `{other}`: expected on or off");
                        return ExitCode::from(2);
                    }
                }
            }
            "--powershell" => {
                let zone = val("--powershell");
                out.powershell = Some(PowerShellStyle {
                    timezone: jiff::tz::TimeZone::get(&zone)
                        .expect("--powershell: an IANA time zone"),
                    join_recipients: true,
                })
            }
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            _ => {
                eprintln!("unknown argument `{a}`");
                return ExitCode::from(2);
            }
        }
    }
    if seed_topology {
        let m = SynthModel::seed_example(model.seed);
        model.servers = m.servers;
        model.tracking = m.tracking;
        model.hub_workers = m.hub_workers;
        model.hub_ms = m.hub_ms;
        model.seed_topology = m.seed_topology;
    }
    if let Some(t) = tracking {
        model.tracking = t;
    }
    let Some(dir) = dir else {
        eprintln!(
            "usage: synth_logs OUT_DIR [--days N] [--seed S] [--scale X] [--one-file] [--powershell ZONE] [--no-trace] [--exchange2013 | --exchange2010] [--detailed-report] [--bytes N] [--seed-topology] [--mx eop|onprem] [--cmt on|off]"
        );
        return ExitCode::from(2);
    };
    for r in model.peak_per_s.values_mut() {
        *r *= scale;
    }
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("{}: {e}", dir.display());
        return ExitCode::from(2);
    }
    match synth::generate(&model, &out, &dir) {
        Ok(t) => {
            println!(
                "wrote {} files, {} bytes, {} hours: {} messages through the Hubs (mean wait {:.3} s, mean processing {:.3} s), {} spam, {} probes, {} DSNs",
                t.files.len(),
                t.bytes,
                t.hours,
                t.hub_messages,
                t.hub_mean_wait_s,
                t.hub_mean_processing_s,
                t.spam,
                t.probes,
                t.dsns
            );
            for (flow, n) in &t.messages {
                println!("  {:<22} {n} messages", flow.name());
            }
            for (hop, h) in &t.per_hop {
                println!(
                    "  {hop:<22} {} visits, mean wait {:.4} s, mean processing {:.4} s",
                    h.visits, h.mean_wait_s, h.mean_processing_s
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            ExitCode::from(1)
        }
    }
}
