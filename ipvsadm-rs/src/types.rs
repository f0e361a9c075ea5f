//! Typed IPVS objects exchanged with the kernel: what the netlink client
//! sends and returns, independent of any command line or output format.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `AF_INET` as the kernel reports it in `IPVS_*_ATTR_AF`.
pub const AF_INET: u16 = libc::AF_INET as u16;
/// `AF_INET6` as the kernel reports it in `IPVS_*_ATTR_AF`.
pub const AF_INET6: u16 = libc::AF_INET6 as u16;

pub const IPPROTO_TCP: u16 = libc::IPPROTO_TCP as u16;
pub const IPPROTO_UDP: u16 = libc::IPPROTO_UDP as u16;
pub const IPPROTO_SCTP: u16 = libc::IPPROTO_SCTP as u16;

/// Service flags (`IP_VS_SVC_F_*`).
pub mod svc_flags {
    pub const PERSISTENT: u32 = 0x0001;
    pub const HASHED: u32 = 0x0002;
    pub const ONEPACKET: u32 = 0x0004;
    pub const SCHED1: u32 = 0x0008;
    pub const SCHED2: u32 = 0x0010;
    pub const SCHED3: u32 = 0x0020;
    pub const SCHED_MASK: u32 = SCHED1 | SCHED2 | SCHED3;
}

/// Forwarding methods (`IP_VS_CONN_F_*`, masked by `IP_VS_CONN_F_FWD_MASK`).
pub mod fwd {
    pub const MASK: u32 = 0x0007;
    pub const MASQ: u32 = 0x0000;
    pub const LOCALNODE: u32 = 0x0001;
    pub const TUNNEL: u32 = 0x0002;
    pub const DROUTE: u32 = 0x0003;
}

/// Tunnel encapsulations (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
pub mod tun {
    pub const IPIP: u8 = 0;
    pub const GUE: u8 = 1;
    pub const GRE: u8 = 2;
    pub const FLAG_NOCSUM: u16 = 0;
    pub const FLAG_CSUM: u16 = 1;
    pub const FLAG_REMCSUM: u16 = 2;
}

/// Sync daemon states (`IP_VS_STATE_*`).
pub mod daemon_state {
    pub const MASTER: u32 = 0x0001;
    pub const BACKUP: u32 = 0x0002;
}

/// Builds an address from the kernel's 16-byte `nf_inet_addr` union.
pub fn addr_from_union(af: u16, raw: &[u8]) -> IpAddr {
    let mut b = [0u8; 16];
    let n = raw.len().min(16);
    b[..n].copy_from_slice(&raw[..n]);
    if af == AF_INET6 {
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))
    }
}

/// Encodes an address as the kernel's 16-byte `nf_inet_addr` union.
pub fn addr_to_union(addr: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match addr {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

/// Identifies a virtual service: by protocol, address and port, or by fwmark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceKey {
    /// Address family (`AF_INET` or `AF_INET6`).
    pub af: u16,
    /// IP protocol; 0 for fwmark services, as the kernel does not report one.
    pub protocol: u16,
    pub addr: IpAddr,
    /// Port in host byte order.
    pub port: u16,
    /// Firewall mark, 0 for address-based services.
    pub fwmark: u32,
}

impl Default for ServiceKey {
    fn default() -> Self {
        ServiceKey {
            af: 0,
            protocol: 0,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwmark: 0,
        }
    }
}

/// A virtual service as added or edited (`-A`, `-E`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServiceConfig {
    pub key: ServiceKey,
    pub sched_name: String,
    /// Persistence engine; `None` removes it on edit, as ipvsadm does.
    pub pe_name: Option<String>,
    pub flags: u32,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// Persistence granularity exactly as the kernel stores it: the IPv4 mask
    /// in network byte order read as a native u32, or the IPv6 prefix length.
    pub netmask: u32,
}

/// Traffic counters and rate estimates of a service or destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    pub conns: u64,
    pub inpkts: u64,
    pub outpkts: u64,
    pub inbytes: u64,
    pub outbytes: u64,
    pub cps: u64,
    pub inpps: u64,
    pub outpps: u64,
    pub inbps: u64,
    pub outbps: u64,
}

/// A virtual service as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub key: ServiceKey,
    pub sched_name: String,
    pub pe_name: Option<String>,
    pub flags: u32,
    pub timeout: u32,
    pub netmask: u32,
    pub stats: Stats,
}

/// A real server (destination) as added or edited (`-a`, `-e`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestConfig {
    pub af: u16,
    pub addr: IpAddr,
    /// Port in host byte order.
    pub port: u16,
    pub fwd: u32,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub tun_type: u8,
    /// Tunnel port in host byte order.
    pub tun_port: u16,
    pub tun_flags: u16,
}

impl Default for DestConfig {
    fn default() -> Self {
        DestConfig {
            af: 0,
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            fwd: fwd::DROUTE,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: tun::IPIP,
            tun_port: 0,
            tun_flags: tun::FLAG_NOCSUM,
        }
    }
}

/// A real server as the kernel reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DestEntry {
    pub af: u16,
    pub addr: IpAddr,
    pub port: u16,
    pub fwd: u32,
    pub weight: u32,
    pub u_threshold: u32,
    pub l_threshold: u32,
    pub active_conns: u32,
    pub inact_conns: u32,
    pub persist_conns: u32,
    pub tun_type: u8,
    pub tun_port: u16,
    pub tun_flags: u16,
    pub stats: Stats,
}

/// Connection timeouts in seconds (`--set`, `-L --timeout`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Timeouts {
    pub tcp: u32,
    pub tcp_fin: u32,
    pub udp: u32,
}

/// A connection synchronisation daemon's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DaemonConfig {
    pub state: u32,
    /// Interface name, as bytes: Linux allows any but `/`, `:`, blanks
    /// and NUL.
    pub mcast_ifn: Vec<u8>,
    pub syncid: u32,
    pub sync_maxlen: u16,
    pub mcast_group: Option<IpAddr>,
    pub mcast_port: u16,
    pub mcast_ttl: u8,
}

/// General IPVS information (`IPVS_CMD_GET_INFO`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Info {
    /// Version code, `0x010201` for 1.2.1.
    pub version: u32,
    /// Size of the connection hash table.
    pub conn_tab_size: u32,
}

impl Info {
    /// The version as `major.minor.patch`.
    pub fn version_string(&self) -> String {
        format!(
            "{}.{}.{}",
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff
        )
    }
}

/// Entries for tests, so each test states only what it is about.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// A TCP service with the default scheduler, its family from the address.
    pub(crate) fn service(addr: &str, port: u16) -> ServiceEntry {
        let addr: IpAddr = addr.parse().expect("literal");
        ServiceEntry {
            key: ServiceKey {
                af: if addr.is_ipv4() { AF_INET } else { AF_INET6 },
                protocol: IPPROTO_TCP,
                addr,
                port,
                fwmark: 0,
            },
            sched_name: "wlc".into(),
            pe_name: None,
            flags: 0,
            timeout: 0,
            netmask: u32::MAX,
            stats: Stats::default(),
        }
    }

    /// A masquerading real server of weight 1.
    pub(crate) fn dest(addr: &str, port: u16) -> DestEntry {
        let addr: IpAddr = addr.parse().expect("literal");
        DestEntry {
            af: if addr.is_ipv4() { AF_INET } else { AF_INET6 },
            addr,
            port,
            fwd: fwd::MASQ,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            active_conns: 0,
            inact_conns: 0,
            persist_conns: 0,
            tun_type: 0,
            tun_port: 0,
            tun_flags: 0,
            stats: Stats::default(),
        }
    }
}
