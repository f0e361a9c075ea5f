# A SIP load-balancing topology in network namespaces (sourced by tests inside the VM).
#
#   client ns "cli" --veth-- director ns "dir" --bridge-- real servers "rs1" "rs2" "rs3"
#   10.0.1.2               10.0.1.1 (VIP 10.0.1.100)      10.0.2.11 .12 .13 (gw 10.0.2.1)
#                          10.0.2.1
#   and the same in IPv6: fd00:1::2, fd00:1::1 (VIP fd00:1::100), fd00:2::1, fd00:2::11...
#
# Every address lives only inside these namespaces.
# shellcheck shell=bash

CLI_IP=10.0.1.2 DIR_IP=10.0.1.1 VIP=10.0.1.100
CLI_IP6=fd00:1::2 DIR_IP6=fd00:1::1 VIP6=fd00:1::100
RS_IPS=(10.0.2.11 10.0.2.12 10.0.2.13)
RS_IP6S=(fd00:2::11 fd00:2::12 fd00:2::13)
PY=/usr/bin/python3

in_cli() { ip netns exec cli "$@"; }
in_dir() { ip netns exec dir "$@"; }
in_rs() { local n=$1; shift; ip netns exec "rs$n" "$@"; }

topo_up() {
  topo_down
  local ns
  for ns in cli dir rs1 rs2 rs3; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
  done
  ip link add c0 netns cli type veth peer name d0 netns dir
  ip -n cli addr add "$CLI_IP/24" dev c0
  ip -n cli addr add "$CLI_IP6/64" dev c0 nodad
  ip -n dir addr add "$DIR_IP/24" dev d0
  ip -n dir addr add "$VIP/32" dev d0
  ip -n dir addr add "$DIR_IP6/64" dev d0 nodad
  ip -n dir addr add "$VIP6/128" dev d0 nodad
  ip -n cli link set c0 up
  ip -n dir link set d0 up
  ip -n cli route add default via "$DIR_IP"
  ip -n cli -6 route add default via "$DIR_IP6"

  ip -n dir link add br0 type bridge
  ip -n dir addr add 10.0.2.1/24 dev br0
  ip -n dir addr add fd00:2::1/64 dev br0 nodad
  ip -n dir link set br0 up
  local i
  for i in 1 2 3; do
    ip link add "r$i" netns "rs$i" type veth peer name "b$i" netns dir
    ip -n dir link set "b$i" master br0 up
    ip -n "rs$i" addr add "${RS_IPS[i - 1]}/24" dev "r$i"
    ip -n "rs$i" addr add "${RS_IP6S[i - 1]}/64" dev "r$i" nodad
    ip -n "rs$i" link set "r$i" up
    ip -n "rs$i" route add default via 10.0.2.1
    ip -n "rs$i" -6 route add default via fd00:2::1
  done
  in_dir sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

topo_down() {
  local ns
  for ns in cli dir rs1 rs2 rs3; do ip netns del "$ns" 2>/dev/null; done
  return 0
}

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

# stat NAME: a counter of our engine.
stat() { cat "/sys/module/ip_vs_pe_sip_rs/stats/$1"; }
