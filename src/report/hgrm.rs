//! HdrHistogram's percentile-distribution format (`.hgrm`), byte for byte as Java's
//! `AbstractHistogram.outputPercentileDistribution` prints it and HdrHistogram's plotter reads it.
//!
//! The Rust crate has no printer for it, and its `iter_quantiles` is not Java's iteration: it
//! accumulates quantile steps on a 0–1 scale (the 60% step becomes 0.6000000000000001 and picks
//! another bucket). This module walks the recorded buckets itself, exactly as Java's
//! `PercentileIterator` does: percentile levels on the 0–100 scale, a fixed number of ticks per
//! half-distance to 100% (`ticks × 2^(⌊log2(100 ÷ (100 − level))⌋ + 1)` ticks over the whole
//! range at the current level), and a final row at 100%. Mean and standard deviation sum
//! before dividing, as Java's `getMean` / `getStdDeviation` do (the crate divides per bucket),
//! and numbers are printed the way `java.util.Formatter`'s `%f` does (shortest round-trip
//! digits, then rounding half up), not Rust's exact-binary rounding.
//!
//! The goldens under `tests/hgrm/` were written by the Java library from the same histograms
//! (`tests/hgrm/HgrmGolden.java`); `tests::java_goldens_match_byte_for_byte` compares.

use std::fmt::Write;

use hdrhistogram::Histogram;

/// One row of the percentile distribution: the value (highest equivalent of its bucket), the
/// percentile level iterated to (0–100), and the count at or below the value.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Step {
    value: u64,
    percentile: f64,
    total: u64,
}

/// A recorded (non-empty) bucket, read once from the histogram for the three walks a file
/// needs (the percentile rows, the mean, the standard deviation): the crate's iterator visits
/// every bucket up to the largest value, so walking it three times was most of a file's cost.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// The highest value equivalent to the bucket (what Java's iterator reports).
    value: u64,
    count: u64,
    /// The bucket's median equivalent (what Java's `getMean` sums).
    median: u64,
}

fn recorded_buckets(h: &Histogram<u64>) -> Vec<Bucket> {
    h.iter_recorded()
        .map(|b| Bucket {
            value: b.value_iterated_to(),
            count: b.count_at_value(),
            median: h.median_equivalent(b.value_iterated_to()),
        })
        .collect()
}

/// The rows Java's `PercentileIterator` yields, with `ticks` per half-distance, over the
/// recorded buckets of a histogram of `n` values.
fn steps_of(buckets: &[Bucket], n: u64, ticks: u32) -> Vec<Step> {
    let mut steps = Vec::new();
    if n == 0 {
        return steps;
    }
    let mut level = 0.0f64;
    let mut total = 0u64;
    for b in buckets {
        total += b.count;
        let value = b.value;
        // Java's `reachedIterationLevel`, re-checked at the same bucket after each step.
        while (100.0 * total as f64) / n as f64 >= level {
            steps.push(Step {
                value,
                percentile: level,
                total,
            });
            level = next_level(level, ticks);
            // `hasNext`: once the last recorded bucket is counted, only the 100% row is left.
            if total >= n {
                break;
            }
        }
        if total >= n {
            steps.push(Step {
                value,
                percentile: 100.0,
                total,
            });
            break;
        }
    }
    steps
}

/// Java's `PercentileIterator.incrementIterationLevel`, operation for operation (the `(long)`
/// casts truncate toward zero and saturate, as Rust's `as i64` does).
fn next_level(level: f64, ticks: u32) -> f64 {
    let halvings = ((100.0 / (100.0 - level)).ln() / 2f64.ln()) as i64;
    let pow = 2f64.powf((halvings + 1) as f64) as i64;
    let reporting_ticks = i64::from(ticks).wrapping_mul(pow);
    level + 100.0 / reporting_ticks as f64
}

/// Java's `getMean` over the recorded buckets of a histogram of `n` values: the sum of
/// median-equivalent value × count, then one division.
fn java_mean(buckets: &[Bucket], n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let mut sum = 0.0f64;
    for b in buckets {
        sum += b.median as f64 * b.count as f64;
    }
    sum / n as f64
}

/// Java's `getStdDeviation`, given [`java_mean`]'s `mean` (computed once for both lines).
fn java_stdev(buckets: &[Bucket], n: u64, mean: f64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    let mut total = 0.0f64;
    for b in buckets {
        let d = b.median as f64 - mean;
        total += (d * d) * b.count as f64;
    }
    (total / n as f64).sqrt()
}

