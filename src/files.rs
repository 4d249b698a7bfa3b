//! Writing output files so that a crash or bad input never leaves one half-written.

use std::io;
use std::path::{Path, PathBuf};

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    with_temp(path, |tmp| std::fs::write(tmp, bytes))
}

/// Lets `write` produce the file at a temporary path beside `path` (same extension, so format
/// sniffing by extension still works), flushes it to disk, renames it into place and flushes the
/// directory, so a crash leaves the old file or the new one. On error the temporary file is
/// removed and `path` is untouched. (The same steps as the leaf crates' writers: a parity test
/// keeps them in step.)
pub fn with_temp<E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let tmp = temp_path(path);
    let result = write(&tmp)
        .and_then(|()| std::fs::File::open(&tmp).and_then(|f| f.sync_all()).map_err(E::from))
        .and_then(|()| std::fs::rename(&tmp, path).map_err(E::from));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    } else {
        sync_dir(path);
    }
    result
}

/// Flushes the directory holding `path` so a rename into it survives a crash. Best effort: the
/// file is in place already, and some platforms cannot open a directory.
pub fn sync_dir(path: &Path) {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Appends `line` and a newline to `path` (created when absent) in one write, so concurrent
/// writers never interleave within a line (`missions.jsonl`).
pub fn append_line(path: &Path, line: &str) -> io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{line}\n").as_bytes())
}

/// The temporary file beside `path`: hidden, per process, same extension.
pub(crate) fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.tmp{ext}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_the_old_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.csv");
        write_atomic(&path, b"old").expect("write");
        let r: io::Result<()> = with_temp(&path, |tmp| {
            std::fs::write(tmp, b"half")?;
            Err(io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&path).expect("read"), b"old");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1, "temp file removed");
    }
}
