//! The option replay: a command line's option occurrences taken strictly in
//! the order given, as ipvsadm's option loop takes them (`-r` copies the
//! service port as it is at that point, `-6` must follow `-f`, the first
//! option must be the command), then the checks ipvsadm makes on the whole.

use ipvs::{Change, Timeouts};

use super::address::{parse_mcast_group, parse_netmask, parse_service, Parsed};
use super::draft::*;
use super::flag::Flag;
use super::legality::{generic_opt_check, tunnel_opt_check, Cmd, Opt, Opts};
use super::number::{atoi, number_range, number_u32, parse_fwmark, parse_timeout, truncate};
use super::{usage, Command, Event, Exit, ListWhat, Request, DEF_SCHED, VERSION_LINE};
use crate::render::Format;

/// Longest persistence timeout ipvsadm accepts (31 days).
const MAX_TIMEOUT: u32 = 86400 * 31;
/// Multicast interface used when `--mcast-interface` is not given.
const DEF_MCAST_IFN: &str = "eth0";
const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
const IP_VS_PENAME_MAXLEN: usize = 16;
const IP_VS_IFNAME_MAXLEN: usize = 16;

/// What the options of one command line amount to while they are replayed.
struct State {
    cmd: Cmd,
    options: Opts,
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
        self.options.set(o)
    }

    fn has(&self, o: Opt) -> bool {
        self.options.has(o)
    }
}

/// The command a line's first option names, with the daemon state of
/// `--start-daemon`/`--stop-daemon`; help and version end the line here.
fn command_of(program: &str, first: &Event<'_>, daemon: &mut DaemonConfig) -> Res<Cmd> {
    Ok(match first.flag {
        Flag::AddService => Cmd::Add,
        Flag::EditService => Cmd::Edit,
        Flag::DeleteService => Cmd::Del,
        Flag::AddServer => Cmd::AddDest,
        Flag::EditServer => Cmd::EditDest,
        Flag::DeleteServer => Cmd::DelDest,
        Flag::Clear => Cmd::Flush,
        Flag::List => Cmd::List,
        Flag::Zero => Cmd::Zero,
        Flag::Set => Cmd::Timeout,
        Flag::Restore => Cmd::Restore,
        Flag::Save => Cmd::Save,
        f @ (Flag::StartDaemon | Flag::StopDaemon) => {
            daemon.state = match first.value.as_deref() {
                Some("master") => daemon_state::MASTER,
                Some("backup") => daemon_state::BACKUP,
                _ if f == Flag::StartDaemon => {
                    return Err(Exit::fail("illegal start-daemon parameter specified"))
                }
                _ => return Err(Exit::fail("illegal start_daemon specified")),
            };
            if f == Flag::StartDaemon {
                Cmd::StartDaemon
            } else {
                Cmd::StopDaemon
            }
        }
        Flag::Help => {
            return Err(Exit {
                code: 0,
                stdout: usage(program).into_bytes(),
                stderr: String::new(),
            })
        }
        Flag::Version => {
            return Err(Exit {
                code: 0,
                stdout: format!("{VERSION_LINE}\n").into_bytes(),
                stderr: String::new(),
            })
        }
        _ => return Err(Exit::try_help(program)),
    })
}

