#!/usr/bin/python3 -S
"""The engine's metrics where operators look: Debian's node_exporter (prometheus-node-exporter)
runs in the director's namespace with its textfile collector, `ipvsadm-rs --pe-stats --format
prometheus --output FILE` writes the file it reads, and the test scrapes node_exporter over
loopback, as Prometheus would.

  cli --veth-- dir (IPVS, our engine, rr, -p 60; node_exporter on 127.0.0.1) --bridge-- rs1-3

The client sends CALLS calls (two datagrams each, one Call-ID per call) and KEEPALIVES
datagrams without a Call-ID (one fallback template). Scraped, node_exporter must serve every
counter of /proc/net/ip_vs_pe_sip_stats under its name, with the values the traffic makes;
for each real server the calls it holds (its templates with a Call-ID: the calls its socket
received, and what /proc/net/ip_vs_conn shows) and its templates (those, and the fallback
template where it points); labelled so that each server's series join node_exporter's own
node_ipvs_backend_* series for it. More calls, the file written again: the next scrape shows
them. Nothing waits for a time: every step waits for a condition."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, procs, prometheus, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.lab import WORK  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

CALLS = 9
MORE = 3
KEEPALIVES = 2
PORT = 9100
# Each wait is for a few datagrams or one program: only a failure reaches it.
DEADLINE = 120
TEXTFILE_DIR = f"{WORK}/textfile"
PROM = f"{TEXTFILE_DIR}/ipvs_pe_sip.prom"
SERVER_LABELS = ("local_address", "local_port", "remote_address", "remote_port", "proto",
                 "local_mark")


def call(n):
    return f"metrics-call-{n}@cli.test"


def send_calls(sender, sinks, first, count):
    """COUNT calls from number FIRST, two datagrams each (an INVITE, then an ACK that follows
    its template); returns once the servers have them all."""
    before = sinks.count()
    msgs = [udp.sip(callid=call(n), method=m) for n in range(first, first + count)
            for m in ("INVITE", "ACK")]
    sender.send(VIP, 5060, msgs)
    sinks.wait(before + len(msgs), DEADLINE, f"the servers receive {len(msgs)} datagrams")


def write_file():
    """ipvsadm-rs --pe-stats --format prometheus --output PROM in the director; its status."""
    p = procs.run(DIR_NS, ["ipvsadm-rs", "--pe-stats", "--format", "prometheus", "--output",
                           PROM], capture_output=True, text=True)
    if p.returncode:
        say(f"    | {p.stderr.strip()}")
    return p.returncode


def scraped():
    """The samples node_exporter serves: {(name, frozenset(labels)): value}, its TYPE lines
    and the text (for failures)."""
    status, text = prometheus.scrape(DIR_NS, PORT)
    expect_eq("node_exporter answers /metrics", status, 200)
    got = {(n, frozenset(ls.items())): v for n, ls, v in prometheus.samples(text)}
    return got, prometheus.types(text), text


def value(got, name, **labels):
    """The value of NAME's sample whose labels include LABELS (None: none; a list: several)."""
    found = [v for (n, ls), v in got.items() if n == name and set(labels.items()) <= ls]
    return found[0] if len(found) == 1 else (found or None)


def counters_match(got, stats):
    """Every counter of /proc under its metric: examined, the outcomes, the two others."""
    outcomes = {"found", "not_udp", "fragment", "no_payload", "no_callid", "too_long",
                "bad_terminator", "alloc_failed"}
    seen = {}
    for name in stats:
        if name == "examined":
            seen[name] = value(got, "ipvs_pe_sip_datagrams_examined_total")
        elif name in outcomes:
            seen[name] = value(got, "ipvs_pe_sip_datagrams_total", outcome=name)
        else:
            seen[name] = value(got, f"ipvs_pe_sip_{name}_total")
    return {k: int(v) if isinstance(v, float) else v for k, v in seen.items()}


def held_on(sinks):
    """{server address: calls} by the servers' sockets: the Call-IDs each received."""
    by_tag = sinks.by_tag()
    return {ip: len({t for t, where in by_tag.items() if t.startswith("metrics-call-")
                     and ns in where}) for ip, ns in zip(RS, RS_NS)}


def templates_on():
    """{server address: (call templates, fallback templates)} from /proc/net/ip_vs_conn."""
    out = {ip: [0, 0] for ip in RS}
    for c in ipvs.conns(DIR_NS):
        if c["template"] and c["pe"] == "sip" and c["dest"] in out:
            out[c["dest"]][0 if c["data"] else 1] += 1
    return {ip: tuple(v) for ip, v in out.items()}


