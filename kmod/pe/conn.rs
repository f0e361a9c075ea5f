// SPDX-License-Identifier: GPL-2.0

//! The views of a template lookup's parameters (`struct ip_vs_conn_param`) and of a
//! connection or template (`struct ip_vs_conn`).
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h).

use super::data::pe_data_slice;
use super::{Net, AF_INET6, AF_UNSPEC, IPPROTO_IP};
use core::ptr::addr_of;
use kernel::bindings;
use kernel::types::Opaque;

/// An IPv4 or IPv6 address as IPVS stores it (`union nf_inet_addr`), copied out.
///
/// Only the bytes that are valid for the address family are read: IPVS often points to a
/// 4-byte IPv4 address (a `__be32` of a sync message in `ip_vs_conn_fill_param_sync()`, the
/// masked client address `snet` of `ip_vs_sched_persist()`, of which only `.ip` is written),
/// so the other 12 bytes may be uninitialised. They are zero here.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct InetAddr([u32; 4]);

impl InetAddr {
    /// Reads an address of family `af` (`AF_INET6`: 16 bytes; anything else: 4).
    ///
    /// # Safety
    ///
    /// `addr` must be valid for reads of 16 bytes if `af == AF_INET6`, of 4 bytes otherwise.
    #[inline]
    unsafe fn read(af: u16, addr: *const bindings::nf_inet_addr) -> Self {
        if af == AF_INET6 {
            // SAFETY: The caller guarantees 16 readable bytes. Every member of the union is
            // plain integers over the same 16 bytes, so reading `all` is valid.
            Self(unsafe { addr_of!((*addr).all).read_unaligned() })
        } else {
            // SAFETY: The caller guarantees the first 4 bytes (the `ip` member) are readable.
            let ip = unsafe { addr_of!((*addr).ip).read_unaligned() };
            Self([ip, 0, 0, 0])
        }
    }

    /// The address's valid bytes for family `af`, in memory (network) order.
    pub(crate) fn bytes(&self, af: u16) -> ([u8; 16], usize) {
        let mut out = [0u8; 16];
        for (dst, w) in out.chunks_exact_mut(4).zip(self.0.iter()) {
            dst.copy_from_slice(&w.to_ne_bytes());
        }
        (out, if af == AF_INET6 { 16 } else { 4 })
    }
}

/// Whether the addresses at `a` and `b` are equal for family `af`, as the kernel's
/// `ip_vs_addr_equal()` with `CONFIG_IP_VS_IPV6` (without it IPVS makes no IPv6 service and
/// drops IPv6 sync messages, so no IPv6 lookup exists): IPv6 compares all 16 bytes, anything
/// else the first 4.
///
/// # Safety
///
/// `a` and `b` must be valid for reads of 16 initialised bytes if `af == AF_INET6`, of 4
/// otherwise.
#[inline(always)]
unsafe fn addr_equal(
    af: u16,
    a: *const bindings::nf_inet_addr,
    b: *const bindings::nf_inet_addr,
) -> bool {
    if af == AF_INET6 {
        // SAFETY: The caller guarantees 16 readable, initialised bytes at each: a valid
        // `[u64; 2]`, read unaligned (the union is 4-byte aligned).
        let (x, y) = unsafe {
            (
                a.cast::<[u64; 2]>().read_unaligned(),
                b.cast::<[u64; 2]>().read_unaligned(),
            )
        };
        ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0
    } else {
        // SAFETY: The caller guarantees the first 4 bytes (the `ip` member) are readable.
        unsafe { addr_of!((*a).ip).read_unaligned() == addr_of!((*b).ip).read_unaligned() }
    }
}

/// Whether a lookup or an entry of protocol `protocol` belongs to a firewall-mark service:
/// IPVS then gives it protocol `IPPROTO_IP` and the mark in place of the virtual address
/// (`ip_vs_sched_persist()`).
#[inline]
fn is_fwmark(protocol: u16) -> bool {
    protocol == IPPROTO_IP
}

/// The family a virtual address of family `af` and protocol `protocol` is read and compared
/// with: a firewall mark is compared as `AF_UNSPEC` (its first 4 bytes), whatever the family,
/// as the C engine's `ip_vs_sip_ct_match()` does.
#[inline]
fn vaddr_family(af: u16, protocol: u16) -> u16 {
    if is_fwmark(protocol) {
        AF_UNSPEC
    } else {
        af
    }
}

