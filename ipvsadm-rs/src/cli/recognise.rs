//! What kind of run a command line asks for, read once: an ipvsadm line
//! (checked, ready to carry out), or one of ipvsadm-rs's own runs. Every
//! refusal is decided here, before anything is read from or sent to the
//! kernel.

use super::definition::{events, matches, rest};
use super::defs::ours::{APPLY, COMPLETIONS, DRAIN, DRY_RUN, MAN, PE_STATS, WHICH_SERVER};
use super::{apply, clap_refusal, drain, pe_stats, plain, program_name, replay, which_server};
use super::{ApplyRequest, Command, DrainRequest, Exit, ListWhat, PeStatsRequest, Request};
use crate::which_server::WhichServerRequest;

/// What a command line asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Run {
    /// An ipvsadm command line (none at all lists the table).
    Ipvsadm(Request),
    /// `--apply FILE [--dry-run]`.
    Apply(ApplyRequest),
    /// `--pe-stats [--format F] [--output FILE]`.
    PeStats(PeStatsRequest),
    /// `--drain ...`.
    Drain(DrainRequest),
    /// `--which-server ...`.
    WhichServer(WhichServerRequest),
    /// `--completions SHELL` or `--man`.
    Generate(Generate),
}

/// Generated documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Generate {
    Completions(clap_complete::Shell),
    Man,
}

/// Whether `word` spells long option `long`, with or without `=VALUE`.
fn spells(word: &str, long: &str) -> bool {
    word.strip_prefix("--")
        .is_some_and(|w| w == long || w.strip_prefix(long).is_some_and(|r| r.starts_with('=')))
}

/// Reads a whole command line (`argv[0]` is the program name): `Err` is how
/// a line that is not carried out ends (help, version, or a refusal with
/// its message and status).
pub(crate) fn recognise<S: AsRef<str>>(argv: &[S]) -> Result<Run, Exit> {
    let program = program_name(argv);
    let words = argv.get(1..).unwrap_or_default();
    if words.is_empty() {
        return Ok(Run::Ipvsadm(Request {
            command: Command::List(ListWhat::All),
            format: Default::default(),
            json: false,
        }));
    }
    // A drain line has a grammar of its own (its --timeout takes a value).
    if words.iter().any(|w| spells(w.as_ref(), DRAIN.long)) {
        return drain::request(argv).map(Run::Drain);
    }
    // So does a --which-server line (its operands are Call-IDs).
    if words.iter().any(|w| spells(w.as_ref(), WHICH_SERVER.long)) {
        return which_server::request(argv).map(Run::WhichServer);
    }
    // Most lines (and every -R line) are plain: no clap.
    if let Some(evs) = plain::plain_events(argv) {
        return replay::meaning(program, &evs, Vec::new(), false).map(Run::Ipvsadm);
    }
    let m = matches(argv).map_err(clap_refusal)?;
    if let Some(shell) = m.get_one::<clap_complete::Shell>(COMPLETIONS.long) {
        return Ok(Run::Generate(Generate::Completions(*shell)));
    }
    if m.get_flag(MAN.long) {
        return Ok(Run::Generate(Generate::Man));
    }
    if m.get_flag(PE_STATS.long) {
        return pe_stats::request(&m).map(Run::PeStats);
    }
    if m.contains_id(APPLY.long) || m.get_flag(DRY_RUN.long) {
        return apply::request(&m).map(Run::Apply);
    }
    replay::meaning(program, &events(&m), rest(&m), false).map(Run::Ipvsadm)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &str) -> Vec<String> {
        std::iter::once("ipvsadm-rs")
            .chain(words.split_whitespace())
            .map(String::from)
            .collect()
    }

    /// A line is an ipvsadm line unless it names a run of ours, however the
    /// option is spelt.
    #[test]
    fn runs_are_told_apart() {
        assert!(matches!(recognise(&line("")), Ok(Run::Ipvsadm(_))));
        assert!(matches!(recognise(&line("-Ln")), Ok(Run::Ipvsadm(_))));
        assert!(matches!(recognise(&line("-L --json")), Ok(Run::Ipvsadm(r)) if r.json));
        assert!(matches!(recognise(&line("--apply=-")), Ok(Run::Apply(_))));
        assert!(matches!(
            recognise(&line("--drain=true -u 10.0.0.1:5060 -r 10.0.0.2")),
            Err(e) if e.code == 2
        ));
        assert!(matches!(recognise(&line("--drainage")), Err(e) if e.code == 255));
        assert!(spells("--drain", "drain") && spells("--drain=1", "drain"));
        assert!(!spells("--drainx", "drain") && !spells("-drain", "drain"));
    }

    /// What ipvsadm refuses is refused here, with its status.
    #[test]
    fn refusals_end_the_line() {
        assert_eq!(recognise(&line("-n -L")).map_err(|e| e.code), Err(255));
        assert_eq!(recognise(&line("-L --bogus")).map_err(|e| e.code), Err(255));
        assert_eq!(
            recognise(&line("-A -t 10.0.0.1:80 -p 0")).map_err(|e| e.code),
            Err(2)
        );
        assert_eq!(recognise(&line("-h")).map_err(|e| e.code), Err(0));
    }
}
