#!/usr/bin/env bash
# A real server removed under traffic, with net.ipv4.vs.expire_nodest_conn=1: new calls avoid
# it, and nothing keeps sending to it, not even the calls it was carrying (each call is held
# 3 s between its ACK and its BYE, so a few are in progress on it): its message log stops
# growing, and no entry of /proc/net/ip_vs_conn points at it (IPVS drops the templates of a
# removed server in deferred work, and checks a template's server before using it). Those
# calls are cut, as a server failure cuts them (their BYE goes to another server, which
# knows nothing of them); no other call may suffer.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-150}

step "topology, service with --pe sip, expire_nodest_conn=1, sipp UAS on rs1-3"
e2e up --set dir:net.ipv4.vs.expire_nodest_conn=1 --rules --uas v4 <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -m
EOF

step "$calls calls, 10 per second, each held 3 s; rs2 (${RS_IPS[1]}) removed after 6 s"
# A cut call waits 6 s for the answer to its BYE, not sipp's usual 20 s.
e2e uac down "$calls" 10 --bg -d 3000 -recv_timeout 6000
sleep 6
e2e_eval remove-server 2
expect_eq "ipvsadm-rs -d removed rs2" "$DEL_RC" 0
expect_eq "2 s later no /proc/net/ip_vs_conn entry points at rs2" "$CONNS_AFTER" 0
e2e_eval wait down
e2e_eval removed down 2
echo "  rs2's log: $LOG_AFTER bytes 2 s after its removal, $LOG_END at the end; calls cut on rs2: $CUT"
expect_eq "rs2 received nothing after that (its log stopped growing)" "$LOG_END" "$LOG_AFTER"
expect_eq "at the end no entry points at rs2" "$CONNS_END" 0
expect "rs2 took calls before its removal ($R_RS2)" [ "$R_RS2" -gt 0 ]
expect "it was carrying calls when it was removed ($CUT)" [ "$CUT" -gt 0 ]
expect_eq "every call reached a server" "$R_CALLS" "$calls"
broken=$((calls - R_OK))
echo "  broken calls: $broken (sipp: $R_OK successful, $R_FAILED failed), calls cut on rs2: $CUT"
expect "no call broke but those cut on rs2" [ "$broken" -le "$CUT" ]
expect "at most the cut calls reached two servers" [ "$R_SPLIT" -le "$CUT" ]
expect_eq "every call not cut stayed whole on one server" "$R_WHOLE" "$((calls - CUT))"

e2e_finish
