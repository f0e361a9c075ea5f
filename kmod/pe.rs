// SPDX-License-Identifier: GPL-2.0

//! IPVS persistence engines in safe Rust.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_pe`).
//!
//! An engine implements [`Engine`]; [`module_ipvs_pe!`] builds its C operations table
//! ([`PeTable`]) at compile time in static storage and declares a kernel module that registers
//! it on load and unregisters it on unload. Every `unsafe` block of the engine side lives in
//! this file: the engine itself sees only safe views of the kernel objects that IPVS hands to
//! it, each showing exactly what IPVS provides to that operation ([`Lookup`] for `fill_param`
//! and `ct_match`, [`HashKey`] for `hashkey_raw`, [`Conn`], [`SkBuff`], [`ConnOut`]).
//!
//! IPVS calls `fill_param`, `ct_match` and `conn_out` from the packet path (softirq, or
//! process context with bottom halves disabled, under `rcu_read_lock()`); `hashkey_raw` also
//! from timers, the sync kthread and process context (`ip_vs_conn_hash()`,
//! `ip_vs_conn_unlink()`, `ip_vs_ct_in_get()` before it takes the RCU lock), and
//! `show_pe_data` from `/proc` readers. None of them may sleep: allocations use `GFP_ATOMIC`.

use core::marker::PhantomData;
use core::ptr::{addr_of, addr_of_mut, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::bindings;
use kernel::error::{from_result, to_result};
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::types::Opaque;

/// Longest engine data IPVS stores in a connection (`IP_VS_PEDATA_MAXLEN`).
// CAST: 255, it fits.
pub(crate) const PEDATA_MAXLEN: usize = bindings::IP_VS_PEDATA_MAXLEN as usize;
/// Size of the buffer that holds an engine name in IPVS (`IP_VS_PENAME_MAXLEN`).
// CAST: 16, it fits.
pub(crate) const PENAME_MAXLEN: usize = bindings::IP_VS_PENAME_MAXLEN as usize;
/// Size of the buffer `ip_vs_conn_seq_show()` fills with `" NAME DATA"` and a NUL.
const SHOW_BUF: usize = PENAME_MAXLEN + PEDATA_MAXLEN + 3;

/// `IPPROTO_UDP`, as IPVS stores protocols (`u16`).
// CAST: IPPROTO_UDP is 17, it fits.
const IPPROTO_UDP: u16 = bindings::IPPROTO_UDP as u16;
/// `AF_INET6`, as IPVS stores address families (`u16`).
// CAST: AF_INET6 is 10, it fits.
const AF_INET6: u16 = bindings::AF_INET6 as u16;
/// `IPPROTO_IP`: the protocol of a firewall-mark template, whose "virtual address" is a mark.
// CAST: IPPROTO_IP is 0, it fits.
const IPPROTO_IP: u16 = bindings::IPPROTO_IP as u16;

/// A network namespace (`struct net`), as IPVS hands it to an engine.
///
/// # Invariants
///
/// The wrapped `net` is alive for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// # Safety
    ///
    /// `ptr` must point to a live `struct net` for the lifetime `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Self {
        // SAFETY: `Net` is a transparent wrapper of the C struct; the caller guarantees it is
        // alive for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The C `struct net`, alive as long as the reference.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }
}

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

    /// Whether two addresses of family `af` are equal, as the kernel's `ip_vs_addr_equal()`:
    /// IPv6 compares all 16 bytes, anything else (IPv4, or `AF_UNSPEC` for a firewall mark)
    /// only the first 4.
    pub(crate) fn equal(af: u16, a: &Self, b: &Self) -> bool {
        if af == AF_INET6 {
            a.0 == b.0
        } else {
            a.0[0] == b.0[0]
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

/// Engine data (`pe_data`) for a connection template: 1 to [`PEDATA_MAXLEN`] bytes, allocated
/// with `kmalloc` because IPVS frees it with `kfree()`.
///
/// # Invariants
///
/// `ptr` is a `kmalloc` allocation of `len` initialised bytes, owned by this value, and
/// `1 <= len <= PEDATA_MAXLEN`.
pub(crate) struct PeData {
    ptr: NonNull<u8>,
    len: u8,
}

impl PeData {
    /// Copies `data` into a new allocation that may be made in atomic context, as C's
    /// `kmemdup(data, len, GFP_ATOMIC)` does, through the same allocation-profiling hooks.
    ///
    /// Fails with `EINVAL` if `data` is empty or longer than [`PEDATA_MAXLEN`], with `ENOMEM`
    /// if the allocation fails.
    #[inline]
    pub(crate) fn try_copy(data: &[u8]) -> Result<Self> {
        let len = u8::try_from(data.len()).map_err(|_| EINVAL)?;
        if len == 0 || data.len() > PEDATA_MAXLEN {
            return Err(EINVAL);
        }
        // SAFETY: `data` is valid for reads of `data.len()` bytes; `kmemdup` copies them into
        // a new `kmalloc` allocation, or returns null.
        let ptr =
            unsafe { bindings::kmemdup(data.as_ptr().cast(), data.len(), bindings::GFP_ATOMIC) };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: `ptr` holds a copy of the `len` bytes of `data`, checked above.
        Ok(Self { ptr, len })
    }

    /// Gives up ownership: the allocation and its length, for IPVS to keep and `kfree()`.
    fn into_raw(self) -> (*mut u8, u8) {
        let data = core::mem::ManuallyDrop::new(self);
        (data.ptr.as_ptr(), data.len)
    }
}

impl Drop for PeData {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `ptr` is a `kmalloc` allocation that we own.
        unsafe { bindings::kfree(self.ptr.as_ptr().cast()) };
    }
}

/// The engine data a `pe_data` field points to, if it is set.
///
/// # Safety
///
/// `ptr` and `len` must be valid for reads; if `*ptr` is not null, `*len` must be initialised
/// and `*ptr` valid for reads of `*len` bytes for the lifetime `'a`. The length is read only
/// when the pointer is set: `ip_vs_conn_fill_param()` sets `pe_data` to NULL and leaves
/// `pe_data_len` uninitialised.
unsafe fn pe_data_slice<'a>(ptr: *const *mut c_char, len: *const u8) -> Option<&'a [u8]> {
    // SAFETY: The caller guarantees `ptr` is readable.
    let data = unsafe { ptr.read() };
    if data.is_null() {
        return None;
    }
    // SAFETY: `data` is set, so by the caller's guarantee `*len` is initialised and `data`
    // valid for that many bytes.
    Some(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), usize::from(len.read())) })
}

