#!/usr/bin/python3 -S
"""Fallback traffic (datagrams without a Call-ID) and Call-ID traffic never share a template.

Thousands of calls go through a -M 0.0.0.0 service, so every template has the client address
0.0.0.0; IPVS's connection table is made small (ip_vs conn_tab_bits=8, 256 buckets), so that
with 3000 Call-ID templates the bucket a lookup without engine data hashes to holds some of
them (all but certainly: the chance that none of 3000 templates lands in one given bucket of
256 is e^-11.7). A lookup that compared only addresses (IPVS's generic rule) would take one of
them.

How the test knows which template sent a datagram: the Call-ID templates are made while only
rs1 and rs2 are in the service. Then rs1 and rs2 get weight 0 (their templates stay valid,
expire_quiescent_template is 0, but nothing new is scheduled to them) and rs3 joins: from then
on a new template can only point at rs3. So a datagram without Call-ID that reaches rs1 or rs2
was sent by a Call-ID template, and a Call-ID datagram (of a call that already has its
template) that reaches rs3 was sent by the fallback template. A sink on each real server
records the Call-ID or tag of every datagram it receives.

One Python process: the datagrams are sent and received in-process (ipvslab.udp), paced by
the sinks; the only programs run are modprobe (the module parameter) and ipvsadm-rs."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.sipp import listening  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PARAM = "/sys/module/ip_vs/parameters/conn_tab_bits"
calls = int(os.environ.get("COLLISION_CALLS", 3000))
fallbacks = 40
again = 300


def default_tab_bits():
    """IPVS's table size when loaded without parameters: the kernel's CONFIG_IP_VS_TAB_BITS
    (kernel/config/base.config), else Kconfig's default."""
    try:
        with open(os.path.join(ROOT, "kernel", "config", "base.config")) as f:
            for line in f:
                if line.startswith("CONFIG_IP_VS_TAB_BITS="):
                    return line.split("=", 1)[1].strip()
    except OSError:
        pass
    return "12"


def tab_bits():
    try:
        with open(PARAM) as f:
            return f.read().strip()
    except OSError:
        return "(ip_vs not loaded)"


def ipvs_modules():
    with open("/proc/modules") as f:
        return [line.split()[0] for line in f if line.startswith("ip_vs")]


def ipvs_unload_all():
    """Unloads IPVS and every module that uses it (schedulers, engines), waiting for
    namespaces that are still going away to release them. True once none is loaded."""
    def gone():
        left = ipvs_modules()
        for m in left:
            if m != "ip_vs":
                modules.unload(m)
        if ipvs_modules() == ["ip_vs"]:
            modules.unload("ip_vs")
        return not ipvs_modules()
    try:
        return procs.wait_until(gone, 300, "IPVS's modules unload", 0.3)
    except procs.Timeout:
        say(f"    | still loaded: {' '.join(ipvs_modules())}")
        return False


def server(ip):
    return f"rs{RS.index(ip) + 1}" if ip in RS else ip


def arrived(sinks, namespaces, n, deadline, what):
    """Waits until the sinks of NAMESPACES hold N datagrams in all; False at DEADLINE."""
    try:
        procs.wait_until(lambda: sum(sinks.count(ns) for ns in namespaces) >= n, deadline, what)
        return True
    except procs.Timeout:
        return False


def callids(prefix, first, last):
    return [udp.sip(callid=f"{prefix}{i}") for i in range(first, last + 1)]


