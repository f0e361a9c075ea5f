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

# expect_balanced CALLS: the checks of a `uac` run's figures (R_*) that every balancing
# scenario makes: sipp saw no failure, the servers got every call, each call whole on one
# server, and the calls spread over all three with none above half.
expect_balanced() {
  local calls=$1
  expect_eq "sipp: no call failed" "$R_FAILED" 0
  expect_eq "sipp: every call succeeded" "$R_OK" "$calls"
  expect_eq "the servers received all $calls calls" "$R_CALLS" "$calls"
  expect_eq "no call reached more than one server" "$R_SPLIT" 0
  expect_eq "each call's INVITE, ACK and BYE reached its one server" "$R_WHOLE" "$calls"
  expect_eq "the calls spread over all three servers" "$R_SERVERS_USED" 3
  expect "no server has more than 50% of the calls ($R_MAXPCT%)" [ "$R_MAXPCT" -le 50 ]
}

# expect_templates [v6]: the director holds sip templates, each pointing at the server whose
# log has its Call-ID.
expect_templates() {
  e2e_eval templates dir "$@"
  echo "  director: $T_COUNT sip templates (those of the last minute's calls)"
  expect "the director holds sip templates" [ "$T_COUNT" -gt 0 ]
  expect_eq "each points at the server that logged its Call-ID" "$T_AGREE" "$T_COUNT"
}

# expect_engine_both_ways: with NAT and one-packet scheduling, the engine examined every packet
# IPVS handled (no connection entry outlives its packet, so the servers' answers go through
# conn_out and are examined too) and found a Call-ID in each.
expect_engine_both_ways() {
  e2e_eval stats
  e2e_eval totals dir D
  echo "  engine: examined $S_examined, found $S_found; IPVS packets in $D_IN, out $D_OUT"
  expect_eq "every datagram the engine examined had a Call-ID" "$S_found" "$S_examined"
  expect_eq "the engine examined each packet IPVS handled, both ways" "$S_examined" \
    "$((D_IN + D_OUT))"
}

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
