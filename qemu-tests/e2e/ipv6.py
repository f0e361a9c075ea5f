#!/usr/bin/python3 -S
"""Persistence and spread over IPv6: SIP calls from one client address and port to the IPv6
VIP, NAT to three IPv6 real servers. Every message of a call reaches one server, the calls
spread over all three, none has more than half."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs  # noqa: E402
from ipvslab.checks import step  # noqa: E402
from ipvslab.scenario import (  # noqa: E402
    expect_balanced, expect_engine_both_ways, expect_templates)
from ipvslab.topology import CLI6, RS6, VIP6  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 60))

step("topology, IPv6 service with --pe sip, sipp UAS on rs1-3 (IPv6)")
with Lab(rules=ipvs.service_rules(VIP6, RS6, v6=True), uas=["v6"]) as lab:
    step(f"{calls} calls from [{CLI6}]:5060 to [{VIP6}]:5060, up to 10 per second")
    r = lab.calls("sip6", calls, 10, v6=True)
    expect_balanced(r, calls)
    expect_templates(lab, v6=True)
    expect_engine_both_ways(lab)
sys.exit(checks.finish())
