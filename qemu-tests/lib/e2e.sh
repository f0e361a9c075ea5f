# Helpers for the end-to-end SIP scenarios in qemu-tests/e2e/ (sourced after common.sh,
# topo.sh and sip.sh). The work is done by e2e.py: one Python process replaces dozens of
# execs, each of which costs about a second under the emulated debug kernel.
# shellcheck shell=bash

E2E_T0=$SECONDS
E2E_WORK=/tmp/e2e # e2e.py's work directory (logs of sipp, ...)

e2e() { "$PY" -S "$ROOT/qemu-tests/lib/e2e.py" "$@"; }

# e2e_eval COMMAND [ARG...]: an e2e.py command whose output is shell assignments (and echo
# lines); applies them. A failing command counts as a failed check.
e2e_eval() {
  local out rc
  out=$(e2e "$@")
  rc=$?
  eval "$out"
  ((rc == 0)) || _result 1 "e2e.py $1 exited with $rc"
  return $rc
}

# step TEXT: a heading with the time since the scenario began.
step() { printf '[%4ds] %s\n' $((SECONDS - E2E_T0)) "$*"; }

# e2e_finish: tears everything down, checks that nothing is left (the scenarios run one
# after another in one boot), prints the time taken and the totals.
e2e_finish() {
  _e2e_done=1
  step "teardown"
  e2e_eval down
  expect_eq "no network namespace left" "$LEFT_NS" 0
  expect_eq "no process left in them" "$LEFT_PROCS" 0
  expect_eq "no IPVS service left" "$LEFT_SVCS" 0
  expect_eq "ip_vs_pe_sip_rs and ip_vs_pe_sip unloaded" "$LEFT_MODS" 0
  echo "time: $((SECONDS - E2E_T0)) s"
  finish
}

# Whatever happens, leave nothing behind.
trap '[[ -n ${_e2e_done:-} ]] || e2e down >/dev/null 2>&1' EXIT
