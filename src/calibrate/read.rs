//! Reader entry points: expand paths (folders recursively), detect each file's format from its
//! content, decode it (UTF-8 with or without BOM, UTF-16 with or without BOM, a legacy code
//! page) and stream its records to a sink.
//!
//! A run may combine one on-premises format (tracking logs, or their PowerShell export) with
//! one Exchange Online format (message trace, or detailed report); two formats of one side
//! would be the same messages read twice, so they are refused. Files in folders are read in
//! path order; names starting with `.` are skipped. A line that cannot be read is counted (the
//! first 10 are kept as examples); more than `bad_line_threshold` of all lines is an error.
//! Must not: hold a whole file in memory or keep anything per line after the sink returns
//! (memory is one CSV buffer and two rows, whatever the file's size).

use std::cell::Cell;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;

use jiff::tz::TimeZone;

use super::fields::{ColumnMap, DEFAULT_DATE_FORMATS, Decoder, Field, RowReader, TimeParser};
use super::record::{
    BadLine, CalibrateError, FileReport, LogFormat, LogRecord, Origin, ReadOptions, ReadReport,
};
use super::rows::{MAX_ROW_BYTES, Row, Rows};
use super::{powershell, trace, tracking};

/// Reads every file in `paths` (folders are walked recursively, files sorted by path) and
/// calls `sink` once per record, in file order then line order. Fails on bad input (see
/// [`CalibrateError`]) or when the share of bad lines exceeds `opts.bad_line_threshold`; an
/// error the sink returns stops the read and is passed on.
pub fn read_inputs(
    paths: &[PathBuf],
    opts: &mut ReadOptions<'_>,
    sink: &mut dyn FnMut(LogRecord) -> Result<(), CalibrateError>,
) -> Result<ReadReport, CalibrateError> {
    read_inputs_bounded(paths, opts, &mut |r, _| sink(r))
}

/// [`read_inputs`], in the order that lets a reader of both sides join them: files by the
/// earliest time they can hold (a tracking log by the hour its name gives; any other file,
/// e.g. a message trace, by its earliest record, found by reading it once before), and with
/// each record a time no later record of the run precedes (Unix seconds, up to the lateness
/// each file showed when read ahead). A consumer that closes a message once this bound has
/// passed its last record by a horizon never closes it before a record of the other side
/// comes, whatever order the trace's rows are in (Get-MessageTraceV2 writes newest first).
pub fn read_inputs_bounded(
    paths: &[PathBuf],
    opts: &mut ReadOptions<'_>,
    sink: &mut dyn FnMut(LogRecord, i64) -> Result<(), CalibrateError>,
) -> Result<ReadReport, CalibrateError> {
    let files = expand(paths)?;
    let mut planned = Vec::with_capacity(files.len());
    for path in files {
        let bound = match msgtrk_hour(&path).and_then(|(h, _)| msgtrk_start_s(h)) {
            // Written in time order: the records themselves are the bound.
            Some(start) => Some(FileBound { start, lateness: 0 }),
            None => scan_bound(&path, opts)?,
        };
        planned.push((path, bound));
    }
    // A file with no record (or no readable one) goes first: it joins nothing.
    planned.sort_by_key(|(p, b)| (b.map(|b| b.start), p.clone()));
    let mut st = State::new(opts)?;
    for i in 0..planned.len() {
        let (path, bound) = &planned[i];
        let next_start = planned[i + 1..]
            .iter()
            .filter_map(|(_, b)| b.map(|b| b.start))
            .min()
            .unwrap_or(i64::MAX);
        let file = File::open(path).map_err(|source| CalibrateError::Io {
            path: path.clone(),
            source,
        })?;
        let mut newest = i64::MIN;
        let b = bound.unwrap_or(FileBound {
            start: i64::MIN,
            lateness: 0,
        });
        st.read_file(path, file, &mut |r| {
            let t = r.timestamp.as_second();
            newest = newest.max(t);
            let safe = b
                .start
                .max(newest.saturating_sub(b.lateness))
                .min(next_start);
            sink(r, safe)
        })?;
    }
    st.finish()
}