/// The accessors both views of a parameter block ([`Lookup`], [`HashKey`]) share: the fields
/// every caller fills in, whichever operation it calls.
macro_rules! conn_param_common {
    () => {
        /// # Safety
        ///
        /// `ptr` must satisfy the type invariant for the lifetime `'a`.
        unsafe fn from_raw<'a>(ptr: *const bindings::ip_vs_conn_param) -> &'a Self {
            // SAFETY: The view is a transparent wrapper of the C struct; the caller guarantees
            // validity for `'a`.
            unsafe { &*ptr.cast() }
        }

        fn raw(&self) -> *const bindings::ip_vs_conn_param {
            self.0.get()
        }

        /// Address family (`AF_INET` or `AF_INET6`).
        pub(crate) fn af(&self) -> u16 {
            // SAFETY: By the type invariant the struct is valid to read.
            unsafe { (*self.raw()).af }
        }

        /// Transport protocol; `IPPROTO_IP` when the virtual address is a firewall mark.
        pub(crate) fn protocol(&self) -> u16 {
            // SAFETY: By the type invariant the struct is valid to read.
            unsafe { (*self.raw()).protocol }
        }

        /// Client address, masked by the service's persistence mask in a template.
        pub(crate) fn caddr(&self) -> InetAddr {
            // SAFETY: By the type invariant `caddr` is valid for the family's length.
            unsafe { InetAddr::read(self.af(), (*self.raw()).caddr) }
        }
    };
}

/// The parameters of a template lookup (`struct ip_vs_conn_param`), as `fill_param` and
/// `ct_match` receive them.
///
/// # Invariants
///
/// For the lifetime of the reference: the wrapped `ip_vs_conn_param` is valid and unchanged;
/// `ipvs` points to a live `netns_ipvs`; `caddr` and `vaddr` are valid for the address
/// family's length (4 bytes unless `af` is `AF_INET6`; `vaddr` 4 bytes when `protocol` is
/// `IPPROTO_IP`); `pe_data`, when not null, is valid for `pe_data_len` bytes. Every caller of
/// the two operations fills the block this way: `ip_vs_conn_fill_param_persist()` (from
/// `ip_vs_sched_persist()` and `ip_vs_new_conn_out()`), and `ip_vs_ct_in_get()` called from
/// those two and from the sync daemon's `ip_vs_proc_conn()`.
#[repr(transparent)]
pub(crate) struct Lookup(Opaque<bindings::ip_vs_conn_param>);

impl Lookup {
    conn_param_common!();

    /// Virtual address, or the firewall mark of a fwmark service (`protocol` `IPPROTO_IP`).
    pub(crate) fn vaddr(&self) -> InetAddr {
        let af = if self.protocol() == IPPROTO_IP {
            // CAST: AF_UNSPEC is 0, it fits.
            bindings::AF_UNSPEC as u16
        } else {
            self.af()
        };
        // SAFETY: By the type invariant `vaddr` is valid for that length.
        unsafe { InetAddr::read(af, (*self.raw()).vaddr) }
    }

