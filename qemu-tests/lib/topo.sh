# The test topology for the bash tests inside the VM (sourced): its names and addresses come
# from topology.conf and its set-up from ipvslab.topology, which the Python scenarios use too.
#
#   client ns "cli" --veth-- director ns "dir" --bridge-- real servers "rs1" "rs2" "rs3"
#   (addresses in topology.conf; every one lives only inside these namespaces)
#
# Gives: topo_up, topo_down, in_cli, in_dir, in_rs N, $CLI_IP $DIR_IP $VIP $CLI_IP6 $DIR_IP6
# $VIP6, arrays RS_IPS RS_IP6S, $PY, stat NAME, template_callids_hex.
# shellcheck shell=bash

_TOPO_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PY=/usr/bin/python3

# topology.conf's NAME=VALUE lines, read as data (a list of several words becomes an array).
while IFS='=' read -r _k _v; do
  [[ $_k =~ ^[A-Z][A-Z0-9_]*$ ]] || continue
  read -r -a _words <<<"$_v"
  declare -g -n _ref=$_k
  # shellcheck disable=SC2178 # _ref names a different variable on each line
  if ((${#_words[@]} > 1)); then _ref=("${_words[@]}"); else _ref=$_v; fi
  declare -g +n _ref
  unset _ref
done <"$_TOPO_LIB/topology.conf"
unset _k _v _words

in_cli() { ip netns exec "$CLI_NS" "$@"; }
in_dir() { ip netns exec "$DIR_NS" "$@"; }
in_rs() { local n=$1; shift; ip netns exec "${RS_NS[n - 1]}" "$@"; }

# One Python process does the whole set-up with netlink (every exec costs up to a second
# under the emulated debug kernel).
topo_up() { PYTHONPATH=$_TOPO_LIB "$PY" -S -m ipvslab.topology up; }
topo_down() { PYTHONPATH=$_TOPO_LIB "$PY" -S -m ipvslab.topology down; }

# The Call-IDs of the director's templates made by engine "sip", one per line, as hex.
template_callids_hex() {
  in_dir "$PY" - <<'PY'
import sys
with open("/proc/net/ip_vs_conn", "rb") as f:
    for line in f.read().split(b"\n")[1:]:
        parts = line.split(b" ")
        fields = [p for p in parts if p]
        # Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires PEName PEData
        if len(fields) >= 11 and fields[9] == b"sip":
            data = line[line.index(b" sip ") + 5:]
            print(data.hex())
PY
}

# stat NAME: a counter of our engine, as the director's namespace sees it (the root
# namespace's before topo_up).
stat() {
  local f=/proc/net/ip_vs_pe_sip_stats out k v
  if [[ -e /run/netns/$DIR_NS ]]; then out=$(in_dir cat "$f" 2>/dev/null); else out=$(cat "$f" 2>/dev/null); fi
  if [[ -n $out ]]; then
    while read -r k v; do [[ $k == "$1" ]] && { echo "$v"; return 0; }; done <<<"$out"
  fi
  return 1
}