/// What a file read ahead showed of its times: its earliest record, and how far any record
/// came after a later one (0 for a file in time order).
#[derive(Clone, Copy, Debug, PartialEq)]
struct FileBound {
    start: i64,
    lateness: i64,
}

/// Reads `path` once for its [`FileBound`] (None when it has no record). Bad input is found
/// here first, with the same error the full read gives.
fn scan_bound(path: &Path, opts: &ReadOptions<'_>) -> Result<Option<FileBound>, CalibrateError> {
    let mut o = ReadOptions {
        timezone: opts.timezone.clone(),
        date_format: opts.date_format.clone(),
        bad_line_threshold: opts.bad_line_threshold,
        legacy_encoding: opts.legacy_encoding,
        progress: None,
    };
    let mut st = State::new(&mut o)?;
    let file = File::open(path).map_err(|source| CalibrateError::Io {
        path: path.to_owned(),
        source,
    })?;
    let (mut start, mut newest, mut lateness) = (i64::MAX, i64::MIN, 0i64);
    st.read_file(path, file, &mut |r| {
        let t = r.timestamp.as_second();
        start = start.min(t);
        newest = newest.max(t);
        lateness = lateness.max(newest - t);
        Ok(())
    })?;
    Ok((start != i64::MAX).then_some(FileBound { start, lateness }))
}

/// Unix seconds of a tracking log name's `<yyyymmddhh>` (UTC, as Exchange names them).
fn msgtrk_start_s(h: u64) -> Option<i64> {
    let (y, m, d, hh) = (h / 1_000_000, h / 10_000 % 100, h / 100 % 100, h % 100);
    let dt = jiff::civil::DateTime::new(
        i16::try_from(y).ok()?,
        i8::try_from(m).ok()?,
        i8::try_from(d).ok()?,
        i8::try_from(hh).ok()?,
        0,
        0,
        0,
    )
    .ok()?;
    TimeZone::UTC
        .to_ambiguous_timestamp(dt)
        .compatible()
        .ok()
        .map(|t| t.as_second())
}

/// Reads one in-memory file as if it were at `name` (for tests and fuzzing).
pub fn read_bytes(
    name: &Path,
    bytes: &[u8],
    opts: &mut ReadOptions<'_>,
    sink: &mut dyn FnMut(LogRecord) -> Result<(), CalibrateError>,
) -> Result<ReadReport, CalibrateError> {
    let mut st = State::new(opts)?;
    st.read_file(name, bytes, sink)?;
    st.finish()
}

/// Looks up an IANA time zone name for [`ReadOptions::timezone`].
pub fn timezone(name: &str) -> Result<TimeZone, CalibrateError> {
    TimeZone::get(name).map_err(|_| CalibrateError::UnknownTimeZone {
        name: name.to_owned(),
    })
}

/// Checks a `--date-format` before any file is read.
pub fn check_date_format(format: &str) -> Result<(), CalibrateError> {
    let has = |d: &str| format.contains(d);
    let reason = if !(has("%Y") || has("%y") || has("%D") || has("%F")) {
        Some("it has no year (%Y)")
    } else if !(has("%H") || has("%I") || has("%T") || has("%R")) {
        Some("it has no hour (%H, or %I with %p)")
    } else {
        None
    };
    match reason {
        Some(r) => Err(CalibrateError::BadDateFormat {
            format: format.to_owned(),
            reason: format!("{r}; write it like `%m/%d/%Y %I:%M:%S %p` for 3/2/2026 9:00:05 AM"),
        }),
        None => Ok(()),
    }
}

