// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernels this folder builds on (but for a field's width, which
//! its view widens where it reads it: `Conn::af`).
//!
//! `scripts/build-kmod` probes the kernel tree it builds against for each feature and passes a
//! `--cfg` for those it has (never a version number: distributions backport):
//!
//! - `ipvs_rht`: IPVS's per-namespace, resizable connection tables (`struct ip_vs_rht`,
//!   Linux 7.1). `hashkey_raw` then gets the table whose bucket it computes, instead of one
//!   global seed (`ip_vs_conn_rnd`).
//! - `system_dfl_wq`: the unbound system workqueue under its new name; without it, its old one
//!   (`system_unbound_wq`, which Linux 7.x deprecates).
//! - `kernel_cstr`: the kernel crate's own `CStr` type (before it became `core::ffi::CStr`).
//! - `kernel_module_authors`: `module!` takes `authors: [...]` (before: `author: "..."`).
//!
//! The engines never see any of this: they get a hash seed, write `CStr` names with
//! `c_str!`, and name their authors as a list.

use kernel::bindings;
use kernel::ffi::c_char;
use kernel::prelude::*;

/// The connection table argument IPVS passes to `hashkey_raw`: the table's random seed
/// (`ip_vs_conn_rnd`).
#[cfg(not(ipvs_rht))]
pub(super) type HashTable = u32;

/// The connection table argument IPVS passes to `hashkey_raw`: the table being looked up,
/// hashed into or resized into. Each table has its own random key (`ip_vs_rht_alloc()`), and
/// during a resize a lookup hashes once for the old table and once for the new.
#[cfg(ipvs_rht)]
pub(super) type HashTable = *mut bindings::ip_vs_rht;

/// The 32-bit seed of the hash an engine computes for table `t`.
///
/// # Safety
///
/// `t` must be what IPVS passed to `hashkey_raw` (with `ipvs_rht`: a live table, which IPVS
/// keeps alive for the call: under `rcu_read_lock()`, or owned by the resize work).
#[cfg(not(ipvs_rht))]
#[inline]
pub(super) unsafe fn hash_seed(t: HashTable) -> u32 {
    t
}

/// The 32-bit seed of the hash an engine computes for table `t`: the low 32 bits of the
/// table's siphash key, as the kernel's C engine seeds its `jhash()` (`(u32)t->hash_key.key[0]`).
/// IPVS keeps bit 31 of the result for the table's id (`ip_vs_rht_build_hash_key()`) and uses
/// the low bits for the bucket, so the engine's hash must be well mixed in bits 0 to 30, as
/// `jhash()` is.
///
/// # Safety
///
/// `t` must be what IPVS passed to `hashkey_raw` (with `ipvs_rht`: a live table, which IPVS
/// keeps alive for the call: under `rcu_read_lock()`, or owned by the resize work).
#[cfg(ipvs_rht)]
#[inline]
pub(super) unsafe fn hash_seed(t: HashTable) -> u32 {
    // SAFETY: As the caller guarantees, `t` is a live table: IPVS reaches it with
    // `rcu_dereference()` under `rcu_read_lock()` (`ip_vs_conn_hash()` relies on its caller's)
    // or owns it in the resize work. Its key is written once, by `get_random_bytes()` in
    // `ip_vs_rht_alloc()`, before `rcu_assign_pointer()` publishes the table, so a plain read
    // sees it, as the C engine's does.
    let key = unsafe { core::ptr::addr_of!((*t).hash_key.key[0]).read() };
    // CAST: the low 32 bits, as C's `(u32)` cast.
    key as u32
}

/// The unbound system workqueue, for work that may wait for a sleeping lock.
#[cfg(system_dfl_wq)]
pub(crate) fn unbound_wq() -> *mut bindings::workqueue_struct {
    // SAFETY: Set once by `workqueue_init_early()`, before any module loads; read only.
    unsafe { bindings::system_dfl_wq }
}

/// The unbound system workqueue, for work that may wait for a sleeping lock.
#[cfg(not(system_dfl_wq))]
pub(crate) fn unbound_wq() -> *mut bindings::workqueue_struct {
    // SAFETY: Set once by `workqueue_init_early()`, before any module loads; read only.
    unsafe { bindings::system_unbound_wq }
}

/// Length of `s` without its NUL, in a const context.
#[cfg(kernel_cstr)]
pub(super) const fn cstr_len(s: &CStr) -> usize {
    s.len()
}

/// Length of `s` without its NUL, in a const context.
#[cfg(not(kernel_cstr))]
pub(super) const fn cstr_len(s: &CStr) -> usize {
    s.to_bytes().len()
}

/// The C string `s`, in a const context.
#[cfg(kernel_cstr)]
pub(super) const fn cstr_ptr(s: &'static CStr) -> *const c_char {
    s.as_char_ptr()
}

/// The C string `s`, in a const context.
#[cfg(not(kernel_cstr))]
pub(super) const fn cstr_ptr(s: &'static CStr) -> *const c_char {
    // Through the bytes: the kernel's `c_char` is `u8`, core's `CStr::as_ptr()` gives an `i8`
    // pointer on x86 (and the kernel's lints forbid it), and `as_char_ptr()` is a trait
    // method, which a const context cannot call.
    s.to_bytes_with_nul().as_ptr()
}

/// `module!` with `authors: [...]`, on a kernel whose `module!` takes the list. (Its fields
/// are passed on as plain tokens: the procedural macro `module!` cannot parse a `ty` or
/// `literal` fragment of `macro_rules!`.)
#[cfg(kernel_module_authors)]
macro_rules! kernel_module {
    (type: $t:ident, name: $n:tt, authors: [$($a:tt),+ $(,)?], $($rest:tt)*) => {
        ::kernel::prelude::module! { type: $t, name: $n, authors: [$($a),+], $($rest)* }
    };
}

/// `module!` with `authors: [...]`, on a kernel whose `module!` takes one `author:` string
/// literal: one author only.
#[cfg(not(kernel_module_authors))]
macro_rules! kernel_module {
    (type: $t:ident, name: $n:tt, authors: [$a:tt $(,)?], $($rest:tt)*) => {
        ::kernel::prelude::module! { type: $t, name: $n, author: $a, $($rest)* }
    };
}
pub(crate) use kernel_module;
