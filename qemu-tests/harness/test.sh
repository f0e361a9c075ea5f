#!/usr/bin/env bash
# Host-side self-test of scripts/vm: it boots our kernel, returns the command's status, and
# fails a run whose kernel warned.
set -uo pipefail
. "$(dirname "$0")/../../scripts/lib.sh"
fail=0
check() { if "$@"; then echo "ok: $desc"; else echo "FAIL: $desc"; fail=1; fi; }

desc="scripts/vm -- uname -r prints our kernel's release"
release=$("$ROOT/scripts/vm" -- uname -r)
check [ "$(echo "$release" | tail -1)" = "6.12.117-ipvs-pe-sip-test" ]

desc="scripts/vm -- false exits non-zero"
"$ROOT/scripts/vm" -- false
check [ $? -ne 0 ]

desc="scripts/vm -- sh -c 'exit 7' returns 7"
"$ROOT/scripts/vm" -- sh -c 'exit 7'
check [ $? -eq 7 ]

desc="a deliberate WARN_ON in a test module fails the run"
kdir=$("$ROOT/scripts/build-kernel" test)
mdir=$ROOT/target/harness/warn_on
mkdir -p "$mdir" && cp "$ROOT"/qemu-tests/harness/warn_on/{Kbuild,warn_on.c} "$mdir/"
"${KMAKE[@]}" -s -C "$kdir" M="$mdir" modules >/dev/null || die "cannot build the warn_on module"
out=$("$ROOT/scripts/vm" -- insmod "$mdir/warn_on.ko" 2>&1)
rc=$?
check [ $rc -ne 0 ]
desc="the WARN_ON report is printed"
check grep -q "WARNING:.*warn_on" <<<"$out"

exit $fail
