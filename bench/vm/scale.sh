#!/usr/bin/env bash
# Scale benchmark, inside the perf VM: the C engine and ours as the number of live calls (one
# template each) grows, with IPVS's default connection table (conn_tab_bits as built) and
# with one fitted to the table (ip_vs reloaded with conn_tab_bits = log2 of the size, rounded
# up). Each run has a fresh topology (ipvslab.topology; deleting the old director namespace
# flushes its templates), fills the director's table with SIZE calls (one INVITE each: a
# template per call, the churn figure), reads the slabs, then floods those same calls (INVITE,
# ACK, BYE in turn, never a new call) three ways: timed, under `perf record` (the engine's
# share of the samples), and with bench/kmod's probe_count (template lookups and ct_match
# calls counted by kprobes, which would distort the timing). Records, one per line:
#   scale settings sizes=... rounds=R seconds=S persist=P
#   scale table bits=default|fitted size=N conn_tab_bits=B
#   scale fill  bits=.. size=N engine=c|rust round=R sent=.. received=.. seconds=.. pps=.. templates=T
#   scale mem   bits=.. size=N engine=.. round=R templates=T conn_obj=.. conn_bytes=.. kmalloc_bytes=..
#   scale run   bits=.. size=N engine=.. round=R rep=K sent=.. received=.. seconds=.. pps=..
#   scale perf  bits=.. size=N engine=.. round=R engine_pct=.. ipvs_pct=.. ct_in_get_pct=..
#   scale sym   bits=.. size=N engine=.. round=R pct=.. dso=.. name=SYMBOL
#   scale count bits=.. size=N engine=.. round=R lookups=.. matches=.. per_lookup=..
# Settings (environment): BENCH_SCALE_SIZES ("1000 10000 100000 1000000"), BENCH_SCALE_ROUNDS
# (1), BENCH_SCALE_SECONDS per timed run (4), BENCH_SCALE_REPS timed runs per table (3),
# BENCH_SCALE_BITS ("default fitted").
. "$(dirname "$0")/datapath.sh"
read -ra sizes <<<"${BENCH_SCALE_SIZES:-1000 10000 100000 1000000}"
read -ra bit_modes <<<"${BENCH_SCALE_BITS:-default fitted}"
rounds=${BENCH_SCALE_ROUNDS:-1}
seconds=${BENCH_SCALE_SECONDS:-4}
reps=${BENCH_SCALE_REPS:-3}
# Templates outlive the run: only the namespace's deletion ends them.
PERSIST=3600
# Built by scripts/bench for the kernel this guest boots (VM_KERNEL: SERIES-perf).
probe_ko=$ROOT/target/bench/kmod-${VM_KERNEL%-*}/probe_count.ko
default_bits=$(cat /sys/module/ip_vs/parameters/conn_tab_bits 2>/dev/null || echo 12)
page=$(getconf PAGESIZE)

# slab REGEX: live objects, their bytes (objects × object size) and the bytes of their slab
# pages, summed over the caches of /proc/slabinfo whose name matches REGEX. Each cache is
# shrunk first: /proc/slabinfo counts every object of a CPU's own slabs as live, which, left
# alone, puts hundreds of objects of error in a count.
slab() {
  local d
  for d in /sys/kernel/slab/*; do
    [[ ${d##*/} =~ $1 ]] && echo 1 >"$d/shrink"
  done
  awk -v re="$1" -v pg="$page" 'NR > 2 && $1 ~ re { n += $2; o += $2 * $4; p += $15 * $6 * pg }
    END { printf "%d %d %d\n", n, o, p }' /proc/slabinfo
}
conns() { slab '^ip_vs_conn$' | cut -d' ' -f1; }

# settle: waits until the ip_vs_conn count stops changing (connections freed after an RCU
# grace period, or a namespace's flush) for two polls in a row; deadline 15 minutes (a
# million templates flushed under emulation).
settle() {
  local prev=-1 cur same=0 t=$SECONDS
  while ((same < 2)); do
    cur=$(conns)
    if ((cur == prev)); then ((same++)); else same=0; fi
    prev=$cur
    ((SECONDS - t < 900)) || { say "scale: ip_vs_conn never settled ($cur)"; return 1; }
    sleep 1
  done
}

# drain: waits until no connection is left (the deleted director namespaces' templates
# flushed and freed), which is also when no template holds an engine; deadline 15 minutes.
drain() {
  local t=$SECONDS
  while (($(conns) > 16)); do
    ((SECONDS - t < 900)) || { say "scale: templates left after 15 minutes ($(conns))"; return 1; }
    sleep 1
  done
}

# table MODE SIZE: ip_vs loaded with the conn_tab_bits of MODE for SIZE (reloaded only when
# it changes: the parameter is read-only).
loaded_bits=$default_bits
table() {
  local want=$default_bits
  if [[ $1 == fitted ]]; then
    want=8
    while (((1 << want) < $2)); do ((want++)); done
  fi
  if ((want != loaded_bits)); then
    # The templates hold their engine, and the engine holds ip_vs: they go first, with the
    # namespace that holds them.
    PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.topology down || return 1
    drain || return 1
    local users
    users=$(awk '$1 == "ip_vs" { gsub(",", " ", $4); if ($4 != "-") print $4 }' /proc/modules)
    # shellcheck disable=SC2086 # a list of module names
    unload $users ip_vs || return 1
    modprobe ip_vs conn_tab_bits="$want" && modprobe ip_vs_rr || return 1
    loaded_bits=$want
  fi
  echo "scale table bits=$1 size=$2 conn_tab_bits=$(cat /sys/module/ip_vs/parameters/conn_tab_bits)"
}

