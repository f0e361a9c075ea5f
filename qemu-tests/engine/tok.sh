#!/usr/bin/env bash
# The test-only engine `tok` (kmod/test_engine/), built on the same pe.rs as `sip`: proof
# that the abstraction serves another engine. It keys templates on the payload's first line
# and hashes them with the client address, which it reads through the view hashkey_raw gets
# (IPVS hashes every new template through ip_vs_conn_hashkey_conn(), with no virtual
# address). Also: two engines registered side by side, the registration rules (unload refused
# while a service uses an engine), and conn_out through IPVS's default ip_vs_new_conn_out().
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/engine/lib.bash"
mod_loaded() { grep -q "^$1 " /proc/modules; }
tokens=30

expect "modprobe ip_vs_pe_tok_rs" modprobe ip_vs_pe_tok_rs
expect "modprobe ip_vs_pe_sip_rs beside it" modprobe ip_vs_pe_sip_rs
expect "both are loaded" mod_loaded ip_vs_pe_tok_rs
topo_up
expect "a --pe tok service" in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 600 -M 0.0.0.0 -o --pe tok
for ip in "${RS_IPS[@]}"; do in_dir ipvsadm -a -u "$VIP:5060" -r "$ip:5060" -m; done
expect "ipvsadm lists the engine" grep -q "pe tok" <(in_dir ipvsadm -Ln)
expect_fail "rmmod ip_vs_pe_tok_rs is refused while the service uses it" rmmod ip_vs_pe_tok_rs
expect "rmmod ip_vs_pe_sip_rs, which no service uses, succeeds" rmmod ip_vs_pe_sip_rs
expect "the real servers listen" sinks_up

for _ in 1 2 3; do
  in_cli "$PY" "$TAGSEND" "$CLI_IP" 5060 "$VIP" 5060 line "T" 1 "$tokens" >/dev/null
done
expect "the $((tokens * 3)) datagrams arrived" wait_lines 60 $((tokens * 3)) /tmp/rs[123].log
# Each token on one server, the one its template points at.
in_dir cat /proc/net/ip_vs_conn >/tmp/conns
summary=$("$PY" - /tmp/conns /tmp/rs1.log /tmp/rs2.log /tmp/rs3.log <<'PY'
import sys
rs = {"0A00020B": "rs1", "0A00020C": "rs2", "0A00020D": "rs3"}
tmpl = {}
for line in open(sys.argv[1]).read().split("\n")[1:]:
    f = line.split()
    if len(f) >= 11 and f[9] == "tok":
        tmpl[f[10]] = rs.get(f[5], f[5])
got = {}
for path in sys.argv[2:]:
    for line in open(path):
        got.setdefault(line.split()[0], set()).add(path.split("/")[-1][:3])
whole = sum(1 for t, s in got.items() if s == {tmpl.get(t)})
used = len(set(tmpl.values()))
print(f"TEMPLATES={len(tmpl)} WHOLE={whole} SERVERS={used}")
PY
)
eval "$summary"
echo "  $summary"
expect_eq "one template per token, listed as 'tok <token>'" "$TEMPLATES" "$tokens"
expect_eq "each token's datagrams all reached its template's server" "$WHOLE" "$tokens"
expect_eq "the tokens spread over the three servers" "$SERVERS" 3

# A datagram without a token is dropped (fill_param fails).
in_cli "$PY" "$ROOT/qemu-tests/lib/sipsend.py" "$CLI_IP" 5060 "$VIP" 5060 /dev/null >/dev/null
in_cli "$PY" "$TAGSEND" "$CLI_IP" 5060 "$VIP" 5060 line "after-empty-" 1 1 >/dev/null
expect "the next datagram arrives" wait_for 30 grep -q "^after-empty-1 " /tmp/rs[123].log
expect_eq "the empty one did not" "$(lines /tmp/rs[123].log)" $((tokens * 3 + 1))

# conn_out: rs2 speaks first with token S1; the client sees the VIP and its answer
# returns to rs2.
rm -f /tmp/cli.log /tmp/cli.log.ready
(in_cli "$PY" "$TAGSINK" 0.0.0.0 5060 /tmp/cli.log &)
expect "the client listens" wait_for 60 test -e /tmp/cli.log.ready
in_rs 2 "$PY" "$TAGSEND" "${RS_IPS[1]}" 5060 "$CLI_IP" 5060 line "S" 1 1 >/dev/null
expect "the client received rs2's datagram" wait_lines 30 1 /tmp/cli.log
expect_eq "from the VIP" "$(awk '$1 == "S1" { print $2 }' /tmp/cli.log)" "$VIP"
expect "the director holds template 'tok S1' pointing at rs2" \
  grep -qE " 0A00020C 13C4 .* tok S1\$" <(in_dir cat /proc/net/ip_vs_conn)
in_cli "$PY" "$TAGSEND" "$CLI_IP" 5060 "$VIP" 5060 line "S" 1 1 >/dev/null
expect "the client's answer reached rs2" wait_for 30 grep -q "^S1 " /tmp/rs2.log

sinks_down
topo_down
expect "ip_vs_pe_tok_rs unloads once no service uses it" unload ip_vs_pe_tok_rs
finish
