//! Writes the histograms behind the `.hgrm` golden files (`tests/hgrm/histograms.txt`): every
//! flow's merged latency histogram of the bundled hybrid scenario and the outage study's
//! inbound flow, plus small synthetic ones that pin
//! the edge cases (an exact 60% step, a deep tail, a single value, an empty histogram).
//!
//! ```sh
//! cargo run --release --example hgrm_inputs > tests/hgrm/histograms.txt
//! bash tests/hgrm/make-goldens.sh    # needs Java and Debian's libhdrhistogram-java
//! ```
//!
//! Format: `histogram <name> <lowest> <highest> <significant digits>`, then `<value> <count>`
//! lines (values in microseconds, one per recorded bucket), then `end`.

use std::fmt::Write;
use std::path::Path;

use hdrhistogram::Histogram;
use mailflow::runner::{self, RunOptions};
use mailflow::scenario::{self, LoadOptions};
use mailflow::stats::{HIST_HIGH_US, HIST_SIGFIG, new_histogram};

fn dump(out: &mut String, name: &str, h: &Histogram<u64>) {
    let _ = writeln!(out, "histogram {name} 1 {HIST_HIGH_US} {HIST_SIGFIG}");
    for b in h.iter_recorded() {
        let _ = writeln!(out, "{} {}", b.value_iterated_to(), b.count_at_value());
    }
    out.push_str("end\n");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = String::new();
    let mut ten = new_histogram();
    for ms in 1..=10u64 {
        ten.record(ms * 1000)?;
    }
    dump(&mut out, "synthetic.one-to-ten-ms", &ten);
    let mut one = new_histogram();
    one.record(1234)?;
    dump(&mut out, "synthetic.single-value", &one);
    dump(&mut out, "synthetic.empty", &new_histogram());
    // Ten million copies in one bucket and a few far above: the iteration walks every level
    // up to 99.99999% at one value, down to the half-distance where 0–1 accumulation prints
    // `1/(1-p)` as 3495253.34 and Java 3495253.33.
    let mut deep = new_histogram();
    deep.record_n(1000, 10_000_000)?;
    for v in [2_000u64, 30_000, 4_000_000, 250_000_000] {
        deep.record(v)?;
    }
    dump(&mut out, "synthetic.deep-tail", &deep);
    for file in [
        "scenarios/hybrid-routing.toml",
        "scenarios/connector-outage.toml",
    ] {
        let scn = scenario::load(Path::new(file), LoadOptions::default())?;
        let study = runner::run(&scn, RunOptions::default(), &|| {})?;
        for v in &study.variants {
            for (flow, f) in &v.flows {
                // The outage study's widest flow only: its tails span five decades.
                if scn.name == "connector-outage" && flow != "inbound_to_onprem" {
                    continue;
                }
                dump(
                    &mut out,
                    &format!("{}.{}.{}", scn.name, v.name, flow),
                    &f.merged,
                );
            }
        }
    }
    print!("{out}");
    Ok(())
}
