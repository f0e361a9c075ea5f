#!/usr/bin/python3 -S
"""Hostile traffic and module churn, with real calls alongside that must keep working.

1. 100 load/unload cycles of the engine while calls flow through the VIP. A module whose
   engine any service or template uses cannot be unloaded (templates hold a reference until
   they expire), so the busy services run without the engine here; each cycle loads it,
   attaches it to an idle service (generic netlink), checks that unloading is refused,
   detaches it and unloads it. A thread reads the counters all along.
2. The engine on the busy IPv4 and IPv6 services, then more than 10,000 malformed or random
   datagrams at both VIPs (empty, truncated, without Call-ID, Call-IDs too long, badly
   terminated, binary, random) and Call-IDs of exactly 255 bytes, which
   `ipvsadm-rs -Lcn --persistent-conn` must list whole while the flood runs. The counters
   must account for every datagram; unloading is refused while the services use the engine,
   and succeeds at the end once their namespace is gone.
scripts/vm fails the run on any kernel report (KASAN, kmemleak, lockdep, WARNING).

Nothing here is timed by the clock. The flood is sent in chunks, each once the director has
handled the previous one and the servers' sockets have room (backpressure), so however slow
the host, it never fills a queue that the calls beside it need. The calls run from before
the churn or flood begins until it has ended, and the listing happens before the flood's last
chunk is sent."""
import os
import random
import re
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, netns, procs, sipp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI6, CLI_NS, DIR_NS, RS, RS6, RS_NS, VIP, VIP6  # noqa: E402

CYCLES = int(os.environ.get("E2E_CYCLES", 100))
FLOOD = int(os.environ.get("E2E_FLOOD", 10000))
# Datagrams sent before waiting for the director and the servers to catch up.
CHUNK = 64
# A chunk's deadline: handling 64 datagrams takes well under a second.
CHUNK_DEADLINE = 300
# Room a server's socket must have before the next chunk (its buffer is sipp.BUFF).
ROOM = sipp.BUFF // 4
# Calls per second beside the churn and the flood. They witness that real calls keep
# working; they are not the load. Under emulation a call costs most in the sipp processes
# at its two ends: at 5 per second, the four sipp processes took 1,027 of the guest's
# 1,665 CPU seconds during the flood, and the flood waited for them. One per second still
# gives hundreds of calls over the three servers.
RATE = int(os.environ.get("E2E_RATE", 1))

# --- The hostile datagrams -------------------------------------------------------------

# Call-ID word characters (RFC 3261).
WORD = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%_+~"
# Maps any byte to a Call-ID word character, or to anything but a line end.
TO_WORD = bytes(WORD[b % len(WORD)] for b in range(256))
NO_EOL = bytes(b if b not in (10, 13) else 32 for b in range(256))


def words(rng, n):
    return rng.randbytes(n).translate(TO_WORD)


def sip_request(callid_line, method="OPTIONS", body=b""):
    return (f"{method} sip:svc@example.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP attacker.test:5060;branch=z9hG4bK1\r\n"
            "From: <sip:a@example.test>;tag=1\r\nTo: <sip:svc@example.test>\r\n").encode() + \
        callid_line + b"CSeq: 1 " + method.encode() + b"\r\nContent-Length: " + \
        str(len(body)).encode() + b"\r\n\r\n" + body


# What a Call-ID header needs at the least: its name (or the compact "i") at the start of a
# line, then optional whitespace (line ends too, for a continuation) and a colon. Random
# bytes without this surely hold none.
MAY_HOLD_CALLID = re.compile(rb"[\r\n](?:call-id|i)[ \t\r\n]*:", re.I)


def hostile_datagrams(rng, n):
    """N malformed or random datagrams, each with the counter the engine must count it in
    ("any" for random bytes that may hold a Call-ID header, which are rare: random bytes
    without one are no_callid)."""
    kinds = ["empty", "no_callid", "binary", "huge", "truncated", "bad", "early", "random"]
    early = sip_request(b"Call-ID: early@attacker.test\r\n", "INVITE")
    for k in range(n):
        kind = kinds[k % len(kinds)]
        if kind == "empty":
            yield b"", "no_payload"
        elif kind == "no_callid":
            yield sip_request(b""), "no_callid"
        elif kind == "binary":
            # Without a line end there is no header after the start line.
            yield rng.randbytes(rng.randint(1, 512)).translate(NO_EOL), "no_callid"
        elif kind == "huge":
            yield sip_request(b"Call-ID: " + words(rng, rng.randint(256, 1200)) + b"\r\n"), \
                "too_long"
        elif kind == "truncated":
            # Cut inside the Call-ID's value: no line end after it.
            full = sip_request(b"Call-ID: cut%d@attacker.test\r\n" % k)
            yield full[:full.index(b"@attacker.test") + 5], "bad_terminator"
        elif kind == "bad":
            yield sip_request(b"Call-ID: abc%d;tag=x\r\n" % k), "bad_terminator"
        elif kind == "early":
            # Cut before the Call-ID header.
            yield early[:rng.randint(1, early.index(b"Call-ID"))], "no_callid"
        else:
            d = rng.randbytes(rng.randint(1, 512))
            if k % 16 == 7:
                d = b"INVITE sip:x SIP/2.0\r\n" + d.replace(b"\0", b"\r\n")
            yield d, "any" if MAY_HOLD_CALLID.search(d) else "no_callid"


