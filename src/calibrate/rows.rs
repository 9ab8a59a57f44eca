//! Splitting a decoded byte stream into CSV rows with exact line numbers.
//!
//! The csv crate's own line and byte positions drift on `\r\n` line ends and blank lines, and
//! logs are read for line numbers a person can open, so this feeds one physical line at a time
//! to `csv_core` (the csv crate's parser: quoting, doubled quotes, a quoted field spanning
//! lines) and counts the lines itself.
//! Must not: keep more than the current row (the buffers are reused from row to row).

use std::io::{self, BufRead};

use csv_core::{ReadRecordResult, Terminator};

/// One row's fields, reused from row to row.
#[derive(Default)]
pub(crate) struct Row {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    len: usize,
    /// The line the row starts on (the first line is 1).
    pub line: u64,
    /// False when the file ended inside this row without a line end.
    pub terminated: bool,
    /// The row's first byte was a `"`.
    pub starts_quoted: bool,
    /// The row's last byte (before any line end) was a `"`.
    pub ends_quoted: bool,
    /// The row was longer than [`MAX_ROW_BYTES`] (a line without an end, or a quote left open
    /// across lines); its fields are empty and reading goes on with the next line.
    pub too_long: bool,
}

/// The longest row read; anything longer is not a log line (every real one is a few KB).
pub(crate) const MAX_ROW_BYTES: usize = 1 << 20;

impl Row {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn get(&self, i: usize) -> Option<&[u8]> {
        if i >= self.len {
            return None;
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(&self.bytes[start..self.ends[i]])
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        (0..self.len).filter_map(|i| self.get(i))
    }
}

pub(crate) struct Rows<R> {
    rdr: R,
    core: csv_core::Reader,
    line_buf: Vec<u8>,
    line_no: u64,
}

impl<R: BufRead> Rows<R> {
    pub fn new(rdr: R) -> Self {
        Rows {
            rdr,
            core: csv_core::ReaderBuilder::new()
                .terminator(Terminator::Any(b'\n'))
                .build(),
            line_buf: Vec::with_capacity(1024),
            line_no: 0,
        }
    }

    /// Reads one physical line into `line_buf`, keeping at most `cap` bytes; when the line is
    /// longer, the rest of it is skipped and `true` returned. Returns the bytes kept.
    fn read_line_capped(&mut self, cap: usize) -> io::Result<(usize, bool)> {
        let mut cut = false;
        loop {
            let buf = match self.rdr.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok((self.line_buf.len(), cut));
            }
            let (take, done) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            if !cut {
                let room = cap.saturating_sub(self.line_buf.len());
                if take > room {
                    cut = true;
                } else {
                    self.line_buf.extend_from_slice(&buf[..take]);
                }
            }
            self.rdr.consume(take);
            if done {
                return Ok((self.line_buf.len(), cut));
            }
        }
    }