/// The files [`read_inputs`] reads for `paths`, in its order, with their sizes in bytes (for a
/// progress bar's total). Refuses what `read_inputs` refuses before reading.
pub fn input_files(paths: &[PathBuf]) -> Result<Vec<(PathBuf, u64)>, CalibrateError> {
    expand(paths)?
        .into_iter()
        .map(|p| {
            let len = std::fs::metadata(&p)
                .map_err(|source| CalibrateError::Io {
                    path: p.clone(),
                    source,
                })?
                .len();
            Ok((p, len))
        })
        .collect()
}

fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CalibrateError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => CalibrateError::NotFound { path: p.clone() },
            _ => CalibrateError::Io {
                path: p.clone(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            let looks_like_file = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| e.eq_ignore_ascii_case("log") || e.eq_ignore_ascii_case("csv"));
            if looks_like_file {
                return Err(CalibrateError::IsDirectory {
                    path: p.clone(),
                    expected: "a log file was expected from its name; give the file itself, or name the folder without a .log/.csv ending".into(),
                });
            }
            let before = out.len();
            walk(p, &mut out)?;
            if out.len() == before {
                return Err(CalibrateError::EmptyFolder { path: p.clone() });
            }
        } else {
            out.push(p.clone());
        }
    }
    // Tracking logs in time order across servers and kinds (MSGTRK, MSGTRKMD, MSGTRKMS of the
    // same hour together), so a message's records from several files arrive close together
    // and calibration can close each message a short horizon after its last record. Other
    // files keep their place in path order, ahead of the tracking logs.
    out.sort_by_cached_key(|p| (msgtrk_hour(p), p.clone()));
    Ok(out)
}

/// The `<yyyymmddhh>` and `-<n>` of a tracking log's name (`MSGTRK[MS|MD|MA]2026030209-1.LOG`).
fn msgtrk_hour(p: &Path) -> Option<(u64, u64)> {
    let name = p.file_name()?.to_str()?.to_ascii_uppercase();
    let rest = name.strip_prefix("MSGTRK")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    let (hour, tail) = rest.split_once('-')?;
    let n: String = tail.chars().take_while(char::is_ascii_digit).collect();
    Some((hour.parse().ok()?, n.parse().unwrap_or(0)))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), CalibrateError> {
    let io_err = |source| CalibrateError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io_err)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    entries.sort();
    for p in entries {
        if p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'))
        {
            continue;
        }
        let meta = std::fs::metadata(&p).map_err(|source| CalibrateError::Io {
            path: p.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk(&p, out)?;
        } else if meta.is_file() {
            out.push(p);
        }
    }
    Ok(())
}

/// Counts the raw bytes read (for progress) under any decoding.
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Encoding {
    Utf8 { bom: bool },
    Utf16Le,
    Utf16Be,
    Legacy,
}

/// Decides the encoding from the first bytes of a file.
fn sniff(head: &[u8]) -> Encoding {
    if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return Encoding::Utf8 { bom: true };
    }
    if head.starts_with(&[0xFF, 0xFE]) {
        return Encoding::Utf16Le;
    }
    if head.starts_with(&[0xFE, 0xFF]) {
        return Encoding::Utf16Be;
    }
    // UTF-16 without a BOM: text is mostly ASCII, so every other byte is zero.
    let pairs = head.len() / 2;
    if pairs >= 2 {
        let odd_zero = head
            .chunks_exact(2)
            .filter(|c| c[1] == 0 && c[0] != 0)
            .count();
        let even_zero = head
            .chunks_exact(2)
            .filter(|c| c[0] == 0 && c[1] != 0)
            .count();
        if odd_zero * 10 >= pairs * 9 {
            return Encoding::Utf16Le;
        }
        if even_zero * 10 >= pairs * 9 {
            return Encoding::Utf16Be;
        }
    }
    match std::str::from_utf8(head) {
        Ok(_) => Encoding::Utf8 { bom: false },
        // Cut inside a character at the end of the sample: still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8 { bom: false },
        Err(_) => Encoding::Legacy,
    }
}