class Flood(threading.Thread):
    """Sends ten valid datagrams with Call-IDs of exactly 255 bytes, then N malformed ones
    (IPv4 and IPv6 alternately) at the VIPs from the client, with backpressure. `longs_sent`
    is set once the long Call-IDs are out; the last chunk waits for `listed`."""

    def __init__(self, n):
        # A daemon: a scenario that fails while the flood waits must still end.
        super().__init__(daemon=True)
        self.n = n
        rng = self.rng = random.Random(5060)
        self.longs = [words(rng, 251).decode() + f"{i:04d}" for i in range(10)]
        self.sent = {}
        self.longs_sent, self.listed = threading.Event(), threading.Event()
        self.error = None
        self.waits = 0
        with netns.In(CLI_NS):
            # Each socket's receive buffer takes what the servers answer; nobody reads it.
            self.s4 = netns_socket(CLI, 4)
            self.s6 = netns_socket(CLI6, 6)
        # What backpressure polls, opened once: entering three namespaces twice a poll cost
        # more CPU than the flood it paces.
        self.snmp6 = [netns.ProcFile(ns, "snmp6") for ns in RS_NS]
        self.udp = [(netns.ProcFile(ns, "udp"), netns.ProcFile(ns, "udp6")) for ns in RS_NS]
        self.v6_base = self.v6_arrived()
        self.v6_sent = 0

    def send(self, k, d, cat):
        if k % 2:
            self.s6.sendto(d, (VIP6, 5060))
            self.v6_sent += 1
        else:
            self.s4.sendto(d, (VIP, 5060))
        self.sent[cat] = self.sent.get(cat, 0) + 1

    def v6_arrived(self):
        """IPv6 datagrams the servers received on a port nothing listens on: only the flood
        sends IPv6 (the calls are IPv4), and the servers' UAS listen on IPv4. Counted at
        once, unlike IPVS's own packet counters, which its estimator updates every 2 s."""
        return sum(netns.parse_snmp6(f.read())["Udp6NoPorts"] for f in self.snmp6)

    def caught_up(self):
        """Every IPv6 datagram sent went through the director to a server (the IPv4 ones
        share its queues), and each server's UAS has room for another chunk."""
        return self.v6_arrived() - self.v6_base >= self.v6_sent and \
            all(sipp.largest_rx_queue(v4.read() + v6.read()) <= ROOM for v4, v6 in self.udp)

    def backpressure(self):
        self.waits += 1
        procs.wait_until(self.caught_up, CHUNK_DEADLINE, "the director handles a chunk", 0.05)

    def close(self):
        """Closes what keeps the servers' namespaces alive (an open proc file holds its
        namespace, and with it the namespace's IPVS state)."""
        for f in self.snmp6 + [f for pair in self.udp for f in pair]:
            f.close()
        self.snmp6, self.udp = [], []

    def run(self):
        try:
            for i, cid in enumerate(self.longs):
                self.send(i, sip_request(b"Call-ID: " + cid.encode() + b"\r\n", "INVITE"),
                          "found")
            self.backpressure()
            self.longs_sent.set()
            last = self.n - CHUNK
            for k, (d, cat) in enumerate(hostile_datagrams(self.rng, self.n)):
                if k == last:
                    # The listing is to happen while the flood runs.
                    if not self.listed.wait(CHUNK_DEADLINE):
                        raise procs.Timeout("the listing did not end")
                self.send(k, d, cat)
                if k % CHUNK == CHUNK - 1:
                    self.backpressure()
            self.backpressure()
        except Exception as e:  # reported by the scenario
            self.error = e
            self.longs_sent.set()
        finally:
            self.close()


