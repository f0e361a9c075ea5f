#!/usr/bin/python3 -S
"""The scheduler sipmh (ip_vs_sipmh) on one director: each Call-ID on one server whatever
port it comes from, fragmented INVITEs too, datagrams without a usable Call-ID, weight 0,
the table against the `ipvs` crate's model (`ipvsadm-rs --which-server`) and what adding
and removing a server moves, and 100 load/unload cycles with traffic running.

The module's choices are read where IPVS keeps them: the server each datagram reached (the
sinks in the real servers' namespaces) and, with persistence and `--pe sip`, the templates
(/proc/net/ip_vs_conn: Call-ID and server). Services are made by netlink from this process
and the module is loaded and unloaded by finit_module(2) and delete_module(2), so that a
cycle costs no process. The kernel's reports are checked by the suite after the test."""
import os
import random
import socket
import subprocess
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

SCHED = "ip_vs_sipmh"
CYCLES = int(os.environ.get("SIPMH_CYCLES", 100))
# Call-IDs per server set in the model comparison (templates read back from the kernel).
MODEL_CALLS = int(os.environ.get("SIPMH_MODEL_CALLS", 400))
# A fourth server's address on the servers' LAN that no namespace holds: templates still
# name it (what the scheduler chose), though its datagrams go nowhere.
EXTRA = "10.0.2.14"
SERVER_OF = dict(zip(RS_NS, RS))
# <linux/in.h>, which Python's socket module does not name.
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0


def service(nl, port, servers, timeout=None, pe=None, weights=None):
    """A fresh one-packet service VIP:PORT with sipmh (persistent with TIMEOUT and mask
    0.0.0.0, engine PE) to SERVERS:5060, masqueraded, added in that order."""
    nl.new_service(VIP, port, "sipmh", timeout=timeout, pe=pe)
    for s in servers:
        nl.dest("add", VIP, port, s, weight=(weights or {}).get(s, 1), dport=5060)


def send(payloads, sport, sinks, pmtu_off=False):
    """PAYLOADS from the client's port SPORT to VIP:5060, in step with SINKS."""
    tx = udp.Sender(CLI_NS, CLI, sport)
    if pmtu_off:
        # Fragmented by the client's kernel rather than refused (EMSGSIZE).
        tx.s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    try:
        tx.send(VIP, 5060, payloads, udp.settle_on(sinks, sinks.count()))
    finally:
        tx.close()


def templates(port):
    """{Call-ID: server} of the sip templates of service VIP:PORT."""
    return {c["data"]: c["dest"] for c in ipvs.conns(DIR_NS)
            if c["template"] and c["pe"] == "sip" and c["vport"] == port and c["data"]}


def wait_templates(port, n):
    procs.wait_until(lambda: len(templates(port)) >= n, 120 + n // 10,
                     f"{n} templates on port {port}")
    return templates(port)


def spread(choices):
    counts = {}
    for s in choices.values():
        counts[s] = counts.get(s, 0) + 1
    return ", ".join(f"{s}: {n}" for s, n in sorted(counts.items()))


def one_server_per_call(sinks, prefix, what):
    """Every Call-ID starting with PREFIX reached exactly one server; returns {id: ns}."""
    seen = {t: set(ns) for t, ns in sinks.by_tag().items() if t.startswith(prefix)}
    split = sorted(t for t, ns in seen.items() if len(ns) > 1)
    expect(f"{what}: every Call-ID reached one server ({len(seen)} Call-IDs)",
           not split, f"on several servers: {split[:5]}")
    return {t: next(iter(ns)) for t, ns in seen.items()}


def ports_and_fragments(nl):
    step("one Call-ID from three source ports reaches one server, with and without persistence")
    calls = 100
    with udp.Sinks(RS_NS) as sinks:
        for label, timeout, pe in (("persistent, --pe sip", 900, "sip"),
                                   ("one-packet", None, None)):
            prefix = f"ports-{'p' if pe else 'o'}-"
            service(nl, 5060, RS, timeout, pe)
            for sport in (5060, 5070, 5080):
                send([udp.sip(callid=f"{prefix}{i}@{CLI}") for i in range(calls)], sport, sinks)
            sinks.wait(3 * calls * (2 if not pe else 1), 120 + calls, "every datagram")
            got = one_server_per_call(sinks, prefix, label)
            expect_eq(f"{label}: every Call-ID arrived", len(got), calls)
            say(f"  {label}: calls per server: "
                f"{spread({k: SERVER_OF[v] for k, v in got.items()})}")
            nl.del_service(VIP, 5060)

        step("fragmented INVITEs (Call-ID beyond the first fragment) with unfragmented "
             "messages of the same calls")
        service(nl, 5060, RS)
        n = 20
        pad = b"X-Pad: " + b"p" * 2500 + b"\r\n"
        big = [udp.sip(callid=f"frag-{i}@{CLI}", method="INVITE").replace(
            b"Call-ID:", pad + b"Call-ID:") for i in range(n)]
        before = sinks.count()
        send(big, 5090, sinks, pmtu_off=True)
        send([udp.sip(callid=f"frag-{i}@{CLI}", method="ACK") for i in range(n)], 5091, sinks)
        sinks.wait(before + 2 * n, 120 + n, "every fragmented INVITE and its ACK")
        got = one_server_per_call(sinks, "frag-", "fragmented INVITE and its ACK")
        expect_eq("every fragmented call arrived", len(got), n)
        nl.del_service(VIP, 5060)


