#!/usr/bin/env bash
# Inside the VM: runs boot tests one after another in this one boot, and prints the totals of
# their checks. A boot costs over a minute under emulation, so the tests share one; to keep
# them independent, each test's kernel reports are checked right after it, and whatever it
# left behind (processes, namespaces, services, modules) is cleared before the next.
#
# suite.sh TEST[:SECONDS]...   (each TEST a script path relative to the project root)
# A test fails if it exits non-zero, runs past its deadline (SECONDS, given by qemu-tests/run
# from the test's known duration; SUITE_TEST_TIMEOUT, default 3000, when none is given: a
# deadline only catches a hang), or the kernel reported a problem while it ran.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
default_limit=${SUITE_TEST_TIMEOUT:-3000}

# Back to a clean system: nothing of a previous test may change the next one's result.
reset_system() {
  pkill -x sipp 2>/dev/null
  pkill -x python3 2>/dev/null
  ipvsadm -C 2>/dev/null
  ipvsadm --stop-daemon master 2>/dev/null
  ipvsadm --stop-daemon backup 2>/dev/null
  ip -all netns delete 2>/dev/null
  local m
  for m in ip_vs_pe_sip_rs ip_vs_pe_tok_rs ip_vs_pe_sip; do
    grep -q "^$m " /proc/modules || continue
    # Namespaces are torn down asynchronously, and their templates hold the engine.
    for _ in $(seq 100); do rmmod "$m" 2>/dev/null && break; sleep 0.3; done
    grep -q "^$m " /proc/modules && echo "suite: $m is still in use after the test"
  done
  return 0
}

passed=0 failed=0 bad=()
for arg in "$@"; do
  t=${arg%%:*} limit=$default_limit
  [[ $arg == *:* ]] && limit=${arg##*:}
  echo "=== $t"
  start=$SECONDS
  out=/tmp/suite.out
  dmesg --clear
  timeout --kill-after=10 "$limit" "$ROOT/$t" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  ((rc == 124 || rc == 137)) && echo "suite: $t did not finish within ${limit}s"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
  p=0 f=0
  [[ -n $line ]] && read -r p _ f _ <<<"$line"
  reports=$("$ROOT/scripts/vm-reports")
  if [[ -n $reports ]]; then
    echo "suite: the kernel reported problems during $t:"
    echo "$reports"
    rc=1
  fi
  passed=$((passed + p)) failed=$((failed + f))
  if ((rc != 0)); then
    bad+=("$t")
    ((f > 0)) || failed=$((failed + 1))
  fi
  echo "=== $t: exit $rc in $((SECONDS - start))s"
  reset_system
done
((${#bad[@]})) && echo "failed: ${bad[*]}"
echo "qemu-tests: $passed passed, $failed failed"
((${#bad[@]} == 0))
