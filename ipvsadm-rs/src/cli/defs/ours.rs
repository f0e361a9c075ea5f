//! The options ipvsadm-rs adds for runs of its own: `--apply`, `--pe-stats`,
//! `--drain`, `--which-server` and the generated documentation. They are read from clap's
//! matches by `recognise.rs` (a line with one of them is no ipvsadm line),
//! and what they ask for is checked in `apply.rs`, `pe_stats.rs` and
//! `drain.rs` beside it, where their tests are. `--json`, which also goes
//! with ipvsadm's listings, is in `listing.rs`.

use clap::ArgAction;

use super::{Def, Role, Takes, ALL, BASE};
use crate::cli::pe_stats::PeStatsFormat;

pub(crate) static APPLY: Def = Def {
    long: "apply",
    takes: Takes::Value("FILE"),
    help: "Change the table into the one FILE describes (-S format; - for standard input), \
           with the fewest changes",
    long_help: Some(
        "Change the table into the one FILE describes (in -S format; - reads standard \
         input) with the fewest changes, editing what an edit can change, so that \
         services that stay keep their connections and persistence templates; prints \
         nothing if the table is already so",
    ),
    // Refused with any ipvsadm option, so that a line mixing them (on the
    // command line or in -R input) is not half understood.
    role: Role::Own(|a| {
        a.num_args(1)
            .allow_hyphen_values(true)
            .action(ArgAction::Set)
            .conflicts_with_all(ALL.iter().filter(|d| d.replayed()).map(|d| d.long))
    }),
    ours: true,
    ..BASE
};

pub(crate) static DRY_RUN: Def = Def {
    long: "dry-run",
    help: "With --apply: print the changes as ipvsadm command lines and make none",
    long_help: Some(
        "With --apply: print the changes as ipvsadm command lines, one per line, in \
         the order they would be made, and change nothing",
    ),
    role: Role::Own(|a| a.action(ArgAction::SetTrue).requires(APPLY.long)),
    ours: true,
    ..BASE
};

pub(crate) static PE_STATS: Def = Def {
    long: "pe-stats",
    help: "Show the SIP persistence engine's counters, and the calls held on each real server",
    long_help: Some(
        "Show the SIP persistence engine's counters in this network namespace, then the \
         persistence templates and (with --pe sip) the calls held on each real server of its \
         persistent services (--format, --output); exit status 3 when no engine with \
         statistics is loaded or its counters do not count yet",
    ),
    role: Role::Own(|a| a.action(ArgAction::SetTrue)),
    ours: true,
    ..BASE
};

pub(crate) static FORMAT: Def = Def {
    long: "format",
    takes: Takes::Value("FORMAT"),
    help: "With --pe-stats: table (the default), json (also --json) or prometheus",
    long_help: Some(
        "With --pe-stats: table (the default), json (also --json) or prometheus \
         (the text exposition format 0.0.4, for node_exporter's textfile collector)",
    ),
    role: Role::Own(|a| {
        a.value_parser(PeStatsFormat::NAMES.map(|(n, _)| n))
            .action(ArgAction::Set)
            .requires(PE_STATS.long)
    }),
    ours: true,
    ..BASE
};

pub(crate) static OUTPUT: Def = Def {
    long: "output",
    takes: Takes::Value("FILE"),
    help: "With --pe-stats: replace FILE atomically instead of writing to standard output",
    long_help: Some(
        "With --pe-stats: replace FILE atomically (written to FILE.tmp-PID beside \
         it, synced, renamed over FILE) instead of writing to standard output; \
         FILE is left as it was when nothing is to be written",
    ),
    role: Role::Own(|a| {
        a.value_parser(clap::value_parser!(std::path::PathBuf))
            .action(ArgAction::Set)
            .requires(PE_STATS.long)
    }),
    ours: true,
    ..BASE
};

/// The man page's account of `--drain`: what it does and its exit statuses
/// (docs/ipvsadm-rs.md says why).
const DRAIN_LONG_HELP: &str = "\
Take a real server out of a service without cutting a call: \
--drain -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK [-6] -r SERVER-ADDRESS \
[--timeout SECONDS [--force-delete]]. \
Sets the server's weight to 0 (no new call or client is scheduled to it), waits until no \
persistence template that may hold a call and no connection points at it, then deletes it. \
Templates of a --pe service without engine data (the sip engine's fallback templates of \
datagrams without a Call-ID, refreshed by every client's keep-alives) are not waited for. \
The server is deleted once seen idle for 2 seconds (readings every second), and put back \
at weight 0 if a template pointing at it appeared just before the delete. \
Refused, changing nothing, when net.ipv4.vs.expire_quiescent_template is 1 (weight 0 \
would then move the calls in progress). Progress goes to standard output: one line \
rewritten on a terminal, plain lines otherwise. At the timeout (none by default) the \
server stays at weight 0 unless --force-delete. SIGINT, SIGTERM and SIGHUP stop the wait \
and leave the server at weight 0, not deleted. (ipvsadm-rs extension)

Exit status of --drain:
  0    deleted once idle
  1    an error; the message says how the server is left
  2    a refused command line (nothing changed), or no IPVS
  3    timed out: left at weight 0, not deleted
  4    timed out and deleted anyway (--force-delete)
  5    refused, nothing changed: expire_quiescent_template is 1
  128+N  stopped by signal N (130 for Ctrl-C): left at weight 0";

