//! The clap definition of the command line, made from the options'
//! definitions (`defs.rs`): it reads the lines that are not written plainly,
//! and makes the man page and the shell completions.

use std::cell::RefCell;

use clap::builder::Resettable;
use clap::{Arg, ArgAction, ArgMatches, Command as ClapCommand};

use super::defs::{self, Def, Role, Takes};
use super::Event;

/// Stands for "no value given": a NUL cannot occur in a real argument.
pub(crate) const NO_VALUE: &str = "\0";
/// The id of the `--set` values (the words that are no option's).
pub(crate) const ARGS: &str = "args";

/// The clap argument of one option: its names and help, and how it takes
/// its value. ipvsadm's options are appended (each occurrence is replayed,
/// and a second one refused by the replay, as ipvsadm refuses it); ours
/// are taken as their definition says.
pub(crate) fn arg(d: &Def) -> Arg {
    let mark = |text: &str| {
        if d.ours && !text.contains("(ipvsadm-rs extension)") {
            format!("{text} (ipvsadm-rs extension)")
        } else {
            text.to_string()
        }
    };
    let help = mark(d.help);
    let mut a = Arg::new(d.long).long(d.long).help(help);
    if let Some(c) = d.short {
        a = a.short(c);
    }
    if let Some(c) = d.short_alias {
        a = a.short_alias(c);
    }
    if let Some(long) = d.long_help {
        a = a.long_help(mark(long));
    }
    a = match d.takes {
        Takes::Nothing => a,
        Takes::Value(name) | Takes::MaybeValue(name) => a.value_name(name),
    };
    if let Role::Own(how) = d.role {
        return how(a);
    }
    let a = a.action(ArgAction::Append);
    match d.takes {
        Takes::Nothing => a.num_args(0).default_missing_value(NO_VALUE),
        Takes::Value(_) => a.num_args(1).allow_hyphen_values(true),
        Takes::MaybeValue(_) => a.num_args(0..=1).default_missing_value(NO_VALUE),
    }
}

/// The clap definition of the whole command line.
pub(crate) fn command() -> ClapCommand {
    ClapCommand::new("ipvsadm-rs")
        .about("Linux Virtual Server administration, compatible with ipvsadm 1.31")
        .long_about(
            "Sets up, maintains and inspects the virtual server table in the Linux kernel \
             (IPVS) over generic netlink. Commands, options, output and exit codes are those \
             of ipvsadm 1.31; --json adds machine-readable listings.",
        )
        .version("1.31")
        .disable_help_flag(true)
        .disable_version_flag(true)
        .dont_delimit_trailing_values(true)
        .args(defs::ALL.iter().map(|d| arg(d)))
        .arg(
            Arg::new(ARGS)
                .value_name("ARGS")
                .help("Timeout values for --set")
                .action(ArgAction::Append)
                .num_args(0..),
        )
}

/// Every occurrence of ipvsadm's options in a matched line, in command-line
/// order (ours are read by `recognise.rs`, not replayed).
pub(crate) fn events(m: &ArgMatches) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    for id in m.ids().map(clap::Id::as_str) {
        let Some(def) = defs::by_long(id).filter(|d| d.replayed()) else {
            continue;
        };
        let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_raw(id)) else {
            continue;
        };
        for (index, v) in idx.zip(vals) {
            let value = (v != NO_VALUE).then(|| v.to_string_lossy());
            out.push(Event { index, def, value });
        }
    }
    out.sort_by_key(|e| e.index);
    out
}

/// The words of a matched line that are no option's (the `--set` values).
pub(crate) fn rest(m: &ArgMatches) -> Vec<String> {
    m.get_many::<String>(ARGS)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

thread_local! {
    /// [`command`], built once per thread: building (or cloning) the
    /// definition costs more than parsing a line, and `-R` parses one per
    /// rule.
    pub(crate) static COMMAND: RefCell<ClapCommand> = RefCell::new({
        let mut cmd = command();
        cmd.build();
        cmd
    });
}

/// Matches a command line against [`command`], built once per thread.
///
/// Parsing leaves only one trace in a built definition: clap names the
/// program after `argv[0]` only while it has no name, so the name is cleared
/// first and each line's usage errors name its own `argv[0]`, as with a
/// fresh definition.
pub(crate) fn matches<S: AsRef<str>>(argv: &[S]) -> clap::error::Result<ArgMatches> {
    COMMAND.with_borrow_mut(|cmd| {
        *cmd = std::mem::take(cmd).bin_name(Resettable::Reset);
        cmd.try_get_matches_from_mut(argv.iter().map(AsRef::as_ref))
    })
}