/// Which side of a hybrid organization a format describes (one format per side per run).
fn side(f: LogFormat) -> usize {
    match f {
        LogFormat::TrackingLog | LogFormat::PowerShellExport => 0,
        LogFormat::MessageTrace | LogFormat::DetailedReport => 1,
    }
}

struct State<'o, 'a> {
    opts: &'o mut ReadOptions<'a>,
    report: ReadReport,
    servers: BTreeSet<String>,
    /// The first file of each side and its format.
    first: [Option<(PathBuf, LogFormat)>; 2],
    formats: Vec<String>,
    /// Warnings: the text, the first file it applies to, how many other files.
    warnings: Vec<(String, PathBuf, u64)>,
    too_many_servers: bool,
    legacy: &'static encoding_rs::Encoding,
    bytes_before: u64,
    next_progress: u64,
}

const PROGRESS_STEP: u64 = 4 << 20;
/// The most distinct server names kept for the report.
const MAX_SERVERS: usize = 4096;

impl<'o, 'a> State<'o, 'a> {
    fn new(opts: &'o mut ReadOptions<'a>) -> Result<Self, CalibrateError> {
        let formats = match &opts.date_format {
            Some(f) => {
                check_date_format(f)?;
                vec![f.clone()]
            }
            None => DEFAULT_DATE_FORMATS.iter().map(|s| s.to_string()).collect(),
        };
        let legacy = opts.legacy_encoding.unwrap_or(encoding_rs::WINDOWS_1252);
        Ok(State {
            opts,
            report: ReadReport::default(),
            servers: BTreeSet::new(),
            first: [None, None],
            formats,
            warnings: Vec::new(),
            too_many_servers: false,
            legacy,
            bytes_before: 0,
            next_progress: PROGRESS_STEP,
        })
    }

    fn bad(&mut self, path: &Path, line: u64, reason: String) {
        self.report.bad_lines += 1;
        if self.report.bad_examples.len() < 10 {
            self.report.bad_examples.push(BadLine {
                file: path.to_owned(),
                line,
                reason,
            });
        }
    }

    fn warn(&mut self, path: &Path, what: String) {
        match self.warnings.iter_mut().find(|(w, _, _)| *w == what) {
            Some((_, _, n)) => *n += 1,
            None => self.warnings.push((what, path.to_owned(), 0)),
        }
    }

    fn read_file(
        &mut self,
        path: &Path,
        raw: impl Read,
        sink: &mut dyn FnMut(LogRecord) -> Result<(), CalibrateError>,
    ) -> Result<(), CalibrateError> {
        let io_err = |source| CalibrateError::Io {
            path: path.to_owned(),
            source,
        };
        let count = Rc::new(Cell::new(0u64));
        let mut raw = Counting {
            inner: raw,
            count: Rc::clone(&count),
        };
        let mut head = Vec::with_capacity(4096);
        (&mut raw)
            .take(4096)
            .read_to_end(&mut head)
            .map_err(io_err)?;
        if head.is_empty() {
            self.warn(path, "the file is empty; skipped".into());
            return Ok(());
        }
        let enc = sniff(&head);
        let skip = if enc == (Encoding::Utf8 { bom: true }) {
            3
        } else {
            0
        };
        let mut start = io::Cursor::new(head);
        start.set_position(skip);
        let stream = start.chain(raw);
        let decoded: Box<dyn Read> = match enc {
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let e = if enc == Encoding::Utf16Le {
                    encoding_rs::UTF_16LE
                } else {
                    encoding_rs::UTF_16BE
                };
                Box::new(
                    encoding_rs_io::DecodeReaderBytesBuilder::new()
                        .encoding(Some(e))
                        .bom_sniffing(true)
                        .strip_bom(true)
                        .build(stream),
                )
            }
            _ => Box::new(stream),
        };
        let mut rows = Rows::new(io::BufReader::with_capacity(1 << 18, decoded));
        let encoding_name = match enc {
            Encoding::Utf8 { .. } => "UTF-8",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Legacy => self.legacy.name(),
        };
        let mut dec = Decoder {
            legacy: self.legacy,
            used_legacy: false,
            force_legacy: enc == Encoding::Legacy,
        };

