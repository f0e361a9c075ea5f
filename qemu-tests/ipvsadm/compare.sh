#!/usr/bin/env bash
# Runs every scenario twice, each time in a fresh network namespace (or both in one, for
# the scenarios scenarios.sh lists in ONE_NAMESPACE): once with Debian's ipvsadm 1.31 and
# once with ipvsadm-rs (both invoked as `ipvsadm`, so argv[0] and
# messages match). Every command's standard output and exit status, and the `-Ln`, `-Sn`
# and `-Ln --timeout` listings afterwards, must be identical (of -h, ipvsadm's part: the
# section ipvsadm-rs adds after it is checked on its own). Then checks what only
# ipvsadm-rs can do: JSON listings, save/restore round trips, and listing SIP templates
# with the longest Call-ID (on which ipvsadm itself crashes).
#
# Prints one line per scenario and check, then "N passed, M failed".
#
# compare.sh [NAME...] runs only the named scenarios (and the ipvsadm-rs checks only if
# `checks` is among the names).
#
# It runs none of our kernel code (the SIP templates it lists come from the kernel's C
# engine), so qemu-tests/run may give it a guest without kmemleak:
# boot-test: user-space
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
REF=${IPVSADM_REF:-/usr/sbin/ipvsadm}
RS=${IPVSADM_RS:-$(command -v ipvsadm-rs || echo "${CARGO_TARGET_DIR:-$ROOT/target}/release/ipvsadm-rs")}
# The heading of the section ipvsadm-rs adds after ipvsadm's -h text (cli/usage.rs).
OURS_HEADING='ipvsadm-rs adds (not in ipvsadm 1.31):'

# Scenario mode: run one scenario's commands in this (already fresh) namespace and log them.
if [[ ${1:-} == --run-scenario ]]; then
  scenario=$2 log=$3 errlog=$4
  . "$HERE/scenarios.sh"
  ip link set lo up
  # run ARGS...: one ipvsadm command, logged with its status. (Both are called by the
  # scenario functions, which shellcheck cannot see.)
  # shellcheck disable=SC2317
  run() {
    printf '$ ipvsadm %s\n' "$*" >>"$log"
    printf '$ ipvsadm %s\n' "$*" >>"$errlog"
    ipvsadm "$@" >>"$log" 2>>"$errlog" </dev/null
    printf '[exit %d]\n' $? >>"$log"
  }
  # run_ipvsadm_part ARGS...: `run`, but of the standard output only ipvsadm's part: what
  # comes before the section ipvsadm-rs adds to -h (a blank line, then its heading), which
  # checks.sh checks on its own. Debian's ipvsadm prints no such heading, so its output is
  # logged whole.
  # shellcheck disable=SC2317
  run_ipvsadm_part() {
    printf '$ ipvsadm %s\n' "$*" >>"$log"
    printf '$ ipvsadm %s\n' "$*" >>"$errlog"
    ipvsadm "$@" 2>>"$errlog" </dev/null | awk -v h="$OURS_HEADING" '
      $0 == h { found = 1 }   # the heading, what follows and the blank line before it go
      found { next }
      NR > 1 { print prev }
      { prev = $0 }
      END { if (!found && NR) print prev }' >>"$log"
    printf '[exit %d]\n' "${PIPESTATUS[0]}" >>"$log"
  }
  # run_stdin FILE ARGS...: the same, reading FILE on standard input.
  # shellcheck disable=SC2317
  run_stdin() {
    local f=$1; shift
    printf '$ ipvsadm %s < %s\n' "$*" "$(basename "$f")" >>"$log"
    printf '$ ipvsadm %s\n' "$*" >>"$errlog"
    ipvsadm "$@" <"$f" >>"$log" 2>>"$errlog"
    printf '[exit %d]\n' $? >>"$log"
  }
  "scenario_$scenario"
  echo "--- state afterwards" >>"$log"
  run -Ln
  run -Sn
  run -Ln --timeout
  exit 0
fi

. "$ROOT/qemu-tests/lib/common.sh"

# Without IPVS both tools would fail alike and every comparison would pass vacuously.
if ! modprobe ip_vs; then
  _result 1 "ip_vs loads (nothing can be compared without it)"
  finish
  exit 1
