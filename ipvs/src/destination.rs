//! Real servers (destinations) of a virtual service.

use std::net::SocketAddr;

use crate::Stats;

/// How packets reach a real server (`IP_VS_CONN_F_*` forwarding methods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum Forward {
    /// NAT (`-m`).
    Masq,
    /// The server is this host.
    Local,
    /// IP-in-IP, GUE or GRE tunnelling (`-i`).
    Tunnel,
    /// Direct routing (`-g`, ipvsadm's default).
    #[default]
    Route,
    /// A method this crate does not know, by its number.
    Other(u32),
}

impl Forward {
    /// The method of the kernel's connection flags (masked to the method).
    pub fn from_raw(flags: u32) -> Self {
        match flags & 0x7 {
            0 => Forward::Masq,
            1 => Forward::Local,
            2 => Forward::Tunnel,
            3 => Forward::Route,
            other => Forward::Other(other),
        }
    }

    /// The kernel's number.
    pub fn to_raw(self) -> u32 {
        match self {
            Forward::Masq => 0,
            Forward::Local => 1,
            Forward::Tunnel => 2,
            Forward::Route => 3,
            Forward::Other(n) => n,
        }
    }
}

/// The encapsulation of a tunnelling destination.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum TunnelType {
    /// IP in IP (the default).
    #[default]
    Ipip,
    /// Generic UDP encapsulation (to [`Tunnel::port`]).
    Gue,
    /// Generic routing encapsulation.
    Gre,
    /// A type this crate does not know, by its number.
    Other(u8),
}

impl TunnelType {
    /// The type of a kernel number.
    pub fn from_raw(t: u8) -> Self {
        match t {
            0 => TunnelType::Ipip,
            1 => TunnelType::Gue,
            2 => TunnelType::Gre,
            other => TunnelType::Other(other),
        }
    }

    /// The kernel's number.
    pub fn to_raw(self) -> u8 {
        match self {
            TunnelType::Ipip => 0,
            TunnelType::Gue => 1,
            TunnelType::Gre => 2,
            TunnelType::Other(n) => n,
        }
    }
}

/// Checksum options of GUE and GRE tunnels (`IP_VS_TUNNEL_ENCAP_FLAG_*`);
/// unnamed bits are kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct TunnelFlags(u16);

impl TunnelFlags {
    /// No checksum (the default).
    pub const NOCSUM: Self = Self(0);
    /// A checksum of the encapsulation.
    pub const CSUM: Self = Self(1);
    /// Remote checksum offload.
    pub const REMCSUM: Self = Self(2);

    /// Flags from the kernel's bits, all kept.
    pub const fn from_bits(bits: u16) -> Self {
        Self(bits)
    }

    /// The kernel's bits.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether every bit of `other` is set.
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Adds the bits of `other`.
    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }
}

/// How a tunnelling destination is reached (ignored for other methods).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Tunnel {
    /// The encapsulation.
    pub kind: TunnelType,
    /// The GUE destination port.
    pub port: u16,
    /// Checksum options.
    pub flags: TunnelFlags,
}

/// A real server of a service: its configuration and, as listed, its
/// connection counts and counters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Destination {
    /// The server's address and port (its family may differ from the
    /// service's only for tunnelling).
    pub addr: SocketAddr,
    /// How packets reach it.
    pub forward: Forward,
    /// Its share of new connections; 0 takes it out of scheduling.
    pub weight: u32,
    /// Connections above which it gets no more (0: no limit).
    pub upper_threshold: u32,
    /// Connections below which it gets new ones again.
    pub lower_threshold: u32,
    /// Tunnel settings, for [`Forward::Tunnel`].
    pub tunnel: Tunnel,
    /// Active connections (listings only).
    pub active_conns: u32,
    /// Inactive connections (listings only).
    pub inactive_conns: u32,
    /// Persistence templates pointing at it (listings only).
    pub persistent_conns: u32,
    /// Counters (listings only).
    pub stats: Stats,
}

impl Destination {
    /// A directly routed destination of weight 1, as ipvsadm adds by default.
    ///
    /// ```
    /// let d = ipvs::Destination::new("192.168.0.1:5060".parse().unwrap());
    /// assert_eq!((d.forward, d.weight), (ipvs::Forward::Route, 1));
    /// ```
    pub fn new(addr: SocketAddr) -> Self {
        Destination {
            addr,
            forward: Forward::default(),
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel: Tunnel::default(),
            active_conns: 0,
            inactive_conns: 0,
            persistent_conns: 0,
            stats: Stats::default(),
        }
    }
}
