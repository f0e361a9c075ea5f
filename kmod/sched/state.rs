// SPDX-License-Identifier: GPL-2.0

//! A service's scheduler state: built under the service mutex, published in the service's
//! `sched_data` under RCU, freed after a grace period.
//!
//! C headers: [`include/linux/rcupdate.h`](srctree/include/linux/rcupdate.h) (`call_rcu()`),
//! [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_service`).
//!
//! IPVS calls a scheduler's `init_service`, `add_dest`, `upd_dest`, `del_dest` and
//! `done_service` in process context with the service mutex held (`__ip_vs_mutex` on 6.12,
//! the namespace's `service_mutex` on 7.x): they may allocate with `GFP_KERNEL`, and they are
//! never concurrent for one service. `schedule` runs in the packet path under
//! `rcu_read_lock()`, concurrently with them. So a state is never changed once published: a
//! change builds a new one and swaps the pointer. The old one is freed with `call_rcu()`
//! rather than after `synchronize_rcu()`, so that no operation waits for a grace period with
//! the service mutex held (namespace teardown deletes every service in a row).

use super::dest::Dest;
use super::Scheduler;
use core::ptr::{addr_of_mut, null_mut};
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::alloc::{flags, KBox, KVec};
use kernel::bindings;
use kernel::ffi::c_void;
use kernel::prelude::*;

/// What a service's `sched_data` points to.
///
/// # Invariants
///
/// `dests` satisfies the invariants of [`super::Dests`]; `rcu` is first, so a pointer to it is
/// a pointer to the node.
#[repr(C)]
pub(super) struct Node<T: Scheduler> {
    rcu: bindings::callback_head,
    pub(super) dests: KVec<AtomicPtr<bindings::ip_vs_dest>>,
    pub(super) state: T::State,
}

/// The service's `sched_data`, as the atomic pointer that the packet path reads.
///
/// # Safety
///
/// `svc` must be a live service.
unsafe fn sched_data<'a>(svc: *mut bindings::ip_vs_service) -> &'a AtomicPtr<c_void> {
    // SAFETY: As the caller guarantees, the field is alive, and it is aligned for a pointer.
    // IPVS core never touches it; while the service is bound to this scheduler only its
    // operations do, all through this atomic. The scheduler bound before may have written it
    // with plain stores (`rr` does), but IPVS unbinds one scheduler and binds the next with
    // the service mutex held and a grace period between (`ip_vs_edit_service()`), so no
    // access of ours overlaps one of theirs.
    unsafe { AtomicPtr::from_ptr(addr_of_mut!((*svc).sched_data).cast()) }
}

/// The state the packet path sees now, if any (`rcu_dereference()`).
///
/// # Safety
///
/// `svc` must be a live service bound to scheduler `T`, and the caller must hold
/// `rcu_read_lock()` (or the service mutex) for as long as it uses the result.
pub(super) unsafe fn current<'a, T: Scheduler>(
    svc: *mut bindings::ip_vs_service,
) -> Option<&'a Node<T>> {
    // SAFETY: As the caller guarantees.
    let p = unsafe { sched_data(svc) }.load(Ordering::Acquire);
    // SAFETY: The value is ours, not the previous scheduler's: `install` stored it before IPVS
    // published the binding (`rcu_assign_pointer(svc->scheduler)`), and a packet reads
    // `svc->scheduler` and then, after `smp_rmb()`, calls our `schedule` (`ip_vs_schedule()`,
    // `ip_vs_sched_persist()`). A non-null value was stored by `install` or `publish` from a
    // whole `Node<T>`, and is freed only after a grace period that the caller's read section
    // holds off (`publish` unpublishes before it retires).
    unsafe { p.cast::<Node<T>>().as_ref() }
}