    /// Reads the next row that is not blank; false at the end of the input.
    pub fn next(&mut self, row: &mut Row) -> io::Result<bool> {
        row.len = 0;
        row.terminated = true;
        row.too_long = false;
        let (mut outlen, mut endlen) = (0usize, 0usize);
        let mut started = false;
        let mut row_bytes = 0usize;
        loop {
            self.line_buf.clear();
            let (n, cut) = self.read_line_capped(MAX_ROW_BYTES.saturating_sub(row_bytes))?;
            row_bytes += n;
            if cut {
                // Too long: drop the row, start the next one afresh.
                self.line_no += 1;
                if !started {
                    row.line = self.line_no;
                }
                self.core.reset();
                row.len = 0;
                row.too_long = true;
                row.terminated = true;
                return Ok(true);
            }
            let at_eof = n == 0;
            if at_eof && !started {
                return Ok(false);
            }
            let mut content: &[u8] = &self.line_buf;
            let mut had_end = false;
            if !at_eof {
                self.line_no += 1;
                if let Some(c) = content.strip_suffix(b"\n") {
                    content = c.strip_suffix(b"\r").unwrap_or(c);
                    had_end = true;
                }
                row.ends_quoted = content.last() == Some(&b'"');
                if !started {
                    if content.is_empty() {
                        continue;
                    }
                    started = true;
                    row.line = self.line_no;
                    row.starts_quoted = content.first() == Some(&b'"');
                }
            }
            // Feed the line's content, then its line end (a `\n`, which ends the row unless a
            // quoted field is open), or at the end of the input an empty slice (the end).
            let pieces: [&[u8]; 2] = [content, if had_end { b"\n" } else { b"" }];
            for (k, piece) in pieces.iter().enumerate() {
                let mut input: &[u8] = piece;
                let last_piece = k == 1;
                if !last_piece && input.is_empty() {
                    continue;
                }
                loop {
                    if row.bytes.len() < outlen + input.len().max(64) {
                        row.bytes.resize((outlen + input.len()).max(64) * 2, 0);
                    }
                    if row.ends.len() <= endlen + 1 {
                        row.ends.resize((endlen + 2).max(32) * 2, 0);
                    }
                    let (res, nin, nout, nend) = self.core.read_record(
                        input,
                        &mut row.bytes[outlen..],
                        &mut row.ends[endlen..],
                    );
                    input = &input[nin..];
                    outlen += nout;
                    endlen += nend;
                    match res {
                        // The line's content is taken (or a quoted field is open at the line
                        // end: the next line goes on with it).
                        ReadRecordResult::InputEmpty if !last_piece || had_end => {
                            if input.is_empty() {
                                break;
                            }
                        }
                        // The end of the input.
                        ReadRecordResult::InputEmpty | ReadRecordResult::End => {
                            row.len = endlen;
                            row.terminated = false;
                            return Ok(endlen > 0);
                        }
                        ReadRecordResult::OutputFull | ReadRecordResult::OutputEndsFull => {
                            let b = row.bytes.len() * 2;
                            row.bytes.resize(b, 0);
                            let e = row.ends.len() * 2;
                            row.ends.resize(e, 0);
                        }
                        ReadRecordResult::Record => {
                            row.len = endlen;
                            row.terminated = had_end;
                            return Ok(true);
                        }
                    }
                }
            }
            // A quoted field is open across the line end: go on with the next line.
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &[u8]) -> Vec<(u64, bool, Vec<String>)> {
        let mut r = Rows::new(text);
        let mut row = Row::default();
        let mut out = Vec::new();
        while r.next(&mut row).unwrap() {
            out.push((
                row.line,
                row.terminated,
                row.iter()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ));
        }
        out
    }

    #[test]
    fn lines_quotes_and_ends() {
        let got = rows(b"a,b\r\n\r\n\"x, \"\"y\"\"\",\"two\r\nlines\"\r\nlast,\"cut");
        assert_eq!(
            got,
            vec![
                (1, true, vec!["a".into(), "b".into()]),
                (3, true, vec!["x, \"y\"".into(), "two\nlines".into()]),
                (5, false, vec!["last".into(), "cut".into()]),
            ]
        );
        assert_eq!(rows(b"a\n\n\nb\n")[1].0, 4);
        assert_eq!(
            rows(b"a,b,c\n"),
            vec![(1, true, vec!["a".into(), "b".into(), "c".into()])]
        );
        assert_eq!(rows(b"a,\n")[0].2, ["a", ""]);
        assert!(rows(b"").is_empty());
        assert!(rows(b"\r\n\n").is_empty());
    }

    #[test]
    fn overlong_rows_are_cut_and_reading_goes_on() {
        let mut text = b"a,b\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_ROW_BYTES + 10));
        text.extend_from_slice(b"\nc,d\n\"open,quote\n");
        for _ in 0..(MAX_ROW_BYTES / 10) {
            text.extend_from_slice(b"123456789\n");
        }
        let mut r = Rows::new(&text[..]);
        let mut row = Row::default();
        let mut got = Vec::new();
        while r.next(&mut row).unwrap() {
            got.push((row.line, row.too_long, row.len()));
        }
        // The open quote swallows lines until the cap, then reading resumes on the next line.
        assert_eq!(got[..3], [(1, false, 2), (2, true, 0), (3, false, 2)]);
        assert_eq!(got[3].0, 4);
        assert!(got[3].1);
        assert!(got.len() >= 4);
    }
}