def malformed(nl):
    step("datagrams without a usable Call-ID: scheduled by source address and port")
    rnd = random.Random(7)
    bad = [b"", b"\0" * 16, b"INVITE", b"Call-ID:\r\n\r\n", b"Call-ID: \r\n",
           b"Call-ID: " + b"x" * 300 + b"\r\n\r\n", b"i:\r\n"]
    bad += [bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 600))) for _ in range(40)]
    for label, timeout, pe in (("one-packet", None, None), ("persistent, --pe sip", 900, "sip")):
        service(nl, 5060, RS, timeout, pe)
        with udp.Sinks(RS_NS, classify=lambda d: "bad") as sinks:
            send(bad, 5100, sinks)
            sinks.wait(len(bad), 120 + len(bad), "every malformed datagram")
            where = set(sinks.by_tag().get("bad", []))
        expect(f"{label}: {len(bad)} malformed datagrams from one port reached one server",
               len(where) == 1, f"servers: {sorted(where)}")
        nl.del_service(VIP, 5060)


def weight_zero(nl):
    step("weight 0: new calls avoid the server, calls it holds stay")
    n = 60
    service(nl, 5060, RS, 900, "sip")
    with udp.Sinks(RS_NS) as sinks:
        send([udp.sip(callid=f"held-{i}") for i in range(n)], 5060, sinks)
        sinks.wait(n, 120 + n, "the held calls' first datagrams")
        held = one_server_per_call(sinks, "held-", "before weight 0")
        zero = RS_NS[1]
        nl.dest("edit", VIP, 5060, SERVER_OF[zero], weight=0, dport=5060)
        send([udp.sip(callid=f"new-{i}") for i in range(n)], 5060, sinks)
        send([udp.sip(callid=f"held-{i}") for i in range(n)], 5070, sinks)
        sinks.wait(3 * n, 120 + n, "the new calls and the held calls' next datagrams")
        new = one_server_per_call(sinks, "new-", "new calls")
        expect(f"no new call reached {zero} (weight 0)", zero not in new.values(),
               spread(new))
        again = one_server_per_call(sinks, "held-", "held calls")
        expect_eq("every held call stayed on its server", again, held)
        say(f"  held calls on {zero}: {sum(1 for v in held.values() if v == zero)} of {n}")
    nl.del_service(VIP, 5060)


