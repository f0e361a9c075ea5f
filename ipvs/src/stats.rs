//! Traffic counters and rate estimates.

/// Counters and rate estimates of a service or destination, 64 bits wide
/// (older kernels send 32-bit counters, which are widened).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u64,
    /// Packets in.
    pub inpkts: u64,
    /// Packets out.
    pub outpkts: u64,
    /// Bytes in.
    pub inbytes: u64,
    /// Bytes out.
    pub outbytes: u64,
    /// Connections per second (estimate).
    pub cps: u64,
    /// Packets in per second (estimate).
    pub inpps: u64,
    /// Packets out per second (estimate).
    pub outpps: u64,
    /// Bytes in per second (estimate).
    pub inbps: u64,
    /// Bytes out per second (estimate).
    pub outbps: u64,
}
