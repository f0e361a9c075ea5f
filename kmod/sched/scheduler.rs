// SPDX-License-Identifier: GPL-2.0

//! The operations of a scheduler ([`Scheduler`]) and the C table built from them
//! ([`SchedTable`]).
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_scheduler`).
//!
//! IPVS calls `schedule` for a connection it has no entry for (with persistence, no template
//! either): in the packet path, softirq or process context, under `rcu_read_lock()`. It must
//! not sleep. The state's other operations run under the service mutex (see `state.rs`).

use super::dest::{DestInfo, Dests};
use super::packet::Packet;
use super::state::{self, Node};
use crate::compat::{cstr_len, cstr_ptr};
use core::marker::PhantomData;
use core::ptr::null_mut;
use core::sync::atomic::AtomicBool;
use kernel::bindings;
use kernel::error::from_result;
use kernel::ffi::c_int;
use kernel::prelude::*;
use kernel::types::Opaque;

/// Size of the buffer that holds a scheduler name in IPVS (`IP_VS_SCHEDNAME_MAXLEN`).
// CAST: 16, it fits.
const SCHEDNAME_MAXLEN: usize = bindings::IP_VS_SCHEDNAME_MAXLEN as usize;

/// A scheduler whose choice is a function of its service's destinations and the packet.
pub(crate) trait Scheduler: 'static {
    /// Name users give to `ipvsadm -s` (at most `IP_VS_SCHEDNAME_MAXLEN - 1` bytes). IPVS
    /// loads the module `ip_vs_NAME` for an unknown name.
    const NAME: &'static CStr;

    /// What the scheduler computes from a service's destinations. Dropped in an RCU callback
    /// (softirq): its `Drop` must not sleep.
    type State: Send + Sync;

    /// Runs in the module's init, before the scheduler is registered: where module parameters
    /// are read. It must not wait for anything: the init may run under `request_module()`
    /// while IPVS holds the service mutex (`ipvsadm -s NAME`).
    fn init() -> Result {
        Ok(())
    }

    /// Builds the state of a service from its destinations, in the service's order; index
    /// `i` of `dests` is index `i` of the [`Dests`] that `schedule` gets. Called when the
    /// service is bound and after every change to its destinations (a failure keeps the state
    /// before, less a deleted destination). May sleep.
    fn build(dests: &[DestInfo]) -> Result<Self::State>;

    /// Chooses the destination of a new connection, or none (IPVS then reports "no
    /// destination available" and drops the packet).
    fn schedule<'a>(
        state: &Self::State,
        dests: Dests<'a>,
        packet: &Packet<'_>,
    ) -> Option<&'a super::Dest>;
}

/// The C operations table of scheduler `T`, built at compile time in static storage.
///
/// # Invariants
///
/// `sched` is a valid `ip_vs_scheduler` whose operations are [`Adapter`]'s for `T` and whose
/// name is `T::NAME`. IPVS knows the table only while `registered` is set, and only after
/// [`super::Registration::register`] set its list head and module.
pub(crate) struct SchedTable<T: Scheduler> {
    pub(super) sched: Opaque<bindings::ip_vs_scheduler>,
    pub(super) registered: AtomicBool,
    _p: PhantomData<T>,
}

// SAFETY: IPVS reads the table from any CPU; it is written only by `Registration::register`
// and `unregister_ip_vs_scheduler()`, which the `registered` flag serialises, and by IPVS
// under its own `ip_vs_sched_mutex` (`n_list`).
unsafe impl<T: Scheduler> Sync for SchedTable<T> {}

impl<T: Scheduler> SchedTable<T> {
    /// Builds the table. Fails to compile if the name is empty or too long for IPVS.
    pub(crate) const fn new() -> Self {
        let name_len = cstr_len(T::NAME);
        assert!(name_len > 0 && name_len < SCHEDNAME_MAXLEN);
        Self {
            sched: Opaque::new(bindings::ip_vs_scheduler {
                // Set to an empty list by `register`, which knows the final address.
                n_list: bindings::list_head {
                    next: null_mut(),
                    prev: null_mut(),
                },
                // IPVS only reads the name.
                name: cstr_ptr(T::NAME).cast_mut(),
                refcnt: bindings::atomic_t { counter: 0 },
                // Set by `register`.
                module: null_mut(),
                init_service: Some(Adapter::<T>::init_service_callback),
                done_service: Some(Adapter::<T>::done_service_callback),
                add_dest: Some(Adapter::<T>::add_dest_callback),
                del_dest: Some(Adapter::<T>::del_dest_callback),
                upd_dest: Some(Adapter::<T>::upd_dest_callback),
                schedule: Some(Adapter::<T>::schedule_callback),
            }),
            registered: AtomicBool::new(false),
            _p: PhantomData,
        }
    }
}

/// The C operations of scheduler `T`.
struct Adapter<T: Scheduler>(PhantomData<T>);

impl<T: Scheduler> Adapter<T> {
    /// A new state for `svc` after its destinations changed; on failure the state before
    /// stays, less `gone` (a destination being deleted, which it must not keep).
    ///
    /// # Safety
    ///
    /// `svc` must be a live service bound to `T`, with the service mutex held.
    unsafe fn rebuild(svc: *mut bindings::ip_vs_service, gone: Option<*mut bindings::ip_vs_dest>) {
        // SAFETY: As the caller guarantees.
        match unsafe { state::build::<T>(svc) } {
            // SAFETY: As the caller guarantees.
            Ok(node) => unsafe { state::publish::<T>(svc, Some(node)) },
            Err(e) => {
                // The scheduler says why where it can (`build`); no memory it cannot.
                if e == ENOMEM {
                    pr_warn!(
                        "{}: no memory to rebuild a service's state; the previous one stays\n",
                        T::NAME
                    );
                }
                if let Some(dest) = gone {
                    // SAFETY: As the caller guarantees.
                    unsafe { state::forget::<T>(svc, dest) };
                }
            }
        }
    }

    /// # Safety
    ///
    /// Called by IPVS (`ip_vs_bind_scheduler()`) with a live service and the service mutex
    /// held.
    unsafe extern "C" fn init_service_callback(svc: *mut bindings::ip_vs_service) -> c_int {
        from_result(|| {
            // SAFETY: As IPVS guarantees.
            let node = unsafe { state::build::<T>(svc) }?;
            // SAFETY: As IPVS guarantees; the service is being bound to `T`.
            unsafe { state::install::<T>(svc, node) };
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by IPVS (`ip_vs_unbind_scheduler()`) with a live service and the service mutex
    /// held. Packets may still schedule on the service until the caller's grace period: they
    /// find no state and get no destination.
    unsafe extern "C" fn done_service_callback(svc: *mut bindings::ip_vs_service) {
        // SAFETY: As IPVS guarantees.
        unsafe { state::publish::<T>(svc, None) };
    }

    /// # Safety
    ///
    /// Called by IPVS (`__ip_vs_update_dest()`) once `dest` is linked on the live service `svc`,
    /// with the service mutex held.
    unsafe extern "C" fn add_dest_callback(
        svc: *mut bindings::ip_vs_service,
        _dest: *mut bindings::ip_vs_dest,
    ) -> c_int {
        // SAFETY: As IPVS guarantees.
        unsafe { Self::rebuild(svc, None) };
        // IPVS ignores the result.
        0
    }

    /// # Safety
    ///
    /// Called by IPVS (`__ip_vs_update_dest()`) after it changed `dest`'s settings, with the
    /// service mutex held.
    unsafe extern "C" fn upd_dest_callback(
        svc: *mut bindings::ip_vs_service,
        _dest: *mut bindings::ip_vs_dest,
    ) -> c_int {
        // SAFETY: As IPVS guarantees.
        unsafe { Self::rebuild(svc, None) };
        0
    }

    /// # Safety
    ///
    /// Called by IPVS (`__ip_vs_unlink_dest()`) once `dest` is unlinked from the live service
    /// `svc`, before it may free it, with the service mutex held.
    unsafe extern "C" fn del_dest_callback(
        svc: *mut bindings::ip_vs_service,
        dest: *mut bindings::ip_vs_dest,
    ) -> c_int {
        // SAFETY: As IPVS guarantees.
        unsafe { Self::rebuild(svc, Some(dest)) };
        0
    }

    /// # Safety
    ///
    /// Called by IPVS (`ip_vs_schedule()`, `ip_vs_sched_persist()`) under `rcu_read_lock()`
    /// with a live service that was bound to `T` when IPVS read `svc->scheduler` (it may have
    /// been unbound since: `done_service` left no state, and no destination is chosen), the
    /// packet it owns, and what it found in the packet's network header.
    unsafe extern "C" fn schedule_callback(
        svc: *mut bindings::ip_vs_service,
        skb: *const bindings::sk_buff,
        iph: *mut bindings::ip_vs_iphdr,
    ) -> *mut bindings::ip_vs_dest {
        // SAFETY: As IPVS guarantees (see `state::current`); the read section lasts the whole
        // call.
        let Some(node): Option<&Node<T>> = (unsafe { state::current::<T>(svc) }) else {
            return null_mut();
        };
        // SAFETY: As IPVS guarantees.
        let af = unsafe { (*svc).af };
        // SAFETY: As IPVS guarantees: it owns the packet and the header for the call.
        let packet = unsafe { Packet::from_raw(skb, iph, af) };
        // INVARIANT: the node's destinations satisfy `Dests`' invariants (see `state::Node`),
        // for as long as the caller's read section, which outlasts the call.
        let dests = Dests(node.dests.as_slice());
        T::schedule(&node.state, dests, &packet).map_or(null_mut(), |d| d.as_ptr())
    }
}