/// The accessors both views of a parameter block ([`Lookup`], [`HashKey`]) share: the fields
/// every caller fills in, whichever operation it calls.
macro_rules! conn_param_common {
    () => {
        /// # Safety
        ///
        /// `ptr` must satisfy the type invariant for the lifetime `'a`.
        pub(super) unsafe fn from_raw<'a>(ptr: *const bindings::ip_vs_conn_param) -> &'a Self {
            // SAFETY: The view is a transparent wrapper of the C struct; the caller guarantees
            // validity for `'a`.
            unsafe { &*ptr.cast() }
        }

        #[inline]
        fn raw(&self) -> *const bindings::ip_vs_conn_param {
            self.0.get()
        }

        /// Address family (`AF_INET` or `AF_INET6`).
        #[inline]
        pub(crate) fn af(&self) -> u16 {
            // SAFETY: By the type invariant the struct is valid to read.
            unsafe { (*self.raw()).af }
        }

        /// Transport protocol; `IPPROTO_IP` when the virtual address is a firewall mark.
        #[inline]
        pub(crate) fn protocol(&self) -> u16 {
            // SAFETY: By the type invariant the struct is valid to read.
            unsafe { (*self.raw()).protocol }
        }
    };
}

/// The parameters of a template lookup (`struct ip_vs_conn_param`), as `fill_param` and
/// `ct_match` receive them.
///
/// # Invariants
///
/// For the lifetime of the reference: the wrapped `ip_vs_conn_param` is valid and unchanged;
/// `ipvs` points to a live `netns_ipvs`; `caddr` and `vaddr` are valid and initialised for the
/// address family's length (4 bytes unless `af` is `AF_INET6`; `vaddr` 4 bytes when
/// `protocol` is `IPPROTO_IP`); `pe_data`, when not null, is valid for `pe_data_len` bytes.
/// Every caller of the two operations fills the block this way:
/// `ip_vs_conn_fill_param_persist()` (from `ip_vs_sched_persist()` and
/// `ip_vs_new_conn_out()`), and `ip_vs_ct_in_get()` called from those two and from the sync
/// daemon's `ip_vs_proc_conn()`.
#[repr(transparent)]
pub(crate) struct Lookup(Opaque<bindings::ip_vs_conn_param>);

impl Lookup {
    conn_param_common!();

    /// Whether this is a firewall-mark service's lookup (`protocol` `IPPROTO_IP`, the mark in
    /// place of the virtual address).
    #[inline]
    pub(crate) fn is_fwmark(&self) -> bool {
        is_fwmark(self.protocol())
    }

    /// Virtual address, or the firewall mark of a fwmark service (`protocol` `IPPROTO_IP`).
    #[inline]
    pub(crate) fn vaddr(&self) -> InetAddr {
        let af = vaddr_family(self.af(), self.protocol());
        // SAFETY: By the type invariant `vaddr` is valid for that length.
        unsafe { InetAddr::read(af, (*self.raw()).vaddr) }
    }

