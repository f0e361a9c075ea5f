#!/usr/bin/env bash
# Datapath benchmark, inside the perf VM: SIP datagrams from a client namespace through an
# IPVS director (NAT, one-packet scheduling, 3 real servers) with no persistence engine, the
# kernel's C engine and ours, in alternating runs. Prints one record per run:
#   datapath round=R config=none|c|rust sent=N received=N per_server=A/B/C seconds=S pps=P table=N
#
#   bcli 10.0.1.2 --veth-- bdir 10.0.1.1, VIP 10.0.1.100 | br0 10.0.2.1 --veth-- brs1..3 10.0.2.11..13
#
# Every address lives only in these namespaces. Settings (environment): BENCH_ROUNDS (8),
# BENCH_SECONDS per run (4), BENCH_CALLS in flight (1024), BENCH_CONFIGS ("none c rust",
# for experiments on fewer).
. "$(dirname "$0")/lib.sh"
rounds=${BENCH_ROUNDS:-8}
seconds=${BENCH_SECONDS:-4}
calls=${BENCH_CALLS:-1024}
read -ra configs <<<"${BENCH_CONFIGS:-none c rust}"
VIP=10.0.1.100
# Short enough that templates are gone a few seconds after a run, so that the engine can be
# unloaded and no expiry work spills into the next run; long enough that a call's next
# message (--calls datagrams later) still finds its template.
PERSIST=5

topo_up() {
  local i
  ip -batch - <<EOF2 || return 1
netns add bcli
netns add bdir
netns add brs1
netns add brs2
netns add brs3
link add c0 netns bcli type veth peer name d0 netns bdir
link add r1 netns brs1 type veth peer name b1 netns bdir
link add r2 netns brs2 type veth peer name b2 netns bdir
link add r3 netns brs3 type veth peer name b3 netns bdir
EOF2
  ip -n bcli -batch - <<EOF2 || return 1
link set lo up
addr add 10.0.1.2/24 dev c0
link set c0 up
route add default via 10.0.1.1
EOF2
  ip -n bdir -batch - <<EOF2 || return 1
link set lo up
addr add 10.0.1.1/24 dev d0
addr add $VIP/32 dev d0
link set d0 up
link add br0 type bridge
addr add 10.0.2.1/24 dev br0
link set br0 up
link set b1 master br0
link set b2 master br0
link set b3 master br0
link set b1 up
link set b2 up
link set b3 up
EOF2
  for i in 1 2 3; do
    ip -n "brs$i" -batch - <<EOF2 || return 1
link set lo up
addr add 10.0.2.1$i/24 dev r$i
link set r$i up
route add default via 10.0.2.1
EOF2
  done
  ip netns exec bdir sysctl -qw net.ipv4.ip_forward=1
}

# service CONFIG: the virtual service for one configuration, in the director.
service() {
  local opts="-s rr -o"
  [[ $1 == none ]] || opts="-s rr -p $PERSIST -M 0.0.0.0 -o --pe sip"
  ip netns exec bdir "$IPVSADM" -R <<EOF2
-C
-A -u $VIP:5060 $opts
-a -u $VIP:5060 -r 10.0.2.11:5060 -m
-a -u $VIP:5060 -r 10.0.2.12:5060 -m
-a -u $VIP:5060 -r 10.0.2.13:5060 -m
EOF2
}

run() { # ROUND CONFIG
  local mod=
  case $2 in
    c) mod=ip_vs_pe_sip ;;
    rust) mod=ip_vs_pe_sip_rs ;;
  esac
  use_engine "$mod" || return 1
  service "$2" || return 1
  local line
  line=$(${PROFILE:-} sipflood --client-netns bcli --from 10.0.1.2:5060 --to "$VIP:5060" \
    --sink brs1:r1 --sink brs2:r2 --sink brs3:r3 --calls "$calls" --warmup 1 \
    --seconds "$seconds" "$BENCH"/corpus/{invite_sdp,ack,bye}.sip) || return 1
  # Entries in the director's connection table right after the run: the templates (one-packet
  # connections are never hashed), which set the hash chains' length.
  local entries
  entries=$(ip netns exec bdir grep -c . /proc/net/ip_vs_conn)
  echo "datapath round=$1 config=$2 $line table=$((entries - 1))"
  ip netns exec bdir "$IPVSADM" -C
  # The engine goes now, once its templates have expired, rather than during the next run.
  [[ -z $mod ]] || unload "$mod"
}

# prepare: modules every configuration shares, loaded once (the C engine needs conntrack's
# SIP helper, which must not be loaded in some runs only), and the topology.
prepare() {
  modprobe -a ip_vs ip_vs_rr nf_conntrack_sip || return 1
  topo_up || { say "cannot build the topology"; return 1; }
}

main() {
  prepare || exit 1
  echo "datapath settings rounds=$rounds seconds=$seconds calls=$calls persist=$PERSIST messages=invite_sdp,ack,bye"
  for ((r = 1; r <= rounds; r++)); do
    for cfg in "${configs[@]}"; do
      run "$r" "$cfg" || { say "datapath: run $r $cfg failed"; exit 1; }
    done
  done
}

# Sourced by profile.sh for its functions only.
[[ ${BASH_SOURCE[0]} != "$0" ]] || main
