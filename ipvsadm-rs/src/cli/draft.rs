//! What the options of one command line build up while they are replayed
//! in order ([`Draft`]), field by field as ipvsadm's C structures are (`-r`
//! copies the service's port as it is at that point, `-6` changes the
//! family after `-f`); turned into the typed [`ipvs`] model once the line is
//! checked. The kernel's numbers are [`ipvs`]'s types, never re-declared
//! here.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use ipvs::{
    DaemonState, Destination, Family, Forward, Netmask, Protocol, Scheduler, Service, ServiceFlags,
    ServiceKey as Key, SyncDaemon, Tunnel, TunnelFlags, TunnelType,
};

use super::legality::{Cmd, Opt, Opts};
use super::Exit;
use crate::render::Format;

/// One command line while its options are replayed: what each option sets.
pub(crate) struct Draft {
    pub(crate) cmd: Cmd,
    /// The option classes given, for ipvsadm's legality tables.
    pub(crate) options: Opts,
    pub(crate) format: Format,
    /// `--json` (an ipvsadm-rs extension).
    pub(crate) json: bool,
    pub(crate) svc: ServiceConfig,
    pub(crate) dest: DestConfig,
    pub(crate) daemon: DaemonConfig,
    /// `-b`'s text, read once the scheduler is known (it may come after).
    pub(crate) sched_flags_arg: Option<String>,
}

impl Draft {
    /// The draft of a line whose command is `cmd`, nothing else given yet.
    pub(crate) fn new(cmd: Cmd, daemon: DaemonConfig) -> Self {
        Draft {
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
        }
    }

    /// Records that an option of class `o` was given; ipvsadm refuses one
    /// given twice.
    pub(crate) fn set_option(&mut self, o: Opt) -> Result<(), Exit> {
        self.options.set(o)
    }

    /// Whether an option of class `o` was given.
    pub(crate) fn has(&self, o: Opt) -> bool {
        self.options.has(o)
    }
}

/// Identifies a virtual service: by protocol, address and port, or by fwmark.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ServiceKey {
    pub(crate) af: Family,
    /// Ignored for fwmark services, as the kernel reports none.
    pub(crate) protocol: Protocol,
    pub(crate) addr: IpAddr,
    /// Port in host byte order.
    pub(crate) port: u16,
    /// Firewall mark, 0 for address-based services.
    pub(crate) fwmark: u32,
}

impl Default for ServiceKey {
    fn default() -> Self {
        ServiceKey {
            af: Family::Other(0),
            protocol: Protocol::Other(0),
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
    pub(crate) flags: ServiceFlags,
    /// Persistence timeout in seconds.
    pub(crate) timeout: u32,
    /// Persistence granularity exactly as the kernel stores it: the IPv4 mask
    /// in network byte order read as a native u32, or the IPv6 prefix length.
    pub(crate) netmask: u32,
}

/// A real server (destination) as added or edited (`-a`, `-e`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DestConfig {
    pub(crate) af: Family,
    pub(crate) addr: IpAddr,
    /// Port in host byte order.
    pub(crate) port: u16,
    pub(crate) forward: Forward,
    pub(crate) weight: u32,
    pub(crate) u_threshold: u32,
    pub(crate) l_threshold: u32,
    pub(crate) tun_type: TunnelType,
    /// Tunnel port in host byte order.
    pub(crate) tun_port: u16,
    pub(crate) tun_flags: TunnelFlags,
}

impl Default for DestConfig {
    fn default() -> Self {
        DestConfig {
            af: Family::Other(0),
            addr: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            // ipvsadm's default: direct routing.
            forward: Forward::Route,
            weight: 1,
            u_threshold: 0,
            l_threshold: 0,
            tun_type: TunnelType::Ipip,
            tun_port: 0,
            tun_flags: TunnelFlags::NOCSUM,
        }
    }
}

/// A connection synchronisation daemon's configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DaemonConfig {
    pub(crate) state: DaemonState,
    /// Interface name, as bytes: Linux allows any but `/`, `:`, blanks
    /// and NUL.
    pub(crate) mcast_ifn: Vec<u8>,
    pub(crate) syncid: u32,
    pub(crate) sync_maxlen: u16,
    pub(crate) mcast_group: Option<IpAddr>,
    pub(crate) mcast_port: u16,
    pub(crate) mcast_ttl: u8,
}

impl Default for DaemonConfig {
    fn default() -> Self {
        DaemonConfig {
            state: DaemonState::Other(0),
            mcast_ifn: Vec::new(),
            syncid: 0,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
        }
    }
}

impl ServiceKey {
    /// The typed key: a fwmark service by its mark, any other by protocol,
    /// address and port.
    pub(crate) fn typed(&self) -> Key {
        if self.fwmark != 0 {
            Key::Fwmark {
                family: self.af,
                mark: self.fwmark,
            }
        } else {
            Key::Inet {
                protocol: self.protocol,
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
            flags: self.flags,
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
            forward: self.forward,
            weight: self.weight,
            upper_threshold: self.u_threshold,
            lower_threshold: self.l_threshold,
            tunnel: Tunnel {
                kind: self.tun_type,
                port: self.tun_port,
                flags: self.tun_flags,
            },
            ..Destination::new(SocketAddr::new(self.addr, self.port))
        }
    }
}

impl DaemonConfig {
    /// The typed daemon.
    pub(crate) fn typed(&self) -> SyncDaemon {
        SyncDaemon {
            state: self.state,
            interface: self.mcast_ifn.clone(),
            sync_id: self.syncid,
            max_len: self.sync_maxlen,
            group: self.mcast_group,
            port: self.mcast_port,
            ttl: self.mcast_ttl,
        }
    }
}
