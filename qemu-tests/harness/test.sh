#!/usr/bin/env bash
# Host-side self-test of scripts/vm: it boots our kernel, returns the command's status, and
# fails a run whose kernel warned.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
fail=0
check() { if "$@"; then echo "ok: $desc"; else echo "FAIL: $desc"; fail=1; fi; }

# One boot for the status and the output (each boot costs over a minute).
desc="scripts/vm -- sh -c 'uname -r; exit 7' prints our kernel's release"
release=$("$ROOT/scripts/vm" -- sh -c 'uname -r; exit 7')
rc=$?
check [ "$(echo "$release" | tail -1)" = "6.12.117-ipvs-pe-sip-test" ]
desc="and returns the command's status, 7"
check [ $rc -eq 7 ]

desc="a deliberate WARN_ON in a test module fails the run"
kdir=$("$ROOT/scripts/build-kernel" test)
mdir=$ROOT/target/harness/warn_on
mkdir -p "$mdir" && cp "$ROOT"/qemu-tests/harness/warn_on/{Kbuild,warn_on.c} "$mdir/"
"${KMAKE[@]}" -s -C "$kdir" M="$mdir" modules >/dev/null || die "cannot build the warn_on module"
# Through the boot-test runner, so one boot checks both places that look for reports: the
# runner after each test, and scripts/vm's init after the command.
out=$("$ROOT/scripts/vm" -- qemu-tests/lib/suite.sh qemu-tests/harness/warn_on/load.sh 2>&1)
rc=$?
check [ $rc -ne 0 ]
desc="the boot-test runner blames the test that warned"
check grep -q "suite: the kernel reported problems during qemu-tests/harness/warn_on/load.sh" <<<"$out"
desc="the WARN_ON report is printed"
check grep -q "WARNING:.*warn_on" <<<"$out"
desc="scripts/vm reports it too"
check grep -q "scripts/vm: the guest kernel reported problems" <<<"$out"
((fail)) && { echo "output of that run:"; tail -40 <<<"$out"; }

exit $fail