def servers_match(got, sinks, calls):
    """Each server's calls and templates as the scrape shows them, against its socket and
    the director's table; the calls add up to CALLS."""
    held, table = held_on(sinks), templates_on()
    shown_calls = {ip: value(got, "ipvs_pe_sip_backend_calls", remote_address=ip) for ip in RS}
    shown_templates = {ip: value(got, "ipvs_backend_persistence_templates", remote_address=ip)
                       for ip in RS}
    say(f"  calls per server: sockets {held}, scrape {shown_calls}; templates (call, "
        f"fallback) in /proc {table}, scrape {shown_templates}")
    expect_eq("each server's calls in the scrape are the calls its socket received",
              shown_calls, {ip: float(n) for ip, n in held.items()})
    expect_eq(f"and add up to the {calls} calls sent", sum(held.values()), calls)
    expect_eq("and are its templates with a Call-ID in /proc/net/ip_vs_conn",
              shown_calls, {ip: float(t[0]) for ip, t in table.items()})
    expect_eq("each server's templates in the scrape are its call and fallback templates",
              shown_templates, {ip: float(sum(t)) for ip, t in table.items()})


step("topology, service with --pe sip (rr, -p 60), UDP sinks on rs1-3")
with Lab(rules=ipvs.service_rules(VIP, RS)) as lab, udp.Sinks(RS_NS) as sinks:
    sender = udp.Sender(CLI_NS, CLI)
    os.makedirs(TEXTFILE_DIR)

    step(f"{CALLS} calls (two datagrams each) and {KEEPALIVES} keep-alives without Call-ID")
    send_calls(sender, sinks, 0, CALLS)
    before = sinks.count()
    sender.send(VIP, 5060, [udp.sip(tag=f"keepalive-{i}") for i in range(KEEPALIVES)])
    sinks.wait(before + KEEPALIVES, DEADLINE, "the servers receive the keep-alives")
    sent = 2 * CALLS + KEEPALIVES
    procs.wait_until(lambda: lab.stats()["examined"] >= sent, DEADLINE,
                     f"the engine examines {sent} datagrams")

    step("node_exporter (textfile and ipvs collectors) in the director, the file written")
    prometheus.start(DIR_NS, TEXTFILE_DIR, PORT, f"{WORK}/node_exporter.log")
    expect_eq("ipvsadm-rs --pe-stats --format prometheus --output FILE: status 0",
              write_file(), 0)
    expect_eq("only the file is left in the directory (written beside it and renamed)",
              sorted(os.listdir(TEXTFILE_DIR)), ["ipvs_pe_sip.prom"])

    step("scraped over loopback in the director")
    got, kinds, text = scraped()
    expect_eq("node_exporter read the file without error",
              value(got, "node_textfile_scrape_error"), 0.0)
    expect_eq("the families' types", {k: kinds.get(k) for k in (
        "ipvs_pe_sip_datagrams_examined_total", "ipvs_pe_sip_datagrams_total",
        "ipvs_backend_persistence_templates", "ipvs_pe_sip_backend_calls")},
        {"ipvs_pe_sip_datagrams_examined_total": "counter",
         "ipvs_pe_sip_datagrams_total": "counter",
         "ipvs_backend_persistence_templates": "gauge", "ipvs_pe_sip_backend_calls": "gauge"})
    stats = modules.engine_stats(DIR_NS)
    expect_eq("every counter of /proc/net/ip_vs_pe_sip_stats, under its metric",
              counters_match(got, stats), stats)
    expect_eq("the traffic's counts: examined, found, no_callid",
              (stats["examined"], stats["found"], stats["no_callid"]),
              (sent, 2 * CALLS, KEEPALIVES))
    servers_match(got, sinks, CALLS)
    ours = {tuple(dict(ls)[k] for k in SERVER_LABELS) for (n, ls) in got
            if n == "ipvs_pe_sip_backend_calls"}
    theirs = {tuple(dict(ls).get(k) for k in SERVER_LABELS) for (n, ls) in got
              if n == "node_ipvs_backend_weight"}
    expect("each server's series join node_exporter's node_ipvs_backend_weight on "
           + ", ".join(SERVER_LABELS), ours == theirs and len(ours) == len(RS),
           f"ours {sorted(ours)}\ntheirs {sorted(theirs)}")
    if checks.failed:
        say("\n".join("    | " + line for line in text.split("\n")
                      if "ipvs" in line and not line.startswith("# HELP")))

    step(f"{MORE} more calls, the file written again, scraped again")
    send_calls(sender, sinks, CALLS, MORE)
    procs.wait_until(lambda: lab.stats()["found"] >= 2 * (CALLS + MORE), DEADLINE,
                     "the engine finds the new calls")
    expect_eq("written again: status 0", write_file(), 0)
    got, _, _ = scraped()
    expect_eq("examined follows",
              value(got, "ipvs_pe_sip_datagrams_examined_total"),
              float(modules.engine_stats(DIR_NS)["examined"]))
    servers_match(got, sinks, CALLS + MORE)
    sender.close()
sys.exit(checks.finish())