        let file_index = self.report.files.len();
        let mut cur = Row::default();
        let mut next = Row::default();
        let read = |rows: &mut Rows<_>, row: &mut Row| {
            rows.next(row).map_err(|source| CalibrateError::Io {
                path: path.to_owned(),
                source,
            })
        };

        // Find the format: tracking log `#` lines, or a CSV header (after a `#TYPE` line).
        let mut header = tracking::Header::default();
        let mut format: Option<LogFormat> = None;
        let mut columns: Option<ColumnMap> = None;
        let mut header_quoted = false;
        let mut have = read(&mut rows, &mut cur)?;
        let mut first_line_text: Option<String> = None;
        // The line that showed the format (a `#Fields:` line or a CSV header).
        let mut format_line = 1u64;
        while have && format.is_none() {
            let line = cur.line;
            if cur.too_long {
                return Err(CalibrateError::NotALog {
                    path: path.to_owned(),
                    line,
                    found: format!("a line longer than {} MiB", MAX_ROW_BYTES >> 20),
                });
            }
            let f0 = cur.get(0).unwrap_or_default();
            if first_line_text.is_none() {
                first_line_text = Some(snippet(&cur));
            }
            if f0.len() >= 5 && f0[..5].eq_ignore_ascii_case(b"#TYPE") {
                have = read(&mut rows, &mut cur)?;
                continue;
            }
            if f0.first() == Some(&b'#') {
                if !tracking::is_header_line(f0) && !header.recognized {
                    return Err(CalibrateError::NotALog {
                        path: path.to_owned(),
                        line,
                        found: snippet(&cur),
                    });
                }
                header.line(&cur);
                if header.columns.is_some() {
                    format = Some(LogFormat::TrackingLog);
                    format_line = line;
                    columns = header.columns.take();
                }
                have = read(&mut rows, &mut cur)?;
                continue;
            }
            if header.recognized {
                return Err(CalibrateError::NoFields {
                    path: path.to_owned(),
                    line,
                });
            }
            let names: Vec<String> = cur
                .iter()
                .map(|b| String::from_utf8_lossy(b).trim().to_owned())
                .collect();
            let (fmt, map) = if powershell::matches(&names) {
                (
                    LogFormat::PowerShellExport,
                    ColumnMap::new(names.iter().map(|s| s.as_str()), powershell::field),
                )
            } else if trace::is_trace(&names) {
                (
                    LogFormat::MessageTrace,
                    ColumnMap::new(names.iter().map(|s| s.as_str()), trace::trace_field),
                )
            } else if trace::is_detailed(&names) {
                (
                    LogFormat::DetailedReport,
                    ColumnMap::new(names.iter().map(|s| s.as_str()), trace::detailed_field),
                )
            } else {
                return Err(CalibrateError::NotALog {
                    path: path.to_owned(),
                    line,
                    found: first_line_text.take().unwrap_or_default(),
                });
            };
            header_quoted = cur.starts_quoted;
            format = Some(fmt);
            format_line = line;
            columns = Some(map);
            have = read(&mut rows, &mut cur)?;
        }
        let Some(format) = format else {
            // Only header lines: a tracking log of an hour without mail is fine; anything else
            // (header lines but no #Fields:) is not a log this reads.
            if header.recognized && header.version.is_some() {
                return Err(CalibrateError::NoFields {
                    path: path.to_owned(),
                    line: cur.line,
                });
            }
            return Err(CalibrateError::NotALog {
                path: path.to_owned(),
                line: 1,
                found: first_line_text.unwrap_or_default(),
            });
        };
        let mut columns = columns.unwrap_or_else(|| ColumnMap::new(std::iter::empty(), |_| None));
        if !columns.has(Field::DateTime) {
            return Err(CalibrateError::MissingColumn {
                path: path.to_owned(),
                line: cur.line.saturating_sub(1).max(1),
                field: match format {
                    LogFormat::TrackingLog => "date-time",
                    LogFormat::PowerShellExport => "Timestamp",
                    LogFormat::MessageTrace => "Received",
                    LogFormat::DetailedReport => "date_time_utc",
                }
                .into(),
                accepted: match format {
                    LogFormat::TrackingLog => tracking::TIME_COLUMN,
                    LogFormat::PowerShellExport => powershell::TIME_COLUMN,
                    LogFormat::MessageTrace => trace::TRACE_TIME_COLUMN,
                    LogFormat::DetailedReport => trace::DETAILED_TIME_COLUMN,
                }
                .into(),
            });
        }
        let s = side(format);
        match &self.first[s] {
            Some((first, expected)) if *expected != format => {
                return Err(CalibrateError::MixedFormats {
                    path: path.to_owned(),
                    line: format_line,
                    found: format,
                    first: first.clone(),
                    expected: *expected,
                });
            }
            Some(_) => {}
            None => self.first[s] = Some((path.to_owned(), format)),
        }

