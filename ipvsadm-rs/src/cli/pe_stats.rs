//! `--pe-stats [--format table|json|prometheus] [--output FILE]` (an
//! ipvsadm-rs extension): its clap arguments, and the recognition of a
//! command line that asks for it. What it does is in `crate::pe_stats`.
//!
//! `--json`, which came first, stays as another spelling of `--format
//! json`; a line that asks for two formats is refused before anything is
//! read.

use std::path::PathBuf;

use clap::{Arg, ArgAction};

use super::definition::matches;
use super::flag::Flag;
use super::Exit;

/// The id and long name of `--pe-stats`.
const PE_STATS: &str = "pe-stats";
/// The id and long name of `--format FORMAT`.
const FORMAT: &str = "format";
/// The id and long name of `--output FILE`.
const OUTPUT: &str = "output";

/// How `--pe-stats` shows the counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeStatsFormat {
    /// The table, with each outcome's share of `examined` (the default).
    Table,
    /// `{"source": ..., "counters": [...]}`.
    Json,
    /// The Prometheus text exposition format, version 0.0.4.
    Prometheus,
}

impl PeStatsFormat {
    /// Every format, by the name `--format` takes.
    const NAMES: [(&'static str, PeStatsFormat); 3] = [
        ("table", PeStatsFormat::Table),
        ("json", PeStatsFormat::Json),
        ("prometheus", PeStatsFormat::Prometheus),
    ];

    fn named(name: &str) -> Option<PeStatsFormat> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| *f)
    }
}

/// What `--pe-stats` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PeStatsRequest {
    pub(crate) format: PeStatsFormat,
    /// `--output FILE`: replace FILE atomically instead of writing to
    /// standard output.
    pub(crate) output: Option<PathBuf>,
}

/// The clap arguments of `--pe-stats`, `--format` and `--output`. The last
/// two require `--pe-stats`: on another line clap refuses them (status 255,
/// as any option a parser does not accept there) rather than ignoring them.
pub(crate) fn args() -> [Arg; 3] {
    [
        Arg::new(PE_STATS)
            .long(PE_STATS)
            .help(
                "Show the SIP persistence engine's counters in this network namespace \
                 (--format, --output); exit status 3 when no engine with statistics is \
                 loaded or its counters do not count yet (ipvsadm-rs extension)",
            )
            .action(ArgAction::SetTrue),
        Arg::new(FORMAT)
            .long(FORMAT)
            .value_name("FORMAT")
            .help(
                "With --pe-stats: table (the default), json (also --json) or prometheus \
                 (the text exposition format 0.0.4, for node_exporter's textfile collector) \
                 (ipvsadm-rs extension)",
            )
            .value_parser(PeStatsFormat::NAMES.map(|(n, _)| n))
            .action(ArgAction::Set)
            .requires(PE_STATS),
        Arg::new(OUTPUT)
            .long(OUTPUT)
            .value_name("FILE")
            .help(
                "With --pe-stats: replace FILE atomically (written to FILE.tmp-PID beside \
                 it, synced, renamed over FILE) instead of writing to standard output; \
                 FILE is left as it was when nothing is to be written (ipvsadm-rs extension)",
            )
            .value_parser(clap::value_parser!(PathBuf))
            .action(ArgAction::Set)
            .requires(PE_STATS),
    ]
}

/// Recognises `--pe-stats`, which needs no IPVS connection: `None` for
/// any other line; `Some(Err(..))`, status 2, when an option other than
/// `--format`, `--json` and `--output` comes with it (refused as ipvsadm
/// refuses an option a command does not take, rather than ignored) or when
/// `--json` comes with another `--format` than `json`.
pub(crate) fn pe_stats_request(argv: &[String]) -> Option<Result<PeStatsRequest, Exit>> {
    let m = matches(argv).ok()?;
    if !m.get_flag(PE_STATS) {
        return None;
    }
    let given = |id: &str| m.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    let ours = [PE_STATS, FORMAT, OUTPUT, Flag::Json.long()];
    if m.ids()
        .map(clap::Id::as_str)
        .any(|id| !ours.contains(&id) && given(id))
    {
        return Some(Err(Exit::fail(
            "--pe-stats takes no other option than --format, --json and --output",
        )));
    }
    let json = given(Flag::Json.long());
    let named = m.get_one::<String>(FORMAT).map(String::as_str);
    let format = match (named.map(PeStatsFormat::named), json) {
        (Some(Some(f)), false) => f,
        (Some(Some(PeStatsFormat::Json)) | None, true) => PeStatsFormat::Json,
        (None, false) => PeStatsFormat::Table,
        (Some(Some(_)), true) => {
            return Some(Err(Exit::fail(format!(
                "--json means --format json: it cannot come with --format {}",
                named.unwrap_or_default()
            ))))
        }
        // clap checked the value against the same names.
        (Some(None), _) => {
            return Some(Err(Exit::fail(format!(
                "unknown --format {}",
                named.unwrap_or_default()
            ))))
        }
    };
    Some(Ok(PeStatsRequest {
        format,
        output: m.get_one::<PathBuf>(OUTPUT).cloned(),
    }))
}

#[cfg(test)]
mod tests;
