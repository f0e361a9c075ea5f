# The two commands a newcomer needs: `make demo` and `make test`. Both do all set-up.
.PHONY: demo test setup kernel kmod clean

demo:
	scripts/demo

test:
	scripts/test

setup:
	scripts/setup

kernel: setup
	scripts/build-kernel test

kmod: setup
	scripts/build-kmod test

clean:
	cargo clean
