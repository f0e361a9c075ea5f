// SPDX-License-Identifier: GPL-2.0

//! The destinations (real servers) of a service, as a scheduler sees them: plain values when it
//! builds its state, live views when it schedules.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_dest`).

use super::AF_INET6;
use core::ptr::addr_of;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::bindings;
use kernel::types::Opaque;

/// What a scheduler builds its state from: one destination of the service, read under the
/// service mutex.
#[derive(Clone, Copy)]
pub(crate) struct DestInfo {
    /// Address family (`AF_INET` or `AF_INET6`; may differ from the service's with tunnels).
    pub(crate) af: u16,
    /// Address, in network order: 4 bytes then zeroes for IPv4, 16 for IPv6.
    pub(crate) addr: [u8; 16],
    /// Port, in host order.
    pub(crate) port: u16,
    /// Last weight that was not 0 (`last_weight`), what a table that keeps a server of weight
    /// 0 in place is built from (as IPVS's `mh` does).
    pub(crate) last_weight: i32,
}

/// A destination of a service, in a scheduler's `schedule`.
///
/// # Invariants
///
/// The wrapped `ip_vs_dest` is alive for the lifetime of the reference (see [`Dests`]).
#[repr(transparent)]
pub(crate) struct Dest(Opaque<bindings::ip_vs_dest>);

impl Dest {
    /// # Safety
    ///
    /// `ptr` must point to a live `ip_vs_dest` for the lifetime `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::ip_vs_dest) -> &'a Self {
        // SAFETY: `Dest` is a transparent wrapper of the C struct; the caller guarantees it is
        // alive for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The C struct, for IPVS.
    pub(super) fn as_ptr(&self) -> *mut bindings::ip_vs_dest {
        self.0.get()
    }

    /// Whether the destination may take a new connection: a weight above 0 and not
    /// overloaded (its upper connection threshold reached), as IPVS's own schedulers test.
    pub(crate) fn is_available(&self) -> bool {
        let d = self.as_ptr();
        // SAFETY: By the type invariant `d` is alive. `weight` is an `atomic_t` that the
        // control path sets and `flags` a `volatile` word that the packet path sets (the
        // overload bit), so each is read once, as C's `atomic_read()` and a volatile read.
        let (weight, flags) = unsafe {
            (
                addr_of!((*d).weight.counter).read_volatile(),
                addr_of!((*d).flags).read_volatile(),
            )
        };
        weight > 0 && flags & bindings::IP_VS_DEST_F_OVERLOAD == 0
    }

    /// The destination's identity and weights.
    ///
    /// # Safety
    ///
    /// `d` must be a live destination whose address and port no one changes during the call
    /// (IPVS sets them once, under the service mutex, before it links the destination).
    pub(super) unsafe fn info(d: *const bindings::ip_vs_dest) -> DestInfo {
        // SAFETY: As the caller guarantees; the weight is an atomic, read once.
        unsafe {
            let af = (*d).af;
            // Every member of the union is four 32-bit words in network order.
            let words = (*d).addr.all;
            let mut addr = [0u8; 16];
            let n = if af == AF_INET6 { 4 } else { 1 };
            for (chunk, word) in addr.chunks_exact_mut(4).zip(words.iter()).take(n) {
                chunk.copy_from_slice(&word.to_ne_bytes());
            }
            DestInfo {
                af,
                addr,
                port: u16::from_be((*d).port),
                last_weight: addr_of!((*d).last_weight.counter).read_volatile(),
            }
        }
    }
}

/// The destinations a scheduler's state was built from, in the order of the [`DestInfo`]s
/// it was given: index `i` of one is index `i` of the other.
///
/// # Invariants
///
/// Every non-null pointer is a destination that is alive while a reader holds the slice, and
/// only the abstraction makes or changes the pointers. A state is built from the service's
/// list under the service mutex. A destination leaves the service in one of two ways, and in
/// both the state stops pointing at it before IPVS can free it:
/// - deleted alone: IPVS unlinks it and calls the scheduler's `del_dest`, which replaces the
///   state or nulls the destination here (`__ip_vs_unlink_dest()`);
/// - with its service: IPVS calls `done_service`, which unpublishes the state, before it
///   unlinks the destinations without `del_dest` (`__ip_vs_del_service()`).
///
/// Only then does the destination go to IPVS's trash (`__ip_vs_del_dest()`), and it is freed
/// from there through `call_rcu()` (`ip_vs_dest_free()`, then `ip_vs_dest_put_and_free()`
/// once unreferenced). A reader that can still see the pointer took `rcu_read_lock()` before
/// it was unpublished, hence before that `call_rcu()`, whose grace period waits for it.
#[derive(Clone, Copy)]
pub(crate) struct Dests<'a>(pub(super) &'a [AtomicPtr<bindings::ip_vs_dest>]);

impl<'a> Dests<'a> {
    /// Destination `i`, if the state has one there that is still linked.
    pub(crate) fn get(&self, i: usize) -> Option<&'a Dest> {
        let p = self.0.get(i)?.load(Ordering::Relaxed);
        if p.is_null() {
            return None;
        }
        // SAFETY: By the type invariant a non-null pointer is alive for `'a`.
        Some(unsafe { Dest::from_raw(p) })
    }
}
