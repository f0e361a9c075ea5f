//! `--pe-stats [--format table|json|prometheus] [--output FILE]` (an
//! ipvsadm-rs extension): what a line that asks for it asks, checked. Its
//! options are defined in `defs/ours.rs`; what it does is in
//! `crate::pe_stats`.
//!
//! `--json`, which came first, stays as another spelling of `--format
//! json`; a line that asks for two formats is refused before anything is
//! read.

use std::path::PathBuf;

use clap::parser::ValueSource;
use clap::ArgMatches;

use super::defs::listing::JSON;
use super::defs::ours::{FORMAT, OUTPUT, PE_STATS};
use super::Exit;

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
    pub(crate) const NAMES: [(&'static str, PeStatsFormat); 3] = [
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

/// The `--pe-stats` run a matched line asks for; refused, status 2, when
/// an option other than `--format`, `--json` and `--output` comes with it
/// (refused as ipvsadm refuses an option a command does not take, rather
/// than ignored) or when `--json` comes with another `--format` than
/// `json`.
pub(crate) fn request(m: &ArgMatches) -> Result<PeStatsRequest, Exit> {
    let given = |id: &str| m.value_source(id) == Some(ValueSource::CommandLine);
    let ours = [PE_STATS.long, FORMAT.long, OUTPUT.long, JSON.long];
    if m.ids()
        .map(clap::Id::as_str)
        .any(|id| !ours.contains(&id) && given(id))
    {
        return Err(Exit::fail(
            "--pe-stats takes no other option than --format, --json and --output",
        ));
    }
    let json = given(JSON.long);
    let named = m.get_one::<String>(FORMAT.long).map(String::as_str);
    let format = match (named.map(PeStatsFormat::named), json) {
        (Some(Some(f)), false) => f,
        (Some(Some(PeStatsFormat::Json)) | None, true) => PeStatsFormat::Json,
        (None, false) => PeStatsFormat::Table,
        (Some(Some(_)), true) => {
            return Err(Exit::fail(format!(
                "--json means --format json: it cannot come with --format {}",
                named.unwrap_or_default()
            )))
        }
        // clap checked the value against the same names.
        (Some(None), _) => {
            return Err(Exit::fail(format!(
                "unknown --format {}",
                named.unwrap_or_default()
            )))
        }
    };
    Ok(PeStatsRequest {
        format,
        output: m.get_one::<PathBuf>(OUTPUT.long).cloned(),
    })
}

#[cfg(test)]
mod tests;