/// Builds a state from the service's destinations (the list IPVS just changed).
///
/// # Safety
///
/// `svc` must be a live service and the caller must hold the service mutex.
pub(super) unsafe fn build<T: Scheduler>(
    svc: *mut bindings::ip_vs_service,
) -> Result<KBox<Node<T>>> {
    // SAFETY: As the caller guarantees; the mutex keeps `num_dests` and the list still.
    let n = unsafe { (*svc).num_dests };
    // CAST: u32 to usize is lossless on 64-bit kernels.
    let n = n as usize;
    let mut infos = KVec::with_capacity(n, flags::GFP_KERNEL)?;
    let mut dests = KVec::with_capacity(n, flags::GFP_KERNEL)?;
    // SAFETY: As the caller guarantees.
    let head = unsafe { addr_of_mut!((*svc).destinations) };
    // SAFETY: The list head is valid; under the mutex its links are stable.
    let mut link = unsafe { (*head).next };
    let offset = core::mem::offset_of!(bindings::ip_vs_dest, n_list);
    while link != head {
        // `container_of()`: the list links destinations through their `n_list`.
        let d = link
            .wrapping_byte_sub(offset)
            .cast::<bindings::ip_vs_dest>();
        // SAFETY: `d` is a destination linked on the service, alive and with a fixed address
        // and port while the mutex is held.
        infos.push(unsafe { Dest::info(d) }, flags::GFP_KERNEL)?;
        dests.push(AtomicPtr::new(d), flags::GFP_KERNEL)?;
        // SAFETY: `link` is an element of the list, stable under the mutex.
        link = unsafe { (*link).next };
    }
    let state = T::build(&infos)?;
    let node = KBox::new(
        Node {
            // SAFETY: An all-zero `callback_head` is what `call_rcu()` expects to fill in.
            rcu: unsafe { core::mem::zeroed() },
            dests,
            state,
        },
        flags::GFP_KERNEL,
    )?;
    Ok(node)
}

/// Makes `node` the state of a service being bound to scheduler `T` (`init_service`).
///
/// Whatever `sched_data` holds is not ours and is left alone: IPVS does not clear it when it
/// unbinds a scheduler, and the one before may have stored anything there (`rr` stores a
/// pointer into the service itself). No packet reads it meanwhile: IPVS binds a scheduler
/// before it publishes it in `svc->scheduler`, and clears that and waits for a grace period
/// when it unbinds one (`ip_vs_edit_service()`).
///
/// # Safety
///
/// `svc` must be a live service being bound to `T`, and the caller must hold the service
/// mutex.
pub(super) unsafe fn install<T: Scheduler>(svc: *mut bindings::ip_vs_service, node: KBox<Node<T>>) {
    // SAFETY: As the caller guarantees. Release: a reader that sees the pointer sees the
    // node's contents (`rcu_assign_pointer()`).
    unsafe { sched_data(svc) }.store(KBox::into_raw(node).cast(), Ordering::Release);
}

/// Makes `node` (or nothing) the service's state and frees the one before after a grace
/// period.
///
/// # Safety
///
/// `svc` must be a live service bound to scheduler `T` (or being unbound from it), whose
/// `sched_data` is therefore ours, and the caller must hold the service mutex.
pub(super) unsafe fn publish<T: Scheduler>(
    svc: *mut bindings::ip_vs_service,
    node: Option<KBox<Node<T>>>,
) {
    let new = node.map_or(null_mut(), KBox::into_raw);
    // SAFETY: As the caller guarantees. Release: a reader that sees the pointer sees the
    // node's contents (`rcu_assign_pointer()`).
    let old = unsafe { sched_data(svc) }.swap(new.cast(), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: `old` was published from a `Node<T>` and is no longer reachable for new
        // readers; its `rcu` head is not queued (each node is retired once, here).
        unsafe { bindings::call_rcu(addr_of_mut!((*old.cast::<Node<T>>()).rcu), Some(free::<T>)) };
    }
}

/// Drops destination `dest` from the service's current state, in place: what `del_dest` does
/// when it cannot build a new state. The table keeps its slots, and `schedule` skips the
/// missing destination.
///
/// # Safety
///
/// As for [`publish`].
pub(super) unsafe fn forget<T: Scheduler>(
    svc: *mut bindings::ip_vs_service,
    dest: *mut bindings::ip_vs_dest,
) {
    // SAFETY: As the caller guarantees (the mutex serialises the writers).
    if let Some(node) = unsafe { current::<T>(svc) } {
        for p in node.dests.iter() {
            // A reader sees the destination or null; the one that saw it started before
            // `del_dest`, hence before the destination's own `call_rcu()`.
            let _ = p.compare_exchange(dest, null_mut(), Ordering::Relaxed, Ordering::Relaxed);
        }
    }
}

/// Frees a node a grace period after it was unpublished.
///
/// # Safety
///
/// Called by RCU with the `rcu` head of a node that [`publish`] retired.
unsafe extern "C" fn free<T: Scheduler>(head: *mut bindings::callback_head) {
    // SAFETY: `rcu` is the first field of the `repr(C)` node, which `publish` took from a
    // `KBox`; no reader is left after the grace period.
    drop(unsafe { KBox::from_raw(head.cast::<Node<T>>()) });
}
