// SPDX-License-Identifier: GPL-2.0

//! The view of a packet (`struct sk_buff`) that IPVS hands to an engine.
//!
//! C headers: [`include/linux/skbuff.h`](srctree/include/linux/skbuff.h),
//! [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`ip_vs_fill_iph_skb()`).

use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::types::Opaque;

/// What IPVS's `ip_vs_fill_iph_skb()` found in a packet's network header.
pub(crate) struct IpHeader {
    /// Transport protocol (`IPPROTO_*`).
    pub(crate) protocol: u16,
    /// Offset of the transport header from `skb->data`.
    pub(crate) transport_offset: usize,
    /// IPv6 fragment offset: 0 unless this is a later fragment.
    pub(crate) fragoffs: u16,
    /// Source address, unmasked, in network order: 4 bytes and 12 zeroes for IPv4, 16 for
    /// IPv6.
    pub(crate) saddr: [u8; 16],
}

/// A packet (`struct sk_buff`) that IPVS passes to the engine.
///
/// # Invariants
///
/// The wrapped `sk_buff` is valid and owned by the caller of the engine for the lifetime of
/// the reference; the engine may modify its layout (linearize it) but not free it. IPVS passes
/// the packet it is processing (`ip_vs_conn_fill_param_persist()`, `__ip_vs_rs_conn_out()`)
/// and does not touch it while the engine runs.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// # Safety
    ///
    /// `ptr` must satisfy the type invariant, with exclusive access, for the lifetime `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
        // SAFETY: `SkBuff` is a transparent wrapper of the C struct; the caller guarantees
        // validity and exclusive access for `'a`.
        unsafe { &mut *ptr.cast() }
    }

    fn raw(&self) -> *mut bindings::sk_buff {
        self.0.get()
    }

    /// Total length of the packet's data, from `skb->data` on (`skb->len`).
    pub(crate) fn len(&self) -> usize {
        // SAFETY: By the type invariant the struct is valid to read.
        let len = unsafe { (*self.raw()).len };
        // CAST: u32 to usize is lossless on the 64-bit kernels this module builds for.
        len as usize
    }

    /// Parses the network header of a packet of family `af`; `None` if it cannot be read.
    pub(crate) fn ip_header(&self, af: u16) -> Option<IpHeader> {
        // SAFETY: `ip_vs_iphdr` is plain data; all zeroes is a valid value.
        let mut iph: bindings::ip_vs_iphdr = unsafe { core::mem::zeroed() };
        // SAFETY: By the type invariant `self.raw()` is a valid skb; `iph` is a valid,
        // exclusively borrowed output.
        let ok =
            unsafe { bindings::ip_vs_fill_iph_skb(c_int::from(af), self.raw(), false, &mut iph) };
        if ok == 0 {
            return None;
        }
        // SAFETY: Every member of the union is plain integers over the same 16 bytes, all
        // initialised: `iph` was zeroed, then `ip_vs_fill_iph_skb()` wrote the family's address.
        let words = unsafe { iph.saddr.all };
        let mut saddr = [0u8; 16];
        for (dst, w) in saddr.chunks_exact_mut(4).zip(words.iter()) {
            dst.copy_from_slice(&w.to_ne_bytes());
        }
        Some(IpHeader {
            saddr,
            // A negative protocol is `ipv6_find_hdr()`'s error: no header.
            protocol: u16::try_from(iph.protocol).ok()?,
            // CAST: u32 to usize is lossless on 64-bit kernels.
            transport_offset: iph.len as usize,
            fragoffs: iph.fragoffs,
        })
    }

    /// Pulls all of the packet's data into its linear buffer (`skb_linearize()`), so that
    /// [`SkBuff::linear_data`] covers all of it. Fails with `ENOMEM`.
    pub(crate) fn linearize(&mut self) -> Result {
        // SAFETY: By the type invariant the struct is valid to read.
        if unsafe { (*self.raw()).data_len } == 0 {
            // Already linear (`!skb_is_nonlinear()`), as a SIP datagram nearly always is:
            // no call out of the module.
            return Ok(());
        }
        // SAFETY: By the type invariant we have exclusive access to a valid skb.
        to_result(unsafe { bindings::skb_linearize(self.raw()) })
    }

    /// The data in the packet's linear buffer (all of it once linearized).
    pub(crate) fn linear_data(&self) -> &[u8] {
        let skb = self.raw();
        // SAFETY: By the type invariant the skb is valid: `data` points to `len - data_len`
        // (`skb_headlen()`) readable bytes, which stay put while we borrow `self`.
        unsafe {
            // CAST: u32 to usize is lossless on 64-bit kernels.
            let headlen = (*skb).len.saturating_sub((*skb).data_len) as usize;
            if headlen == 0 || (*skb).data.is_null() {
                return &[];
            }
            core::slice::from_raw_parts((*skb).data, headlen)
        }
    }
}
