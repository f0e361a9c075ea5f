// SPDX-License-Identifier: GPL-2.0

//! The registration of a scheduler with IPVS, its removal, and [`module_ipvs_scheduler!`],
//! the module that does both.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h)
//! (`register_ip_vs_scheduler()`, `unregister_ip_vs_scheduler()`).

use super::{SchedTable, Scheduler};
use core::ptr::addr_of_mut;
use core::sync::atomic::Ordering;
use kernel::bindings;
use kernel::prelude::*;

/// A registered scheduler; dropping it unregisters the scheduler. Made by
/// [`module_ipvs_scheduler!`].
///
/// # Invariants
///
/// `table` is registered with IPVS for the whole life of the value, and its `registered`
/// flag is set.
pub(crate) struct Registration<T: Scheduler> {
    table: &'static SchedTable<T>,
}

impl<T: Scheduler> Registration<T> {
    /// Registers `table` for `module`, which IPVS pins (`ip_vs_scheduler_get()` takes a module
    /// reference) while a service uses the scheduler. Fails with `EBUSY` if the table is
    /// already registered or IPVS already has a scheduler of that name.
    pub(crate) fn register(
        module: &'static ThisModule,
        table: &'static SchedTable<T>,
    ) -> Result<Self> {
        if table.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        let raw = table.sched.get();
        // SAFETY: The `registered` flag makes us the only writer, and IPVS does not know the
        // table (it was never registered, or `drop` unregistered it). An empty list head
        // points to itself (`LIST_HEAD_INIT`).
        unsafe {
            addr_of_mut!((*raw).n_list.next).write(addr_of_mut!((*raw).n_list));
            addr_of_mut!((*raw).n_list.prev).write(addr_of_mut!((*raw).n_list));
            addr_of_mut!((*raw).module).write(module.as_ptr());
        }
        // SAFETY: `raw` is a fully initialised `ip_vs_scheduler` in static storage.
        let ret = unsafe { bindings::register_ip_vs_scheduler(raw) };
        if ret != 0 {
            table.registered.store(false, Ordering::Release);
            // EINVAL: a scheduler of that name exists (IPVS logs it); ENOENT: IPVS is going.
            pr_err!(
                "cannot register scheduler \"{}\" (error {})\n",
                T::NAME,
                ret
            );
            return Err(if ret == EINVAL.to_errno() {
                EBUSY
            } else {
                Error::from_errno(ret)
            });
        }
        // INVARIANT: registration succeeded and the flag is set.
        Ok(Self { table })
    }
}

impl<T: Scheduler> Drop for Registration<T> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the table is registered. The value lives in the module
        // (`module_ipvs_scheduler!`), whose init does nothing that can fail after registering,
        // so it is dropped only by the module's exit, which the loader runs once no service
        // holds the module (each bound service holds a reference: `ip_vs_scheduler_get()`).
        unsafe { bindings::unregister_ip_vs_scheduler(self.table.sched.get()) };
        // SAFETY: Plain FFI call; waits for packets still in `schedule` on a service that has
        // just been unbound (IPVS runs it under `rcu_read_lock()`).
        unsafe { bindings::synchronize_rcu() };
        // SAFETY: Plain FFI call; waits until the states retired with `call_rcu()` are freed,
        // by this module's code.
        unsafe { bindings::rcu_barrier() };
        self.table.registered.store(false, Ordering::Release);
    }
}

/// Declares a kernel module that registers scheduler `$scheduler` on load (after its
/// [`Scheduler::init`]) and unregisters it on unload; its C operations table is a static
/// built at compile time. The other fields are those of [`module!`], with the authors as a
/// list (`authors: [...]`).
macro_rules! module_ipvs_scheduler {
    (scheduler: $sched:ty, $($f:tt)*) => {
        /// The module: the scheduler's registration.
        struct __IpvsSchedModule {
            _sched: $crate::sched::Registration<$sched>,
        }
        static __IPVS_SCHED_TABLE: $crate::sched::SchedTable<$sched> =
            $crate::sched::SchedTable::new();
        impl ::kernel::Module for __IpvsSchedModule {
            fn init(module: &'static ::kernel::ThisModule) -> ::kernel::error::Result<Self> {
                <$sched as $crate::sched::Scheduler>::init()?;
                let sched = $crate::sched::Registration::register(module, &__IPVS_SCHED_TABLE)?;
                Ok(Self { _sched: sched })
            }
        }
        $crate::compat::kernel_module! { type: __IpvsSchedModule, $($f)* }
    };
}
pub(crate) use module_ipvs_scheduler;
