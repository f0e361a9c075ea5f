#!/usr/bin/env bash
# Hostile traffic and module churn, with real calls alongside that must keep working.
#
# 1. 100 load/unload cycles of the engine while calls flow through the VIP. A module whose
#    engine any service or template uses cannot be unloaded (templates hold a reference
#    until they expire), so the busy services run without the engine here; each cycle
#    loads it, attaches it to an idle service (generic netlink), checks that unloading is
#    refused, detaches it and unloads it. A thread reads the counter files all along.
# 2. The engine on the busy IPv4 and IPv6 services, then more than 10,000 malformed or
#    random datagrams at both VIPs (empty, truncated, without Call-ID, Call-IDs too long,
#    badly terminated, binary, random) and Call-IDs of exactly 255 bytes, which
#    `ipvsadm-rs -Lcn --persistent-conn` must list whole while the flood runs. The counters
#    must account for every datagram; unloading is refused while the services use the
#    engine, and succeeds at the end once their namespace is gone.
# scripts/vm fails the run on any kernel report (KASAN, kmemleak, lockdep, WARNING).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
cycles=${E2E_CYCLES:-100}
flood=${E2E_FLOOD:-10000}

step "topology, IPv4 and IPv6 services without engine, an idle service on port 5070, sipp UAS on rs1-3"
e2e up --no-engine --rules --uas v4 <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -m
-A -u [$VIP6]:5060 -s rr -p 60 -o
-a -u [$VIP6]:5060 -r [${RS_IP6S[0]}]:5060 -m
-a -u [$VIP6]:5060 -r [${RS_IP6S[1]}]:5060 -m
-a -u [$VIP6]:5060 -r [${RS_IP6S[2]}]:5060 -m
-A -u $VIP:5070 -s rr -p 60 -M 0.0.0.0 -o
-a -u $VIP:5070 -r ${RS_IPS[0]}:5070 -m
EOF

step "$cycles load/unload cycles of ip_vs_pe_sip_rs while calls flow (5 per second)"
e2e uac churn 5000 5 --bg
e2e_eval cycles "$cycles"
echo "  cycles: $C_LOADED loaded, $C_ATTACHED attached, $C_REFUSED unloads refused while attached, $C_UNLOADED unloaded after detaching, in $C_SECONDS s; counter files read $C_READS times"
expect_eq "$cycles loads" "$C_LOADED" "$cycles"
expect_eq "the counter files appeared with each load" "$C_STATS_DIR" "$cycles"
expect_eq "unloading was refused while a service used the engine, every time" "$C_REFUSED" "$cycles"
expect_eq "and succeeded once the service let go, every time" "$C_UNLOADED" "$cycles"
expect "the reader thread read the counters" [ "$C_READS" -gt 0 ]
e2e_eval wait churn --stop
expect "calls flowed during the cycles ($R_CALLS)" [ "$R_CALLS" -gt 0 ]
expect_eq "every one of them succeeded" "$R_OK/$R_FAILED" "$R_CALLS/0"