        let zone = match format {
            LogFormat::PowerShellExport => self.opts.timezone.clone().unwrap_or(TimeZone::UTC),
            _ => TimeZone::UTC,
        };
        let mut time = TimeParser::new(zone, self.formats.clone());
        let separators: &[char] = match format {
            LogFormat::TrackingLog | LogFormat::DetailedReport => &[';'],
            LogFormat::PowerShellExport | LogFormat::MessageTrace => &[';', ','],
        };
        let mut string_array: Option<&'static str> = None;
        let mut other_arrays: BTreeSet<&'static str> = BTreeSet::new();
        let mut records = 0u64;
        let mut bad = 0u64;
        let version = header.version.clone();

        while have {
            let line = cur.line;
            let more = read(&mut rows, &mut next)?;
            let is_last = !more;
            let f0 = cur.get(0).unwrap_or_default();
            if format == LogFormat::TrackingLog && f0.first() == Some(&b'#') {
                header.line(&cur);
                if let Some(c) = header.columns.take() {
                    columns = c;
                }
            } else if cur.too_long {
                bad += 1;
                self.bad(
                    path,
                    line,
                    format!(
                        "longer than {} MiB (a line without a line end, or a quote left open); skipped",
                        MAX_ROW_BYTES >> 20
                    ),
                );
            } else if cur.len() == 1 && f0.is_empty() {
                // A blank line.
            } else if cur.len() != columns.width {
                bad += 1;
                let reason = if is_last && cur.len() < columns.width {
                    format!(
                        "the last line is cut short: {} of the {} fields the header names (the file was still being written, or copied partway)",
                        cur.len(),
                        columns.width
                    )
                } else {
                    format!(
                        "{} fields where the header names {}",
                        cur.len(),
                        columns.width
                    )
                };
                self.bad(path, line, reason);
            } else if !cur.terminated
                && (format == LogFormat::TrackingLog || (header_quoted && !cur.ends_quoted))
            {
                bad += 1;
                self.bad(
                    path,
                    line,
                    "the last line is cut short: it has no line end (the file was still being written, or copied partway)".into(),
                );
            } else {
                if format == LogFormat::PowerShellExport {
                    for (fld, name) in [
                        (Field::Reference, "Reference"),
                        (Field::CustomData, "EventData"),
                    ] {
                        if columns
                            .get(&cur, fld)
                            .is_some_and(|b| b.starts_with(b"System."))
                        {
                            other_arrays.insert(name);
                        }
                    }
                }
                let mut rr = RowReader {
                    cols: &columns,
                    dec: &mut dec,
                    time: &mut time,
                    list_separators: separators,
                    saw_string_array: &mut string_array,
                };
                match rr.read(&cur) {
                    Ok(mut rec) => {
                        rec.origin = Origin {
                            file: file_index,
                            line,
                            format: Some(format),
                        };
                        rec.exchange_version.clone_from(&version);
                        if let Some(s) = &rec.server
                            && !self.servers.contains(s)
                        {
                            if self.servers.len() < MAX_SERVERS {
                                self.servers.insert(s.clone());
                            } else {
                                self.too_many_servers = true;
                            }
                        }
                        records += 1;
                        sink(rec)?;
                    }
                    Err(reason) => {
                        bad += 1;
                        self.bad(path, line, reason);
                    }
                }
            }
            let done = self.bytes_before + count.get();
            if done >= self.next_progress {
                self.next_progress = done + PROGRESS_STEP;
                if let Some(p) = self.opts.progress.as_mut() {
                    p(done);
                }
            }
            std::mem::swap(&mut cur, &mut next);
            have = more;
        }

