#!/usr/bin/env bash
# Requests started by the real servers (the engine's conn_out): each server calls the client
# through the director, and the client's answers must come back to that same server.
#
# With one-packet scheduling no connection entry outlives its packet, so a request a server
# sends finds none in ip_vs_out_hook(); __ip_vs_rs_conn_out() then finds the real server by
# its source address and port and hands the packet to the service's engine, whose conn_out
# (ip_vs_new_conn_out()) makes a template keyed by the Call-ID that points at that server,
# and a connection that rewrites the source to the VIP. The client answers the VIP; the
# engine reads the same Call-ID and the template sends the answer to the server that began
# the call. Without it the answers would be scheduled round robin: two in three would reach
# a server that knows nothing of the call.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-20}

step "topology, service with --pe sip (NAT)"
e2e up --rules <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -m
EOF

step "each server calls the client's sipp UAS ($CLI_IP:5060) $calls times: INVITE, ACK, BYE from the server"
e2e_eval conn-out "$calls" 5
total=0 broken=0
for i in 1 2 3; do
  ok=SRV${i}_OK failed=SRV${i}_FAILED own=SRV${i}_OWN foreign=SRV${i}_FOREIGN
  echo "  rs$i: ${!ok} calls succeeded, ${!failed} failed; answers received ${!own}, of others' calls ${!foreign}"
  expect_eq "rs$i: every call it started succeeded" "${!ok}/${!failed}" "$calls/0"
  # Each call brings the server three answers: 180 and 200 to the INVITE, 200 to the BYE.
  expect_eq "rs$i: the client's answers to its calls all came back to it" "${!own}" "$((3 * calls))"
  expect_eq "rs$i: nothing of another server's calls reached it" "${!foreign}" 0
  total=$((total + ${!ok})) broken=$((broken + ${!failed}))
done
echo "  calls started by servers: $total succeeded, $broken broken"
expect_eq "the client received every server's INVITE" "$CLI_INVITES" "$((3 * calls))"

e2e_eval templates dir
echo "  director: $T_COUNT sip templates: to rs1 $T_TO_1, rs2 $T_TO_2, rs3 $T_TO_3"
expect_eq "one template per server-started call" "$T_COUNT" "$((3 * calls))"
expect_eq "each points at the server that started the call (named in its Call-ID)" \
  "$T_NAMED" "$T_COUNT"
e2e_eval stats
e2e_eval totals dir D
echo "  IPVS packets: from servers (out) $D_OUT, from the client (in) $D_IN; engine examined $S_examined, found $S_found"
# The servers' INVITE, ACK and BYE went out through conn_out, rewritten to the VIP; the
# client's 180, 200 and 200 came in to the VIP. Had the requests left unrewritten, the
# client would have answered the servers' own addresses, past IPVS.
expect_eq "IPVS rewrote every server request (3 per call)" "$D_OUT" "$((9 * calls))"
expect_eq "every client answer came in through the VIP (3 per call)" "$D_IN" "$((9 * calls))"
expect_eq "the engine examined all of them and found each Call-ID" "$S_found/$S_examined" \
  "$((18 * calls))/$((18 * calls))"

e2e_finish