/// What a command line means: its option occurrences `evs` in command-line
/// order, and the words that are no option's (`rest`).
pub(crate) fn meaning<S: AsRef<str>>(
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
    let cmd = command_of(program, first, &mut daemon)?;

    let mut st = State {
        cmd,
        options: Opts::default(),
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
        let [tcp, tcp_fin, udp, ..] = rest.as_slice() else {
            return Err(Exit::fail("--set option requires 3 timeout values"));
        };
        timeouts.tcp = parse_timeout(Some(tcp), 0, MAX_TIMEOUT)?;
        timeouts.tcp_fin = parse_timeout(Some(tcp_fin), 0, MAX_TIMEOUT)?;
        timeouts.udp = parse_timeout(Some(udp), 0, MAX_TIMEOUT)?;
        rest.drain(..3);
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
            st.cmd.name()
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
    match ev.flag {
        f @ (Flag::TcpService | Flag::UdpService | Flag::SctpService) => {
            st.set_option(Opt::Service)?;
            st.svc.key.protocol = match f {
                Flag::TcpService => IPPROTO_TCP,
                Flag::UdpService => IPPROTO_UDP,
                _ => IPPROTO_SCTP,
            };
            if parse_service(val(), &mut st.svc.key, &mut st.svc.netmask) == Parsed::None {
                return Err(Exit::fail(
                    "illegal virtual server address[:port] specified",
                ));
            }
        }
        Flag::FwmarkService => {
            st.set_option(Opt::Service)?;
            st.svc.key.af = AF_INET;
            st.svc.key.protocol = IPPROTO_TCP;
            st.svc.key.fwmark = parse_fwmark(val())?;
        }
        Flag::Scheduler => {
            st.set_option(Opt::Scheduler)?;
            st.svc.sched_name = truncate(val(), IP_VS_SCHEDNAME_MAXLEN - 1);
        }
        Flag::Persistent => {
            st.set_option(Opt::Persistent)?;
            st.svc.flags |= svc_flags::PERSISTENT;
            st.svc.timeout = parse_timeout(v, 1, MAX_TIMEOUT)?;
        }
        Flag::Netmask => {
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
        Flag::RealServer => {
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
        Flag::Ipip => {
            st.set_option(Opt::Forward)?;
            st.dest.fwd = fwd::TUNNEL;
        }
        Flag::Gatewaying => {
            st.set_option(Opt::Forward)?;
            st.dest.fwd = fwd::DROUTE;
        }
        Flag::Masquerading => {
            st.set_option(Opt::Forward)?;
            st.dest.fwd = fwd::MASQ;
        }
        Flag::Weight => {
            st.set_option(Opt::Weight)?;
            st.dest.weight = number_u32(val(), i64::from(i32::MAX), "illegal weight specified")?;
        }
        Flag::UThreshold => {
            st.set_option(Opt::UThreshold)?;
            st.dest.u_threshold =
                number_u32(val(), i64::from(i32::MAX), "illegal u_threshold specified")?;
        }
        Flag::LThreshold => {
            st.set_option(Opt::LThreshold)?;
            st.dest.l_threshold =
                number_u32(val(), i64::from(i32::MAX), "illegal l_threshold specified")?;
        }
        Flag::Connection => st.set_option(Opt::Connection)?,
        Flag::Numeric => {
            st.set_option(Opt::Numeric)?;
            st.format.numeric = true;
        }
        Flag::McastInterface => {
            st.set_option(Opt::Mcast)?;
            let name = val().as_bytes();
            st.daemon.mcast_ifn = name[..name.len().min(IP_VS_IFNAME_MAXLEN - 1)].to_vec();
        }
        Flag::SyncId => {
            st.set_option(Opt::SyncId)?;
            st.daemon.syncid = number_u32(val(), 255, "illegal syncid specified")?;
        }
        Flag::Timeout => st.set_option(Opt::Timeout)?,
        Flag::Daemon => st.set_option(Opt::Daemon)?,
        Flag::Stats => {
            st.set_option(Opt::Stats)?;
            st.format.stats = true;
        }
        Flag::Rate => {
            st.set_option(Opt::Rate)?;
            st.format.rate = true;
        }
        Flag::Thresholds => {
            st.set_option(Opt::Thresholds)?;
            st.format.thresholds = true;
        }
        Flag::PersistentConn => {
            st.set_option(Opt::PersistentConn)?;
            st.format.persistent_conn = true;
        }
        Flag::NoSort => {
            st.set_option(Opt::NoSort)?;
            st.format.nosort = true;
        }
        Flag::Sort => {}
        Flag::Exact => {
            st.set_option(Opt::Exact)?;
            st.format.exact = true;
        }
        Flag::Ipv6 => {
            if st.svc.key.fwmark != 0 {
                st.svc.key.af = AF_INET6;
                st.svc.netmask = 128;
            } else {
                return Err(Exit::fail("-6 used before -f\n"));
            }
        }
        Flag::Ops => {
            st.set_option(Opt::Ops)?;
            st.svc.flags |= svc_flags::ONEPACKET;
        }
        Flag::Pe => {
            st.set_option(Opt::Pe)?;
            st.svc.pe_name = Some(truncate(val(), IP_VS_PENAME_MAXLEN));
        }
        Flag::SchedFlags => {
            st.set_option(Opt::SchedFlags)?;
            let a = truncate(val(), 127);
            // An empty argument is ignored by ipvsadm.
            st.sched_flags_arg = (!a.is_empty()).then_some(a);
        }
        Flag::McastGroup => {
            st.set_option(Opt::McastGroup)?;
            st.daemon.mcast_group = Some(parse_mcast_group(val())?);
        }
        Flag::McastPort => {
            st.set_option(Opt::McastPort)?;
            st.daemon.mcast_port = number_range(val(), 1, 65535, "illegal mcast-port specified")?;
        }
        Flag::McastTtl => {
            st.set_option(Opt::McastTtl)?;
            st.daemon.mcast_ttl = number_range(val(), 1, 255, "illegal mcast-ttl specified")?;
        }
        Flag::SyncMaxlen => {
            st.set_option(Opt::SyncMaxlen)?;
            st.daemon.sync_maxlen =
                number_range(val(), 1, 65535 - 20 - 8, "illegal sync-maxlen specified")?;
        }
        Flag::TunInfo => {
            st.set_option(Opt::TunInfo)?;
            st.format.tun_info = true;
        }
        Flag::TunType => {
            st.set_option(Opt::TunType)?;
            st.dest.tun_type = match val() {
                "ipip" => tun::IPIP,
                "gue" => tun::GUE,
                "gre" => tun::GRE,
                _ => return Err(Exit::fail("illegal tunnel type specified")),
            };
        }
        Flag::TunPort => {
            st.set_option(Opt::TunPort)?;
            st.dest.tun_port = number_range(val(), 1, 65535, "illegal tunnel port specified")?;
        }
        Flag::TunNocsum => {
            st.set_option(Opt::TunNocsum)?;
            st.dest.tun_flags |= tun::FLAG_NOCSUM;
        }
        Flag::TunCsum => {
            st.set_option(Opt::TunCsum)?;
            st.dest.tun_flags |= tun::FLAG_CSUM;
        }
        Flag::TunRemcsum => {
            st.set_option(Opt::TunRemcsum)?;
            st.dest.tun_flags |= tun::FLAG_REMCSUM;
        }
        Flag::Json => {
            if st.json {
                return Err(Exit::fail("multiple 'json' options specified"));
            }
            st.json = true;
        }
        // A second command (or help, or version) is an option ipvsadm's
        // loop does not take after the first.
        f @ (Flag::AddService
        | Flag::EditService
        | Flag::DeleteService
        | Flag::Clear
        | Flag::List
        | Flag::Zero
        | Flag::AddServer
        | Flag::EditServer
        | Flag::DeleteServer
        | Flag::Set
        | Flag::Help
        | Flag::Version
        | Flag::Restore
        | Flag::Save
        | Flag::StartDaemon
        | Flag::StopDaemon) => {
            return Err(Exit::fail(format!(
                "invalid option `{}'",
                super::definition::spelled(f)
            )));
        }
    }
    Ok(())
}

/// ipvsadm's `parse_sched_flags`: `-b`'s comma-separated names, some only
/// for the scheduler they belong to.
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
