// SPDX-License-Identifier: GPL-2.0

//! The packet a scheduler schedules: read-only, and read within bounds.
//!
//! C headers: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h) (`skb_copy_bits()`),
//! [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_iphdr`).
//!
//! IPVS hands `schedule` a `const` packet: it cannot be linearized. A persistent service with
//! `--pe sip` has had it linearized by the engine's `fill_param` already; without, the UDP
//! payload is read where it lies when the packet's linear part holds it all (a SIP datagram
//! nearly always), and copied out (`skb_copy_bits()`, as `skb_header_pointer()` does) when not.

use super::{AF_INET6, IPPROTO_UDP};
use core::ops::Deref;
use kernel::alloc::{flags, KVec};
use kernel::bindings;
use kernel::ffi::{c_int, c_void};

/// Size of a UDP header.
const UDP_HLEN: usize = 8;

/// The packet being scheduled, and what IPVS found in its network header.
///
/// # Invariants
///
/// `skb` and `iph` are valid for `'a` and no one changes them meanwhile: IPVS owns the packet
/// for the whole of `schedule` and filled `iph` from it.
pub(crate) struct Packet<'a> {
    skb: &'a bindings::sk_buff,
    iph: &'a bindings::ip_vs_iphdr,
    af: u16,
}

/// The UDP payload of a packet: borrowed from its linear part, or a copy.
pub(crate) enum Payload<'a> {
    /// In the packet's linear part.
    Linear(&'a [u8]),
    /// Copied out of a packet whose payload is not all in its linear part.
    Copied(KVec<u8>),
}

impl Deref for Payload<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            Payload::Linear(s) => s,
            Payload::Copied(v) => v,
        }
    }
}

impl<'a> Packet<'a> {
    /// # Safety
    ///
    /// `skb` and `iph` must satisfy the type invariant for `'a`; `af` is the service's family.
    pub(super) unsafe fn from_raw(
        skb: *const bindings::sk_buff,
        iph: *const bindings::ip_vs_iphdr,
        af: u16,
    ) -> Self {
        // SAFETY: As the caller guarantees.
        unsafe {
            Self {
                skb: &*skb,
                iph: &*iph,
                af,
            }
        }
    }

    /// Address family of the packet (the service's).
    pub(crate) fn af(&self) -> u16 {
        self.af
    }

    /// Source address, in network order: 4 bytes then zeroes for IPv4, 16 for IPv6.
    pub(crate) fn source_addr(&self) -> [u8; 16] {
        // SAFETY: Every member of `nf_inet_addr` is 16 bytes of plain data; `all` reads them as
        // four words in network order.
        let words = unsafe { self.iph.saddr.all };
        let mut addr = [0u8; 16];
        let n = if self.af == AF_INET6 { 4 } else { 1 };
        for (chunk, word) in addr.chunks_exact_mut(4).zip(words.iter()).take(n) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        addr
    }

    /// Transport protocol (`IPPROTO_*`), if IPVS found one.
    pub(crate) fn protocol(&self) -> Option<u16> {
        u16::try_from(self.iph.protocol).ok()
    }

    /// Copies `out.len()` bytes from `offset` of the packet's data; `None` if the packet is
    /// shorter.
    fn copy(&self, offset: usize, out: &mut [u8]) -> Option<()> {
        let end = offset.checked_add(out.len())?;
        // CAST: u32 to usize is lossless on the 64-bit kernels these modules build for.
        if end > self.skb.len as usize {
            return None;
        }
        let off = c_int::try_from(offset).ok()?;
        let len = c_int::try_from(out.len()).ok()?;
        // SAFETY: By the type invariant the skb is valid and unchanged; `out` is writable for
        // `len` bytes, and `offset + len` is within the packet's data, checked above.
        let ret = unsafe {
            bindings::skb_copy_bits(self.skb, off, out.as_mut_ptr().cast::<c_void>(), len)
        };
        (ret == 0).then_some(())
    }

    /// Source port of a first fragment of TCP, UDP or SCTP (all start with it); `None` for
    /// other packets.
    pub(crate) fn source_port(&self) -> Option<u16> {
        if self.iph.fragoffs != 0 {
            return None;
        }
        let mut port = [0u8; 2];
        // CAST: u32 to usize is lossless on 64-bit kernels.
        self.copy(self.iph.len as usize, &mut port)?;
        Some(u16::from_be_bytes(port))
    }

    /// The UDP payload of a first fragment, or `None` (not UDP, a later fragment, empty, or
    /// no memory for a copy).
    pub(crate) fn udp_payload(&self) -> Option<Payload<'a>> {
        if self.protocol() != Some(IPPROTO_UDP) || self.iph.fragoffs != 0 {
            return None;
        }
        // CAST: u32 to usize is lossless on 64-bit kernels.
        let len = self.skb.len as usize;
        let start = (self.iph.len as usize).checked_add(UDP_HLEN)?;
        if start >= len {
            return None;
        }
        // CAST: as above.
        let headlen = self.skb.len.saturating_sub(self.skb.data_len) as usize;
        if len <= headlen && !self.skb.data.is_null() {
            // SAFETY: By the type invariant the skb is valid and unchanged for `'a`: `data`
            // points to `headlen` readable bytes (`skb_headlen()`), which hold all `len`.
            let data = unsafe { core::slice::from_raw_parts(self.skb.data, len) };
            return data.get(start..).map(Payload::Linear);
        }
        // Not all linear: a copy, bounded by the datagram's length (at most 64 KiB).
        let n = len - start;
        let mut buf = KVec::with_capacity(n, flags::GFP_ATOMIC).ok()?;
        buf.extend_with(n, 0, flags::GFP_ATOMIC).ok()?;
        self.copy(start, &mut buf)?;
        Some(Payload::Copied(buf))
    }
}
