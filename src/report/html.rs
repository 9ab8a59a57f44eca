//! `report.html`: one self-contained page per output folder — the scenario's name and hash,
//! the tables, the pictures, the warnings and the exact command that made them — to open
//! instead of hunting through the folder's files.
//!
//! Self-contained means no request leaves the file: the CSS is inline, the SVGs are inlined
//! (plotters escapes their text), there is no script, font or external stylesheet; links to the
//! folder's CSV files are relative and fetched only when clicked. Every table is rendered
//! from the CSV file it shows, cell for cell (only a selection of columns, named as in the
//! file), so the page can never disagree with the files. Every string is escaped with
//! `html-escape`; nothing here formats user text into markup unescaped.
//!
//! The one entry point other commands use is [`write`]: build a [`Report`] naming the
//! folder's files, and it renders the page into the folder (files that are not there are left
//! out, so optional ones such as `compare.csv` can be named always). `run_report`,
//! `sweep_report` and `capacity_report` build the reports of the commands in this crate.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use html_escape::{encode_double_quoted_attribute as attr, encode_text as text};

use super::{ReportError, write_atomic};

/// The file name.
pub const FILE: &str = "report.html";

/// The command line shown in every report; set once by the binary (`set_command`).
static COMMAND: OnceLock<String> = OnceLock::new();

/// Records the command line (the program's arguments) every report of this process shows.
pub fn set_command<I: IntoIterator<Item = S>, S: AsRef<str>>(args: I) {
    let line = args
        .into_iter()
        .map(|a| shell_quote(a.as_ref()))
        .collect::<Vec<_>>()
        .join(" ");
    let _ = COMMAND.set(line);
}

/// The recorded command line, or None when the library was called without the binary.
pub fn command() -> Option<&'static str> {
    COMMAND.get().map(String::as_str)
}

/// `a` as a POSIX shell word: unchanged when it needs no quoting, otherwise single-quoted.
fn shell_quote(a: &str) -> String {
    let plain = !a.is_empty()
        && a.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        a.to_string()
    } else {
        format!("'{}'", a.replace('\'', "'\\''"))
    }
}

/// A report page: what produced it, then sections of prose, tables and pictures.
pub struct Report {
    /// The page title, e.g. "mailflow run: hybrid-routing".
    pub title: String,
    pub scenario: String,
    pub scenario_sha256: String,
    pub description: Option<String>,
    /// Short facts shown under the title (seed, replications, …), as (label, value).
    pub facts: Vec<(String, String)>,
    /// Things a reader must not miss (unstable points, fragile answers, a warm-up too short).
    pub warnings: Vec<String>,
    pub sections: Vec<Section>,
}

pub struct Section {
    pub heading: String,
    /// Paragraphs of plain text (escaped).
    pub text: Vec<String>,
    pub items: Vec<Item>,
}

pub enum Item {
    /// The CSV file `file` of the folder as a table: the columns named (all when empty), at
    /// most `max_rows` rows (all when None).
    Table {
        file: String,
        columns: Vec<String>,
        max_rows: Option<usize>,
    },
    /// The SVG file `file` of the folder, inlined, with a caption.
    Picture { file: String, caption: String },
    /// Preformatted text (a terminal table, a paragraph a command printed).
    Pre(String),
    /// Lines of prose a command printed (one finding per line): monospaced like [`Item::Pre`],
    /// but each long line wraps, with a hanging indent, instead of running off the page.
    Lines(String),
}

