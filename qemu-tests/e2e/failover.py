#!/usr/bin/python3 -S
"""Director failover: a master and a backup director with the IPVS sync daemons (sync protocol
version 1, which carries the engine's name and the Call-ID with each template). Calls start
through the master; once the backup holds their templates, the master fails and the backup
takes over the VIP and the real servers' gateway address (NAT needs the answers back through
the director). Every call in progress must end (BYE, 200) on the server it started on.

  cli --[client LAN]-- dir (master), dir2 (backup) --[server LAN]-- rs1, rs2, rs3
  (both LANs are bridges in namespace "sw"; dir and dir2 also share a sync link)

Each call is held after its ACK until the scenario releases it (failover-uac.xml waits for
an INFO the scenario sends once the takeover is done), so the BYEs surely go through the
backup, however long the calls took to start and the templates to reach the backup."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import time  # noqa: E402

from ipvslab import Lab, checks, ipvs, procs, sipp, topology  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import DIR2_NS, RS, VIP  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 30))
xml = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failover-uac.xml")
# Until the backup holds every call's template: the calls' start and the sync are a few
# messages each; only a broken sync reaches this.
SYNC_DEADLINE = 120 + 10 * calls
# Held calls send nothing between their ACK and their release, so their templates must
# outlive the whole wait for the sync and the takeover, however long that takes (as in
# apply.py).
PERSISTENCE = 1800


def templates_at_backup():
    return [c for c in ipvs.conns(DIR2_NS) if (c["data"] or "").startswith("long-")]


def sent(method):
    """Requests METHOD the client has sent."""
    return sipp.requests_sent(f"{lab.sipp.logs}/long.msg", method)


step("two directors with the same service, sync daemons (master on dir, backup on dir2), "
     "sipp UAS on rs1-3")
rules = ipvs.service_rules(VIP, RS, persistence=PERSISTENCE) + """
@dir --start-daemon master --mcast-interface s0 --syncid 7
@dir2 --start-daemon backup --mcast-interface s1 --syncid 7"""
with Lab(topo="failover", rules=rules, uas=["v4"]) as lab:
    step(f"{calls} calls, up to 5 per second, each held after its ACK until the takeover")
    uac = lab.uac("long", calls, 5, limit=calls,
                  extra=["-sf", xml, "-recv_timeout", str((SYNC_DEADLINE + 300) * 1000)])
    t0 = time.monotonic()
    try:
        procs.wait_until(lambda: len(templates_at_backup()) >= calls, SYNC_DEADLINE,
                         "the backup holds every call's template")
    except procs.Timeout as e:
        say(f"  {e}")
    mine = templates_at_backup()
    named = sum(1 for c in mine if c["pe"] == "sip" and c["template"])
    say(f"  the backup held the templates of {len(mine)} calls ({named} with sip and the "
        f"Call-ID) after {time.monotonic() - t0:.1f} s")
    expect_eq("the backup received every call's template from the master", len(mine), calls)
    expect_eq("each with the engine's name and the Call-ID", named, calls)
    # Every call is held (its ACK sent), and none has sent its BYE yet.
    try:
        procs.wait_until(lambda: sent("ACK") >= calls, SYNC_DEADLINE, "every call is held")
    except procs.Timeout as e:
        say(f"  {e}")
    expect_eq("every call is held before the takeover: ACKs sent, BYEs not",
              f"{sent('ACK')}/{sent('BYE')}", f"{calls}/0")

    t1 = time.monotonic()
    topology.take_over()
    _, b_in_before, _ = ipvs.totals(DIR2_NS)
    say(f"  takeover took {time.monotonic() - t1:.2f} s")

    step("the backup now serves the VIP; its persistent connections:")
    out = procs.run(DIR2_NS, ["ipvsadm-rs", "-Lcn", "--persistent-conn"],
                    capture_output=True).stdout.decode("latin-1").split("\n")
    held = [line for line in out if len(line.split()) >= 2 and line.split()[-2] == "sip" and
            line.split()[-1].startswith("long-")]
    for line in held[:3]:
        say(f"  {line}")
    expect_eq("ipvsadm-rs -Lcn --persistent-conn on the backup lists each call as "
              "sip <Call-ID>", len(held), calls)

    step("the calls end through the backup")
    sipp.release_held(sorted({c["data"] for c in mine}))
    r = uac.wait(lab.diag_namespaces())
    _, b_in, _ = ipvs.totals_when(DIR2_NS, lambda t: t[1] - b_in_before >= calls)
    say(f"  packets the backup's IPVS took in after the takeover: {b_in - b_in_before}")
    expect(f"the BYEs went through the backup ({b_in - b_in_before} >= {calls})",
           b_in - b_in_before >= calls)
    say(f"  calls broken by the failover: {calls - r['ok'] + r['split']}")
    expect_eq("sipp: every call succeeded", f"{r['ok']}/{r['failed']}", f"{calls}/0")
    expect_eq("no call reached more than one server", r["split"], 0)
    expect_eq("each call's INVITE, ACK and BYE reached its one server", r["whole"], calls)
    expect_eq("the calls spread over all three servers", r["servers_used"], 3)
sys.exit(checks.finish())
