#!/usr/bin/env bash
# Datapath benchmark, inside the perf VM: SIP datagrams from a client namespace through an
# IPVS director (NAT, one-packet scheduling, 3 real servers) with no persistence engine, the
# kernel's C engine and ours, in alternating runs. Prints one record per run:
#   datapath round=R config=none|c|rust sent=N received=N per_server=A/B/C seconds=S pps=P table=N
#
# The topology is the boot tests' standard one, made by ipvslab.topology (names and
# addresses in qemu-tests/lib/topology.conf, all living only in its namespaces):
#   cli --veth-- dir (VIP) | br0 --veth-- rs1..3
#
# Settings (environment): BENCH_ROUNDS (8), BENCH_SECONDS per run (4), BENCH_CALLS in flight
# (1024), BENCH_CONFIGS ("none c rust", for experiments on fewer).
. "$(dirname "$0")/lib.sh"
rounds=${BENCH_ROUNDS:-8}
seconds=${BENCH_SECONDS:-4}
calls=${BENCH_CALLS:-1024}
read -ra configs <<<"${BENCH_CONFIGS:-none c rust}"
# Short enough that templates are gone a few seconds after a run, so that the engine can be
# unloaded and no expiry work spills into the next run; long enough that a call's next
# message (--calls datagrams later) still finds its template.
PERSIST=5

# topo_up: the standard topology, afresh; sets T[NAME] to topology.conf's values.
declare -A T
topo_up() {
  local out k v
  out=$(PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.topology up) || return 1
  while IFS='=' read -r k v; do T[$k]=$v; done <<<"$out"
  read -ra RS_IPS <<<"${T[RS_IPS]}"
  read -ra RS_NS <<<"${T[RS_NS]}"
  VIP=${T[VIP]}
}

# service CONFIG: the virtual service for one configuration, in the director.
service() {
  local opts="-s rr -o"
  [[ $1 == none ]] || opts="-s rr -p $PERSIST -M 0.0.0.0 -o --pe sip"
  {
    echo "-C"
    echo "-A -u $VIP:5060 $opts"
    local ip
    for ip in "${RS_IPS[@]}"; do echo "-a -u $VIP:5060 -r $ip:5060 -m"; done
  } | ip netns exec "${T[DIR_NS]}" "$IPVSADM" -R
}

# flood [PREFIX...]: one run of sipflood from the client to the VIP, its record on stdout;
# PREFIX (perf record ...) runs it under another program. FLOOD_ARGS: more of sipflood's
# options (a later option wins over the defaults before it); FLOOD_MESSAGES: the message
# files (default INVITE with SDP, ACK, BYE). bench/vm/scale.sh and media.sh set them.
FLOOD_ARGS=()
FLOOD_MESSAGES=("$BENCH"/corpus/{invite_sdp,ack,bye}.sip)
flood() {
  local sinks=() i
  # Each server's link to the bridge is r1, r2, r3 (ipvslab.topology).
  for i in 1 2 3; do sinks+=(--sink "${RS_NS[i - 1]}:r$i"); done
  "$@" sipflood --client-netns "${T[CLI_NS]}" --from "${T[CLI_IP]}:5060" \
    --to "$VIP:5060" "${sinks[@]}" --calls "$calls" --warmup 1 \
    --seconds "$seconds" "${FLOOD_ARGS[@]}" "${FLOOD_MESSAGES[@]}"
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
  # shellcheck disable=SC2086 # PROFILE is a command line to split
  line=$(flood ${PROFILE:-}) || return 1
  # Entries in the director's connection table right after the run: the templates (one-packet
  # connections are never hashed), which set the hash chains' length.
  local entries
  entries=$(PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.ipvs entries "${T[DIR_NS]}")
  echo "datapath round=$1 config=$2 $line table=$entries"
  ip netns exec "${T[DIR_NS]}" "$IPVSADM" -C
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
