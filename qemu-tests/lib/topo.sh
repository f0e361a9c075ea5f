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

# Every exec costs up to a second in the emulated debug kernel, so the set-up is one `ip
# -batch` per namespace rather than one `ip` per step.
topo_up() {
  topo_down
  local ns i
  {
    for ns in cli dir rs1 rs2 rs3; do echo "netns add $ns"; done
    echo "link add c0 netns cli type veth peer name d0 netns dir"
    for i in 1 2 3; do echo "link add r$i netns rs$i type veth peer name b$i netns dir"; done
  } | ip -batch -
  ip -n cli -batch - <<EOF
link set lo up
addr add $CLI_IP/24 dev c0
addr add $CLI_IP6/64 dev c0 nodad
link set c0 up
route add default via $DIR_IP
route add default via $DIR_IP6
EOF
  {
    echo "link set lo up"
    echo "addr add $DIR_IP/24 dev d0"
    echo "addr add $VIP/32 dev d0"
    echo "addr add $DIR_IP6/64 dev d0 nodad"
    echo "addr add $VIP6/128 dev d0 nodad"
    echo "link set d0 up"
    echo "link add br0 type bridge"
    echo "addr add 10.0.2.1/24 dev br0"
    echo "addr add fd00:2::1/64 dev br0 nodad"
    echo "link set br0 up"
    for i in 1 2 3; do echo "link set b$i master br0 up"; done
  } | ip -n dir -batch -
  for i in 1 2 3; do
    ip -n "rs$i" -batch - <<EOF
link set lo up
addr add ${RS_IPS[i - 1]}/24 dev r$i
addr add ${RS_IP6S[i - 1]}/64 dev r$i nodad
link set r$i up
route add default via 10.0.2.1
route add default via fd00:2::1
EOF
  done
  in_dir sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
}

topo_down() {
  local ns
  for ns in cli dir rs1 rs2 rs3; do
    [[ -e /run/netns/$ns ]] && echo "netns del $ns"
  done | ip -batch - 2>/dev/null
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

# stat NAME: a counter of our engine in the director's namespace.
stat() { in_dir awk -v n="$1" '$1 == n { print $2 }' /proc/net/ip_vs_pe_sip_stats; }
