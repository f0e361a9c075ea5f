//! The command line: what kind of run a line asks for ([`recognise()`], once
//! per run), and for an ipvsadm line the typed [`Request`], or how the line
//! ends ([`Exit`]).
//!
//! Each option is defined once (`cli/defs/`): its names, help, legality
//! class and what it sets. ipvsadm parses with popt and then interprets the
//! options strictly in the order given; the clap definition made from the
//! definitions (`cli/definition.rs`) accepts the same spellings, and each
//! line's option occurrences are replayed in command-line order
//! (`cli/replay.rs`) through ipvsadm's checks on the whole line
//! (`cli/checks.rs`, `cli/legality.rs`) into the command (`cli/build.rs`),
//! with ipvsadm's messages and exit codes. Lines written plainly, as `-R`
//! input is, are split into the same occurrences without clap
//! (`cli/plain.rs`). ipvsadm-rs's own runs (`--apply`, `--pe-stats`,
//! `--drain`, the generators) are read in `cli/recognise.rs` and checked
//! in `cli/apply.rs`, `cli/pe_stats.rs` and `cli/drain.rs`.

use std::borrow::Cow;

use ipvs::Change;

use crate::render::Format;

/// Declares a fieldless enum whose variants each have a name, with `ALL`
/// (every variant, in order) and a `const fn` giving the name, all from one
/// list, so neither can miss a variant. [`legality::Opt`] is declared by it.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        enum $name:ident;
        $(#[$all_doc:meta])* const ALL;
        $(#[$fn_doc:meta])* fn $fn:ident;
        $($(#[$vdoc:meta])* $variant:ident = $text:literal,)*
    ) => {
        $(#[$meta])*
        pub(crate) enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            $(#[$all_doc])*
            pub(crate) const ALL: &'static [$name] = &[$($name::$variant,)*];

            $(#[$fn_doc])*
            pub(crate) const fn $fn(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }
    };
}

mod address;
mod apply;
mod build;
mod checks;
mod definition;
mod defs;
mod draft;
mod drain;
mod legality;
mod number;
mod pe_stats;
mod plain;
mod recognise;
mod replay;
mod service_arg;
mod usage;
mod which_server;

pub(crate) use apply::ApplyRequest;
pub(crate) use definition::command;
pub(crate) use drain::DrainRequest;
pub(crate) use pe_stats::{PeStatsFormat, PeStatsRequest};
pub(crate) use recognise::{recognise, Generate, Run};
pub(crate) use usage::usage;

/// The name the program was run as (`argv[0]`), which ipvsadm's messages
/// start with.
pub(crate) fn program_name<S: AsRef<str>>(argv: &[S]) -> &str {
    argv.first().map_or("ipvsadm-rs", AsRef::as_ref)
}

/// Scheduler used when `-s` is not given.
pub(crate) const DEF_SCHED: &str = "wlc";

/// The version line ipvsadm prints, kept identical so scripts that parse it
/// keep working.
pub(crate) const VERSION_LINE: &str =
    "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";

/// What a list command shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListWhat {
    All,
    Service(ipvs::ServiceKey),
    Connections,
    Timeout,
    Daemon,
}

/// A fully checked command, ready to be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// A change to the table or its settings.
    Change(Change),
    List(ListWhat),
    Restore,
    Save,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Request {
    pub(crate) command: Command,
    pub(crate) format: Format,
    /// `--json`: print the listing as JSON instead of text.
    pub(crate) json: bool,
}

/// The end of a command line that is not carried out: help, version, or an
/// error, with what to print and the exit code ipvsadm would give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Exit {
    pub(crate) code: i32,
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
}

impl Exit {
    /// Ends with `code`, printing `stderr` (empty, or whole lines).
    pub(crate) fn status(code: i32, stderr: String) -> Self {
        Exit {
            code,
            stdout: Vec::new(),
            stderr,
        }
    }

    /// ipvsadm's `fail(2, ...)`: a command line it understood but rejects.
    pub(crate) fn fail(msg: impl Into<String>) -> Self {
        let mut stderr = msg.into();
        stderr.push('\n');
        Self::status(2, stderr)
    }

    /// ipvsadm's "Try `ipvsadm -h'" exit for command lines popt rejects.
    pub(crate) fn try_help(program: &str) -> Self {
        Self::status(
            255,
            format!("Try `{program} -h' or '{program} --help' for more information.\n"),
        )
    }
}

/// One option occurrence in command-line order.
pub(crate) struct Event<'a> {
    /// Its position among the line's occurrences (clap's index).
    pub(crate) index: usize,
    pub(crate) def: &'static defs::Def,
    /// Its value; `None` when it takes none or was given none (`-p`).
    pub(crate) value: Option<Cow<'a, str>>,
}

/// Parses one ipvsadm command line (`argv[0]` is the program name), as
/// `-R` reads each of its lines: ipvsadm's grammar only. `reading_stdin` is
/// set for lines read by `-R`, which may not restore again.
pub(crate) fn parse<S: AsRef<str>>(argv: &[S], reading_stdin: bool) -> Result<Request, Exit> {
    let program = program_name(argv);
    match plain::plain_events(argv) {
        Some(evs) => replay::meaning(program, &evs, Vec::new(), reading_stdin),
        None => {
            let m = definition::matches(argv).map_err(clap_refusal)?;
            replay::meaning(
                program,
                &definition::events(&m),
                definition::rest(&m),
                reading_stdin,
            )
        }
    }
}

/// A line clap refuses: its message, with popt's status for a line it
/// cannot read.
pub(crate) fn clap_refusal(e: clap::Error) -> Exit {
    let mut stderr = e.render().to_string();
    if !stderr.ends_with('\n') {
        stderr.push('\n');
    }
    Exit::status(255, stderr)
}

#[cfg(test)]
mod tests;
