// SPDX-License-Identifier: GPL-2.0

//! IPVS persistence engines in safe Rust.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_pe`).
//!
//! An engine implements [`Engine`]; [`Registration`] builds the C operations table from it,
//! registers it with IPVS and unregisters it when dropped. Every `unsafe` block of the engine
//! side lives in this file: the engine itself sees only safe views of the kernel objects that
//! IPVS hands to it ([`ConnParam`], [`SkBuff`], [`Conn`], [`ConnOut`]).
//!
//! IPVS calls the operations from the packet path (softirq, under `rcu_read_lock()`), so they
//! must not sleep: allocations use `GFP_ATOMIC`.

use core::marker::PhantomData;
use core::ptr::{addr_of, addr_of_mut, NonNull};
use kernel::alloc::flags::GFP_KERNEL;
use kernel::bindings;
use kernel::error::to_result;
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::types::Opaque;

/// Longest engine data IPVS stores in a connection (`IP_VS_PEDATA_MAXLEN`).
pub(crate) const PEDATA_MAXLEN: usize = bindings::IP_VS_PEDATA_MAXLEN as usize;

/// `AF_INET6`, as IPVS stores address families (`u16`).
const AF_INET6: u16 = bindings::AF_INET6 as u16;

/// An IPv4 or IPv6 address as IPVS stores it (`union nf_inet_addr`), copied out.
#[derive(Clone, Copy)]
pub(crate) struct InetAddr([u32; 4]);

