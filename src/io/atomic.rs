//! Atomic file replacement: write beside, flush to disk, rename over.

use super::error::ModelFileError;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Test hook: when this environment variable holds a number `n`, [`write_atomic`] writes the first
/// `n` bytes of the temporary file, flushes them to disk and aborts the process — a crash in the
/// middle of a save. The crash-safety test runs a child process with it set.
pub const ABORT_AFTER_ENV: &str = "TAPEGRAD_TEST_ABORT_SAVE_AFTER";

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces the file at `path` with `bytes` so that a reader, or a process killed at any moment,
/// sees either the old file or the new one, never a mix: the bytes go to a temporary file in the
/// same directory (`.NAME.tmp-PID-N`), which is flushed to disk and then renamed over `path`
/// (an atomic step on POSIX and Windows file systems). On failure the temporary file is removed
/// and the old file is untouched.
///
/// ```
/// let dir = std::env::temp_dir().join(format!("tapegrad-doc-atomic-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("a.bin");
/// tapegrad::io::write_atomic(&path, b"first").unwrap();
/// tapegrad::io::write_atomic(&path, b"second").unwrap();
/// assert_eq!(std::fs::read(&path).unwrap(), b"second");
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
///
/// # Errors
/// [`ModelFileError::Io`] naming the path when the directory is missing or not writable, or the
/// disk is full.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<(), ModelFileError> {
    let path = path.as_ref();
    let tmp = temp_path(path)?;
    let result = write_then_rename(&tmp, path, bytes);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> Result<PathBuf, ModelFileError> {
    let name = path.file_name().ok_or_else(|| ModelFileError::Io {
        path: path.display().to_string(),
        message: "the path does not name a file".into(),
    })?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tmp_name = format!(".{}.tmp-{}-{n}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(tmp_name))
}

fn write_then_rename(tmp: &Path, path: &Path, bytes: &[u8]) -> Result<(), ModelFileError> {
    let mut file = File::create(tmp).map_err(|e| ModelFileError::io(tmp, &e))?;
    if let Some(n) = std::env::var(ABORT_AFTER_ENV).ok().and_then(|v| v.parse::<usize>().ok()) {
        let n = n.min(bytes.len());
        let _ = file.write_all(&bytes[..n]);
        let _ = file.sync_all();
        std::process::abort();
    }
    file.write_all(bytes).map_err(|e| ModelFileError::io(tmp, &e))?;
    file.sync_all().map_err(|e| ModelFileError::io(tmp, &e))?;
    drop(file);
    fs::rename(tmp, path).map_err(|e| ModelFileError::io(path, &e))?;
    sync_parent(path);
    Ok(())
}

/// Flushes the directory entry of the rename (best effort; not possible on every platform).
fn sync_parent(path: &Path) {
    #[cfg(unix)]
    if let Some(dir) = path.parent() {
        let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}
