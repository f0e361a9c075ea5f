//! The clap definition of ipvsadm's command line (plus `--json` and the
//! generators), used to parse lines that are not written plainly and to
//! generate the man page and shell completions.

use std::cell::RefCell;

use clap::builder::Resettable;
use clap::{Arg, ArgAction, ArgMatches, Command as ClapCommand};

use super::flag::Flag;
use super::Event;

/// Stands for "no value given": a NUL cannot occur in a real argument.
pub(crate) const NO_VALUE: &str = "\0";
/// The id of the `--set` values (the words that are no option's).
pub(crate) const ARGS: &str = "args";
/// The id of `--completions SHELL`.
const COMPLETIONS: &str = "completions";
/// The id of `--man`.
const MAN: &str = "man";

fn switch(f: Flag, short: Option<char>, help: &'static str) -> Arg {
    let a = Arg::new(f.long())
        .long(f.long())
        .help(help)
        .action(ArgAction::Append)
        .num_args(0)
        .default_missing_value(NO_VALUE);
    match short {
        Some(c) => a.short(c),
        None => a,
    }
}

fn value(f: Flag, short: Option<char>, value_name: &'static str, help: &'static str) -> Arg {
    let a = Arg::new(f.long())
        .long(f.long())
        .help(help)
        .value_name(value_name)
        .action(ArgAction::Append)
        .num_args(1)
        .allow_hyphen_values(true);
    match short {
        Some(c) => a.short(c),
        None => a,
    }
}

/// The clap argument of one option.
pub(crate) fn arg(f: Flag) -> Arg {
    use Flag::*;
    let hp = "HOST[:PORT]";
    match f {
        AddService => switch(f, Some('A'), "Add a virtual service"),
        EditService => switch(f, Some('E'), "Edit a virtual service"),
        DeleteService => switch(f, Some('D'), "Delete a virtual service"),
        Clear => switch(f, Some('C'), "Clear the whole table"),
        List => switch(f, Some('L'), "List the table").short_alias('l'),
        Zero => switch(f, Some('Z'), "Zero counters of a service or all services"),
        AddServer => switch(f, Some('a'), "Add a real server to a service"),
        EditServer => switch(f, Some('e'), "Edit a real server"),
        DeleteServer => switch(f, Some('d'), "Delete a real server"),
        Set => switch(f, None, "Set connection timeouts: tcp tcpfin udp"),
        Help => switch(f, Some('h'), "Display the help message"),
        Version => switch(f, Some('v'), "Display the version"),
        Restore => switch(f, Some('R'), "Restore rules from standard input"),
        Save => switch(f, Some('S'), "Save rules to standard output"),
        StartDaemon => value(f, None, "STATE", "Start a master or backup sync daemon"),
        StopDaemon => value(f, None, "STATE", "Stop the master or backup sync daemon"),
        TcpService => value(f, Some('t'), hp, "TCP virtual service"),
        UdpService => value(f, Some('u'), hp, "UDP virtual service"),
        SctpService => value(f, None, hp, "SCTP virtual service"),
        FwmarkService => value(f, Some('f'), "FWMARK", "Firewall-mark virtual service"),
        Scheduler => value(f, Some('s'), "SCHEDULER", "Scheduling algorithm"),
        Persistent => Arg::new(f.long())
            .long(f.long())
            .short('p')
            .value_name("TIMEOUT")
            .help("Persistent service, optionally with its timeout")
            .action(ArgAction::Append)
            .num_args(0..=1)
            .default_missing_value(NO_VALUE),
        Netmask => value(f, Some('M'), "NETMASK", "Persistence granularity mask"),
        RealServer => value(f, Some('r'), hp, "Real server address"),
        Masquerading => switch(f, Some('m'), "Masquerading (NAT)"),
        Ipip => switch(f, Some('i'), "IPIP encapsulation (tunneling)"),
        Gatewaying => switch(f, Some('g'), "Gatewaying (direct routing)"),
        Weight => value(f, Some('w'), "WEIGHT", "Capacity of the real server"),
        UThreshold => value(f, Some('x'), "UTHRESHOLD", "Upper connection threshold"),
        LThreshold => value(f, Some('y'), "LTHRESHOLD", "Lower connection threshold"),
        Numeric => switch(f, Some('n'), "Numeric output of addresses and ports"),
        Connection => switch(f, Some('c'), "List connections"),
        McastInterface => value(f, None, "INTERFACE", "Multicast interface for sync"),
        SyncId => value(f, None, "SID", "Sync id"),
        Timeout => switch(
            f,
            None,
            "List timeouts; with --drain, --timeout SECONDS bounds the wait (ipvsadm-rs extension)",
        ),
        Daemon => switch(f, None, "List sync daemons"),
        Stats => switch(f, None, "List statistics"),
        Rate => switch(f, None, "List rates"),
        Thresholds => switch(f, None, "List thresholds"),
        PersistentConn => switch(f, None, "List persistent connections"),
        NoSort => switch(f, None, "Do not sort the listing"),
        Sort => switch(f, None, "Sort the listing (the default)"),
        Exact => switch(f, Some('X'), "Exact numbers"),
        Ipv6 => switch(f, Some('6'), "The fwmark service uses IPv6"),
        Ops => switch(f, Some('o'), "One-packet scheduling"),
        Pe => value(f, None, "ENGINE", "Persistence engine"),
        SchedFlags => value(f, Some('b'), "FLAGS", "Scheduler flags (comma-separated)"),
        McastGroup => value(f, None, "ADDRESS", "Sync multicast group"),
        McastPort => value(f, None, "PORT", "Sync multicast port"),
        McastTtl => value(f, None, "TTL", "Sync multicast TTL"),
        SyncMaxlen => value(f, None, "LENGTH", "Maximum sync message length"),
        TunInfo => switch(f, None, "List tunnel information"),
        TunType => value(f, None, "TYPE", "Tunnel type: ipip, gue or gre"),
        TunPort => value(f, None, "PORT", "Tunnel destination port"),
        TunNocsum => switch(f, None, "Tunnel without checksum"),
        TunCsum => switch(f, None, "Tunnel with checksum"),
        TunRemcsum => switch(f, None, "Tunnel with remote checksum"),
        Json => switch(f, None, "Print listings as JSON (ipvsadm-rs extension)"),
    }
}

