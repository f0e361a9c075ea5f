// SPDX-License-Identifier: GPL-2.0

//! Per-network-namespace, per-CPU counters, shown in a file of each namespace's `/proc/net`.
//!
//! C headers: [`include/net/net_namespace.h`](srctree/include/net/net_namespace.h)
//! (`struct pernet_operations`), [`include/linux/proc_fs.h`](srctree/include/linux/proc_fs.h)
//! (`proc_create_net_single()`), [`include/linux/percpu.h`](srctree/include/linux/percpu.h).
//!
//! A type implementing [`Counters`] describes the counters and the file; its static
//! [`Pernet`] is registered as a pernet subsystem, which gives every network namespace, present
//! and future, its own per-CPU array of `u64` counters and its own
//! `/proc/net/<Counters::FILE>` (read as `/proc/net/ip_vs_stats` is, from inside the
//! namespace). The packet path adds to the current CPU's copy with `this_cpu_add()`: no lock,
//! no shared cache line. A read sums the copies of every possible CPU, so a sum may mix
//! moments under traffic; it is exact once traffic stops.
//!
//! The subsystem is registered by a work item, after the module's init has returned, never by
//! the init itself. `register_pernet_subsys()` takes `pernet_ops_rwsem` for writing, and a
//! module init may run while IPVS core waits for it: `ipvsadm --pe sip` loads the engine with
//! `request_module()` from `ip_vs_add_service()`, under IPVS's service mutex. On Linux 6.12
//! that is the global `__ip_vs_mutex`, and a namespace being dismantled holds
//! `pernet_ops_rwsem` for reading while IPVS's exit for it waits for `__ip_vs_mutex`, so an
//! init that registered would wait for the namespace, which waits for IPVS, which waits for
//! the init. (Linux 7.3's mutex is the namespace's own, which the exit of another namespace
//! never takes; the work item stays, for the kernels that have the global one.) The work item
//! waits for the rwsem with no IPVS lock held. Until it has registered, nothing is counted and
//! nothing calls `net_generic()` (our id does not exist yet); each namespace's file is empty
//! until its counters count.
//!
//! Beside its counters, each namespace keeps a state of the type's choosing
//! ([`Counters::State`]), behind a spinlock that disables bottom halves ([`BhSpinLock`]):
//! made when the namespace (or the subsystem) appears, dropped when it goes, reached with
//! [`Pernet::state`] once the subsystem is registered.

use crate::pe::Net;
use crate::sync::{BhSpinLock, LockClass};
use core::fmt::Write;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::{addr_of, addr_of_mut};
use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use kernel::bindings;
use kernel::c_str;
use kernel::ffi::{c_int, c_void};
use kernel::prelude::*;
use kernel::types::Opaque;

/// A set of counters, kept per namespace and per CPU, and the file that shows them.
pub(crate) trait Counters: Sized + 'static {
    /// Number of counters.
    const N: usize;
    /// Name of the file in `/proc/net`.
    const FILE: &'static CStr;
    /// The file's lines, in order: each a name and the counters whose sum it shows.
    const LINES: &'static [(&'static str, &'static [usize])];
    /// The registration table (a static).
    fn pernet() -> &'static Pernet<Self>;
    /// What each namespace keeps beside its counters.
    type State: NetState;
}

/// A namespace's state beside its counters, behind a [`BhSpinLock`].
pub(crate) trait NetState: Send + Sized + 'static {
    /// The name of its lock, for lockdep.
    const LOCK_NAME: &'static CStr;
    /// A new namespace's state, made in process context (the pernet core's `init`).
    fn new() -> Result<Self>;
}

/// What the pernet subsystem keeps in each namespace (`net_generic()`): its counters and its
/// state.
///
/// # Invariants
///
/// `state` is initialised (by [`BhSpinLock::init_in_place`]) exactly while `counts` is not
/// null: from the end of a successful `init` to the start of `exit`.
#[repr(C)]
struct PerNet<S> {
    /// `u64 __percpu *`: `Counters::N` counters per CPU, or null before `init` ran.
    counts: *mut u64,
    /// The state, in the block the pernet core allocated, which never moves.
    state: MaybeUninit<BhSpinLock<S>>,
}

