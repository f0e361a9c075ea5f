#!/usr/bin/python3 -S
"""Persistence and spread: SIP calls (INVITE, 200, ACK, BYE, 200) from one client address and
port. With --pe sip every message of a call reaches one server and the calls spread over all
three. Two baselines without the engine: plain persistence pins every call to one server; no
persistence scatters the messages of a call over the servers. Where messages went is read
from the servers' own sipp message logs."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs  # noqa: E402
from ipvslab.checks import expect, expect_eq, step  # noqa: E402
from ipvslab.scenario import (  # noqa: E402
    expect_balanced, expect_engine_both_ways, expect_templates)
from ipvslab.topology import CLI, DIR_NS, RS, VIP  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 200))
base = 60

step("topology, service with --pe sip, sipp UAS on rs1-3")
with Lab(rules=ipvs.service_rules(VIP, RS), uas=["v4"]) as lab:
    step(f"{calls} calls from {CLI}:5060 to {VIP}:5060, up to 10 per second")
    r = lab.calls("sip", calls, 10)
    expect_balanced(r, calls)
    expect_templates(lab)
    expect_engine_both_ways(lab)

    step(f"baseline: the same service without --pe sip, {base} calls")
    ipvs.rules([DIR_NS], f"-E -u {VIP}:5060 -s rr -p 60 -M 0.0.0.0 -o")
    r = lab.calls("plain", base, 10)
    expect_eq("baseline: sipp: no call failed", r["failed"], 0)
    expect_eq(f"baseline: the servers received all {base} calls", r["calls"], base)
    expect_eq("baseline: plain persistence puts every call on one server",
              f"{r['servers_used']}/{r['maxpct']}", "1/100")

    step(f"baseline: no persistence at all, {base} calls")
    ipvs.rules([DIR_NS], f"-E -u {VIP}:5060 -s rr -o")
    # A server that gets a stray ACK or BYE drops or refuses it; the calls may still look
    # answered to the client, which is the danger: servers lose track of their calls. The
    # client gives up a call whose BYE went unanswered after 10 s: no check here depends on
    # a call's success.
    r = lab.calls("nopersist", base, 10, extra=["-recv_timeout", "10000"])
    expect_eq(f"no persistence: the servers received all {base} calls", r["calls"], base)
    expect(f"no persistence: most calls were split over servers ({r['split']} of {base})",
           r["split"] > base // 2)
sys.exit(checks.finish())