step "the engine on the IPv4 and IPv6 services; calls and $flood hostile datagrams"
e2e_eval load ip_vs_pe_sip_rs
expect_eq "ip_vs_pe_sip_rs loads" "$LOAD_RC" 0
e2e_eval totals dir D0
e2e ipvs dir <<EOF
-E -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-E -u [$VIP6]:5060 -s rr -p 60 -o --pe sip
EOF
e2e uac calls 5000 5 --bg
marker=$E2E_WORK/long-ids-sent
e2e hostile "$flood" "$marker" >"$E2E_WORK/hostile.out" &
flooder=$!
until [[ -e $marker ]]; do sleep 0.5; done
eval "$(<"$marker")"
# /proc/net/ip_vs_conn is read a page at a time, and each read finds its place again by
# counting entries: when entries come and go between two reads (as they do all through the
# flood), one entry may be printed twice, or missed. So an ID may appear on identical lines
# (the same entry twice, its timer perhaps a second lower), and a listing may miss one; up to
# three listings are taken. Two different lines would be two templates for one call.
long_ids_listed() {
  local id line proto expire rest e
  n=0
  for id in "${LONG_IDS[@]}"; do
    local -A entries=()
    while IFS= read -r line; do
      if [[ $line =~ [[:space:]]sip[[:space:]]+"$id"$ ]]; then
        read -r proto expire rest <<<"$line"
        entries["$proto $rest"]=1 last=$line
      fi
    done <<<"$listing"
    if ((${#entries[@]} == 1)); then
      n=$((n + 1))
    else
      echo "  Call-ID ${id:0:20}... is in ${#entries[@]} different entries:"
      for e in "${!entries[@]}"; do echo "    ${e:0:110}..."; done
    fi
    unset entries
  done
}
for tries in 1 2 3; do
  listing=$(e2e ns dir ipvsadm-rs -Lcn --persistent-conn)
  long_ids_listed
  ((n == ${#LONG_IDS[@]})) && break
done
echo "  e.g.: ${last:0:100}... (${#last} characters)"
e2e_eval refuse
expect_eq "unloading is refused while the services use the engine (EWOULDBLOCK)" "$REFUSE_RC" 11
wait "$flooder"
eval "$(<"$E2E_WORK/hostile.out")"
echo "  flood: $H_TOTAL datagrams in $H_SECONDS s: no payload $H_no_payload, no Call-ID $H_no_callid, too long $H_too_long, bad terminator $H_bad_terminator, random $H_any, 255-byte Call-IDs $H_found"
expect "at least 10,000 datagrams sent" [ "$H_TOTAL" -ge 10000 ]
expect_eq "ipvsadm-rs -Lcn --persistent-conn listed each 255-byte Call-ID whole, in one template, during the flood (listing $tries)" \
  "$n" "${#LONG_IDS[@]}"
e2e_eval wait calls --stop
expect "calls flowed during the flood ($R_CALLS)" [ "$R_CALLS" -gt 0 ]
expect_eq "every one of them succeeded" "$R_OK/$R_FAILED" "$R_CALLS/0"
expect_eq "no call reached more than one server" "$R_SPLIT" 0
expect_eq "the calls spread over all three servers" "$R_SERVERS_USED" 3

e2e_eval stats
e2e_eval totals dir D1
handled=$((D1_IN - D0_IN + D1_OUT - D0_OUT))
for c in found not_udp fragment no_payload no_callid too_long bad_terminator alloc_failed; do
  v=S_$c
  echo "  counter $c: ${!v}"
done
# `examined` is the sum of the other counters (each datagram ends in exactly one), so this
# also checks that every packet was counted once, found or under one reason.
echo "  examined $S_examined; IPVS packets handled meanwhile: $handled"
expect_eq "the engine examined every packet IPVS handled" "$S_examined" "$handled"
fallbacks=$((S_no_payload + S_no_callid + S_too_long + S_bad_terminator))
expect_eq "the malformed datagrams, and they alone, fell back to normal persistence" \
  "$fallbacks" "$((H_TOTAL - H_found))"
expect_eq "empty datagrams: no_payload" "$S_no_payload" "$H_no_payload"
expect "without Call-ID: no_callid >= $H_no_callid" [ "$S_no_callid" -ge "$H_no_callid" ]
expect "longer than 255 bytes: too_long >= $H_too_long" [ "$S_too_long" -ge "$H_too_long" ]
expect "truncated or bad: bad_terminator >= $H_bad_terminator" \
  [ "$S_bad_terminator" -ge "$H_bad_terminator" ]
expect "the calls' and the 255-byte Call-IDs were found" \
  [ "$S_found" -ge $((H_found + 3 * R_CALLS)) ]
expect_eq "no allocation failed, no fragment or non-UDP packet" \
  "$S_alloc_failed/$S_fragment/$S_not_udp" "0/0/0"

e2e_finish
