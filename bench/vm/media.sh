#!/usr/bin/env bash
# Media benchmark, inside the perf VM: what a media datagram (RTP, no Call-ID) costs through
# the engine against a SIP datagram of the same calls, and the memory a learnt entry takes
# (docs/engine.md, "Media follows its call"). The service takes every port of the VIP, SIP's
# and the media's: a port-zero service (`-u VIP:0 -s rr -p P -M 0.0.0.0 -o --pe sip`), where
# the engine learns and matches media as on a firewall-mark one (qemu-tests/engine/media.py's;
# the perf kernels have no nftables to set a mark with), NAT to datapath.sh's three real
# servers (its topology, sender and receive counters).
#
# Memory, first and once, with our engine: the kmalloc caches (/proc/slabinfo; the perf
# kernels do not merge caches) and /proc/meminfo's Slab before and after BENCH_MEDIA_ENTRIES
# entries are learnt (INVITEs with SDP from one client, each call its own RTP port: two
# entries a call, RTP and RTCP), and the same for as many INVITEs with learning off
# (media_max_per_client=0), the control: the INVITEs' templates and anything else they
# allocate. One record per phase, with the caches that changed:
#   media memory phase=control|learn calls=N entries=N slab_kb=D objs.CACHE=D size.CACHE=B
#     pages.CACHE=D ...
#
# Then rounds, in each both engines (the order alternating): the engine loaded, the service
# made, BENCH_MEDIA_CALLS calls started (and learnt, by ours), then runs (the order rotating):
#   sip      the calls' ACKs from 5060 (a SIP datagram whose Call-ID has a template)
#   media    RTP from the calls' RTP ports, matched by our engine to their calls
#   unknown  RTP from ports no call announced: unmatched, to the service's fallback
# The C engine has no media table: it drops a datagram without a Call-ID, so its media run
# reaches no server and its rate is the sender's (the whole path runs in the sender's
# context); it has no unknown run (its media run is one). One record per run:
#   media round=R engine=c|rust traffic=sip|media|unknown sent=N received=N per_server=A/B/C
#     seconds=S pps=P matched=D unmatched=D
#
# Settings (environment): BENCH_ROUNDS (8), BENCH_SECONDS per run (4), BENCH_MEDIA_CALLS (512:
# 1,024 entries, the default bound of one client), BENCH_MEDIA_ENTRIES (10000).
. "$(dirname "$0")/datapath.sh"
mcalls=${BENCH_MEDIA_CALLS:-512}
entries=${BENCH_MEDIA_ENTRIES:-10000}
# The servers' RTP port, the calls' RTP ports (RTCP one above each) and
# the ports of the unknown media, all below the client's ephemeral ports.
RTP_DPORT=10000 RTP_BASE=20000 UNKNOWN_BASE=30000
# The memory phases' persistence: their templates must outlive both phases (a template that
# expires meanwhile would free what the control counted), yet let the engine go soon after.
MEM_PERSIST=30
PARAMS=/sys/module/ip_vs_pe_sip_rs/parameters
STATS=/proc/net/ip_vs_pe_sip_stats
tmp=$(mktemp -d)

# until_true SECONDS WHAT CMD...: polls CMD until it succeeds; fails after SECONDS (sized for a
# loaded host: only a broken run reaches it).
until_true() {
  local end=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    ((SECONDS < end)) || { say "media: $what: not within $((end - SECONDS + $1)) s"; return 1; }
    sleep 0.2
  done
}

# counter NAME: our engine's counter NAME in the director (0 without the engine).
counter() {
  local v
  # shellcheck disable=SC2016 # awk's fields
  v=$(ip netns exec "${T[DIR_NS]}" awk -v n="$1" '$1 == n { print $2 }' "$STATS" 2>/dev/null)
  echo "${v:-0}"
}
counting() { ip netns exec "${T[DIR_NS]}" grep -q . "$STATS" 2>/dev/null; }
at_least() { (($(counter "$1") >= $2)); }

# all_ports_service PERSISTENCE: the port-zero service, NAT to the servers (port 0 too: each
# datagram keeps its port).
all_ports_service() {
  {
    echo "-C"
    echo "-A -u $VIP:0 -s rr -p $1 -M 0.0.0.0 -o --pe sip"
    local ip
    for ip in "${RS_IPS[@]}"; do echo "-a -u $VIP:0 -r $ip:0 -m"; done
  } | ip netns exec "${T[DIR_NS]}" "$IPVSADM" -R
}

# start_calls FIRST N: N INVITEs from the client's 5060, calls FIRST..FIRST+N-1, call i
# offering RTP on RTP_BASE + 2i; with our engine, waits until each has passed it.
start_calls() {
  local seen
  seen=$(counter examined)
  sipflood --client-netns "${T[CLI_NS]}" --from "${T[CLI_IP]}:5060" --to "$VIP:5060" \
    --calls "$2" --first-call "$1" --sdp-port "$RTP_BASE" --port-step 2 --count "$2" \
    "$tmp/invite.sip" >/dev/null || return 1
  [[ $engine == c ]] || until_true 120 "the engine sees the $2 INVITEs" at_least examined $((seen + $2))
}

# slabs: "NAME ACTIVE_OBJS OBJSIZE PAGES" of every cache, then "Slab KB".
slabs() {
  awk 'NR > 2 { print $1, $2, $4, $15 * $6 }' /proc/slabinfo
  awk '$1 == "Slab:" { print "Slab", $2 }' /proc/meminfo
}