def model(port, servers):
    """The model's choice for each of MODEL_CALLS Call-IDs on service VIP:PORT, as
    `ipvsadm-rs --which-server` gives it from the kernel's servers and weights."""
    ids = [f"m-{i}@{CLI}" for i in range(MODEL_CALLS)]
    p = procs.run(DIR_NS, ["ipvsadm-rs", "--which-server", "-u", f"{VIP}:{port}", "-"],
                  input="\n".join(ids).encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    expect(f"ipvsadm-rs --which-server on {VIP}:{port} exits 0", p.returncode == 0,
           p.stderr.decode(errors="replace"))
    out = {}
    for line in p.stdout.decode().splitlines():
        # "CALL-ID SERVER:PORT", and the table's own server after it on a fallback.
        parts = line.split()
        if len(parts) >= 2:
            out[parts[0]] = parts[1].rsplit(":", 1)[0]
    return out


def table_and_model(nl):
    step(f"the module against the model, and what a fourth server moves ({MODEL_CALLS} calls)")
    configs = ((5061, list(RS), "3 servers"),
               (5062, [EXTRA, RS[2], RS[0], RS[1]], "a 4th server, added in another order"),
               (5063, [RS[0], RS[2], EXTRA], f"{RS[1]} removed"))
    chosen = {}
    for port, servers, label in configs:
        service(nl, port, servers, 900, "sip")
        tx = udp.Sender(CLI_NS, CLI, 5060)
        try:
            # In step with the templates (some go to a server no namespace holds).
            tx.send(VIP, port, [udp.sip(callid=f"m-{i}@{CLI}") for i in range(MODEL_CALLS)],
                    lambda sent: wait_templates(port, sent - 64))
        finally:
            tx.close()
        got = wait_templates(port, MODEL_CALLS)
        chosen[port] = got
        say(f"  {label}: {spread(got)}")
        want = model(port, servers)
        diff = [k for k in got if want.get(k) != got[k]]
        expect(f"{label}: the model chooses the module's server for all {len(got)} calls",
               not diff and len(want) == len(got),
               f"{len(diff)} differ, e.g. {[(k, got[k], want.get(k)) for k in diff[:3]]}")
    a, b, c = (chosen[p] for p, _, _ in configs)
    moved = [k for k in a if a[k] != b.get(k)]
    to_new = sum(1 for k in moved if b.get(k) == EXTRA)
    share = len(moved) / len(a)
    say(f"  adding a 4th server moved {len(moved)} of {len(a)} calls ({share:.1%}; "
        f"{to_new} to the new server); Maglev's ideal 1/4 = 25.0%, hash % n moves 3/4 = 75.0%")
    expect("adding a 4th server moves about 1/4 of the calls (15% to 35%)", 0.15 <= share <= 0.35,
           f"{share:.1%}")
    expect("calls that move on adding go to the new server (all but 2%)",
           len(moved) - to_new <= 0.02 * len(a), f"{len(moved) - to_new} moved between old ones")
    gone = [k for k in b if b[k] == RS[1]]
    others = [k for k in b if b[k] != RS[1]]
    moved_others = sum(1 for k in others if c.get(k) != b[k])
    say(f"  removing {RS[1]}: its {len(gone)} calls moved, and {moved_others} of the "
        f"{len(others)} others ({moved_others / max(len(others), 1):.1%})")
    expect(f"every call of {RS[1]} moved", all(c.get(k) != RS[1] for k in gone))
    expect("removing a server moves at most 3% of the other calls",
           moved_others <= 0.03 * len(others), f"{moved_others} of {len(others)}")
    for port, _, _ in configs:
        nl.del_service(VIP, port)


def cycles(nl):
    step(f"{CYCLES} load/unload cycles with traffic, every change of the service on the way "
         "(add, delete and edit a server, to rr and back, which leaves rr's data in sched_data)")
    stop = threading.Event()
    sent = [0]

    def traffic():
        tx = udp.Sender(CLI_NS, CLI, 5200)
        try:
            i = 0
            while not stop.is_set():
                tx.s.sendto(udp.sip(callid=f"cycle-{i % 50}") if i % 3 else b"\0", (VIP, 5060))
                i += 1
                # A steady trickle: the cycles, not the datagrams, are what is tested, and
                # the guest's CPU is the cycles' too.
                if i % 16 == 0:
                    stop.wait(0.01)
            sent[0] = i
        finally:
            tx.close()

    # Loaded by `-s sipmh` in the scenarios before: the cycles start from an unloaded module.
    expect(f"{SCHED} unloads once the services before are gone",
           modules.unload_when_free(SCHED, 60))
    with udp.Sinks(RS_NS, classify=lambda d: "x") as sinks:
        t = threading.Thread(target=traffic, daemon=True)
        t.start()
        done = 0
        try:
            for n in range(CYCLES):
                err = modules.load_with_deps(SCHED)
                if err:
                    expect_eq(f"cycle {n}: {SCHED} loads", err, 0)
                    break
                service(nl, 5060, RS)
                nl.dest("delete", VIP, 5060, RS[1])
                nl.dest("edit", VIP, 5060, RS[0], weight=0, dport=5060)
                nl.set_service(VIP, 5060, None, sched="rr")
                nl.set_service(VIP, 5060, None, sched="sipmh")
                nl.dest("add", VIP, 5060, RS[1], dport=5060)
                nl.del_service(VIP, 5060)
                if not modules.unload_when_free(SCHED, 60):
                    expect(f"cycle {n}: {SCHED} unloads once its service is gone", False)
                    break
                done += 1
        finally:
            stop.set()
            t.join()
        received = sinks.count()
    say(f"  {done} cycles, {sent[0]} datagrams sent, {received} reached a server")
    expect_eq("every cycle ran", done, CYCLES)
    expect("traffic reached the servers during the cycles", received > 0)


def main():
    with Lab(engine=True), ipvs.opened(DIR_NS) as nl:
        ports_and_fragments(nl)
        malformed(nl)
        weight_zero(nl)
        table_and_model(nl)
        cycles(nl)


if __name__ == "__main__":
    main()
    sys.exit(checks.finish())