impl Section {
    pub fn new(heading: impl Into<String>) -> Section {
        Section {
            heading: heading.into(),
            text: Vec::new(),
            items: Vec::new(),
        }
    }
    pub fn text(mut self, t: impl Into<String>) -> Section {
        self.text.push(t.into());
        self
    }
    /// A table of `file` with these columns (empty: all of them).
    pub fn table(mut self, file: &str, columns: &[&str]) -> Section {
        self.items.push(Item::Table {
            file: file.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            max_rows: None,
        });
        self
    }
    pub fn table_rows(mut self, file: &str, columns: &[&str], max_rows: usize) -> Section {
        self.items.push(Item::Table {
            file: file.into(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            max_rows: Some(max_rows),
        });
        self
    }
    pub fn picture(mut self, file: &str, caption: impl Into<String>) -> Section {
        self.items.push(Item::Picture {
            file: file.into(),
            caption: caption.into(),
        });
        self
    }
    pub fn pre(mut self, t: impl Into<String>) -> Section {
        self.items.push(Item::Pre(t.into()));
        self
    }

    pub fn lines(mut self, t: impl Into<String>) -> Section {
        self.items.push(Item::Lines(t.into()));
        self
    }
}

const CSS: &str = r#"
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 15px; line-height: 1.45; color: #1a1a1a; background: #fff;
  max-width: 1180px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 1.6em; margin: 0 0 4px; }
