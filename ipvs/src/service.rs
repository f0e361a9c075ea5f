//! Virtual services: how they are identified and configured.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::ops::{BitOr, BitOrAssign};

use crate::{Family, Protocol, Stats};

/// What identifies a virtual service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum ServiceKey {
    /// Packets of a protocol to an address and port.
    Inet {
        /// The transport protocol.
        protocol: Protocol,
        /// The virtual address and port.
        addr: SocketAddr,
    },
    /// Packets carrying a firewall mark.
    Fwmark {
        /// The family of the packets (the mark alone does not say).
        family: Family,
        /// The mark; the kernel takes any but 0.
        mark: u32,
    },
}

impl ServiceKey {
    /// A TCP service.
    pub fn tcp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Tcp,
            addr,
        }
    }

    /// A UDP service.
    pub fn udp(addr: SocketAddr) -> Self {
        ServiceKey::Inet {
            protocol: Protocol::Udp,
            addr,
        }
    }

    /// The address family of the service.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Inet { addr, .. } => Family::of(&addr.ip()),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServiceKey::Inet { protocol, addr } => write!(f, "{protocol} {addr}"),
            ServiceKey::Fwmark { family, mark } => write!(f, "fwmark {mark} ({family})"),
        }
    }
}

/// A scheduling algorithm, by its kernel module's name (`ip_vs_<name>`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize), serde(into = "String"))]
pub enum Scheduler {
    /// `rr`: round robin.
    RoundRobin,
    /// `wrr`: weighted round robin.
    WeightedRoundRobin,
    /// `lc`: least connections.
    LeastConnections,
    /// `wlc`: weighted least connections (ipvsadm's default).
    #[default]
    WeightedLeastConnections,
    /// `lblc`: locality-based least connections.
    LocalityLeastConnections,
    /// `lblcr`: locality-based least connections with replication.
    LocalityLeastConnectionsReplicated,
    /// `dh`: destination hashing.
    DestinationHashing,
    /// `sh`: source hashing.
    SourceHashing,
    /// `sed`: shortest expected delay.
    ShortestExpectedDelay,
    /// `nq`: never queue.
    NeverQueue,
    /// `fo`: weighted failover.
    Failover,
    /// `ovf`: weighted overflow.
    Overflow,
    /// `mh`: maglev hashing.
    MaglevHashing,
    /// `twos`: weighted random twos choice.
    TwoRandomChoices,
    /// A scheduler this crate does not know (or an empty name).
    Other(String),
}

/// Every named scheduler with its name, for both directions of conversion.
const SCHEDULERS: [(Scheduler, &str); 14] = [
    (Scheduler::RoundRobin, "rr"),
    (Scheduler::WeightedRoundRobin, "wrr"),
    (Scheduler::LeastConnections, "lc"),
    (Scheduler::WeightedLeastConnections, "wlc"),
    (Scheduler::LocalityLeastConnections, "lblc"),
    (Scheduler::LocalityLeastConnectionsReplicated, "lblcr"),
    (Scheduler::DestinationHashing, "dh"),
    (Scheduler::SourceHashing, "sh"),
    (Scheduler::ShortestExpectedDelay, "sed"),
    (Scheduler::NeverQueue, "nq"),
    (Scheduler::Failover, "fo"),
    (Scheduler::Overflow, "ovf"),
    (Scheduler::MaglevHashing, "mh"),
    (Scheduler::TwoRandomChoices, "twos"),
];

impl Scheduler {
    /// The kernel's name of the scheduler.
    ///
    /// ```
    /// assert_eq!(ipvs::Scheduler::from("sh").name(), "sh");
    /// assert_eq!(ipvs::Scheduler::SourceHashing, ipvs::Scheduler::from("sh"));
    /// ```
    pub fn name(&self) -> &str {
        if let Scheduler::Other(name) = self {
            return name;
        }
        SCHEDULERS
            .iter()
            .find(|(s, _)| s == self)
            .map_or("", |(_, n)| n)
    }
}

impl From<&str> for Scheduler {
    fn from(name: &str) -> Self {
        SCHEDULERS
            .iter()
            .find(|(_, n)| *n == name)
            .map_or_else(|| Scheduler::Other(name.to_string()), |(s, _)| s.clone())
    }
}

impl From<Scheduler> for String {
    fn from(s: Scheduler) -> String {
        match s {
            Scheduler::Other(name) => name,
            named => named.name().to_string(),
        }
    }
}

