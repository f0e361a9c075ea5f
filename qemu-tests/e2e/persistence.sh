#!/usr/bin/env bash
# Persistence and spread: SIP calls (INVITE, 200, ACK, BYE, 200) from one client address and
# port. With --pe sip every message of a call reaches one server and the calls spread over
# all three; the baseline without it, plain persistence, pins every call to one server.
# Where messages went is read from the servers' own sipp message logs.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-200}
base=60

step "topology, service with --pe sip, sipp UAS on rs1-3"
e2e up --rules --uas v4 <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -m
EOF

step "$calls calls from $CLI_IP:5060 to $VIP:5060, 10 per second"
e2e_eval uac sip "$calls" 10
expect_eq "sipp: no call failed" "$R_FAILED" 0
expect_eq "sipp: every call succeeded" "$R_OK" "$calls"
expect_eq "the servers received all $calls calls" "$R_CALLS" "$calls"
expect_eq "no call reached more than one server" "$R_SPLIT" 0
expect_eq "each call's INVITE, ACK and BYE reached its one server" "$R_WHOLE" "$calls"
expect_eq "the calls spread over all three servers" "$R_SERVERS_USED" 3
expect "no server has more than 50% of the calls ($R_MAXPCT%)" [ "$R_MAXPCT" -le 50 ]
e2e_eval templates dir
echo "  director: $T_COUNT sip templates (those of the last minute's calls)"
expect "the director holds sip templates" [ "$T_COUNT" -gt 0 ]
expect_eq "each points at the server that logged its Call-ID" "$T_AGREE" "$T_COUNT"
e2e_eval stats
e2e_eval totals dir D
echo "  engine: examined $S_examined, found $S_found; IPVS packets in $D_IN, out $D_OUT"
expect_eq "every datagram the engine examined had a Call-ID" "$S_found" "$S_examined"
# With one-packet scheduling no connection entry outlives its packet: the servers' answers
# find none, so the engine's conn_out handles them (it examines them too).
expect_eq "the engine examined each packet IPVS handled, both ways" "$S_examined" \
  "$((D_IN + D_OUT))"

step "baseline: the same service without --pe sip, $base calls"
e2e ipvs dir <<EOF
-E -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o
EOF
e2e_eval uac plain "$base" 10
expect_eq "baseline: sipp: no call failed" "$R_FAILED" 0
expect_eq "baseline: the servers received all $base calls" "$R_CALLS" "$base"
expect_eq "baseline: plain persistence puts every call on one server" \
  "$R_SERVERS_USED/$R_MAXPCT" "1/100"

e2e_finish
