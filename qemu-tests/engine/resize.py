#!/usr/bin/python3 -S
# boot-test: needs ipvs_rht
"""Calls held through resizes of IPVS's connection table (Linux 7.1's resizable tables).

Every table has its own random hash key, and a resize moves each template into a new table,
calling the engine's hashkey_raw with the new table's key (from the resize work, not only
from packets); while it runs, lookups walk both tables. A template that the engine hashes
differently in some path would be lost or not found: its call's next datagram would make a
new template, on whichever server the scheduler picks.

HELD calls (one Call-ID datagram each) make their templates while only rs1 and rs2 are in
the service. Then rs1 and rs2 get weight 0 and rs3 joins: from then on a new template can
only point at rs3, so a held call that reaches rs3 has lost its template. The table grows as
the templates come (it starts at its smallest, 256 buckets), then conn_lfactor is written
three times while the held calls keep sending, each forcing a resize of every template;
/proc/net/ip_vs_status says each time how big the table is and how many entries it holds
(`Conns:`, a counter: a walk of the table can see an entry twice during a move). At the end
every held call sends once more. Asserted: the table resized to each size the load factor
asks for; no held call reached another server than its first (0 broken); `Conns:` and the
engine's templates are the held calls, no more and no fewer (no template lost or doubled)."""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, netns, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

HELD = int(os.environ.get("RESIZE_CALLS", 1000))
# The smallest table (IPVS_CONN_TAB_MIN_BITS, include/net/ip_vs.h); the largest is the ip_vs
# parameter conn_tab_bits.
MIN_BITS = 8


def status():
    """/proc/net/ip_vs_status of the director: conns, buckets, lfactor."""
    text = netns.read(DIR_NS, "ip_vs_status")
    conns = int(re.search(r"^Conns:\s+(\d+)", text, re.M).group(1))
    m = re.search(r"^Conn buckets:\s+(\d+) \((\d+) bits, lfactor (-?\d+)\)", text, re.M)
    return {"conns": conns, "buckets": int(m.group(1)), "lfactor": int(m.group(3)),
            "text": text}


def desired(n, lfactor):
    """The table size IPVS asks for N entries at LFACTOR after a change of the load factor
    (ip_vs_rht_desired_size(): its rule when the factor differs from the table's)."""
    max_bits = int(open("/sys/module/ip_vs/parameters/conn_tab_bits").read())
    p = 1
    while p < n:
        p <<= 1
    if lfactor < 0:
        f = min(-lfactor, max_bits)
        size = min(p, 1 << (max_bits - f)) << f
    else:
        size = min(p >> lfactor, 1 << max_bits)
    return max(1 << MIN_BITS, min(size, 1 << max_bits))


def resized_to(buckets, lfactor):
    s = status()
    return s["buckets"] == buckets and s["lfactor"] == lfactor


def sysctl_lfactor(value):
    netns.sysctl(DIR_NS, {"net.ipv4.vs.conn_lfactor": value})