/// The clap definition of ipvsadm's command line (plus `--json`), used both
/// to parse and to generate the man page and shell completions.
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
        .args(Flag::ALL.iter().map(|f| arg(*f)))
        .args(super::apply::args())
        .args(super::pe_stats::args())
        .args(super::drain::args())
        .args([
            Arg::new(COMPLETIONS)
                .long(COMPLETIONS)
                .value_name("SHELL")
                .help("Print a shell completion script (ipvsadm-rs extension)")
                .value_parser(clap::value_parser!(clap_complete::Shell))
                .hide(true),
            Arg::new(MAN)
                .long(MAN)
                .help("Print the man page in roff (ipvsadm-rs extension)")
                .action(ArgAction::SetTrue)
                .hide(true),
            Arg::new(ARGS)
                .value_name("ARGS")
                .help("Timeout values for --set")
                .action(ArgAction::Append)
                .num_args(0..),
        ])
}

/// Every option occurrence of a matched line, in command-line order.
pub(crate) fn events(m: &ArgMatches) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    for id in m.ids().map(clap::Id::as_str) {
        let Some(flag) = Flag::from_id(id) else {
            continue;
        };
        let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_raw(id)) else {
            continue;
        };
        for (index, v) in idx.zip(vals) {
            let value = (v != NO_VALUE).then(|| v.to_string_lossy());
            out.push(Event { index, flag, value });
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

/// How ipvsadm names an option in "invalid option" messages: by its short
/// spelling if it has one.
pub(crate) fn spelled(f: Flag) -> String {
    match arg(f).get_short() {
        Some(c) => format!("-{c}"),
        None => format!("--{}", f.long()),
    }
}

/// What a command line asks for beyond ipvsadm: generated documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Generate {
    Completions(clap_complete::Shell),
    Man,
}

/// Recognises `--completions SHELL` and `--man`, which need no kernel.
pub(crate) fn generate_request(argv: &[String]) -> Option<Generate> {
    let m = matches(argv).ok()?;
    if let Some(s) = m.get_one::<clap_complete::Shell>(COMPLETIONS) {
        return Some(Generate::Completions(*s));
    }
    m.get_flag(MAN).then_some(Generate::Man)
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