fi
work=$(mktemp -d /tmp/ipvsadm-compare.XXXXXX)
mkdir -p "$work/bin-ref" "$work/bin-rs"
ln -s "$REF" "$work/bin-ref/ipvsadm"
ln -s "$RS" "$work/bin-rs/ipvsadm"
export SCENARIO_DATA=$work/data
mkdir -p "$SCENARIO_DATA"

. "$HERE/scenarios.sh"
if (($#)); then
  scenarios=()
  for s in "$@"; do [[ $s == checks ]] || scenarios+=("$s"); done
else
  mapfile -t scenarios <<<"$(declare -F | awk '{print $3}' | sed -n 's/^scenario_//p')"
fi

run_one() { # run_one SCENARIO TOOL [NS]: in namespace NS, else in a fresh one -> log file
  local s=$1 tool=$2 ns=${3:-"cmp-$1-$2"}
  [[ -n ${3:-} ]] || ip netns add "$ns"
  PATH="$work/bin-$tool:$PATH" ip netns exec "$ns" "$HERE/compare.sh" --run-scenario "$s" \
    "$work/$s.$tool.log" "$work/$s.$tool.err"
  [[ -n ${3:-} ]] || ip netns del "$ns"
}

for s in "${scenarios[@]}"; do
  : >"$work/$s.ref.log"; : >"$work/$s.rs.log"
  : >"$work/$s.ref.err"; : >"$work/$s.rs.err"
  if [[ " ${ONE_NAMESPACE[*]} " == *" $s "* ]]; then
    # One namespace, so that the kernel lists the services in the same order to both.
    ip netns add "cmp-$s"
    run_one "$s" ref "cmp-$s"
    ip netns exec "cmp-$s" "$REF" -C
    run_one "$s" rs "cmp-$s"
    # Since Linux 7.1 each namespace's service table has its own random key, and a flush or a
    # resize makes a new one: the order in which the kernel lists the services changes from
    # table to table, and with it ipvsadm's own order (its comparator is not an order: it
    # subtracts addresses into an int). So the order is compared on one table, which both
    # tools list one after the other; the two runs are compared line by line, in any order.
    if [[ -e /proc/net/ip_vs_status ]]; then
      for args in -Ln -Sn; do
        ip netns exec "cmp-$s" "$REF" $args >"$work/$s.table.ref" 2>&1
        ip netns exec "cmp-$s" "$RS" $args >"$work/$s.table.rs" 2>&1
        if diff -u "$work/$s.table.ref" "$work/$s.table.rs" >"$work/$s.table.diff"; then
          _result 0 "scenario $s: ipvsadm $args of one table, in ipvsadm's order"
        else
          _result 1 "scenario $s: ipvsadm $args of one table, in ipvsadm's order"
          sed 's/^/    | /' "$work/$s.table.diff" | head -40
        fi
      done
      sort -o "$work/$s.ref.log" "$work/$s.ref.log"
      sort -o "$work/$s.rs.log" "$work/$s.rs.log"
    fi
    ip netns del "cmp-$s"
  else
    # One after the other, never side by side: IPVS keeps one service table for all
    # namespaces, and a netlink dump of the services resumes at its position in that table,
    # so a service added or deleted in another namespace between two parts of a dump makes
    # the listing show a service twice or miss one (seen: Debian's ipvsadm listed one twice
    # while ipvsadm-rs ran the same scenario beside it in another namespace).
    run_one "$s" ref
    run_one "$s" rs
  fi
  if diff -u "$work/$s.ref.log" "$work/$s.rs.log" >"$work/$s.diff"; then
    _result 0 "scenario $s ($(grep -c '^\$ ' "$work/$s.ref.log") commands)"
  else
    _result 1 "scenario $s"
    sed 's/^/    | /' "$work/$s.diff" | head -60
    echo "    | stderr of ipvsadm-rs:"; sed 's/^/    | /' "$work/$s.rs.err" | head -30
  fi
done

if ((!$#)) || [[ " $* " == *" checks "* ]]; then
  . "$HERE/checks.sh"
fi
finish
