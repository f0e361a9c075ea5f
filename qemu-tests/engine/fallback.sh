#!/usr/bin/env bash
# What happens to datagrams without a usable Call-ID: our engine counts each by reason and
# lets it through with normal persistence; the kernel's C engine drops it (the documented
# difference), and so does ours with drop_without_callid=1. Also TCP on a --pe sip service.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"

# wait_until CMD [ARG...]: CMD succeeds within 120 s (a deadline that only catches a failure:
# each wait is for a datagram or a socket, which come in well under a second on a quiet host).
wait_until() { local t=$((SECONDS + 120)); until "$@"; do ((SECONDS < t)) || return 1; sleep 0.2; done; }
# sinks_bound: every real server's UDP and TCP sink listens on port 5060 (0x13C4).
sinks_bound() {
  local i
  for i in 1 2 3; do
    in_rs "$i" grep -q ':13C4 00000000:0000 07' /proc/net/udp || return 1
    in_rs "$i" grep -q ':13C4 00000000:0000 0A' /proc/net/tcp || return 1
  done
}
send() { in_cli "$PY" "$ROOT/qemu-tests/lib/sipsend.py" "$CLI_IP" 5060 "$VIP" 5060 "$@" >/dev/null; }
received() { cat /tmp/rs*.log 2>/dev/null | wc -l; }

setup() { # MODULE [PARAM=VALUE...]
  topo_up
  rm -f /tmp/rs*.log
  modprobe "$@"
  in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 60 -M 0.0.0.0 -o --pe sip
  in_dir ipvsadm -A -t "$VIP:5060" -s rr -p 60 -M 0.0.0.0 --pe sip
  for i in 1 2 3; do
    in_dir ipvsadm -a -u "$VIP:5060" -r "${RS_IPS[i - 1]}:5060" -m
    in_dir ipvsadm -a -t "$VIP:5060" -r "${RS_IPS[i - 1]}:5060" -m
    # In subshells, so that killing them later is not reported as a failed job.
    (in_rs "$i" "$PY" "$ROOT/qemu-tests/lib/sink.py" udp 0.0.0.0 5060 "/tmp/rs$i.log" &)
    (in_rs "$i" "$PY" "$ROOT/qemu-tests/lib/sink.py" tcp 0.0.0.0 5060 "/tmp/rs$i.log" &)
  done
  wait_until sinks_bound || echo "  (the sinks did not all bind)"
}

d=/tmp/fallback
mkdir -p "$d"
: >"$d/empty"
printf 'OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP c\r\nCSeq: 1 OPTIONS\r\n\r\n' >"$d/no_callid"
printf 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: %s\r\n\r\n' "$(head -c 256 /dev/zero | tr '\0' x)" >"$d/too_long"
printf 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: abc;def\r\n\r\n' >"$d/bad_terminator"
printf 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: %s\r\n\r\n' "$(head -c 255 /dev/zero | tr '\0' y)" >"$d/longest"

setup ip_vs_pe_sip_rs
send "$d/empty"
expect_eq "an empty datagram counts as no_payload" "$(stat no_payload)" 1
send "$d/no_callid"
expect_eq "a message without Call-ID counts as no_callid" "$(stat no_callid)" 1
send "$d/too_long"
expect_eq "a 256-byte Call-ID counts as too_long" "$(stat too_long)" 1
send "$d/bad_terminator"
expect_eq "a Call-ID followed by ';' counts as bad_terminator" "$(stat bad_terminator)" 1
send "$d/longest"
expect_eq "a 255-byte Call-ID is found" "$(stat found)" 1
expect "and listed whole in /proc/net/ip_vs_conn" grep -q " sip $(head -c 255 /dev/zero | tr '\0' y)\$" <(in_dir cat /proc/net/ip_vs_conn)
expect_eq "examined counts all five" "$(stat examined)" 5
arrived() { [ "$(received)" -ge "$1" ]; }
wait_until arrived 5
expect_eq "all five datagrams reached a real server" "$(received)" 5
expect "a TCP connection to the --pe sip service goes through" \
  in_cli "$PY" -c "import socket; socket.create_connection(('$VIP', 5060), timeout=5).close()"
expect "and counts as not_udp" [ "$(stat not_udp)" -ge 1 ]
topo_down
pkill -f qemu-tests/lib/sink.py
expect "our engine unloads" unload ip_vs_pe_sip_rs

# C's semantics on our engine: the operator's choice.
setup ip_vs_pe_sip_rs drop_without_callid=1
param=/sys/module/ip_vs_pe_sip_rs/parameters/drop_without_callid
send "$d/no_callid"
send "$d/longest"
expect "drop_without_callid=1: the message with a Call-ID arrives" wait_until arrived 1
expect_eq "the one without Call-ID, sent before it, does not" "$(received)" 1
expect_eq "counted as no_callid and dropped, beside the one found" \
  "$(stat no_callid)/$(stat dropped)/$(stat found)/$(stat examined)" "1/1/1/2"
expect_fail "a TCP connection attempt is dropped too" \
  in_cli "$PY" -c "import socket; socket.create_connection(('$VIP', 5060), timeout=3).close()"
expect "and counted as not_udp and dropped" [ "$(stat not_udp)" -ge 1 -a "$(stat dropped)" -ge 2 ]
expect "the parameter can be switched off at run time" sh -c "echo 0 > $param"
dropped=$(stat dropped)
send "$d/no_callid"
expect "then a message without Call-ID arrives again" wait_until arrived 2
expect_eq "and is counted as no_callid, not as dropped" "$(stat no_callid)/$(stat dropped)" "2/$dropped"
topo_down
pkill -f qemu-tests/lib/sink.py
expect "our engine unloads" unload ip_vs_pe_sip_rs

setup ip_vs_pe_sip
send "$d/no_callid"
send "$d/longest"
# The datagram with a Call-ID, sent second, arriving means the first has had its chance.
expect "the C engine passes the message with a Call-ID" wait_until arrived 1
expect_eq "the C engine drops the message without Call-ID (only the other one arrives)" "$(received)" 1
expect_fail "the C engine drops a TCP connection attempt" \
  in_cli "$PY" -c "import socket; socket.create_connection(('$VIP', 5060), timeout=3).close()"
topo_down
pkill -f qemu-tests/lib/sink.py
expect "the C engine unloads" unload ip_vs_pe_sip
finish