/// The pernet subsystem of counter set `C`; lives in static storage.
///
/// # Invariants
///
/// `live` is set only while `ops` is registered with the pernet core: from the return of
/// `register_pernet_subsys()` to the call of `unregister_pernet_subsys()`. While it is set,
/// `id` holds the subsystem's id and every live namespace has its block for it.
pub(crate) struct Pernet<C: Counters> {
    ops: Opaque<bindings::pernet_operations>,
    /// Written by `register_pernet_subsys()` (`ops.id` points here).
    id: AtomicU32,
    /// Taken by [`Pernet::register`]: one registration at a time.
    claimed: AtomicBool,
    /// Set once the subsystem is registered (see the type invariant).
    live: AtomicBool,
    /// The work item that registers the subsystem.
    work: Opaque<bindings::work_struct>,
    /// Its lockdep class: static storage, which lockdep sets up itself, as C's
    /// `static struct lock_class_key`.
    key: Opaque<bindings::lock_class_key>,
    /// The lockdep class of every namespace's state lock.
    state_class: LockClass,
    _p: PhantomData<C>,
}

// SAFETY: The table and the work item are written only by `register` (made exclusive by
// `claimed`, before the kernel knows them), by the kernel under `pernet_ops_rwsem` and by the
// workqueue core; `id` and the flags are atomics.
unsafe impl<C: Counters> Sync for Pernet<C> {}

impl<C: Counters> Pernet<C> {
    /// Builds the table (at compile time).
    pub(crate) const fn new() -> Self {
        // SAFETY: All-zeroes is a valid `pernet_operations` (an unlinked list head, no
        // callbacks, no id).
        let mut ops: bindings::pernet_operations = unsafe { core::mem::zeroed() };
        ops.init = Some(init::<C>);
        ops.exit = Some(exit::<C>);
        ops.size = core::mem::size_of::<PerNet<C::State>>();
        Self {
            ops: Opaque::new(ops),
            id: AtomicU32::new(0),
            claimed: AtomicBool::new(false),
            live: AtomicBool::new(false),
            work: Opaque::uninit(),
            key: Opaque::uninit(),
            state_class: LockClass::new(),
            _p: PhantomData,
        }
    }

    /// Starts the registration of the subsystem, on the system's unbound workqueue, and
    /// returns at once (see the module documentation for why it is not done here): from then
    /// on, every namespace gets its counters, at zero, and its file. They go when the result
    /// is dropped. Fails with `EBUSY` if the table is already registered.
    pub(crate) fn register(&'static self) -> Result<PernetRegistration<C>> {
        if self.claimed.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        let ops = self.ops.get();
        // SAFETY: `claimed` makes us the only writer and the kernel does not know the table.
        unsafe { (*ops).id = self.id.as_ptr() };
        let work = self.work.get();
        // SAFETY: `work` is in static storage and not queued (`claimed` was clear: any earlier
        // registration's drop cancelled its work before clearing it); `run` has the signature
        // of a work function; the name and the lock class key are in static storage.
        unsafe {
            bindings::init_work_with_key(
                work,
                Some(run::<C>),
                false,
                c_str!("ip_vs_pe_sip_rs counters").as_char_ptr(),
                self.key.get(),
            )
        };
        // SAFETY: `work` was initialised above; the unbound system workqueue exists from boot on.
        unsafe {
            bindings::queue_work_on(
                // CAST: WORK_CPU_UNBOUND is NR_CPUS, which fits in an `int`.
                bindings::wq_misc_consts_WORK_CPU_UNBOUND as c_int,
                crate::compat::unbound_wq(),
                work,
            )
        };
        // INVARIANT: claimed, with the work queued.
        Ok(PernetRegistration { table: self })
    }

