"""Checks that several e2e scenarios make, on a UAC's report (Sipp.report)."""
from . import ipvs, topology
from .checks import expect, expect_eq, say


def expect_balanced(r, calls, prefix=""):
    """sipp saw no failure, the servers got every call, each call whole on one server, and
    the calls spread as round robin spreads them: each call's first datagram makes its
    template, the only scheduling the call causes, so the servers' counts differ by one call
    at most (66/67/67 of 200)."""
    expect_eq(f"{prefix}sipp: no call failed", r["failed"], 0)
    expect_eq(f"{prefix}sipp: every call succeeded", r["ok"], calls)
    expect_eq(f"{prefix}the servers received all {calls} calls", r["calls"], calls)
    expect_eq(f"{prefix}no call reached more than one server", r["split"], 0)
    expect_eq(f"{prefix}each call's INVITE, ACK and BYE reached its one server", r["whole"],
              calls)
    expect_eq(f"{prefix}the calls spread over all three servers", r["servers_used"], 3)
    per = [r[f"rs{i}"] for i in topology.SERVERS]
    expect(f"{prefix}round robin: the servers' calls differ by one at most "
           f"({'/'.join(map(str, per))})", max(per) - min(per) <= 1)


def templates(lab, v6=False):
    """The engine's templates in the director, compared with where the servers' logs saw
    their Call-IDs: count, agree (points at the one server that logged the Call-ID), named
    (the Call-ID ends with @ the template's server, as those of calls sipp starts on a
    server do), to{i}."""
    addrs = topology.RS6 if v6 else topology.RS
    conns = [c for c in ipvs.conns(topology.DIR_NS) if c["pe"] == "sip"]
    seen = lab.sipp.server_of_calls()
    t = {"count": len(conns),
         "agree": sum(1 for c in conns if c["dest"] in addrs and
                      seen.get(c["data"]) == {addrs.index(c["dest"]) + 1}),
         "named": sum(1 for c in conns if c["data"].endswith("@" + c["dest"]))}
    for i in topology.SERVERS:
        t[f"to{i}"] = sum(1 for c in conns if c["dest"] == addrs[i - 1])
    for c in conns[:2]:
        say(f"  e.g. template -> {c['dest']}:{c['dport']} sip {c['data']}")
    return t


def expect_templates(lab, v6=False):
    """The director holds sip templates, each pointing at the server whose log has its
    Call-ID."""
    t = templates(lab, v6)
    say(f"  director: {t['count']} sip templates (those of the last minute's calls)")
    expect("the director holds sip templates", t["count"] > 0)
    expect_eq("each points at the server that logged its Call-ID", t["agree"], t["count"])


def expect_engine_both_ways(lab):
    """With NAT and one-packet scheduling, the engine examined every packet IPVS handled (no
    connection entry outlives its packet, so the servers' answers go through conn_out and are
    examined too) and found a Call-ID in each."""
    s = lab.stats()
    _, d_in, d_out = ipvs.totals_when(topology.DIR_NS, lambda t: t[1] + t[2] >= s["examined"])
    say(f"  engine: examined {s['examined']}, found {s['found']}; IPVS packets in {d_in}, "
        f"out {d_out}")
    expect_eq("every datagram the engine examined had a Call-ID", s["found"], s["examined"])
    expect_eq("the engine examined each packet IPVS handled, both ways", s["examined"],
              d_in + d_out)
