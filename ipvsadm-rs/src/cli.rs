//! The ipvsadm 1.31 command line: its clap definition and its meaning.
//!
//! ipvsadm parses with popt and then interprets the options strictly in the
//! order given (`-r` copies the service port as it is at that point, `-6`
//! must follow `-f`, the first option must be the command). The clap
//! definition accepts the same spellings; the options are then replayed in
//! command-line order through the same checks, with ipvsadm's messages and
//! exit codes. Lines written plainly, as `-R` input is, are split into the
//! same options without clap's matching (see `plain_events`), which costs
//! more than all the rest of a restored line.

use std::any::TypeId;
use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;

use clap::builder::{Resettable, ValueRange};
use clap::{Arg, ArgAction, ArgMatches, Command as ClapCommand};

use ipvs::{Change, Timeouts};

use crate::sys;
use draft::*;

mod draft;

/// Longest persistence timeout ipvsadm accepts (31 days).
const MAX_TIMEOUT: u32 = 86400 * 31;
/// Scheduler used when `-s` is not given.
pub const DEF_SCHED: &str = "wlc";
/// Multicast interface used when `--mcast-interface` is not given.
const DEF_MCAST_IFN: &str = "eth0";
/// Persistence timeout used when `-p` has no value.
const DEF_PERSISTENT_TIMEOUT: u32 = 360;
const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
const IP_VS_PENAME_MAXLEN: usize = 16;
const IP_VS_IFNAME_MAXLEN: usize = 16;

/// The version line ipvsadm prints, kept identical so scripts that parse it
/// keep working.
pub const VERSION_LINE: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";

/// ipvsadm's commands, in its own order (which its messages index).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    Add,
    Edit,
    Del,
    Flush,
    List,
    AddDest,
    DelDest,
    EditDest,
    Timeout,
    StartDaemon,
    StopDaemon,
    Restore,
    Save,
    Zero,
}

const CMD_NAMES: [&str; 14] = [
    "add-service",
    "edit-service",
    "delete-service",
    "flush",
    "list",
    "add-server",
    "delete-server",
    "edit-server",
    "set",
    "start-daemon",
    "stop-daemon",
    "restore",
    "save",
    "zero",
];

/// ipvsadm's option classes, in its own order (bit positions and names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Opt {
    Numeric,
    Connection,
    Service,
    Scheduler,
    Persistent,
    Netmask,
    Server,
    Forward,
    Weight,
    UThreshold,
    LThreshold,
    Mcast,
    Timeout,
    Daemon,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    SyncId,
    Exact,
    Ops,
    Pe,
    SchedFlags,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
    TunInfo,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
}

const NUMBER_OF_OPT: usize = 34;

const OPT_NAMES: [&str; NUMBER_OF_OPT] = [
    "numeric",
    "connection",
    "service-address",
    "scheduler",
    "persistent",
    "netmask",
    "real-server",
    "forwarding-method",
    "weight",
    "u-threshold",
    "l-threshold",
    "mcast-interface",
    "timeout",
    "daemon",
    "stats",
    "rate",
    "thresholds",
    "persistent-conn",
    "nosort",
    "syncid",
    "exact",
    "ops",
    "pe",
    "sched-flags",
    "mcast-group",
    "mcast-port",
    "mcast-ttl",
    "sync-maxlen",
    "tun-info",
    "tun-type",
    "tun-port",
    "tun-nocsum",
    "tun-csum",
    "tun-remcsum",
];

/// Which options each command takes, one column per [`Opt`]:
/// `+` required, `x` illegal, `1` at most one of them, `-` optional.
const COMMANDS_V_OPTIONS: [&str; 14] = [
    "xx+---xxxxxxxxxxxxxxx---xxxxxxxxxx", // add-service
    "xx+---xxxxxxxxxxxxxxx---xxxxxxxxxx", // edit-service
    "xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-service
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // flush
    "-11xxxxxxxxx11-------xxxxxxx-xxxxx", // list
    "xx+xxx+----xxxxxxxxxxxxxxxxxx-----", // add-server
    "xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx", // delete-server
    "xx+xxx+----xxxxxxxxxxxxxxxxxx-----", // edit-server
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // set
    "xxxxxxxxxxx-xxxxxxx-xxxx----xxxxxx", // start-daemon
    "xxxxxxxxxxxxxxxxxxx-xxxxxxxxxxxxxx", // stop-daemon
    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // restore
    "-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // save
    "xx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", // zero
];

const TUN_NAMES: [&str; 3] = ["ipip", "gue", "gre"];
/// Tunnel options checked per tunnel type, in this column order.
const TUN_OPTS: [Opt; 4] = [Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];
const TUNNEL_TYPES_V_OPTIONS: [&str; 3] = ["xxxx", "+111", "x11x"];

/// How listings are printed (ipvsadm's `FMT_*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Format {
    pub numeric: bool,
    pub rule: bool,
    pub stats: bool,
    pub rate: bool,
    pub thresholds: bool,
    pub persistent_conn: bool,
    pub nosort: bool,
    pub exact: bool,
    pub tun_info: bool,
}

/// What a list command shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListWhat {
    All,
    Service(ipvs::ServiceKey),
    Connections,
    Timeout,
    Daemon,
}

/// A fully checked command, ready to be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// A change to the table or its settings.
    Change(Change),
    List(ListWhat),
    Restore,
    Save,
}

/// A parsed command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub command: Command,
    pub format: Format,
    /// `--json`: print the listing as JSON instead of text.
    pub json: bool,
}

