//! The one way a result set reaches its directory (`--out`): every command (run, sweep,
//! capacity, merge, validate, the shards, calibrate) calls [`prepare`] before it simulates and
//! [`Output::publish`] to write.
//!
//! Lifecycle:
//! 1. [`prepare`] checks the location before any work is done: `--out` must be absent, an
//!    empty directory, or a directory that holds a previous mailflow result set (it has one of
//!    [`RESULT_MARKERS`]); anything else — a file, a symbolic link, a directory of other files —
//!    is refused, because publishing replaces the whole directory. It then creates the staging
//!    directory `.mailflow-staging-<name>-<pid>-<n>` beside `--out` (same parent, so the same
//!    file system), which also proves the parent is writable.
//! 2. The command simulates; its writers write the whole set into the staging directory.
//! 3. [`Output::publish`] syncs the set and swaps it into place: on Linux one
//!    `renameat2(RENAME_EXCHANGE)` exchanges the two directories atomically, then the old set
//!    (now at the staging name) is removed; elsewhere, or on a file system without exchange,
//!    the old directory is renamed aside to `.mailflow-old-…`, the staging directory renamed to
//!    `--out`, and the old set removed.
//!
//! What a reader of `--out` sees if the process dies at any moment: before the swap, the
//! previous set, whole and unchanged (plus a `.mailflow-staging-…` directory beside it when
//! the death was a SIGKILL or power loss: no handler can run then; a later run does not reuse
//! it, and deleting it is always safe). With the exchange, the swap is one system call: the
//! previous set or the new one, never a mix. In the fallback, between the two renames `--out`
//! is briefly absent (the previous set is whole in `.mailflow-old-…` beside it). After the
//! swap, the new set whole; a death while the old set is being removed leaves it, whole, at
//! the staging name. SIGINT, SIGTERM and SIGHUP run [`abandon_all`] (main.rs installs it with
//! `ctrlc`), which waits for a swap in progress to finish, then deletes every staging
//! directory, so an interrupted command leaves `--out` as it was and no temporary files.
//!
//! Files get the mode an ordinary file gets (0666 minus the umask, so 0644 usually) and the
//! published directory 0777 minus the umask: nothing is private to the user unless the umask
//! says so.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::ReportError;

/// A directory holding one of these is a previous result set that may be replaced.
pub const RESULT_MARKERS: [&str; 3] = ["manifest.json", "shard.json", "validation.csv"];

/// Staging directories not yet published or removed; the lock is also held over every publish,
/// so a signal handler never removes a directory half-way through a swap.
static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn pending() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    PENDING.lock().unwrap_or_else(|p| p.into_inner())
}

/// A checked output location and its staging directory. Dropping it unpublished removes the
/// staging directory.
#[derive(Debug)]
pub struct Output {
    target: PathBuf,
    staging: PathBuf,
    /// Parent directories `prepare` created, deepest first: removed again (when empty) if the
    /// command fails, so a refused command leaves nothing behind.
    created: Vec<PathBuf>,
    done: bool,
}

fn out_err(dir: &Path, why: impl Into<String>) -> ReportError {
    ReportError::Output {
        dir: dir.to_path_buf(),
        why: why.into(),
    }
}

/// Checks `out` as a place for a result set and creates its staging directory (see the module
/// documentation for what is accepted).
pub fn prepare(out: &Path) -> Result<Output, ReportError> {
    if out.as_os_str().is_empty() {
        return Err(out_err(out, "is empty"));
    }
    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .filter(|n| *n != "." && *n != "..")
        .ok_or_else(|| {
            out_err(
                out,
                "does not end in a directory name (such as results/study)",
            )
        })?;
    match std::fs::symlink_metadata(out) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(out_err(
                out,
                format!("cannot be examined: {}", io_words(&e)),
            ));
        }
        Ok(m) if m.file_type().is_symlink() => {
            return Err(out_err(
                out,
                "is a symbolic link (give the directory it points to)",
            ));
        }
        Ok(m) if !m.is_dir() => {
            return Err(out_err(out, "is a file, not a directory"));
        }
        Ok(_) => check_replaceable(out)?,
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut created = Vec::new();
    let mut missing = Some(parent);
    while let Some(p) = missing.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        created.push(p.to_path_buf());
        missing = p.parent();
    }
    std::fs::create_dir_all(parent).map_err(|e| {
        out_err(
            out,
            format!(
                "cannot be created: its parent {} cannot be made ({})",
                parent.display(),
                io_words(&e)
            ),
        )
    })?;
    let mut list = pending();
    let staging = loop {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let p = parent.join(format!(
            ".mailflow-staging-{name}-{}-{n}",
            std::process::id()
        ));
        match std::fs::create_dir(&p) {
            Ok(()) => break p,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(out_err(
                    out,
                    format!(
                        "cannot be written: creating a directory in {} failed ({})",
                        parent.display(),
                        io_words(&e)
                    ),
                ));
            }
        }
    };
    list.push(staging.clone());
    Ok(Output {
        target: out.to_path_buf(),
        staging,
        created,
        done: false,
    })
}

