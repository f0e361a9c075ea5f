#!/usr/bin/env bash
# Host-side self-test of scripts/vm and the boot-test runner, in two boots side by side
# (each costs about a minute under emulation):
#  1. the guest runs our kernel; the runner (qemu-tests/lib/suite.sh) fails a test that
#     exited 0 having run no check, and the test whose kernel report (a deliberate WARN_ON
#     in a test module) came while it ran, and blames it (in that order: the runner clears
#     the kernel's log before each test); scripts/vm returns the command's status (7) and
#     reports the warning too;
#  2. a command that exits 0 after a warning and a memory leak: scripts/vm's init turns the
#     0 into 1 on the kernel's report (the one route by which a leak that kmemleak's last
#     scan finds fails a run), and the report holds kmemleak's finding.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
fail=0
check() { if "$@"; then echo "ok: $desc"; else echo "FAIL: $desc"; fail=1; fi; }

# On the newest kernel (scripts/vm's default): this tests the harness, not a kernel.
kdir=$("$ROOT/scripts/build-kernel" --kernel "$DEFAULT_SERIES" test)
want=$(cat "$kdir/include/config/kernel.release")
mdir=$ROOT/target/harness/warn_on
mkdir -p "$mdir" && cp "$ROOT"/qemu-tests/harness/warn_on/{Kbuild,warn_on.c} "$mdir/"
kmake "$DEFAULT_SERIES" -s -C "$kdir" M="$mdir" modules >/dev/null || die "cannot build the warn_on module"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck disable=SC2016 # expanded by the guest's shell
# --no-build: the guests need neither our module nor ipvsadm-rs (the kernel is built above).
"$ROOT/scripts/vm" --no-build -- bash -c '
  echo "release: $(uname -r)"
  qemu-tests/lib/suite.sh qemu-tests/harness/no_checks.sh; echo "suite exit: $?"
  qemu-tests/lib/suite.sh qemu-tests/harness/warn_on/load.sh; echo "suite exit: $?"
  exit 7' >"$work/1" 2>&1 &
one=$!
"$ROOT/scripts/vm" --no-build -- bash -c 'qemu-tests/harness/warn_on/load.sh leak=1; exit 0' \
  >"$work/2" 2>&1 &
two=$!
wait "$one"; rc1=$?
wait "$two"; rc2=$?
out=$(cat "$work/1") out2=$(cat "$work/2")

desc="the guest runs the kernel just built ($want)"
check grep -qxF "release: $want" <<<"$out"
desc="scripts/vm returns the command's status, 7"
check [ $rc1 -eq 7 ]
desc="the boot-test runner fails the test that warned"
check grep -qx "suite exit: 1" <<<"$(grep "^suite exit:" <<<"$out" | sed -n 2p)"
desc="and blames it by name"
check grep -q "suite: the kernel reported problems during qemu-tests/harness/warn_on/load.sh" <<<"$out"
desc="the WARN_ON report is printed"
check grep -q "WARNING:.*warn_on" <<<"$out"
desc="the runner fails a test that exits 0 having run no check"
check grep -qx "suite exit: 1" <<<"$(grep "^suite exit:" <<<"$out" | head -1)"
desc="and says why"
check grep -q "suite: qemu-tests/harness/no_checks.sh ran no check" <<<"$out"
desc="scripts/vm reports the warning too"
check grep -q "scripts/vm: the guest kernel reported problems" <<<"$out"
desc="a command that exits 0 after a kernel report makes scripts/vm exit 1"
check [ $rc2 -eq 1 ]
desc="with the report"
check grep -q "scripts/vm: the guest kernel reported problems" <<<"$out2"
leaks=$(grep -c "unreferenced object" <<<"$out2")
desc="which holds kmemleak's report of the leak ($leaks of the 64 objects reported)"
check [ "$leaks" -gt 0 ]
((fail)) && { echo "output of run 1:"; tail -60 <<<"$out"; echo "output of run 2:"; tail -60 <<<"$out2"; }

exit $fail
