//! Readers of what IPVS shows only in `/proc/net`: generic netlink has no command that lists
//! connections, nor one for 7.x's table statistics.
//!
//! One module per file: [`conn`] (`/proc/net/ip_vs_conn`, connections and persistence
//! templates with the engine's data), [`conn_sync`] (`/proc/net/ip_vs_conn_sync`, the same
//! entries with their origin: made here or by the sync daemon) and [`status`]
//! (`/proc/net/ip_vs_status`, Linux 7.1 and later). Each parses the kernel's own format (`net/netfilter/ipvs/ip_vs_conn.c`,
//! `ip_vs_ctl.c`), reads from any [`BufRead`], from the calling thread's namespace or from
//! another one, and reports a line it cannot read by its number and field, never a panic.

pub mod conn;
pub mod conn_sync;
mod fields;
pub mod status;

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::os::fd::{AsRawFd, BorrowedFd};

/// Longest line read whole: the kernel's lines are under 450 bytes (three IPv6 addresses, a
/// 15-byte engine name and its 255 bytes of data); anything longer is not one of them.
pub const MAX_LINE: usize = 4096;

/// Why a `/proc` file could not be read, or one of its lines understood.
#[derive(Debug)]
pub enum ProcError {
    /// Opening or reading the file failed.
    Io {
        /// The file.
        file: &'static str,
        /// What the system said.
        source: io::Error,
    },
    /// A line does not have the kernel's format.
    Line {
        /// The file.
        file: &'static str,
        /// Its number, from 1.
        line: usize,
        /// The field that could not be read, or what is missing.
        field: &'static str,
        /// What was found there (cut to 64 bytes, invalid UTF-8 replaced).
        found: String,
    },
    /// A line is longer than [`MAX_LINE`]; it is skipped.
    LineTooLong {
        /// The file.
        file: &'static str,
        /// Its number, from 1.
        line: usize,
    },
}

impl ProcError {
    pub(crate) fn line(file: &'static str, line: usize, field: &'static str, found: &[u8]) -> Self {
        let found = String::from_utf8_lossy(found.get(..64).unwrap_or(found)).into_owned();
        ProcError::Line {
            file,
            line,
            field,
            found,
        }
    }
}

impl fmt::Display for ProcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcError::Io { file, source } => write!(f, "{file}: {source}"),
            ProcError::Line {
                file,
                line,
                field,
                found,
            } => write!(f, "{file} line {line}: bad {field}: {found:?}"),
            ProcError::LineTooLong { file, line } => {
                write!(f, "{file} line {line}: longer than {MAX_LINE} bytes")
            }
        }
    }
}

impl std::error::Error for ProcError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProcError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The lines of a file as bytes, each at most [`MAX_LINE`] long, numbered.
pub(crate) struct Lines<R> {
    reader: R,
    file: &'static str,
    buf: Vec<u8>,
    number: usize,
    failed: bool,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R, file: &'static str) -> Self {
        Lines {
            reader,
            file,
            buf: Vec::new(),
            number: 0,
            failed: false,
        }
    }

    /// The next line without its newline, and its number; `None` at the end or after an
    /// I/O error (reported once).
    pub(crate) fn next_line(&mut self) -> Option<Result<(usize, &[u8]), ProcError>> {
        if self.failed {
            return None;
        }
        self.buf.clear();
        let limit = MAX_LINE as u64 + 1;
        let io = |source| ProcError::Io {
            file: self.file,
            source,
        };
        match <&mut R as Read>::take(&mut self.reader, limit).read_until(b'\n', &mut self.buf) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => {
                self.failed = true;
                return Some(Err(io(e)));
            }
        }
        self.number += 1;
        if self.buf.last() == Some(&b'\n') {
            self.buf.pop();
        } else if self.buf.len() > MAX_LINE {
            if let Err(e) = self.reader.skip_until(b'\n') {
                self.failed = true;
                return Some(Err(io(e)));
            }
            return Some(Err(ProcError::LineTooLong {
                file: self.file,
                line: self.number,
            }));
        }
        Some(Ok((self.number, &self.buf)))
    }
}

/// The entries of a file that has one per line, as they are read: one result per line, a
/// line that cannot be read an error and the next ones still read. The heading and blank
/// lines are skipped.
pub struct Entries<R, T> {
    lines: Lines<R>,
    parse: fn(&[u8], usize) -> Result<T, ProcError>,
}

impl<R: BufRead, T> Entries<R, T> {
    pub(crate) fn new(
        reader: R,
        file: &'static str,
        parse: fn(&[u8], usize) -> Result<T, ProcError>,
    ) -> Self {
        Entries {
            lines: Lines::new(reader, file),
            parse,
        }
    }
}

impl<R: BufRead, T> Iterator for Entries<R, T> {
    type Item = Result<T, ProcError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (number, line) = match self.lines.next_line()? {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            // Both connection files' headings start so.
            if line.iter().all(u8::is_ascii_whitespace) || line.starts_with(b"Pro FromIP") {
                continue;
            }
            return Some((self.parse)(line, number));
        }
    }
}

/// Opens `path` (`/proc/net/NAME`) of the calling thread's namespace, or of `netns` from a
/// helper thread that enters it (the file keeps the namespace it was opened in, and the
/// caller's thread never changes namespace), buffered.
pub(crate) fn open(
    path: &'static str,
    netns: Option<BorrowedFd<'_>>,
) -> Result<BufReader<File>, ProcError> {
    let io = |source| ProcError::Io { file: path, source };
    // The thread's own namespace: `/proc/net` is the process's, which may differ.
    let own = path.replacen("/proc/net/", "/proc/thread-self/net/", 1);
    let Some(netns) = netns else {
        return File::open(own).map(BufReader::new).map_err(io);
    };
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setns only reads the descriptor, which `netns` keeps open for the
                // whole scope; it changes the namespace of this helper thread alone.
                if unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                File::open(&own)
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    })
    .map(BufReader::new)
    .map_err(io)
}