def run():
    svc = f"{VIP}:5060"
    rules = f"-A -u {svc} -s rr -p 900 -M 0.0.0.0 -o --pe sip\n" + \
        "\n".join(f"-a -u {svc} -r {ip}:5060 -m" for ip in RS[:2])
    step("topology, service with --pe sip on rs1 and rs2 (persistence 900 s), sinks on rs1-3")
    with Lab(rules=rules) as lab, udp.Sinks(RS_NS) as sinks:
        expect("three real servers listen", all(listening(ns) for ns in RS_NS))
        tx = udp.Sender(CLI_NS, CLI)
        try:
            step(f"{calls} Call-ID datagrams from {CLI}:5060")
            tx.send(VIP, 5060, callids("call-", 1, calls), udp.settle_on(sinks))
            expect(f"the {calls} Call-ID datagrams arrived",
                   arrived(sinks, RS_NS[:2], calls, 60 + calls // 20, "the Call-ID datagrams"))
            cid = [c["data"] for c in ipvs.conns(DIR_NS)
                   if c["template"] and c["pe"] == "sip" and c["data"]]
            sent = {f"call-{i}" for i in range(1, calls + 1)}
            expect_eq("each made its own template",
                      f"{len(cid)} templates, {len(set(cid) & sent)} of the Call-IDs sent",
                      f"{calls} templates, {calls} of the Call-IDs sent")

            step("rs1 and rs2 to weight 0, rs3 joins; datagrams without Call-ID, then Call-IDs "
                 "again")
            ipvs.rules([DIR_NS], "\n".join(
                [f"-e -u {svc} -r {ip}:5060 -m -w 0" for ip in RS[:2]] +
                [f"-a -u {svc} -r {RS[2]}:5060 -m -w 1"]))
            tx.send(VIP, 5060, [udp.sip(tag=f"fallback-{i}") for i in range(1, fallbacks + 1)],
                    udp.settle_on(sinks, calls))
            tx.send(VIP, 5060, callids("call-", 1, again),
                    udp.settle_on(sinks, calls + fallbacks))
        finally:
            tx.close()
        total = calls + fallbacks + again
        expect(f"the {fallbacks} datagrams without Call-ID and {again} Call-ID datagrams "
               "arrived", arrived(sinks, RS_NS, total, 120 + total // 20, "every datagram"))

        # Every datagram's server against the director's templates.
        tmpl, fb, plain = {}, [], []
        for c in ipvs.conns(DIR_NS):
            if not c["template"]:
                continue
            if c["pe"] == "sip" and c["data"]:
                tmpl[c["data"]] = server(c["dest"])
            elif c["pe"] == "sip":
                fb.append(server(c["dest"]))
            else:
                plain.append(server(c["dest"]))
        got = {}
        with sinks.lock:
            received = list(sinks.got)
        for ns, tag, _ in received:
            got.setdefault(tag, []).append(f"rs{RS_NS.index(ns) + 1}")
        fb_at = [s for t, ss in got.items() if t.startswith("fallback-") for s in ss]
        cid_at = [(t, s) for t, ss in got.items() if t.startswith("call-") for s in ss]
        cid_at_rs3 = sum(1 for _, s in cid_at if s == "rs3")
        cid_bad = [(t, s) for t, s in cid_at if s != tmpl.get(t)]
        say(f"  fallback templates {len(fb)} (at {','.join(fb) or 'none'}), templates without "
            f"the engine {len(plain)}, Call-ID templates {len(tmpl)}")
        say(f"  datagrams without Call-ID received {len(fb_at)}: at rs3 {fb_at.count('rs3')}; "
            f"Call-ID datagrams at rs3 {cid_at_rs3}, off their template {len(cid_bad)}")
        expect_eq("exactly one fallback template (engine sip, no Call-ID), pointing at rs3",
                  f"{len(fb)}/{','.join(fb) or 'none'}", "1/rs3")
        expect_eq("no template without the engine", len(plain), 0)
        expect_eq("every datagram without Call-ID reached rs3 (none was sent by a Call-ID "
                  "template)", f"{fb_at.count('rs3')}/{len(fb_at) - fb_at.count('rs3')}",
                  f"{fallbacks}/0")
        expect_eq("no Call-ID datagram reached rs3 (none was sent by the fallback template)",
                  cid_at_rs3, 0)
        expect_eq("each Call-ID datagram reached its own template's server", len(cid_bad), 0)
        s = lab.stats()
        expect_eq("counters: found, no_callid", f"{s['found']}/{s['no_callid']}",
                  f"{calls + again}/{fallbacks}")


step("IPVS reloaded with a 256-bucket connection table (conn_tab_bits=8)")
if expect("IPVS reloads with a 256-bucket connection table", ipvs_unload_all()):
    subprocess.run(["modprobe", "ip_vs", "conn_tab_bits=8"])
try:
    if expect_eq("conn_tab_bits is 8", tab_bits(), "8"):
        run()
finally:
    step("IPVS back to its default table")
    if expect("IPVS reloads with its default table", ipvs_unload_all()):
        subprocess.run(["modprobe", "ip_vs"])
        expect_eq("conn_tab_bits is back to its default", tab_bits(), default_tab_bits())
sys.exit(checks.finish())
