//! Which options each command takes, and which each tunnel type takes:
//! ipvsadm's legality tables with its messages. A row is one character per
//! option column (`+` required, `x` illegal, `1` at most one of them, `-`
//! optional), kept as ipvsadm writes it so it can be compared with its
//! source; the columns are [`Opt::ALL`], and rows of the wrong length do not
//! compile.

use ipvs::TunnelType;

use super::Exit;

named_enum! {
    /// ipvsadm's option classes, in its own order (its table's columns).
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Opt;
    /// Every option class, in column order.
    const ALL;
    /// The name ipvsadm's messages give the option.
    fn name;
    Numeric = "numeric",
    Connection = "connection",
    Service = "service-address",
    Scheduler = "scheduler",
    Persistent = "persistent",
    Netmask = "netmask",
    Server = "real-server",
    Forward = "forwarding-method",
    Weight = "weight",
    UThreshold = "u-threshold",
    LThreshold = "l-threshold",
    Mcast = "mcast-interface",
    Timeout = "timeout",
    Daemon = "daemon",
    Stats = "stats",
    Rate = "rate",
    Thresholds = "thresholds",
    PersistentConn = "persistent-conn",
    NoSort = "nosort",
    SyncId = "syncid",
    Exact = "exact",
    Ops = "ops",
    Pe = "pe",
    SchedFlags = "sched-flags",
    McastGroup = "mcast-group",
    McastPort = "mcast-port",
    McastTtl = "mcast-ttl",
    SyncMaxlen = "sync-maxlen",
    TunInfo = "tun-info",
    TunType = "tun-type",
    TunPort = "tun-port",
    TunNocsum = "tun-nocsum",
    TunCsum = "tun-csum",
    TunRemcsum = "tun-remcsum",
}

/// ipvsadm's commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cmd {
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

impl Cmd {
    /// The name ipvsadm's messages give the command.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Cmd::Add => "add-service",
            Cmd::Edit => "edit-service",
            Cmd::Del => "delete-service",
            Cmd::Flush => "flush",
            Cmd::List => "list",
            Cmd::AddDest => "add-server",
            Cmd::DelDest => "delete-server",
            Cmd::EditDest => "edit-server",
            Cmd::Timeout => "set",
            Cmd::StartDaemon => "start-daemon",
            Cmd::StopDaemon => "stop-daemon",
            Cmd::Restore => "restore",
            Cmd::Save => "save",
            Cmd::Zero => "zero",
        }
    }

    /// The command's row of ipvsadm's `commands_v_options`.
    const fn row(self) -> &'static [u8; OPTS] {
        match self {
            Cmd::Add | Cmd::Edit => b"xx+---xxxxxxxxxxxxxxx---xxxxxxxxxx",
            Cmd::Del => b"xx+xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::Flush | Cmd::Timeout | Cmd::Restore => b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::List => b"-11xxxxxxxxx11-------xxxxxxx-xxxxx",
            Cmd::AddDest | Cmd::EditDest => b"xx+xxx+----xxxxxxxxxxxxxxxxxx-----",
            Cmd::DelDest => b"xx+xxx+xxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::StartDaemon => b"xxxxxxxxxxx-xxxxxxx-xxxx----xxxxxx",
            Cmd::StopDaemon => b"xxxxxxxxxxxxxxxxxxx-xxxxxxxxxxxxxx",
            Cmd::Save => b"-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            Cmd::Zero => b"xx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        }
    }
}

/// The number of option columns.
const OPTS: usize = Opt::ALL.len();
// The options given are kept as bits of a u64.
const _: () = assert!(OPTS <= 64);

/// The tunnel options checked per tunnel type, in the tunnel rows' column order.
const TUN_OPTS: [Opt; 4] = [Opt::TunPort, Opt::TunNocsum, Opt::TunCsum, Opt::TunRemcsum];

/// A tunnel type's name and row of ipvsadm's `tunnel_types_v_options`;
/// `None` for a type ipvsadm does not know (it checks nothing then).
fn tunnel_row(tun_type: TunnelType) -> Option<(&'static str, &'static [u8; TUN_OPTS.len()])> {
    match tun_type {
        TunnelType::Ipip => Some(("ipip", b"xxxx")),
        TunnelType::Gue => Some(("gue", b"+111")),
        TunnelType::Gre => Some(("gre", b"x11x")),
        TunnelType::Other(_) => None,
    }
}

/// The option classes given on one command line, each at most once.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Opts(u64);

impl Opts {
    /// Records `o`; ipvsadm refuses an option class given twice.
    pub(crate) fn set(&mut self, o: Opt) -> Result<(), Exit> {
        if self.has(o) {
            return Err(Exit::fail(format!(
                "multiple '{}' options specified",
                o.name()
            )));
        }
        self.0 |= 1 << (o as u32);
        Ok(())
    }

    /// Whether `o` was given.
    pub(crate) fn has(self, o: Opt) -> bool {
        self.0 & (1 << (o as u32)) != 0
    }
}

/// ipvsadm's `generic_opt_check`: the options against the command's row.
pub(crate) fn generic_opt_check(cmd: Cmd, options: Opts) -> Result<(), Exit> {
    let what = || format!("the '{}' command", cmd.name());
    check_row(cmd.row(), Opt::ALL, options, what)
}

/// ipvsadm's `tunnel_opt_check`: the tunnel options against the tunnel
/// type's row (unknown types have none).
pub(crate) fn tunnel_opt_check(tun_type: TunnelType, options: Opts) -> Result<(), Exit> {
    let Some((tname, row)) = tunnel_row(tun_type) else {
        return Ok(());
    };
    let what = || format!("the '{tname}' tunnel type");
    check_row(row, &TUN_OPTS, options, what)
}

/// Checks the options set against one row of a legality table whose
/// columns are `columns`: `+` must be given, `x` must not, and of the `1`
/// options at most one. `what` ends the messages ("the 'list' command") and
/// is only worded when a check fails, as every restored line is checked.
fn check_row(
    row: &[u8],
    columns: &[Opt],
    options: Opts,
    what: impl Fn() -> String,
) -> Result<(), Exit> {
    let mut first_of_one: Option<Opt> = None;
    for (&rule, &o) in row.iter().zip(columns) {
        let name = o.name();
        if !options.has(o) {
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
                None => first_of_one = Some(o),
                Some(l) => {
                    return Err(Exit::fail(format!(
                        "The option '{name}' conflicts with the '{}' option in {}",
                        l.name(),
                        what()
                    )))
                }
            },
            _ => {}
        }
    }
    Ok(())
}