/// The end of a command line that is not carried out: help, version, or an
/// error, with what to print and the exit code ipvsadm would give.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exit {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
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
    fn fail(msg: impl Into<String>) -> Self {
        let mut stderr = msg.into();
        stderr.push('\n');
        Self::status(2, stderr)
    }

    /// ipvsadm's "Try `ipvsadm -h'" exit for command lines popt rejects.
    fn try_help(program: &str) -> Self {
        Self::status(
            255,
            format!("Try `{program} -h' or '{program} --help' for more information.\n"),
        )
    }
}

fn flag(name: &'static str, short: Option<char>, help: &'static str) -> Arg {
    let a = Arg::new(name)
        .long(name)
        .help(help)
        .action(ArgAction::Append)
        .num_args(0)
        .default_missing_value(NO_VALUE);
    match short {
        Some(c) => a.short(c),
        None => a,
    }
}

fn value(
    name: &'static str,
    short: Option<char>,
    value_name: &'static str,
    help: &'static str,
) -> Arg {
    let a = Arg::new(name)
        .long(name)
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

/// The clap definition of ipvsadm's command line (plus `--json`), used both
/// to parse and to generate the man page and shell completions.
pub fn command() -> ClapCommand {
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
        .args([
            flag("add-service", Some('A'), "Add a virtual service"),
            flag("edit-service", Some('E'), "Edit a virtual service"),
            flag("delete-service", Some('D'), "Delete a virtual service"),
            flag("clear", Some('C'), "Clear the whole table"),
            flag("list", Some('L'), "List the table").short_alias('l'),
            flag(
                "zero",
                Some('Z'),
                "Zero counters of a service or all services",
            ),
            flag("add-server", Some('a'), "Add a real server to a service"),
            flag("edit-server", Some('e'), "Edit a real server"),
            flag("delete-server", Some('d'), "Delete a real server"),
            flag("set", None, "Set connection timeouts: tcp tcpfin udp"),
            flag("help", Some('h'), "Display the help message"),
            flag("version", Some('v'), "Display the version"),
            flag("restore", Some('R'), "Restore rules from standard input"),
            flag("save", Some('S'), "Save rules to standard output"),
            value(
                "start-daemon",
                None,
                "STATE",
                "Start a master or backup sync daemon",
            ),
            value(
                "stop-daemon",
                None,
                "STATE",
                "Stop the master or backup sync daemon",
            ),
            value(
                "tcp-service",
                Some('t'),
                "HOST[:PORT]",
                "TCP virtual service",
            ),
            value(
                "udp-service",
                Some('u'),
                "HOST[:PORT]",
                "UDP virtual service",
            ),
            value("sctp-service", None, "HOST[:PORT]", "SCTP virtual service"),
            value(
                "fwmark-service",
                Some('f'),
                "FWMARK",
                "Firewall-mark virtual service",
            ),
            value("scheduler", Some('s'), "SCHEDULER", "Scheduling algorithm"),
            Arg::new("persistent")
                .long("persistent")
                .short('p')
                .value_name("TIMEOUT")
                .help("Persistent service, optionally with its timeout")
                .action(ArgAction::Append)
                .num_args(0..=1)
                .default_missing_value(NO_VALUE),
            value(
                "netmask",
                Some('M'),
                "NETMASK",
                "Persistence granularity mask",
            ),
            value(
                "real-server",
                Some('r'),
                "HOST[:PORT]",
                "Real server address",
            ),
            flag("masquerading", Some('m'), "Masquerading (NAT)"),
            flag("ipip", Some('i'), "IPIP encapsulation (tunneling)"),
            flag("gatewaying", Some('g'), "Gatewaying (direct routing)"),
            value("weight", Some('w'), "WEIGHT", "Capacity of the real server"),
            value(
                "u-threshold",
                Some('x'),
                "UTHRESHOLD",
                "Upper connection threshold",
            ),
            value(
                "l-threshold",
                Some('y'),
                "LTHRESHOLD",
                "Lower connection threshold",
            ),
            flag(
                "numeric",
                Some('n'),
                "Numeric output of addresses and ports",
            ),
            flag("connection", Some('c'), "List connections"),
            value(
                "mcast-interface",
                None,
                "INTERFACE",
                "Multicast interface for sync",
            ),
            value("syncid", None, "SID", "Sync id"),
            flag("timeout", None, "List timeouts"),
            flag("daemon", None, "List sync daemons"),
            flag("stats", None, "List statistics"),
            flag("rate", None, "List rates"),
            flag("thresholds", None, "List thresholds"),
            flag("persistent-conn", None, "List persistent connections"),
            flag("nosort", None, "Do not sort the listing"),
            flag("sort", None, "Sort the listing (the default)"),
            flag("exact", Some('X'), "Exact numbers"),
            flag("ipv6", Some('6'), "The fwmark service uses IPv6"),
            flag("ops", Some('o'), "One-packet scheduling"),
            value("pe", None, "ENGINE", "Persistence engine"),
            value(
                "sched-flags",
                Some('b'),
                "FLAGS",
                "Scheduler flags (comma-separated)",
            ),
            value("mcast-group", None, "ADDRESS", "Sync multicast group"),
            value("mcast-port", None, "PORT", "Sync multicast port"),
            value("mcast-ttl", None, "TTL", "Sync multicast TTL"),
            value("sync-maxlen", None, "LENGTH", "Maximum sync message length"),
            flag("tun-info", None, "List tunnel information"),
            value("tun-type", None, "TYPE", "Tunnel type: ipip, gue or gre"),
            value("tun-port", None, "PORT", "Tunnel destination port"),
            flag("tun-nocsum", None, "Tunnel without checksum"),
            flag("tun-csum", None, "Tunnel with checksum"),
            flag("tun-remcsum", None, "Tunnel with remote checksum"),
            flag(
                "json",
                None,
                "Print listings as JSON (ipvsadm-rs extension)",
            ),
            Arg::new("completions")
                .long("completions")
                .value_name("SHELL")
                .help("Print a shell completion script (ipvsadm-rs extension)")
                .value_parser(clap::value_parser!(clap_complete::Shell))
                .hide(true),
            Arg::new("man")
                .long("man")
                .help("Print the man page in roff (ipvsadm-rs extension)")
                .action(ArgAction::SetTrue)
                .hide(true),
            Arg::new("args")
                .value_name("ARGS")
                .help("Timeout values for --set")
                .action(ArgAction::Append)
                .num_args(0..),
        ])
}

/// Stands for "no value given": a NUL cannot occur in a real argument.
const NO_VALUE: &str = "\0";

/// One option occurrence in command-line order.
struct Event<'a> {
    index: usize,
    id: &'a str,
    value: Option<Cow<'a, str>>,
}

