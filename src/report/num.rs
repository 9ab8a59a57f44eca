//! The number rule of every CSV file: each column is written at the resolution its unit has,
//! so a spreadsheet shows the numbers as they are (no `628.5301999999999`, no `12000.0`).
//!
//! | column kind | cell type | written as |
//! |---|---|---|
//! | milliseconds (`*_ms`) | [`Ms`] | to 1 µs: at most 3 decimals, trailing zeros dropped |
//! | seconds (`*_s`) | [`Secs`] | to 1 µs: at most 6 decimals, trailing zeros dropped |
//! | ratios, rates, means of counts | [`Sig`] | 6 significant digits, trailing zeros dropped |
//! | counts (totals) | `u64` / `u32` | integers |
//!
//! Non-finite values are written as an empty cell, like a missing one. The same functions
//! ([`ms`], [`secs`], [`sig6`]) give the text for other outputs (the HTML report) so every
//! figure reads the same everywhere. This module formats numbers only; it knows no columns.

use serde::{Serialize, Serializer};

/// Milliseconds, written to 1 µs.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Ms(pub f64);

/// Seconds, written to 1 µs.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Secs(pub f64);

/// A ratio, a rate or a mean of counts, written to 6 significant digits.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Sig(pub f64);

/// A figure whose unit is named at run time (a row of `compare.csv` names its figure, e.g.
/// `p99_ms` or `throughput_per_s`): written at that unit's resolution.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub enum Num {
    Ms(f64),
    Secs(f64),
    Sig(f64),
}

impl Num {
    /// `x` in the unit of a column or figure named `name`: `*_ms` milliseconds, `*_s` seconds
    /// (not `*_per_s`, a rate), anything else a ratio, rate or mean.
    pub fn of(name: &str, x: f64) -> Num {
        if name.ends_with("_ms") {
            Num::Ms(x)
        } else if name.ends_with("_s") && !name.ends_with("_per_s") {
            Num::Secs(x)
        } else {
            Num::Sig(x)
        }
    }
    /// The number, whatever its unit.
    pub fn value(self) -> f64 {
        match self {
            Num::Ms(x) | Num::Secs(x) | Num::Sig(x) => x,
        }
    }
}

impl Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Num::Ms(x) => put(s, ms(x)),
            Num::Secs(x) => put(s, secs(x)),
            Num::Sig(x) => put(s, sig6(x)),
        }
    }
}

fn put<S: Serializer>(s: S, text: Option<String>) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => s.serialize_str(&t),
        None => s.serialize_str(""),
    }
}

impl Serialize for Ms {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        put(s, ms(self.0))
    }
}
impl Serialize for Secs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        put(s, secs(self.0))
    }
}
impl Serialize for Sig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        put(s, sig6(self.0))
    }
}

/// Drops trailing zeros after a decimal point (and the point), and a minus sign on zero.
fn trim(mut t: String) -> String {
    if t.contains('.') {
        while t.ends_with('0') {
            t.pop();
        }
        if t.ends_with('.') {
            t.pop();
        }
    }
    if t == "-0" {
        t = "0".into();
    }
    t
}

/// `x` with at most `decimals` decimals; None when not finite.
pub fn fixed(x: f64, decimals: usize) -> Option<String> {
    x.is_finite().then(|| trim(format!("{x:.decimals$}")))
}

/// Milliseconds to 1 µs.
pub fn ms(x: f64) -> Option<String> {
    fixed(x, 3)
}

/// Seconds to 1 µs.
pub fn secs(x: f64) -> Option<String> {
    fixed(x, 6)
}

/// `x` to `digits` significant digits (1 ≤ digits ≤ 17), in plain decimal notation.
pub fn sig(x: f64, digits: usize) -> Option<String> {
    if !x.is_finite() {
        return None;
    }
    if x == 0.0 {
        return Some("0".into());
    }
    let digits = digits.clamp(1, 17);
    // `{:e}` rounds correctly to the digits asked, carries included ("9.99999e5" → "1.00000e6").
    let e = format!("{:.*e}", digits - 1, x);
    let (mant, exp) = e.split_once('e').expect("{:e} has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let neg = mant.starts_with('-');
    let ds: String = mant.chars().filter(char::is_ascii_digit).collect();
    let point = exp + 1; // digits before the decimal point
    let mut t = String::new();
    if neg {
        t.push('-');
    }
    if point <= 0 {
        t.push_str("0.");
        t.extend(std::iter::repeat_n('0', (-point) as usize));
        t.push_str(&ds);
    } else if point as usize >= ds.len() {
        t.push_str(&ds);
        t.extend(std::iter::repeat_n('0', point as usize - ds.len()));
    } else {
        t.push_str(&ds[..point as usize]);
        t.push('.');
        t.push_str(&ds[point as usize..]);
    }
    Some(trim(t))
}

/// 6 significant digits: ratios, rates, means of counts.
pub fn sig6(x: f64) -> Option<String> {
    sig(x, 6)
}

/// `#[serde(serialize_with = …)]` for an `f64` column of rows that name their unit in a cell
/// of their own (calibration's CSVs): written as a [`Sig`].
pub fn serialize_sig<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    put(s, sig6(*x))
}

