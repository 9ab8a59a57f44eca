//! Writes realistic Exchange logs from mailflow's known test model (`calibrate::synth`):
//! message tracking logs per server, optionally a Get-MessageTrackingLog export and an
//! Exchange Online message trace.
//!
//!     cargo run --release --example synth_logs -- OUT_DIR [--days N] [--seed S] [--scale X]
//!         [--one-file] [--powershell ZONE] [--no-trace] [--exchange2013] [--bytes N]
//!
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
            "--exchange2013" => model.tracking = TrackingVersion::Exchange2013,
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
    let Some(dir) = dir else {
        eprintln!(
            "usage: synth_logs OUT_DIR [--days N] [--seed S] [--scale X] [--one-file] [--powershell ZONE] [--no-trace] [--exchange2013] [--bytes N]"
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
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}: {e}", dir.display());
            ExitCode::from(1)
        }
    }
}