    /// Virtual port, in network byte order (0 for a port-zero or fwmark service).
    #[inline]
    pub(crate) fn vport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).vport }
    }

    /// The engine data of this lookup, if an engine set it (always, in `ct_match`).
    #[inline]
    pub(crate) fn pe_data(&self) -> Option<&[u8]> {
        // SAFETY: By the type invariant the struct is valid and `pe_data`, when not null, is
        // valid for `pe_data_len` bytes; the length is only read once the pointer is known.
        unsafe {
            let p = self.raw();
            pe_data_slice(addr_of!((*p).pe_data), addr_of!((*p).pe_data_len))
        }
    }

    /// Whether `ct` is a template of this lookup's client, service and protocol: the fields
    /// that IPVS's generic rule (`ip_vs_ct_in_get()`) and the C engine's `ct_match` compare,
    /// in the C engine's order. An engine's `ct_match` adds its rule for the engine data.
    // Always inlined: IPVS calls `ct_match` for each entry of a hash chain, which on 6.12's
    // fixed-size table holds hundreds of templates at a million calls (`make bench`'s
    // `scale` part), and a call of its own per entry doubled the engine's share there.
    // The addresses are compared where they lie, as C's `ip_vs_addr_equal()` does, not read
    // into `InetAddr`s first: that took registers enough to make each call save six.
    #[inline(always)]
    pub(crate) fn matches_template(&self, ct: &Conn) -> bool {
        let af = self.af();
        let (p, c) = (self.raw(), ct.raw());
        ct.af() == af
            // SAFETY: By the type invariants the lookup's `caddr` and `vaddr` are valid and
            // initialised for the family's length (`vaddr` 4 bytes when the protocol is
            // `IPPROTO_IP`). The entry's are fields of its struct, 16 bytes each, all of which
            // `ip_vs_conn_new()` initialised (`ip_vs_addr_set()` copies the address, or `.ip`
            // and zeros, whatever the family).
            && unsafe { addr_equal(af, (*p).caddr, addr_of!((*c).caddr)) }
            // SAFETY: As above.
            && unsafe {
                addr_equal(
                    vaddr_family(af, self.protocol()),
                    (*p).vaddr,
                    addr_of!((*c).vaddr),
                )
            }
            && ct.vport() == self.vport()
            && ct.is_template()
            && ct.protocol() == self.protocol()
            // As `ip_vs_ct_in_get()`'s own rule (the C engine's `ct_match` lacks it): on 7.x a
            // template marked dead stays in its chain, and may come before its replacement
            // once a resize has reversed the chain.
            && !ct.is_dead_template()
    }

    /// The network namespace of the lookup.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: By the type invariant `ipvs` points to a live `netns_ipvs`, whose `net`
        // outlives it (IPVS frees it from the namespace's exit).
        unsafe { Net::from_raw((*(*self.raw()).ipvs).net) }
    }
}

/// The parameters `hashkey_raw` receives (`struct ip_vs_conn_param`).
///
/// IPVS calls `hashkey_raw` from `ip_vs_conn_hashkey_param()` only when `pe_data` is set, and
/// with two kinds of blocks: a lookup's (from `ip_vs_ct_in_get()`, see [`Lookup`]) and the
/// one `ip_vs_conn_hashkey_conn()` builds from a connection to hash, unhash or rehash it (on
/// Linux 6.12 with `vaddr` NULL and `vport` 0; since 7.1 also from the table's resize work).
/// A key must be computed the same way from both, on every kernel, so this view offers only
/// what all provide: the family, the protocol, the client address and port, and the engine
/// data. `inverse` is false whenever `pe_data` is set: only templates carry engine data, and
/// IPVS hashes a template in one direction only (7.1's second, reply-direction node is for
/// NAT connections that are not templates, `ip_vs_conn_use_hash2()`).
///
/// # Invariants
///
/// For the lifetime of the reference the wrapped block is valid and unchanged, `ipvs` is set,
/// `caddr` is valid for the family's length (4 bytes unless `AF_INET6`), and `pe_data`, when
/// not null, is valid for `pe_data_len` bytes.
#[repr(transparent)]
pub(crate) struct HashKey(Opaque<bindings::ip_vs_conn_param>);

impl HashKey {
    conn_param_common!();

    /// Client address, masked by the service's persistence mask in a template.
    #[inline]
    pub(crate) fn caddr(&self) -> InetAddr {
        // SAFETY: By the type invariant `caddr` is valid for the family's length.
        unsafe { InetAddr::read(self.af(), (*self.raw()).caddr) }
    }

    /// Client port, in network byte order (0 for a template).
    // Not every engine needs every accessor; this folder is shared by several modules.
    #[allow(dead_code)]
    pub(crate) fn cport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).cport }
    }

    /// A value that tells network namespaces apart, for a key that must not collide across
    /// them: the address of the namespace's IPVS state, which 6.12's generic key
    /// (`ip_vs_conn_hashkey()`) mixes in the same way (one table holds every namespace's
    /// entries there; since 7.1 each namespace has its own table, and this changes nothing).
    /// Every kind of block sets `ipvs`.
    pub(crate) fn namespace_salt(&self) -> u32 {
        // SAFETY: By the type invariant the struct is valid to read; only the pointer's value
        // is used.
        let ipvs = unsafe { (*self.raw()).ipvs };
        // CAST: the address's bits above the low 8 (which are alike in aligned allocations);
        // those beyond 32 are dropped on purpose, as in C.
        ((ipvs as usize) >> 8) as u32
    }

    /// The engine data (IPVS calls `hashkey_raw` only when it is set).
    #[inline]
    pub(crate) fn pe_data(&self) -> Option<&[u8]> {
        // SAFETY: As for `Lookup::pe_data`.
        unsafe {
            let p = self.raw();
            pe_data_slice(addr_of!((*p).pe_data), addr_of!((*p).pe_data_len))
        }
    }
}