impl fmt::Display for Scheduler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A service's flags (`IP_VS_SVC_F_*`); bits this crate does not name are
/// kept as the kernel sent them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ServiceFlags(u32);

impl ServiceFlags {
    /// Clients stick to a server (`-p`).
    pub const PERSISTENT: Self = Self(0x0001);
    /// The service is in the kernel's table (set by the kernel).
    pub const HASHED: Self = Self(0x0002);
    /// One-packet scheduling (`-o`): every UDP datagram is scheduled alone.
    pub const ONE_PACKET: Self = Self(0x0004);
    /// The scheduler's first flag (`sh-fallback`, `mh-fallback`).
    pub const SCHED_1: Self = Self(0x0008);
    /// The scheduler's second flag (`sh-port`, `mh-port`).
    pub const SCHED_2: Self = Self(0x0010);
    /// The scheduler's third flag.
    pub const SCHED_3: Self = Self(0x0020);
    /// The three scheduler flags.
    pub const SCHED_MASK: Self = Self(0x0038);

    /// No flag.
    pub const fn empty() -> Self {
        Self(0)
    }

    /// Flags from the kernel's bits, all kept.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The kernel's bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Sets or clears the flags of `other`.
    pub fn set(&mut self, other: Self, on: bool) {
        if on {
            self.0 |= other.0;
        } else {
            self.0 &= !other.0;
        }
    }
}

impl BitOr for ServiceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl BitOrAssign for ServiceFlags {
    fn bitor_assign(&mut self, rhs: Self) {
        self.0 |= rhs.0;
    }
}

/// The persistence granularity: which clients count as one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum Netmask {
    /// IPv4 services: a mask applied to the client's address.
    Ipv4(Ipv4Addr),
    /// IPv6 services: a prefix length (the kernel takes 1 to 128).
    Ipv6(u32),
}

impl Netmask {
    /// One client per address: the default of each family.
    pub fn single(family: Family) -> Self {
        match family {
            Family::Inet6 => Netmask::Ipv6(128),
            _ => Netmask::Ipv4(Ipv4Addr::BROADCAST),
        }
    }

    /// Whether this is [`Netmask::single`] of its family.
    pub fn is_single(self) -> bool {
        matches!(
            self,
            Netmask::Ipv4(Ipv4Addr::BROADCAST) | Netmask::Ipv6(128)
        )
    }

    /// The netmask of a service of `family` from the kernel's 32 bits: an
    /// IPv4 mask in network byte order, or an IPv6 prefix length.
    pub fn from_raw(family: Family, raw: u32) -> Self {
        match family {
            Family::Inet6 => Netmask::Ipv6(raw),
            _ => Netmask::Ipv4(Ipv4Addr::from(raw.to_ne_bytes())),
        }
    }

    /// The kernel's 32 bits.
    pub fn to_raw(self) -> u32 {
        match self {
            Netmask::Ipv4(m) => u32::from_ne_bytes(m.octets()),
            Netmask::Ipv6(prefix) => prefix,
        }
    }
}

impl Default for Netmask {
    fn default() -> Self {
        Netmask::single(Family::Inet)
    }
}

/// A virtual service: its key and configuration, and as listed, its
/// counters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Service {
    /// What identifies the service.
    pub key: ServiceKey,
    /// The scheduler.
    pub scheduler: Scheduler,
    /// Persistence, one-packet scheduling and the scheduler's flags.
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (used with [`ServiceFlags::PERSISTENT`]).
    pub timeout: u32,
    /// Persistence granularity (used with [`ServiceFlags::PERSISTENT`]).
    pub netmask: Netmask,
    /// The persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
    /// Counters; listings fill them, changes ignore them.
    pub stats: Stats,
}

impl Service {
    /// A service with the default scheduler and no persistence.
    ///
    /// ```
    /// let s = ipvs::Service::new(ipvs::ServiceKey::udp("10.0.0.1:5060".parse().unwrap()));
    /// assert_eq!(s.scheduler.name(), "wlc");
    /// assert!(!s.is_persistent());
    /// ```
    pub fn new(key: ServiceKey) -> Self {
        Service {
            netmask: Netmask::single(key.family()),
            key,
            scheduler: Scheduler::default(),
            flags: ServiceFlags::empty(),
            timeout: 0,
            pe_name: None,
            stats: Stats::default(),
        }
    }

    /// Whether clients stick to a server.
    pub fn is_persistent(&self) -> bool {
        self.flags.contains(ServiceFlags::PERSISTENT)
    }
}