impl InetAddr {
    /// Reads an address IPVS points to.
    ///
    /// # Safety
    ///
    /// `addr` must be valid for reads of a `union nf_inet_addr`.
    unsafe fn read(addr: *const bindings::nf_inet_addr) -> Self {
        // SAFETY: The caller guarantees `addr` is readable. Every member of the union is plain
        // integers over the same 16 bytes, so reading `all` is valid whatever was written.
        Self(unsafe { (*addr).all })
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
    /// `kmemdup(data, len, GFP_ATOMIC)` does (a Rust `KVec` would take `krealloc`, which
    /// costs more).
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
        let ptr = unsafe {
            bindings::kmemdup_noprof(data.as_ptr().cast(), data.len(), bindings::GFP_ATOMIC)
        };
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

/// The parameters of a connection lookup or template (`struct ip_vs_conn_param`).
///
/// # Invariants
///
/// The wrapped `ip_vs_conn_param` is valid for the lifetime of the reference, and its
/// `caddr`/`vaddr` point to valid addresses.
#[repr(transparent)]
pub(crate) struct ConnParam(Opaque<bindings::ip_vs_conn_param>);

impl ConnParam {
    /// # Safety
    ///
    /// `ptr` must point to a valid `ip_vs_conn_param` whose `caddr` and `vaddr` are valid, for
    /// the lifetime `'a`, and nothing may change it during that lifetime.
    unsafe fn from_raw<'a>(ptr: *const bindings::ip_vs_conn_param) -> &'a Self {
        // SAFETY: `ConnParam` is a transparent wrapper of the C struct; the caller guarantees
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

    /// Client address (already masked by the service's persistence mask).
    pub(crate) fn caddr(&self) -> InetAddr {
        // SAFETY: By the type invariant `caddr` points to a valid address.
        unsafe { InetAddr::read((*self.raw()).caddr) }
    }

    /// Virtual address, or the firewall mark of a fwmark service.
    pub(crate) fn vaddr(&self) -> InetAddr {
        // SAFETY: By the type invariant `vaddr` points to a valid address.
        unsafe { InetAddr::read((*self.raw()).vaddr) }
    }

    /// Virtual port, in network byte order.
    pub(crate) fn vport(&self) -> u16 {
        // SAFETY: By the type invariant the struct is valid to read.
        unsafe { (*self.raw()).vport }
    }

    /// The engine data of this lookup, if an engine set it.
    pub(crate) fn pe_data(&self) -> Option<&[u8]> {
        // SAFETY: By the type invariant the struct is valid to read; IPVS keeps `pe_data`
        // valid for `pe_data_len` bytes for as long as the parameters live.
        unsafe {
            let p = self.raw();
            pe_data_slice((*p).pe_data, (*p).pe_data_len)
        }
    }
}

/// A connection entry or template (`struct ip_vs_conn`), read-only.
///
/// # Invariants
///
/// The wrapped `ip_vs_conn` is valid for the lifetime of the reference (IPVS holds the RCU
/// read lock while it calls the engine).
#[repr(transparent)]
pub(crate) struct Conn(Opaque<bindings::ip_vs_conn>);

impl Conn {
    /// # Safety
    ///
    /// `ptr` must point to a valid `ip_vs_conn` for the lifetime `'a`.
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
        // SAFETY: By the type invariant the struct, and so its `caddr` member, is valid.
        unsafe { InetAddr::read(addr_of!((*self.raw()).caddr)) }
    }

    /// Virtual address (or firewall mark).
    pub(crate) fn vaddr(&self) -> InetAddr {
        // SAFETY: By the type invariant the struct, and so its `vaddr` member, is valid.
        unsafe { InetAddr::read(addr_of!((*self.raw()).vaddr)) }
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
        // SAFETY: By the type invariant the struct is valid; `pe_data` is set when the entry
        // is created and freed only with the entry, after an RCU grace period.
        unsafe {
            let c = self.raw();
            pe_data_slice((*c).pe_data, (*c).pe_data_len)
        }
    }
}

/// # Safety
///
/// If `ptr` is not null it must be valid for reads of `len` bytes for the lifetime `'a`.
unsafe fn pe_data_slice<'a>(ptr: *const c_char, len: u8) -> Option<&'a [u8]> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: `ptr` is not null and, by the caller's guarantee, valid for `len` bytes.
    Some(unsafe { core::slice::from_raw_parts(ptr.cast::<u8>(), usize::from(len)) })
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
/// the reference; the engine may modify its layout (linearize it) but not free it.
#[repr(transparent)]
pub(crate) struct SkBuff(Opaque<bindings::sk_buff>);

impl SkBuff {
    /// # Safety
    ///
    /// `ptr` must point to a valid `sk_buff` that nothing else accesses for the lifetime `'a`.
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
        if ok == 0 || iph.protocol < 0 {
            return None;
        }
        Some(IpHeader {
            protocol: iph.protocol.unsigned_abs(),
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
/// All pointers are the valid arguments IPVS passed to `conn_out`, for the lifetime `'a`.
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
    /// Transport protocol of the packet.
    pub(crate) fn protocol(&self) -> u16 {
        // SAFETY: By the type invariant `iph` is valid.
        unsafe { (*self.iph).protocol }.unsigned_abs()
    }

    /// Creates the connection (and its template) the way IPVS does for any engine
    /// (`ip_vs_new_conn_out()`); `None` if that fails.
    pub(crate) fn new_conn(self) -> Option<NewConn> {
        // SAFETY: By the type invariant all arguments are the valid ones IPVS gave us.
        let cp = unsafe {
            bindings::ip_vs_new_conn_out(
                self.svc, self.dest, self.skb, self.iph, self.dport, self.cport,
            )
        };
        NonNull::new(cp).map(NewConn)
    }
}

/// A connection created by [`ConnOut::new_conn`], handed back to IPVS.
pub(crate) struct NewConn(NonNull<bindings::ip_vs_conn>);

/// The operations of a persistence engine (`struct ip_vs_pe`).
#[vtable]
pub(crate) trait Engine {
    /// Name users give to `ipvsadm --pe`.
    const NAME: &'static CStr;

    /// Computes the engine data for a packet scheduled by a persistent service.
    ///
    /// `Ok(Some(data))` makes the template keyed by `data`; `Ok(None)` falls back to normal
    /// persistence (client address); `Err` makes IPVS drop the packet.
    fn fill_param(param: &ConnParam, skb: &mut SkBuff) -> Result<Option<PeData>>;

    /// Whether `ct` is the template for `param` (called only when `param` has engine data).
    fn ct_match(param: &ConnParam, ct: &Conn) -> bool;

    /// Hash of `param`'s engine data for the connection table.
    fn hashkey_raw(param: &ConnParam, initval: u32, inverse: bool) -> u32;

    /// Writes `conn`'s engine data as text for `/proc/net/ip_vs_conn`; returns the length.
    fn show_pe_data(conn: &Conn, buf: &mut [u8]) -> usize;

    /// Creates a connection for a packet a real server sent first; `None` to leave it.
    fn conn_out(_ctx: ConnOut<'_>) -> Option<NewConn> {
        kernel::build_error(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// The C entry points of an [`Engine`].
struct Adapter<T: Engine>(PhantomData<T>);

impl<T: Engine> Adapter<T> {
    /// # Safety
    ///
    /// Called by IPVS with a valid parameter block and a valid skb it owns.
    unsafe extern "C" fn fill_param(
        p: *mut bindings::ip_vs_conn_param,
        skb: *mut bindings::sk_buff,
    ) -> c_int {
        // SAFETY: IPVS passes a valid, fully filled parameter block and does not touch it
        // while the engine runs.
        let param = unsafe { ConnParam::from_raw(p) };
        // SAFETY: IPVS passes the skb it is processing and does not touch it meanwhile.
        let skb = unsafe { SkBuff::from_raw(skb) };
        match T::fill_param(param, skb) {
            Ok(Some(data)) => {
                let (ptr, len) = data.into_raw();
                // SAFETY: `p` is valid and exclusively ours during the call (`param`, a
                // shared view of it, is no longer used). Ownership of the kmalloc'ed
                // buffer passes to IPVS, which frees it with kfree().
                unsafe {
                    (*p).pe_data = ptr.cast();
                    (*p).pe_data_len = len;
                }
                0
            }
            Ok(None) => 0,
            Err(e) => e.to_errno(),
        }
    }

    /// # Safety
    ///
    /// Called by IPVS with a valid parameter block and a valid connection entry.
    unsafe extern "C" fn ct_match(
        p: *const bindings::ip_vs_conn_param,
        ct: *mut bindings::ip_vs_conn,
    ) -> bool {
        // SAFETY: IPVS passes valid pointers, kept alive by RCU during the call.
        let (param, ct) = unsafe { (ConnParam::from_raw(p), Conn::from_raw(ct)) };
        T::ct_match(param, ct)
    }

    /// # Safety
    ///
    /// Called by IPVS with a valid parameter block.
    unsafe extern "C" fn hashkey_raw(
        p: *const bindings::ip_vs_conn_param,
        initval: u32,
        inverse: bool,
    ) -> u32 {
        // SAFETY: IPVS passes a valid parameter block.
        T::hashkey_raw(unsafe { ConnParam::from_raw(p) }, initval, inverse)
    }

    /// # Safety
    ///
    /// Called by IPVS with a valid connection and a buffer with room for at least
    /// `IP_VS_PEDATA_MAXLEN` bytes (`ip_vs_conn_seq_show()` sizes it for the engine name plus
    /// the longest engine data).
    unsafe extern "C" fn show_pe_data(cp: *const bindings::ip_vs_conn, buf: *mut c_char) -> c_int {
        // SAFETY: IPVS passes a valid connection.
        let conn = unsafe { Conn::from_raw(cp) };
        // SAFETY: By the caller's contract `buf` has PEDATA_MAXLEN writable bytes that
        // nothing else accesses during the call.
        let out = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), PEDATA_MAXLEN) };
        // PEDATA_MAXLEN (255) always fits in a `c_int`.
        T::show_pe_data(conn, out).min(PEDATA_MAXLEN) as c_int
    }

    /// # Safety
    ///
    /// Called by IPVS with its valid `conn_out` arguments.
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
            Some(NewConn(cp)) => cp.as_ptr(),
            None => core::ptr::null_mut(),
        }
    }
}

/// A registered persistence engine; dropping it unregisters the engine.
///
/// # Invariants
///
/// `pe` is registered with IPVS for the whole life of the value.
pub(crate) struct Registration<T: Engine> {
    pe: Pin<KBox<Opaque<bindings::ip_vs_pe>>>,
    _p: PhantomData<T>,
}

// SAFETY: The registration only holds the engine's operations table, which IPVS reads from
// any CPU; `Registration` itself offers no access to it, so it may move between threads.
unsafe impl<T: Engine> Send for Registration<T> {}
// SAFETY: `Registration` has no methods taking `&self`, so sharing references is harmless.
unsafe impl<T: Engine> Sync for Registration<T> {}

impl<T: Engine> Registration<T> {
    /// Registers engine `T` for `module`, which IPVS pins while a service uses the engine.
    ///
    /// Fails (with a log line) if IPVS already has an engine of the same name.
    pub(crate) fn new(module: &'static ThisModule) -> Result<Self> {
        let pe = KBox::pin(
            Opaque::new(bindings::ip_vs_pe {
                n_list: bindings::list_head {
                    next: core::ptr::null_mut(),
                    prev: core::ptr::null_mut(),
                },
                // IPVS only reads the name.
                name: T::NAME.as_char_ptr().cast_mut(),
                refcnt: bindings::atomic_t { counter: 0 },
                module: module.as_ptr(),
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
            GFP_KERNEL,
        )?;
        let raw = pe.get();
        // SAFETY: `raw` points to the pinned table we own; nothing else knows it yet. An empty
        // list head points to itself (`LIST_HEAD_INIT`).
        unsafe {
            addr_of_mut!((*raw).n_list.next).write(addr_of_mut!((*raw).n_list));
            addr_of_mut!((*raw).n_list.prev).write(addr_of_mut!((*raw).n_list));
        }
        // SAFETY: `raw` is a fully initialised `ip_vs_pe` at a pinned address that stays valid
        // until `drop` unregisters it.
        let ret = unsafe { bindings::register_ip_vs_pe(raw) };
        if ret != 0 {
            pr_err!(
                "cannot register persistence engine \"{}\" ({}): another engine of that name \
                 (such as the kernel's ip_vs_pe_sip) is already loaded\n",
                T::NAME,
                ret
            );
            // IPVS says EINVAL for a taken name; EBUSY says what happened, and unlike EEXIST
            // does not make modprobe report "already loaded" as success.
            return Err(if ret == -(bindings::EINVAL as c_int) {
                EBUSY
            } else {
                Error::from_errno(ret)
            });
        }
        // INVARIANT: registration succeeded.
        Ok(Self {
            pe,
            _p: PhantomData,
        })
    }
}

impl<T: Engine> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the table is registered. IPVS holds a reference to the
        // module while any service uses the engine, so none does now.
        unsafe { bindings::unregister_ip_vs_pe(self.pe.get()) };
        // SAFETY: Plain FFI call; waits for packet-path readers that may still see the engine
        // through RCU before the table is freed with `self.pe`.
        unsafe { bindings::synchronize_rcu() };
    }
}
