//! Outputs: CSV files, HdrHistogram percentile distributions, the manifest, and the terminal
//! table. One module per format; each file is written whole to a temporary file in the output
//! directory and renamed into place, so a reader never sees half a file.
//!
//! Machine-readable outputs keep full precision and fixed units (named in the column); only
//! the terminal table rounds.

pub mod csv;
pub mod explain;
pub mod hgrm;
pub mod manifest;
pub mod terminal;

use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot create output directory {dir}: {source}; choose another with --out")]
    CreateDir {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {file}: {source}")]
    Write {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot format CSV for {file}: {source}")]
    Csv { file: PathBuf, source: ::csv::Error },
}

/// Writes `bytes` to `path` atomically: a temporary file beside it, then a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), ReportError> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let err = |source| ReportError::Write {
        file: path.to_path_buf(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mailflow-")
        .tempfile_in(dir)
        .map_err(err)?;
    tmp.write_all(bytes).map_err(err)?;
    tmp.as_file().sync_all().map_err(err)?;
    tmp.persist(path).map_err(|e| err(e.error))?;
    Ok(())
}

pub fn create_dir(dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })
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
    let manifest_path = dir.join("manifest.json");
    let names = written
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap_or(p).display().to_string())
        .collect();
    let manifest = manifest::build(scn, study, names);
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
) -> Result<Vec<PathBuf>, ReportError> {
    create_dir(dir)?;
    let mut written = Vec::new();
    let path = dir.join("sweep.csv");
    write_atomic(&path, &csv::sweep_bytes(sweep, &path)?)?;
    written.push(path);
    let first = &sweep.points[0].outcome;
    let mut m = manifest::StudyManifest::new("sweep", &sweep.first, first);
    m.parameters = sweep.axes.clone();
    m.points = sweep.points.len();
    m.events = sweep.points.iter().map(|p| p.outcome.events()).sum();
    m.wall_time_s = first.wall.as_secs_f64();
    write_manifest(dir, m, &mut written)?;
    Ok(written)
}

/// Writes `manifest.json` listing `written`, and adds it to them.
fn write_manifest(
    dir: &Path,
    mut m: manifest::StudyManifest<'_>,
    written: &mut Vec<PathBuf>,
) -> Result<(), ReportError> {
    m.files = written
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap_or(p).display().to_string())
        .collect();
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
    let mut m = manifest::StudyManifest {
        program: "mailflow",
        version: env!("CARGO_PKG_VERSION"),
        command: "capacity",
        scenario: &scn.name,
        scenario_file: scn.file.display().to_string(),
        scenario_sha256: &scn.hash,
        seed: c.seed,
        replications: c.replications,
        threads: c.threads,
        parameters: c
            .spec
            .slos
            .iter()
            .map(|s| format!("--slo {}", s.text))
            .collect(),
        points: c.simulated,
        events: c.events,
        wall_time_s: c.wall.as_secs_f64(),
        files: Vec::new(),
    };
    if let crate::capacity::Knob::Servers(h) = &c.spec.knob {
        m.parameters.push(format!("--hop {h}"));
    }
    write_manifest(dir, m, &mut written)?;
    Ok(written)
}