h2 { font-size: 1.25em; margin: 32px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #d0d0d0; }
p { margin: 6px 0; max-width: 80ch; }
.sub { color: #555; margin: 0 0 12px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 12px 0; }
dl.facts dt { color: #555; }
dl.facts dd { margin: 0; }
code, pre, .hash { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace; font-size: 0.9em; }
pre { background: #f6f6f6; border: 1px solid #e0e0e0; padding: 8px 10px; overflow-x: auto; white-space: pre; }
pre.command { white-space: pre-wrap; word-break: break-all; }
div.lines { background: #f6f6f6; border: 1px solid #e0e0e0; padding: 8px 10px 8px 28px;
  font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; }
div.lines p { margin: 0; max-width: none; text-indent: -18px; white-space: pre-wrap; }
.hash { word-break: break-all; }
nav ul { margin: 4px 0; padding-left: 20px; columns: 2; }
.warnings { border-left: 4px solid #d55e00; background: #fff4ec; padding: 8px 14px; margin: 16px 0; }
.warnings h2 { border: none; margin: 4px 0; font-size: 1.1em; }
.warnings ul { margin: 4px 0; padding-left: 20px; }
.none { color: #555; }
.wide { overflow-x: auto; margin: 8px 0 4px; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: #555; padding: 2px 0 4px; caption-side: top; }
th, td { border: 1px solid #d8d8d8; padding: 3px 7px; vertical-align: top; white-space: nowrap; }
th { background: #f0f0f0; font-weight: 600; text-align: left; white-space: nowrap; }
td.num { text-align: right; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafafa; }
figure { margin: 16px 0; }
figure svg { max-width: 100%; height: auto; display: block; border: 1px solid #e4e4e4; }
figcaption { color: #555; font-size: 0.9em; margin-top: 4px; }
.files { font-size: 0.9em; }
@media print {
  @page { size: A4; margin: 12mm; }
  body { font-size: 10pt; max-width: none; padding: 0; }
  h2 { break-after: avoid; }
  table { font-size: 7.5pt; }
  th, td { padding: 1px 4px; }
  .wide { overflow: visible; }
  figure { break-inside: avoid; }
  figure svg { max-height: 160mm; width: auto; }
  nav { display: none; }
  pre { white-space: pre-wrap; }
}
"#;

/// A CSV file read for a table.
struct Csv {
    head: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_csv(path: &Path) -> Result<Option<Csv>, ReportError> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => {
            return Err(ReportError::Write {
                file: path.to_path_buf(),
                error,
            });
        }
    };
    let err = |source| ReportError::Csv {
        file: path.to_path_buf(),
        source,
    };
    let mut r = ::csv::ReaderBuilder::new().from_reader(bytes.as_slice());
    let head = r
        .headers()
        .map_err(err)?
        .iter()
        .map(str::to_string)
        .collect();
    let mut rows = Vec::new();
    for rec in r.records() {
        rows.push(rec.map_err(err)?.iter().map(str::to_string).collect());
    }
    Ok(Some(Csv { head, rows }))
}

fn is_number(cell: &str) -> bool {
    !cell.is_empty() && cell.parse::<f64>().is_ok()
}

/// Lower-case words joined by dashes: an id for a heading.
fn anchor(heading: &str) -> String {
    let mut a = String::new();
    for c in heading.chars() {
        if c.is_ascii_alphanumeric() {
            a.push(c.to_ascii_lowercase());
        } else if !a.ends_with('-') && !a.is_empty() {
            a.push('-');
        }
    }
    a.trim_end_matches('-').to_string()
}

fn render_table(
    out: &mut String,
    dir: &Path,
    file: &str,
    columns: &[String],
    max_rows: Option<usize>,
) -> Result<bool, ReportError> {
    let Some(csv) = read_csv(&dir.join(file))? else {
        return Ok(false);
    };
    let idx: Vec<usize> = if columns.is_empty() {
        (0..csv.head.len()).collect()
    } else {
        columns
            .iter()
            .filter_map(|c| csv.head.iter().position(|h| h == c))
            .collect()
    };
    let shown = max_rows.unwrap_or(usize::MAX).min(csv.rows.len());
    let _ = write!(
        out,
        "<div class=\"wide\"><table data-csv=\"{}\"><caption><a href=\"{}\">{}</a>",
        attr(file),
        attr(file),
        text(file)
    );
    if idx.len() < csv.head.len() {
        let _ = write!(out, " — {} of {} columns", idx.len(), csv.head.len());
    }
    if shown < csv.rows.len() {
        let _ = write!(out, "; the first {shown} of {} rows", csv.rows.len());
    }
    out.push_str("</caption>\n<thead><tr>");
    for &i in &idx {
        let _ = write!(out, "<th>{}</th>", text(&csv.head[i]));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in csv.rows.iter().take(shown) {
        out.push_str("<tr>");
        for &i in &idx {
            let cell = row.get(i).map(String::as_str).unwrap_or("");
            if is_number(cell) {
                let _ = write!(out, "<td class=\"num\">{}</td>", text(cell));
            } else {
                let _ = write!(out, "<td>{}</td>", text(cell));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    Ok(true)
}

/// The SVG text of `file`, from its `<svg` element on (no XML prolog), or None when absent.
fn read_svg(path: &Path) -> Result<Option<String>, ReportError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Ok(s.find("<svg").map(|i| s[i..].to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(ReportError::Write {
            file: path.to_path_buf(),
            error,
        }),
    }
}

/// The page's HTML for `r`, reading the files it names from `dir`.
pub fn render(dir: &Path, r: &Report) -> Result<String, ReportError> {
    let mut body = String::new();
    let mut toc: Vec<(String, String)> = Vec::new();
    for s in &r.sections {
        let mut inner = String::new();
        for t in &s.text {
            let _ = writeln!(inner, "<p>{}</p>", text(t));
        }
        let mut shown = 0;
        for item in &s.items {
            match item {
                Item::Table {
                    file,
                    columns,
                    max_rows,
                } => {
                    if render_table(&mut inner, dir, file, columns, *max_rows)? {
                        shown += 1;
                    }
                }
                Item::Picture { file, caption } => {
                    if let Some(svg) = read_svg(&dir.join(file))? {
                        let _ = write!(
                            inner,
                            "<figure id=\"{}\">{svg}<figcaption>{} (<a href=\"{}\">{}</a>)</figcaption></figure>\n",
                            attr(&anchor(file)),
                            text(caption),
                            attr(file),
                            text(file)
                        );
                        shown += 1;
                    }
                }
                Item::Pre(t) => {
                    let _ = writeln!(inner, "<pre>{}</pre>", text(t));
                    shown += 1;
                }
                Item::Lines(t) => {
                    let _ = write!(inner, "<div class=\"lines\">");
                    for line in t.lines() {
                        let _ = write!(inner, "<p>{}</p>", text(line));
                    }
                    let _ = writeln!(inner, "</div>");
                    shown += 1;
                }
            }
        }
        // A section whose files are all absent (no outages, no paired comparison) is left out.
        if shown == 0 && !s.items.is_empty() {
            continue;
        }
        let id = anchor(&s.heading);
        let _ = write!(
            body,
            "<section id=\"{}\">\n<h2>{}</h2>\n{inner}</section>\n",
            attr(&id),
            text(&s.heading)
        );
        toc.push((id, s.heading.clone()));
    }

    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // No request may leave the file: forbid every fetch but inline styles and images.
    out.push_str(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n",
    );
    let _ = writeln!(out, "<title>{}</title>", text(&r.title));
    let _ = writeln!(out, "<style>{CSS}</style>\n</head>\n<body>");
    let _ = writeln!(out, "<header>\n<h1>{}</h1>", text(&r.title));
    if let Some(d) = &r.description {
        let _ = writeln!(out, "<p class=\"sub\">{}</p>", text(d));
    }
    out.push_str("<dl class=\"facts\">\n");
    let _ = writeln!(out, "<dt>scenario</dt><dd>{}</dd>", text(&r.scenario));
    let _ = writeln!(
        out,
        "<dt>scenario SHA-256</dt><dd class=\"hash\">{}</dd>",
        text(&r.scenario_sha256)
    );
    for (k, v) in &r.facts {
        let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", text(k), text(v));
    }
    let _ = writeln!(
        out,
        "<dt>program</dt><dd>mailflow {}</dd>",
        text(env!("CARGO_PKG_VERSION"))
    );
    out.push_str("</dl>\n");
    let _ = writeln!(
        out,
        "<p>Made by:</p>\n<pre class=\"command\" id=\"command\">{}</pre>",
        text(command().unwrap_or("(written through the library, not the mailflow command)"))
    );
    out.push_str("</header>\n");
    out.push_str("<div class=\"warnings\" id=\"warnings\">\n<h2>Warnings</h2>\n");
    if r.warnings.is_empty() {
        out.push_str("<p class=\"none\">None.</p>\n");
    } else {
        out.push_str("<ul>\n");
        for w in &r.warnings {
            let _ = writeln!(out, "<li>{}</li>", text(w));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</div>\n");
    if toc.len() > 2 {
        out.push_str("<nav><p>Contents</p><ul>\n");
        for (id, h) in &toc {
            let _ = writeln!(out, "<li><a href=\"#{}\">{}</a></li>", attr(id), text(h));
        }
        out.push_str("</ul></nav>\n");
    }
    out.push_str(&body);
    out.push_str("</body>\n</html>\n");
    Ok(out)
}

/// Renders `r` into `dir/report.html` (atomically), reading the files it names from `dir`;
/// returns the path. Files a section names that are absent are left out.
pub fn write(dir: &Path, r: &Report) -> Result<PathBuf, ReportError> {
    let page = render(dir, r)?;
    let path = dir.join(FILE);
    write_atomic(&path, page.as_bytes())?;
    Ok(path)
}

fn scenario_head(title: String, scn: &crate::scenario::Scenario) -> Report {
    Report {
        title,
        scenario: scn.name.clone(),
        scenario_sha256: scn.hash.clone(),
        description: scn.description.clone(),
        facts: vec![("scenario file".into(), scn.file.display().to_string())],
        warnings: Vec::new(),
        sections: Vec::new(),
    }
}

/// Percent with one decimal.
fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

/// The columns of `summary.csv` (and `sweep.csv`) a reader compares first.
const SUMMARY_COLUMNS: [&str; 12] = [
    "variant",
    "flow",
    "delivered_per_rep",
    "throughput_per_s",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "p99_ms_ci95_lo",
    "p99_ms_ci95_hi",
    "p999_ms",
    "max_ms",
    "expired_per_rep",
];

const HOP_COLUMNS: [&str; 13] = [
    "variant",
    "hop",
    "kind",
    "servers",
    "utilization",
    "offered_utilization",
    "mean_queue_len",
    "max_queue_len",
    "mean_wait_ms",
    "p99_wait_ms",
    "deferrals_per_rep",
    "expired_per_rep",
    "rejected_per_rep",
];

/// Warnings of a run: recipients left in flight or expired, stations whose Little's law check
/// is off (a window too short for the load).
fn run_warnings(study: &crate::runner::StudyOutcome) -> Vec<String> {
    let mut w = Vec::new();
    for v in &study.variants {
        let a = v.accounting;
        if a.generated > 0 && a.in_flight as f64 > 0.01 * a.generated as f64 {
            w.push(format!(
                "{}: {} of {} recipients ({}) were still in flight when the run ended; a hop may \
                 be saturated or the run too short for its backlog to drain",
                v.name,
                a.in_flight,
                a.generated,
                pct(a.in_flight as f64 / a.generated as f64)
            ));
        }
        if a.expired > 0 {
            w.push(format!(
                "{}: {} recipients expired (see accounting.csv and the flows' expired_per_rep)",
                v.name, a.expired
            ));
        }
        for s in &v.stations {
            let e = s.summary.littles_law_rel_err;
            if e.is_finite() && e > 0.05 {
                w.push(format!(
                    "{}: hop {} breaks Little's law by {} (L against λW); its figures come from a \
                     statistics window that is too short for its queue",
                    v.name,
                    s.name,
                    pct(e)
                ));
            }
        }
    }
    w
}

/// The report of a run (or of merged run shards).
pub fn run_report(scn: &crate::scenario::Scenario, study: &crate::runner::StudyOutcome) -> Report {
    let mut r = scenario_head(format!("mailflow run: {}", scn.name), scn);
    r.facts.extend([
        ("seed".into(), study.seed.to_string()),
        ("replications".into(), study.replications.to_string()),
        (
            "variants".into(),
            study
                .variants
                .iter()
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "simulated per replication".into(),
            match scn.run.duration {
                Some(d) => format!(
                    "{} s after a {} s warm-up",
                    d.as_secs_f64(),
                    scn.run.warmup.as_secs_f64()
                ),
                None => format!(
                    "until the message limit; warm-up {} s",
                    scn.run.warmup.as_secs_f64()
                ),
            },
        ),
        ("load scale".into(), scn.run.load_scale.to_string()),
    ]);
    r.warnings = run_warnings(study);
    let mut flows: Vec<&str> = Vec::new();
    for v in &study.variants {
        for (f, _) in &v.flows {
            if !flows.contains(&f.as_str()) {
                flows.push(f);
            }
        }
    }
    r.sections.push(
        Section::new("Comparison")
            .text(
                "One row per variant and flow: latency per delivered recipient (ms), each figure \
                 the mean over replications, with the 95% interval of p99. The file has every \
                 figure's interval.",
            )
            .table("summary.csv", &SUMMARY_COLUMNS),
    );
    if let Some(p) = &study.precision {
        let short = p.short().count();
        r.sections.push(
            Section::new("Replications until precise")
                .text(format!(
                    "--precision {}%: {} replications (rounds {}, at most {}); {}. Each watched \
                     figure with its 95% interval and half-width as a share of its value.",
                    crate::report::num::sig6(p.share * 100.0).unwrap_or_default(),
                    p.replications,
                    p.rounds
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(", "),
                    p.max_replications,
                    if p.met() {
                        "every figure met the target".to_string()
                    } else {
                        format!("{short} figures fell short of the target")
                    }
                ))
                .table("precision.csv", &[]),
        );
    }
    r.sections.push(
        Section::new("Paired comparison")
            .text(
                "Differences between variants from paired replications (the variants share \
                 their arrivals), with 95% intervals.",
            )
            .table(
                "compare.csv",
                &[
                    "variant",
                    "baseline",
                    "flow",
                    "figure",
                    "variant_value",
                    "baseline_value",
                    "diff",
                    "diff_ci95_lo",
                    "diff_ci95_hi",
                    "diff_pct",
                    "verdict",
                ],
            ),
    );
    let mut pictures = Section::new("Latency by percentile").text(
        "One picture per flow, the variants overlaid; the percentile axis is stretched toward \
         the tail (90%, 99%, 99.9% … one step apart).",
    );
    for f in &flows {
        pictures = pictures.picture(
            &format!("latency-{f}.svg"),
            format!("{f}: latency by percentile"),
        );
    }
    r.sections.push(pictures);
    r.sections.push(
        Section::new("Per-hop utilization")
            .picture(
                "utilization.svg",
                "Measured utilization of every finite-capacity hop, per variant",
            )
            .table("hops.csv", &HOP_COLUMNS),
    );
    r.sections.push(
        Section::new("Accounting")
            .text(
                "Every generated recipient in exactly one end state, totals over all replications \
                 and the whole run (warm-up included).",
            )
            .table("accounting.csv", &[]),
    );
    r.sections.push(
        Section::new("Costs")
            .text(
                "Daily figures are the simulated peak-hour rates × 86 400 s ÷ the peak factor; \
                 GB are 10⁹ bytes.",
            )
            .table("costs.csv", &[]),
    );
    r.sections.push(
        Section::new("Outages")
            .text("Each outage of each replication: the backlog it built and how long it took to drain.")
            .table("outages.csv", &[]),
    );
    r.sections.push(Section::new("Files").text(
        "The folder also holds hgrm/<variant>.<flow>.hgrm (HdrHistogram percentile \
         distributions, milliseconds) and manifest.json (what produced it).",
    ));
    r
}

/// The report of a sweep.
/// `pictures` names the SVG files written beside it.
pub fn sweep_report(sweep: &crate::sweep::SweepOutcome, pictures: &[String]) -> Report {
    let scn = &sweep.first;
    let mut r = scenario_head(format!("mailflow sweep: {}", scn.name), scn);
    let first = &sweep.points[0].outcome;
    r.facts.extend([
        ("swept".into(), sweep.axes.join(", ")),
        ("points".into(), sweep.points.len().to_string()),
        ("seed".into(), first.seed.to_string()),
        (
            "replications per point".into(),
            first.replications.to_string(),
        ),
    ]);
    for p in &sweep.points {
        for pv in &p.variants {
            if let Some(u) = &pv.unstable {
                let at: Vec<String> = p
                    .overrides
                    .iter()
                    .map(|o| {
                        format!(
                            "{}={}",
                            o.path,
                            crate::scenario::overrides::value_text(&o.value)
                        )
                    })
                    .collect();
                r.warnings.push(format!(
                    "{} at {}: not simulated, {} is offered {} of its capacity (status unstable)",
                    pv.name,
                    at.join(" "),
                    u.station,
                    pct(u.utilization)
                ));
            }
        }
    }
    let mut columns: Vec<&str> = sweep.axes.iter().map(String::as_str).collect();
    columns.extend(["load_scale", "status", "max_offered_utilization"]);
    columns.extend(SUMMARY_COLUMNS);
    r.sections.push(
        Section::new("Points")
            .text("One line per point and variant: the flow with the highest p99 and the busiest hop.")
            .pre(super::terminal::sweep_table(sweep)),
    );
    let mut shown = Section::new("Pictures").text(
        "p99 against the swept value, one line per variant (one panel per value of the other \
         swept settings), with 95% intervals and the SLO where one was given.",
    );
    for f in pictures {
        shown = shown.picture(f, f.trim_end_matches(".svg").replace('-', " "));
    }
    let pictures = shown;
    r.sections.push(pictures);
    r.sections.push(
        Section::new("Every point")
            .text("sweep.csv, one row per point × variant × flow.")
            .table_rows("sweep.csv", &columns, 400),
    );
    r
}

/// The report of a capacity search.
/// `pictures` names the SVG files written beside it.
pub fn capacity_report(
    scn: &crate::scenario::Scenario,
    c: &crate::capacity::CapacityOutcome,
    pictures: &[String],
) -> Report {
    use crate::capacity::{Knob, Verdict};
    let mut r = scenario_head(format!("mailflow capacity: {}", scn.name), scn);
    r.facts.extend([
        (
            "SLOs".into(),
            c.spec
                .slos
                .iter()
                .map(|s| s.text.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "searched".into(),
            match &c.spec.knob {
                Knob::LoadScale => "the load scale".to_string(),
                Knob::Servers(h) => format!("servers of {h}"),
            },
        ),
        ("seed".into(), c.seed.to_string()),
        ("replications per point".into(), c.replications.to_string()),
        ("configurations simulated".into(), c.simulated.to_string()),
    ]);
    for a in &c.answers {
        if !a.feasible() {
            r.warnings.push(format!(
                "{}: no configuration tried meets every SLO{}",
                a.variant,
                a.cannot_help
                    .as_deref()
                    .map(|why| format!("; more servers cannot help: {why}"))
                    .unwrap_or_default()
            ));
        }
        if let Some(f) = a.first_fail.map(|i| &a.steps[i])
            && matches!(f.verdict, Verdict::Fail { sure: false, .. })
        {
            r.warnings.push(format!(
                "{}: the first failing configuration only possibly fails (its interval straddles \
                 the limit); more replications would sharpen the answer",
                a.variant
            ));
        }
    }
    r.sections.push(
        Section::new("Answer")
            .lines(super::terminal::capacity_text(&scn.name, c))
            .table(
                "capacity.csv",
                &[
                    "variant",
                    "search",
                    "hop",
                    "feasible",
                    "load_scale",
                    "servers",
                    "first_failing_load_scale",
                    "first_failing_servers",
                    "first_failing_verdict",
                    "tightest_slo",
                    "tightest_value_ms",
                    "tightest_ci95_hi_ms",
                    "tightest_limit_ms",
                    "bottleneck",
                    "bottleneck_utilization",
                ],
            ),
    );
    let mut shown = Section::new("Pictures").text(
        "Each SLO's figure at the configurations the search tried (with its limit), then the \
         latency curves and utilization at each variant's answer.",
    );
    for f in pictures {
        shown = shown.picture(f, f.trim_end_matches(".svg").replace('-', " "));
    }
    let pictures = shown;
    r.sections.push(pictures);
    r.sections.push(
        Section::new("Every step")
            .text("capacity_steps.csv: every configuration the search tried, one row per SLO.")
            .table("capacity_steps.csv", &[]),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("run"), "run");
        assert_eq!(shell_quote("--set=a.b=1..3:1"), "--set=a.b=1..3:1");
        assert_eq!(
            shell_quote("inbound_to_onprem.p99<=5s"),
            "'inbound_to_onprem.p99<=5s'"
        );
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn every_string_is_escaped_and_tables_follow_their_csv() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("t.csv"),
            "variant,p99_ms,note\n\"<b>&x\",1.5,\"a \"\"q\"\"\"\n",
        )
        .unwrap();
        let r = Report {
            title: "mailflow run: <script>".into(),
            scenario: "s&<i>".into(),
            scenario_sha256: "ab".into(),
            description: Some("\"quoted\" <img src=x>".into()),
            facts: vec![],
            warnings: vec!["<w>".into()],
            sections: vec![
                Section::new("Table <1>").table("t.csv", &["variant", "p99_ms"]),
                Section::new("Absent").table("missing.csv", &[]),
            ],
        };
        let page = render(dir.path(), &r).unwrap();
        assert!(!page.contains("<script>") && !page.contains("<img") && !page.contains("<b>"));
        assert!(page.contains("mailflow run: &lt;script&gt;"));
        assert!(page.contains("<td>&lt;b&gt;&amp;x</td><td class=\"num\">1.5</td>"));
        assert!(page.contains("2 of 3 columns"));
        assert!(
            !page.contains("Absent"),
            "a section without its files is left out"
        );
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
