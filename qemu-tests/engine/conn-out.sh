#!/usr/bin/env bash
# conn_out: a datagram a real server sends first (no connection matches it) on a --pe sip
# service. With a Call-ID, the engine creates the connection and its template, so the
# client sees the VIP and its answer returns to that server; without a Call-ID it creates
# nothing, as the C engine does (a fallback template made there would point at that server
# and, with mask 0.0.0.0, re-point every client's fallback traffic). Also the test engine
# `tok` through conn_out is in tok.py.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/engine/lib.bash"

topo_up
modprobe ip_vs_pe_sip_rs
in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 600 -M 0.0.0.0 -o --pe sip
for ip in "${RS_IPS[@]}"; do in_dir ipvsadm -a -u "$VIP:5060" -r "$ip:5060" -m; done
expect "the real servers listen" sinks_up
rm -f /tmp/cli.log /tmp/cli.log.ready
(in_cli "$PY" "$TAGSINK" 0.0.0.0 5060 /tmp/cli.log &)
expect "the client listens" wait_for 60 test -e /tmp/cli.log.ready

from_rs1() { in_rs 1 "$PY" "$TAGSEND" "${RS_IPS[0]}" 5060 "$CLI_IP" 5060 "$@" >/dev/null; }
entries() { in_dir awk 'NR > 1' /proc/net/ip_vs_conn | wc -l; }

from_rs1 tag "server-no-callid-" 1 1
expect "the client received the server's datagram without Call-ID" wait_lines 30 1 /tmp/cli.log
expect_eq "it arrived from the server's own address (no connection NATed it)" \
  "$(awk '$1 == "server-no-callid-1" { print $2 }' /tmp/cli.log)" "${RS_IPS[0]}"
expect_eq "the director has no connection and no template" "$(entries)" 0
expect_eq "the engine examined it and counted no_callid" "$(stat examined)/$(stat no_callid)" 1/1

from_rs1 callid "server-call-" 1 1
expect "the client received the server's datagram with a Call-ID" wait_lines 30 2 /tmp/cli.log
expect_eq "it arrived from the VIP (the new connection NATed it)" \
  "$(awk '$1 == "server-call-1" { print $2 }' /tmp/cli.log)" "$VIP"
expect "the director holds the call's template, pointing at rs1" \
  grep -qE "^UDP +00000000 0000 0A000164 13C4 0A00020B 13C4 .* sip server-call-1\$" <(in_dir cat /proc/net/ip_vs_conn)
in_cli "$PY" "$TAGSEND" "$CLI_IP" 5060 "$VIP" 5060 callid "server-call-" 1 1 >/dev/null
expect "the client's answer reached rs1" wait_for 30 grep -q "^server-call-1 " /tmp/rs1.log
expect_eq "counters: examined, found, no_callid" \
  "$(stat examined)/$(stat found)/$(stat no_callid)" "3/2/1"

sinks_down
topo_down
expect "our engine unloads" unload ip_vs_pe_sip_rs
finish
