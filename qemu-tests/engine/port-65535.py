#!/usr/bin/python3 -S
"""Real servers on port 65535, through the kernel's C engine and ours.

IPVS marks a dead template (its server gone) by port 0xffff: 6.12 sets its vport and rehashes
it, 7.x only sets its dport and leaves it in its chain, where IPVS's own template lookup skips
it. Our ct_match follows IPVS's rule on 7.x (docs/engine.md, "Dead templates"), so there a
live template to a server on port 65535 never matches and persistence is lost, as it is for
IPVS without an engine; on 6.12 it checks nothing of the kind (a review found that an earlier
check there refused every such live template). The C engine checks neither.

CALLS calls of three messages each from the client's port 5060, sent round by round (every
call's first message, then every call's second, ...) to a NAT service whose three servers
listen on port 65535, with rr: CALLS is not a multiple of three, so a message scheduled anew
lands on another server than its call's message before it. Asserted: with the C engine, and
with ours on 6.12, each call whole on one server and one template per call; with ours on 7.x,
what docs/engine.md says: every message scheduled anew (one template each) and calls split."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

CALLS = 10
ROUNDS = ("INVITE", "ACK", "BYE")
PORT = 65535
# Thirty datagrams through three namespaces: only a failure waits this long.
DEADLINE = 120


def dead_by_dport():
    """Whether this IPVS has Linux 7.1's resizable tables, where a dead template keeps its
    vport (told by the file that series added, as scripts/build-kmod probes features, not
    versions; ip_vs must be loaded)."""
    return os.path.exists("/proc/net/ip_vs_status")


def templates():
    """The Call-IDs of the director's templates made by engine "sip", one per template."""
    return [c["data"] for c in ipvs.conns(DIR_NS) if c["template"] and c["pe"] == "sip"]


def run(mod, label):
    svc = f"{VIP}:5060"
    rules = f"-A -u {svc} -s rr -p 600 -M 0.0.0.0 -o --pe sip\n" + \
        "\n".join(f"-a -u {svc} -r {ip}:{PORT} -m" for ip in RS)
    callids = [f"port-65535-{label}-{i}" for i in range(CALLS)]
    step(f"{label} engine: {CALLS} calls of {len(ROUNDS)} messages to servers on port {PORT}")
    with Lab(engine=mod, rules=rules), udp.Sinks(RS_NS, port=PORT) as sinks:
        expect(f"{label} engine: module {mod} is loaded", modules.loaded(mod))
        rht = dead_by_dport()
        say(f"  {os.uname().release}: a dead template is marked by "
            f"{'its dport alone' if rht else 'its vport, and rehashed'}")
        tx = udp.Sender(CLI_NS, CLI)
        try:
            for method in ROUNDS:
                tx.send(VIP, 5060, [udp.sip(callid=c, method=method) for c in callids])
        finally:
            tx.close()
        n = CALLS * len(ROUNDS)
        try:
            sinks.wait(n, DEADLINE, f"{n} datagrams reach the servers")
        except procs.Timeout as e:
            say(f"  {e}")
        where = sinks.by_tag()
        whole = sum(1 for c in callids if len(where.get(c, [])) == len(ROUNDS)
                    and len(set(where[c])) == 1)
        split = sum(1 for c in callids if len(set(where.get(c, []))) > 1)
        held = templates()
        per_server = {ns: sinks.count(ns) for ns in RS_NS}
        say(f"  {label}: {whole} calls whole, {split} split; {len(held)} templates; "
            f"datagrams per server {per_server}")
        expect_eq(f"{label} engine: every datagram reached a server", sinks.count(), n)
        if mod == modules.ENGINE and rht:
            expect_eq(f"{label} engine on 7.x: no template matched again, one per message "
                      "(docs/engine.md)", len(held), n)
            expect_eq(f"{label} engine on 7.x: every call split over servers", split, CALLS)
        else:
            expect_eq(f"{label} engine: one template per call", sorted(held), sorted(callids))
            expect_eq(f"{label} engine: every call whole on one server", whole, CALLS)
            expect(f"{label} engine: the calls spread over the servers",
                   sum(1 for v in per_server.values() if v) == len(RS_NS), per_server)


run(modules.C_ENGINE, "C")
run(modules.ENGINE, "Rust")
sys.exit(checks.finish())
