// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernels the modules build on, outside IPVS (IPVS's own
//! differences are in `pe/compat.rs`; a field's width is widened by the view that reads it).
//!
//! `scripts/build-kmod` probes the kernel tree it builds against for each feature and passes a
//! `--cfg` for those it has (never a version number: distributions backport):
//!
//! - `system_dfl_wq`: the unbound system workqueue under its new name; without it, its old one
//!   (`system_unbound_wq`, which Linux 7.x deprecates).
//! - `kernel_cstr`: the kernel crate's own `CStr` type (before it became `core::ffi::CStr`).
//! - `kernel_module_authors`: `module!` takes `authors: [...]` (before: `author: "..."`).
//!
//! The modules never see any of this: they write `CStr` names with `c_str!` and name their
//! authors as a list.

use kernel::bindings;
use kernel::ffi::c_char;
use kernel::prelude::*;

/// The unbound system workqueue, for work that may wait for a sleeping lock.
// Used by the modules that count per namespace (this file is shared by every module).
#[allow(dead_code)]
#[cfg(system_dfl_wq)]
pub(crate) fn unbound_wq() -> *mut bindings::workqueue_struct {
    // SAFETY: Set once by `workqueue_init_early()`, before any module loads; read only.
    unsafe { bindings::system_dfl_wq }
}

/// The unbound system workqueue, for work that may wait for a sleeping lock.
#[allow(dead_code)]
#[cfg(not(system_dfl_wq))]
pub(crate) fn unbound_wq() -> *mut bindings::workqueue_struct {
    // SAFETY: Set once by `workqueue_init_early()`, before any module loads; read only.
    unsafe { bindings::system_unbound_wq }
}

/// Length of `s` without its NUL, in a const context.
#[cfg(kernel_cstr)]
pub(crate) const fn cstr_len(s: &CStr) -> usize {
    s.len()
}

/// Length of `s` without its NUL, in a const context.
#[cfg(not(kernel_cstr))]
pub(crate) const fn cstr_len(s: &CStr) -> usize {
    s.to_bytes().len()
}

/// The C string `s`, in a const context.
#[cfg(kernel_cstr)]
pub(crate) const fn cstr_ptr(s: &'static CStr) -> *const c_char {
    s.as_char_ptr()
}

/// The C string `s`, in a const context.
#[cfg(not(kernel_cstr))]
pub(crate) const fn cstr_ptr(s: &'static CStr) -> *const c_char {
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
