//! The identity of every option of the command line, as one enum: the clap
//! definition, the `-R` fast path and the option replay all name options by
//! it, so a misspelt or forgotten option is a compile error, not a string
//! that silently matches nothing.

named_enum! {
    /// An option of the command line (ipvsadm's, plus `--json`).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    enum Flag;
    /// Every option, in the order of the clap definition (and so of the
    /// generated man page).
    const ALL;
    /// The long name, which is also the clap argument's id.
    fn long;
    AddService = "add-service",
    EditService = "edit-service",
    DeleteService = "delete-service",
    Clear = "clear",
    List = "list",
    Zero = "zero",
    AddServer = "add-server",
    EditServer = "edit-server",
    DeleteServer = "delete-server",
    Set = "set",
    Help = "help",
    Version = "version",
    Restore = "restore",
    Save = "save",
    StartDaemon = "start-daemon",
    StopDaemon = "stop-daemon",
    TcpService = "tcp-service",
    UdpService = "udp-service",
    SctpService = "sctp-service",
    FwmarkService = "fwmark-service",
    Scheduler = "scheduler",
    Persistent = "persistent",
    Netmask = "netmask",
    RealServer = "real-server",
    Masquerading = "masquerading",
    Ipip = "ipip",
    Gatewaying = "gatewaying",
    Weight = "weight",
    UThreshold = "u-threshold",
    LThreshold = "l-threshold",
    Numeric = "numeric",
    Connection = "connection",
    McastInterface = "mcast-interface",
    SyncId = "syncid",
    Timeout = "timeout",
    Daemon = "daemon",
    Stats = "stats",
    Rate = "rate",
    Thresholds = "thresholds",
    PersistentConn = "persistent-conn",
    NoSort = "nosort",
    Sort = "sort",
    Exact = "exact",
    Ipv6 = "ipv6",
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
    /// `--json` (an ipvsadm-rs extension).
    Json = "json",
}

impl Flag {
    /// The option whose clap id is `id`; `None` for the arguments that are
    /// no option (the `--set` values, the generators).
    pub(crate) fn from_id(id: &str) -> Option<Flag> {
        Flag::ALL.iter().copied().find(|f| f.long() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each long name is one option's: ids are looked up by it.
    #[test]
    fn long_names_identify_one_option_each() {
        for f in Flag::ALL {
            assert_eq!(Flag::from_id(f.long()), Some(*f));
        }
        assert_eq!(Flag::from_id("args"), None);
    }
}
