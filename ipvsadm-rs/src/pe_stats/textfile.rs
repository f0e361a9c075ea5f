//! `--pe-stats --output FILE`: FILE replaced atomically, so that a reader
//! (node_exporter's textfile collector, which reads `*.prom` files whenever
//! it is scraped) sees the old file or the new one, never a part of one.
//!
//! The text goes to `FILE.tmp-PID` in FILE's directory (the same file
//! system, so that the rename is atomic; a name the collector ignores, as it
//! does not end in `.prom`), is synced to disk, and is renamed over FILE. On
//! any error the temporary file is removed and FILE is left as it was.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The temporary file beside `file`: `FILE.tmp-PID`.
pub(crate) fn temporary(file: &Path, pid: u32) -> PathBuf {
    let mut name: OsString = file.file_name().map(OsString::from).unwrap_or_default();
    name.push(format!(".tmp-{pid}"));
    file.with_file_name(name)
}

/// Replaces `file` with `text`, atomically. The temporary file is made
/// anew (`O_EXCL`: never through a file or link already there), mode 0644
/// less the umask, so that node_exporter's user can read it.
pub(crate) fn replace(file: &Path, text: &[u8]) -> io::Result<()> {
    if file.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file name",
        ));
    }
    let tmp = temporary(file, std::process::id());
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(&tmp)?;
    let written = f
        .write_all(text)
        .and_then(|()| f.sync_all())
        .and_then(|()| fs::rename(&tmp, file));
    if written.is_err() {
        // The error said is the write's; a temporary file that cannot be
        // removed either changes nothing of it.
        let _ = fs::remove_file(&tmp);
    }
    written
}

/// Its tests, and the scratch directory the tests of `--output` use.
#[cfg(test)]
pub(super) mod tests;