/// Arguments of the definition that are not ipvsadm options: the `--set`
/// values and the generators, which [`generate_request`] handles.
const NOT_OPTIONS: [&str; 3] = ["args", "completions", "man"];

/// Every option occurrence, in command-line order.
fn events(m: &ArgMatches) -> Vec<Event<'_>> {
    let mut out = Vec::new();
    for id in m.ids().map(clap::Id::as_str) {
        if NOT_OPTIONS.contains(&id) {
            continue;
        }
        let (Some(idx), Some(vals)) = (m.indices_of(id), m.get_raw(id)) else {
            continue;
        };
        for (index, v) in idx.zip(vals) {
            let value = (v != NO_VALUE).then(|| v.to_string_lossy());
            out.push(Event { index, id, value });
        }
    }
    out.sort_by_key(|e| e.index);
    out
}

/// What the options of one command line amount to while they are replayed.
struct State {
    cmd: Cmd,
    options: u64,
    format: Format,
    json: bool,
    svc: ServiceConfig,
    dest: DestConfig,
    daemon: DaemonConfig,
    sched_flags_arg: Option<String>,
}

type Res<T> = Result<T, Exit>;

impl State {
    fn set_option(&mut self, o: Opt) -> Res<()> {
        let bit = 1u64 << (o as u32);
        if self.options & bit != 0 {
            return Err(Exit::fail(format!(
                "multiple '{}' options specified",
                OPT_NAMES[o as usize]
            )));
        }
        self.options |= bit;
        Ok(())
    }

    fn has(&self, o: Opt) -> bool {
        self.options & (1u64 << (o as u32)) != 0
    }
}

/// What C's `strtol`/`atoi` skip and read before the digits: leading blanks
/// and one sign. Returns whether the number is negative, and the rest.
fn c_sign(s: &str) -> (bool, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

/// `strtol(s, &end, 10)` accepting only a fully numeric string in range.
fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let (neg, digits) = c_sign(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let n = if neg { -n } else { n };
    (min..=max).contains(&n).then_some(n)
}

/// [`string_to_number`] into the type the value is kept in.
fn number<T: TryFrom<i64>>(s: &str, min: i64, max: i64) -> Option<T> {
    string_to_number(s, min, max).and_then(|n| T::try_from(n).ok())
}

/// [`number`], failing with ipvsadm's message.
fn number_range<T: TryFrom<i64>>(s: &str, min: i64, max: i64, msg: &str) -> Res<T> {
    number(s, min, max).ok_or_else(|| Exit::fail(msg))
}

fn number_u32(s: &str, max: i64, msg: &str) -> Res<u32> {
    number_range(s, 0, max, msg)
}

fn parse_timeout(v: Option<&str>, min: u32, max: u32) -> Res<u32> {
    match v {
        None => Ok(DEF_PERSISTENT_TIMEOUT),
        Some(s) => number_range(
            s,
            min.into(),
            max.into(),
            &format!("invalid timeout value `{s}' specified"),
        ),
    }
}

fn parse_fwmark(s: &str) -> Res<u32> {
    number_range(
        s,
        1,
        u32::MAX.into(),
        &format!("invalid fwmark value `{s}' specified"),
    )
}

/// The IPv4 netmask as the kernel stores it (network byte order in memory).
fn mask_raw(a: Ipv4Addr) -> u32 {
    u32::from_ne_bytes(a.octets())
}

fn parse_netmask(s: &str) -> Option<u32> {
    sys::parse_inet_aton(s)
        .or_else(|| sys::host_to_ipv4(s))
        .map(mask_raw)
}

/// What `parse_service` found: an address, and maybe a port.
#[derive(PartialEq, Eq)]
enum Parsed {
    None,
    Addr,
    AddrPort,
}

/// ipvsadm's `parse_service`: `host[:port]`, `[v6addr]:port` or a bare IPv6
/// address, updating `key` (and the netmask for IPv6) as it goes.
fn parse_service(buf: &str, key: &mut ServiceKey, netmask: &mut u32) -> Parsed {
    if buf.bytes().all(|b| b.is_ascii_digit()) {
        return Parsed::None;
    }
    let mut host = buf;
    let mut port: Option<&str> = None;
    if let Some(rest) = buf.strip_prefix('[') {
        let Some(close) = rest.find(']') else {
            return Parsed::None;
        };
        let after = &rest[close + 1..];
        let Some(p) = after.strip_prefix(':') else {
            return Parsed::None;
        };
        host = &rest[..close];
        port = Some(p);
    }
    if let Some(a6) = sys::parse_inet6(host) {
        key.addr = IpAddr::V6(a6);
        key.af = AF_INET6;
        *netmask = 128;
    } else {
        // A bracketed non-IPv6 host loses its port here, exactly as in
        // ipvsadm, whose port pointer is replaced by the search below.
        port = None;
        if let Some(pos) = host.rfind(':') {
            port = Some(&host[pos + 1..]);
            host = &host[..pos];
        }
        match sys::parse_inet_aton(host).or_else(|| sys::host_to_ipv4(host)) {
            Some(a) => {
                key.addr = IpAddr::V4(a);
                key.af = AF_INET;
            }
            None => return Parsed::None,
        }
    }
    let Some(p) = port else {
        return Parsed::Addr;
    };
    match number(p, 0, 65535).or_else(|| sys::service_to_port(p, key.protocol)) {
        Some(n) => {
            key.port = n;
            Parsed::AddrPort
        }
        None => Parsed::None,
    }
}

fn parse_sched_flags(sched: &str, arg: &str) -> Res<u32> {
    let sched = if sched.is_empty() { DEF_SCHED } else { sched };
    let mut flags = 0;
    let mut any = false;
    for flag in arg.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let (bit, needs) = match flag {
            "flag-1" => (svc_flags::SCHED1, None),
            "flag-2" => (svc_flags::SCHED2, None),
            "flag-3" => (svc_flags::SCHED3, None),
            "sh-fallback" => (svc_flags::SCHED1, Some("sh")),
            "sh-port" => (svc_flags::SCHED2, Some("sh")),
            "mh-fallback" => (svc_flags::SCHED1, Some("mh")),
            "mh-port" => (svc_flags::SCHED2, Some("mh")),
            _ => return Err(Exit::fail(format!("invalid scheduler flag `{flag}'"))),
        };
        flags |= bit;
        if needs.is_some_and(|s| s != sched) {
            return Err(Exit::fail(format!("incompatible scheduler flag `{flag}'")));
        }
    }
    if !any {
        // ipvsadm dereferences a null token here and crashes; reject instead.
        return Err(Exit::fail(format!("invalid scheduler flag `{arg}'")));
    }
    Ok(flags)
}

