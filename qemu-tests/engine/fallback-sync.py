#!/usr/bin/python3 -S
"""Failover with clients whose datagrams carry no Call-ID: their fallback templates are
complete IPVS state that the sync daemon carries to the backup director before the VIP
moves, and the master never refuses one ("SYNC, connection pe_data invalid", which
ip_vs_sync_conn() logs for a template with a length and no data).

  cli (10.0.1.2-7) -- dir (master, the topology's director) -- rs1, rs2, rs3
                      dir -- s0/s1 sync link -- dir2 (backup, same service)"""
import ipaddress
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, kernel, netns, procs, rtnl, sipp, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR2_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402
from ipvslab.topology import SYNC, SYNC2  # noqa: E402

CLIENTS = ["10.0.1.3", "10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.7"]
# The sync daemon sends its buffer when full or after 2 s; each other wait is for a few
# datagrams. Only a failure reaches this.
DEADLINE = 120
RULES = "\n".join([f"-A -u {VIP}:5060 -s rr -p 600 -o --pe sip"] +
                  [f"-a -u {VIP}:5060 -r {ip}:5060 -m" for ip in RS] +
                  ["@dir --start-daemon master --mcast-interface s0 --syncid 7",
                   "@dir2 --start-daemon backup --mcast-interface s1 --syncid 7"])


def fallback_templates(ns):
    """(client, server) of each fallback template (engine sip, no data) of namespace NS,
    sorted: its client address is the masked one."""
    out = [(c["caddr"], c["dest"]) for c in ipvs.conns(ns)
           if c["template"] and c["pe"] == "sip" and not c["data"]]
    return sorted(out, key=lambda t: [ipaddress.ip_address(a) for a in t])


def has_callid_template(ns, callid):
    return any(c["pe"] == "sip" and c["data"] == callid for c in ipvs.conns(ns))


log = kernel.Kmsg()
step("standard topology plus dir2 on a sync link, the same service in both directors, "
     "sync daemons")
with Lab() as lab:
    netns.add(DIR2_NS)
    rt = rtnl.Rt()
    rt.veth("s0", DIR_NS, "s1", DIR2_NS)
    rt.close()
    rtnl.configure(DIR_NS, links=["s0"], addrs=[("s0", SYNC + "/24")])
    rtnl.configure(DIR2_NS, links=["s1"], addrs=[("s1", SYNC2 + "/24")])
    rtnl.add_addrs(CLI_NS, *[("c0", c + "/24") for c in CLIENTS])
    ipvs.rules([DIR_NS, DIR2_NS], RULES)
    expect_eq("the master's sync daemon starts", ipvs.daemons(DIR_NS), [("master", "s0", 7)])
    expect_eq("the backup's sync daemon starts", ipvs.daemons(DIR2_NS), [("backup", "s1", 7)])
    with udp.Sinks(RS_NS) as sinks:
        expect_eq("the real servers listen", [sipp.listening(ns) for ns in RS_NS], [1, 1, 1])

        step("2 datagrams without Call-ID from each of 5 client addresses, 1 with a Call-ID")
        for c in CLIENTS:
            sender = udp.Sender(CLI_NS, c)
            sender.send(VIP, 5060, [udp.sip(tag=f"from-{c}-{i}") for i in (1, 2)])
            sender.close()
        sender = udp.Sender(CLI_NS, CLI)
        sender.send(VIP, 5060, [udp.sip(callid="sync-call-1")])
        sender.close()
        n = len(CLIENTS) * 2 + 1
        try:
            sinks.wait(n, DEADLINE, f"{n} datagrams arrive")
        except procs.Timeout as e:
            say(f"  {e}")
        expect_eq(f"the {n} datagrams reached the real servers", sinks.count(), n)
    s = lab.stats()
    expect_eq(f"the master counted {len(CLIENTS)}x2 without Call-ID and 1 with",
              f"{s['no_callid']}/{s['found']}", f"{len(CLIENTS) * 2}/1")

    master = fallback_templates(DIR_NS)
    expect_eq("the master holds one fallback template per client",
              [c for c, _ in master], CLIENTS)

    def backup_has_all():
        return len(fallback_templates(DIR2_NS)) == len(CLIENTS) and \
            has_callid_template(DIR2_NS, "sync-call-1")
    try:
        procs.wait_until(backup_has_all, DEADLINE, "the backup holds every template")
        ok = True
    except procs.Timeout as e:
        say(f"  {e}")
        ok = False
    expect("the backup holds them, and the Call-ID template, before any failover", ok)
    backup = fallback_templates(DIR2_NS)
    say("  backup fallback templates (client, server):")
    for c, d in backup:
        say(f"    {c} {d}")
    expect_eq("each on the same server as on the master", backup, master)
    invalid = [m for m in log.new_lines() if "pe_data invalid" in m]
    expect("the master never logged 'pe_data invalid'", not invalid, "\n".join(invalid))
log.close()
sys.exit(checks.finish())
