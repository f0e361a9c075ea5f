// SPDX-License-Identifier: GPL-2.0

//! What a namespace's shared state needs from the kernel beyond the abstraction of IPVS: a
//! spinlock that disables bottom halves, the clock in jiffies, and a random seed.
//!
//! C headers: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)
//! (`spin_lock_bh()`), [`include/linux/jiffies.h`](srctree/include/linux/jiffies.h),
//! [`include/linux/random.h`](srctree/include/linux/random.h).
//!
//! The engine's `fill_param` runs in softirq (a packet received) and in process context (a
//! packet sent from the director itself, `LOCAL_OUT`), under `rcu_read_lock()` in both. A lock
//! it takes must therefore keep softirqs off its CPU while held, or a softirq that interrupts
//! the holder on the same CPU spins on it forever: C's `spin_lock_bh()`. That is an inline
//! function without a Rust helper in these kernels, and the kernel crate's `SpinLock` is
//! `spin_lock()`; the out-of-line `_raw_spin_lock_bh()` and `_raw_spin_unlock_bh()` it expands
//! to are exported (`kernel/locking/spinlock.c`, on every architecture that does not inline
//! them, x86 among them) and in the bindings, with or without lockdep.

// On PREEMPT_RT a `spinlock_t` is an rt_mutex, which the raw calls below would take as a raw
// spinlock, and the allocations made under it would then run in a raw atomic section: refuse
// to build rather than misbehave.
#[cfg(CONFIG_PREEMPT_RT)]
compile_error!("kmod/sync.rs's lock is a raw spinlock section: not for PREEMPT_RT kernels");

use core::cell::UnsafeCell;
use core::marker::PhantomData;
use core::ops::{Deref, DerefMut};
use core::ptr::{addr_of, addr_of_mut};
use kernel::bindings;
use kernel::prelude::*;
use kernel::types::Opaque;

/// A lockdep class for the locks of one kind: static storage, which lockdep sets up itself,
/// as C's `static struct lock_class_key`.
pub(crate) struct LockClass(Opaque<bindings::lock_class_key>);

// SAFETY: Only lockdep writes the key, under its own locks; we pass its address only.
unsafe impl Sync for LockClass {}

impl LockClass {
    /// A key, for a static.
    pub(crate) const fn new() -> Self {
        Self(Opaque::uninit())
    }
}

/// A spinlock whose holder runs with bottom halves disabled (C's `spin_lock_bh()`), guarding a
/// `T`. It is set up in place ([`BhSpinLock::init_in_place`]), in memory that never moves:
/// the kernel's lock may not be moved once initialised.
///
/// # Invariants
///
/// Once [`BhSpinLock::init_in_place`] has run on it, `lock` is an initialised spinlock and
/// `data` is initialised; `data` is only accessed while `lock` is held (through a
/// [`BhGuard`]) or by the owner of a `*mut Self` that nobody else uses (set-up and
/// tear-down).
#[repr(C)]
pub(crate) struct BhSpinLock<T> {
    lock: Opaque<bindings::spinlock_t>,
    data: UnsafeCell<T>,
}

// SAFETY: The lock gives one holder at a time access to `T`, which may move between CPUs.
unsafe impl<T: Send> Send for BhSpinLock<T> {}
// SAFETY: As above: a shared `BhSpinLock` only gives access to `T` under the lock.
unsafe impl<T: Send> Sync for BhSpinLock<T> {}

impl<T> BhSpinLock<T> {
    /// Writes `data` and initialises the lock at `this`, in lockdep class `class` named
    /// `name`.
    ///
    /// # Safety
    ///
    /// `this` must be valid for writes and aligned, and nobody else may use it until this
    /// returns; the memory must not move or be reused until [`BhSpinLock::drop_in_place`].
    pub(crate) unsafe fn init_in_place(
        this: *mut Self,
        data: T,
        name: &'static CStr,
        class: &'static LockClass,
    ) {
        // SAFETY: As the caller guarantees, `this` is ours to write (`Opaque` is a transparent
        // wrapper, so its address is the C lock's); the name and the key are static, as
        // `__spin_lock_init()` needs them.
        unsafe {
            addr_of_mut!((*this).data).write(UnsafeCell::new(data));
            bindings::__spin_lock_init(
                addr_of_mut!((*this).lock).cast::<bindings::spinlock_t>(),
                name.as_char_ptr(),
                class.0.get(),
            );
        }
    }