    /// Virtual port, in network byte order (0 for a port-zero or fwmark service).
    pub(crate) fn vport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).vport }
    }

    /// The engine data of this lookup, if an engine set it (always, in `ct_match`).
    pub(crate) fn pe_data(&self) -> Option<&[u8]> {
        // SAFETY: By the type invariant the struct is valid and `pe_data`, when not null, is
        // valid for `pe_data_len` bytes; the length is only read once the pointer is known.
        unsafe {
            let p = self.raw();
            pe_data_slice(addr_of!((*p).pe_data), addr_of!((*p).pe_data_len))
        }
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
/// one `ip_vs_conn_hashkey_conn()` builds from a connection to hash, unhash or rehash it, with
/// `vaddr` NULL and `vport` 0. A key must be computed the same way from both, so this view
/// offers only what both provide: the family, the protocol, the client address and port, and
/// the engine data. In 6.12 `inverse` is always false when `pe_data` is set.
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

    /// Client port, in network byte order (0 for a template).
    // Not every engine needs every accessor; this file is shared by several modules.
    #[allow(dead_code)]
    pub(crate) fn cport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).cport }
    }

    /// A value that tells network namespaces apart, for a key that must not collide across
    /// them: the address of the namespace's IPVS state, which IPVS's own generic key
    /// (`ip_vs_conn_hashkey()`) mixes in the same way. Both kinds of block set `ipvs`.
    pub(crate) fn namespace_salt(&self) -> u32 {
        // SAFETY: By the type invariant the struct is valid to read; only the pointer's value
        // is used.
        let ipvs = unsafe { (*self.raw()).ipvs };
        // CAST: the address's bits above the low 8 (which are alike in aligned allocations);
        // those beyond 32 are dropped on purpose, as in C.
        ((ipvs as usize) >> 8) as u32
    }

    /// The engine data (IPVS calls `hashkey_raw` only when it is set).
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
    unsafe fn from_raw<'a>(ptr: *const bindings::ip_vs_conn) -> &'a Self {
        // SAFETY: `Conn` is a transparent wrapper of the C struct; the caller guarantees
        // validity for `'a`.
        unsafe { &*ptr.cast() }
    }

    fn raw(&self) -> *const bindings::ip_vs_conn {
        self.0.get()
    }

    /// Address family of the client side.
    pub(crate) fn af(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).af }
    }

    /// Client address.
    pub(crate) fn caddr(&self) -> InetAddr {
        // SAFETY: The struct is valid; `ip_vs_conn_new()` wrote the family's length of
        // `caddr` (`ip_vs_addr_set()`), and only that much is read.
        unsafe { InetAddr::read(self.af(), addr_of!((*self.raw()).caddr)) }
    }

    /// Virtual address (or firewall mark, when the protocol is `IPPROTO_IP`).
    pub(crate) fn vaddr(&self) -> InetAddr {
        let af = if self.protocol() == IPPROTO_IP {
            // CAST: AF_UNSPEC is 0, it fits.
            bindings::AF_UNSPEC as u16
        } else {
            self.af()
        };
        // SAFETY: The struct is valid; `ip_vs_conn_new()` wrote that length of `vaddr`.
        unsafe { InetAddr::read(af, addr_of!((*self.raw()).vaddr)) }
    }

    /// Virtual port, in network byte order.
    pub(crate) fn vport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).vport }
    }

    /// Transport protocol.
    pub(crate) fn protocol(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).protocol }
    }

    /// Whether this entry is a persistence template (`IP_VS_CONN_F_TEMPLATE`).
    pub(crate) fn is_template(&self) -> bool {
        // SAFETY: By the type invariant the struct is valid to read. `flags` is `volatile` in
        // C (other CPUs update it), so read it the way C does.
        let flags = unsafe { addr_of!((*self.raw()).flags).read_volatile() };
        flags & bindings::IP_VS_CONN_F_TEMPLATE != 0
    }

    /// The engine data stored in this entry, if any.
    pub(crate) fn pe_data(&self) -> Option<&[u8]> {
        // SAFETY: By the type invariant the struct is valid and `pe_data`, when not null, is
        // valid for `pe_data_len` bytes; the length is only read once the pointer is known.
        unsafe {
            let c = self.raw();
            pe_data_slice(addr_of!((*c).pe_data), addr_of!((*c).pe_data_len))
        }
    }
}