def run():
    svc = f"{VIP}:5060"
    held = [f"held-{i}" for i in range(1, HELD + 1)]
    rules = ipvs.service_rules(VIP, RS[:2], persistence=900)
    step("topology, service with --pe sip on rs1 and rs2 (persistence 900 s), sinks on rs1-3")
    with Lab(rules=rules), udp.Sinks(RS_NS) as sinks:
        before = status()
        say(f"  table before: {before['buckets']} buckets, lfactor {before['lfactor']}, "
            f"{before['conns']} entries")
        tx = udp.Sender(CLI_NS, CLI)
        try:
            step(f"{HELD} held calls make their templates")
            tx.send(VIP, 5060, [udp.sip(callid=c) for c in held], udp.settle_on(sinks))
            expect(f"the {HELD} datagrams arrived",
                   wait_count(sinks, HELD, 60 + HELD // 20, "the held calls' datagrams"))
            grown = status()
            say(f"  table with the held calls: {grown['buckets']} buckets, "
                f"{grown['conns']} entries")
            expect_eq("the table grew from its smallest size to what the load asks",
                      f"{before['buckets']} -> {grown['buckets']}",
                      f"{1 << MIN_BITS} -> {desired(HELD, grown['lfactor'])}")
            expect_eq("Conns: the held calls' templates", grown["conns"], HELD)

            step("rs1 and rs2 to weight 0, rs3 joins: a lost template would send its call to rs3")
            ipvs.rules([DIR_NS], "\n".join(
                [f"-e -u {svc} -r {ip}:5060 -m -w 0" for ip in RS[:2]] +
                [f"-a -u {svc} -r {RS[2]}:5060 -m -w 1"]))

            step("conn_lfactor written three times while the held calls keep sending")
            stop = threading.Event()
            sent = [0]

            def traffic():
                # Round after round of the held calls, paced by what the sinks received.
                rx = udp.Sender(CLI_NS, CLI, sport=5062)
                try:
                    while not stop.is_set():
                        for i in range(0, HELD, 32):
                            if stop.is_set():
                                break
                            batch = [udp.sip(callid=c) for c in held[i:i + 32]]
                            rx.send(VIP, 5060, batch)
                            sent[0] += len(batch)
                            first = HELD + sent[0]
                            procs.wait_until(lambda: sinks.count() >= first - 64,
                                             120, "the sinks keep up")
                finally:
                    rx.close()

            t = threading.Thread(target=traffic, daemon=True)
            t.start()
            sizes = [grown["buckets"]]
            try:
                for lf in (3, 0, grown["lfactor"]):
                    want = desired(HELD, lf)
                    sysctl_lfactor(lf)
                    # Waits for the resize work to install the table the factor asks for.
                    try:
                        procs.wait_until(lambda: resized_to(want, lf), 120,
                                         f"the table to resize to {want} buckets")
                    except procs.Timeout:
                        pass
                    now = status()
                    sizes.append(now["buckets"])
                    expect_eq(f"conn_lfactor {lf}: the table resized",
                              f"{now['buckets']} buckets, lfactor {now['lfactor']}",
                              f"{want} buckets, lfactor {lf}")
            finally:
                stop.set()
                t.join()
            say(f"  table sizes: {' -> '.join(str(s) for s in [before['buckets']] + sizes)}; "
                f"{sent[0]} datagrams of held calls sent during the resizes")
            expect("held calls sent datagrams while the table resized", sent[0] > 0)

            step("each held call sends once more")
            total = HELD + sent[0] + HELD
            wait_count(sinks, HELD + sent[0], 120 + total // 20, "the resizes' datagrams")
            tx.send(VIP, 5060, [udp.sip(callid=c) for c in held],
                    udp.settle_on(sinks, HELD + sent[0]))
            expect(f"all {total} datagrams arrived",
                   wait_count(sinks, total, 120 + total // 20, "every datagram"))
        finally:
            tx.close()

        by = sinks.by_tag()
        broken = [c for c in held if len(set(by.get(c, []))) != 1]
        at_rs3 = [c for c in held if RS_NS[2] in by.get(c, [])]
        after = status()
        templates = [c["data"] for c in ipvs.conns(DIR_NS)
                     if c["template"] and c["pe"] == "sip" and c["data"]]
        say(f"  held calls {HELD}, broken {len(broken)} (at rs3: {len(at_rs3)}); Conns: "
            f"{after['conns']}; Call-ID templates {len(templates)}")
        expect_eq("0 held calls broken (each reached one server only)", len(broken), 0)
        expect_eq("no held call reached rs3 (no template was lost)", len(at_rs3), 0)
        expect_eq("Conns: still the held calls' templates, no more, no fewer",
                  after["conns"], HELD)
        expect_eq("the engine's templates are the held calls",
                  sorted(set(templates)) == sorted(held) and len(templates) == HELD, True)


def wait_count(sinks, n, deadline, what):
    try:
        sinks.wait(n, deadline, what)
        return True
    except procs.Timeout:
        return False


run()
sys.exit(checks.finish())
