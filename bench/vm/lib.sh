# Helpers for the benchmark scripts that run inside the VM (sourced).
# shellcheck shell=bash
# The variables are for the scripts that source this file.
# shellcheck disable=SC2034
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
IPVSADM=/usr/sbin/ipvsadm

say() { echo "$*" >&2; }

# unload MODULE: rmmod, retrying while IPVS still holds it (templates keep their engine
# until they expire). Fails after about a minute.
unload() {
  local _
  grep -q "^$1 " /proc/modules || return 0
  for _ in $(seq 120); do
    rmmod "$1" 2>/dev/null && return 0
    sleep 0.5
  done
  say "cannot unload $1"
  return 1
}

# use_engine MODULE: makes MODULE the registered "sip" engine (none if empty).
use_engine() {
  local m
  for m in ip_vs_pe_sip ip_vs_pe_sip_rs; do
    [[ $m == "$1" ]] || unload "$m" || return 1
  done
  [[ -z $1 ]] || modprobe "$1"
}
