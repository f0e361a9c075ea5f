//! `/proc/net/ip_vs_status` (Linux 7.1 and later): the sizes of a namespace's connection
//! and service hash tables, how full their buckets are, and the estimator's threads.
//!
//! The kernel (`ip_vs_status_show()` in `ip_vs_ctl.c`) prints `Name:\tvalue` lines (a tab
//! after each colon, shown here as blanks):
//!
//! ```text
//! Conns:  3
//! Conn buckets:  256 (8 bits, lfactor -4)
//! Conn buckets empty:  253 (98%)
//! Conn buckets len-1:  3 (100%)
//! Services:  1
//! Service buckets:  16 (4 bits, lfactor -4)
//! Service buckets empty:  15 (93%)
//! Service buckets len-1:  1 (100%)
//! Stats thread slots:  1 (max 16)
//! Stats chain max len:  20
//! Stats thread ests:  960
//! ```
//!
//! The bucket lines come only when the table has entries (and, for connections, when the
//! table did not change too often during the walk); a `len-N` line only for lengths that
//! occur, `len-7` counting buckets of 7 entries or more. Empty buckets are a percentage of
//! all buckets, the others of the non-empty ones.

use std::fmt::Write as _;
use std::io::{self, BufRead};
use std::os::fd::BorrowedFd;

use super::{Lines, ProcError};

/// Where the kernel shows it.
pub const PATH: &str = "/proc/net/ip_vs_status";

/// Bucket lengths counted one by one; the last counts that many entries or more.
pub const LENGTHS: usize = 7;

/// What the file says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// Connections and templates in the namespace.
    pub conns: u64,
    /// The connection table.
    pub conn_table: Table,
    /// Virtual services in the namespace.
    pub services: u64,
    /// The service table.
    pub service_table: Table,
    /// Estimator kthreads (`Stats thread slots`).
    pub stats_threads: u64,
    /// Most estimator kthreads.
    pub stats_threads_max: u64,
    /// Longest estimator chain (`Stats chain max len`).
    pub stats_chain_max_len: u64,
    /// Estimators one kthread can run (`Stats thread ests`).
    pub stats_thread_ests: u64,
    /// Lines this crate does not know, as `(name, value)`, kept in order.
    pub other: Vec<(String, String)>,
}

/// One of the resizable hash tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    /// Buckets (`2^bits`).
    pub buckets: u64,
    /// Bits of the bucket index.
    pub bits: u32,
    /// The load factor it is sized by (`conn_lfactor`/`svc_lfactor`, may be negative).
    pub lfactor: i32,
    /// How full the buckets are, when the kernel walked them.
    pub chains: Option<Chains>,
}

/// The buckets by length.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chains {
    /// Empty buckets, and their percentage of all buckets.
    pub empty: Share,
    /// `lengths[i]`: buckets of `i + 1` entries (the last: that many or more), and their
    /// percentage of the non-empty buckets. A length that the kernel did not print is 0.
    pub lengths: [Share; LENGTHS],
}

/// A count and the kernel's whole percentage of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Share {
    /// How many.
    pub count: u64,
    /// Percent, rounded down.
    pub percent: u64,
}

/// The status of the calling thread's namespace; `None` where the kernel has no such file
/// (before 7.1, or without `CONFIG_IP_VS`).
pub fn read() -> Result<Option<Status>, ProcError> {
    read_in(None)
}

/// The status of another namespace, opened by a helper thread.
pub fn read_in_netns(netns: BorrowedFd<'_>) -> Result<Option<Status>, ProcError> {
    read_in(Some(netns))
}

