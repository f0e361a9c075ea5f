//! Every option of the command line, each defined once: its names, its
//! help, its class in ipvsadm's legality tables and what it sets in the
//! [`Draft`] (or, for ipvsadm-rs's own options, how clap reads it). The clap
//! definition (`definition.rs`, which also makes the man page and the
//! completions), the fast path for plain lines (`plain.rs`), the option
//! replay (`replay.rs`) and the added section of `--help` (`usage.rs`) are
//! all made from these; each option's tests sit below its definition.
//!
//! The files group the options as ipvsadm's usage text does: `commands.rs`,
//! `service.rs`, `server.rs`, `listing.rs`, `daemon.rs`, and `ours.rs` for
//! what ipvsadm-rs adds.
//!
//! Conventions: `help` is one sentence, without the option's name, starting
//! with a capital and with no final full stop; the options ipvsadm-rs adds
//! are marked by [`Def::ours`], not by their help.

use clap::Arg;

use super::draft::Draft;
use super::legality::{Cmd, Opt};
use super::Exit;

pub(crate) mod commands;
pub(crate) mod daemon;
pub(crate) mod listing;
pub(crate) mod ours;
pub(crate) mod server;
pub(crate) mod service;
#[cfg(test)]
pub(crate) mod testing;

/// What an ipvsadm option does to the line's draft, given its value (`None`
/// when it takes none, or was given none: `-p`).
pub(crate) type Setter = fn(&mut Draft, Option<&str>) -> Result<(), Exit>;

