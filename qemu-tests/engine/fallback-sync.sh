#!/usr/bin/env bash
# Failover with clients whose datagrams carry no Call-ID: their fallback templates are
# complete IPVS state that the sync daemon carries to the backup director before the VIP
# moves, and the master never refuses one ("SYNC, connection pe_data invalid", which
# ip_vs_sync_conn() logs for a template with a length and no data).
#
#   cli (10.0.1.2-7) -- dir (master, the topology's director) -- rs1, rs2, rs3
#                       dir -- s0/s1 sync link -- dir2 (backup, same service)
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/engine/lib.bash"
clients=(10.0.1.3 10.0.1.4 10.0.1.5 10.0.1.6 10.0.1.7)

topo_up
ip netns add dir2
ip link add s0 netns dir type veth peer name s1 netns dir2
ip -n dir addr add 10.0.9.1/24 dev s0
ip -n dir link set s0 up
ip -n dir2 addr add 10.0.9.2/24 dev s1
ip -n dir2 link set s1 up
ip -n dir2 link set lo up
for c in "${clients[@]}"; do ip -n cli addr add "$c/24" dev c0; done
modprobe ip_vs_pe_sip_rs
for ns in dir dir2; do
  ip netns exec "$ns" ipvsadm -A -u "$VIP:5060" -s rr -p 600 -o --pe sip
  for ip in "${RS_IPS[@]}"; do ip netns exec "$ns" ipvsadm -a -u "$VIP:5060" -r "$ip:5060" -m; done
done
expect "the master's sync daemon starts" in_dir ipvsadm --start-daemon master --mcast-interface s0 --syncid 7
expect "the backup's sync daemon starts" ip netns exec dir2 ipvsadm --start-daemon backup --mcast-interface s1 --syncid 7
expect "the real servers listen" sinks_up

for c in "${clients[@]}"; do
  in_cli "$PY" "$TAGSEND" "$c" 5060 "$VIP" 5060 tag "from-$c-" 1 2 >/dev/null
done
in_cli "$PY" "$TAGSEND" "$CLI_IP" 5060 "$VIP" 5060 callid "sync-call-" 1 1 >/dev/null
n=$((${#clients[@]} * 2 + 1))
expect "the $n datagrams reached the real servers" wait_lines 60 "$n" /tmp/rs[123].log
expect_eq "the master counted ${#clients[@]}x2 without Call-ID and 1 with" \
  "$(stat no_callid)/$(stat found)" "$((${#clients[@]} * 2))/1"

# "CLIENT DEST" for each fallback template (engine sip, no data) of namespace $1; the line's
# FromIP is the masked client address, DestIP its server.
fallback_templates() {
  # shellcheck disable=SC2016 # awk's own fields
  ip netns exec "$1" awk 'NR > 1 && $3 == "0000" && NF == 10 && $10 == "sip" { print $2, $6 }' \
    /proc/net/ip_vs_conn | sort
}
backup_has_all() {
  [[ $(fallback_templates dir2 | wc -l) == "${#clients[@]}" ]] &&
    ip netns exec dir2 grep -q " sip sync-call-1\$" /proc/net/ip_vs_conn
}
expect_eq "the master holds one fallback template per client" \
  "$(fallback_templates dir | wc -l)" "${#clients[@]}"
# The sync daemon sends its buffer when full or after 2 s; allow a generous margin.
expect "the backup holds them, and the Call-ID template, before any failover" wait_for 60 backup_has_all
echo "  backup fallback templates (client, server):"
fallback_templates dir2 | sed 's/^/    /'
expect_eq "each on the same server as on the master" "$(fallback_templates dir2)" "$(fallback_templates dir)"
expect_fail "the master never logged 'pe_data invalid'" grep -q "pe_data invalid" <(dmesg)

in_dir ipvsadm --stop-daemon master
ip netns exec dir2 ipvsadm --stop-daemon backup
sinks_down
ip netns del dir2
topo_down
expect "our engine unloads" unload ip_vs_pe_sip_rs
finish
