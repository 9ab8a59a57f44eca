//! Type-stage messages in words: turns what serde and the TOML parser say
//! (`invalid type: string "1h", expected f64`, `expected internally tagged enum RawDist`,
//! `duplicate key`) into "found …; expected …" naming the field's dotted path, with no Rust
//! type names, on one line.
//!
//! Only wording lives here; [`super::lines`] finds the path and line of a byte offset.

/// Longest piece of the file quoted back in a message.
const QUOTE_MAX: usize = 40;

/// `s` cut to [`QUOTE_MAX`] characters (with `…` when cut).
pub fn quote(s: &str) -> String {
    if s.chars().count() <= QUOTE_MAX {
        s.to_string()
    } else {
        let cut: String = s.chars().take(QUOTE_MAX).collect();
        format!("{cut}…")
    }
}

/// A number for a message: plain when of ordinary size, else in scientific notation (never
/// 300 digits).
pub fn figure(x: f64) -> String {
    if x.is_nan() {
        "not a number".into()
    } else if x.is_infinite() {
        if x > 0.0 {
            "infinite"
        } else {
            "minus infinite"
        }
        .into()
    } else if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        let s = format!("{x:.3}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    } else {
        format!("{x:.3e}")
    }
}

/// What serde calls an expected type, in words.
fn expected_words(e: &str) -> String {
    let e = e.trim();
    match e {
        "f64" | "f32" => "a number".into(),
        "u64" => "a whole number from 0 to 18446744073709551615".into(),
        "u32" => "a whole number from 0 to 4294967295".into(),
        "u16" => "a whole number from 0 to 65535".into(),
        "u8" => "a whole number from 0 to 255".into(),
        "usize" => "a whole number, 0 or more".into(),
        "i64" | "i32" | "isize" => "a whole number".into(),
        "a boolean" | "bool" => "true or false".into(),
        "a string" | "a borrowed string" | "string" => "text in quotes".into(),
        "a sequence" => "a list in brackets, [ … ]".into(),
        "a map" => "a table".into(),
        _ if e.starts_with("internally tagged enum RawDist") || e == "enum RawDist" => {
            "a distribution table such as { dist = \"exponential\", mean = 5 } (dist: \
             exponential, lognormal, gamma, deterministic, uniform or empirical)"
                .into()
        }
        // The tag of the schema's one internally tagged enum (`dist = …` of a distribution).
        "variant identifier" => "a distribution name in quotes: exponential, lognormal, gamma, \
                                 deterministic, uniform or empirical"
            .into(),
        _ if e.starts_with("struct ") || e.starts_with("a table") => "a table".into(),
        _ if e.starts_with("enum ") => "one of the accepted words".into(),
        _ if e.starts_with("internally tagged enum") => "a table with a tag field".into(),
        _ => e.replace("Raw", ""),
    }
}

/// What serde calls the value it found, in words.
fn found_words(u: &str) -> String {
    let u = u.trim();
    if let Some(s) = u.strip_prefix("string ") {
        return format!("the text {}", quote(s));
    }
    let ticked = |p: &str| u.strip_prefix(p).map(|r| quote(r.trim().trim_matches('`')));
    if let Some(n) = ticked("integer ") {
        return format!("the whole number {n}");
    }
    if let Some(raw) = u.strip_prefix("floating point ") {
        let n = raw.trim().trim_matches('`');
        return match n.parse::<f64>() {
            Ok(x) if x.is_nan() => "nan (not a number)".into(),
            Ok(x) if x.is_infinite() => format!("{n} ({})", figure(x)),
            Ok(x) => format!("the number {}", figure(x)),
            Err(_) => format!("the number {}", quote(n)),
        };
    }
    if let Some(b) = ticked("boolean ") {
        return b;
    }
    match u {
        "map" => "a table".into(),
        "sequence" => "a list".into(),
        "unit value" => "nothing".into(),
        _ => quote(u),
    }
}

/// Splits "X, expected Y" at its last ", expected ".
fn found_expected(rest: &str) -> Option<(&str, &str)> {
    let i = rest.rfind(", expected ")?;
    Some((&rest[..i], &rest[i + ", expected ".len()..]))
}