/// Truncates like `strncpy` into a fixed C buffer of `max` bytes.
fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

/// ipvsadm's `generic_opt_check`: the options against the command's row.
fn generic_opt_check(cmd: Cmd, options: u64) -> Res<()> {
    let what = || format!("the '{}' command", CMD_NAMES[cmd as usize]);
    check_row(COMMANDS_V_OPTIONS[cmd as usize], |j| j, options, what)
}

/// ipvsadm's `tunnel_opt_check`: the tunnel options against the tunnel
/// type's row (unknown types have none).
fn tunnel_opt_check(tun_type: u8, options: u64) -> Res<()> {
    let i = usize::from(tun_type);
    let (Some(row), Some(tname)) = (TUNNEL_TYPES_V_OPTIONS.get(i), TUN_NAMES.get(i)) else {
        return Ok(());
    };
    let what = || format!("the '{tname}' tunnel type");
    check_row(row, |j| TUN_OPTS[j] as usize, options, what)
}

/// Checks the options set against one row of a legality table: `+` must be
/// given, `x` must not, and of the `1` options at most one. `option` maps a
/// column to its [`Opt`] bit; `what` ends the messages ("the 'list' command")
/// and is only worded when a check fails, as every restored line is checked.
fn check_row(
    row: &str,
    option: impl Fn(usize) -> usize,
    options: u64,
    what: impl Fn() -> String,
) -> Res<()> {
    let mut first_of_one: Option<usize> = None;
    for (j, &rule) in row.as_bytes().iter().enumerate() {
        let k = option(j);
        let name = OPT_NAMES[k];
        if options & (1u64 << k) == 0 {
            if rule == b'+' {
                return Err(Exit::fail(format!(
                    "You need to supply the '{name}' option for {}",
                    what()
                )));
            }
            continue;
        }
        match rule {
            b'x' => {
                return Err(Exit::fail(format!(
                    "Illegal '{name}' option with {}",
                    what()
                )))
            }
            b'1' => match first_of_one {
                None => first_of_one = Some(k),
                Some(l) => {
                    return Err(Exit::fail(format!(
                        "The option '{name}' conflicts with the '{}' option in {}",
                        OPT_NAMES[l],
                        what()
                    )))
                }
            },
            _ => {}
        }
    }
    Ok(())
}

/// ipvsadm's usage text (printed by `-h` on standard output).
pub fn usage(program: &str) -> String {
    let p = program;
    format!(
        "{VERSION_LINE}
Usage:
  {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  {p} -D virtual-service
  {p} -C
  {p} -R
  {p} -S [-n]
  {p} -a|e virtual-service -r server-address [options]
  {p} -d virtual-service -r server-address
  {p} -L|l [virtual-service] [options]
  {p} -Z [virtual-service]
  {p} --set tcp tcpfin udp
  {p} --start-daemon {{master|backup}} [daemon-options]
  {p} --stop-daemon {{master|backup}}
  {p} -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is {DEF_SCHED}.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
"
    )
}

/// What a command line asks for beyond ipvsadm: generated documentation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Generate {
    Completions(clap_complete::Shell),
    Man,
}

/// Recognises `--completions SHELL` and `--man`, which need no kernel.
pub fn generate_request(argv: &[String]) -> Option<Generate> {
    let m = matches(argv).ok()?;
    if let Some(s) = m.get_one::<clap_complete::Shell>("completions") {
        return Some(Generate::Completions(*s));
    }
    m.get_flag("man").then_some(Generate::Man)
}

