//! Outputs: CSV files, HdrHistogram percentile distributions, the manifest, and the terminal
//! table. One module per format. Commands never write into `--out` directly: [`output`]
//! checks the location before any work, the writers here fill a staging directory beside it,
//! and the whole set is swapped into place at the end (so a reader sees the previous set or
//! the new one, never a mix); each file is also written whole (temporary file, then rename).
//!
//! Machine-readable outputs have fixed units (named in the column) and write each number at
//! its unit's resolution (`num`: ms and s to 1 µs, ratios to 6 significant digits, counts as
//! integers); only the terminal table rounds further.

pub mod compare;
pub mod csv;
pub mod explain;
pub mod hgrm;
pub mod html;
pub mod manifest;
pub mod num;
pub mod output;
pub mod precision;
pub mod svg;
pub mod terminal;
pub mod validation;
pub mod warmup;

use std::io::Write;
use std::path::{Path, PathBuf};

// I/O errors are printed in the message and deliberately not chained as `source`: main
// prints the whole chain, which would say the operating system's words twice.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("output directory {dir} {why}; choose another with --out")]
    Output { dir: PathBuf, why: String },
    #[error("cannot create output directory {dir}: {error}; choose another with --out")]
    CreateDir { dir: PathBuf, error: std::io::Error },
    #[error("cannot write {file}: {error}")]
    Write {
        file: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot format CSV for {file}: {source}")]
    Csv { file: PathBuf, source: ::csv::Error },
    #[error("{file}: {error}")]
    Svg { file: PathBuf, error: svg::SvgError },
}

impl ReportError {
    /// The process exit code this error calls for (see [`crate::error`]): every write or
    /// picture failure is refused input or an unusable output folder.
    pub fn exit_code(&self) -> u8 {
        crate::error::BAD_INPUT
    }
}

fn write_svg(
    path: PathBuf,
    drawn: Result<String, svg::SvgError>,
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    let text = drawn.map_err(|error| ReportError::Svg {
        file: path.clone(),
        error,
    })?;
    write_atomic(&path, text.as_bytes())?;
    written.push(path);
    Ok(())
}

/// What the pictures of one variant draw: each flow's merged latency histogram and each
/// station's mean utilization (None for stations without finite servers).
pub struct VariantPicture<'a> {
    pub flows: Vec<(&'a str, &'a hdrhistogram::Histogram<u64>)>,
    /// (station, has finite servers, mean utilization)
    pub stations: Vec<(&'a str, bool, Option<f64>)>,
}

