# Shared settings for the project's scripts; sourced, not run.
# shellcheck shell=bash
# The variables are for the scripts that source this file.
# shellcheck disable=SC2034

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# Expensive artifacts (kernel trees) live outside the checkout so that a clean
# clone on the same machine reuses them.
CACHE=${IPVS_PE_SIP_CACHE:-$HOME/.cache/ipvs-pe-sip}
# Cargo's output too (a cold build of the workspace, its tests, docs and fuzzer is minutes
# of a 2-core machine), one directory per checkout: cargo judges a local crate stale by its
# files' times, so a directory shared with a clone built later handed this checkout that
# clone's test binaries. The binaries the guests run are under $BIN.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$CACHE/cargo-$(printf %s "$ROOT" | sha256sum | cut -c1-16)}
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
# The kernel series we build, newest first (kernel/kernels); the first is the default.
KERNELS_FILE=$ROOT/kernel/kernels
mapfile -t SERIES_ALL < <(awk '!/^#/ && NF { print $1 }' "$KERNELS_FILE")
DEFAULT_SERIES=${SERIES_ALL[0]}
# The kernel's Rust must be built by Debian's rustc (it ships `core`'s source);
# user-space crates keep using the rustup toolchain on PATH.
KRUSTC=/usr/bin/rustc
KCLIPPY=/usr/bin/clippy-driver
KBINDGEN=$HOME/.cargo/bin/bindgen
JOBS=$(($(nproc) + 1))

log() { printf '%s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

# series_field SERIES N: field N (2: the suite, 3: the LLVM version) of SERIES's line in
# kernel/kernels; fails for a series that is not there.
series_field() {
  awk -v s="$1" -v n="$2" '!/^#/ && $1 == s { print $n; found = 1 } END { exit !found }' \
    "$KERNELS_FILE"
}

# check_series SERIES: dies unless SERIES is one of kernel/kernels.
check_series() {
  series_field "$1" 1 >/dev/null ||
    die "unknown kernel '$1' (kernel/kernels has: ${SERIES_ALL[*]})"
}

kernel_tarball() { echo "/usr/src/linux-source-$1.tar.xz"; }

# kmake SERIES ARG...: the kernel's make for SERIES, with its LLVM (clang, lld and the
# libclang bindgen loads: without LIBCLANG_PATH it takes the newest installed), Debian's
# rustc and our bindgen.
kmake() {
  local llvm
  llvm=$(series_field "$1" 3) || die "unknown kernel '$1'"
  shift
  LIBCLANG_PATH=/usr/lib/llvm-$llvm/lib make LLVM=-"$llvm" "RUSTC=$KRUSTC" "BINDGEN=$KBINDGEN" \
    "CLIPPY_DRIVER=$KCLIPPY" "$@"
}

# Prints the cache key of a kernel SERIES and FLAVOUR: a hash of everything that determines
# the build (the source package's version, patches, configuration, build script, toolchain).
kernel_key() {
  local series=$1 flavour=$2 llvm
  llvm=$(series_field "$series" 3)
  {
    dpkg-query -W -f='${Package} ${Version}\n' "linux-source-$series"
    sha256sum "$ROOT/kernel/patches/$series"/*.patch "$ROOT/kernel/config/base.config" \
      "$ROOT/kernel/config/$flavour.config" "$ROOT/scripts/build-kernel" | cut -d' ' -f1
    [[ ! -f $ROOT/kernel/config/$series.config ]] ||
      sha256sum "$ROOT/kernel/config/$series.config" | cut -d' ' -f1
    echo "llvm $llvm"
    "$KRUSTC" --version
    "$KBINDGEN" --version
    "clang-$llvm" --version | head -1
    "ld.lld-$llvm" --version | head -1
  } | sha256sum | cut -c1-16
}

kernel_dir() { echo "$CACHE/kernel-$1-$2-$(kernel_key "$1" "$2")"; }

# Options of the scripts that take a kernel: `--kernel SERIES` (default: the newest).
# kernel_opt "$@" sets KSERIES and SHIFT (how many arguments it took, 0 or 2).
kernel_opt() {
  KSERIES=$DEFAULT_SERIES SHIFT=0
  if [[ ${1:-} == --kernel ]]; then
    (($# > 1)) || die "--kernel needs a series (${SERIES_ALL[*]})"
    check_series "$2"
    KSERIES=$2 SHIFT=2
  fi
}
