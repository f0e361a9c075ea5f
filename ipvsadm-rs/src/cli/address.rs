//! Addresses read as ipvsadm reads them: `host[:port]` with the C
//! library's `inet_aton`, `inet_pton` and name lookups, netmasks, and
//! multicast groups.

use std::net::{IpAddr, Ipv4Addr};

use ipvs::Family;

use super::draft::ServiceKey;
use super::number::number;
use super::Exit;
use crate::sys;

/// The IPv4 netmask as the kernel stores it (network byte order in memory).
fn mask_raw(a: Ipv4Addr) -> u32 {
    u32::from_ne_bytes(a.octets())
}

/// An IPv4 netmask (`-M`), as an address or a host name.
pub(crate) fn parse_netmask(s: &str) -> Option<u32> {
    sys::parse_inet_aton(s)
        .or_else(|| sys::host_to_ipv4(s))
        .map(mask_raw)
}

/// What [`parse_service`] found: an address, and maybe a port.
#[derive(PartialEq, Eq)]
pub(crate) enum Parsed {
    None,
    Addr,
    AddrPort,
}

/// ipvsadm's `parse_service`: `host[:port]`, `[v6addr]:port` or a bare IPv6
/// address, updating `key` (and the netmask for IPv6) as it goes.
pub(crate) fn parse_service(buf: &str, key: &mut ServiceKey, netmask: &mut u32) -> Parsed {
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
        key.af = Family::Inet6;
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
                key.af = Family::Inet;
            }
            None => return Parsed::None,
        }
    }
    let Some(p) = port else {
        return Parsed::Addr;
    };
    match number(p, 0, 65535).or_else(|| sys::service_to_port(p, key.protocol.to_raw())) {
        Some(n) => {
            key.port = n;
            Parsed::AddrPort
        }
        None => Parsed::None,
    }
}

/// A sync daemon's multicast group (`--mcast-group`): IPv6 if it has a
/// colon, else IPv4, and multicast either way.
pub(crate) fn parse_mcast_group(s: &str) -> Result<IpAddr, Exit> {
    if s.contains(':') {
        match sys::parse_inet6(s) {
            Some(a) if a.is_multicast() => Ok(IpAddr::V6(a)),
            _ => Err(Exit::fail(format!("invalid IPv6 mcast-group `{s}'"))),
        }
    } else {
        match sys::parse_inet4(s) {
            Some(a) if a.is_multicast() => Ok(IpAddr::V4(a)),
            _ => Err(Exit::fail(format!("invalid IPv4 mcast-group `{s}'"))),
        }
    }
}
