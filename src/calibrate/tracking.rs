//! The on-premises message tracking log (`MSGTRK*.LOG`, `MSGTRKMS/MD/MA*.LOG`): its `#` header
//! lines and the `#Fields:` column names.
//!
//! The columns are found by the names the file's `#Fields:` line gives (26 fields in Exchange
//! 2010, 27 in 2013, 30 in 2016/2019, fewer in 2007), never by position; a later `#Fields:` line
//! (files concatenated) replaces the columns from there on. Times are UTC ISO 8601.
//! Must not: know about the other formats or read the file itself (see `read.rs`).

use super::fields::{ColumnMap, tracking_field};
use super::rows::Row;

/// What the `#` lines of a tracking log said so far.
#[derive(Default)]
pub(crate) struct Header {
    /// A `#Software:`, `#Version:`, `#Log-type:`, `#Date:` or `#Fields:` line was seen.
    pub recognized: bool,
    pub version: Option<String>,
    pub columns: Option<ColumnMap>,
}

/// True when a first line looks like a tracking log's header line.
pub(crate) fn is_header_line(first_field: &[u8]) -> bool {
    let keys: [&[u8]; 5] = [
        b"#software:",
        b"#version:",
        b"#log-type:",
        b"#date:",
        b"#fields:",
    ];
    keys.iter()
        .any(|k| first_field.len() >= k.len() && first_field[..k.len()].eq_ignore_ascii_case(k))
}

impl Header {
    /// Takes one `#` line (its comma-separated pieces as the CSV reader split them).
    pub fn line(&mut self, row: &Row) {
        let first = String::from_utf8_lossy(row.get(0).unwrap_or_default()).into_owned();
        let Some((key, value)) = first.split_once(':') else {
            return;
        };
        let key = key.trim_start_matches('#').trim().to_ascii_lowercase();
        match key.as_str() {
            "software" | "log-type" | "date" => self.recognized = true,
            "version" => {
                self.recognized = true;
                self.version = Some(value.trim().to_owned());
            }
            "fields" => {
                self.recognized = true;
                let rest: Vec<String> = row
                    .iter()
                    .skip(1)
                    .map(|b| String::from_utf8_lossy(b).into_owned())
                    .collect();
                let names = std::iter::once(value.trim()).chain(rest.iter().map(|s| s.as_str()));
                self.columns = Some(ColumnMap::new(names, tracking_field));
            }
            _ => {}
        }
    }
}

/// The names accepted for the time column, for error messages.
pub(crate) const TIME_COLUMN: &str = "the #Fields: line must name date-time";
