//! `--pe-stats`: the SIP persistence engine's counters, where the operator
//! already looks (an ipvsadm-rs extension; ipvsadm has no such listing, so
//! its layout is ours).
//!
//! The engine (`kmod/stats.rs`) keeps its counters per network namespace in
//! `/proc/net/ip_vs_pe_sip_stats`, one `NAME VALUE` line each, `examined`
//! first. Every outcome is shown with its count and its share of
//! `examined`, which is what tells an operator whether a fallback is rare or
//! the rule. Counters this program does not know yet (a newer module) are
//! shown like the others, in the module's order, so that the listing never
//! lags behind the engine.
//!
//! After the counters come the calls held on each real server of the
//! persistent services (`pe_stats/servers.rs`), which IPVS only tells over
//! netlink and in `/proc/net/ip_vs_conn`: the engine's counters say how
//! datagrams were sorted, these say where the calls are.
//!
//! `--format json` (or `--json`) gives both as JSON, `--format prometheus`
//! in the Prometheus text exposition format (`pe_stats/prometheus.rs`), and
//! `--output FILE` replaces FILE atomically instead of writing to standard
//! output (`pe_stats/textfile.rs`).
//!
//! The engine's file is read first: without an engine nothing else is
//! read (status 3), and IPVS is not asked to load (the engine needs it, so
//! with the engine IPVS is there).

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;
use tabled::builder::Builder;
use tabled::settings::object::Columns;
use tabled::settings::{Alignment, Style};

use crate::cli::{PeStatsFormat, PeStatsRequest};
use crate::explain;

mod prometheus;
mod servers;
mod textfile;

pub(crate) use servers::{held, Held};

/// Where the engine publishes its counters; `/proc/net` is the calling
/// process's network namespace, so this lists the caller's namespace.
pub(crate) const PROC_FILE: &str = "/proc/net/ip_vs_pe_sip_stats";

/// The counter every other one is a share of.
const EXAMINED: &str = "examined";

/// Exit status when no engine with statistics is loaded in the namespace (or
/// its counters do not count yet):
/// distinct from 1 (the file exists but cannot be read or understood) and
/// 2 (a command line that is refused), so that a script can tell "not
/// loaded" from "broken".
pub(crate) const EXIT_NOT_LOADED: i32 = 3;

/// One counter, in the module's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Counter {
    pub(crate) name: String,
    pub(crate) count: u64,
}

/// The counters of one namespace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeStats {
    pub(crate) counters: Vec<Counter>,
}

/// A line of the file that is not `NAME VALUE`: the module and this program
/// disagree, which is worth saying rather than guessing around.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ParseError {
    /// 1-based line number.
    pub(crate) line: usize,
    pub(crate) text: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unexpected line {} in {PROC_FILE}: {:?} (expected NAME VALUE)",
            self.line, self.text
        )
    }
}

/// Reads the file's text: one `NAME VALUE` line per counter, blank lines
/// ignored. A name given twice is refused, as the share of a counter would
/// be ambiguous.
pub(crate) fn parse(text: &str) -> Result<PeStats, ParseError> {
    let mut counters: Vec<Counter> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let bad = || ParseError {
            line: i + 1,
            text: line.to_string(),
        };
        let mut words = line.split_whitespace();
        let (Some(name), Some(value), None) = (words.next(), words.next(), words.next()) else {
            return Err(bad());
        };
        let count = value.parse::<u64>().map_err(|_| bad())?;
        if counters.iter().any(|c| c.name == name) {
            return Err(bad());
        }
        counters.push(Counter {
            name: name.to_string(),
            count,
        });
    }
    Ok(PeStats { counters })
}

impl PeStats {
    /// The number of datagrams examined, if the module reports it.
    fn examined(&self) -> Option<u64> {
        self.counters
            .iter()
            .find(|c| c.name == EXAMINED)
            .map(|c| c.count)
    }

    /// `count` as a fraction of `examined`; `None` when nothing was
    /// examined yet (or the module has no such counter): no share is
    /// meaningful then, and 0 % would claim one.
    fn share(&self, count: u64) -> Option<f64> {
        match self.examined() {
            Some(total) if total > 0 => Some(count as f64 / total as f64),
            _ => None,
        }
    }
}

/// The table shown by `--pe-stats`.
pub(crate) fn render(stats: &PeStats) -> String {
    let mut b = Builder::new();
    b.push_record(["outcome", "count", "share of examined"]);
    for c in &stats.counters {
        let share = stats
            .share(c.count)
            .map_or_else(|| "-".to_string(), |s| format!("{:.1} %", s * 100.0));
        b.push_record([c.name.clone(), c.count.to_string(), share]);
    }
    let mut table = b.build();
    table
        .with(Style::psql())
        .modify(Columns::new(1..), Alignment::right());
    let mut text = table.to_string();
    text.push('\n');
    text
}