/// `x` with `prec` decimals as `java.util.Formatter`'s `%.<prec>f` writes it: the shortest
/// decimal that reads back as `x`, rounded half up at the last kept digit.
pub fn java_fixed(x: f64, prec: usize) -> String {
    if x.is_nan() {
        return "NaN".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    // Shortest round-trip digits and exponent: "d.ddde±x".
    let sci = format!("{:e}", x.abs());
    let (mant, exp) = sci.split_once('e').expect("{:e} has an exponent");
    let exp: i64 = exp.parse().expect("{:e} exponent is an integer");
    let mut digits: Vec<u8> = mant
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|d| d - b'0')
        .collect();
    // Position of the decimal point: `point` digits stand before it.
    let mut point = exp + 1;
    // Keep `point + prec` digits, rounding half up on the first dropped digit.
    let keep = point + prec as i64;
    if keep < 0 {
        digits = vec![0];
        point = 1;
    } else {
        let keep = keep as usize;
        if digits.len() > keep {
            let round_up = digits[keep] >= 5;
            digits.truncate(keep);
            if round_up {
                let mut i = keep;
                loop {
                    if i == 0 {
                        digits.insert(0, 1);
                        point += 1;
                        break;
                    }
                    i -= 1;
                    if digits[i] == 9 {
                        digits[i] = 0;
                    } else {
                        digits[i] += 1;
                        break;
                    }
                }
            }
        }
    }
    let mut out = String::new();
    if x.is_sign_negative() && digits.iter().any(|&d| d != 0) {
        out.push('-');
    }
    let digit = |i: i64| -> char {
        if i >= 0 && (i as usize) < digits.len() {
            char::from(b'0' + digits[i as usize])
        } else {
            '0'
        }
    };
    if point <= 0 {
        out.push('0');
    } else {
        for i in 0..point {
            out.push(digit(i));
        }
    }
    if prec > 0 {
        out.push('.');
        for i in 0..prec as i64 {
            out.push(digit(point + i));
        }
    }
    out
}

/// `java_fixed` right-aligned in `width` columns (`%<width>.<prec>f`).
fn jf(x: f64, width: usize, prec: usize) -> String {
    format!("{:>width$}", java_fixed(x, prec))
}

