#!/usr/bin/env bash
# Persistence and spread with IPVS tunnelling (-i): the director encapsulates each client
# datagram in IPIP to the real server chosen by Call-ID; each server holds the VIP on its
# tunl0 and answers the client directly from it, past IPVS.
#
# Tunnelling rather than direct routing (-g): it reaches real servers on any routed network,
# not only on the director's own link, which is how SIP server farms in other racks or sites
# are reached; here the servers even sit on their own subnet behind the director. Either way
# the engine's work is the same (only client datagrams pass IPVS), and tunnelling is the
# harder case for a real server (decapsulation, reverse path filtering off for tunl0).
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-120}

step "topology with the VIP on each real server's tunl0, service -i with --pe sip, sipp UAS on the VIP"
e2e up --tun --rules --uas vip <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -i
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -i
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -i
EOF

step "$calls calls from $CLI_IP:5060 to $VIP:5060, 10 per second"
e2e_eval uac tun "$calls" 10
expect_balanced "$calls"
e2e_eval dev tunl0 TUN rs1 rs2 rs3
echo "  packets received through tunl0: rs1 $TUN_rs1, rs2 $TUN_rs2, rs3 $TUN_rs3"
for i in 1 2 3; do
  n=TUN_rs$i
  expect_eq "rs$i received each of its calls' messages through the tunnel" "${!n}" "$((R_MSGS$i))"
done
expect_templates
e2e_eval stats
e2e_eval totals dir D
echo "  engine: examined $S_examined, found $S_found; IPVS packets in $D_IN, out $D_OUT"
expect_eq "the engine examined exactly the client's datagrams" "$S_examined" "$R_SENT"
expect_eq "each had a Call-ID" "$S_found" "$S_examined"
expect_eq "the servers' answers bypassed IPVS" "$D_OUT" 0

e2e_finish