/// What IPVS's `ip_vs_fill_iph_skb()` found in a packet's network header.
pub(crate) struct IpHeader {
    /// Transport protocol (`IPPROTO_*`).
    pub(crate) protocol: u16,
    /// Offset of the transport header from `skb->data`.
    pub(crate) transport_offset: usize,
    /// IPv6 fragment offset: 0 unless this is a later fragment.
    pub(crate) fragoffs: u16,
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
    unsafe fn from_raw<'a>(ptr: *mut bindings::sk_buff) -> &'a mut Self {
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
        Some(IpHeader {
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

/// The arguments of `conn_out`: a packet from a real server that matched no connection.
///
/// # Invariants
///
/// All pointers are the valid arguments `__ip_vs_rs_conn_out()` passed to `conn_out`, for the
/// lifetime `'a`: `svc` and `dest` are held by RCU (the caller is under `rcu_read_lock()`),
/// `skb` is the packet being processed, exclusively ours during the call, and `iph` its parsed
/// header.
pub(crate) struct ConnOut<'a> {
    svc: *mut bindings::ip_vs_service,
    dest: *mut bindings::ip_vs_dest,
    skb: *mut bindings::sk_buff,
    iph: *const bindings::ip_vs_iphdr,
    dport: u16,
    cport: u16,
    _p: PhantomData<&'a ()>,
}

impl ConnOut<'_> {
    /// Transport protocol of the packet; `None` if IPVS could not find one (negative).
    pub(crate) fn protocol(&self) -> Option<u16> {
        // SAFETY: By the type invariant `iph` is valid.
        u16::try_from(unsafe { (*self.iph).protocol }).ok()
    }

    /// Address family of the service.
    pub(crate) fn af(&self) -> u16 {
        // SAFETY: By the type invariant `svc` is valid.
        unsafe { (*self.svc).af }
    }

    /// The packet.
    pub(crate) fn skb(&mut self) -> &mut SkBuff {
        // SAFETY: By the type invariant the skb is valid and ours during the call; the
        // returned borrow of `self` keeps `new_conn` from using it meanwhile.
        unsafe { SkBuff::from_raw(self.skb) }
    }

    /// Whether the service is persistent, read once as C's `READ_ONCE()` would: the field is
    /// written by `ipvsadm -E` on another CPU (`ip_vs_edit_service()`) while packets run.
    /// Only a hint: `ip_vs_new_conn_out()` reads the flags again.
    pub(crate) fn is_persistent(&self) -> bool {
        self.svc_flags() & bindings::IP_VS_SVC_F_PERSISTENT != 0
    }

    /// The service's flags, read once (a volatile read, Rust's `READ_ONCE()`).
    fn svc_flags(&self) -> u32 {
        // SAFETY: By the type invariant `svc` is valid; the field is an aligned `u32`, which
        // another CPU may be writing, so it is read once and whole.
        unsafe { addr_of!((*self.svc).flags).read_volatile() }
    }

    /// The network namespace of the service.
    pub(crate) fn net(&self) -> &Net {
        // SAFETY: By the type invariant `svc` is valid; its `ipvs` and that one's `net` live
        // as long as the service.
        unsafe { Net::from_raw((*(*self.svc).ipvs).net) }
    }

    /// Creates the connection (and, for a persistent service, its template) the way IPVS
    /// does for any engine (`ip_vs_new_conn_out()`, which calls the engine's `fill_param`);
    /// `None` if that fails. For a persistent service, the template is the one that
    /// `fill_param`'s answer for this packet keys, or a new one if that points at another
    /// server.
    pub(crate) fn new_conn(&mut self) -> Option<NewConn> {
        // SAFETY: By the type invariant all arguments are the valid ones IPVS gave us.
        let cp = unsafe {
            bindings::ip_vs_new_conn_out(
                self.svc, self.dest, self.skb, self.iph, self.dport, self.cport,
            )
        };
        // INVARIANT: `ip_vs_new_conn_out()` returns a connection with a reference held for
        // its caller, or null.
        NonNull::new(cp).map(NewConn)
    }

    /// Creates a connection for this packet alone, with no template and without asking the
    /// engine, so that IPVS NATs the packet (`handle_response()`) instead of letting it leave
    /// with the real server's address. It is a one-packet connection (freed once the packet
    /// is sent, never hashed) when the service schedules UDP one packet at a time (`-o`), as
    /// `ip_vs_new_conn_out()` would make it; otherwise it is hashed, and the client's answers
    /// from that address and port return to this server, as without persistence.
    ///
    /// `None` where `ip_vs_new_conn_out()` would refuse too (a firewall-mark service, no
    /// virtual or destination port: there is no virtual address and port to NAT to) or when
    /// the allocation fails. Unlike `ip_vs_new_conn_out()` it does not add to the service's
    /// `Conns` counter (`ip_vs_conn_stats()` is static in `ip_vs_core.c`); the packet is
    /// counted in the outgoing packets and bytes as any other.
    pub(crate) fn new_conn_without_template(&mut self) -> Option<NewConn> {
        let flags = self.svc_flags();
        let protocol = self.protocol()?;
        // SAFETY: By the type invariant `svc` and `dest` are valid. `fwmark`, `port`, `addr`,
        // `af` and `ipvs` are set when the service is created and never change.
        let (fwmark, vport, vaddr, af, ipvs, dest_af) = unsafe {
            (
                (*self.svc).fwmark,
                (*self.svc).port,
                addr_of!((*self.svc).addr),
                (*self.svc).af,
                (*self.svc).ipvs,
                (*self.dest).af,
            )
        };
        if fwmark != 0 || vport == 0 || self.dport == 0 {
            return None;
        }
        let one_packet = flags & bindings::IP_VS_SVC_F_ONEPACKET != 0 && protocol == IPPROTO_UDP;
        // SAFETY: `ip_vs_conn_param` is plain data (pointers may be null); the fields IPVS
        // reads are set below, as `ip_vs_conn_fill_param()` sets them.
        let mut param: bindings::ip_vs_conn_param = unsafe { core::mem::zeroed() };
        param.ipvs = ipvs;
        param.af = af;
        param.protocol = protocol;
        // SAFETY: By the type invariant `iph` is valid for the call; its `daddr` is the
        // client's address (the packet goes to it), `saddr` the real server's.
        let (caddr, daddr) = unsafe { (addr_of!((*self.iph).daddr), addr_of!((*self.iph).saddr)) };
        param.caddr = caddr;
        param.cport = self.cport;
        param.vaddr = vaddr;
        param.vport = vport;
        // No engine and no engine data: a plain connection, which holds no reference to the
        // engine's module.
        param.pe = core::ptr::null_mut();
        param.pe_data = core::ptr::null_mut();
        let conn_flags = if one_packet {
            bindings::IP_VS_CONN_F_ONE_PACKET
        } else {
            0
        };
        // SAFETY: `param` is filled as `ip_vs_conn_fill_param()` fills it, with addresses that
        // outlive the call; `dest` is held by RCU (the caller is under `rcu_read_lock()`), and
        // `ip_vs_conn_new()` takes its own reference to it.
        let cp = unsafe {
            bindings::ip_vs_conn_new(
                &param,
                c_int::from(dest_af),
                daddr,
                self.dport,
                conn_flags,
                self.dest,
                0,
            )
        };
        // INVARIANT: `ip_vs_conn_new()` returns a connection with one reference held for its
        // caller, or null.
        NonNull::new(cp).map(NewConn)
    }
}

/// A connection created by [`ConnOut::new_conn`], with the reference `ip_vs_new_conn_out()`
/// took for its caller; dropping it releases that reference.
///
/// # Invariants
///
/// The pointer is a live connection on which this value holds one reference.
#[must_use = "dropping a new connection releases it; return it from `conn_out`"]
pub(crate) struct NewConn(NonNull<bindings::ip_vs_conn>);

impl NewConn {
    /// Hands the connection and its reference to IPVS.
    fn into_raw(self) -> *mut bindings::ip_vs_conn {
        core::mem::ManuallyDrop::new(self).0.as_ptr()
    }
}

impl Drop for NewConn {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference to a live connection.
        unsafe { bindings::ip_vs_conn_put(self.0.as_ptr()) };
    }
}

/// The operations of a persistence engine (`struct ip_vs_pe`).
#[vtable]
pub(crate) trait Engine: 'static {
    /// Name users give to `ipvsadm --pe` (at most `IP_VS_PENAME_MAXLEN - 1` bytes).
    const NAME: &'static CStr;