impl<'a> VariantPicture<'a> {
    pub fn of(v: &'a crate::runner::VariantOutcome) -> VariantPicture<'a> {
        VariantPicture {
            flows: v
                .flows
                .iter()
                .map(|(n, f)| (n.as_str(), &f.merged))
                .collect(),
            stations: v
                .stations
                .iter()
                .map(|s| {
                    (
                        s.name.as_str(),
                        s.servers.is_some(),
                        s.summary.utilization.map(|u| u.mean),
                    )
                })
                .collect(),
        }
    }

    pub fn of_stored(p: &'a crate::capacity::AnswerPicture) -> VariantPicture<'a> {
        VariantPicture {
            flows: p.flows.iter().map(|(n, h)| (n.as_str(), h)).collect(),
            stations: p
                .stations
                .iter()
                .map(|(n, finite, u)| (n.as_str(), *finite, *u))
                .collect(),
        }
    }
}

/// `latency-<flow>.svg` per flow (the variants overlaid) and `utilization.svg`, for variants
/// labelled as given; `context` ends each title (e.g. "at the capacity found").
fn write_variant_pictures(
    dir: &Path,
    scenario: &str,
    context: &str,
    variants: &[(String, VariantPicture<'_>)],
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    let mut flows: Vec<&str> = Vec::new();
    for (_, v) in variants {
        for (f, _) in &v.flows {
            if !flows.contains(f) {
                flows.push(f);
            }
        }
    }
    for flow in flows {
        let curves: Vec<svg::Curve<'_>> = variants
            .iter()
            .filter_map(|(label, v)| {
                let (_, h) = v.flows.iter().find(|(n, _)| *n == flow)?;
                Some(svg::Curve {
                    name: label,
                    histogram: h,
                })
            })
            .collect();
        write_svg(
            dir.join(format!("latency-{flow}.svg")),
            svg::latency_curves(
                &format!("{scenario}: {flow} latency by percentile{context}"),
                &curves,
            ),
            written,
        )?;
    }
    let mut stations: Vec<String> = Vec::new();
    for (_, v) in variants {
        for (name, finite, _) in &v.stations {
            if *finite && !stations.iter().any(|s| s == name) {
                stations.push(name.to_string());
            }
        }
    }
    let bars: Vec<(String, Vec<Option<f64>>)> = variants
        .iter()
        .map(|(label, v)| {
            let us = stations
                .iter()
                .map(|name| {
                    v.stations
                        .iter()
                        .find(|s| s.0 == name)
                        .and_then(|s| s.2)
                        .filter(|u| u.is_finite())
                })
                .collect();
            (label.clone(), us)
        })
        .collect();
    write_svg(
        dir.join("utilization.svg"),
        svg::utilization_bars(
            &format!("{scenario}: utilization of finite-capacity stations{context}"),
            &stations,
            &bars,
        ),
        written,
    )
}

/// Writes a shard's files (from `shard::encode`, manifest last) into `dir`, each atomically
/// and in order, so a directory with a manifest holds the whole shard; returns the paths.
pub fn write_shard(dir: &Path, files: &[(&str, Vec<u8>)]) -> Result<Vec<PathBuf>, ReportError> {
    create_dir(dir)?;
    let mut written = Vec::new();
    for (name, bytes) in files {
        let p = dir.join(name);
        write_atomic(&p, bytes)?;
        written.push(p);
    }
    Ok(written)
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let err = |error| ReportError::Write {
        file: path.to_path_buf(),
        error,
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".mailflow-");
    // tempfile creates private (0600) files; a result is an ordinary file: 0666 minus the
    // umask, as `File::create` would give it.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut tmp = builder.tempfile_in(dir).map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

pub fn create_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|error| ReportError::CreateDir {
        dir: dir.to_path_buf(),
        error,
    })
}

/// Writes every result file of `study` into `dir`; returns the paths written, manifest last.
pub fn write_all(
    dir: &Path,
    scn: &crate::scenario::Scenario,
    study: &crate::runner::StudyOutcome,
) -> Result<Vec<PathBuf>, ReportError> {
    create_dir(dir)?;
    let mut written = Vec::new();
    let summary = dir.join("summary.csv");
    csv::write(&summary, &csv::summary_rows(study))?;
    written.push(summary);
    let hops = dir.join("hops.csv");
    csv::write(&hops, &csv::hop_rows(study))?;
    written.push(hops);
    let accounting = dir.join("accounting.csv");
    csv::write(&accounting, &csv::accounting_rows(study))?;
    written.push(accounting);
    let p = dir.join("warmup.csv");
    csv::write(&p, &warmup::rows(study))?;
    written.push(p);
    if study.variants.len() > 1 {
        let p = dir.join("compare.csv");
        csv::write(&p, &compare::rows(study))?;
        written.push(p);
    }
    let costs = csv::cost_rows(study);
    if !costs.is_empty() {
        let p = dir.join("costs.csv");
        csv::write(&p, &costs)?;
        written.push(p);
    }
    if let Some(p) = &study.precision {
        let path = dir.join("precision.csv");
        write_atomic(&path, &precision::bytes(&[], &[(Vec::new(), p)], &path)?)?;
        written.push(path);
    }
    let outages = csv::outage_rows(study);
    if study
        .variants
        .iter()
        .any(|v| v.stations.iter().any(|s| s.has_outages))
    {
        let p = dir.join("outages.csv");
        csv::write(&p, &outages)?;
        written.push(p);
    }
    let labelled: Vec<(String, VariantPicture<'_>)> = study
        .variants
        .iter()
        .map(|v| (v.name.clone(), VariantPicture::of(v)))
        .collect();
    write_variant_pictures(dir, &scn.name, "", &labelled, &mut written)?;
    let hgrm_dir = dir.join("hgrm");
    create_dir(&hgrm_dir)?;
    for v in &study.variants {
        for (flow, f) in &v.flows {
            let p = hgrm_dir.join(format!("{}.{}.hgrm", v.name, flow));
            // Histograms are in microseconds; the files state milliseconds.
            write_atomic(&p, hgrm::format(&f.merged, 1000.0, 5).as_bytes())?;
            written.push(p);
        }
    }
    written.push(html::write(dir, &html::run_report(scn, study))?);
    write_timing(
        dir,
        &manifest::Timing::new(study.threads, study.wall, study.events()),
        &mut written,
    )?;
    let manifest_path = dir.join("manifest.json");
    let manifest = manifest::build(scn, study, manifest_files(dir, &written));
    let json = serde_json::to_vec_pretty(&manifest).expect("manifest serializes");
    write_atomic(&manifest_path, &json)?;
    written.push(manifest_path);
    Ok(written)
}

/// Writes the files of a sweep into `dir`: `sweep.csv`, the pictures, and `manifest.json`
/// (last); returns the paths written.
pub fn write_sweep(
    dir: &Path,
    sweep: &crate::sweep::SweepOutcome,
    slos: &[crate::capacity::Slo],
) -> Result<Vec<PathBuf>, ReportError> {
    create_dir(dir)?;
    let mut written = Vec::new();
    let path = dir.join("sweep.csv");
    write_atomic(&path, &csv::sweep_bytes(sweep, &path)?)?;
    written.push(path);
    let points: Vec<(Vec<String>, &crate::runner::precision::PrecisionRecord)> = sweep
        .points
        .iter()
        .filter_map(|p| {
            let values = p
                .overrides
                .iter()
                .map(|o| crate::scenario::overrides::value_text(&o.value))
                .collect();
            p.outcome.precision.as_ref().map(|r| (values, r))
        })
        .collect();
    if !points.is_empty() {
        let path = dir.join("precision.csv");
        write_atomic(&path, &precision::bytes(&sweep.axes, &points, &path)?)?;
        written.push(path);
    }
    write_sweep_pictures(dir, sweep, slos, &mut written)?;
    let first = &sweep.points[0].outcome;
    let mut m = manifest::StudyManifest::new("sweep", &sweep.first, first);
    m.parameters = sweep.axes.clone();
    m.points = sweep.points.len();
    m.events = sweep.points.iter().map(|p| p.outcome.events()).sum();
    let pictures = svg_names(dir, &written);
    written.push(html::write(dir, &html::sweep_report(sweep, &pictures))?);
    write_timing(
        dir,
        &manifest::Timing::new(first.threads, first.wall, m.events),
        &mut written,
    )?;
    write_manifest(dir, m, &mut written)?;
    Ok(written)
}

/// Writes `timing.json` (threads and wall time: what differs between two runs of one study).
/// It is listed in `written` but not in the manifest's files, which a rerun must reproduce.
fn write_timing(
    dir: &Path,
    t: &manifest::Timing,
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    let path = dir.join(TIMING);
    let json = serde_json::to_vec_pretty(t).expect("timing serializes");
    write_atomic(&path, &json)?;
    written.push(path);
    Ok(())
}

/// The names (relative to `dir`) of the pictures among `written`, in writing order.
fn svg_names(dir: &Path, written: &[PathBuf]) -> Vec<String> {
    written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
        .map(|p| p.strip_prefix(dir).unwrap_or(p).display().to_string())
        .collect()
}

/// The file with a run's machine-dependent figures.
pub const TIMING: &str = "timing.json";

/// The manifest's list of files: everything written but `timing.json`.
fn manifest_files(dir: &Path, written: &[PathBuf]) -> Vec<String> {
    written
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap_or(p).display().to_string())
        .filter(|n| n != TIMING)
        .collect()
}

/// Writes `manifest.json` listing `written`, and adds it to them.
fn write_manifest(
    dir: &Path,
    mut m: manifest::StudyManifest<'_>,
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    m.files = manifest_files(dir, written);
    let path = dir.join("manifest.json");
    let json = serde_json::to_vec_pretty(&m).expect("manifest serializes");
    write_atomic(&path, &json)?;
    written.push(path);
    Ok(())
}

/// Writes the files of a capacity search into `dir`: `capacity.csv`, `capacity_steps.csv`,
/// the pictures, and `manifest.json` (last); returns the paths written.
pub fn write_capacity(
    dir: &Path,
    scn: &crate::scenario::Scenario,
    c: &crate::capacity::CapacityOutcome,
) -> Result<Vec<PathBuf>, ReportError> {
    create_dir(dir)?;
    let mut written = Vec::new();
    let path = dir.join("capacity.csv");
    csv::write(&path, &csv::capacity_rows(c))?;
    written.push(path);
    let path = dir.join("capacity_steps.csv");
    csv::write(&path, &csv::capacity_step_rows(c))?;
    written.push(path);
    write_capacity_pictures(dir, &scn.name, c, &mut written)?;
    let mut m = manifest::StudyManifest {
        program: "mailflow",
        version: env!("CARGO_PKG_VERSION"),
        command: "capacity",
        scenario: &scn.name,
        scenario_file: scn.file.display().to_string(),
        scenario_sha256: &scn.hash,
        seed: c.seed,
        replications: c.replications,
        parameters: c
            .spec
            .slos
            .iter()
            .map(|s| format!("--slo {}", s.text))
            .collect(),
        points: c.simulated,
        events: c.events,
        precision: c.spec.replicate.map(manifest::StudyPrecision::of),
        files: Vec::new(),
    };
    if let crate::capacity::Knob::Servers(h) = &c.spec.knob {
        m.parameters.push(format!("--hop {h}"));
    }
    let pictures = svg_names(dir, &written);
    written.push(html::write(dir, &html::capacity_report(scn, c, &pictures))?);
    write_timing(
        dir,
        &manifest::Timing::new(c.threads, c.wall, c.events),
        &mut written,
    )?;
    write_manifest(dir, m, &mut written)?;
    Ok(written)
}

/// p99 against a swept number per flow: against the load scale when `load.scale` (or
/// `run.load_scale`) is swept, otherwise against the first axis whose values are all numbers
/// (servers, say). Every other swept value makes a panel of small multiples, one line per
/// variant in each; an SLO on the flow's p99 is drawn in every panel.
fn write_sweep_pictures(
    dir: &Path,
    sweep: &crate::sweep::SweepOutcome,
    slos: &[crate::capacity::Slo],
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    use crate::scenario::overrides::{LOAD_SCALE_ALIAS, LOAD_SCALE_FIELD, value_text};
    let load_axis = sweep
        .axes
        .iter()
        .position(|a| a == LOAD_SCALE_ALIAS || a == LOAD_SCALE_FIELD);
    let numeric = |i: usize| {
        sweep.points.iter().all(|p| {
            p.overrides
                .get(i)
                .is_some_and(|o| value_text(&o.value).parse::<f64>().is_ok())
        })
    };
    let Some(axis) = load_axis.or_else(|| (0..sweep.axes.len()).find(|&i| numeric(i))) else {
        return Ok(());
    };
    let by_load = load_axis == Some(axis);
    let path = &sweep.axes[axis];
    let (x_desc, file_key) = if by_load {
        (
            "load scale (× the scenario's arrival rates)".to_string(),
            "load".to_string(),
        )
    } else if let Some(hop) = path
        .strip_prefix("hops.")
        .and_then(|h| h.strip_suffix(".servers"))
    {
        (format!("servers of {hop}"), format!("{hop}-servers"))
    } else {
        (path.clone(), path.replace('.', "-"))
    };
    let x_of = |p: &crate::sweep::Point| -> f64 {
        if by_load {
            p.load_scale
        } else {
            value_text(&p.overrides[axis].value)
                .parse()
                .unwrap_or(f64::NAN)
        }
    };
    let mut flows: Vec<&str> = Vec::new();
    for p in &sweep.points {
        for v in &p.variants {
            for f in &v.flows {
                if !flows.contains(&f.as_str()) {
                    flows.push(f);
                }
            }
        }
    }
    for flow in flows {
        let mut panels: Vec<svg::Panel> = Vec::new();
        for p in &sweep.points {
            let others: Vec<String> = p
                .overrides
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != axis)
                .map(|(_, o)| format!("{}={}", o.path, value_text(&o.value)))
                .collect();
            let key = others.join(" ");
            let pi = match panels.iter().position(|x| x.title == key) {
                Some(i) => i,
                None => {
                    panels.push(svg::Panel {
                        title: key,
                        series: Vec::new(),
                    });
                    panels.len() - 1
                }
            };
            for pv in &p.variants {
                let Some(vi) = pv.outcome else { continue };
                let Some((_, f)) = p.outcome.variants[vi].flows.iter().find(|(n, _)| n == flow)
                else {
                    continue;
                };
                let point = (x_of(p), f.p99_ms.mean, f.p99_ms.ci95);
                let series = &mut panels[pi].series;
                match series.iter_mut().find(|s| s.name == pv.name) {
                    Some(s) => s.points.push(point),
                    None => series.push(svg::LoadSeries {
                        name: pv.name.clone(),
                        points: vec![point],
                    }),
                }
            }
        }
        let slo = slos
            .iter()
            .find(|s| s.flow == flow && s.metric == crate::capacity::Metric::P99)
            .map(|s| s.limit_ms);
        let against = if by_load { "load" } else { x_desc.as_str() };
        write_svg(
            dir.join(format!("p99-vs-{file_key}-{flow}.svg")),
            svg::figure_panels(
                &format!("{}: {flow} p99 latency against {against}", sweep.first.name),
                &x_desc,
                "p99 latency (ms), mean and 95% CI over replications",
                &panels,
                slo,
            ),
            written,
        )?;
    }
    Ok(())
}

/// One variant's points in a "what the search tried" figure. A variant every configuration of
/// which was unstable (offered load ≥ 1, not simulated) has no point; its legend entry says so,
/// so a reader does not look for a line that is not there.
fn tried_series(variant: &str, points: Vec<(f64, f64, Option<(f64, f64)>)>) -> svg::LoadSeries {
    let name = if points.is_empty() {
        format!("{variant} (unstable, no point)")
    } else {
        variant.to_string()
    };
    svg::LoadSeries { name, points }
}

/// For a load search, each SLO's figure against the load scales tried (with the SLO line);
/// for any search, latency curves and utilization at each variant's answer.
fn write_capacity_pictures(
    dir: &Path,
    scenario: &str,
    c: &crate::capacity::CapacityOutcome,
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    if c.spec.knob == crate::capacity::Knob::LoadScale {
        for (k, slo) in c.spec.slos.iter().enumerate() {
            let series: Vec<svg::LoadSeries> = c
                .answers
                .iter()
                .map(|a| {
                    tried_series(
                        &a.variant,
                        a.steps
                            .iter()
                            .filter_map(|s| s.figures[k].map(|m| (s.load_scale, m.mean, m.ci95)))
                            .collect(),
                    )
                })
                .collect();
            let name = format!("{}.{}", slo.flow, slo.metric.name());
            write_svg(
                dir.join(format!("{name}-vs-load.svg")),
                svg::figure_vs_load(
                    &format!("{scenario}: {name} at the load scales the search tried"),
                    &format!("{} latency (ms), mean and 95% CI", slo.metric.name()),
                    &series,
                    Some(slo.limit_ms),
                ),
                written,
            )?;
        }
    }
    if let crate::capacity::Knob::Servers(hop) = &c.spec.knob {
        // The figure against the server counts the search tried, per SLO.
        for (k, slo) in c.spec.slos.iter().enumerate() {
            let series: Vec<svg::LoadSeries> = c
                .answers
                .iter()
                .map(|a| {
                    tried_series(
                        &a.variant,
                        a.steps
                            .iter()
                            .filter_map(|s| {
                                let n = f64::from(s.servers?);
                                s.figures[k].map(|m| (n, m.mean, m.ci95))
                            })
                            .collect(),
                    )
                })
                .collect();
            let name = format!("{}.{}", slo.flow, slo.metric.name());
            write_svg(
                dir.join(format!("{name}-vs-servers.svg")),
                svg::figure_panels(
                    &format!("{scenario}: {name} at the {hop} server counts the search tried"),
                    &format!("servers of {hop}"),
                    &format!("{} latency (ms), mean and 95% CI", slo.metric.name()),
                    &[svg::Panel {
                        title: String::new(),
                        series,
                    }],
                    Some(slo.limit_ms),
                ),
                written,
            )?;
        }
    }
    let at_answer: Vec<(String, VariantPicture<'_>)> = c
        .answers
        .iter()
        .filter_map(|a| {
            let s = &a.steps[a.last_pass?];
            let label = match s.servers {
                Some(n) => format!("{} ({n} servers)", a.variant),
                None => format!("{} (× {:.3})", a.variant, s.load_scale),
            };
            // A merged capacity shard keeps the answer's picture, not its summaries.
            let picture = match (&s.outcome, &a.picture) {
                (Some(o), _) => VariantPicture::of(o),
                (None, Some(p)) => VariantPicture::of_stored(p),
                (None, None) => return None,
            };
            Some((label, picture))
        })
        .collect();
    if at_answer.is_empty() {
        return Ok(());
    }
    write_variant_pictures(
        dir,
        scenario,
        ", at the capacity found",
        &at_answer,
        written,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_whole_file_and_leaves_no_temporaries() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write_atomic(&p, b"old, longer content\n").unwrap();
        write_atomic(&p, b"new\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
