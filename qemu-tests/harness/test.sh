#!/usr/bin/env bash
# Host-side self-test of scripts/vm and the boot-test runner, in one boot (each boot costs
# about a minute under emulation): the guest runs our kernel, scripts/vm returns the
# command's status and output, and a kernel report (a deliberate WARN_ON in a test module)
# is caught in both places that look for one: the runner after each test, and scripts/vm's
# init after the command.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
fail=0
check() { if "$@"; then echo "ok: $desc"; else echo "FAIL: $desc"; fail=1; fi; }

kdir=$("$ROOT/scripts/build-kernel" test)
want=$(cat "$kdir/include/config/kernel.release")
mdir=$ROOT/target/harness/warn_on
mkdir -p "$mdir" && cp "$ROOT"/qemu-tests/harness/warn_on/{Kbuild,warn_on.c} "$mdir/"
"${KMAKE[@]}" -s -C "$kdir" M="$mdir" modules >/dev/null || die "cannot build the warn_on module"

# shellcheck disable=SC2016 # expanded by the guest's shell
# --no-build: the guest needs neither our module nor ipvsadm-rs (the kernel is built above).
out=$("$ROOT/scripts/vm" --no-build -- bash -c \
  'echo "release: $(uname -r)"; qemu-tests/lib/suite.sh qemu-tests/harness/warn_on/load.sh; echo "suite exit: $?"; exit 7' 2>&1)
rc=$?
desc="the guest runs the kernel just built ($want)"
check grep -qxF "release: $want" <<<"$out"
desc="scripts/vm returns the command's status, 7"
check [ $rc -eq 7 ]
desc="the boot-test runner fails the test that warned"
check grep -qx "suite exit: 1" <<<"$out"
desc="and blames it by name"
check grep -q "suite: the kernel reported problems during qemu-tests/harness/warn_on/load.sh" <<<"$out"
desc="the WARN_ON report is printed"
check grep -q "WARNING:.*warn_on" <<<"$out"
desc="scripts/vm reports it too"
check grep -q "scripts/vm: the guest kernel reported problems" <<<"$out"
((fail)) && { echo "output of that run:"; tail -60 <<<"$out"; }

exit $fail
