# The two commands a newcomer needs: `make demo` and `make test`. Both do all set-up.
.PHONY: demo test bench setup kernel kmod clean

demo:
	scripts/demo

test:
	scripts/test

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