    /// Longest text `show_pe_data` writes. The table does not build unless the name plus
    /// this fits the buffer `ip_vs_conn_seq_show()` passes.
    const SHOW_MAXLEN: usize = PEDATA_MAXLEN;

    /// Computes the engine data for a packet scheduled by a persistent service
    /// (`ip_vs_sched_persist()`), or for a real server's packet through `conn_out`
    /// (`ip_vs_new_conn_out()`).
    ///
    /// `Ok(Some(data))` keys the template by `data` (through `ct_match` and `hashkey_raw`);
    /// `Ok(None)` leaves the lookup without engine data: IPVS then compares templates with
    /// its generic rule, which ignores `pe` and `pe_data`, so such a lookup can match a
    /// template that has engine data (an engine that mixes both must tell them apart itself,
    /// for instance with data of its own for the fallback); `Err` makes IPVS drop the packet.
    fn fill_param(param: &Lookup, skb: &mut SkBuff) -> Result<Option<PeData>>;

    /// Whether `ct` is the template for `param` (called only when `param` has engine data).
    fn ct_match(param: &Lookup, ct: &Conn) -> bool;

    /// Hash of a template's key for the connection table; the same for a lookup and for the
    /// template it must find (see [`HashKey`]).
    fn hashkey_raw(key: &HashKey, initval: u32, inverse: bool) -> u32;

    /// Writes `conn`'s engine data as text for `/proc/net/ip_vs_conn` (called only when it
    /// has engine data); returns the length, at most `buf.len()` (`SHOW_MAXLEN`).
    fn show_pe_data(conn: &Conn, buf: &mut [u8]) -> usize;

