// SPDX-License-Identifier: GPL-2.0

//! Module parameters, for a `module!` that has none in this kernel.
//!
//! C header: [`include/linux/moduleparam.h`](srctree/include/linux/moduleparam.h).
//!
//! [`bool_param!`] does what C's `module_param(name, bool, perm)` does: a `struct
//! kernel_param` in the module's `__param` section, which the module loader reads to parse
//! `modprobe NAME=VALUE` before the module's init runs, and from which sysfs makes
//! `/sys/module/<module>/parameters/NAME`. The value is an `AtomicBool` (the layout of C's
//! `bool`) that `param_ops_bool` writes and the module reads with `load`.

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
macro_rules! bool_param {
    ($value:ident, $name:literal, $perm:expr, $desc:literal) => {
        #[doc = $desc]
        static $value: ::core::sync::atomic::AtomicBool =
            ::core::sync::atomic::AtomicBool::new(false);

        // C's `VERIFY_OCTAL_PERMISSIONS()`: nobody but the owner may write a parameter, and
        // whoever may write it may read it.
        const _: () = assert!(
            ($perm) & 0o002 == 0 && ($perm) & 0o020 == 0 && ($perm) <= 0o777,
            "module parameter permissions must not let others or the group write it"
        );

        // What C's `module_param()` and `MODULE_PARM_DESC()` add to `.modinfo`, which
        // `modinfo -p` lists: "parmtype=NAME:bool" and "parm=NAME:DESC", each ending in a NUL
        // (a loadable module's strings carry no module prefix).
        const _: () = {
            const TYPE: &str = concat!("parmtype=", $name, ":bool\0");
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
                    ops: ::core::ptr::addr_of!(::kernel::bindings::param_ops_bool),
                    perm: $perm,
                    level: -1,
                    flags: 0,
                    __bindgen_anon_1: ::kernel::bindings::kernel_param__bindgen_ty_1 {
                        // `param_ops_bool` stores through this `bool *`; `AtomicBool` has
                        // the layout of `bool`.
                        arg: $value.as_ptr().cast(),
                    },
                });
        };
    };
}
pub(crate) use bool_param;
