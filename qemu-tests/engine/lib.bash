# Helpers shared by the engine tests (sourced after lib/common.sh and lib/topo.sh).
# shellcheck shell=bash

TAGSINK=$ROOT/qemu-tests/engine/tagsink.py
# shellcheck disable=SC2034 # for the tests that source this file
TAGSEND=$ROOT/qemu-tests/engine/tagsend.py

# wait_for SECONDS CMD [ARG...]: runs CMD every 0.2 s until it succeeds; fails after SECONDS.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

# sinks_up: a tagsink on port 5060 of each real server, logging to /tmp/rsN.log; waits until
# all are bound.
sinks_up() {
  local i
  rm -f /tmp/rs[123].log /tmp/rs[123].log.ready
  for i in 1 2 3; do
    # In subshells, so that killing them later is not reported as a failed job.
    (in_rs "$i" "$PY" "$TAGSINK" 0.0.0.0 5060 "/tmp/rs$i.log" &)
  done
  wait_for 60 test -e /tmp/rs1.log.ready -a -e /tmp/rs2.log.ready -a -e /tmp/rs3.log.ready
}

sinks_down() { pkill -f qemu-tests/engine/tagsink.py; return 0; }

# lines FILE...: number of lines in the files (0 if none exists).
lines() { cat "$@" 2>/dev/null | wc -l; }

# wait_lines SECONDS N FILE...: waits until the files hold N lines in all.
wait_lines() {
  local t=$1 n=$2; shift 2
  wait_for "$t" test "$(lines "$@")" -ge "$n"
}

# ipvs_unload_all: unloads IPVS and every module that uses it (schedulers, engines), waiting
# for namespaces that are still going away to release them.
ipvs_unload_all() {
  local m
  while read -r m; do unload "$m" || return 1; done < <(awk '$1 ~ /^ip_vs_/ { print $1 }' /proc/modules)
  if grep -q '^ip_vs ' /proc/modules; then unload ip_vs || return 1; fi
}