thread_local! {
    /// [`command`], built once per thread: building (or cloning) the
    /// definition costs more than parsing a line, and `-R` parses one per
    /// rule.
    static COMMAND: RefCell<ClapCommand> = RefCell::new({
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
fn matches<S: AsRef<str>>(argv: &[S]) -> clap::error::Result<ArgMatches> {
    COMMAND.with_borrow_mut(|cmd| {
        *cmd = std::mem::take(cmd).bin_name(Resettable::Reset);
        cmd.try_get_matches_from_mut(argv.iter().map(AsRef::as_ref))
    })
}

/// How an option of the definition takes its value, for [`plain_events`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Takes {
    /// None (`-m`).
    Nothing,
    /// Always the next word (`-u VIP`).
    Value,
    /// The next word unless it starts with `-` or there is none (`-p [60]`).
    MaybeValue,
}

/// Every spelling (`-u`, `--udp-service`, aliases too) of the options that
/// [`plain_events`] reads, with the option's id and what it takes. Taken
/// from the built definition, so the two cannot disagree on names; options
/// of any other kind are left out, and lines using them go to clap.
fn plain_options() -> &'static HashMap<String, (String, Takes)> {
    static OPTIONS: OnceLock<HashMap<String, (String, Takes)>> = OnceLock::new();
    OPTIONS.get_or_init(|| COMMAND.with_borrow(plain_options_of))
}

fn plain_options_of(cmd: &ClapCommand) -> HashMap<String, (String, Takes)> {
    let mut map = HashMap::new();
    for a in cmd.get_arguments() {
        let id = a.get_id().as_str();
        let takes = match a.get_num_args() {
            Some(n) if n == ValueRange::EMPTY => Takes::Nothing,
            Some(n) if n == ValueRange::SINGLE && a.is_allow_hyphen_values_set() => Takes::Value,
            Some(n) if n == ValueRange::new(0..=1) && !a.is_allow_hyphen_values_set() => {
                Takes::MaybeValue
            }
            _ => continue,
        };
        let plain = !a.is_positional()
            && !NOT_OPTIONS.contains(&id)
            && matches!(a.get_action(), ArgAction::Append)
            && a.get_value_parser().type_id() == TypeId::of::<String>();
        if !plain {
            continue;
        }
        for spelling in spellings(a) {
            map.insert(spelling, (id.to_string(), takes));
        }
    }
    map
}

/// Every way to write option `a` on a command line: `-x` and `--long`, with their aliases.
fn spellings(a: &Arg) -> impl Iterator<Item = String> + '_ {
    let shorts = a
        .get_short()
        .into_iter()
        .chain(a.get_all_short_aliases().unwrap_or_default());
    let longs = a
        .get_long()
        .into_iter()
        .chain(a.get_all_aliases().unwrap_or_default());
    shorts
        .map(|c| format!("-{c}"))
        .chain(longs.map(|l| format!("--{l}")))
}

/// Whether `word`, after an option that takes a value, is one clap takes as
/// nothing but that value and [`events`] reports unchanged: not empty, no
/// NUL (which could be `NO_VALUE`) and no `-` in front (after `-p` clap
/// reads such a word as an option, `--` or `-`; such lines go to clap).
fn plain_value(word: &str) -> bool {
    !word.is_empty() && !word.starts_with('-') && !word.contains('\0')
}

/// The option occurrences of a command line written plainly, without clap:
/// every word after `argv[0]` is one whole option spelled as in
/// [`plain_options`] (no `-mo` bundles, no `--pe=sip`, no positional
/// words), each followed by its value if it takes one, and every value is
/// [`plain_value`]. Such a line is one clap accepts, with exactly these
/// [`events`] and no `args`; for any other line this gives `None` and clap
/// decides. This is how `-R` input is written, and saves clap's matching,
/// which costs more than everything else a restored line does.
fn plain_events<S: AsRef<str>>(argv: &[S]) -> Option<Vec<Event<'_>>> {
    let options = plain_options();
    let mut words = argv.get(1..)?.iter().map(AsRef::as_ref).peekable();
    let mut out = Vec::with_capacity(argv.len() - 1);
    while let Some(word) = words.next() {
        let (id, takes) = options.get(word)?;
        let value = match takes {
            Takes::Nothing => None,
            Takes::Value => Some(words.next().filter(|v| plain_value(v))?),
            Takes::MaybeValue => match words.peek().copied() {
                Some(v) if v.starts_with('-') => None,
                Some(v) if plain_value(v) => words.next(),
                Some(_) => return None,
                None => None,
            },
        };
        out.push(Event {
            index: out.len(),
            id,
            value: value.map(Cow::Borrowed),
        });
    }
    Some(out)
}

/// Parses one ipvsadm command line (`argv[0]` is the program name).
/// `reading_stdin` is set for lines read by `-R`, which may not restore again.
pub fn parse<S: AsRef<str>>(argv: &[S], reading_stdin: bool) -> Result<Request, Exit> {
    match plain_events(argv) {
        Some(evs) => meaning(argv, &evs, Vec::new(), reading_stdin),
        None => interpret(argv, matches(argv), reading_stdin),
    }
}

/// What a command line means, once clap has matched it (or failed to).
fn interpret<S: AsRef<str>>(
    argv: &[S],
    matched: clap::error::Result<ArgMatches>,
    reading_stdin: bool,
) -> Result<Request, Exit> {
    let m = match matched {
        Ok(m) => m,
        Err(e) => {
            let mut stderr = e.render().to_string();
            if !stderr.ends_with('\n') {
                stderr.push('\n');
            }
            return Err(Exit::status(255, stderr));
        }
    };
    let rest: Vec<String> = m
        .get_many::<String>("args")
        .map(|v| v.cloned().collect())
        .unwrap_or_default();
    meaning(argv, &events(&m), rest, reading_stdin)
}

