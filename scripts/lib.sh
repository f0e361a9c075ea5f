# Shared settings for the project's scripts; sourced, not run.
# shellcheck shell=bash
# The variables are for the scripts that source this file.
# shellcheck disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Expensive artifacts (kernel trees) live outside the checkout so that a clean
# clone on the same machine reuses them.
CACHE=${IPVS_PE_SIP_CACHE:-$HOME/.cache/ipvs-pe-sip}
# Cargo's output too (a cold build of the workspace, its tests, docs and fuzzer is minutes
# of a 2-core machine). Cargo's own fingerprints decide what is stale, so sharing it
# between clones is safe; the binaries the guests run are under $BIN.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/cargo}
BIN=$CARGO_TARGET_DIR/release
# sip-options-check linked statically, as the guests run it: keepalived's health check
# execs it every few seconds, and under the emulated debug kernel an exec of a dynamically
# linked program costs 2.5 times as much (`sip-options-check --help` in a test-kernel guest
# on a busy host: 3.9 s a run dynamically linked, 1.6 s statically).
STATIC_TARGET=x86_64-unknown-linux-gnu
STATIC_BIN=$CARGO_TARGET_DIR/$STATIC_TARGET/release
# The LD_PRELOAD shim the boot tests run sipp with (qemu-tests/lib/sipp_idle.c), built on
# the host: compiled inside each debug guest, it took up to 30 s of that guest's first sipp test.
SIPP_SHIM=$CARGO_TARGET_DIR/sipp_idle.so
KERNEL_TARBALL=/usr/src/linux-source-6.12.tar.xz
# The kernel's Rust must be built by Debian's rustc (it ships `core`'s source);
# user-space crates keep using the rustup toolchain on PATH.
KRUSTC=/usr/bin/rustc
KCLIPPY=/usr/bin/clippy-driver
KBINDGEN=$HOME/.cargo/bin/bindgen
KMAKE=(make LLVM=1 "RUSTC=$KRUSTC" "BINDGEN=$KBINDGEN" "CLIPPY_DRIVER=$KCLIPPY")
JOBS=$(($(nproc) + 1))

log() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# Prints the cache key of a kernel flavour: a hash of everything that
# determines the build.
kernel_key() {
  local flavour=$1
  {
    dpkg-query -W -f='${Package} ${Version}\n' linux-source-6.12
    sha256sum "$ROOT"/kernel/patches/*.patch "$ROOT/kernel/config/base.config" \
      "$ROOT/kernel/config/$flavour.config" "$ROOT/scripts/build-kernel" | cut -d' ' -f1
    "$KRUSTC" --version
    "$KBINDGEN" --version
    clang --version | head -1
    ld.lld --version | head -1
  } | sha256sum | cut -c1-16
}

kernel_dir() { echo "$CACHE/kernel-$1-$(kernel_key "$1")"; }
