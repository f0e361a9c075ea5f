# The two commands a newcomer needs: `make demo` and `make test`. Both do all set-up.
.PHONY: demo test check bench setup kernel kmod clean

demo:
	scripts/demo

test:
	scripts/test

# Before a commit, in a few minutes, without root or a VM: lints, docs, unit and property
# tests, shellcheck, flake8, the minimum Rust version. `make test` runs it too.
check:
	scripts/check

# Benchmarks (never part of `test`): prints the figures, records them in BENCHMARKS.md.
bench:
	scripts/bench

setup:
	scripts/setup

kernel: setup
	scripts/build-kernel test

kmod: setup
	scripts/build-kmod test

clean:
	cargo clean