/// As [`serialize_sig`], for an optional `f64` (None: an empty cell).
pub fn serialize_sig_opt<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    put(s, x.and_then(sig6))
}

/// Whether `cell` obeys the number rule for a column named `column`: empty, not a number, an
/// integer, or a decimal at the column's resolution (`*_ms` ≤ 3 decimals, `*_s` ≤ 6, any other
/// ≤ 6 significant digits), never with trailing zeros after the point. For tests of every
/// CSV a command writes.
pub fn obeys_rule(column: &str, cell: &str) -> bool {
    if cell.is_empty() || cell.parse::<f64>().is_err() {
        return true;
    }
    let Some((int, frac)) = cell.split_once('.') else {
        return !cell.contains(['e', 'E']);
    };
    if frac.is_empty() || frac.ends_with('0') || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let time_decimals = if column.ends_with("_ms") || column.contains("_ms_") {
        Some(3)
    } else if (column.ends_with("_s") || column.contains("_s_")) && !column.contains("_per_s") {
        Some(6)
    } else {
        None
    };
    match time_decimals {
        Some(d) => frac.len() <= d,
        None => {
            let significant = format!("{}{frac}", int.trim_start_matches('-'))
                .trim_start_matches('0')
                .len();
            significant <= 6
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_unit_at_its_resolution() {
        assert_eq!(ms(628.5301999999999).unwrap(), "628.53");
        assert_eq!(ms(3334.8127514000007).unwrap(), "3334.813");
        assert_eq!(ms(12000.0).unwrap(), "12000");
        assert_eq!(ms(0.0).unwrap(), "0");
        assert_eq!(ms(-0.0001).unwrap(), "0");
        assert_eq!(secs(3600.0000004).unwrap(), "3600");
        assert_eq!(secs(1.5).unwrap(), "1.5");
        assert_eq!(sig6(167.66666666666666).unwrap(), "167.667");
        assert_eq!(sig6(0.8333333333).unwrap(), "0.833333");
        assert_eq!(sig6(0.000123456789).unwrap(), "0.000123457");
        assert_eq!(sig6(12345678.9).unwrap(), "12345700");
        assert_eq!(sig6(999999.7).unwrap(), "1000000");
        assert_eq!(sig6(1.0).unwrap(), "1");
        assert_eq!(sig6(-2.5).unwrap(), "-2.5");
        assert_eq!(sig6(0.0).unwrap(), "0");
        assert_eq!(sig6(f64::NAN), None);
        assert_eq!(ms(f64::INFINITY), None);
    }

    #[test]
    fn cells_serialize_as_text_and_missing_as_empty() {
        #[derive(Serialize)]
        struct Row {
            a_ms: Ms,
            b: Option<Sig>,
            c_s: Secs,
            n: u64,
        }
        let mut w = ::csv::Writer::from_writer(Vec::new());
        w.serialize(Row {
            a_ms: Ms(1.23456),
            b: None,
            c_s: Secs(f64::NAN),
            n: 12000,
        })
        .unwrap();
        let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
        assert_eq!(text, "a_ms,b,c_s,n\n1.235,,,12000\n");
    }

    #[test]
    fn the_rule_check_catches_float_noise() {
        assert!(obeys_rule("p99_ms", "628.53"));
        assert!(!obeys_rule("p99_ms", "628.5301999999999"));
        assert!(!obeys_rule("delivered", "12000.0"));
        assert!(obeys_rule("delivered", "12000"));
        assert!(!obeys_rule("quarantined_per_rep", "167.66666666666666"));
        assert!(obeys_rule("quarantined_per_rep", "167.667"));
        assert!(obeys_rule("utilization", "0.000123457"));
        assert!(obeys_rule("start_s", "1800.000001"));
        assert!(obeys_rule("p99_ms_ci95_lo", "1.5"));
        assert!(!obeys_rule("x", "1e-7"));
        assert!(obeys_rule("variant", "mx-eop_cmt-off"));
    }
}