/// Refuses a directory that is neither empty nor a previous result set.
fn check_replaceable(out: &Path) -> Result<(), ReportError> {
    let entries = std::fs::read_dir(out)
        .map_err(|e| out_err(out, format!("cannot be read: {}", io_words(&e))))?;
    let mut any = false;
    for e in entries {
        let e = e.map_err(|e| out_err(out, format!("cannot be read: {}", io_words(&e))))?;
        if RESULT_MARKERS.iter().any(|m| e.file_name() == *m) {
            return Ok(());
        }
        any = true;
    }
    if any {
        return Err(out_err(
            out,
            format!(
                "holds files that are not a mailflow result set (none of {}), and publishing \
                 replaces the whole directory",
                RESULT_MARKERS.join(", ")
            ),
        ));
    }
    Ok(())
}

/// An I/O error in words, once (the `Display` of `io::Error` without a source chain).
pub(crate) fn io_words(e: &std::io::Error) -> String {
    e.to_string()
}

impl Output {
    /// The directory results are published to (`--out`).
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes the set with `write` (given the staging directory; it returns the paths it wrote)
    /// and swaps it into place; returns the paths as they are after publishing. On any error
    /// the staging directory is removed and `--out` is left as it was.
    pub fn publish<F>(mut self, write: F) -> Result<Vec<PathBuf>, ReportError>
    where
        F: FnOnce(&Path) -> Result<Vec<PathBuf>, ReportError>,
    {
        // Held over the whole write and swap: a signal handler waits for it, then cleans up.
        let mut list = pending();
        let written = write(&self.staging)?;
        sync_tree(&self.staging).map_err(|error| ReportError::Write {
            file: self.staging.clone(),
            error,
        })?;
        self.swap()?;
        self.done = true;
        list.retain(|p| p != &self.staging);
        drop(list);
        Ok(written
            .into_iter()
            .map(|p| match p.strip_prefix(&self.staging) {
                Ok(rel) => self.target.join(rel),
                Err(_) => p,
            })
            .collect())
    }