fn read_in(netns: Option<BorrowedFd<'_>>) -> Result<Option<Status>, ProcError> {
    match super::open(PATH, netns) {
        Ok(f) => Status::parse(f).map(Some),
        Err(ProcError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The two tables, by the words their lines start with.
#[derive(Clone, Copy)]
enum Which {
    Conn,
    Service,
}

impl Status {
    /// Reads the file's text; the first line that is not the kernel's is the error.
    pub fn parse(reader: impl BufRead) -> Result<Status, ProcError> {
        let mut s = Status::default();
        let mut seen = [false; 4];
        let mut lines = Lines::new(reader, PATH);
        let mut last = 0;
        while let Some(l) = lines.next_line() {
            let (number, line) = l?;
            last = number;
            if line.is_empty() {
                continue;
            }
            let bad = |field, found: &[u8]| ProcError::line(PATH, number, field, found);
            let text = std::str::from_utf8(line).map_err(|_| bad("line", line))?;
            let (name, value) = text
                .split_once(":\t")
                .ok_or_else(|| bad("line (no \"name:<tab>value\")", line))?;
            let field = |name| move |_| bad(name, value.as_bytes());
            match name {
                "Conns" => {
                    s.conns = value.parse().map_err(field("Conns"))?;
                    seen[0] = true;
                }
                "Services" => {
                    s.services = value.parse().map_err(field("Services"))?;
                    seen[1] = true;
                }
                "Conn buckets" | "Service buckets" => {
                    let (buckets, bits, lfactor) =
                        parse_table(value).ok_or_else(|| bad("table size", value.as_bytes()))?;
                    let (t, i) = match name {
                        "Conn buckets" => (&mut s.conn_table, 2),
                        _ => (&mut s.service_table, 3),
                    };
                    (t.buckets, t.bits, t.lfactor) = (buckets, bits, lfactor);
                    seen[i] = true;
                }
                "Stats thread slots" => {
                    let (n, max) = value
                        .strip_suffix(')')
                        .and_then(|v| v.split_once(" (max "))
                        .and_then(|(n, m)| Some((n.parse().ok()?, m.parse().ok()?)))
                        .ok_or_else(|| bad("Stats thread slots", value.as_bytes()))?;
                    (s.stats_threads, s.stats_threads_max) = (n, max);
                }
                "Stats chain max len" => {
                    s.stats_chain_max_len = value.parse().map_err(field("Stats chain max len"))?;
                }
                "Stats thread ests" => {
                    s.stats_thread_ests = value.parse().map_err(field("Stats thread ests"))?;
                }
                _ => match bucket_line(name) {
                    Some((which, len)) => {
                        let share = parse_share(value)
                            .ok_or_else(|| bad("bucket count", value.as_bytes()))?;
                        let table = match which {
                            Which::Conn => &mut s.conn_table,
                            Which::Service => &mut s.service_table,
                        };
                        let chains = table.chains.get_or_insert_with(Chains::default);
                        match len {
                            0 => chains.empty = share,
                            n => chains.lengths[n - 1] = share,
                        }
                    }
                    None => s.other.push((name.to_owned(), value.to_owned())),
                },
            }
        }
        const NAMES: [&str; 4] = ["Conns", "Services", "Conn buckets", "Service buckets"];
        match seen.iter().position(|&seen| !seen) {
            Some(i) => Err(ProcError::line(PATH, last + 1, NAMES[i], b"no such line")),
            None => Ok(s),
        }
    }

    /// The text as the kernel prints it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let tables = [
            ("Conns", "Conn", self.conns, &self.conn_table),
            ("Services", "Service", self.services, &self.service_table),
        ];
        for (count_name, prefix, count, t) in tables {
            let _ = writeln!(out, "{count_name}:\t{count}");
            let _ = writeln!(
                out,
                "{prefix} buckets:\t{} ({} bits, lfactor {})",
                t.buckets, t.bits, t.lfactor
            );
            if let Some(c) = &t.chains {
                let _ = writeln!(
                    out,
                    "{prefix} buckets empty:\t{} ({}%)",
                    c.empty.count, c.empty.percent
                );
                for (i, l) in c.lengths.iter().enumerate().filter(|(_, l)| l.count > 0) {
                    let _ = writeln!(
                        out,
                        "{prefix} buckets len-{}:\t{} ({}%)",
                        i + 1,
                        l.count,
                        l.percent
                    );
                }
            }
        }
        let _ = writeln!(
            out,
            "Stats thread slots:\t{} (max {})",
            self.stats_threads, self.stats_threads_max
        );
        let _ = writeln!(out, "Stats chain max len:\t{}", self.stats_chain_max_len);
        let _ = writeln!(out, "Stats thread ests:\t{}", self.stats_thread_ests);
        for (name, value) in &self.other {
            let _ = writeln!(out, "{name}:\t{value}");
        }
        out
    }
}

/// `Conn buckets empty` is length 0, `Service buckets len-3` length 3.
fn bucket_line(name: &str) -> Option<(Which, usize)> {
    let (which, rest) = if let Some(r) = name.strip_prefix("Conn buckets ") {
        (Which::Conn, r)
    } else {
        (Which::Service, name.strip_prefix("Service buckets ")?)
    };
    if rest == "empty" {
        return Some((which, 0));
    }
    let n: usize = rest.strip_prefix("len-")?.parse().ok()?;
    (1..=LENGTHS).contains(&n).then_some((which, n))
}

/// `256 (8 bits, lfactor -4)`.
fn parse_table(v: &str) -> Option<(u64, u32, i32)> {
    let (buckets, rest) = v.split_once(" (")?;
    let (bits, lfactor) = rest.strip_suffix(')')?.split_once(" bits, lfactor ")?;
    Some((
        buckets.parse().ok()?,
        bits.parse().ok()?,
        lfactor.parse().ok()?,
    ))
}

/// `253 (98%)`.
fn parse_share(v: &str) -> Option<Share> {
    let (count, percent) = v.strip_suffix("%)")?.split_once(" (")?;
    Some(Share {
        count: count.parse().ok()?,
        percent: percent.parse().ok()?,
    })
}
