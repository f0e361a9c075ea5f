#!/usr/bin/env bash
# Persistence and spread over IPv6: SIP calls from one client address and port to the IPv6
# VIP, NAT to three IPv6 real servers. Every message of a call reaches one server, the calls
# spread over all three, none has more than half.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-60}

# An IPv6 persistence mask is a prefix length of 1 to 128 (ipvsadm refuses 0); with a single
# client the default, 128, keys the templates on the Call-ID just as 0.0.0.0 does in IPv4.
step "topology, IPv6 service with --pe sip, sipp UAS on rs1-3 (IPv6)"
e2e up --rules --uas v6 <<EOF
-A -u [$VIP6]:5060 -s rr -p 60 -o --pe sip
-a -u [$VIP6]:5060 -r [${RS_IP6S[0]}]:5060 -m
-a -u [$VIP6]:5060 -r [${RS_IP6S[1]}]:5060 -m
-a -u [$VIP6]:5060 -r [${RS_IP6S[2]}]:5060 -m
EOF

step "$calls calls from [$CLI_IP6]:5060 to [$VIP6]:5060, 10 per second"
e2e_eval uac sip6 "$calls" 10 --v6
expect_balanced "$calls"
expect_templates v6
expect_engine_both_ways

e2e_finish
