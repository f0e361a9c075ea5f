// SPDX-License-Identifier: GPL-2.0

//! `conn_out`: a packet from a real server that matched no connection, and the connections
//! an engine makes for it.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`ip_vs_new_conn_out()`,
//! `ip_vs_conn_new()`, `ip_vs_conn_put()`).

use super::{Net, SkBuff, IPPROTO_UDP};
use core::marker::PhantomData;
use core::ptr::{addr_of, NonNull};
use kernel::bindings;
use kernel::ffi::c_int;

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
    /// # Safety
    ///
    /// The arguments must be those `__ip_vs_rs_conn_out()` passed to `conn_out`, and the
    /// value must not outlive the call (see the type invariant).
    pub(super) unsafe fn from_raw(
        svc: *mut bindings::ip_vs_service,
        dest: *mut bindings::ip_vs_dest,
        skb: *mut bindings::sk_buff,
        iph: *const bindings::ip_vs_iphdr,
        dport: u16,
        cport: u16,
    ) -> Self {
        // INVARIANT: the caller guarantees these are the arguments IPVS passed to `conn_out`.
        Self {
            svc,
            dest,
            skb,
            iph,
            dport,
            cport,
            _p: PhantomData,
        }
    }

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

    /// Whether IPVS can make a connection for this packet at all: not on a firewall-mark
    /// service, nor without a virtual or a destination port (there is no virtual address and
    /// port to NAT to). `ip_vs_new_conn_out()` refuses the same packets.
    pub(crate) fn has_virtual_port(&self) -> bool {
        // SAFETY: By the type invariant `svc` is valid; `fwmark` and `port` are set when the
        // service is created and never change.
        let (fwmark, vport) = unsafe { ((*self.svc).fwmark, (*self.svc).port) };
        fwmark == 0 && vport != 0 && self.dport != 0
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
    /// virtual or destination port: there is no virtual address and port to NAT to), when the
    /// allocation fails, or (Linux 7.x) when the namespace holds its most connections
    /// (`conn_max`); the packet then leaves as it is. Unlike `ip_vs_new_conn_out()` it does not
    /// add to the service's `Conns` counter (`ip_vs_conn_stats()` is static in `ip_vs_core.c`);
    /// the packet is counted in the outgoing packets and bytes as any other.
    pub(crate) fn new_conn_without_template(&mut self) -> Option<NewConn> {
        let flags = self.svc_flags();
        let protocol = self.protocol()?;
        if !self.has_virtual_port() {
            return None;
        }
        // SAFETY: By the type invariant `svc` and `dest` are valid. `port`, `addr`, `af` and
        // `ipvs` are set when the service is created and never change.
        let (vport, vaddr, af, ipvs, dest_af) = unsafe {
            (
                (*self.svc).port,
                addr_of!((*self.svc).addr),
                (*self.svc).af,
                (*self.svc).ipvs,
                (*self.dest).af,
            )
        };
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
    pub(super) fn into_raw(self) -> *mut bindings::ip_vs_conn {
        core::mem::ManuallyDrop::new(self).0.as_ptr()
    }
}

impl Drop for NewConn {
    fn drop(&mut self) {
        // SAFETY: By the type invariant we hold a reference to a live connection.
        unsafe { bindings::ip_vs_conn_put(self.0.as_ptr()) };
    }
}