/// What a command line means: its option occurrences `evs` in command-line
/// order, and the words that are no option's (`rest`).
fn meaning<S: AsRef<str>>(
    argv: &[S],
    evs: &[Event<'_>],
    mut rest: Vec<String>,
    reading_stdin: bool,
) -> Result<Request, Exit> {
    let program = argv.first().map_or("ipvsadm", AsRef::as_ref);
    let Some(first) = evs.first() else {
        return Err(Exit::try_help(program));
    };

    let mut daemon = DaemonConfig::default();
    let cmd = match first.id {
        "add-service" => Cmd::Add,
        "edit-service" => Cmd::Edit,
        "delete-service" => Cmd::Del,
        "add-server" => Cmd::AddDest,
        "edit-server" => Cmd::EditDest,
        "delete-server" => Cmd::DelDest,
        "clear" => Cmd::Flush,
        "list" => Cmd::List,
        "zero" => Cmd::Zero,
        "set" => Cmd::Timeout,
        "restore" => Cmd::Restore,
        "save" => Cmd::Save,
        "start-daemon" | "stop-daemon" => {
            daemon.state = match first.value.as_deref() {
                Some("master") => daemon_state::MASTER,
                Some("backup") => daemon_state::BACKUP,
                _ if first.id == "start-daemon" => {
                    return Err(Exit::fail("illegal start-daemon parameter specified"))
                }
                _ => return Err(Exit::fail("illegal start_daemon specified")),
            };
            if first.id == "start-daemon" {
                Cmd::StartDaemon
            } else {
                Cmd::StopDaemon
            }
        }
        "help" => {
            return Err(Exit {
                code: 0,
                stdout: usage(program).into_bytes(),
                stderr: String::new(),
            })
        }
        "version" => {
            return Err(Exit {
                code: 0,
                stdout: format!("{VERSION_LINE}\n").into_bytes(),
                stderr: String::new(),
            })
        }
        _ => return Err(Exit::try_help(program)),
    };

    let mut st = State {
        cmd,
        options: 0,
        format: Format::default(),
        json: false,
        svc: ServiceConfig {
            netmask: u32::MAX,
            ..ServiceConfig::default()
        },
        dest: DestConfig::default(),
        daemon,
        sched_flags_arg: None,
    };

    for ev in &evs[1..] {
        apply(&mut st, ev)?;
    }

    let mut timeouts = Timeouts::default();
    if st.cmd == Cmd::Timeout {
        if rest.len() < 3 {
            return Err(Exit::fail("--set option requires 3 timeout values"));
        }
        let vals: Vec<String> = rest.drain(..3).collect();
        timeouts.tcp = parse_timeout(Some(&vals[0]), 0, MAX_TIMEOUT)?;
        timeouts.tcp_fin = parse_timeout(Some(&vals[1]), 0, MAX_TIMEOUT)?;
        timeouts.udp = parse_timeout(Some(&vals[2]), 0, MAX_TIMEOUT)?;
    }
    if let Some(extra) = rest.first() {
        return Err(Exit::fail(format!("unexpected argument {extra}")));
    }

    if let Some(arg) = st.sched_flags_arg.take() {
        st.svc.flags &= !svc_flags::SCHED_MASK;
        st.svc.flags |= parse_sched_flags(&st.svc.sched_name, &arg)?;
    }

    generic_opt_check(st.cmd, st.options)?;
    if st.json && st.cmd != Cmd::List {
        return Err(Exit::fail(format!(
            "Illegal 'json' option with the '{}' command",
            CMD_NAMES[st.cmd as usize]
        )));
    }

    if matches!(st.cmd, Cmd::Add | Cmd::Edit) {
        let k = &st.svc.key;
        if k.fwmark == 0 && k.port == 0 && st.svc.flags & svc_flags::PERSISTENT == 0 {
            return Err(Exit::fail("Zero port specified for non-persistent service"));
        }
        if st.svc.flags & svc_flags::ONEPACKET != 0 && k.fwmark == 0 && k.protocol != IPPROTO_UDP {
            return Err(Exit::fail(
                "One-Packet Scheduling is only for UDP virtual services",
            ));
        }
        if st.svc.sched_name.is_empty() {
            st.svc.sched_name = DEF_SCHED.to_string();
        }
    }

    if st.cmd == Cmd::StartDaemon && st.daemon.mcast_ifn.is_empty() {
        st.daemon.mcast_ifn = DEF_MCAST_IFN.as_bytes().to_vec();
    }

    let fwd_method = st.dest.fwd & fwd::MASK;
    if matches!(st.cmd, Cmd::AddDest | Cmd::EditDest) {
        if st.svc.key.fwmark == 0 && (fwd_method == fwd::TUNNEL || fwd_method == fwd::DROUTE) {
            st.dest.port = st.svc.key.port;
        }
        if st.dest.af != st.svc.key.af && fwd_method != fwd::TUNNEL {
            return Err(Exit::fail(
                "Different address family is allowed only for tunneling servers",
            ));
        }
        let tun_opts = [
            Opt::TunType,
            Opt::TunPort,
            Opt::TunNocsum,
            Opt::TunCsum,
            Opt::TunRemcsum,
        ];
        if tun_opts.iter().any(|o| st.has(*o)) && fwd_method != fwd::TUNNEL {
            return Err(Exit::fail("Tunnel options conflict with forward method"));
        }
        tunnel_opt_check(st.dest.tun_type, st.options)?;
    }

    let command = match st.cmd {
        Cmd::List => {
            let o = |x: Opt| st.has(x);
            if ((o(Opt::Connection) || o(Opt::Timeout) || o(Opt::Daemon))
                && (o(Opt::Stats) || o(Opt::Rate) || o(Opt::Thresholds)))
                || ((o(Opt::Timeout) || o(Opt::Daemon)) && o(Opt::PersistentConn))
            {
                return Err(Exit::fail("options conflicts in the list command"));
            }
            Command::List(if o(Opt::Connection) {
                ListWhat::Connections
            } else if o(Opt::Service) {
                ListWhat::Service(st.svc.key.typed())
            } else if o(Opt::Timeout) {
                ListWhat::Timeout
            } else if o(Opt::Daemon) {
                ListWhat::Daemon
            } else {
                ListWhat::All
            })
        }
        Cmd::Restore => {
            if reading_stdin {
                return Err(Exit::try_help(program));
            }
            Command::Restore
        }
        Cmd::Save => {
            st.format.rule = true;
            Command::Save
        }
        Cmd::Flush => Command::Change(Change::Flush),
        Cmd::Add => Command::Change(Change::AddService(st.svc.typed())),
        Cmd::Edit => Command::Change(Change::EditService(st.svc.typed())),
        Cmd::Del => Command::Change(Change::DeleteService(st.svc.key.typed())),
        Cmd::Zero => {
            let k = &st.svc.key;
            let any = k.fwmark != 0 || !k.addr.is_unspecified() || k.port != 0;
            Command::Change(Change::Zero(any.then(|| k.typed())))
        }
        Cmd::AddDest => {
            Command::Change(Change::AddDestination(st.svc.key.typed(), st.dest.typed()))
        }
        Cmd::EditDest => {
            Command::Change(Change::EditDestination(st.svc.key.typed(), st.dest.typed()))
        }
        Cmd::DelDest => Command::Change(Change::DeleteDestination(
            st.svc.key.typed(),
            st.dest.typed().addr,
        )),
        Cmd::Timeout => Command::Change(Change::SetTimeouts(timeouts)),
        Cmd::StartDaemon => Command::Change(Change::StartDaemon(st.daemon.typed())),
        Cmd::StopDaemon => Command::Change(Change::StopDaemon(st.daemon.typed())),
    };
    Ok(Request {
        command,
        format: st.format,
        json: st.json,
    })
}

/// Replays one option after the command, as ipvsadm's option loop does.
fn apply(st: &mut State, ev: &Event<'_>) -> Res<()> {
    let v = ev.value.as_deref();
    let val = || v.unwrap_or_default();
    match ev.id {
        "tcp-service" | "udp-service" | "sctp-service" => {
            st.set_option(Opt::Service)?;
            st.svc.key.protocol = match ev.id {
                "tcp-service" => IPPROTO_TCP,
                "udp-service" => IPPROTO_UDP,
                _ => IPPROTO_SCTP,
            };
            if parse_service(val(), &mut st.svc.key, &mut st.svc.netmask) == Parsed::None {
                return Err(Exit::fail(
                    "illegal virtual server address[:port] specified",
                ));
            }
        }
        "fwmark-service" => {
            st.set_option(Opt::Service)?;
            st.svc.key.af = AF_INET;
            st.svc.key.protocol = IPPROTO_TCP;
            st.svc.key.fwmark = parse_fwmark(val())?;
        }
        "scheduler" => {
            st.set_option(Opt::Scheduler)?;
            st.svc.sched_name = truncate(val(), IP_VS_SCHEDNAME_MAXLEN - 1);
        }
        "persistent" => {
            st.set_option(Opt::Persistent)?;
            st.svc.flags |= svc_flags::PERSISTENT;
            st.svc.timeout = parse_timeout(v, 1, MAX_TIMEOUT)?;
        }
        "netmask" => {
            st.set_option(Opt::Netmask)?;
            if st.svc.key.af != AF_INET6 {
                st.svc.netmask = parse_netmask(val()).ok_or_else(|| {
                    Exit::fail("illegal virtual server persistent mask specified")
                })?;
            } else {
                let n = atoi(val());
                if !(1..=128).contains(&n) {
                    return Err(Exit::fail("illegal ipv6 netmask specified"));
                }
                st.svc.netmask = n as u32;
            }
        }
        "real-server" => {
            st.set_option(Opt::Server)?;
            let mut t = st.svc.key.clone();
            let mut mask = st.svc.netmask;
            let parsed = parse_service(val(), &mut t, &mut mask);
            st.dest.af = t.af;
            st.dest.addr = t.addr;
            st.dest.port = t.port;
            if parsed == Parsed::None {
                return Err(Exit::fail("illegal real server address[:port] specified"));
            }
            if parsed == Parsed::Addr {
                st.dest.port = st.svc.key.port;
            }
        }
        "ipip" => {
            st.set_option(Opt::Forward)?;
            st.dest.fwd = fwd::TUNNEL;
        }
        "gatewaying" => {
            st.set_option(Opt::Forward)?;
            st.dest.fwd = fwd::DROUTE;
        }
        "masquerading" => {
            st.set_option(Opt::Forward)?;
            st.dest.fwd = fwd::MASQ;
        }
        "weight" => {
            st.set_option(Opt::Weight)?;
            st.dest.weight = number_u32(val(), i64::from(i32::MAX), "illegal weight specified")?;
        }
        "u-threshold" => {
            st.set_option(Opt::UThreshold)?;
            st.dest.u_threshold =
                number_u32(val(), i64::from(i32::MAX), "illegal u_threshold specified")?;
        }
        "l-threshold" => {
            st.set_option(Opt::LThreshold)?;
            st.dest.l_threshold =
                number_u32(val(), i64::from(i32::MAX), "illegal l_threshold specified")?;
        }
        "connection" => st.set_option(Opt::Connection)?,
        "numeric" => {
            st.set_option(Opt::Numeric)?;
            st.format.numeric = true;
        }
        "mcast-interface" => {
            st.set_option(Opt::Mcast)?;
            let name = val().as_bytes();
            st.daemon.mcast_ifn = name[..name.len().min(IP_VS_IFNAME_MAXLEN - 1)].to_vec();
        }
        "syncid" => {
            st.set_option(Opt::SyncId)?;
            st.daemon.syncid = number_u32(val(), 255, "illegal syncid specified")?;
        }
        "timeout" => st.set_option(Opt::Timeout)?,
        "daemon" => st.set_option(Opt::Daemon)?,
        "stats" => {
            st.set_option(Opt::Stats)?;
            st.format.stats = true;
        }
        "rate" => {
            st.set_option(Opt::Rate)?;
            st.format.rate = true;
        }
        "thresholds" => {
            st.set_option(Opt::Thresholds)?;
            st.format.thresholds = true;
        }
        "persistent-conn" => {
            st.set_option(Opt::PersistentConn)?;
            st.format.persistent_conn = true;
        }
        "nosort" => {
            st.set_option(Opt::NoSort)?;
            st.format.nosort = true;
        }
        "sort" => {}
        "exact" => {
            st.set_option(Opt::Exact)?;
            st.format.exact = true;
        }
        "ipv6" => {
            if st.svc.key.fwmark != 0 {
                st.svc.key.af = AF_INET6;
                st.svc.netmask = 128;
            } else {
                return Err(Exit::fail("-6 used before -f\n"));
            }
        }
        "ops" => {
            st.set_option(Opt::Ops)?;
            st.svc.flags |= svc_flags::ONEPACKET;
        }
        "pe" => {
            st.set_option(Opt::Pe)?;
            st.svc.pe_name = Some(truncate(val(), IP_VS_PENAME_MAXLEN));
        }
        "sched-flags" => {
            st.set_option(Opt::SchedFlags)?;
            let a = truncate(val(), 127);
            // An empty argument is ignored by ipvsadm.
            st.sched_flags_arg = (!a.is_empty()).then_some(a);
        }
        "mcast-group" => {
            st.set_option(Opt::McastGroup)?;
            let s = val();
            if s.contains(':') {
                match sys::parse_inet6(s) {
                    Some(a) if a.is_multicast() => st.daemon.mcast_group = Some(IpAddr::V6(a)),
                    _ => return Err(Exit::fail(format!("invalid IPv6 mcast-group `{s}'"))),
                }
            } else {
                match sys::parse_inet4(s) {
                    Some(a) if a.is_multicast() => st.daemon.mcast_group = Some(IpAddr::V4(a)),
                    _ => return Err(Exit::fail(format!("invalid IPv4 mcast-group `{s}'"))),
                }
            }
        }
        "mcast-port" => {
            st.set_option(Opt::McastPort)?;
            st.daemon.mcast_port = number_range(val(), 1, 65535, "illegal mcast-port specified")?;
        }
        "mcast-ttl" => {
            st.set_option(Opt::McastTtl)?;
            st.daemon.mcast_ttl = number_range(val(), 1, 255, "illegal mcast-ttl specified")?;
        }
        "sync-maxlen" => {
            st.set_option(Opt::SyncMaxlen)?;
            st.daemon.sync_maxlen =
                number_range(val(), 1, 65535 - 20 - 8, "illegal sync-maxlen specified")?;
        }
        "tun-info" => {
            st.set_option(Opt::TunInfo)?;
            st.format.tun_info = true;
        }
        "tun-type" => {
            st.set_option(Opt::TunType)?;
            st.dest.tun_type = match val() {
                "ipip" => tun::IPIP,
                "gue" => tun::GUE,
                "gre" => tun::GRE,
                _ => return Err(Exit::fail("illegal tunnel type specified")),
            };
        }
        "tun-port" => {
            st.set_option(Opt::TunPort)?;
            st.dest.tun_port = number_range(val(), 1, 65535, "illegal tunnel port specified")?;
        }
        "tun-nocsum" => {
            st.set_option(Opt::TunNocsum)?;
            st.dest.tun_flags |= tun::FLAG_NOCSUM;
        }
        "tun-csum" => {
            st.set_option(Opt::TunCsum)?;
            st.dest.tun_flags |= tun::FLAG_CSUM;
        }
        "tun-remcsum" => {
            st.set_option(Opt::TunRemcsum)?;
            st.dest.tun_flags |= tun::FLAG_REMCSUM;
        }
        "json" => {
            if st.json {
                return Err(Exit::fail("multiple 'json' options specified"));
            }
            st.json = true;
        }
        other => {
            let spelled = long_or_short(other);
            return Err(Exit::fail(format!("invalid option `{spelled}'")));
        }
    }
    Ok(())
}

/// How ipvsadm names an option in "invalid option" messages.
fn long_or_short(id: &str) -> String {
    match command().get_arguments().find(|a| a.get_id() == id) {
        Some(a) => match (a.get_short(), a.get_long()) {
            (Some(c), _) => format!("-{c}"),
            (None, Some(l)) => format!("--{l}"),
            _ => id.to_string(),
        },
        None => id.to_string(),
    }
}

/// C `atoi`: leading blanks, optional sign, digits; anything else stops it.
fn atoi(s: &str) -> i64 {
    let (neg, digits) = c_sign(s);
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

#[cfg(test)]
mod tests;
