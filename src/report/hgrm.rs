//! HdrHistogram's percentile-distribution format (`.hgrm`), as Java's
//! `outputPercentileDistribution` prints it and HdrHistogram's plotter reads it.
//!
//! The Rust crate has no printer for it, so this one follows the Java source: a header, one row
//! per percentile step from `iter_quantiles(ticks)`, the 100% row without its `1/(1-p)` column,
//! then the three `#[…]` footer lines.

use std::fmt::Write;

use hdrhistogram::Histogram;

/// Formats `h` with values divided by `scale` (e.g. 1000 for microseconds → milliseconds),
/// `ticks` percentile steps per half-distance (5 is the usual setting).
pub fn format(h: &Histogram<u64>, scale: f64, ticks: u32) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let mut total = 0u64;
    if !h.is_empty() {
        for v in h.iter_quantiles(ticks) {
            total += v.count_since_last_iteration();
            let value = v.value_iterated_to() as f64 / scale;
            let q = v.quantile_iterated_to();
            if q < 1.0 {
                let _ = writeln!(
                    out,
                    "{value:12.3} {q:2.12} {total:10} {:14.2}",
                    1.0 / (1.0 - q)
                );
            } else {
                let _ = writeln!(out, "{value:12.3} {q:2.12} {total:10}");
            }
        }
    }
    let (mean, sd, max) = if h.is_empty() {
        (0.0, 0.0, 0.0)
    } else {
        (h.mean() / scale, h.stdev() / scale, h.max() as f64 / scale)
    };
    let _ = writeln!(out, "#[Mean    = {mean:12.3}, StdDeviation   = {sd:12.3}]");
    let _ = writeln!(
        out,
        "#[Max     = {max:12.3}, Total count    = {:12}]",
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:12}, SubBuckets     = {:12}]",
        h.buckets(),
        sub_buckets(h.sigfig())
    );
    out
}

/// Sub-buckets per bucket: the power of two covering 2 × 10^sigfig (HdrHistogram's layout).
fn sub_buckets(sigfig: u8) -> u64 {
    (2 * 10u64.pow(u32::from(sigfig))).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pinned against HdrHistogram's layout and Java's row format: 1..=10 ms recorded once
    /// each, in microseconds, printed in milliseconds.
    #[test]
    fn format_matches_java_layout() {
        let mut h = crate::stats::new_histogram();
        for ms in 1..=10u64 {
            h.record(ms * 1000).unwrap();
        }
        let s = format(&h, 1000.0, 5);
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(
            lines[0],
            "       Value     Percentile TotalCount 1/(1-Percentile)"
        );
        assert_eq!(lines[1], "");
        assert_eq!(
            lines[2],
            "       1.000 0.000000000000          1           1.00"
        );
        let last_row = lines.iter().rev().find(|l| !l.starts_with('#')).unwrap();
        // Values print as the highest value equivalent to their bucket, as Java does: 10 000 µs
        // sits in a bucket 8 µs wide.
        assert_eq!(*last_row, "      10.007 1.000000000000         10");
        // Mean and deviation use each bucket's median-equivalent value, as Java's do.
        assert!(
            s.contains("#[Mean    =        5.502, StdDeviation   =        2.874]"),
            "{s}"
        );
        assert!(
            s.contains("#[Max     =       10.007, Total count    =           10]"),
            "{s}"
        );
        assert!(s.contains("SubBuckets     =         2048]"));
        // The plotter keeps rows with exactly four fields and no leading '#'.
        let rows = lines
            .iter()
            .filter(|l| !l.starts_with('#') && l.split_whitespace().count() == 4)
            .count();
        assert!(rows >= 10);
    }
}