    /// Creates a connection for a packet a real server sent first; `None` leaves the packet
    /// as it is (`ip_vs_out_hook()` accepts it unchanged, so a NATed server's packet would
    /// leave with the server's own address).
    fn conn_out(_ctx: ConnOut<'_>) -> Option<NewConn> {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// The C entry points of an [`Engine`].
struct Adapter<T: Engine>(PhantomData<T>);

impl<T: Engine> Adapter<T> {
    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_conn_fill_param_persist()` with a parameter block filled by
    /// `ip_vs_conn_fill_param()` (see [`Lookup`]), owned by its caller on the stack, and the
    /// skb being processed.
    unsafe extern "C" fn fill_param(
        p: *mut bindings::ip_vs_conn_param,
        skb: *mut bindings::sk_buff,
    ) -> c_int {
        // `ip_vs_conn_fill_param()` sets `pe_data` but not `pe_data_len`, which the callers
        // then copy into the template (`ip_vs_conn_new()`): set both, whatever the engine
        // answers, so that no template carries an undefined length.
        // SAFETY: `p` is valid and exclusively ours during the call.
        unsafe {
            (*p).pe_data = core::ptr::null_mut();
            (*p).pe_data_len = 0;
        }
        // SAFETY: `ip_vs_conn_fill_param_persist()` set `pe` to the service's engine, which is
        // this table (it is calling our `fill_param`).
        if !unsafe { engine_module_is_live((*p).pe) } {
            // The module is being removed: a template made now would hold a reference taken
            // after `rmmod` found none (`ip_vs_conn_new()` takes it with `__module_get()`).
            // The packet is dropped, and the client's retransmission finds no service or
            // another engine. See `Registration::drop` for the references taken before this.
            return ENOENT.to_errno();
        }
        from_result(|| {
            // SAFETY: See the function's safety section; `Lookup`'s invariant holds.
            let param = unsafe { Lookup::from_raw(p) };
            // SAFETY: IPVS passes the skb it is processing and does not touch it meanwhile.
            let skb = unsafe { SkBuff::from_raw(skb) };
            if let Some(data) = T::fill_param(param, skb)? {
                let (ptr, len) = data.into_raw();
                // SAFETY: `p` is valid and exclusively ours during the call (`param`, a
                // shared view of it, is no longer used). Ownership of the kmalloc'ed buffer
                // passes to IPVS, which frees it with kfree().
                unsafe {
                    (*p).pe_data = ptr.cast();
                    (*p).pe_data_len = len;
                }
            }
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_ct_in_get()`, under `rcu_read_lock()`, with a lookup block
    /// that has engine data (see [`Lookup`]) and an entry of its table (see [`Conn`]).
    unsafe extern "C" fn ct_match(
        p: *const bindings::ip_vs_conn_param,
        ct: *mut bindings::ip_vs_conn,
    ) -> bool {
        // SAFETY: See the function's safety section.
        let (param, ct) = unsafe { (Lookup::from_raw(p), Conn::from_raw(ct)) };
        T::ct_match(param, ct)
    }

    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_conn_hashkey_param()` with a block that satisfies
    /// [`HashKey`]'s invariant.
    unsafe extern "C" fn hashkey_raw(
        p: *const bindings::ip_vs_conn_param,
        initval: u32,
        inverse: bool,
    ) -> u32 {
        // SAFETY: See the function's safety section.
        T::hashkey_raw(unsafe { HashKey::from_raw(p) }, initval, inverse)
    }

    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_conn_seq_show()` with an entry that has engine data and a
    /// pointer into its `char pe_data[IP_VS_PENAME_MAXLEN + IP_VS_PEDATA_MAXLEN + 3]`, after
    /// `" NAME "`: `SHOW_BUF - NAME.len() - 2` bytes remain, one of them for the NUL it adds.
    unsafe extern "C" fn show_pe_data(cp: *const bindings::ip_vs_conn, buf: *mut c_char) -> c_int {
        // SAFETY: IPVS passes a valid connection, see [`Conn`].
        let conn = unsafe { Conn::from_raw(cp) };
        // SAFETY: `PeTable::new` checked at compile time that `SHOW_MAXLEN` bytes fit in what
        // remains of the buffer, which nothing else accesses during the call. The buffer is
        // an uninitialised stack array in C: zero it, so that the slice handed to the engine
        // holds initialised bytes (a `/proc` read, not the packet path).
        let out = unsafe {
            core::ptr::write_bytes(buf.cast::<u8>(), 0, T::SHOW_MAXLEN);
            core::slice::from_raw_parts_mut(buf.cast::<u8>(), T::SHOW_MAXLEN)
        };
        let n = T::show_pe_data(conn, out).min(T::SHOW_MAXLEN);
        // CAST: at most SHOW_BUF (274), checked at compile time, which fits in a `c_int`.
        n as c_int
    }

    /// # Safety
    ///
    /// Called by IPVS's `__ip_vs_rs_conn_out()` with its valid `conn_out` arguments (see
    /// [`ConnOut`]).
    unsafe extern "C" fn conn_out(
        svc: *mut bindings::ip_vs_service,
        dest: *mut bindings::ip_vs_dest,
        skb: *mut bindings::sk_buff,
        iph: *const bindings::ip_vs_iphdr,
        dport: u16,
        cport: u16,
    ) -> *mut bindings::ip_vs_conn {
        // INVARIANT: these are the arguments IPVS passed us, valid during the call.
        let ctx = ConnOut {
            svc,
            dest,
            skb,
            iph,
            dport,
            cport,
            _p: PhantomData,
        };
        match T::conn_out(ctx) {
            Some(cp) => cp.into_raw(),
            None => core::ptr::null_mut(),
        }
    }
}

/// The C operations table of engine `T`, built at compile time; it lives in static storage
/// (see [`module_ipvs_pe!`]), so that services and templates, which keep pointers to it while
/// they hold a reference to the module, can never see it freed.
pub(crate) struct PeTable<T: Engine> {
    pe: Opaque<bindings::ip_vs_pe>,
    registered: AtomicBool,
    _p: PhantomData<T>,
}

// SAFETY: IPVS reads the table from any CPU; it is written only by `Registration::register`
// and `unregister_ip_vs_pe()`, which the `registered` flag serialises, and by IPVS under its
// own `ip_vs_pe_mutex` (`n_list`; IPVS 6.12 never touches `refcnt`).
unsafe impl<T: Engine> Sync for PeTable<T> {}

impl<T: Engine> PeTable<T> {
    /// Builds the table. Fails to compile if the name is empty or too long for IPVS, or if
    /// `" NAME "` and `SHOW_MAXLEN` bytes of text do not fit `ip_vs_conn_seq_show()`'s buffer.
    pub(crate) const fn new() -> Self {
        assert!(!T::NAME.is_empty() && T::NAME.len() < PENAME_MAXLEN);
        assert!(1 + T::NAME.len() + 1 + T::SHOW_MAXLEN < SHOW_BUF);
        Self {
            pe: Opaque::new(bindings::ip_vs_pe {
                // Set to an empty list by `register`, which knows the final address.
                n_list: bindings::list_head {
                    next: core::ptr::null_mut(),
                    prev: core::ptr::null_mut(),
                },
                // IPVS only reads the name.
                name: T::NAME.as_char_ptr().cast_mut(),
                refcnt: bindings::atomic_t { counter: 0 },
                // Set by `register`.
                module: core::ptr::null_mut(),
                fill_param: Some(Adapter::<T>::fill_param),
                ct_match: Some(Adapter::<T>::ct_match),
                hashkey_raw: Some(Adapter::<T>::hashkey_raw),
                show_pe_data: Some(Adapter::<T>::show_pe_data),
                conn_out: if T::HAS_CONN_OUT {
                    Some(Adapter::<T>::conn_out)
                } else {
                    None
                },
            }),
            registered: AtomicBool::new(false),
            _p: PhantomData,
        }
    }
}

/// A registered persistence engine; dropping it unregisters the engine. Made by
/// [`module_ipvs_pe!`].
///
/// # Invariants
///
/// `table` is registered with IPVS for the whole life of the value, and its `registered`
/// flag is set.
pub(crate) struct Registration<T: Engine> {
    table: &'static PeTable<T>,
}

impl<T: Engine> Registration<T> {
    /// Registers `table` for `module`, which IPVS pins (`ip_vs_pe_getbyname()` takes a module
    /// reference) while a service or template uses the engine. Fails with `EBUSY` if the
    /// table is already registered or IPVS already has an engine of that name.
    pub(crate) fn register(
        module: &'static ThisModule,
        table: &'static PeTable<T>,
    ) -> Result<Self> {
        if table.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        let raw = table.pe.get();
        // SAFETY: The `registered` flag makes us the only writer, and IPVS does not know the
        // table (it was never registered, or `drop` unregistered it and waited for readers).
        // An empty list head points to itself (`LIST_HEAD_INIT`).
        unsafe {
            addr_of_mut!((*raw).n_list.next).write(addr_of_mut!((*raw).n_list));
            addr_of_mut!((*raw).n_list.prev).write(addr_of_mut!((*raw).n_list));
            addr_of_mut!((*raw).module).write(module.as_ptr());
        }
        // SAFETY: `raw` is a fully initialised `ip_vs_pe` in static storage.
        let ret = unsafe { bindings::register_ip_vs_pe(raw) };
        if ret != 0 {
            table.registered.store(false, Ordering::Release);
            // `register_ip_vs_pe()` says EINVAL for a taken name and ENOENT when IPVS is
            // going away.
            // CAST: EINVAL is 22, it fits.
            if ret == -(bindings::EINVAL as c_int) {
                pr_err!(
                    "cannot register persistence engine \"{}\": an engine of that name (such as \
                     the kernel's ip_vs_pe_sip) is already registered\n",
                    T::NAME
                );
                // EBUSY says what happened, and unlike EEXIST does not make modprobe report
                // "already loaded" as success.
                return Err(EBUSY);
            }
            pr_err!(
                "cannot register persistence engine \"{}\" (error {})\n",
                T::NAME,
                ret
            );
            return Err(Error::from_errno(ret));
        }
        pr_info!("persistence engine \"{}\" registered\n", T::NAME);
        // INVARIANT: registration succeeded and the flag is set.
        Ok(Self { table })
    }
}

impl<T: Engine> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the table is registered.
        unsafe { bindings::unregister_ip_vs_pe(self.table.pe.get()) };
        // SAFETY: Plain FFI call; waits for readers of IPVS's engine list (RCU) that may
        // still see the table before it may be registered again, and for every packet that
        // was in the engine's operations (IPVS runs them under `rcu_read_lock()`).
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: `register` set the table's module, which is ours, in its exit (or in its
        // init, failing after the engine was registered).
        unsafe { wait_for_late_references((*self.table.pe.get()).module) };
        self.table.registered.store(false, Ordering::Release);
    }
}

