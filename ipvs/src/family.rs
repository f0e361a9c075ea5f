//! Address families and transport protocols, as the kernel numbers them.

use std::fmt;
use std::net::IpAddr;

/// An address family (`AF_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    Inet,
    /// IPv6 (`AF_INET6`).
    Inet6,
    /// A family this crate does not know, by its number.
    Other(u16),
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Family::Inet,
            IpAddr::V6(_) => Family::Inet6,
        }
    }

    /// The family of a kernel `AF_*` number.
    pub fn from_raw(af: u16) -> Self {
        match i32::from(af) {
            libc::AF_INET => Family::Inet,
            libc::AF_INET6 => Family::Inet6,
            _ => Family::Other(af),
        }
    }

    /// The kernel's `AF_*` number.
    pub fn to_raw(self) -> u16 {
        match self {
            // Both constants are small positive numbers.
            Family::Inet => libc::AF_INET as u16,
            Family::Inet6 => libc::AF_INET6 as u16,
            Family::Other(af) => af,
        }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Family::Inet => f.write_str("inet"),
            Family::Inet6 => f.write_str("inet6"),
            Family::Other(af) => write!(f, "af{af}"),
        }
    }
}

/// The transport protocol of a service (`IPPROTO_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
    /// A protocol this crate does not know, by its number.
    Other(u16),
}

impl Protocol {
    /// The protocol of a kernel `IPPROTO_*` number.
    pub fn from_raw(p: u16) -> Self {
        match i32::from(p) {
            libc::IPPROTO_TCP => Protocol::Tcp,
            libc::IPPROTO_UDP => Protocol::Udp,
            libc::IPPROTO_SCTP => Protocol::Sctp,
            _ => Protocol::Other(p),
        }
    }

    /// The kernel's `IPPROTO_*` number.
    pub fn to_raw(self) -> u16 {
        match self {
            // All three constants are below 256.
            Protocol::Tcp => libc::IPPROTO_TCP as u16,
            Protocol::Udp => libc::IPPROTO_UDP as u16,
            Protocol::Sctp => libc::IPPROTO_SCTP as u16,
            Protocol::Other(p) => p,
        }
    }

    /// The lower-case name (`tcp`, `udp`, `sctp`), `None` for others.
    pub fn name(self) -> Option<&'static str> {
        match self {
            Protocol::Tcp => Some("tcp"),
            Protocol::Udp => Some("udp"),
            Protocol::Sctp => Some("sctp"),
            Protocol::Other(_) => None,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "proto{}", self.to_raw()),
        }
    }
}
