//! The one codec of IPVS objects: each object is written to attributes and
//! read back from them by the functions here, for requests and replies alike
//! (a reply carries what a request does, plus counters).

pub(crate) mod attrs;
pub(crate) mod ids;
#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::{
    Change, DaemonState, Destination, Family, Forward, Info, Netmask, Protocol, Scheduler, Service,
    ServiceFlags, ServiceKey, Stats, SyncDaemon, Timeouts, Tunnel, TunnelFlags, TunnelType,
    Version,
};
pub(crate) use attrs::{Attrs, Reader};
use ids::{attr, cmd, daemon, dest, info, stats, svc};

/// How much of an object to write: what a request carries, or everything a
/// listing has (counters too), as the kernel writes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Part {
    Request,
    // Only the tests write listings (to read them back).
    #[cfg_attr(not(test), allow(dead_code))]
    Listing,
}

/// Why a reply could not be read (for [`crate::Error::Malformed`]).
pub(crate) type Bad = String;

/// Checks the netlink headers of a datagram before neli reads it. neli 0.7
/// subtracts the header size from a message's length, and from the length
/// of the request an error message echoes, without checking (a length
/// below 16 overflows, a panic in debug builds); it also subtracts the
/// 4-byte error code from the payload of an error, and of a multipart
/// `NLMSG_DONE` (read as an extended acknowledgement), when fewer bytes
/// than that remain. Such datagrams are refused here instead.
pub(crate) fn check_framing(mut bytes: &[u8]) -> Result<(), Bad> {
    const HEADER: usize = 16;
    const NLMSG_ERROR: u16 = 2;
    const NLMSG_DONE: u16 = 3;
    const NLM_F_MULTI: u16 = 2;
    const ERROR_CODE: usize = 4;
    let u32_at = |b: &[u8], at: usize| {
        b.get(at..at + 4)
            .and_then(|w| w.try_into().ok())
            .map(u32::from_ne_bytes)
    };
    while !bytes.is_empty() {
        let len = u32_at(bytes, 0).map_or(0, |n| n as usize);
        if len < HEADER || len > bytes.len() {
            return Err(format!(
                "message length {len} in {} bytes left",
                bytes.len()
            ));
        }
        let ty = bytes
            .get(4..6)
            .map_or(0, |t| u16::from_ne_bytes([t[0], t[1]]));
        let flags = bytes
            .get(6..8)
            .map_or(0, |f| u16::from_ne_bytes([f[0], f[1]]));
        let payload = len - HEADER;
        let read_as_error = ty == NLMSG_ERROR || (ty == NLMSG_DONE && flags & NLM_F_MULTI != 0);
        if read_as_error && payload > 0 && payload < ERROR_CODE {
            return Err(format!("{payload}-byte payload of an error or end message"));
        }
        let code = u32_at(bytes, HEADER).unwrap_or(0);
        // A failed request echoed after the error code.
        if ty == NLMSG_ERROR && code != 0 {
            if let Some(echoed) = u32_at(bytes, HEADER + 4) {
                if (echoed as usize) < HEADER {
                    return Err(format!("echoed message length {echoed}"));
                }
            }
        }
        bytes = bytes.get(len.next_multiple_of(4)..).unwrap_or_default();
    }
    Ok(())
}

