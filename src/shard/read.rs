//! merge's shard readers: each file's bytes to its parsed form (in memory, for `merge` and
//! the fuzz targets), and reading a data file only if its SHA-256 is the one `shard.json`
//! records.

use std::collections::HashMap;
use std::path::Path;

use hdrhistogram::Histogram;

use super::encode::{CapacityFile, ShardManifest, UnitsFile, sha256_hex};
use super::{MANIFEST, ShardError, hlog};

/// `shard.json`.
pub fn parse_manifest(bytes: &[u8]) -> Result<ShardManifest, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// `units.json`.
pub fn parse_units(bytes: &[u8]) -> Result<UnitsFile, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

/// `units.hlog`.
pub fn parse_hlog(bytes: &[u8]) -> Result<HashMap<String, Histogram<u64>>, hlog::HlogError> {
    hlog::decode(bytes)
}

/// `capacity.json`.
pub fn parse_capacity(bytes: &[u8]) -> Result<CapacityFile, String> {
    serde_json::from_slice(bytes).map_err(|e| e.to_string())
}

pub(super) fn read(file: &Path) -> Result<Vec<u8>, ShardError> {
    std::fs::read(file).map_err(|source| ShardError::Read {
        file: file.to_path_buf(),
        source,
    })
}

pub(super) fn read_manifest(dir: &Path) -> Result<ShardManifest, ShardError> {
    let file = dir.join(MANIFEST);
    let bytes = read(&file)?;
    parse_manifest(&bytes).map_err(|message| ShardError::Format { file, message })
}

/// The bytes of data file `name` of the shard in `dir`, refused unless their SHA-256 is the
/// one its manifest records.
pub(super) fn read_checked(
    dir: &Path,
    m: &ShardManifest,
    name: &str,
) -> Result<Vec<u8>, ShardError> {
    let file = dir.join(name);
    let Some(expected) = m.sha256.get(name) else {
        return Err(ShardError::Format {
            file: dir.join(MANIFEST),
            message: format!("records no SHA-256 of {name} (written by an older mailflow?)"),
        });
    };
    let bytes = read(&file)?;
    let found = sha256_hex(&bytes);
    if &found != expected {
        return Err(ShardError::Corrupt {
            file,
            found,
            expected: expected.clone(),
        });
    }
    Ok(bytes)
}