        let bytes = count.get();
        self.bytes_before += bytes;
        self.report.bytes += bytes;
        self.report.records += records;
        if let Some(p) = self.opts.progress.as_mut() {
            p(self.bytes_before);
        }
        if let Some(prop) = string_array {
            self.warn(path, powershell::string_array_fix(prop));
        }
        for prop in other_arrays {
            self.warn(
                path,
                format!(
                    "the {prop} column holds a type name instead of the values, so it was not read; join it when exporting if it is needed"
                ),
            );
        }
        if dec.used_legacy {
            self.warn(
                path,
                format!(
                    "the file is not UTF-8; its text was read as {} (give the code page if that is wrong)",
                    dec.legacy.name()
                ),
            );
        }
        if format == LogFormat::PowerShellExport && time.saw_local && self.opts.timezone.is_none() {
            self.warn(
                path,
                "the times have no time zone and were read as UTC; give --timezone with the exporting machine's zone".into(),
            );
        }
        if let Some(f) = &time.chosen_format
            && f.starts_with("%d/")
            && self.opts.date_format.is_none()
        {
            self.warn(
                path,
                format!("the times were read as day/month/year (`{f}`); give --date-format if they are month/day/year"),
            );
        }
        self.report.files.push(FileReport {
            path: path.to_owned(),
            format,
            version,
            encoding: encoding_name,
            bytes,
            records,
            bad_lines: bad,
        });
        Ok(())
    }

    fn finish(mut self) -> Result<ReadReport, CalibrateError> {
        self.report.servers = std::mem::take(&mut self.servers).into_iter().collect();
        self.report.warnings = std::mem::take(&mut self.warnings)
            .into_iter()
            .map(|(what, path, others)| match others {
                0 => format!("{}: {what}", path.display()),
                1 => format!("{}: {what} (and 1 other file)", path.display()),
                n => format!("{}: {what} (and {n} other files)", path.display()),
            })
            .collect();
        if self.too_many_servers {
            self.report.warnings.push(format!(
                "more than {MAX_SERVERS} distinct server names; the list of servers is cut there"
            ));
        }
        let total = self.report.records + self.report.bad_lines;
        if self.report.bad_lines > 0 {
            let share = self.report.bad_lines as f64 / total as f64;
            if share > self.opts.bad_line_threshold {
                let first = self
                    .report
                    .bad_examples
                    .first()
                    .map(|b| format!("{}:{}: {}", b.file.display(), b.line, b.reason))
                    .unwrap_or_default();
                return Err(CalibrateError::TooManyBadLines {
                    bad: self.report.bad_lines,
                    total,
                    share: share * 100.0,
                    threshold: self.opts.bad_line_threshold * 100.0,
                    first,
                });
            }
        }
        Ok(self.report)
    }
}

/// The start of a row as text, for error messages.
fn snippet(row: &Row) -> String {
    let mut s = String::new();
    for (i, f) in row.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&String::from_utf8_lossy(f));
        if s.len() > 60 {
            break;
        }
    }
    if s.chars().count() > 60 {
        s = s.chars().take(60).collect::<String>() + "…";
    }
    s.chars().filter(|c| !c.is_control()).collect()
}