    /// Whether the counters exist in every namespace (the subsystem is registered).
    fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Adds `n` to counter `index` of namespace `net`, on the current CPU; nothing before the
    /// subsystem is registered.
    pub(crate) fn add(&self, net: &Net, index: usize, n: u64) {
        if index >= C::N || !self.is_live() {
            return;
        }
        // SAFETY: `net` is alive (type invariant of `Net`), and the subsystem is registered
        // (`live`, type invariant), so every live namespace has our block: the pernet core ran
        // our `init` on the namespaces that existed when it registered us, and runs it on a
        // new namespace before any packet can reach a service in it.
        let counts = unsafe { (*per_net::<C>(net.as_ptr())).counts };
        if counts.is_null() {
            return;
        }
        // A `__percpu` pointer is an offset for `this_cpu_*()`, not an address of ours: step
        // through it without claiming it points into an allocation.
        let counter = counts.wrapping_add(index);
        // SAFETY: `counter` is counter `index < C::N` of a per-CPU array of `C::N` counters
        // (see `init`); `this_cpu_add()` is safe against preemption and interrupts.
        unsafe { bindings::this_cpu_add_u64(counter, n) };
    }

    /// The state of namespace `net`, once the subsystem is registered. For the packet path
    /// only: the caller holds `rcu_read_lock()` (IPVS runs the engine under it) for as long as
    /// it uses the reference, which must not outlive that read section.
    pub(crate) fn state<'a>(&self, net: &'a Net) -> Option<&'a BhSpinLock<C::State>> {
        if !self.is_live() {
            return None;
        }
        // SAFETY: As in `add`: `net` is alive and has our block.
        let st = unsafe { per_net::<C>(net.as_ptr()) };
        // SAFETY: As above; `counts` is written only by `init` and `exit`, which the pernet
        // core runs while no packet of the namespace can reach us.
        if unsafe { (*st).counts }.is_null() {
            return None;
        }
        // SAFETY: `counts` is set, so `state` is initialised (type invariant of `PerNet`). It
        // stays so while the caller's RCU read section lasts: `exit` drops it either when the
        // namespace goes, after `default_device_exit_batch()`'s `synchronize_net()` has waited
        // for the packets in its hooks, or when the module goes, after the engine was
        // unregistered and a grace period waited for the packets in it (the engine's
        // `Registration` drop), with `live` cleared before `unregister_pernet_subsys()`.
        Some(unsafe { &*(*st).state.as_ptr() })
    }
}

/// The work function: registers the subsystem of `C`, with no IPVS lock held.
///
/// # Safety
///
/// Called by the workqueue core for the work item of `C::pernet()`, queued by `register`.
unsafe extern "C" fn run<C: Counters>(_work: *mut bindings::work_struct) {
    let table = C::pernet();
    // SAFETY: `ops` is a valid table in static storage, not registered (only this work
    // registers it, once per claim); `init` and `exit` are ours.
    let ret = unsafe { bindings::register_pernet_subsys(table.ops.get()) };
    if ret == 0 {
        // INVARIANT: registered.
        table.live.store(true, Ordering::Release);
    } else {
        pr_err!(
            "the counters of /proc/net/{} are unavailable: pernet registration failed (error {})\n",
            C::FILE,
            ret
        );
    }
}

/// A claimed [`Pernet`], registered or about to be; dropping it removes the counters and files
/// of every namespace.
///
/// # Invariants
///
/// `table` is claimed, and its work item was initialised and queued.
pub(crate) struct PernetRegistration<C: Counters> {
    table: &'static Pernet<C>,
}

