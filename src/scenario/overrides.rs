//! `--set path=value` overrides: values set in the parsed TOML tree of a scenario before it is
//! deserialized and validated, so an overridden value goes through exactly the checks a value
//! written in the file would.
//!
//! A path is dotted (`hops.<name>.servers`); numeric segments index arrays
//! (`load.recipients.weights.0`). Every segment but the last must exist in the file; the last
//! may be new (an optional field the file leaves out), and a misspelled one is then refused by
//! the schema, which lists the accepted fields. `load.scale` is an alias of `run.load_scale`,
//! which every scenario has. This module edits values in memory; it reads and writes nothing.

use toml::{Table, Value};

/// The path users may write for the load multiplier, and the field it stands for.
pub const LOAD_SCALE_ALIAS: &str = "load.scale";
pub const LOAD_SCALE_FIELD: &str = "run.load_scale";

/// One value to set: the dotted path and the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The path as the user wrote it (`load.scale`), for messages and CSV columns.
    pub path: String,
    pub value: Value,
}

impl Override {
    /// The path in the file (aliases resolved).
    pub fn field(&self) -> &str {
        if self.path == LOAD_SCALE_ALIAS {
            LOAD_SCALE_FIELD
        } else {
            &self.path
        }
    }

    /// `path=value` as a user would write it.
    pub fn flag(&self) -> String {
        format!("--set {}={}", self.path, value_text(&self.value))
    }
}

/// A value as it appears in CSV cells and messages: numbers in their shortest form, strings
/// without quotes.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Float(f) => format!("{f}"),
        other => other.to_string(),
    }
}

/// Sets `o` in `table`; the error says what is wrong with the path.
pub fn apply(table: &mut Table, o: &Override) -> Result<(), String> {
    let field = o.field();
    let segs: Vec<&str> = field.split('.').collect();
    if segs.iter().any(|s| s.is_empty()) {
        return Err(format!(
            "`{}` is not a dotted path such as hops.<name>.servers",
            o.path
        ));
    }
    let (last, parents) = segs.split_last().expect("split gives one segment at least");
    let Some((first, rest)) = parents.split_first() else {
        return set_in_table(table, last, field, o);
    };
    if !table.contains_key(*first) {
        return Err(missing(&parents[..1], table, o));
    }
    let mut node = table.get_mut(*first).expect("checked");
    for (i, seg) in rest.iter().enumerate() {
        let walked = &parents[..i + 2];
        node = match node {
            Value::Table(t) => {
                if !t.contains_key(*seg) {
                    return Err(missing(walked, t, o));
                }
                t.get_mut(*seg).expect("checked")
            }
            Value::Array(a) => {
                let len = a.len();
                seg.parse::<usize>()
                    .ok()
                    .and_then(|i| a.get_mut(i))
                    .ok_or_else(|| bad_index(walked, len))?
            }
            _ => return Err(not_a_table(&walked[..walked.len() - 1], seg)),
        };
    }
    match node {
        Value::Table(t) => set_in_table(t, last, field, o),
        Value::Array(a) => {
            let len = a.len();
            let slot = last
                .parse::<usize>()
                .ok()
                .and_then(|i| a.get_mut(i))
                .ok_or_else(|| bad_index(&segs, len))?;
            if matches!(slot, Value::Table(_) | Value::Array(_)) {
                return Err(not_a_value(field));
            }
            *slot = o.value.clone();
            Ok(())
        }
        _ => Err(not_a_table(parents, last)),
    }
}

fn set_in_table(t: &mut Table, key: &str, field: &str, o: &Override) -> Result<(), String> {
    if let Some(Value::Table(_) | Value::Array(_)) = t.get(key) {
        return Err(not_a_value(field));
    }
    t.insert(key.to_string(), o.value.clone());
    Ok(())
}

fn not_a_value(field: &str) -> String {
    format!("`{field}` is a table or list, not a single value; set one of its fields")
}

fn not_a_table(parents: &[&str], seg: &str) -> String {
    format!(
        "`{}` is a single value; it has no field `{seg}`",
        parents.join(".")
    )
}

fn bad_index(walked: &[&str], len: usize) -> String {
    format!(
        "`{}`: a list of {len} is indexed 0 to {}",
        walked.join("."),
        len.saturating_sub(1)
    )
}

fn missing(walked: &[&str], parent: &Table, o: &Override) -> String {
    let here: Vec<&str> = parent.keys().map(String::as_str).collect();
    format!(
        "`{}` is not in the scenario file (from `{}`); paths there: {}; sweep only what the file sets, or add it to the file first",
        walked.join("."),
        o.path,
        here.iter()
            .map(|k| {
                let mut p = walked[..walked.len() - 1].to_vec();
                p.push(k);
                p.join(".")
            })
            .collect::<Vec<_>>()
            .join(", ")
    )
}
