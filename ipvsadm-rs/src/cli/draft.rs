//! What the options of one command line build up while they are replayed
//! in order, field by field as ipvsadm's C structures are (`-r` copies the
//! service's port as it is at that point, `-6` changes the family after
//! `-f`); turned into the typed [`ipvs`] model once the line is checked.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipvs::{
    DaemonState, Destination, Family, Forward, Netmask, Protocol, Scheduler, Service, ServiceFlags,
    ServiceKey as Key, SyncDaemon, Tunnel, TunnelFlags, TunnelType,
};

/// `AF_INET` as the kernel reports it in `IPVS_*_ATTR_AF`.
pub(crate) const AF_INET: u16 = libc::AF_INET as u16;
/// `AF_INET6` as the kernel reports it in `IPVS_*_ATTR_AF`.
pub(crate) const AF_INET6: u16 = libc::AF_INET6 as u16;

pub(crate) const IPPROTO_TCP: u16 = libc::IPPROTO_TCP as u16;
pub(crate) const IPPROTO_UDP: u16 = libc::IPPROTO_UDP as u16;
pub(crate) const IPPROTO_SCTP: u16 = libc::IPPROTO_SCTP as u16;

/// Service flags (`IP_VS_SVC_F_*`).
pub(crate) mod svc_flags {
    pub(crate) const PERSISTENT: u32 = 0x0001;
    pub(crate) const ONEPACKET: u32 = 0x0004;
    pub(crate) const SCHED1: u32 = 0x0008;
    pub(crate) const SCHED2: u32 = 0x0010;
    pub(crate) const SCHED3: u32 = 0x0020;
    pub(crate) const SCHED_MASK: u32 = SCHED1 | SCHED2 | SCHED3;
}

/// Forwarding methods (`IP_VS_CONN_F_*`, masked by `IP_VS_CONN_F_FWD_MASK`).
pub(crate) mod fwd {
    pub(crate) const MASK: u32 = 0x0007;
    pub(crate) const MASQ: u32 = 0x0000;
    pub(crate) const TUNNEL: u32 = 0x0002;
    pub(crate) const DROUTE: u32 = 0x0003;
}

/// Tunnel encapsulations (`IP_VS_CONN_F_TUNNEL_TYPE_*`).
pub(crate) mod tun {
    pub(crate) const IPIP: u8 = 0;
    pub(crate) const GUE: u8 = 1;
    pub(crate) const GRE: u8 = 2;
    pub(crate) const FLAG_NOCSUM: u16 = 0;
    pub(crate) const FLAG_CSUM: u16 = 1;
    pub(crate) const FLAG_REMCSUM: u16 = 2;
}

/// Sync daemon states (`IP_VS_STATE_*`).
pub(crate) mod daemon_state {
    pub(crate) const MASTER: u32 = 0x0001;
    pub(crate) const BACKUP: u32 = 0x0002;
}

/// Identifies a virtual service: by protocol, address and port, or by fwmark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceKey {
    /// Address family (`AF_INET` or `AF_INET6`).
    pub(crate) af: u16,
    /// IP protocol; 0 for fwmark services, as the kernel does not report one.
    pub(crate) protocol: u16,
    pub(crate) addr: IpAddr,
    /// Port in host byte order.
    pub(crate) port: u16,
    /// Firewall mark, 0 for address-based services.
    pub(crate) fwmark: u32,
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
pub(crate) struct ServiceConfig {
    pub(crate) key: ServiceKey,
    pub(crate) sched_name: String,
    /// Persistence engine; `None` removes it on edit, as ipvsadm does.
    pub(crate) pe_name: Option<String>,
    pub(crate) flags: u32,
    /// Persistence timeout in seconds.
    pub(crate) timeout: u32,
    /// Persistence granularity exactly as the kernel stores it: the IPv4 mask
    /// in network byte order read as a native u32, or the IPv6 prefix length.
    pub(crate) netmask: u32,
}

/// A real server (destination) as added or edited (`-a`, `-e`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DestConfig {
    pub(crate) af: u16,
    pub(crate) addr: IpAddr,
    /// Port in host byte order.
    pub(crate) port: u16,
    pub(crate) fwd: u32,
    pub(crate) weight: u32,
    pub(crate) u_threshold: u32,
    pub(crate) l_threshold: u32,
    pub(crate) tun_type: u8,
    /// Tunnel port in host byte order.
    pub(crate) tun_port: u16,
    pub(crate) tun_flags: u16,
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

/// A connection synchronisation daemon's configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DaemonConfig {
    pub(crate) state: u32,
    /// Interface name, as bytes: Linux allows any but `/`, `:`, blanks
    /// and NUL.
    pub(crate) mcast_ifn: Vec<u8>,
    pub(crate) syncid: u32,
    pub(crate) sync_maxlen: u16,
    pub(crate) mcast_group: Option<IpAddr>,
    pub(crate) mcast_port: u16,
    pub(crate) mcast_ttl: u8,
}

impl ServiceKey {
    /// The typed key: a fwmark service by its mark, any other by protocol,
    /// address and port.
    pub(crate) fn typed(&self) -> Key {
        if self.fwmark != 0 {
            Key::Fwmark {
                family: Family::from_raw(self.af),
                mark: self.fwmark,
            }
        } else {
            Key::Inet {
                protocol: Protocol::from_raw(self.protocol),
                addr: SocketAddr::new(self.addr, self.port),
            }
        }
    }
}

impl ServiceConfig {
    /// The typed service.
    pub(crate) fn typed(&self) -> Service {
        let key = self.key.typed();
        Service {
            scheduler: Scheduler::from(self.sched_name.as_str()),
            flags: ServiceFlags::from_bits(self.flags),
            timeout: self.timeout,
            netmask: Netmask::from_raw(key.family(), self.netmask),
            pe_name: self.pe_name.clone(),
            stats: ipvs::Stats::default(),
            key,
        }
    }
}

impl DestConfig {
    /// The typed destination.
    pub(crate) fn typed(&self) -> Destination {
        Destination {
            forward: Forward::from_raw(self.fwd),
            weight: self.weight,
            upper_threshold: self.u_threshold,
            lower_threshold: self.l_threshold,
            tunnel: Tunnel {
                kind: TunnelType::from_raw(self.tun_type),
                port: self.tun_port,
                flags: TunnelFlags::from_bits(self.tun_flags),
            },
            ..Destination::new(SocketAddr::new(self.addr, self.port))
        }
    }
}

impl DaemonConfig {
    /// The typed daemon.
    pub(crate) fn typed(&self) -> SyncDaemon {
        SyncDaemon {
            state: DaemonState::from_raw(self.state),
            interface: self.mcast_ifn.clone(),
            sync_id: self.syncid,
            max_len: self.sync_maxlen,
            group: self.mcast_group,
            port: self.mcast_port,
            ttl: self.mcast_ttl,
        }
    }
}
