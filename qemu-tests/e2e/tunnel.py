#!/usr/bin/python3 -S
"""Persistence and spread with IPVS tunnelling (-i): the director encapsulates each client
datagram in IPIP to the real server chosen by Call-ID; each server holds the VIP on its tunl0
and answers the client directly from it, past IPVS.

Tunnelling rather than direct routing (-g): it reaches real servers on any routed network,
not only on the director's own link, which is how SIP server farms in other racks or sites
are reached; here the servers even sit on their own subnet behind the director. Either way
the engine's work is the same (only client datagrams pass IPVS), and tunnelling is the
harder case for a real server (decapsulation, reverse path filtering off for tunl0)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, netns, rtnl, sipp  # noqa: E402
from ipvslab.checks import expect_eq, say, step  # noqa: E402
from ipvslab.scenario import expect_balanced, expect_templates  # noqa: E402
from ipvslab.topology import CLI, DIR_NS, RS, SERVERS, VIP, rs_ns  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 120))

step("topology with the VIP on each real server's tunl0, service -i with --pe sip, "
     "sipp UAS on the VIP")
with Lab(topo="tun", rules=ipvs.service_rules(VIP, RS, fwd="-i"), uas=["vip"]) as lab:
    step(f"{calls} calls from {CLI}:5060 to {VIP}:5060, up to 10 per second")
    fwd0 = netns.snmp(DIR_NS)["IpForwDatagrams"]
    r = lab.calls("tun", calls, 10)
    expect_balanced(r, calls)
    tun = {i: rtnl.rx_packets(rs_ns(i), "tunl0") for i in SERVERS}
    say("  packets received through tunl0: " + ", ".join(f"rs{i} {tun[i]}" for i in SERVERS))
    for i in SERVERS:
        expect_eq(f"rs{i} received each of its calls' messages through the tunnel", tun[i],
                  r[f"msgs{i}"])
    expect_templates(lab)
    s = lab.stats()
    _, d_in, d_out = ipvs.totals_when(DIR_NS, lambda t: t[1] >= s["examined"])
    say(f"  engine: examined {s['examined']}, found {s['found']}; IPVS packets in {d_in}, "
        f"out {d_out}")
    expect_eq("the engine examined exactly the client's datagrams", s["examined"], r["sent"])
    expect_eq("each had a Call-ID", s["found"], s["examined"])
    expect_eq("IPVS took in the client's datagrams and nothing else", d_in, r["sent"])
    # The answers' way back: IPVS counts outgoing packets only for masquerading servers, so
    # its counters cannot tell; the director's IP forwarding can. The client's datagrams
    # reach IPVS as local input and leave it encapsulated as the director's own output, so
    # all that the director forwards are the servers' answers, sent from the VIP.
    answers = sum(1 for i in SERVERS for d, *_ in lab.sipp.server_messages(i) if d == "out")
    got = sum(1 for d, *_ in sipp.messages(f"{lab.sipp.logs}/tun.msg") if d == "in")
    fwd = netns.snmp(DIR_NS)["IpForwDatagrams"] - fwd0
    say(f"  the servers sent {answers} answers, the client received {got}; the director "
        f"forwarded {fwd} datagrams")
    expect_eq("the client received every answer the servers sent", got, answers)
    expect_eq("the director forwarded each of them by plain IP routing, past IPVS", fwd, answers)
sys.exit(checks.finish())