/// An address as the kernel's 16-byte `nf_inet_addr` union.
fn addr_to_union(addr: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match addr {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

/// An address from the union; short payloads are zero-filled, and families
/// other than IPv6 are read as IPv4, as ipvsadm does.
fn addr_from_union(family: Family, raw: &[u8]) -> IpAddr {
    let mut b = [0u8; 16];
    let n = raw.len().min(16);
    b[..n].copy_from_slice(&raw[..n]);
    match family {
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(b)),
        _ => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
    }
}

/// The attributes that identify a service: alone for most requests, first
/// in adding and editing.
pub(crate) fn service_key(k: &ServiceKey) -> Attrs {
    let a = Attrs::default().u16(svc::AF, k.family().to_raw());
    match k {
        ServiceKey::Fwmark { mark, .. } => a.u32(svc::FWMARK, *mark),
        ServiceKey::Inet { protocol, addr } => a
            .u16(svc::PROTOCOL, protocol.to_raw())
            .bytes(svc::ADDR, &addr_to_union(&addr.ip()))
            .be16(svc::PORT, addr.port()),
    }
}

/// A whole service, in ipvsadm's order of attributes.
pub(crate) fn service(s: &Service, part: Part) -> Attrs {
    let mut a = service_key(&s.key).c_string(svc::SCHED_NAME, s.scheduler.name().as_bytes());
    if let Some(pe) = s.pe_name.as_deref().filter(|p| !p.is_empty()) {
        a = a.c_string(svc::PE_NAME, pe.as_bytes());
    }
    // The flags and the mask of those to set: all of them.
    let mut flags = [0u8; 8];
    flags[..4].copy_from_slice(&s.flags.bits().to_ne_bytes());
    flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
    a = a
        .bytes(svc::FLAGS, &flags)
        .u32(svc::TIMEOUT, s.timeout)
        .u32(svc::NETMASK, s.netmask.to_raw());
    match part {
        Part::Request => a,
        Part::Listing => a.nested(svc::STATS64, stats_attrs(&s.stats)),
    }
}

fn stats_fields(s: &Stats) -> [u64; 10] {
    [
        s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes, s.cps, s.inpps, s.outpps, s.inbps,
        s.outbps,
    ]
}

/// Counters as 64-bit values (`IPVS_*_ATTR_STATS64`).
pub(crate) fn stats_attrs(s: &Stats) -> Attrs {
    (stats::CONNS..)
        .zip(stats_fields(s))
        .fold(Attrs::default(), |a, (ty, v)| a.u64(ty, v))
}

/// The identifying attributes of a destination: alone in deleting, first
/// otherwise.
fn destination_key(addr: &SocketAddr) -> Attrs {
    Attrs::default()
        .u16(dest::ADDR_FAMILY, Family::of(&addr.ip()).to_raw())
        .bytes(dest::ADDR, &addr_to_union(&addr.ip()))
        .be16(dest::PORT, addr.port())
}

/// A whole destination, in ipvsadm's order of attributes.
pub(crate) fn destination(d: &Destination, part: Part) -> Attrs {
    let a = destination_key(&d.addr)
        .u32(dest::FWD_METHOD, d.forward.to_raw() & 0x7)
        .u32(dest::WEIGHT, d.weight)
        .u8(dest::TUN_TYPE, d.tunnel.kind.to_raw())
        .be16(dest::TUN_PORT, d.tunnel.port)
        .u16(dest::TUN_FLAGS, d.tunnel.flags.bits())
        .u32(dest::U_THRESH, d.upper_threshold)
        .u32(dest::L_THRESH, d.lower_threshold);
    match part {
        Part::Request => a,
        Part::Listing => a
            .u32(dest::ACTIVE_CONNS, d.active_conns)
            .u32(dest::INACT_CONNS, d.inactive_conns)
            .u32(dest::PERSIST_CONNS, d.persistent_conns)
            .nested(dest::STATS64, stats_attrs(&d.stats)),
    }
}

/// The attributes that name a sync daemon: alone in stopping, first in
/// starting.
fn daemon_key(d: &SyncDaemon) -> Attrs {
    Attrs::default()
        .u32(daemon::STATE, d.state.to_raw())
        .c_string(daemon::MCAST_IFN, &d.interface)
        .u32(daemon::SYNC_ID, d.sync_id)
}

/// A whole sync daemon: its key and the settings that are not defaults.
pub(crate) fn sync_daemon(d: &SyncDaemon) -> Attrs {
    let mut a = daemon_key(d);
    if d.max_len != 0 {
        a = a.u16(daemon::SYNC_MAXLEN, d.max_len);
    }
    if d.port != 0 {
        a = a.u16(daemon::MCAST_PORT, d.port);
    }
    if d.ttl != 0 {
        a = a.u8(daemon::MCAST_TTL, d.ttl);
    }
    match d.group {
        Some(IpAddr::V6(g)) => a.bytes(daemon::MCAST_GROUP6, &g.octets()),
        Some(IpAddr::V4(g)) => a.bytes(daemon::MCAST_GROUP, &g.octets()),
        None => a,
    }
}

/// The timeouts as the top level of a message carries them.
pub(crate) fn timeouts(t: &Timeouts) -> Attrs {
    Attrs::default()
        .u32(attr::TIMEOUT_TCP, t.tcp)
        .u32(attr::TIMEOUT_TCP_FIN, t.tcp_fin)
        .u32(attr::TIMEOUT_UDP, t.udp)
}

/// The command and top-level attributes of a change.
pub(crate) fn change(c: &Change) -> (u8, Attrs) {
    let top = Attrs::default();
    let key = |k: &ServiceKey| Attrs::default().nested(attr::SERVICE, service_key(k));
    match c {
        Change::AddService(s) => (
            cmd::NEW_SERVICE,
            top.nested(attr::SERVICE, service(s, Part::Request)),
        ),
        Change::EditService(s) => (
            cmd::SET_SERVICE,
            top.nested(attr::SERVICE, service(s, Part::Request)),
        ),
        Change::DeleteService(k) => (cmd::DEL_SERVICE, key(k)),
        Change::Zero(Some(k)) => (cmd::ZERO, key(k)),
        Change::Zero(None) => (cmd::ZERO, top),
        Change::Flush => (cmd::FLUSH, top),
        Change::AddDestination(k, d) => (
            cmd::NEW_DEST,
            key(k).nested(attr::DEST, destination(d, Part::Request)),
        ),
        Change::EditDestination(k, d) => (
            cmd::SET_DEST,
            key(k).nested(attr::DEST, destination(d, Part::Request)),
        ),
        Change::DeleteDestination(k, a) => {
            (cmd::DEL_DEST, key(k).nested(attr::DEST, destination_key(a)))
        }
        Change::SetTimeouts(t) => (cmd::SET_CONFIG, timeouts(t)),
        Change::StartDaemon(d) => (cmd::NEW_DAEMON, top.nested(attr::DAEMON, sync_daemon(d))),
        Change::StopDaemon(d) => (cmd::DEL_DAEMON, top.nested(attr::DAEMON, daemon_key(d))),
    }
}

/// Reads counters of either width; absent or odd ones read as 0.
pub(crate) fn read_stats(r: &Reader<'_>) -> Stats {
    let mut v = [0u64; 10];
    for (ty, slot) in (stats::CONNS..=stats::OUTBPS).zip(v.iter_mut()) {
        *slot = r.counter(ty).unwrap_or(0);
    }
    stats_from(v)
}

/// The counters in the kernel's attribute order (`IPVS_STATS_ATTR_CONNS` to
/// `IPVS_STATS_ATTR_OUTBPS`) as [`Stats`].
pub(crate) fn stats_from(v: [u64; 10]) -> Stats {
    let [conns, inpkts, outpkts, inbytes, outbytes, cps, inpps, outpps, inbps, outbps] = v;
    Stats {
        conns,
        inpkts,
        outpkts,
        inbytes,
        outbytes,
        cps,
        inpps,
        outpps,
        inbps,
        outbps,
    }
}

/// The 64-bit counters of an object, else its 32-bit ones, else zeros.
fn object_stats(r: &Reader<'_>, ty64: u16, ty32: u16) -> Result<Stats, Bad> {
    let nested = match r.nested(ty64)? {
        Some(n) => Some(n),
        None => r.nested(ty32)?,
    };
    Ok(nested.as_ref().map(read_stats).unwrap_or_default())
}

/// `what` if it is there, else the error that `name` is missing.
fn need<T>(what: Option<T>, name: &str) -> Result<T, Bad> {
    what.ok_or_else(|| format!("no {name}"))
}

/// A service from the top level of a reply.
pub(crate) fn read_service(top: &Reader<'_>) -> Result<Service, Bad> {
    let s = need(top.nested(attr::SERVICE)?, "service")?;
    let family = Family::from_raw(need(s.u16(svc::AF), "service family")?);
    let key = if s.get(svc::FWMARK).is_some() {
        ServiceKey::Fwmark {
            family,
            mark: need(s.u32(svc::FWMARK), "whole fwmark")?,
        }
    } else {
        let protocol = Protocol::from_raw(need(s.u16(svc::PROTOCOL), "service protocol")?);
        let ip = addr_from_union(family, need(s.get(svc::ADDR), "service address")?);
        let port = need(s.be16(svc::PORT), "service port")?;
        ServiceKey::Inet {
            protocol,
            addr: SocketAddr::new(ip, port),
        }
    };
    let flags: [u8; 8] = need(s.array(svc::FLAGS), "service flags")?;
    let [f0, f1, f2, f3, m0, m1, m2, m3] = flags;
    let flags = u32::from_ne_bytes([f0, f1, f2, f3]) & u32::from_ne_bytes([m0, m1, m2, m3]);
    Ok(Service {
        scheduler: Scheduler::from(need(s.string(svc::SCHED_NAME), "scheduler")?.as_str()),
        flags: ServiceFlags::from_bits(flags),
        timeout: need(s.u32(svc::TIMEOUT), "service timeout")?,
        netmask: Netmask::from_raw(key.family(), need(s.u32(svc::NETMASK), "netmask")?),
        pe_name: s.string(svc::PE_NAME),
        stats: object_stats(&s, svc::STATS64, svc::STATS)?,
        key,
    })
}

/// A destination from the top level of a reply; its family defaults to the
/// service's (kernels before 5.3 do not send it).
pub(crate) fn read_destination(top: &Reader<'_>, service: Family) -> Result<Destination, Bad> {
    let d = need(top.nested(attr::DEST)?, "destination")?;
    let family = d.u16(dest::ADDR_FAMILY).map_or(service, Family::from_raw);
    let ip = addr_from_union(family, need(d.get(dest::ADDR), "destination address")?);
    let port = need(d.be16(dest::PORT), "destination port")?;
    let u32_of = |ty, name| need(d.u32(ty), name);
    Ok(Destination {
        addr: SocketAddr::new(ip, port),
        forward: Forward::from_raw(u32_of(dest::FWD_METHOD, "forwarding method")?),
        weight: u32_of(dest::WEIGHT, "weight")?,
        upper_threshold: u32_of(dest::U_THRESH, "upper threshold")?,
        lower_threshold: u32_of(dest::L_THRESH, "lower threshold")?,
        tunnel: Tunnel {
            kind: TunnelType::from_raw(d.u8(dest::TUN_TYPE).unwrap_or(0)),
            port: d.be16(dest::TUN_PORT).unwrap_or(0),
            flags: TunnelFlags::from_bits(d.u16(dest::TUN_FLAGS).unwrap_or(0)),
        },
        active_conns: u32_of(dest::ACTIVE_CONNS, "active connections")?,
        inactive_conns: u32_of(dest::INACT_CONNS, "inactive connections")?,
        persistent_conns: u32_of(dest::PERSIST_CONNS, "persistent connections")?,
        stats: object_stats(&d, dest::STATS64, dest::STATS)?,
    })
}

/// A sync daemon from the top level of a reply.
pub(crate) fn read_daemon(top: &Reader<'_>) -> Result<SyncDaemon, Bad> {
    let d = need(top.nested(attr::DAEMON)?, "daemon")?;
    let group = if d.get(daemon::MCAST_GROUP).is_some() {
        let g: [u8; 4] = need(d.array(daemon::MCAST_GROUP), "whole IPv4 group")?;
        Some(IpAddr::from(g))
    } else if d.get(daemon::MCAST_GROUP6).is_some() {
        let g: [u8; 16] = need(d.array(daemon::MCAST_GROUP6), "whole IPv6 group")?;
        Some(IpAddr::from(g))
    } else {
        None
    };
    Ok(SyncDaemon {
        state: DaemonState::from_raw(need(d.u32(daemon::STATE), "daemon state")?),
        interface: need(d.c_string(daemon::MCAST_IFN), "interface")?.to_vec(),
        sync_id: need(d.u32(daemon::SYNC_ID), "sync id")?,
        max_len: d.u16(daemon::SYNC_MAXLEN).unwrap_or(0),
        group,
        port: d.u16(daemon::MCAST_PORT).unwrap_or(0),
        ttl: d.u8(daemon::MCAST_TTL).unwrap_or(0),
    })
}

/// The timeouts from the top level of a reply; absent ones read as 0.
pub(crate) fn read_timeouts(top: &Reader<'_>) -> Timeouts {
    Timeouts {
        tcp: top.u32(attr::TIMEOUT_TCP).unwrap_or(0),
        tcp_fin: top.u32(attr::TIMEOUT_TCP_FIN).unwrap_or(0),
        udp: top.u32(attr::TIMEOUT_UDP).unwrap_or(0),
    }
}

/// The version and table size from the top level of a reply.
pub(crate) fn read_info(top: &Reader<'_>) -> Result<Info, Bad> {
    Ok(Info {
        version: Version(need(top.u32(info::VERSION), "version")?),
        conn_tab_size: need(top.u32(info::CONN_TAB_SIZE), "table size")?,
    })
}

/// The info as the kernel writes it.
#[cfg(test)]
pub(crate) fn info_attrs(i: &Info) -> Attrs {
    Attrs::default()
        .u32(info::VERSION, i.version.0)
        .u32(info::CONN_TAB_SIZE, i.conn_tab_size)
}
