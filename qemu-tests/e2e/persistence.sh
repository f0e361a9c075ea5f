#!/usr/bin/env bash
# Persistence and spread: SIP calls (INVITE, 200, ACK, BYE, 200) from one client address and
# port. With --pe sip every message of a call reaches one server and the calls spread over
# all three. Two baselines without the engine: plain persistence pins every call to one
# server; no persistence scatters the messages of a call over the servers.
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
expect_balanced "$calls"
expect_templates
expect_engine_both_ways

step "baseline: the same service without --pe sip, $base calls"
e2e ipvs dir <<EOF
-E -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o
EOF
e2e_eval uac plain "$base" 10
expect_eq "baseline: sipp: no call failed" "$R_FAILED" 0
expect_eq "baseline: the servers received all $base calls" "$R_CALLS" "$base"
expect_eq "baseline: plain persistence puts every call on one server" \
  "$R_SERVERS_USED/$R_MAXPCT" "1/100"

step "baseline: no persistence at all, $base calls"
e2e ipvs dir <<EOF
-E -u $VIP:5060 -s rr -o
EOF
# A server that gets a stray ACK or BYE drops or refuses it; the calls may still look
# answered to the client, which is the danger: servers lose track of their calls.
e2e_eval uac nopersist "$base" 10 -recv_timeout 4000
expect_eq "no persistence: the servers received all $base calls" "$R_CALLS" "$base"
expect "no persistence: most calls were split over servers ($R_SPLIT of $base)" \
  [ "$R_SPLIT" -gt $((base / 2)) ]

e2e_finish
