#!/usr/bin/python3 -S
"""Requests started by the real servers (the engine's conn_out): each server calls the client
through the director, and the client's answers must come back to that same server.

With one-packet scheduling no connection entry outlives its packet, so a request a server
sends finds none in ip_vs_out_hook(); __ip_vs_rs_conn_out() then finds the real server by its
source address and port and hands the packet to the service's engine, whose conn_out
(ip_vs_new_conn_out()) makes a template keyed by the Call-ID that points at that server, and
a connection that rewrites the source to the VIP. The client answers the VIP; the engine
reads the same Call-ID and the template sends the answer to the server that began the call.
Without it the answers would be scheduled round robin: two in three would reach a server
that knows nothing of the call."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, sipp  # noqa: E402
from ipvslab.checks import expect_eq, say, step  # noqa: E402
from ipvslab.scenario import templates  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, SERVERS, VIP, rs_ns  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 20))

# The templates are counted once every call has ended: they must outlive the whole run,
# however long the calls take (as in engine/differential.py and collisions.py).
PERSISTENCE = 1800

step("topology, service with --pe sip (NAT)")
with Lab(rules=ipvs.service_rules(VIP, RS, persistence=PERSISTENCE)) as lab:
    step(f"each server calls the client's sipp UAS ({CLI}:5060) {calls} times: INVITE, ACK, "
         "BYE from the server")
    lab.sipp.uas(CLI_NS, CLI, "cli")
    sipp.wait_listening([CLI_NS])
    uacs = [lab.sipp.uac(f"srv{i}", rs_ns(i), RS[i - 1], f"{CLI}:5060", calls, 5)
            for i in SERVERS]
    reports = {i: u.wait(lab.diag_namespaces(), servers=False) for i, u in zip(SERVERS, uacs)}
    total = broken = 0
    for i in SERVERS:
        own = foreign = 0
        for d, first, cid, _ in sipp.messages(f"{lab.sipp.logs}/srv{i}.msg"):
            if d == "in":
                if cid and cid.startswith(f"srv{i}-"):
                    own += 1
                else:
                    foreign += 1
        ok, failed = reports[i]["ok"], reports[i]["failed"]
        say(f"  rs{i}: {ok} calls succeeded, {failed} failed; answers received {own}, of "
            f"others' calls {foreign}")
        expect_eq(f"rs{i}: every call it started succeeded", f"{ok}/{failed}", f"{calls}/0")
        # Each call brings the server three answers: 180 and 200 to the INVITE, 200 to the BYE.
        expect_eq(f"rs{i}: the client's answers to its calls all came back to it", own, 3 * calls)
        expect_eq(f"rs{i}: nothing of another server's calls reached it", foreign, 0)
        total, broken = total + ok, broken + failed
    say(f"  calls started by servers: {total} succeeded, {broken} broken")
    invites = sum(1 for d, first, *_ in sipp.messages(f"{lab.sipp.logs}/cli.msg")
                  if d == "in" and first.startswith(b"INVITE"))
    expect_eq("the client received every server's INVITE", invites, 3 * calls)

    t = templates(lab)
    say(f"  director: {t['count']} sip templates: to rs1 {t['to1']}, rs2 {t['to2']}, "
        f"rs3 {t['to3']}")
    expect_eq("one template per server-started call", t["count"], 3 * calls)
    expect_eq("each points at the server that started the call (named in its Call-ID)",
              t["named"], t["count"])
    s = lab.stats()
    _, d_in, d_out = ipvs.totals_when(DIR_NS, lambda t: t[1] + t[2] >= s["examined"])
    say(f"  IPVS packets: from servers (out) {d_out}, from the client (in) {d_in}; engine "
        f"examined {s['examined']}, found {s['found']}")
    # The servers' INVITE, ACK and BYE went out through conn_out, rewritten to the VIP; the
    # client's 180, 200 and 200 came in to the VIP. Had the requests left unrewritten, the
    # client would have answered the servers' own addresses, past IPVS.
    expect_eq("IPVS rewrote every server request (3 per call)", d_out, 9 * calls)
    expect_eq("every client answer came in through the VIP (3 per call)", d_in, 9 * calls)
    expect_eq("the engine examined all of them and found each Call-ID",
              f"{s['found']}/{s['examined']}", f"{18 * calls}/{18 * calls}")
sys.exit(checks.finish())