/// Whether the module that owns engine `pe` is not being removed (C's `module_is_live()`).
///
/// # Safety
///
/// `pe` must point to a table of this file (a static) whose `module` `register` set; the
/// table may have been unregistered since.
unsafe fn engine_module_is_live(pe: *const bindings::ip_vs_pe) -> bool {
    // SAFETY: As the caller guarantees, `module` points to our own module, which outlives its
    // code; `state` is written by the module loader on another CPU, so it is read once
    // (`READ_ONCE()`).
    let state = unsafe { addr_of!((*(*pe).module).state).read_volatile() };
    state != bindings::module_state_MODULE_STATE_GOING
}

/// Waits, in the module's exit, until no template holds a reference to the module.
///
/// `rmmod` succeeds once no service or template holds one, but IPVS can still take one after:
/// `__ip_vs_del_service()` drops the service's reference while a packet under RCU may be
/// scheduling on it, and `ip_vs_conn_new()` takes the template's reference with
/// `__module_get()`, which does not check that the module is live. `fill_param` refuses to
/// make a template once the module is going (`engine_module_is_live()`); a packet that checked
/// before took its reference before the `synchronize_rcu()` our caller did. So any reference
/// now is a template's, and it is dropped when the template expires (after its persistence
/// timeout, longer while connections it controls live), after which IPVS calls nothing of ours
/// for it. Freeing the module before would leave that template pointing at freed code.
///
/// Returns at once when the module is not going (an init that failed after registering) or
/// when its removal was forced (`rmmod -f`: the loader kept its base reference, so the count
/// never falls to "none", and a forced removal is unsafe by its nature).
///
/// # Safety
///
/// `module` must be this module, in its exit or its failing init.
unsafe fn wait_for_late_references(module: *mut bindings::module) {
    // SAFETY: As the caller guarantees; these fields are written by the loader before it calls
    // our exit, and read once.
    let (state, taints) = unsafe {
        (
            addr_of!((*module).state).read_volatile(),
            addr_of!((*module).taints).read_volatile(),
        )
    };
    if state != bindings::module_state_MODULE_STATE_GOING
        || taints & (1 << bindings::TAINT_FORCED_RMMOD) != 0
    {
        return;
    }
    let mut waited = 0u32;
    loop {
        // SAFETY: As the caller guarantees. `module_refcount()` is -1 for a module that is
        // being removed (not by force) and holds no reference, the number held less one
        // otherwise.
        let refs = unsafe { bindings::module_refcount(module) };
        if refs < 0 {
            return;
        }
        if waited % 600 == 0 {
            pr_info!(
                "waiting for {} template(s) made during the module's removal to expire\n",
                refs.saturating_add(1)
            );
        }
        waited = waited.wrapping_add(1);
        // SAFETY: Plain FFI call, in process context (the module's exit) with no lock held.
        unsafe { bindings::msleep(100) };
    }
}