def netns_socket(ip, family):
    import socket
    s = socket.socket(socket.AF_INET6 if family == 6 else socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    return s


# --- Module churn ----------------------------------------------------------------------

def cycles(n):
    """N times: load the engine, attach it to the idle service VIP:5070, try to unload it
    (must be refused), detach it, unload it (must succeed). A thread reads the engine's
    counters in the director's namespace all along, across their creation and removal."""
    stop = threading.Event()
    reads = [0]

    def reader():
        while not stop.is_set():
            try:
                modules.engine_stats(DIR_NS)
                reads[0] += 1
            except OSError:
                pass
            time.sleep(0)  # lets the main thread run

    th = threading.Thread(target=reader)
    th.start()
    with netns.In(DIR_NS):
        nl = ipvs.Ipvs()
    res = {"loaded": 0, "attached": 0, "refused": 0, "unloaded": 0, "stats": 0}
    errors = []
    t0 = time.monotonic()
    try:
        for _ in range(n):
            rc = modules.load(modules.ENGINE)
            if rc:
                errors.append(f"load: {os.strerror(rc)}")
                break
            res["loaded"] += 1
            res["stats"] += modules.stats_present(DIR_NS)
            nl.set_service(VIP, 5070, "sip")
            res["attached"] += 1
            rc = modules.unload(modules.ENGINE)
            if rc == modules.EWOULDBLOCK:
                res["refused"] += 1
            else:
                errors.append(f"unload while attached: {os.strerror(rc) if rc else 'succeeded'}")
            nl.set_service(VIP, 5070, None)
            rc = modules.unload(modules.ENGINE)
            if rc == 0:
                res["unloaded"] += 1
            else:
                errors.append(f"unload after detach: {os.strerror(rc)}")
                break
    finally:
        stop.set()
        th.join()
        nl.close()
    res["seconds"], res["reads"] = time.monotonic() - t0, reads[0]
    for e in errors[:5]:
        say(f"  cycle error: {e}")
    return res


def begun(uac, n=3):
    """Waits until UAC has begun N calls (so that calls surely flow during what follows)."""
    procs.wait_until(lambda: uac.started() >= n, 300, f"sipp client {uac.tag} begins calls")


# --- The scenario ----------------------------------------------------------------------

rules = "\n".join([ipvs.service_rules(VIP, RS, pe=None),
                   ipvs.service_rules(VIP6, RS6, pe=None, v6=True),
                   ipvs.service_rules(VIP, RS[:1], pe=None, port=5070)])
step("topology, IPv4 and IPv6 services without engine, an idle service on port 5070, "
     "sipp UAS on rs1-3")
with Lab(engine=False, rules=rules, uas=["v4"]) as lab:
    step(f"{CYCLES} load/unload cycles of ip_vs_pe_sip_rs while calls flow ({RATE} per second)")
    churn = lab.uac("churn", 100000, RATE, background=True)
    begun(churn)
    window = churn.progress()
    c = cycles(CYCLES)
    within = len(churn.progress()[1] - window[0])
    churn.stop()
    say(f"  cycles: {c['loaded']} loaded, {c['attached']} attached, {c['refused']} unloads "
        f"refused while attached, {c['unloaded']} unloaded after detaching, in "
        f"{c['seconds']:.1f} s; counters read {c['reads']} times")
    expect_eq(f"{CYCLES} loads", c["loaded"], CYCLES)
    expect_eq("the counter files appeared with each load", c["stats"], CYCLES)
    expect_eq("unloading was refused while a service used the engine, every time",
              c["refused"], CYCLES)
    expect_eq("and succeeded once the service let go, every time", c["unloaded"], CYCLES)
    expect("the reader thread read the counters", c["reads"] > 0)
    r = churn.wait(lab.diag_namespaces())
    say(f"  calls begun and ended while the cycles ran: {within}")
    expect(f"calls began and ended while the cycles ran ({within})", within > 0)
    expect_eq("every one of them succeeded", f"{r['ok']}/{r['failed']}", f"{r['calls']}/0")

    step(f"the engine on the IPv4 and IPv6 services; calls and {FLOOD} hostile datagrams")
    # The packets IPVS handled so far: every datagram the churn's client sent. (Not their
    # answers: with one-packet scheduling a connection is gone before the server answers, so
    # IPVS counts no outgoing packet. Waiting for 6 a call cost this scenario 120 s.)
    d0 = ipvs.totals_when(DIR_NS, lambda t: t[1] >= r["sent"])
    expect_eq("ip_vs_pe_sip_rs loads", modules.load(modules.ENGINE), 0)
    ipvs.rules([DIR_NS], f"-E -u {VIP}:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip\n"
                         f"-E -u [{VIP6}]:5060 -s rr -p 60 -o --pe sip")
    calls = lab.uac("calls", 100000, RATE, background=True)
    begun(calls)
    flood = Flood(FLOOD)
    cpu0 = procs.cpu_snapshot(lab.diag_namespaces())
    t0 = time.monotonic()
    window = calls.progress()
    flood.start()
    flood.longs_sent.wait()
    # /proc/net/ip_vs_conn is read a page at a time, and each read finds its place again by
    # counting entries: when entries come and go between two reads (as they do all through
    # the flood), one entry may be printed twice, or missed. So an ID may appear on identical
    # lines (the same entry twice, its timer perhaps a second lower), and a listing may miss
    # one; up to three listings are taken. Two different lines would be two templates for one
    # call.
    listed, tries, last = 0, 0, ""
    for tries in (1, 2, 3):
        out = procs.run(DIR_NS, ["ipvsadm-rs", "-Lcn", "--persistent-conn"],
                        capture_output=True).stdout.decode("latin-1").split("\n")
        listed = 0
        for cid in flood.longs:
            entries = set()
            for line in out:
                f = line.split()
                if len(f) >= 2 and f[-1] == cid and f[-2] == "sip":
                    entries.add(" ".join(f[:1] + f[2:]))  # without the timer
                    last = line
            if len(entries) == 1:
                listed += 1
            else:
                say(f"  Call-ID {cid[:20]}... is in {len(entries)} different entries:")
                for e in entries:
                    say(f"    {e[:110]}...")
        if listed == len(flood.longs):
            break
    say(f"  e.g.: {last[:100]}... ({len(last)} characters)")
    expect_eq("unloading is refused while the services use the engine (EWOULDBLOCK)",
              lab.refuse_unload(), modules.EWOULDBLOCK)
    flood_running = flood.is_alive()
    flood.listed.set()
    flood.join()
    within = len(calls.progress()[1] - window[0])
    dt = time.monotonic() - t0
    say("  CPU while flooding: " + procs.cpu_report(cpu0, lab.diag_namespaces()))
    calls.stop()
    h = flood.sent
    total = sum(h.values())
    say(f"  flood: {total} datagrams in {dt:.1f} s, {flood.waits} waits for the director: "
        f"no payload {h.get('no_payload')}, no Call-ID {h.get('no_callid')}, too long "
        f"{h.get('too_long')}, bad terminator {h.get('bad_terminator')}, random bytes that may "
        f"hold a Call-ID header {h.get('any', 0)}, "
        f"255-byte Call-IDs {h.get('found')}")
    expect("the flood was sent whole, each chunk handled", flood.error is None, flood.error)
    expect(f"at least {FLOOD:,} datagrams sent ({total})", total >= FLOOD)
    expect_eq("ipvsadm-rs -Lcn --persistent-conn listed each 255-byte Call-ID whole, in one "
              f"template, during the flood (listing {tries})", listed, len(flood.longs))
    expect("the flood still ran when the listing ended", flood_running)
    r = calls.wait(lab.diag_namespaces())
    say(f"  calls begun and ended while the flood ran: {within}")
    expect(f"calls began and ended while the flood ran ({within})", within > 0)
    expect_eq("every one of them succeeded", f"{r['ok']}/{r['failed']}", f"{r['calls']}/0")
    expect_eq("no call reached more than one server", r["split"], 0)
    expect_eq("the calls spread over all three servers", r["servers_used"], 3)

    s = lab.stats()
    d1 = ipvs.totals_when(DIR_NS, lambda t: t[1] - d0[1] + t[2] - d0[2] >= s["examined"])
    handled = d1[1] - d0[1] + d1[2] - d0[2]
    for k in modules.STATS[1:]:
        say(f"  counter {k}: {s[k]}")
    # `examined` is the sum of the other counters (each datagram ends in exactly one), so
    # this also checks that every packet was counted once, found or under one reason.
    say(f"  examined {s['examined']}; IPVS packets handled meanwhile: {handled}")
    expect_eq("the engine examined every packet IPVS handled", s["examined"], handled)
    # Every datagram but the calls' and the 255-byte Call-IDs falls back, each under the
    # reason it was made for, except the few random ones that may hold a Call-ID header
    # ("any"): each of those may be found or fall back under any reason.
    fallbacks = s["no_payload"] + s["no_callid"] + s["too_long"] + s["bad_terminator"]
    maybe = h.get("any", 0)
    fell = total - h["found"] - maybe
    expect(f"the malformed datagrams, and they alone, fell back to normal persistence "
           f"({fallbacks}: {fell} + up to {maybe} random ones)", fell <= fallbacks <= fell + maybe)
    expect_eq("empty datagrams: no_payload", s["no_payload"], h["no_payload"])
    for k, what in (("no_callid", "without Call-ID"), ("too_long", "longer than 255 bytes"),
                    ("bad_terminator", "truncated or bad")):
        expect(f"{what}: {k} {s[k]}, {h[k]} + up to {maybe}", h[k] <= s[k] <= h[k] + maybe)
    expect("the calls' and the 255-byte Call-IDs were found",
           s["found"] >= h["found"] + 3 * r["calls"])
    expect_eq("no allocation failed, no fragment or non-UDP packet",
              f"{s['alloc_failed']}/{s['fragment']}/{s['not_udp']}", "0/0/0")
sys.exit(checks.finish())
