#!/usr/bin/env bash
# Fallback traffic (datagrams without a Call-ID) and Call-ID traffic never share a template.
#
# Thousands of calls go through a -M 0.0.0.0 service, so every template has the client
# address 0.0.0.0; IPVS's connection table is made small (ip_vs conn_tab_bits=8, 256
# buckets), so that with 3000 Call-ID templates the bucket a lookup without engine data
# hashes to holds some of them (all but certainly: the chance that none of 3000 templates
# lands in one given bucket of 256 is e^-11.7). A lookup that compared only addresses (IPVS's
# generic rule) would take one of them.
#
# How the test knows which template sent a datagram: the Call-ID templates are made while
# only rs1 and rs2 are in the service. Then rs1 and rs2 get weight 0 (their templates stay
# valid, expire_quiescent_template is 0, but nothing new is scheduled to them) and rs3 joins:
# from then on a new template can only point at rs3. So a datagram without Call-ID that
# reaches rs1 or rs2 was sent by a Call-ID template, and a Call-ID datagram (of a call that
# already has its template) that reaches rs3 was sent by the fallback template. Each real
# server logs the Call-ID or tag of every datagram it receives.
. "$(dirname "$0")/../lib/common.sh"
. "$ROOT/qemu-tests/lib/topo.sh"
. "$ROOT/qemu-tests/engine/lib.bash"
calls=${COLLISION_CALLS:-3000}
fallbacks=40
again=300

expect "IPVS reloads with a 256-bucket connection table" ipvs_unload_all
modprobe ip_vs conn_tab_bits=8
expect_eq "conn_tab_bits is 8" "$(cat /sys/module/ip_vs/parameters/conn_tab_bits)" 8
topo_up
modprobe ip_vs_pe_sip_rs
in_dir ipvsadm -A -u "$VIP:5060" -s rr -p 900 -M 0.0.0.0 -o --pe sip
in_dir ipvsadm -a -u "$VIP:5060" -r "${RS_IPS[0]}:5060" -m
in_dir ipvsadm -a -u "$VIP:5060" -r "${RS_IPS[1]}:5060" -m
expect "three real servers listen" sinks_up

send() { in_cli "$PY" "$TAGSEND" "$CLI_IP" 5060 "$VIP" 5060 "$@" >/dev/null; }
send callid "call-" 1 "$calls"
expect "the $calls Call-ID datagrams arrived" wait_lines $((60 + calls / 20)) "$calls" /tmp/rs[12].log
expect_eq "each made its own template" "$(template_callids_hex | wc -l)" "$calls"

in_dir ipvsadm -e -u "$VIP:5060" -r "${RS_IPS[0]}:5060" -m -w 0
in_dir ipvsadm -e -u "$VIP:5060" -r "${RS_IPS[1]}:5060" -m -w 0
in_dir ipvsadm -a -u "$VIP:5060" -r "${RS_IPS[2]}:5060" -m -w 1
send tag "fallback-" 1 "$fallbacks"
send callid "call-" 1 "$again"
total=$((calls + fallbacks + again))
expect "the $fallbacks datagrams without Call-ID and $again Call-ID datagrams arrived" \
  wait_lines 120 "$total" /tmp/rs[123].log

# Every datagram's server against the director's templates.
in_dir cat /proc/net/ip_vs_conn >/tmp/conns
report=$("$PY" - /tmp/conns /tmp/rs1.log /tmp/rs2.log /tmp/rs3.log <<'PY'
import sys
rs = {"0A00020B": "rs1", "0A00020C": "rs2", "0A00020D": "rs3"}
tmpl, fb, plain = {}, [], []
for line in open(sys.argv[1]).read().split("\n")[1:]:
    f = line.split()
    if len(f) < 9 or f[2] != "0000":
        continue
    if len(f) >= 11 and f[9] == "sip":
        tmpl[f[10]] = rs.get(f[5], f[5])
    elif len(f) == 10 and f[9] == "sip":
        fb.append(rs.get(f[5], f[5]))
    else:
        plain.append(rs.get(f[5], f[5]))
got = {}
for path in sys.argv[2:]:
    name = path.split("/")[-1][:3]
    for line in open(path):
        got.setdefault(line.split()[0], []).append(name)
fb_at = [s for t, ss in got.items() if t.startswith("fallback-") for s in ss]
cid_bad = [(t, s) for t, ss in got.items() if t.startswith("call-") for s in ss if s != tmpl.get(t)]
print(f"FB_TEMPLATES={len(fb)} FB_TEMPLATE_AT={','.join(fb) or 'none'} PLAIN_TEMPLATES={len(plain)}")
print(f"FB_SENT={len(fb_at)} FB_AT_RS3={fb_at.count('rs3')} FB_AT_RS12={len(fb_at) - fb_at.count('rs3')}")
print(f"CID_TEMPLATES={len(tmpl)} CID_AT_RS3={sum(1 for t, ss in got.items() if t.startswith('call-') for s in ss if s == 'rs3')} CID_OFF_TEMPLATE={len(cid_bad)}")
PY
)
while IFS= read -r line; do echo "  $line"; done <<<"$report"
eval "$report"
expect_eq "exactly one fallback template (engine sip, no Call-ID), pointing at rs3" \
  "$FB_TEMPLATES/$FB_TEMPLATE_AT" "1/rs3"
expect_eq "no template without the engine" "$PLAIN_TEMPLATES" 0
expect_eq "every datagram without Call-ID reached rs3 (none was sent by a Call-ID template)" \
  "$FB_AT_RS3/$FB_AT_RS12" "$fallbacks/0"
expect_eq "no Call-ID datagram reached rs3 (none was sent by the fallback template)" "$CID_AT_RS3" 0
expect_eq "each Call-ID datagram reached its own template's server" "$CID_OFF_TEMPLATE" 0
expect_eq "counters: found, no_callid" "$(stat found)/$(stat no_callid)" "$((calls + again))/$fallbacks"

sinks_down
topo_down
expect "IPVS reloads with its default table" ipvs_unload_all
modprobe ip_vs
finish