# memory_phase NAME FIRST: the slab deltas of starting `calls` calls; prints the record.
memory_phase() {
  local before learnt
  before=$(slabs)
  learnt=$(counter media_learnt)
  start_calls "$2" "$calls" || return 1
  learnt=$(($(counter media_learnt) - learnt))
  printf '%s\n' "$before" >"$tmp/before"
  slabs >"$tmp/after"
  echo "media memory phase=$1 calls=$calls entries=$learnt $(awk '
    NR == FNR { o[$1] = $2; p[$1] = $4; next }
    $1 == "Slab" { slab = $2 - o["Slab"]; next }
    $2 != o[$1] || $4 != p[$1] {
      printf "objs.%s=%d size.%s=%d pages.%s=%d ", $1, $2 - o[$1], $1, $3, $1, $4 - p[$1]
    }
    END { printf "slab_kb=%d", slab }' "$tmp/before" "$tmp/after")"
}

memory() {
  engine=rust
  use_engine ip_vs_pe_sip_rs || return 1
  all_ports_service "$MEM_PERSIST" || return 1
  until_true 120 "the engine counts" counting || return 1
  local calls=$((entries / 2))
  echo $((entries > 16384 ? entries : 16384)) >"$PARAMS/media_max_entries"
  echo 0 >"$PARAMS/media_max_per_client"
  memory_phase control 100000000 || return 1
  echo "$entries" >"$PARAMS/media_max_per_client"
  memory_phase learn 200000000 || return 1
  ip netns exec "${T[DIR_NS]}" "$IPVSADM" -C
  unload ip_vs_pe_sip_rs
}

# traffic KIND FIRST: one run's sipflood options and messages.
traffic() {
  case $1 in
    sip)
      FLOOD_MESSAGES=("$BENCH/corpus/ack.sip")
      FLOOD_ARGS=(--calls "$mcalls" --first-call "$2") ;;
    media | unknown)
      local base=$RTP_BASE
      [[ $1 == media ]] || base=$UNKNOWN_BASE
      FLOOD_MESSAGES=("$tmp/rtp.bin")
      FLOOD_ARGS=(--raw --calls "$mcalls" --from "${T[CLI_IP]}:$base" --ports "$mcalls"
        --port-step 2 --to "$VIP:$RTP_DPORT" --sink-port "$RTP_DPORT") ;;
  esac
}

# engine_block ROUND ENGINE: the engine's runs of one round.
engine_block() {
  local r=$1 mod=ip_vs_pe_sip_rs kinds=(sip media unknown) first=$(($1 * 1000000))
  engine=$2
  if [[ $engine == c ]]; then
    mod=ip_vs_pe_sip kinds=(sip media) first=$((first + 500000))
  fi
  use_engine "$mod" || return 1
  all_ports_service "$PERSIST" || return 1
  if [[ $engine == rust ]]; then
    until_true 120 "the engine counts" counting || return 1
    echo $((2 * mcalls)) >"$PARAMS/media_max_per_client"
  fi
  local learnt
  learnt=$(counter media_learnt)
  start_calls "$first" "$mcalls" || return 1
  learnt=$(($(counter media_learnt) - learnt))
  if [[ $engine == rust ]] && ((learnt != 2 * mcalls)); then
    say "media: $learnt entries learnt of $((2 * mcalls))"
    return 1
  fi
  local k n=${#kinds[@]} kind line m u
  for ((k = 0; k < n; k++)); do
    kind=${kinds[(k + r) % n]}
    traffic "$kind" "$first"
    m=$(counter media_matched) u=$(counter media_unmatched)
    line=$(flood) || return 1
    echo "media round=$r engine=$engine traffic=$kind $line" \
      "matched=$(($(counter media_matched) - m)) unmatched=$(($(counter media_unmatched) - u))"
  done
  ip netns exec "${T[DIR_NS]}" "$IPVSADM" -C
  # The engine goes now, once its templates have expired, rather than during the next run.
  unload "$mod"
}

# The INVITE with SDP of bench/corpus, its SDP's address made the client's (an endpoint is
# learnt only from its own address), and an RTP datagram (PCMU, 20 ms: 12 + 160 bytes).
write_messages() {
  python3 -S - "$BENCH/corpus/invite_sdp.sip" "${T[CLI_IP]}" "$tmp" <<'EOF'
import re, struct, sys
corpus, client, out = sys.argv[1:]
head, body = open(corpus, "rb").read().split(b"\r\n\r\n", 1)
body = re.sub(rb"IN IP4 [0-9.]+", b"IN IP4 " + client.encode(), body)
head = re.sub(rb"Content-Length: [0-9]+", b"Content-Length: %d" % len(body), head)
open(out + "/invite.sip", "wb").write(head + b"\r\n\r\n" + body)
rtp = struct.pack("!BBHII", 0x80, 0, 1, 160, 0x5eed) + b"\xff" * 160
open(out + "/rtp.bin", "wb").write(rtp)
EOF
}

main() {
  prepare || exit 1
  write_messages || exit 1
  # A socket per call's port, and the sinks.
  ulimit -n "$(ulimit -Hn)"
  echo "media settings rounds=$rounds seconds=$seconds calls=$mcalls entries=$entries" \
    "persist=$PERSIST mem_persist=$MEM_PERSIST rtp_bytes=$(wc -c <"$tmp/rtp.bin")"
  memory || { say "media: the memory phases failed"; exit 1; }
  local r
  for ((r = 1; r <= rounds; r++)); do
    local order=(rust c)
    ((r % 2)) || order=(c rust)
    for e in "${order[@]}"; do
      engine_block "$r" "$e" || { say "media: round $r $e failed"; exit 1; }
    done
  done
}

main
