#!/usr/bin/env bash
# Fragmented INVITEs: calls whose INVITE carries an SDP body of about 3 KB (fragments-uac.xml),
# larger than the 1500-byte MTU, so that it leaves the client in fragments, over IPv4 and
# IPv6. The director reassembles a datagram before IPVS schedules it (IPv4: IPVS itself,
# IPv6: nf_defrag_ipv6, which IPVS enables), so the engine reads the whole INVITE: its Call-ID
# is found and persistence holds. The engine's "fragment" counter (a later IPv6 fragment
# reaching it) stays at 0.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-60}
calls6=$((calls / 2))
xml=$ROOT/qemu-tests/e2e/fragments-uac.xml

step "topology, IPv4 and IPv6 services with --pe sip, sipp UAS on rs1-3 (both families)"
e2e up --rules --uas v4,v6 <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -m
-A -u [$VIP6]:5060 -s rr -p 60 -o --pe sip
-a -u [$VIP6]:5060 -r [${RS_IP6S[0]}]:5060 -m
-a -u [$VIP6]:5060 -r [${RS_IP6S[1]}]:5060 -m
-a -u [$VIP6]:5060 -r [${RS_IP6S[2]}]:5060 -m
EOF

check_calls() { # FAMILY CALLS
  expect_eq "$1: sipp: every call succeeded" "$R_OK/$R_FAILED" "$2/0"
  expect_eq "$1: the servers received all $2 calls" "$R_CALLS" "$2"
  expect "$1: the smallest INVITE the servers received ($R_MIN_INVITE bytes) exceeds the MTU" \
    [ "$R_MIN_INVITE" -gt 1500 ]
  expect_eq "$1: no call reached more than one server" "$R_SPLIT" 0
  expect_eq "$1: each call's INVITE, ACK and BYE reached its one server" "$R_WHOLE" "$2"
  expect_eq "$1: the calls spread over all three servers" "$R_SERVERS_USED" 3
  expect "$1: no server has more than 50% of the calls ($R_MAXPCT%)" [ "$R_MAXPCT" -le 50 ]
}

step "$calls IPv4 calls with a large INVITE, 10 per second"
e2e_eval uac frag "$calls" 10 -sf "$xml"
check_calls IPv4 "$calls"
e2e_eval snmp cli C
e2e_eval snmp dir D
echo "  client: $C_FRAGOKS datagrams fragmented into $C_FRAGCREATES fragments; director: $D_REASMOKS reassembled"
expect "IPv4: the client fragmented every INVITE" [ "$C_FRAGOKS" -ge "$calls" ]
expect "IPv4: the director reassembled them" [ "$D_REASMOKS" -ge "$calls" ]
e2e_eval stats F

step "$calls6 IPv6 calls with a large INVITE, 10 per second"
e2e_eval uac frag6 "$calls6" 10 --v6 -sf "$xml"
check_calls IPv6 "$calls6"
e2e_eval snmp cli C
e2e_eval snmp dir D
echo "  client: $C_FRAG6CREATES IPv6 fragments"
expect "IPv6: the client sent the INVITEs in fragments" [ "$C_FRAG6CREATES" -ge $((2 * calls6)) ]

e2e_eval stats
e2e_eval totals dir T
echo "  engine: examined $S_examined, found $S_found, fragment $S_fragment; IPVS packets in $T_IN, out $T_OUT"
expect_eq "the engine found a Call-ID in every datagram it examined" "$S_found" "$S_examined"
expect_eq "it examined each packet IPVS handled, both ways" "$S_examined" "$((T_IN + T_OUT))"
# netfilter's IPv6 reassembly (nf_defrag_ipv6) keeps no MIB counter; that IPVS took each
# INVITE in once, not once per fragment, shows it too.
expect_eq "IPVS took each client datagram in once, whole (3 per call)" "$T_IN" \
  "$((3 * (calls + calls6)))"
# Each call: INVITE, ACK, BYE in; 180, 200, 200 out.
expect_eq "IPv4: found = 6 per call" "$F_found" "$((6 * calls))"
expect_eq "IPv6: found = 6 per call" "$((S_found - F_found))" "$((6 * calls6))"
expect_eq "no fragment reached the engine" "$S_fragment" 0

e2e_finish