impl<C: Counters> Drop for PernetRegistration<C> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the work item was initialised; this waits for it to
        // finish if it runs, and dequeues it if it has not started. This registration is the
        // module init's last step (`module_ipvs_pe!`), so it is dropped only from the module's
        // exit, which holds no lock that the work's wait (`pernet_ops_rwsem`) depends on; never
        // from an init that `request_module()` runs under IPVS's service mutex.
        unsafe { bindings::cancel_work_sync(self.table.work.get()) };
        if self.table.live.swap(false, Ordering::AcqRel) {
            // SAFETY: `live` was set, so the table is registered (type invariant of `Pernet`);
            // this calls `exit` for every namespace. The engine that counts is unregistered
            // before this runs (`module_ipvs_pe!` drops it first), so no `add` is under way.
            unsafe { bindings::unregister_pernet_subsys(self.table.ops.get()) };
        }
        self.table.claimed.store(false, Ordering::Release);
    }
}

/// The subsystem's data in namespace `net`.
///
/// # Safety
///
/// `net` must be alive and the subsystem registered.
unsafe fn per_net<C: Counters>(net: *mut bindings::net) -> *mut PerNet<C::State> {
    let id = C::pernet().id.load(Ordering::Relaxed);
    // SAFETY: As the caller guarantees; `net_generic()` returns the `size`-byte block the
    // kernel allocated for our id in this namespace.
    unsafe { bindings::net_generic(net, id).cast::<PerNet<C::State>>() }
}

/// `pernet_operations.init`: makes the namespace's state, allocates its counters and creates
/// its file.
///
/// # Safety
///
/// Called by the pernet core (`ops_init()`) with a namespace being set up, after it allocated
/// our zeroed `PerNet`.
unsafe extern "C" fn init<C: Counters>(net: *mut bindings::net) -> c_int {
    // SAFETY: As the function's safety section says.
    let st = unsafe { per_net::<C>(net) };
    let state = match C::State::new() {
        Ok(state) => state,
        Err(e) => return e.to_errno(),
    };
    // SAFETY: Plain allocation; per-CPU memory comes zeroed.
    let counts = unsafe {
        bindings::__alloc_percpu(
            core::mem::size_of::<u64>() * C::N,
            core::mem::align_of::<u64>(),
        )
    };
    if counts.is_null() {
        return ENOMEM.to_errno();
    }
    // SAFETY: `st` is our block of this namespace, not yet visible to anyone else (`counts`
    // is still null, so nothing reads `state`); the block never moves; the class is static.
    unsafe {
        BhSpinLock::init_in_place(
            addr_of_mut!((*st).state).cast::<BhSpinLock<C::State>>(),
            state,
            <C::State as NetState>::LOCK_NAME,
            &C::pernet().state_class,
        )
    };
    // SAFETY: As above.
    unsafe { (*st).counts = counts.cast() };
    // SAFETY: `net` is being set up, its `proc_net` exists; `FILE` is a static string and
    // `show` has the expected signature.
    let pde = unsafe {
        bindings::proc_create_net_single(
            C::FILE.as_char_ptr(),
            0o444,
            (*net).proc_net,
            Some(show::<C>),
            core::ptr::null_mut(),
        )
    };
    if pde.is_null() {
        // SAFETY: Allocated and set up above and published nowhere: a new namespace's packets
        // do not run before its `init`s succeed, and for one that existed before the
        // registration, `live` is not yet set, so `add` and `state` do not read the block.
        unsafe {
            bindings::free_percpu(counts);
            (*st).counts = core::ptr::null_mut();
            BhSpinLock::drop_in_place(addr_of_mut!((*st).state).cast::<BhSpinLock<C::State>>());
        }
        return ENOMEM.to_errno();
    }
    0
}

/// `pernet_operations.exit`: removes the namespace's file, frees its counters and drops its
/// state.
///
/// # Safety
///
/// Called by the pernet core (`ops_exit_list()`) for a namespace our `init` succeeded on. No
/// packet of that namespace is in the engine by then: on the namespace's teardown, its devices
/// went first (`default_device_exit_batch()`, whose `synchronize_net()` waits for the packets
/// in its hooks); on the module's removal, the engine was unregistered and a grace period
/// passed first, and `live` was cleared.
unsafe extern "C" fn exit<C: Counters>(net: *mut bindings::net) {
    // SAFETY: As the function's safety section says. `remove_proc_entry()` waits for readers
    // of the file to finish.
    unsafe {
        bindings::remove_proc_entry(C::FILE.as_char_ptr(), (*net).proc_net);
        let st = per_net::<C>(net);
        bindings::free_percpu((*st).counts.cast());
        (*st).counts = core::ptr::null_mut();
        BhSpinLock::drop_in_place(addr_of_mut!((*st).state).cast::<BhSpinLock<C::State>>());
    }
}