/// Declares a kernel module that registers persistence engine `$engine` on load and
/// unregisters it on unload; its C operations table is a static built at compile time.
///
/// `data: $data` (optional) names a [`kernel::Module`] type for state the engine uses. It is
/// initialised as the init's last step, once the engine is registered, and dropped after the
/// engine is unregistered. Its init must not wait for anything: the module's init may run
/// under `request_module()` while IPVS holds its service mutex (`ipvsadm --pe sip`), and a
/// failing init drops what it made, in that same context. So the engine must cope with its
/// state not being there yet (the counters, a static, count nothing until they are
/// registered). The other fields are those of [`module!`].
macro_rules! module_ipvs_pe {
    (engine: $engine:ty, data: $data:ty, $($f:tt)*) => {
        /// The module: the engine's registration, then its data.
        struct __IpvsPeModule {
            // Dropped in this order: the engine goes before the state it uses.
            _engine: $crate::pe::Registration<$engine>,
            _data: $data,
        }
        static __IPVS_PE_TABLE: $crate::pe::PeTable<$engine> = $crate::pe::PeTable::new();
        impl ::kernel::Module for __IpvsPeModule {
            fn init(module: &'static ::kernel::ThisModule) -> ::kernel::error::Result<Self> {
                // The engine first: its registration can fail, and nothing after a step that
                // must not be undone here (the data's, see above) may.
                let engine = $crate::pe::Registration::register(module, &__IPVS_PE_TABLE)?;
                let data = <$data as ::kernel::Module>::init(module)?;
                Ok(Self { _engine: engine, _data: data })
            }
        }
        ::kernel::prelude::module! { type: __IpvsPeModule, $($f)* }
    };
    (engine: $engine:ty, $($f:tt)*) => {
        $crate::pe::module_ipvs_pe! { engine: $engine, data: $crate::pe::NoData, $($f)* }
    };
}
pub(crate) use module_ipvs_pe;

/// No module data (the default of [`module_ipvs_pe!`]).
// Used by the engines that have no data of their own (this file is shared by several modules).
#[allow(dead_code)]
pub(crate) struct NoData;

impl kernel::Module for NoData {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
