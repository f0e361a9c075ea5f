#!/usr/bin/env bash
# The engine alone, inside the perf VM: bench/kmod's pe_sip_bench times fill_param,
# hashkey_raw and ct_match of the registered "sip" engine on each corpus message, with the
# C engine and ours loaded in turn. Prints one record per engine, round and message:
#   engine round=R module=M message=NAME engine=M callid_len=N fill_param=NS ...
# Settings (environment): BENCH_ENGINE_ROUNDS (5), BENCH_ITERATIONS per operation (20000);
# for experiments, BENCH_MESSAGES (a subset of the corpus) and BENCH_HEADROOM (bytes that
# move the payload within its page, 0).
. "$(dirname "$0")/lib.sh"
rounds=${BENCH_ENGINE_ROUNDS:-5}
iterations=${BENCH_ITERATIONS:-20000}
# Built by scripts/bench for the kernel this guest boots (VM_KERNEL: SERIES-perf).
ko=$ROOT/target/bench/kmod-${VM_KERNEL%-*}/pe_sip_bench.ko
D=/sys/kernel/debug/pe_sip_bench

modprobe -a ip_vs nf_conntrack_sip || exit 1
insmod "$ko" || exit 1
echo "$iterations" >"$D/iterations"
echo "${BENCH_HEADROOM:-0}" >"$D/headroom"
# In the order of bench/parser's corpus.
read -ra names <<<"${BENCH_MESSAGES:-options invite_sdp ack bye compact long_callid_early long_callid_late no_callid}"
# The payloads, read once: a file read per measurement would cost an exec each.
declare -A payload
for n in "${names[@]}"; do
  IFS= read -r -d '' "payload[$n]" <"$BENCH/corpus/$n.sip"
done
echo "engine settings rounds=$rounds iterations=$iterations headroom=${BENCH_HEADROOM:-0} messages=${names[*]}"
for ((r = 1; r <= rounds; r++)); do
  for mod in ip_vs_pe_sip ip_vs_pe_sip_rs; do
    use_engine "$mod" || exit 1
    for n in "${names[@]}"; do
      printf '%s' "${payload[$n]}" >"$D/payload"
      echo 1 >"$D/run" || { say "engine: run failed ($mod, $n)"; exit 1; }
      read -r line <"$D/run"
      echo "engine round=$r module=$mod message=$n $line"
    done
  done
done
use_engine ""
rmmod pe_sip_bench