    /// Drops the data of a lock set up by [`BhSpinLock::init_in_place`] (a spinlock needs no
    /// tear-down).
    ///
    /// # Safety
    ///
    /// `this` must have been set up by `init_in_place` and not dropped since, and nobody may
    /// use it, now or later (until it is set up again).
    pub(crate) unsafe fn drop_in_place(this: *mut Self) {
        // SAFETY: As the caller guarantees, the data is initialised and unused.
        unsafe { core::ptr::drop_in_place(UnsafeCell::raw_get(addr_of!((*this).data))) };
    }

    /// The kernel's lock, as `spin_lock_bh()` takes it: `&lock->rlock`.
    fn raw(&self) -> *mut bindings::raw_spinlock_t {
        // `spinlock_t` (without PREEMPT_RT, which these kernels do not build) is a union whose
        // member `rlock` starts it, so its address is the lock's; bindgen makes the union an
        // opaque blob when lockdep enlarges it, so it is reached by that cast.
        self.lock.get().cast()
    }

    /// Takes the lock, with bottom halves disabled on this CPU until the guard is dropped.
    /// Spins while another CPU holds it: callers keep their critical sections short.
    pub(crate) fn lock(&self) -> BhGuard<'_, T> {
        // SAFETY: By the type invariant the lock was initialised (a `&Self` only exists once
        // the owner published it, after `init_in_place`).
        unsafe { bindings::_raw_spin_lock_bh(self.raw()) };
        // INVARIANT: the lock is held until the guard is dropped.
        BhGuard {
            lock: self,
            _not_send: PhantomData,
        }
    }
}

/// Access to a [`BhSpinLock`]'s data while it is held; dropping it unlocks.
///
/// # Invariants
///
/// `lock` is held by this CPU, taken by [`BhSpinLock::lock`], with bottom halves disabled.
pub(crate) struct BhGuard<'a, T> {
    lock: &'a BhSpinLock<T>,
    /// Unlocked where it was locked: a guard stays on its CPU and task.
    _not_send: PhantomData<*mut ()>,
}

impl<T> Deref for BhGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The lock is held (type invariant), so nobody else accesses the data.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for BhGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The lock is held (type invariant) and the guard is borrowed mutably, so this
        // is the only access.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for BhGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: The lock is held by this CPU with bottom halves disabled (type invariant),
        // as `_raw_spin_unlock_bh()` expects.
        unsafe { bindings::_raw_spin_unlock_bh(self.lock.raw()) };
    }
}

/// The kernel's clock, in jiffies (`HZ` a second) since boot; it wraps, so compare two
/// readings by their wrapping difference.
pub(crate) fn jiffies() -> u64 {
    // SAFETY: `jiffies` is a kernel variable updated by the timer interrupt; an aligned
    // machine word is read whole on the 64-bit kernels this module builds for, and read once
    // (as C's `READ_ONCE()`).
    let now = unsafe { addr_of!(bindings::jiffies).read_volatile() };
    // CAST: `unsigned long` is 64 bits on those kernels.
    now as u64
}

/// Jiffies a second.
// CAST: HZ is at most 1000, it fits.
pub(crate) const HZ: u64 = bindings::HZ as u64;

/// A random number, as a seed for a hash that clients must not be able to aim at one bucket.
pub(crate) fn random_u32() -> u32 {
    // SAFETY: Plain FFI call; the kernel's random pool may be used from any context.
    unsafe { bindings::get_random_u32() }
}
