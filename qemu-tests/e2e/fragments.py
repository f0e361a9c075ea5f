#!/usr/bin/python3 -S
"""Fragmented INVITEs: calls whose INVITE carries an SDP body of about 3 KB
(fragments-uac.xml), larger than the 1500-byte MTU, so that it leaves the client in
fragments, over IPv4 and IPv6. The director reassembles a datagram before IPVS schedules it
(IPv4: IPVS itself, IPv6: nf_defrag_ipv6, which IPVS enables), so the engine reads the whole
INVITE: its Call-ID is found and persistence holds. The engine's "fragment" counter (a later
IPv6 fragment reaching it) stays at 0."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, netns  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.scenario import expect_balanced  # noqa: E402
from ipvslab.topology import CLI_NS, DIR_NS, RS, RS6, VIP, VIP6  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 60))
calls6 = calls // 2
xml = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fragments-uac.xml")


def check_calls(family, r, n):
    expect_balanced(r, n, prefix=f"{family}: ")
    expect(f"{family}: the smallest INVITE the servers received ({r['min_invite']} bytes) "
           "exceeds the MTU", r["min_invite"] > 1500)


step("topology, IPv4 and IPv6 services with --pe sip, sipp UAS on rs1-3 (both families)")
rules = ipvs.service_rules(VIP, RS) + "\n" + ipvs.service_rules(VIP6, RS6, v6=True)
with Lab(rules=rules, uas=["v4", "v6"]) as lab:
    step(f"{calls} IPv4 calls with a large INVITE, up to 10 per second")
    r = lab.calls("frag", calls, 10, extra=["-sf", xml])
    check_calls("IPv4", r, calls)
    c, d = netns.snmp(CLI_NS), netns.snmp(DIR_NS)
    say(f"  client: {c['IpFragOKs']} datagrams fragmented into {c['IpFragCreates']} fragments; "
        f"director: {d['IpReasmOKs']} reassembled")
    expect("IPv4: the client fragmented every INVITE", c["IpFragOKs"] >= calls)
    expect("IPv4: the director reassembled them", d["IpReasmOKs"] >= calls)
    f = lab.stats()

    step(f"{calls6} IPv6 calls with a large INVITE, up to 10 per second")
    r = lab.calls("frag6", calls6, 10, v6=True, extra=["-sf", xml])
    check_calls("IPv6", r, calls6)
    c6 = netns.snmp6(CLI_NS)
    say(f"  client: {c6['Ip6FragCreates']} IPv6 fragments")
    expect("IPv6: the client sent the INVITEs in fragments", c6["Ip6FragCreates"] >= 2 * calls6)

    s = lab.stats()
    _, t_in, t_out = ipvs.totals_when(DIR_NS, lambda t: t[1] + t[2] >= s["examined"])
    say(f"  engine: examined {s['examined']}, found {s['found']}, fragment {s['fragment']}; "
        f"IPVS packets in {t_in}, out {t_out}")
    expect_eq("the engine found a Call-ID in every datagram it examined", s["found"],
              s["examined"])
    expect_eq("it examined each packet IPVS handled, both ways", s["examined"], t_in + t_out)
    # netfilter's IPv6 reassembly (nf_defrag_ipv6) keeps no MIB counter; that IPVS took each
    # INVITE in once, not once per fragment, shows it too.
    expect_eq("IPVS took each client datagram in once, whole (3 per call)", t_in,
              3 * (calls + calls6))
    # Each call: INVITE, ACK, BYE in; 180, 200, 200 out.
    expect_eq("IPv4: found = 6 per call", f["found"], 6 * calls)
    expect_eq("IPv6: found = 6 per call", s["found"] - f["found"], 6 * calls6)
    expect_eq("no fragment reached the engine", s["fragment"], 0)
sys.exit(checks.finish())