pub(crate) static DRAIN: Def = Def {
    long: "drain",
    help: "Drain a real server (-r) of a service: weight 0, wait until no call template nor \
           connection points at it, then delete it",
    long_help: Some(DRAIN_LONG_HELP),
    role: Role::Own(|a| a.action(ArgAction::SetTrue)),
    ours: true,
    ..BASE
};

/// `--drain`'s `--timeout SECONDS`, in the drain line's own grammar
/// (`drain.rs`); in ipvsadm's, `--timeout` ([`super::listing::TIMEOUT`])
/// lists the timeouts and takes no value.
pub(crate) static DRAIN_TIMEOUT: Def = Def {
    long: "timeout",
    takes: Takes::Value("SECONDS"),
    help: "With --drain: give up after SECONDS, leaving the server at weight 0",
    role: Role::Own(|a| {
        a.action(ArgAction::Set)
            .allow_negative_numbers(true)
            .value_parser(clap::value_parser!(u32))
    }),
    ours: true,
    ..BASE
};

pub(crate) static FORCE_DELETE: Def = Def {
    long: "force-delete",
    help: "With --drain and --timeout: at the timeout, delete the server anyway, cutting \
           the calls still on it (exit status 4)",
    role: Role::Own(|a| a.action(ArgAction::SetTrue).requires(DRAIN.long)),
    ours: true,
    ..BASE
};

pub(crate) static WHICH_SERVER: Def = Def {
    long: "which-server",
    help: "Show which real server of a sipmh service a new call with each CALL-ID goes to \
           (- reads them from standard input)",
    long_help: Some(
        "Show which real server of a service scheduled by sipmh a new call with each \
         CALL-ID goes to: --which-server -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK \
         [-6] [--hash-key HEX] [--last-weight SERVER-ADDRESS=WEIGHT]... CALL-ID... (- reads \
         Call-IDs from standard input, one a line). One line each: the Call-ID and the \
         server, - when none takes new calls, and the table's own server when the call falls \
         back from it. Computed from the service's servers and weights and the scheduler's \
         key (the module's hash_key parameter, readable by root only), as every director with \
         the same ones chooses; a call that has a template keeps its server. Exit status 1 \
         when the service is not a sipmh one or a Call-ID has no server. (ipvsadm-rs \
         extension)",
    ),
    role: Role::Own(|a| a.action(ArgAction::SetTrue)),
    ours: true,
    ..BASE
};

pub(crate) static HASH_KEY: Def = Def {
    long: "hash-key",
    takes: Takes::Value("HEX"),
    help: "With --which-server: the sipmh key (32 hex digits) instead of the module's",
    role: Role::Own(|a| a.action(ArgAction::Set).requires(WHICH_SERVER.long)),
    ours: true,
    ..BASE
};

pub(crate) static LAST_WEIGHT: Def = Def {
    long: "last-weight",
    takes: Takes::Value("SERVER-ADDRESS=WEIGHT"),
    help: "With --which-server: the last non-zero weight of a server now at weight 0 \
           (IPVS does not report it)",
    role: Role::Own(|a| a.action(ArgAction::Append).requires(WHICH_SERVER.long)),
    ours: true,
    ..BASE
};

pub(crate) static COMPLETIONS: Def = Def {
    long: "completions",
    takes: Takes::Value("SHELL"),
    help: "Print a shell completion script: bash, zsh, fish, elvish or powershell",
    role: Role::Own(|a| {
        a.value_parser(clap::value_parser!(clap_complete::Shell))
            .hide(true)
    }),
    ours: true,
    ..BASE
};

pub(crate) static MAN: Def = Def {
    long: "man",
    help: "Print the man page in roff",
    role: Role::Own(|a| a.action(ArgAction::SetTrue).hide(true)),
    ours: true,
    ..BASE
};

#[cfg(test)]
mod tests {
    use crate::cli::{recognise, Run};

    fn run(words: &str) -> Result<Run, crate::cli::Exit> {
        recognise(&super::super::testing::args(words))
    }

    /// Each option of ours makes a run of its own, or is refused on a line
    /// that does not ask for that run.
    #[test]
    fn each_makes_its_run() {
        assert!(matches!(run("--apply rules"), Ok(Run::Apply(_))));
        assert!(matches!(run("--apply rules --dry-run"), Ok(Run::Apply(r)) if r.dry_run));
        assert!(matches!(run("--pe-stats"), Ok(Run::PeStats(_))));
        assert!(matches!(
            run("--pe-stats --format prometheus --output f"),
            Ok(Run::PeStats(_))
        ));
        assert!(matches!(
            run("--drain -u 10.0.0.1:5060 -r 10.0.0.2"),
            Ok(Run::Drain(_))
        ));
        assert!(matches!(
            run("--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout 9 --force-delete"),
            Ok(Run::Drain(r)) if r.force_delete
        ));
        assert!(matches!(run("--completions bash"), Ok(Run::Generate(_))));
        assert!(matches!(run("--man"), Ok(Run::Generate(_))));
        for alone in [
            "-L --dry-run",
            "-L --format json",
            "-L --output f",
            "-L --force-delete",
        ] {
            assert!(matches!(run(alone), Err(e) if e.code != 0), "{alone}");
        }
    }
}
