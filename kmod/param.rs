// SPDX-License-Identifier: GPL-2.0

//! Module parameters, for a `module!` that has none in this kernel.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h).
//!
//! [`bool_param!`], [`uint_param!`] and [`charp_param!`] do what C's `module_param(name,
//! bool|uint|charp, perm)` does: a `struct kernel_param` in the module's `__param` section,
//! which the module loader reads to parse `modprobe NAME=VALUE` before the module's init runs,
//! and from which sysfs makes `/sys/module/<module>/parameters/NAME`. The value is an atomic of
//! the C type's layout (`AtomicBool` for `bool`, `AtomicU32` for `unsigned int`, `AtomicPtr`
//! for `char *`) that the kernel's `param_ops_*` writes and the module reads with `load`.

use kernel::bindings;

/// A `struct kernel_param` that may live in a static.
#[repr(transparent)]
pub(crate) struct KernelParam(pub(crate) bindings::kernel_param);

// SAFETY: The kernel only reads the descriptor; the value it points to is an atomic.
unsafe impl Sync for KernelParam {}

/// The bytes of `text` as an array of its length, for a `.modinfo` string (evaluated at compile
/// time, so an `N` that is not `text.len()` fails the build).
pub(crate) const fn modinfo<const N: usize>(text: &str) -> [u8; N] {
    let bytes = text.as_bytes();
    assert!(bytes.len() == N);
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = bytes[i];
        i += 1;
    }
    out
}

/// `bool_param!(VALUE, "name", PERM, "description")`: declares `static VALUE: AtomicBool`
/// (default false) as module parameter `name` with sysfs mode `PERM`.
// Used by the modules that have a flag (this file is shared by every module).
#[allow(unused_macros)]
macro_rules! bool_param {
    ($value:ident, $name:literal, $perm:expr, $desc:literal) => {
        #[doc = $desc]
        static $value: ::core::sync::atomic::AtomicBool =
            ::core::sync::atomic::AtomicBool::new(false);
        // `param_ops_bool` stores through this `bool *`; `AtomicBool` has the layout of `bool`.
        $crate::param::kernel_param!($value, $name, "bool", param_ops_bool, $perm, $desc);
    };
}
#[allow(unused_imports)]
pub(crate) use bool_param;

/// `uint_param!(VALUE, "name", PERM, DEFAULT, "description")`: declares `static VALUE:
/// AtomicU32` (default `DEFAULT`) as module parameter `name` (C's `uint`) with sysfs mode
/// `PERM`.
// Used by the modules that have a number (this file is shared by every module).
#[allow(unused_macros)]
macro_rules! uint_param {
    ($value:ident, $name:literal, $perm:expr, $default:expr, $desc:literal) => {
        #[doc = $desc]
        static $value: ::core::sync::atomic::AtomicU32 =
            ::core::sync::atomic::AtomicU32::new($default);
        // `param_ops_uint` stores through this `unsigned int *`; `AtomicU32` has its layout.
        $crate::param::kernel_param!($value, $name, "uint", param_ops_uint, $perm, $desc);
    };
}
#[allow(unused_imports)]
pub(crate) use uint_param;

/// `charp_param!(VALUE, "name", PERM, "description")`: declares `static VALUE: AtomicPtr<u8>`
/// (default null: not given) as string parameter `name` with sysfs mode `PERM`. The loader
/// points it at the NUL-terminated value (and frees a copy it made when the module goes).
// Used by the modules that take a string (this file is shared by every module).
#[allow(unused_macros)]
macro_rules! charp_param {
    ($value:ident, $name:literal, $perm:expr, $desc:literal) => {
        #[doc = $desc]
        static $value: ::core::sync::atomic::AtomicPtr<u8> =
            ::core::sync::atomic::AtomicPtr::new(::core::ptr::null_mut());
        // `param_ops_charp` stores through this `char **`; `AtomicPtr` has the layout of a
        // pointer.
        $crate::param::kernel_param!($value, $name, "charp", param_ops_charp, $perm, $desc);
    };
}
#[allow(unused_imports)]
pub(crate) use charp_param;

/// The descriptor and `.modinfo` strings of parameter `$name`, stored by the kernel's
/// `$ops` in static `$value` (an atomic of the C type's layout).
macro_rules! kernel_param {
    ($value:ident, $name:literal, $type:literal, $ops:ident, $perm:expr, $desc:literal) => {
        // Stricter than C's `VERIFY_OCTAL_PERMISSIONS()`: only the owner may write a
        // parameter (C also lets the group), and no mode beyond 0777.
        const _: () = assert!(
            ($perm) & 0o002 == 0 && ($perm) & 0o020 == 0 && ($perm) <= 0o777,
            "module parameter permissions must not let others or the group write it"
        );

        // What C's `module_param()` and `MODULE_PARM_DESC()` add to `.modinfo`, which
        // `modinfo -p` lists: "parmtype=NAME:TYPE" and "parm=NAME:DESC", each ending in a NUL
        // (a loadable module's strings carry no module prefix).
        const _: () = {
            const TYPE: &str = concat!("parmtype=", $name, ":", $type, "\0");
            const DESC: &str = concat!("parm=", $name, ":", $desc, "\0");
            // `used(compiler)`, as `module!`'s own strings: a plain `#[used]` also marks the
            // section as retained, and modpost then sees a second `.modinfo` and none of the
            // module's own strings.
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARMTYPE: [u8; TYPE.len()] = $crate::param::modinfo(TYPE);
            #[link_section = ".modinfo"]
            #[used(compiler)]
            static PARM: [u8; DESC.len()] = $crate::param::modinfo(DESC);
        };

        const _: () = {
            // Only the address of `struct module` is used. Without lockdep (the `perf`
            // kernel), its `lockdep_map` member is an empty struct, which this lint flags.
            #[allow(improper_ctypes)]
            extern "C" {
                static __this_module: ::kernel::types::Opaque<::kernel::bindings::module>;
            }

            #[link_section = "__param"]
            #[used(compiler)]
            static PARAM: $crate::param::KernelParam =
                $crate::param::KernelParam(::kernel::bindings::kernel_param {
                    name: concat!($name, "\0").as_ptr().cast(),
                    // SAFETY: Only the address of the module's own `struct module`, which the
                    // loader sets up before it reads this section, is taken.
                    mod_: unsafe { __this_module.get() },
                    // Only the address of the kernel's exported table is taken.
                    ops: ::core::ptr::addr_of!(::kernel::bindings::$ops),
                    perm: $perm,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: ::kernel::bindings::kernel_param__bindgen_ty_1 {
                        arg: $value.as_ptr().cast(),
                    },
                });
        };
    };
}
pub(crate) use kernel_param;
