// SPDX-License-Identifier: GPL-2.0

//! Read-only counters as files in the module's sysfs directory.
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h) (`struct
//! module_attribute`).
//!
//! A static [`CounterFiles`] names sums of `AtomicU64` counters (most often of one);
//! registering it creates `/sys/module/<module>/<group>/<name>` for each, each file holding
//! one decimal value, as sysfs expects. The attribute tables live in static storage, as
//! lockdep wants for sysfs attributes that are not initialised with `sysfs_attr_init()`.

use core::fmt::Write;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use kernel::bindings;
use kernel::ffi::c_char;
use kernel::prelude::*;
use kernel::types::Opaque;

/// One file: the module attribute sysfs calls, and the counters whose sum it shows.
#[repr(C)]
struct CounterAttr {
    /// First, so that sysfs's `struct module_attribute *` is also a pointer to the whole.
    attr: bindings::module_attribute,
    values: &'static [AtomicU64],
}

/// A static set of `N` counter files in a named sysfs group.
pub(crate) struct CounterFiles<const N: usize> {
    attrs: [CounterAttr; N],
    /// `attrs`' attribute pointers and a null terminator, filled in by `register`.
    ptrs: Opaque<([*mut bindings::attribute; N], *mut bindings::attribute)>,
    group: Opaque<bindings::attribute_group>,
    registered: AtomicBool,
}

// SAFETY: After construction the tables are written only by `register`, which the
// `registered` flag makes exclusive and which happens before sysfs can read them; sysfs only
// reads them; the counters are atomics.
unsafe impl<const N: usize> Sync for CounterFiles<N> {}

impl<const N: usize> CounterFiles<N> {
    /// Describes group `group` with one file per `(name, counters to sum)`.
    pub(crate) const fn new(
        group: &'static CStr,
        files: [(&'static CStr, &'static [AtomicU64]); N],
    ) -> Self {
        // SAFETY: All-zeroes is a valid `module_attribute` (null pointers, no callbacks).
        const ZERO: bindings::module_attribute = unsafe { core::mem::zeroed() };
        let mut attrs = [const {
            CounterAttr {
                attr: ZERO,
                values: &[],
            }
        }; N];
        let mut i = 0;
        while i < N {
            attrs[i].attr.attr.name = files[i].0.as_char_ptr();
            attrs[i].attr.attr.mode = 0o444;
            attrs[i].attr.show = Some(show);
            attrs[i].values = files[i].1;
            i += 1;
        }
        // SAFETY: All-zeroes is a valid `attribute_group` (no name, no callbacks, no files).
        let mut g: bindings::attribute_group = unsafe { core::mem::zeroed() };
        g.name = group.as_char_ptr();
        Self {
            attrs,
            ptrs: Opaque::new(([core::ptr::null_mut(); N], core::ptr::null_mut())),
            group: Opaque::new(g),
            registered: AtomicBool::new(false),
        }
    }

    /// Creates the files in `module`'s sysfs directory; they go when the result is dropped.
    pub(crate) fn register(&'static self, module: &'static ThisModule) -> Result<Registration> {
        if self.registered.swap(true, Ordering::AcqRel) {
            return Err(EBUSY);
        }
        let ptrs = self.ptrs.get();
        let group = self.group.get();
        // SAFETY: The `registered` flag makes us the only writer, and sysfs does not know the
        // tables yet. The pointers point into `self`, which is `'static`; sysfs never writes
        // through them.
        unsafe {
            for (i, a) in self.attrs.iter().enumerate() {
                if let Some(slot) = (*ptrs).0.get_mut(i) {
                    *slot = core::ptr::addr_of!(a.attr.attr).cast_mut();
                }
            }
            (*group).attrs = ptrs.cast();
        }
        // SAFETY: `THIS_MODULE`'s kobject is set up before the module's init runs and lives
        // until after its exit; `group` is a valid, null-terminated group in static storage.
        let kobj = unsafe { core::ptr::addr_of_mut!((*module.as_ptr()).mkobj.kobj) };
        // SAFETY: As above: valid kobject and group.
        let ret = unsafe { bindings::sysfs_create_group(kobj, group) };
        if ret != 0 {
            self.registered.store(false, Ordering::Release);
            return Err(Error::from_errno(ret));
        }
        // INVARIANT: the group was created on `kobj`.
        Ok(Registration { kobj, group })
    }
}

/// Files created by [`CounterFiles::register`]; dropping removes them.
///
/// # Invariants
///
/// `group` was created on `kobj`, the module's kobject, which outlives the value.
pub(crate) struct Registration {
    kobj: *mut bindings::kobject,
    group: *const bindings::attribute_group,
}

// SAFETY: The pointers are only used to remove the group, which may happen on any thread.
unsafe impl Send for Registration {}
// SAFETY: No `&self` methods.
unsafe impl Sync for Registration {}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: By the type invariant the group exists on this live kobject. Removal waits
        // for readers of the files to finish.
        unsafe { bindings::sysfs_remove_group(self.kobj, self.group) };
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

/// # Safety
///
/// Called by sysfs (`module_attr_show()`) with one of our attributes and a `PAGE_SIZE` buffer.
unsafe extern "C" fn show(
    attr: *mut bindings::module_attribute,
    _mk: *mut bindings::module_kobject,
    buf: *mut c_char,
) -> isize {
    // SAFETY: Our attributes are the first member of a `#[repr(C)]` `CounterAttr` in static
    // storage, so the pointer is also a valid pointer to it.
    let attr = unsafe { &*attr.cast::<CounterAttr>() };
    // Each counter is read on its own, so a sum may mix moments; it is exact once traffic stops.
    let value = attr
        .values
        .iter()
        .fold(0u64, |sum, c| sum.wrapping_add(c.load(Ordering::Relaxed)));
    // SAFETY: sysfs passes a zeroed page-sized buffer that only we use during the call.
    let page = unsafe { core::slice::from_raw_parts_mut(buf.cast::<u8>(), bindings::PAGE_SIZE) };
    let mut w = BufWriter { buf: page, len: 0 };
    let _ = writeln!(w, "{value}");
    // At most PAGE_SIZE.
    w.len as isize
}
