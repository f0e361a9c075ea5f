//! The checks ipvsadm makes on a whole line once its options are replayed,
//! in its order (so that a line with two faults is refused for the one
//! ipvsadm names), with the defaults it fills in on the way.

use ipvs::{Forward, Protocol, ServiceFlags, Timeouts};

use super::draft::Draft;
use super::legality::{generic_opt_check, tunnel_opt_check, Cmd, Opt};
use super::number::{parse_timeout, MAX_TIMEOUT};
use super::{Exit, DEF_SCHED};

/// Multicast interface used when `--mcast-interface` is not given.
const DEF_MCAST_IFN: &str = "eth0";

/// Checks the line, completing `d`; gives `--set`'s timeouts (all zero for
/// another command).
pub(crate) fn whole_line(
    d: &mut Draft,
    mut rest: Vec<String>,
    program: &str,
    reading_stdin: bool,
) -> Result<Timeouts, Exit> {
    let mut timeouts = Timeouts::default();
    if d.cmd == Cmd::Timeout {
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

    if let Some(arg) = d.sched_flags_arg.take() {
        let mut bits = d.svc.flags.bits() & !ServiceFlags::SCHED_MASK.bits();
        bits |= parse_sched_flags(&d.svc.sched_name, &arg)?.bits();
        d.svc.flags = ServiceFlags::from_bits(bits);
    }

    generic_opt_check(d.cmd, d.options)?;
    if d.json && d.cmd != Cmd::List {
        return Err(Exit::fail(format!(
            "Illegal 'json' option with the '{}' command",
            d.cmd.name()
        )));
    }

    if matches!(d.cmd, Cmd::Add | Cmd::Edit) {
        service(d)?;
    }
    if d.cmd == Cmd::StartDaemon && d.daemon.mcast_ifn.is_empty() {
        d.daemon.mcast_ifn = DEF_MCAST_IFN.as_bytes().to_vec();
    }
    if matches!(d.cmd, Cmd::AddDest | Cmd::EditDest) {
        server(d)?;
    }
    if d.cmd == Cmd::List {
        list(d)?;
    }
    if d.cmd == Cmd::Restore && reading_stdin {
        return Err(Exit::try_help(program));
    }
    Ok(timeouts)
}

/// `-A`, `-E`: a port or persistence, one-packet scheduling only for UDP,
/// and the default scheduler.
fn service(d: &mut Draft) -> Result<(), Exit> {
    let k = &d.svc.key;
    if k.fwmark == 0 && k.port == 0 && !d.svc.flags.contains(ServiceFlags::PERSISTENT) {
        return Err(Exit::fail("Zero port specified for non-persistent service"));
    }
    if d.svc.flags.contains(ServiceFlags::ONE_PACKET)
        && k.fwmark == 0
        && k.protocol != Protocol::Udp
    {
        return Err(Exit::fail(
            "One-Packet Scheduling is only for UDP virtual services",
        ));
    }
    if d.svc.sched_name.is_empty() {
        d.svc.sched_name = DEF_SCHED.to_string();
    }
    Ok(())
}

/// `-a`, `-e`: direct routing and tunnels use the service's port, only a
/// tunnel may cross families, and tunnel options go with a tunnel.
fn server(d: &mut Draft) -> Result<(), Exit> {
    let forward = d.dest.forward;
    if d.svc.key.fwmark == 0 && matches!(forward, Forward::Tunnel | Forward::Route) {
        d.dest.port = d.svc.key.port;
    }
    if d.dest.af != d.svc.key.af && forward != Forward::Tunnel {
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
    if tun_opts.iter().any(|o| d.has(*o)) && forward != Forward::Tunnel {
        return Err(Exit::fail("Tunnel options conflict with forward method"));
    }
    tunnel_opt_check(d.dest.tun_type, d.options)
}

/// `-L`: what to list and what to show of it, which the legality table
/// alone does not refuse.
fn list(d: &Draft) -> Result<(), Exit> {
    let o = |x: Opt| d.has(x);
    if ((o(Opt::Connection) || o(Opt::Timeout) || o(Opt::Daemon))
        && (o(Opt::Stats) || o(Opt::Rate) || o(Opt::Thresholds)))
        || ((o(Opt::Timeout) || o(Opt::Daemon)) && o(Opt::PersistentConn))
    {
        return Err(Exit::fail("options conflicts in the list command"));
    }
    Ok(())
}

/// ipvsadm's `parse_sched_flags`: `-b`'s comma-separated names, some only
/// for the scheduler they belong to.
fn parse_sched_flags(sched: &str, arg: &str) -> Result<ServiceFlags, Exit> {
    let sched = if sched.is_empty() { DEF_SCHED } else { sched };
    let mut flags = ServiceFlags::empty();
    let mut any = false;
    for flag in arg.split(',').filter(|f| !f.is_empty()) {
        any = true;
        let (bit, needs) = match flag {
            "flag-1" => (ServiceFlags::SCHED_1, None),
            "flag-2" => (ServiceFlags::SCHED_2, None),
            "flag-3" => (ServiceFlags::SCHED_3, None),
            "sh-fallback" => (ServiceFlags::SCHED_1, Some("sh")),
            "sh-port" => (ServiceFlags::SCHED_2, Some("sh")),
            "mh-fallback" => (ServiceFlags::SCHED_1, Some("mh")),
            "mh-port" => (ServiceFlags::SCHED_2, Some("mh")),
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
