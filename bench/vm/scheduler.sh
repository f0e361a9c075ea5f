#!/usr/bin/env bash
# Scheduler benchmark, inside the perf VM: the cost of choosing a server for a new call, sipmh
# against IPVS's rr and mh, in alternating runs. Every datagram is a new connection (one-packet
# scheduling, no persistence, no engine), so each one calls the scheduler; the rest of the path
# is the same for all three. Prints one record per run:
#   scheduler round=R sched=rr|mh|sipmh sent=N received=N per_server=A/B/C seconds=S pps=P
#
# Settings (environment): BENCH_ROUNDS (8), BENCH_SECONDS per run (4), BENCH_CALLS distinct
# Call-IDs (1024).
. "$(dirname "$0")/datapath.sh"
scheds=(rr mh sipmh)

# sched_run ROUND SCHED
sched_run() {
  {
    echo "-C"
    echo "-A -u $VIP:5060 -s $2 -o"
    local ip
    for ip in "${RS_IPS[@]}"; do echo "-a -u $VIP:5060 -r $ip:5060 -m"; done
  } | ip netns exec "${T[DIR_NS]}" "$IPVSADM" -R || return 1
  local line
  line=$(flood) || return 1
  echo "scheduler round=$1 sched=$2 $line"
  ip netns exec "${T[DIR_NS]}" "$IPVSADM" -C
}

modprobe -a ip_vs ip_vs_rr ip_vs_mh ip_vs_sipmh || exit 1
topo_up || { say "cannot build the topology"; exit 1; }
echo "scheduler settings rounds=$rounds seconds=$seconds calls=$calls messages=invite_sdp,ack,bye"
for ((r = 1; r <= rounds; r++)); do
  for s in "${scheds[@]}"; do
    sched_run "$r" "$s" || { say "scheduler: run $r $s failed"; exit 1; }
  done
done
