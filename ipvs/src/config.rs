//! Table-wide settings: connection timeouts and the kernel's IPVS version.

use std::fmt;

/// Connection timeouts in seconds; 0 in a change leaves that one unchanged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Timeouts {
    /// Established TCP connections.
    pub tcp: u32,
    /// TCP connections after a FIN.
    pub tcp_fin: u32,
    /// UDP "connections".
    pub udp: u32,
}

/// An IPVS version code, `0x010201` for 1.2.1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Version(pub u32);

impl Version {
    /// The major, minor and patch numbers.
    pub fn parts(self) -> (u8, u8, u8) {
        let [_, major, minor, patch] = self.0.to_be_bytes();
        (major, minor, patch)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (a, b, c) = self.parts();
        write!(f, "{a}.{b}.{c}")
    }
}

/// What the kernel says about its IPVS.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Info {
    /// The IPVS version.
    pub version: Version,
    /// Size of the connection hash table.
    pub conn_tab_size: u32,
}