# ct_match_symbol MODULE: the engine's ct_match callback in /proc/kallsyms.
ct_match_symbol() {
  case $1 in
    ip_vs_pe_sip) echo ip_vs_sip_ct_match ;;
    # Ours is the Rust adapter's trampoline, a mangled name ending in 8ct_match plus a hash.
    *) awk -v m="[$1]" '$4 == m && $3 ~ /Adapter.*8ct_match/ { print $3; exit }' /proc/kallsyms ;;
  esac
}

# scale_run MODE SIZE ENGINE ROUND
scale_run() {
  local mode=$1 size=$2 eng=$3 r=$4 mod=ip_vs_pe_sip
  [[ $eng == rust ]] && mod=ip_vs_pe_sip_rs
  local tag="bits=$mode size=$size engine=$eng round=$r"
  topo_up || return 1
  drain || return 1
  use_engine "$mod" || return 1
  service "$eng" || return 1
  local c0 cp0 k0 kp0 first=$((RANDOM * 1000000000 + 1)) line
  read -r c0 _ cp0 < <(slab '^ip_vs_conn$')
  read -r _ k0 kp0 < <(slab '^kmalloc')
  calls=$size
  # The fill: each call's INVITE once, each one a new template; passes again (creating
  # only what a lost datagram missed) until the table holds them all.
  FLOOD_ARGS=(--first-call "$first" --count "$size")
  FLOOD_MESSAGES=("$BENCH/corpus/invite_sdp.sip")
  line=$(flood) || return 1
  settle || return 1
  local n
  n=$(($(conns) - c0))
  echo "scale fill $tag $line templates=$n"
  local _pass
  for _pass in 1 2; do
    ((n < size)) || break
    flood >/dev/null || return 1
    settle || return 1
    n=$(($(conns) - c0))
  done
  ((n >= size)) || say "scale: $tag holds $n templates"
  local c1 cb cp1 k1 kp1
  read -r c1 cb cp1 < <(slab '^ip_vs_conn$')
  read -r _ k1 kp1 < <(slab '^kmalloc')
  echo "scale mem $tag templates=$n conn_obj=$((cb / (c1 > 0 ? c1 : 1)))" \
    "conn_pages=$((cp1 - cp0)) kmalloc_bytes=$((k1 - k0)) kmalloc_pages=$((kp1 - kp0))"
  # The lookups: the same calls, none new.
  FLOOD_ARGS=(--first-call "$first" --live)
  FLOOD_MESSAGES=("$BENCH"/corpus/{invite_sdp,ack,bye}.sip)
  local k
  for ((k = 1; k <= reps; k++)); do
    line=$(flood) || return 1
    echo "scale run $tag rep=$k $line"
  done
  local data=/tmp/perf.scale.data
  flood perf record -q -a -F 999 -e cpu-clock -o "$data" -- >/dev/null || return 1
  # A figure that cannot be had is left out rather than ending the part.
  python3 -S "$BENCH/vm/perf_share.py" "$data" "$mod" "$tag" || say "scale: no perf figures ($tag)"
  local sym
  sym=$(ct_match_symbol "$mod")
  insmod "$probe_ko" match="$sym" || { say "scale: cannot count $sym"; return 0; }
  flood >/dev/null || return 1
  local lookups matches
  read -r lookups matches < <(tr '=' ' ' </sys/kernel/debug/probe_count/counts | awk '{ print $2, $4 }')
  rmmod probe_count
  echo "scale count $tag lookups=$lookups matches=$matches per_lookup=$(awk -v l="$lookups" -v m="$matches" 'BEGIN { printf "%.2f", l ? m / l : 0 }')"
}

main() {
  modprobe -a ip_vs ip_vs_rr nf_conntrack_sip || exit 1
  echo "scale settings sizes=$(IFS=,; echo "${sizes[*]}") rounds=$rounds seconds=$seconds reps=$reps persist=$PERSIST default_bits=$default_bits mem_kb=$(awk '/^MemTotal/ { print $2 }' /proc/meminfo) messages=invite_sdp,ack,bye"
  local mode size r eng
  # Both tables at each size before the next size, so that a run cut short has both.
  for size in "${sizes[@]}"; do
    for mode in "${bit_modes[@]}"; do
      table "$mode" "$size" || { say "scale: cannot load ip_vs for $mode $size"; exit 1; }
      for ((r = 1; r <= rounds; r++)); do
        for eng in c rust; do
          scale_run "$mode" "$size" "$eng" "$r" || { say "scale: $mode $size $eng failed"; exit 1; }
        done
      done
    done
  done
  # The last table goes with its namespaces, and the engines with it.
  PYTHONPATH=$ROOT/qemu-tests/lib python3 -S -m ipvslab.topology down
  drain && use_engine ""
}
main