    fn swap(&self) -> Result<(), ReportError> {
        let werr = |error| ReportError::Write {
            file: self.target.clone(),
            error,
        };
        let exists = std::fs::symlink_metadata(&self.target).is_ok();
        if !exists {
            std::fs::rename(&self.staging, &self.target).map_err(werr)?;
            sync_parent(&self.target);
            return Ok(());
        }
        // The target may have changed since `prepare` (another process): check again.
        if !std::fs::symlink_metadata(&self.target).is_ok_and(|m| m.is_dir()) {
            return Err(out_err(&self.target, "is no longer a directory"));
        }
        check_replaceable(&self.target)?;
        if exchange(&self.staging, &self.target).is_ok() {
            sync_parent(&self.target);
            // The previous set is now at the staging name.
            let _ = std::fs::remove_dir_all(&self.staging);
            return Ok(());
        }
        let old = self.staging.with_file_name(
            self.staging
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(".mailflow-staging")
                .replacen(".mailflow-staging-", ".mailflow-old-", 1),
        );
        std::fs::rename(&self.target, &old).map_err(werr)?;
        if let Err(e) = std::fs::rename(&self.staging, &self.target) {
            // Put the previous set back before reporting.
            let _ = std::fs::rename(&old, &self.target);
            return Err(werr(e));
        }
        sync_parent(&self.target);
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        if !self.done {
            let mut list = pending();
            let _ = std::fs::remove_dir_all(&self.staging);
            list.retain(|p| p != &self.staging);
            for d in &self.created {
                // Only while empty: another process may have put something there meanwhile.
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// Removes every staging directory not yet published, after any swap in progress. For signal
/// handlers: the process should exit right after it (the lock stays taken, so no publish can
/// start).
pub fn abandon_all() {
    let mut list = pending();
    for p in list.drain(..) {
        let _ = std::fs::remove_dir_all(&p);
    }
    std::mem::forget(list);
}

#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::from(std::io::ErrorKind::Unsupported))
}

/// Flushes every file of the staging tree and the directories themselves to disk.
fn sync_tree(dir: &Path) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let p = e.path();
        if e.file_type()?.is_dir() {
            sync_tree(&p)?;
        } else {
            std::fs::File::open(&p)?.sync_all()?;
        }
    }
    std::fs::File::open(dir)?.sync_all()
}

fn sync_parent(p: &Path) {
    let parent = p
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if let Ok(f) = std::fs::File::open(parent) {
        let _ = f.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    fn write_set(
        files: &'static [&'static str],
    ) -> impl FnOnce(&Path) -> Result<Vec<PathBuf>, ReportError> {
        move |d: &Path| {
            let mut w = Vec::new();
            for f in files {
                let p = d.join(f);
                super::super::write_atomic(&p, f.as_bytes())?;
                w.push(p);
            }
            Ok(w)
        }
    }

    #[test]
    fn publishes_into_a_new_directory_and_replaces_a_previous_set_whole() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        let w = prepare(&out)
            .unwrap()
            .publish(write_set(&["a.csv", "manifest.json"]))
            .unwrap();
        assert_eq!(w, vec![out.join("a.csv"), out.join("manifest.json")]);
        prepare(&out)
            .unwrap()
            .publish(write_set(&["b.csv", "manifest.json"]))
            .unwrap();
        assert_eq!(
            names(&out),
            ["b.csv", "manifest.json"],
            "no file of the old set survives"
        );
        assert_eq!(
            names(tmp.path()),
            ["r"],
            "no staging or temporary files left"
        );
    }

    #[test]
    fn a_failed_write_leaves_the_previous_set_and_no_staging() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        prepare(&out)
            .unwrap()
            .publish(write_set(&["manifest.json"]))
            .unwrap();
        let before = std::fs::read(out.join("manifest.json")).unwrap();
        let e = prepare(&out)
            .unwrap()
            .publish(|d| {
                std::fs::write(d.join("half.csv"), "x").unwrap();
                Err(ReportError::Write {
                    file: d.join("x"),
                    error: std::io::Error::other("disk full"),
                })
            })
            .unwrap_err();
        assert!(e.to_string().contains("disk full"));
        assert_eq!(std::fs::read(out.join("manifest.json")).unwrap(), before);
        assert_eq!(names(tmp.path()), ["r"]);
    }

    #[test]
    fn refuses_files_links_and_foreign_directories_before_any_work() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, "x").unwrap();
        assert!(
            prepare(&file)
                .unwrap_err()
                .to_string()
                .contains("is a file")
        );
        let foreign = tmp.path().join("home");
        std::fs::create_dir(&foreign).unwrap();
        std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
        let e = prepare(&foreign).unwrap_err().to_string();
        assert!(e.contains("not a mailflow result set"), "{e}");
        #[cfg(unix)]
        {
            let link = tmp.path().join("l");
            std::os::unix::fs::symlink(&foreign, &link).unwrap();
            assert!(
                prepare(&link)
                    .unwrap_err()
                    .to_string()
                    .contains("symbolic link")
            );
        }
        assert!(prepare(Path::new("..")).is_err());
        assert_eq!(names(tmp.path()), ["f", "home", "l"]);
    }

    #[cfg(unix)]
    #[test]
    fn results_get_the_ordinary_mode_of_the_umask() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("r");
        prepare(&out)
            .unwrap()
            .publish(write_set(&["manifest.json"]))
            .unwrap();
        // What an ordinary file created now gets, whatever this process's umask is.
        let probe = tmp.path().join("probe");
        std::fs::write(&probe, "").unwrap();
        std::fs::create_dir(tmp.path().join("probe-dir")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&out.join("manifest.json")), mode(&probe));
        assert_eq!(mode(&out), mode(&tmp.path().join("probe-dir")));
    }

    #[test]
    fn dropping_an_unpublished_output_removes_its_staging() {
        let tmp = tempfile::tempdir().unwrap();
        let o = prepare(&tmp.path().join("r")).unwrap();
        assert_eq!(names(tmp.path()).len(), 1);
        drop(o);
        assert!(names(tmp.path()).is_empty());
    }
}