/// What an option takes after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Takes {
    /// Nothing (`-m`).
    Nothing,
    /// Always the next word, named so in the help (`-u HOST[:PORT]`).
    Value(&'static str),
    /// The next word unless it starts with `-` or there is none (`-p [60]`).
    MaybeValue(&'static str),
}

/// What an option is on a command line.
pub(crate) enum Role {
    /// ipvsadm's command, which must be the line's first option.
    Command(Cmd),
    /// Ends the line at once with what to print (`-h`, `-v`), given the
    /// program's name, when it is the line's first option.
    Ends(fn(&str) -> Exit),
    /// An option after the command, replayed in order: its column of the
    /// legality tables (`None`: ipvsadm checks none), and what it sets.
    Set(Option<Opt>, Setter),
    /// An option of a run of ipvsadm-rs's own (`--apply`, `--pe-stats`,
    /// ...), read by `recognise.rs` from clap's matches, never replayed:
    /// how clap takes it, on top of its names, help and value name.
    Own(fn(Arg) -> Arg),
}

/// One option.
pub(crate) struct Def {
    /// The long name, which is also the clap argument's id.
    pub(crate) long: &'static str,
    pub(crate) short: Option<char>,
    /// Another short spelling (`-l` for `-L`).
    pub(crate) short_alias: Option<char>,
    pub(crate) takes: Takes,
    /// One line, for the man page and the completions.
    pub(crate) help: &'static str,
    /// More, for the man page only.
    pub(crate) long_help: Option<&'static str>,
    pub(crate) role: Role,
    /// An option ipvsadm 1.31 does not have, listed after ipvsadm's text in
    /// `--help`.
    pub(crate) ours: bool,
}

impl Def {
    /// How ipvsadm names the option in "invalid option" messages: by its
    /// short spelling if it has one.
    pub(crate) fn spelled(&self) -> String {
        match self.short {
            Some(c) => format!("-{c}"),
            None => format!("--{}", self.long),
        }
    }

    /// Whether the option is one of ipvsadm's grammar (replayed), rather
    /// than of a run of ipvsadm-rs's own.
    pub(crate) fn replayed(&self) -> bool {
        !matches!(self.role, Role::Own(_))
    }
}

/// A default for the fields most options share: replace what differs.
pub(crate) const BASE: Def = Def {
    long: "",
    short: None,
    short_alias: None,
    takes: Takes::Nothing,
    help: "",
    long_help: None,
    role: Role::Set(None, |_, _| Ok(())),
    ours: false,
};

use commands::*;
use daemon::*;
use listing::*;
use ours::*;
use server::*;
use service::*;

/// Every option of the command line, in the order of the man page (ipvsadm's
/// option table's, then ipvsadm-rs's own). `--drain`'s `--timeout SECONDS`
/// ([`ours::DRAIN_TIMEOUT`]) is not here: it belongs to the drain line's own
/// grammar (`drain.rs`), where `--timeout` takes a value.
pub(crate) static ALL: &[&Def] = &[
    &ADD_SERVICE,
    &EDIT_SERVICE,
    &DELETE_SERVICE,
    &CLEAR,
    &LIST,
    &ZERO,
    &ADD_SERVER,
    &EDIT_SERVER,
    &DELETE_SERVER,
    &SET,
    &HELP,
    &VERSION,
    &RESTORE,
    &SAVE,
    &START_DAEMON,
    &STOP_DAEMON,
    &TCP_SERVICE,
    &UDP_SERVICE,
    &SCTP_SERVICE,
    &FWMARK_SERVICE,
    &SCHEDULER,
    &PERSISTENT,
    &NETMASK,
    &REAL_SERVER,
    &MASQUERADING,
    &IPIP,
    &GATEWAYING,
    &WEIGHT,
    &U_THRESHOLD,
    &L_THRESHOLD,
    &NUMERIC,
    &CONNECTION,
    &MCAST_INTERFACE,
    &SYNC_ID,
    &TIMEOUT,
    &DAEMON,
    &STATS,
    &RATE,
    &THRESHOLDS,
    &PERSISTENT_CONN,
    &NOSORT,
    &SORT,
    &EXACT,
    &IPV6,
    &OPS,
    &PE,
    &SCHED_FLAGS,
    &MCAST_GROUP,
    &MCAST_PORT,
    &MCAST_TTL,
    &SYNC_MAXLEN,
    &TUN_INFO,
    &TUN_TYPE,
    &TUN_PORT,
    &TUN_NOCSUM,
    &TUN_CSUM,
    &TUN_REMCSUM,
    &JSON,
    &APPLY,
    &DRY_RUN,
    &PE_STATS,
    &FORMAT,
    &OUTPUT,
    &DRAIN,
    &FORCE_DELETE,
    &WHICH_SERVER,
    &HASH_KEY,
    &LAST_WEIGHT,
    &COMPLETIONS,
    &MAN,
];

/// The option whose long name (and clap id) is `long`.
pub(crate) fn by_long(long: &str) -> Option<&'static Def> {
    ALL.iter().copied().find(|d| d.long == long)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each long name is one option's (ids are looked up by it), and each
    /// short spelling too.
    #[test]
    fn names_identify_one_option_each() {
        for (i, d) in ALL.iter().enumerate() {
            assert!(!d.long.is_empty() && !d.help.is_empty(), "{}", d.long);
            assert!(std::ptr::eq(by_long(d.long).expect("listed"), *d));
            for other in &ALL[i + 1..] {
                let shorts = |x: &Def| [x.short, x.short_alias].into_iter().flatten();
                assert!(
                    shorts(d).all(|c| shorts(other).all(|o| o != c)),
                    "{} and {} share a short name",
                    d.long,
                    other.long
                );
            }
        }
        assert!(by_long("args").is_none());
    }

    /// The help follows the conventions above, so that the man page and
    /// `--help` read as one text.
    #[test]
    fn help_follows_the_conventions() {
        for d in ALL {
            let first = d.help.chars().next().unwrap_or(' ');
            assert!(first.is_uppercase(), "{}: {}", d.long, d.help);
            assert!(!d.help.ends_with('.'), "{}: {}", d.long, d.help);
            assert!(!d.help.contains("ipvsadm-rs extension"), "{}", d.long);
        }
    }
}
