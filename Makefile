# The two commands a newcomer needs: `make demo` and `make test`. Both do all set-up.
.PHONY: demo test check bench setup kernel kmod clean install deb

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

# ipvsadm-rs alone, for a director that runs IPVS on its own kernel (no custom kernel, no
# root for the build): the release binary in $(DESTDIR)$(PREFIX)/sbin, its man page (section
# 8) and its bash, zsh and fish completions under $(DESTDIR)$(PREFIX)/share.
PREFIX ?= /usr/local
DESTDIR ?=
install:
	PREFIX="$(PREFIX)" DESTDIR="$(DESTDIR)" scripts/install

# The Debian package of ipvsadm-rs (cargo-deb; `scripts/setup` installs it); prints its path.
deb:
	scripts/deb

kernel: setup
	scripts/build-kernel test

kmod: setup
	scripts/build-kmod test

clean:
	cargo clean
