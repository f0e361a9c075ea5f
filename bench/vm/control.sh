#!/usr/bin/env bash
# Control plane, inside the perf VM: `ipvsadm -R` (Debian's 1.31) against `ipvsadm-rs -R`
# restoring the same table, then `-Ln` listing it, each tool in a fresh network namespace.
# Prints one record per tool and round:
#   control round=R tool=T services=N dests=N restore_s=S list_s=S list_lines=N
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

now() { echo "${EPOCHREALTIME/./}"; }   # microseconds, without an exec

measure() { # ROUND TOOL
  local ns=cp$1$2 bin t0 t1 t2
  bin=$IPVSADM
  [[ $2 == ipvsadm-rs ]] && bin=$(command -v ipvsadm-rs)
  ip netns add "$ns" || return 1
  t0=$(now)
  ip netns exec "$ns" "$bin" -R <"$rules" || { say "control: $2 -R failed"; return 1; }
  t1=$(now)
  ip netns exec "$ns" "$bin" -Ln >/tmp/list.txt || { say "control: $2 -Ln failed"; return 1; }
  t2=$(now)
  local lines
  lines=$(wc -l </tmp/list.txt)
  printf 'control round=%d tool=%s services=%d dests=%d restore_s=%d.%06d list_s=%d.%06d list_lines=%d\n' \
    "$1" "$2" "$services" "$dests" $(((t1 - t0) / 1000000)) $(((t1 - t0) % 1000000)) \
    $(((t2 - t1) / 1000000)) $(((t2 - t1) % 1000000)) "$lines"
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
