// SPDX-License-Identifier: GPL-2.0

//! Engine data (`pe_data`): what an engine adds to a template's key.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`pe_data` and
//! `pe_data_len` of `struct ip_vs_conn_param` and `struct ip_vs_conn`).

use super::PEDATA_MAXLEN;
use core::ptr::NonNull;
use kernel::bindings;
use kernel::ffi::c_char;
use kernel::prelude::*;

/// Engine data (`pe_data`) for a connection template: 1 to [`PEDATA_MAXLEN`] bytes, allocated
/// with `kmalloc` because IPVS frees it with `kfree()`.
///
/// # Invariants
///
/// `ptr` is a `kmalloc` allocation of `len` initialised bytes, owned by this value, and
/// `1 <= len <= PEDATA_MAXLEN`.
pub(crate) struct PeData {
    ptr: NonNull<u8>,
    len: u8,
}

impl PeData {
    /// Copies `data` into a new allocation that may be made in atomic context, as C's
    /// `kmemdup(data, len, GFP_ATOMIC)` does, through the same allocation-profiling hooks.
    ///
    /// Fails with `EINVAL` if `data` is empty or longer than [`PEDATA_MAXLEN`], with `ENOMEM`
    /// if the allocation fails.
    #[inline]
    pub(crate) fn try_copy(data: &[u8]) -> Result<Self> {
        let len = u8::try_from(data.len()).map_err(|_| EINVAL)?;
        if len == 0 || data.len() > PEDATA_MAXLEN {
            return Err(EINVAL);
        }
        // SAFETY: `data` is valid for reads of `data.len()` bytes; `kmemdup` copies them into
        // a new `kmalloc` allocation, or returns null.
        let ptr =
            unsafe { bindings::kmemdup(data.as_ptr().cast(), data.len(), bindings::GFP_ATOMIC) };
        let ptr = NonNull::new(ptr.cast::<u8>()).ok_or(ENOMEM)?;
        // INVARIANT: `ptr` holds a copy of the `len` bytes of `data`, checked above.
        Ok(Self { ptr, len })
    }

    /// Gives up ownership: the allocation and its length, for IPVS to keep and `kfree()`.
    pub(super) fn into_raw(self) -> (*mut u8, u8) {
        let data = core::mem::ManuallyDrop::new(self);
        (data.ptr.as_ptr(), data.len)
    }
}

impl Drop for PeData {
    fn drop(&mut self) {
        // SAFETY: By the type invariant `ptr` is a `kmalloc` allocation that we own.
        unsafe { bindings::kfree(self.ptr.as_ptr().cast()) };
    }
}

/// The engine data a `pe_data` field points to, if it is set.
///
/// # Safety
///
/// `ptr` and `len` must be valid for reads; if `*ptr` is not null, `*len` must be initialised
/// and `*ptr` valid for reads of `*len` bytes for the lifetime `'a`. The length is read only
/// when the pointer is set: `ip_vs_conn_fill_param()` sets `pe_data` to NULL and leaves
/// `pe_data_len` uninitialised.
#[inline]
pub(super) unsafe fn pe_data_slice<'a>(
    ptr: *const *mut c_char,
    len: *const u8,
) -> Option<&'a [u8]> {
    // SAFETY: The caller guarantees `ptr` is readable.
    let data = unsafe { ptr.read() };
    if data.is_null() {
        return None;
    }
    // SAFETY: `data` is set, so by the caller's guarantee `*len` is initialised and `data`
    // valid for that many bytes.
    Some(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), usize::from(len.read())) })
}