/// A connection entry or template (`struct ip_vs_conn`), read-only.
///
/// # Invariants
///
/// The wrapped `ip_vs_conn` is valid for the lifetime of the reference: IPVS calls `ct_match`
/// on entries of its table under `rcu_read_lock()` (`ip_vs_ct_in_get()`), and `show_pe_data`
/// from `ip_vs_conn_seq_show()` under the same lock; entries are freed after a grace period.
/// Its `pe_data`, when not null, is valid for `pe_data_len` bytes (set with it in
/// `ip_vs_conn_new()`, freed only with the entry).
#[repr(transparent)]
pub(crate) struct Conn(Opaque<bindings::ip_vs_conn>);

impl Conn {
    /// # Safety
    ///
    /// `ptr` must satisfy the type invariant for the lifetime `'a`.
    pub(super) unsafe fn from_raw<'a>(ptr: *const bindings::ip_vs_conn) -> &'a Self {
        // SAFETY: `Conn` is a transparent wrapper of the C struct; the caller guarantees
        // validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    #[inline]
    fn raw(&self) -> *const bindings::ip_vs_conn {
        self.0.get()
    }

    /// Address family of the client side.
    // A `u8` in Linux 7.1's `struct ip_vs_conn` (packed beside its hash nodes), a `u16`
    // before; widened here, a no-op on the kernels where it is already a `u16`.
    #[inline]
    #[allow(clippy::useless_conversion)]
    pub(crate) fn af(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        u16::from(unsafe { (*self.raw()).af })
    }

    /// Virtual port, in network byte order.
    #[inline]
    pub(crate) fn vport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read. On 6.12
        // `ip_vs_check_template()` writes it (0xffff, a dead template) on another CPU while an
        // RCU walker may be reading it, so read it once, as a volatile (`READ_ONCE`).
        unsafe { addr_of!((*self.raw()).vport).read_volatile() }
    }

    /// Whether `ip_vs_check_template()` has marked this template dead (its destination
    /// unavailable), as `ip_vs_ct_in_get()` tells: with `ipvs_rht` (Linux 7.1), `dport`
    /// 0xffff, the template left in its chain. Like IPVS's own rule, this also takes a live
    /// template of a server on port 65535 for a dead one (see `docs/engine.md`).
    #[cfg(ipvs_rht)]
    #[inline]
    pub(crate) fn is_dead_template(&self) -> bool {
        // SAFETY: By the type invariant the struct is valid to read. `ip_vs_check_template()`
        // writes it on another CPU while we may read it, so read it once, as a volatile.
        let dport = unsafe { addr_of!((*self.raw()).dport).read_volatile() };
        dport == 0xffffu16.to_be()
    }

    /// Whether `ip_vs_check_template()` has marked this template dead: never seen here
    /// without `ipvs_rht` (6.12), where it sets `vport` to 0xffff and rehashes the template,
    /// so that no lookup's `vport` matches it. `ip_vs_ct_in_get()` checks nothing more, and
    /// `dport` is a live template's own there (0xffff for a server on port 65535).
    #[cfg(not(ipvs_rht))]
    #[inline]
    pub(crate) fn is_dead_template(&self) -> bool {
        false
    }

    /// Transport protocol.
    #[inline]
    pub(crate) fn protocol(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).protocol }
    }

    /// Whether this entry is a persistence template (`IP_VS_CONN_F_TEMPLATE`).
    #[inline]
    pub(crate) fn is_template(&self) -> bool {
        // SAFETY: By the type invariant the struct is valid to read. `flags` is `volatile` in
        // C (other CPUs update it), so read it the way C does.
        let flags = unsafe { addr_of!((*self.raw()).flags).read_volatile() };
        flags & bindings::IP_VS_CONN_F_TEMPLATE != 0
    }

    /// The engine data stored in this entry, if any.
    #[inline]
    pub(crate) fn pe_data(&self) -> Option<&[u8]> {
        // SAFETY: By the type invariant the struct is valid and `pe_data`, when not null, is
        // valid for `pe_data_len` bytes; the length is only read once the pointer is known.
        unsafe {
            let c = self.raw();
            pe_data_slice(addr_of!((*c).pe_data), addr_of!((*c).pe_data_len))
        }
    }
}
