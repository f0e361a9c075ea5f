//! Connection synchronisation daemons.

use std::net::IpAddr;

/// A sync daemon's role (`IP_VS_STATE_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize),
    serde(rename_all = "lowercase")
)]
pub enum DaemonState {
    /// Sends this host's connections.
    Master,
    /// Receives another host's connections.
    Backup,
    /// A state this crate does not know, by its bits.
    Other(u32),
}

impl DaemonState {
    /// The state of the kernel's bits.
    pub fn from_raw(bits: u32) -> Self {
        match bits {
            1 => DaemonState::Master,
            2 => DaemonState::Backup,
            other => DaemonState::Other(other),
        }
    }

    /// The kernel's bits.
    pub fn to_raw(self) -> u32 {
        match self {
            DaemonState::Master => 1,
            DaemonState::Backup => 2,
            DaemonState::Other(bits) => bits,
        }
    }
}

/// A connection synchronisation daemon.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: DaemonState,
    /// The multicast interface's name, as bytes: Linux allows any but `/`,
    /// `:`, blanks and NUL, not only UTF-8.
    pub interface: Vec<u8>,
    /// Which master a backup listens to (0 to 255).
    pub sync_id: u32,
    /// Maximum sync message length; 0 for the kernel's default.
    pub max_len: u16,
    /// Multicast group; `None` for the kernel's default.
    pub group: Option<IpAddr>,
    /// UDP port; 0 for the kernel's default.
    pub port: u16,
    /// Multicast TTL; 0 for the kernel's default.
    pub ttl: u8,
}

impl SyncDaemon {
    /// A daemon of `state` on `interface`, everything else the kernel's
    /// default.
    pub fn new(state: DaemonState, interface: impl Into<Vec<u8>>) -> Self {
        SyncDaemon {
            state,
            interface: interface.into(),
            sync_id: 0,
            max_len: 0,
            group: None,
            port: 0,
            ttl: 0,
        }
    }
}
