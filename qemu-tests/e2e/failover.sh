#!/usr/bin/env bash
# Director failover: a master and a backup director with the IPVS sync daemons (sync
# protocol version 1, which carries the engine's name and the Call-ID with each template).
# Long calls start through the master; once the backup holds their templates, the master
# fails and the backup takes over the VIP and the real servers' gateway address (NAT needs
# the answers back through the director). Every call in progress must end (BYE, 200) on the
# server it started on.
#
#   cli --[client LAN]-- dir (master), dir2 (backup) --[server LAN]-- rs1, rs2, rs3
#   (both LANs are bridges in namespace "sw"; dir and dir2 also share a sync link)
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/lib/sip.sh"
. "$ROOT/qemu-tests/lib/e2e.sh"
calls=${E2E_CALLS:-30}
hold=40 # seconds between a call's ACK and its BYE: the takeover must come first

step "two directors with the same service, sync daemons (master on dir, backup on dir2), sipp UAS on rs1-3"
e2e up --failover --rules --uas v4 <<EOF
-A -u $VIP:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip
-a -u $VIP:5060 -r ${RS_IPS[0]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[1]}:5060 -m
-a -u $VIP:5060 -r ${RS_IPS[2]}:5060 -m
@dir --start-daemon master --mcast-interface s0 --syncid 7
@dir2 --start-daemon backup --mcast-interface s1 --syncid 7
EOF

step "$calls calls, 5 per second, each held $hold s before its BYE"
e2e uac long "$calls" 5 --bg -d $((hold * 1000))
e2e_eval failover "$calls" long
echo "  the backup held the templates of $B_TEMPLATES calls ($B_NAMED with sip and the Call-ID) after $B_WAIT s"
echo "  takeover took $TAKEOVER_S s, done $TAKEOVER_AT s after the first call began (its BYE is due after ${hold} s)"
expect_eq "the backup received every call's template from the master" "$B_TEMPLATES" "$calls"
expect_eq "each with the engine's name and the Call-ID" "$B_NAMED" "$calls"

step "the backup now serves the VIP; its persistent connections:"
listing=$(e2e ns dir2 ipvsadm-rs -Lcn --persistent-conn)
n=0
while read -r line; do
  [[ $line =~ [[:space:]]sip[[:space:]]+long- ]] || continue
  n=$((n + 1))
  ((n <= 3)) && echo "  $line"
done <<<"$listing"
expect_eq "ipvsadm-rs -Lcn --persistent-conn on the backup lists each call as sip <Call-ID>" \
  "$n" "$calls"

step "the calls end through the backup"
e2e_eval wait long
e2e_eval totals dir2 B
echo "  packets the backup's IPVS took in after the takeover: $((B_IN - B_IN_BEFORE))"
expect "the BYEs went through the backup" [ $((B_IN - B_IN_BEFORE)) -ge "$calls" ]
broken=$((calls - R_OK + R_SPLIT))
echo "  calls broken by the failover: $broken"
expect_eq "sipp: every call succeeded" "$R_OK/$R_FAILED" "$calls/0"
expect_eq "no call reached more than one server" "$R_SPLIT" 0
expect_eq "each call's INVITE, ACK and BYE reached its one server" "$R_WHOLE" "$calls"
expect_eq "the calls spread over all three servers" "$R_SERVERS_USED" 3

e2e_finish
