# Helpers for the benchmark scripts that run inside the VM (sourced).
# shellcheck shell=bash
# The variables are for the scripts that source this file.
# shellcheck disable=SC2034
BENCH=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ROOT=$(cd "$BENCH/.." && pwd)
IPVSADM=/usr/sbin/ipvsadm

say() { echo "$*" >&2; }

# unload MODULE...: each one that is loaded, as soon as IPVS no longer holds it (templates
# keep their engine until they expire), by the boot tests' ipvslab. Fails after a minute.
unload() {
  PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.modules unload --deadline 60 "$@"
}

# use_engine MODULE: makes MODULE the registered "sip" engine (none if empty).
use_engine() {
  local m others=()
  for m in ip_vs_pe_sip ip_vs_pe_sip_rs; do [[ $m == "$1" ]] || others+=("$m"); done
  unload "${others[@]}" || return 1
  [[ -z $1 ]] || modprobe "$1"
}
