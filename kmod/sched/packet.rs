// SPDX-License-Identifier: GPL-2.0

//! The packet a scheduler schedules: read-only, and read within bounds.
//!
//! C headers: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h) (`skb_copy_bits()`),
//! [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_iphdr`).
//!
//! IPVS hands `schedule` a `const` packet: it cannot be linearized. A persistent service with
//! `--pe sip` has had it linearized by the engine's `fill_param` already; without, the UDP
//! payload is read where it lies when the packet's linear part holds it all (a SIP datagram
//! nearly always), and its first [`COPY_MAX`] bytes are copied out (`skb_copy_bits()`, as
//! `skb_header_pointer()` does) when not: a datagram reassembled from fragments, whose SIP
//! headers are at its start.
//!
//! IPVS also schedules for an ICMP error about a datagram (`ip_vs_in_icmp()`, with the
//! `schedule_icmp` sysctl): the header then describes the quoted datagram, inverted, and the
//! payload is only what the error quotes of it.

use super::{AF_INET6, IPPROTO_UDP};
use core::marker::PhantomData;
use core::ops::Deref;
use kernel::alloc::{flags, KVec};
use kernel::bindings;
use kernel::ffi::{c_int, c_void};

/// Size of a UDP header.
const UDP_HLEN: usize = 8;
/// Most bytes of a payload that is not all linear copied for the parser: the header section
/// of any real SIP message. A Call-ID beyond is not found, on every director alike.
const COPY_MAX: usize = 4096;
// CAST: 1 and 2, they fit.
/// `IP_VS_HDR_INVERSE`: the header was read from a quoted packet, source and destination
/// swapped.
const HDR_INVERSE: c_int = bindings::IP_VS_HDR_INVERSE as c_int;
/// `IP_VS_HDR_ICMP`: the header is that of a packet an ICMP error quotes.
const HDR_ICMP: c_int = bindings::IP_VS_HDR_ICMP as c_int;

/// The packet being scheduled, and what IPVS found in its network header.
///
/// # Invariants
///
/// `skb` and `iph` are valid for `'a` and no one changes them meanwhile: IPVS owns the packet
/// for the whole of `schedule` and filled `iph` from it.
pub(crate) struct Packet<'a> {
    skb: *const bindings::sk_buff,
    iph: *const bindings::ip_vs_iphdr,
    af: u16,
    _p: PhantomData<&'a bindings::sk_buff>,
}

/// The UDP payload of a packet: borrowed from its linear part, or a copy of its start.
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
        // INVARIANT: as the caller guarantees.
        Self {
            skb,
            iph,
            af,
            _p: PhantomData,
        }
    }

    /// What IPVS found in the network header.
    fn iph(&self) -> &bindings::ip_vs_iphdr {
        // SAFETY: By the type invariant `iph` is valid and unchanged for `'a`; it is plain
        // data that IPVS filled before the call.
        unsafe { &*self.iph }
    }

    /// `skb->len` and `skb_headlen()`, as `usize`.
    fn lengths(&self) -> (usize, usize) {
        // SAFETY: By the type invariant the skb is valid and unchanged.
        let (len, data_len) = unsafe { ((*self.skb).len, (*self.skb).data_len) };
        // CAST: u32 to usize is lossless on the 64-bit kernels these modules build for.
        (len as usize, len.saturating_sub(data_len) as usize)
    }

    /// Whether the header describes a packet quoted by an ICMP error, source and destination
    /// swapped (`ip_vs_iph_inverse()`).
    fn inverse(&self) -> bool {
        self.iph().hdr_flags & HDR_INVERSE != 0
    }

    /// Address family of the packet (the service's).
    pub(crate) fn af(&self) -> u16 {
        self.af
    }

    /// The client's address, in network order: 4 bytes then zeroes for IPv4, 16 for IPv6.
    /// For an ICMP error about a datagram, its destination, as IPVS's `sh` and `mh` take it.
    pub(crate) fn source_addr(&self) -> [u8; 16] {
        let iph = self.iph();
        let a = if self.inverse() {
            &iph.daddr
        } else {
            &iph.saddr
        };
        // SAFETY: Every member of `nf_inet_addr` is 16 bytes of plain data; `all` reads them as
        // four words in network order.
        let words = unsafe { a.all };
        let mut addr = [0u8; 16];
        let n = if self.af == AF_INET6 { 4 } else { 1 };
        for (chunk, word) in addr.chunks_exact_mut(4).zip(words.iter()).take(n) {
            chunk.copy_from_slice(&word.to_ne_bytes());
        }
        addr
    }

    /// Transport protocol (`IPPROTO_*`), if IPVS found one.
    pub(crate) fn protocol(&self) -> Option<u16> {
        u16::try_from(self.iph().protocol).ok()
    }

    /// Copies `out.len()` bytes from `offset` of the packet's data; `None` if the packet is
    /// shorter.
    fn copy(&self, offset: usize, out: &mut [u8]) -> Option<()> {
        let end = offset.checked_add(out.len())?;
        if end > self.lengths().0 {
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

    /// The client's port, for a first fragment of a protocol whose header starts with its two
    /// ports (TCP, UDP, SCTP; IPVS schedules no other); for an ICMP error about a datagram, the
    /// datagram's destination port, as IPVS's `sh` and `mh` take it.
    pub(crate) fn source_port(&self) -> Option<u16> {
        let iph = self.iph();
        if iph.fragoffs != 0 {
            return None;
        }
        let mut ports = [0u8; 4];
        // CAST: u32 to usize is lossless on 64-bit kernels.
        self.copy(iph.len as usize, &mut ports)?;
        let [s0, s1, d0, d1] = ports;
        Some(u16::from_be_bytes(if self.inverse() {
            [d0, d1]
        } else {
            [s0, s1]
        }))
    }

    /// The UDP payload of a first fragment, up to the datagram's own length (the UDP header
    /// says; anything after it in the packet is not the datagram's), or `None`: not UDP, a
    /// later fragment, a packet an ICMP error quotes (only its start is there), empty, or no
    /// memory for a copy.
    pub(crate) fn udp_payload(&self) -> Option<Payload<'a>> {
        let iph = self.iph();
        if self.protocol() != Some(IPPROTO_UDP) || iph.fragoffs != 0 {
            return None;
        }
        if iph.hdr_flags & HDR_ICMP != 0 {
            return None;
        }
        // CAST: u32 to usize is lossless on 64-bit kernels.
        let l4 = iph.len as usize;
        let mut udp_len = [0u8; 2];
        self.copy(l4.checked_add(4)?, &mut udp_len)?;
        let (len, headlen) = self.lengths();
        let end = len.min(l4.checked_add(usize::from(u16::from_be_bytes(udp_len)))?);
        let start = l4.checked_add(UDP_HLEN)?;
        if start >= end {
            return None;
        }
        // SAFETY: By the type invariant the skb is valid and unchanged for `'a`.
        let data = unsafe { (*self.skb).data };
        if end <= headlen && !data.is_null() {
            // SAFETY: By the type invariant the skb is valid and unchanged for `'a`: `data`
            // points to `headlen` readable bytes (`skb_headlen()`), which hold all `end`.
            let linear = unsafe { core::slice::from_raw_parts(data, end) };
            return linear.get(start..).map(Payload::Linear);
        }
        let n = (end - start).min(COPY_MAX);
        let gfp = flags::GFP_ATOMIC | flags::__GFP_NOWARN;
        let mut buf = KVec::with_capacity(n, gfp).ok()?;
        buf.extend_with(n, 0, gfp).ok()?;
        self.copy(start, &mut buf)?;
        Some(Payload::Copied(buf))
    }
}
