//! Reads message tracking logs (or any format `calibrate` reads) and prints the parse
//! throughput: the measurement behind results/performance.md "Log parsing".
//!
//!     cargo run --release --example parse_logs -- PATH...
//!
//! Each record is built in full (every field decoded, the latency breakdown and custom-data
//! parsed) and handed to a sink that only counts it, on one thread.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use mailflow::calibrate::{ReadOptions, read_inputs};

fn main() -> ExitCode {
    let paths: Vec<PathBuf> = std::env::args().skip(1).map(PathBuf::from).collect();
    if paths.is_empty() {
        eprintln!("usage: parse_logs PATH...");
        return ExitCode::from(2);
    }
    let mut opts = ReadOptions::default();
    let mut with_latency = 0u64;
    let start = Instant::now();
    let report = match read_inputs(&paths, &mut opts, &mut |r| {
        with_latency += u64::from(r.latency.is_some());
        Ok(())
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(e.exit_code());
        }
    };
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{} files, {} bytes, {} records ({} with latency components), {} bad lines in {:.2} s: {:.0} MB/s",
        report.files.len(),
        report.bytes,
        report.records,
        with_latency,
        report.bad_lines,
        secs,
        report.bytes as f64 / 1e6 / secs
    );
    ExitCode::SUCCESS
}