/// The table of the real servers shown after the counters' (nothing when
/// there is none): each with its service as ipvsadm's options name it, its
/// templates and, for a `--pe sip` service, its calls.
pub(crate) fn render_servers(held: &[Held]) -> String {
    if held.is_empty() {
        return String::new();
    }
    let mut b = Builder::new();
    b.push_record(["service", "real server", "templates", "calls"]);
    for h in held {
        b.push_record([
            explain::service_option(&h.service),
            h.server.to_string(),
            h.templates.to_string(),
            h.calls.map_or_else(|| "-".to_string(), |n| n.to_string()),
        ]);
    }
    let mut table = b.build();
    table
        .with(Style::psql())
        .modify(Columns::new(2..), Alignment::right());
    format!("\n{table}\n")
}

/// `--pe-stats --json`: the counters in the module's order, then the real
/// servers.
#[derive(Serialize)]
struct Json<'a> {
    source: &'static str,
    counters: Vec<JsonCounter<'a>>,
    servers: Vec<JsonHeld>,
}

/// One real server in `--pe-stats --json`.
#[derive(Serialize)]
struct JsonHeld {
    /// As `-L --json` names a service: `family`, and `protocol`, `address`
    /// and `port`, or `fwmark`.
    service: serde_json::Value,
    address: String,
    port: u16,
    persistence_templates: u32,
    /// `null` for a service without the `sip` engine.
    calls: Option<u32>,
}

#[derive(Serialize)]
struct JsonCounter<'a> {
    name: &'a str,
    count: u64,
    /// A fraction in 0..=1 (not a percentage), `null` when nothing was
    /// examined.
    share_of_examined: Option<f64>,
}

/// The JSON printed by `--pe-stats --json`, with a final newline.
pub(crate) fn to_json(stats: &PeStats, held: &[Held]) -> serde_json::Result<String> {
    let j = Json {
        servers: held
            .iter()
            .map(|h| JsonHeld {
                service: crate::json::service_key(&h.service),
                address: crate::sys::ntop(&h.server.ip()),
                port: h.server.port(),
                persistence_templates: h.templates,
                calls: h.calls,
            })
            .collect(),
        source: PROC_FILE,
        counters: stats
            .counters
            .iter()
            .map(|c| JsonCounter {
                name: &c.name,
                count: c.count,
                share_of_examined: stats.share(c.count),
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&j)?;
    s.push('\n');
    Ok(s)
}

/// The one line said when the namespace has no engine counters.
pub(crate) fn not_loaded() -> String {
    format!(
        "no persistence engine with statistics is loaded in this network namespace \
         ({PROC_FILE} does not exist): load this project's engine with `modprobe ip_vs_pe_sip_rs`\n"
    )
}

/// The one line said when the file exists but has no counters yet: the
/// engine registers them a moment after it loads, and shows no line before
/// they count (`docs/engine.md`, "Counters").
pub(crate) fn not_counting_yet() -> String {
    format!(
        "the engine's counters are not counting yet ({PROC_FILE} is empty): it registers \
         them just after it loads; try again in a moment\n"
    )
}

/// Carries out `--pe-stats`; `servers` reads the real servers (from IPVS),
/// once the engine's counters are known to be there. Returns the exit
/// status.
pub(crate) fn show(
    req: &PeStatsRequest,
    servers: &mut dyn FnMut() -> Result<Vec<Held>, String>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    show_text(std::fs::read_to_string(PROC_FILE), servers, req, out, err)
}

/// Carries out `--pe-stats` on the text read from the file (or why it could
/// not be read) and the servers `servers` reads; returns the exit status.
/// Only a whole listing is shown: with `--output`, when there is nothing to
/// show (no engine, no counters yet, a file that cannot be read or
/// understood, servers that cannot be read) FILE is left as it was.
pub(crate) fn show_text(
    read: io::Result<String>,
    servers: &mut dyn FnMut() -> Result<Vec<Held>, String>,
    req: &PeStatsRequest,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let text = match read {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let _ = err.write_all(not_loaded().as_bytes());
            return EXIT_NOT_LOADED;
        }
        Err(e) => {
            let _ = writeln!(err, "cannot read {PROC_FILE}: {e}");
            return 1;
        }
    };
    let stats = match parse(&text) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(err, "{e}");
            return 1;
        }
    };
    if stats.counters.is_empty() {
        let _ = err.write_all(not_counting_yet().as_bytes());
        return EXIT_NOT_LOADED;
    }
    let held = match servers() {
        Ok(h) => h,
        Err(e) => {
            let _ = writeln!(
                err,
                "cannot read the real servers' templates: {}",
                e.trim_end()
            );
            return 1;
        }
    };
    let shown = match req.format {
        PeStatsFormat::Table => render(&stats) + &render_servers(&held),
        PeStatsFormat::Prometheus => {
            prometheus::render(&stats) + &prometheus::render_servers(&held)
        }
        PeStatsFormat::Json => match to_json(&stats, &held) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "cannot encode JSON: {e}");
                return 1;
            }
        },
    };
    match &req.output {
        None => match out.write_all(shown.as_bytes()) {
            Ok(()) => 0,
            Err(_) => 1,
        },
        Some(file) => match textfile::replace(file, shown.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                let _ = writeln!(
                    err,
                    "cannot write {}: {e} (the file is left as it was)",
                    file.display()
                );
                1
            }
        },
    }
}

#[cfg(test)]
mod tests;
