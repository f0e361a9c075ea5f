#!/usr/bin/env bash
# Fuzzes the Call-ID parser for SECONDS (default 30), then the media parser (src/media/)
# for MEDIA_SECONDS (default 20; 0 skips it), with cargo-fuzz.
#
#   ipvs-pe-sip/fuzz/run.sh [SECONDS [MEDIA_SECONDS]]
#
# Installs the pinned cargo-fuzz if it is missing. cargo-fuzz needs
# nightly-only rustc flags (-Zsanitizer, -Cpasses=sancov-module, ...); the
# stable toolchain accepts them with RUSTC_BOOTSTRAP=1. AddressSanitizer is
# used when the toolchain ships its runtime, otherwise no sanitizer (the
# code under test is safe Rust: the coverage and the assertions matter).
# Seeds are the differential corpus (examples/corpus.rs) for call_id and
# fuzz/seeds/media for media; what the fuzzer learns stays in fuzz/corpus/TARGET,
# crashes go to fuzz/artifacts/TARGET. Exits non-zero if a target fails.
set -euo pipefail

seconds=${1:-30}
media_seconds=${2:-20}
cargo_fuzz_version=0.13.2

fuzz_dir=$(cd "$(dirname "$0")" && pwd)
crate_dir=$(dirname "$fuzz_dir")

if [ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz $cargo_fuzz_version" ]; then
	cargo install cargo-fuzz --version "$cargo_fuzz_version" --locked
fi

export RUSTC_BOOTSTRAP=1

sysroot=$(rustc --print sysroot)
host=$(rustc -vV | sed -n 's/^host: //p')
if compgen -G "$sysroot/lib/rustlib/$host/lib/librustc-*_rt.asan.a" >/dev/null; then
	sanitizer=address
else
	sanitizer=none
fi

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
(cd "$crate_dir" && cargo run -q --example corpus -- "$seeds/corpus" >/dev/null)
rm -f "$seeds/corpus/index.tsv"

mkdir -p "$fuzz_dir/corpus/call_id"
echo "fuzzing call_id for ${seconds}s (sanitizer: $sanitizer)"
cd "$crate_dir"
cargo fuzz run call_id --sanitizer "$sanitizer" --debug-assertions \
	"$fuzz_dir/corpus/call_id" "$seeds/corpus" -- \
	-max_total_time="$seconds" -max_len=4096 -dict="$fuzz_dir/call_id.dict" \
	-print_final_stats=1

# libFuzzer reads -max_total_time=0 as "no limit".
if ((media_seconds > 0)); then
	mkdir -p "$fuzz_dir/corpus/media"
	echo "fuzzing media for ${media_seconds}s (sanitizer: $sanitizer)"
	cargo fuzz run media --sanitizer "$sanitizer" --debug-assertions \
		"$fuzz_dir/corpus/media" "$fuzz_dir/seeds/media" -- \
		-max_total_time="$media_seconds" -max_len=4096 -dict="$fuzz_dir/media.dict" \
		-print_final_stats=1
fi
