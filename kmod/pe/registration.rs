// SPDX-License-Identifier: GPL-2.0

//! The registration of an engine with IPVS, its removal, and [`module_ipvs_pe!`], the module
//! that does both.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`register_ip_vs_pe()`,
//! `unregister_ip_vs_pe()`).

use super::{Engine, PeTable};
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::Ordering;
use kernel::bindings;
use kernel::ffi::c_int;
use kernel::prelude::*;

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
/// `pe` must point to a [`PeTable`] (a static) whose `module` `register` set; the
/// table may have been unregistered since.
pub(super) unsafe fn engine_module_is_live(pe: *const bindings::ip_vs_pe) -> bool {
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
/// when a removal was ever forced on this kernel (`rmmod -f`: the loader keeps the module's
/// base reference, so the count never falls to "none", and a forced removal is unsafe by its
/// nature). `try_force_unload()` taints the kernel, not the module (`add_taint()`), so the
/// kernel-wide flag is what tells: after any earlier forced removal, no removal waits.
///
/// # Safety
///
/// `module` must be this module, in its exit or its failing init.
unsafe fn wait_for_late_references(module: *mut bindings::module) {
    // SAFETY: As the caller guarantees; `state` is written by the loader before it calls our
    // exit, and read once.
    let state = unsafe { addr_of!((*module).state).read_volatile() };
    // SAFETY: Plain FFI call; reads the kernel's taint mask.
    let forced = unsafe { bindings::test_taint(bindings::TAINT_FORCED_RMMOD) } != 0;
    if state != bindings::module_state_MODULE_STATE_GOING || forced {
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
/// under `request_module()` while IPVS holds its service mutex (`ipvsadm --pe sip`). Nor may
/// it fail in practice: once the engine is registered, a service may already hold the module
/// (`try_module_get()` succeeds on a module that is still loading), and a failing init frees
/// the module regardless. The counters' init fails only if their table is already claimed,
/// which a fresh load's statics never are. So the engine must cope with its state not being
/// there yet (the counters, a static, count nothing until they are registered). The other
/// fields are those of [`module!`], with the authors as a list (`authors: [...]`).
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
        $crate::compat::kernel_module! { type: __IpvsPeModule, $($f)* }
    };
    (engine: $engine:ty, $($f:tt)*) => {
        $crate::pe::module_ipvs_pe! { engine: $engine, data: $crate::pe::NoData, $($f)* }
    };
}
pub(crate) use module_ipvs_pe;

/// No module data (the default of [`module_ipvs_pe!`]).
// Used by the engines that have no data of their own (this folder is shared by several
// modules).
#[allow(dead_code)]
pub(crate) struct NoData;

impl kernel::Module for NoData {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}