/// A writer that fills a byte buffer and stops silently when it is full.
struct BufWriter<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Write for BufWriter<'_> {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        let room = self.buf.get_mut(self.len..).unwrap_or_default();
        let n = s.len().min(room.len());
        if let (Some(dst), Some(src)) = (room.get_mut(..n), s.as_bytes().get(..n)) {
            dst.copy_from_slice(src);
            self.len += n;
        }
        Ok(())
    }
}

/// Sum of counter `index` over every possible CPU.
///
/// # Safety
///
/// `counts` must be a live per-CPU array of `C::N` counters, and `index < C::N`.
unsafe fn sum(counts: *mut u64, index: usize) -> u64 {
    let mut total = 0u64;
    // SAFETY: `__cpu_possible_mask` and `nr_cpu_ids` are set at boot and never change after.
    let (mask, nr) = unsafe {
        (
            addr_of!(bindings::__cpu_possible_mask),
            bindings::nr_cpu_ids,
        )
    };
    // SAFETY: Walking a valid cpumask; -1 starts from the first CPU.
    let mut cpu = unsafe { bindings::cpumask_next(-1, mask) };
    while cpu < nr {
        // SAFETY: `cpu` is a possible CPU, so its copy of the array exists; the other CPU may
        // be adding to it, and an aligned 64-bit load is not torn on the 64-bit kernels this
        // module builds for.
        total = total.wrapping_add(unsafe {
            bindings::per_cpu_ptr(counts.cast(), cpu)
                .cast::<u64>()
                .add(index)
                .read_volatile()
        });
        // CAST: `cpu < nr_cpu_ids`, which fits in an `int` (the kernel's own type for it).
        // SAFETY: As above.
        cpu = unsafe { bindings::cpumask_next(cpu as c_int, mask) };
    }
    total
}

/// `show` of the file: one `NAME VALUE` line per entry of `C::LINES`.
///
/// # Safety
///
/// Called by `seq_file` for our file, opened with `single_open_net()`, which holds a
/// reference to the namespace for as long as the file is open.
unsafe extern "C" fn show<C: Counters>(seq: *mut bindings::seq_file, _v: *mut c_void) -> c_int {
    // The file exists in a namespace from the moment our `init` ran on it, a little before
    // the registration is complete and counting starts: empty until then, so that a reader
    // that sees the lines knows that every datagram from now on is counted.
    if !C::pernet().is_live() {
        return 0;
    }
    // SAFETY: As the function's safety section says.
    let net = unsafe { bindings::seq_file_single_net(seq) };
    // SAFETY: The namespace is alive and our `init` ran on it (the file exists).
    let counts = unsafe { (*per_net::<C>(net)).counts };
    if counts.is_null() {
        return 0;
    }
    for (name, members) in C::LINES {
        let mut value = 0u64;
        for &i in members.iter().filter(|&&i| i < C::N) {
            // SAFETY: `counts` is our live array and `i < C::N`.
            value = value.wrapping_add(unsafe { sum(counts, i) });
        }
        let mut line = [0u8; 64];
        let mut w = BufWriter {
            buf: &mut line,
            len: 0,
        };
        let _ = writeln!(w, "{name} {value}");
        let n = w.len;
        let text = line.get(..n).unwrap_or_default();
        // SAFETY: `seq` is valid during the call; `text` is initialised memory of its length.
        unsafe { bindings::seq_write(seq, text.as_ptr().cast(), text.len()) };
    }
    0
}
