#!/usr/bin/env bash
# Control plane, inside the perf VM: `ipvsadm -R` (Debian's 1.31) against `ipvsadm-rs -R`
# restoring the same table, then `-Ln` listing it, each tool in a fresh network namespace.
# Prints one record per tool and round:
#   control round=R tool=T services=N dests=N restore_s=S list_s=S list_lines=N
#           restore_user_s=S restore_sys_s=S list_user_s=S list_sys_s=S
# (elapsed time, then the CPU time the tool spent in user space and in the kernel).
# The rules file is written by scripts/bench (target/bench/rules.txt). Settings
# (environment): BENCH_CP_ROUNDS (2); the order of the tools alternates between rounds.
. "$(dirname "$0")/lib.sh"
rounds=${BENCH_CP_ROUNDS:-2}
rules=$ROOT/target/bench/rules.txt
[[ -r $rules ]] || { say "control: no $rules"; exit 1; }
services=$(grep -c '^-A' "$rules")
dests=$(grep -c '^-a' "$rules")
modprobe -a ip_vs ip_vs_rr ip_vs_wlc || exit 1
echo "control settings rounds=$rounds services=$services dests=$dests"

# timed NAME CMD...: runs CMD and sets NAME to "elapsed user sys" in seconds, measured by
# bash's `time` keyword (no exec).
timed() {
  local -n _t=$1
  shift
  local TIMEFORMAT='%3R %3U %3S'
  # The command keeps its own stdout (4) and stderr (3); only time's report is captured.
  { _t=$({ time "$@" 1>&4 2>&3; } 2>&1); } 3>&2 4>&1
}

measure() { # ROUND TOOL
  local ns=cp$1$2 bin restore list
  bin=$IPVSADM
  [[ $2 == ipvsadm-rs ]] && bin=$(command -v ipvsadm-rs)
  ip netns add "$ns" || return 1
  timed restore ip netns exec "$ns" "$bin" -R <"$rules" || { say "control: $2 -R failed"; return 1; }
  timed list ip netns exec "$ns" "$bin" -Ln >/tmp/list.txt || { say "control: $2 -Ln failed"; return 1; }
  local lines r l
  lines=$(wc -l </tmp/list.txt)
  read -ra r <<<"$restore"
  read -ra l <<<"$list"
  echo "control round=$1 tool=$2 services=$services dests=$dests restore_s=${r[0]}" \
    "list_s=${l[0]} list_lines=$lines restore_user_s=${r[1]} restore_sys_s=${r[2]}" \
    "list_user_s=${l[1]} list_sys_s=${l[2]}"
  # Emptied here, synchronously, so that the namespace's cleanup does not run during the
  # next measurement.
  ip netns exec "$ns" "$IPVSADM" -C
  ip netns del "$ns"
}

for ((r = 1; r <= rounds; r++)); do
  if ((r % 2)); then order=(ipvsadm ipvsadm-rs); else order=(ipvsadm-rs ipvsadm); fi
  for tool in "${order[@]}"; do
    measure "$r" "$tool" || exit 1
  done
done