/// Formats `h` with values divided by `scale` (e.g. 1000 for microseconds → milliseconds),
/// `ticks` percentile steps per half-distance (5 is the usual setting), as Java prints it with
/// `outputPercentileDistribution(out, ticks, scale)`: values with as many decimals as the
/// histogram has significant digits.
pub fn format(h: &Histogram<u64>, scale: f64, ticks: u32) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    let d = usize::from(h.sigfig());
    let buckets = recorded_buckets(h);
    let n = h.len();
    for s in steps_of(&buckets, n, ticks) {
        let value = jf(s.value as f64 / scale, 12, d);
        let q = s.percentile / 100.0;
        let p = jf(q, 2, 12);
        if s.percentile != 100.0 {
            let _ = writeln!(
                out,
                "{value} {p} {:>10} {}",
                s.total,
                jf(1.0 / (1.0 - q), 14, 2)
            );
        } else {
            let _ = writeln!(out, "{value} {p} {:>10}", s.total);
        }
    }
    let max = if h.is_empty() { 0 } else { h.max() };
    let mean = java_mean(&buckets, n);
    let _ = writeln!(
        out,
        "#[Mean    = {}, StdDeviation   = {}]",
        jf(mean / scale, 12, d),
        jf(java_stdev(&buckets, n, mean) / scale, 12, d)
    );
    let _ = writeln!(
        out,
        "#[Max     = {}, Total count    = {:>12}]",
        jf(max as f64 / scale, 12, d),
        h.len()
    );
    let _ = writeln!(
        out,
        "#[Buckets = {:>12}, SubBuckets     = {:>12}]",
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
        // The 60% level is exactly 60 on Java's 0–100 scale, so the sixth value is its row
        // (0–1 accumulation reaches 0.6000000000000001 and moves to the seventh).
        assert!(
            s.contains("       6.003 0.600000000000          6           2.50"),
            "{s}"
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

    #[test]
    fn java_fixed_rounds_shortest_digits_half_up() {
        // 0.125 is exact in binary: Rust's `{:.2}` gives 0.12 (ties to even), Java 0.13.
        assert_eq!(java_fixed(0.125, 2), "0.13");
        // 0.15 is 0.1499999…: Java rounds its shortest digits "0.15" up.
        assert_eq!(java_fixed(0.15, 1), "0.2");
        assert_eq!(java_fixed(9.9996, 3), "10.000");
        assert_eq!(java_fixed(0.0, 3), "0.000");
        assert_eq!(java_fixed(0.0004, 3), "0.000");
        assert_eq!(java_fixed(0.0005, 3), "0.001");
        assert_eq!(java_fixed(1e-20, 2), "0.00");
        assert_eq!(java_fixed(123456789.0, 0), "123456789");
        assert_eq!(java_fixed(0.6, 12), "0.600000000000");
        assert_eq!(java_fixed(-1.5, 0), "-2");
        assert_eq!(java_fixed(f64::INFINITY, 2), "Infinity");
    }

    #[test]
    fn levels_step_as_java_does() {
        // 10 ticks below 50%, then 20, 40, … : exact on the 0–100 scale.
        let mut l = 0.0;
        let mut seen = Vec::new();
        for _ in 0..12 {
            seen.push(l);
            l = next_level(l, 5);
        }
        assert_eq!(
            seen,
            [
                0.0, 10.0, 20.0, 30.0, 40.0, 50.0, 55.0, 60.0, 65.0, 70.0, 75.0, 77.5
            ]
        );
    }
}

#[cfg(test)]
mod golden {
    use super::*;

    /// Parses `tests/hgrm/histograms.txt` (written by `examples/hgrm_inputs.rs`).
    pub fn inputs() -> Vec<(String, Histogram<u64>)> {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hgrm/histograms.txt"),
        )
        .expect("tests/hgrm/histograms.txt is checked in");
        let mut out = Vec::new();
        let mut cur: Option<(String, Histogram<u64>)> = None;
        for line in text.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            match f.as_slice() {
                ["histogram", name, lo, hi, sig] => {
                    let h = Histogram::new_with_bounds(
                        lo.parse().unwrap(),
                        hi.parse().unwrap(),
                        sig.parse().unwrap(),
                    )
                    .unwrap();
                    cur = Some((name.to_string(), h));
                }
                ["end"] => out.push(cur.take().expect("end after histogram")),
                [v, n] => {
                    let h = &mut cur.as_mut().expect("values inside a histogram").1;
                    h.record_n(v.parse().unwrap(), n.parse().unwrap()).unwrap();
                }
                other => panic!("unexpected line {other:?}"),
            }
        }
        out
    }

    /// Every golden file written by Java's `outputPercentileDistribution` (see
    /// `tests/hgrm/make-goldens.sh`) equals this printer's output for the same histogram.
    #[test]
    fn java_goldens_match_byte_for_byte() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hgrm/golden");
        let inputs = inputs();
        assert!(inputs.len() >= 30, "the golden set is complete");
        let mut bad = Vec::new();
        for (name, h) in inputs {
            let want = std::fs::read_to_string(dir.join(format!("{name}.hgrm"))).unwrap();
            let got = format(&h, 1000.0, 5);
            if got != want {
                let first = got
                    .lines()
                    .zip(want.lines())
                    .find(|(g, w)| g != w)
                    .map(|(g, w)| format!("got  {g}\nwant {w}"))
                    .unwrap_or_else(|| "lengths differ".into());
                bad.push(format!("{name}.hgrm:\n{first}"));
            }
        }
        assert!(bad.is_empty(), "{}", bad.join("\n"));
    }

    /// The set holds the two rows the crate's 0–1 quantile iteration got wrong: the 60% step
    /// (the sixth of ten values, and the bundled scenario's inbound_to_cloud flow) and the
    /// deep-tail step Java prints as 3495253.33.
    #[test]
    fn goldens_cover_the_known_differences() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hgrm/golden");
        let read = |n: &str| std::fs::read_to_string(dir.join(n)).unwrap();
        assert!(
            read("synthetic.one-to-ten-ms.hgrm")
                .contains("       6.003 0.600000000000          6           2.50")
        );
        assert!(
            read("hybrid-routing.mx-eop_cmt-off.inbound_to_cloud.hgrm")
                .contains("     733.183 0.600000000000     371526           2.50")
        );
        assert!(
            read("synthetic.deep-tail.hgrm")
                .contains("      30.015 0.999999713898   10000002     3495253.33")
        );
    }
}
