#!/usr/bin/env bash
# Compiles src/callid.rs, src/jhash.rs, src/siphash.rs, src/maglev.rs and src/media/ the way the kernel module does -- as a module of
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
	# No panics in the kernel, the crate root's lints (src/lib.rs) under the kernel's MSRV.
	-Wclippy::indexing_slicing -Wclippy::unwrap_used -Wclippy::expect_used
	-Wclippy::panic -Wclippy::arithmetic_side_effects -Wclippy::unreachable
	-Wclippy::string_slice
)

# Two ways a crate may include the file: as a public module, or privately
# with its items re-exported and used (a private `mod callid;` alone leaves
# its `pub` items unreachable, which -Wunreachable_pub reports).
cat >"$tmp/pub_mod.rs" <<EOF
//! Includes the core's files as public modules.
#![no_std]
#[path = "$here/src/callid.rs"]
pub mod callid;
#[path = "$here/src/jhash.rs"]
pub mod jhash;
#[path = "$here/src/siphash.rs"]
pub mod siphash;
#[path = "$here/src/maglev.rs"]
pub mod maglev;
#[path = "$here/src/media/mod.rs"]
pub mod media;
EOF
cat >"$tmp/reexport.rs" <<EOF
//! Includes the core's files privately and re-exports what it uses.
#![no_std]
#[path = "$here/src/callid.rs"]
mod callid;
#[path = "$here/src/jhash.rs"]
mod jhash;
#[path = "$here/src/siphash.rs"]
mod siphash;
#[path = "$here/src/maglev.rs"]
mod maglev;
#[path = "$here/src/media/mod.rs"]
mod media;
pub use callid::{call_id, CallIdError, PEDATA_MAXLEN};
pub use jhash::jhash;
pub use maglev::{
    call_id_hash, choose, fallback, lookup, populate, source_hash, Backend, BackendId,
    PopulateError, Scratch, AF_INET, AF_INET6, DEFAULT_KEY_BYTES, EMPTY, MAX_BACKENDS,
    TABLE_SIZE,
};
pub use media::{
    message, Addr, Endpoint, Flow, MediaError, MediaSet, Message, Method, StartLine,
    MAX_BOUNDARY_LEN, MAX_ENDPOINTS, MAX_MEDIA, MAX_MULTIPART_DEPTH,
};
pub use siphash::{siphash, Hasher, SipKey};

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

/// Uses the media parser the way the engine does: the endpoints at the datagram's own
/// source address, counted by reason when there are none.
pub fn learn(payload: &[u8], source: Addr, stats: &mut [u64; MediaError::ALL.len()]) -> usize {
    let mut set = MediaSet::new();
    let result = message(payload).and_then(|msg| {
        if msg.ends_call() || !msg.negotiates_media() {
            return Ok(0);
        }
        msg.media(&mut set)?;
        Ok(set.endpoints().iter().filter(|e| e.addr == source).count())
    });
    result.unwrap_or_else(|e| {
        let slot = MediaError::ALL.iter().position(|&r| r == e);
        if let Some(n) = slot.and_then(|i| stats.get_mut(i)) {
            *n = n.saturating_add(1);
        }
        0
    })
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