/// The list of `a`, `b` names after "expected one of " in words.
fn accepted_list(s: &str) -> String {
    s.trim_start_matches("one of ").trim().to_string()
}

/// Rewrites one serde or TOML parser message into words, on one line. `key` is the key a
/// `duplicate key` error points at, when known.
pub fn words(message: &str, key: Option<&str>) -> String {
    let m = message.trim();
    let one_line = |s: &str| {
        s.lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ")
    };
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = m.strip_prefix(prefix)
            && let Some((u, e)) = found_expected(rest)
        {
            return format!("found {}; expected {}", found_words(u), expected_words(e));
        }
    }
    if let Some(rest) = m.strip_prefix("missing field ") {
        let f = rest.trim().trim_matches('`');
        return format!("`{f}` is missing; it is required here");
    }
    if let Some(rest) = m.strip_prefix("unknown field ") {
        let (f, acc) = match rest.split_once(", expected ") {
            Some((f, acc)) => (f, format!("accepted: {}", accepted_list(acc))),
            None => match rest.split_once(", there are no fields") {
                Some((f, _)) => (f, "this table takes no fields".into()),
                None => (rest, String::new()),
            },
        };
        return if acc.is_empty() {
            format!("unknown field {f}")
        } else {
            format!("unknown field {f}; {acc}")
        };
    }
    if let Some(rest) = m.strip_prefix("unknown variant ")
        && let Some((v, acc)) = rest.split_once(", expected ")
    {
        return format!("found {}; accepted: {}", quote(v), accepted_list(acc));
    }
    if let Some(rest) = m.strip_prefix("invalid length ")
        && let Some((n, e)) = rest.split_once(", expected ")
    {
        return format!("found {n} values; expected {}", expected_words(e));
    }
    if m.starts_with("duplicate key") {
        return match key {
            Some(k) => format!("`{}` is given twice; keep one", quote(k)),
            None => "a key is given twice; keep one".into(),
        };
    }
    if m.starts_with("integer number overflowed") {
        return "found a whole number too large to read; accepted: at most 9223372036854775807"
            .into();
    }
    if m.starts_with("floating-point number overflowed") {
        return "found a number too large to read; accepted: at most about 1.8e308".into();
    }
    let text = one_line(m);
    // Any remaining Rust type names in a parser message.
    text.replace("internally tagged enum RawDist", "a distribution table")
        .replace(" f64", " a number")
        .replace(" u64", " a whole number, 0 or more")
        .replace(" u32", " a whole number, 0 or more")
        .replace(" i64", " a whole number")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_become_words_without_rust_types() {
        assert_eq!(
            words("invalid type: string \"1h\", expected f64", None),
            "found the text \"1h\"; expected a number"
        );
        let d = words(
            "invalid type: integer `50`, expected internally tagged enum RawDist",
            None,
        );
        assert!(
            d.starts_with("found the whole number 50; expected a distribution table such as"),
            "{d}"
        );
        assert_eq!(
            words("invalid value: integer `-1`, expected u64", None),
            "found the whole number -1; expected a whole number from 0 to 18446744073709551615"
        );
        assert_eq!(
            words("duplicate key", Some("seed")),
            "`seed` is given twice; keep one"
        );
        assert_eq!(
            words("missing field `route`", None),
            "`route` is missing; it is required here"
        );
        assert_eq!(
            words("unknown field `oops`, expected `value`", None),
            "unknown field `oops`; accepted: `value`"
        );
        assert_eq!(
            words("unknown variant `weibull`, expected one of `a`, `b`", None),
            "found `weibull`; accepted: `a`, `b`"
        );
        assert_eq!(
            words("invalid string\nexpected `\"`", None),
            "invalid string; expected `\"`"
        );
        let long = format!("invalid type: string \"{}\", expected f64", "x".repeat(300));
        assert!(words(&long, None).chars().count() < 100);
        for m in ["f64", "u64", "u32", "Raw", "enum"] {
            assert!(!d.contains(m) || m == "enum" && !d.contains("enum "), "{d}");
        }
    }

    #[test]
    fn figures_are_short() {
        assert_eq!(figure(0.75), "0.75");
        assert_eq!(figure(8.3e297), "8.300e297");
        assert_eq!(figure(f64::NAN), "not a number");
        assert_eq!(figure(12.0), "12");
    }
}
