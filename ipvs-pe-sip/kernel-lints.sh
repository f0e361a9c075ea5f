#!/usr/bin/env bash
# Compiles src/callid.rs and src/jhash.rs the way the kernel module does -- as a module of
# another no_std crate, with the kernel's rustc flags and lints (Makefile's
# rust_common_flags, less the unstable -Z ones) -- and fails on any warning.
# Checks with every rustc found: the rustup one, /usr/bin/rustc (the
# kernel's), clippy-driver (for -Wclippy::all, and for clippy's
# incompatible_msrv against the kernel's minimum rustc) and rustdoc (for the
# rustdoc lints).
set -euo pipefail

# scripts/min-tool-version.sh of the kernel: nothing newer may be used.
kernel_min_rustc=1.78.0

here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

flags=(
	--edition=2021 --crate-type=lib --cfg MODULE -Cpanic=abort
	-Dnon_ascii_idents -Dunsafe_op_in_unsafe_fn -Wmissing_docs
	-Wrust_2018_idioms -Wunreachable_pub
	-Dwarnings
)
clippy_flags=(
	-Wclippy::all -Aclippy::collapsible_if -Aclippy::collapsible_match
	-Wclippy::ignored_unit_patterns -Wclippy::mut_mut
	-Wclippy::needless_bitwise_bool -Aclippy::needless_lifetimes
	-Wclippy::no_mangle_with_rust_abi -Wclippy::undocumented_unsafe_blocks
	-Aclippy::uninlined_format_args -Wclippy::unnecessary_safety_comment
	-Wclippy::unnecessary_safety_doc -Aclippy::unwrap_or_default
	-Wclippy::float_arithmetic
)

# Two ways a crate may include the file: as a public module, or privately
# with its items re-exported and used (a private `mod callid;` alone leaves
# its `pub` items unreachable, which -Wunreachable_pub reports).
cat >"$tmp/pub_mod.rs" <<EOF
//! Includes the parser as a public module.
#![no_std]
#[path = "$here/src/callid.rs"]
pub mod callid;
#[path = "$here/src/jhash.rs"]
pub mod jhash;
EOF
cat >"$tmp/reexport.rs" <<EOF
//! Includes the parser privately and re-exports what it uses.
#![no_std]
#[path = "$here/src/callid.rs"]
mod callid;
#[path = "$here/src/jhash.rs"]
mod jhash;
pub use callid::{call_id, CallIdError, PEDATA_MAXLEN};
pub use jhash::jhash;

/// Uses the interface the way the persistence engine does.
pub fn fill_param<'a>(payload: &'a [u8], stats: &mut [u64; 3]) -> Option<&'a [u8]> {
    match call_id(payload) {
        Ok(id) if id.len() <= PEDATA_MAXLEN => Some(id),
        Ok(_) => None,
        Err(e) => {
            let slot = match e.name() {
                "no_callid" => 0,
                "too_long" => 1,
                _ => 2,
            };
            if let Some(n) = stats.get_mut(slot) {
                *n = n.saturating_add(1);
            }
            None
        }
    }
}
EOF

compilers=(rustc)
[ -x /usr/bin/rustc ] && compilers+=(/usr/bin/rustc)
for wrapper in pub_mod reexport; do
	for rc in "${compilers[@]}"; do
		echo "$wrapper: $($rc --version)"
		"$rc" "${flags[@]}" --emit=metadata -o "$tmp/$wrapper.rmeta" "$tmp/$wrapper.rs"
	done
	if command -v clippy-driver >/dev/null; then
		echo "$wrapper: $(clippy-driver --version) -Wclippy::all, MSRV $kernel_min_rustc"
		CARGO_PKG_RUST_VERSION=$kernel_min_rustc clippy-driver "${flags[@]}" "${clippy_flags[@]}" --emit=metadata \
			-o "$tmp/$wrapper.rmeta" "$tmp/$wrapper.rs"
	fi
	if command -v rustdoc >/dev/null; then
		echo "$wrapper: rustdoc lints"
		rustdoc --edition=2021 --crate-type=lib -Dwarnings \
			-Wrustdoc::missing_crate_level_docs -Wrustdoc::unescaped_backticks \
			--document-private-items -o "$tmp/doc" "$tmp/$wrapper.rs"
	fi
done
echo "kernel lints: clean"
