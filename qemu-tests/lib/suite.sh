#!/usr/bin/env bash
# Inside the VM: runs boot tests one after another in this one boot, and prints the totals of
# their checks. A boot costs over a minute under emulation, so the tests share one; to keep
# them independent, each test's kernel reports are checked right after it, and whatever it
# left behind (processes, namespaces, services, modules) is cleared before the next.
#
# suite.sh TEST[:SECONDS]...   (each TEST a script path relative to the project root)
# A test fails if it exits non-zero, ran no check (its last line of totals, "N passed, M
# failed", is missing or says 0 and 0), runs past its deadline (SECONDS, given by qemu-tests/run
# from the test's known duration; SUITE_TEST_TIMEOUT, default 3000, when none is given: a
# deadline only catches a hang), or the kernel reported a problem while it ran.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 1
default_limit=${SUITE_TEST_TIMEOUT:-3000}

# Back to a clean system: nothing of a previous test may change the next one's result. Each
# step runs only when there is something to clear, seen with shell builtins: under the debug
# kernel every exec costs about a second, and most tests leave nothing behind.
reset_system() {
  pkill -x 'sipp|python3' 2>/dev/null
  local lines=() m c n busy=() master=0 backup=0
  [[ -r /proc/net/ip_vs ]] && mapfile -t lines </proc/net/ip_vs
  # Three header lines; any more is a service.
  ((${#lines[@]} > 3)) && ipvsadm -C 2>/dev/null
  # Sync daemons are kernel threads named ipvs-m:... (master) and ipvs-b:... (backup).
  for c in /proc/[0-9]*/comm; do
    read -r n 2>/dev/null <"$c" || continue
    case $n in ipvs-m:*) master=1 ;; ipvs-b:*) backup=1 ;; esac
  done
  ((master)) && ipvsadm --stop-daemon master 2>/dev/null
  ((backup)) && ipvsadm --stop-daemon backup 2>/dev/null
  compgen -G '/run/netns/*' >/dev/null && ip -all netns delete 2>/dev/null
  for m in ip_vs_pe_sip_rs ip_vs_pe_tok_rs ip_vs_pe_sip ip_vs_sipmh; do loaded "$m" && busy+=("$m"); done
  # Namespaces are torn down asynchronously, and their templates hold the engine: unloaded
  # once free, by ipvslab (a Python start costs seconds here, so only when one is loaded).
  ((${#busy[@]})) && PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.modules unload \
    --deadline 30 "${busy[@]}" 2>&1 | sed 's/^/suite: /'
  return 0
}

# loaded MODULE: whether MODULE is in /proc/modules (read by a builtin, no process).
loaded() {
  local mods
  read -r -d '' mods </proc/modules
  [[ $'\n'$mods == *$'\n'"$1 "* ]]
}

# cpu_ticks: the guest's CPU time so far, in clock ticks (USER_HZ, 100 a second): "user
# system softirq idle" from /proc/stat, read by a builtin.
cpu_ticks() {
  local _ user nice system idle iowait irq softirq
  read -r _ user nice system idle iowait irq softirq _ </proc/stat
  echo "$((user + nice)) $((system + irq)) $softirq $((idle + iowait))"
}

# cpu_used BEFORE: where the guest's CPU went since BEFORE (cpu_ticks), in seconds. What a
# test costs the host is its busy time, not its length: three guests share two cores.
cpu_used() {
  local -a a b
  read -ra a <<<"$1"
  read -ra b <<<"$(cpu_ticks)"
  printf 'guest CPU: user %d s, system %d s, softirq %d s, idle %d s\n' \
    $(((b[0] - a[0]) / 100)) $(((b[1] - a[1]) / 100)) $(((b[2] - a[2]) / 100)) $(((b[3] - a[3]) / 100))
}

passed=0 failed=0 bad=()
for arg in "$@"; do
  t=${arg%%:*} limit=$default_limit
  [[ $arg == *:* ]] && limit=${arg##*:}
  echo "=== $t"
  start=$SECONDS cpu0=$(cpu_ticks)
  out=/tmp/suite.out
  dmesg --clear
  timeout --kill-after=10 "$limit" "$ROOT/$t" 2>&1 | tee "$out"
  rc=${PIPESTATUS[0]}
  ((rc == 124 || rc == 137)) && echo "suite: $t did not finish within ${limit}s"
  line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -1)
  p=0 f=0
  [[ -n $line ]] && read -r p _ f _ <<<"$line"
  # A test that ran no check showed nothing, whatever its status.
  if ((rc == 0 && p + f == 0)); then
    echo "suite: $t ran no check (no \"N passed, M failed\" line with N or M above 0)"
    rc=1
  fi
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
  echo "    $(cpu_used "$cpu0")"
  echo "=== $t: exit $rc in $((SECONDS - start))s"
  reset_system
done
((${#bad[@]})) && echo "failed: ${bad[*]}"
echo "qemu-tests: $passed passed, $failed failed"
((${#bad[@]} == 0))
