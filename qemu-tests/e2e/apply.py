#!/usr/bin/python3 -S
"""Reloading the director's rules without dropping traffic: `ipvsadm-rs --apply FILE` edits the
running table into FILE's while SIP calls are held in progress through it, and a baseline does
the usual `ipvsadm-rs -C; ipvsadm-rs -R < FILE` on the same director.

  cli --veth-- dir (IPVS, our engine) --bridge-- rs1, rs2, rs3 (sipp UAS)

Ten calls are held after their ACK (failover-uac.xml waits for an INFO the scenario sends) on
rs1 and rs2. Meanwhile one apply switches the scheduler to wrr, raises rs1's weight and adds
rs3; new calls then reach rs3; a second apply removes rs3 again (no call in progress on it).
Each apply must leave the held calls' templates as they were (same Call-ID, same server) and
the service's counters running; the held calls then end on their servers, none broken.

The baseline then flushes the table and restores the same file: a datagram sent between the
two reaches no real server (the director's own UDP takes it: no port), and the service comes
back with its counters at zero. Nothing waits for a time: every step waits for a condition."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))

from ipvslab import Lab, checks, ipvs, netns, procs, sipp, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.lab import WORK  # noqa: E402
from ipvslab.topology import CLI_NS, DIR_NS, RS, VIP  # noqa: E402

HELD = 10
NEW = 8
xml = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failover-uac.xml")
# Only a broken director reaches these: the held calls' start is a few messages each.
DEADLINE = 120 + 10 * HELD
# The service as the README configures it, but with templates that outlive any slow host:
# the held calls send nothing between their ACK and their release.
SERVICE = f"-A -u {VIP}:5060 -s rr -p 1800 -M 0.0.0.0 --pe sip -o"


def rules(service, servers):
    """A rules file as `ipvsadm-rs -Sn` prints it: SERVICE, then (server number, weight)s."""
    lines = [service] + [f"-a -u {VIP}:5060 -r {RS[i - 1]}:5060 -m -w {w}" for i, w in servers]
    return "\n".join(lines) + "\n"


def write(name, text):
    path = f"{WORK}/{name}"
    with open(path, "w") as f:
        f.write(text)
    return path


def ipvsadm(*args, stdin=None):
    """ipvsadm-rs ARGS in the director: (status, standard output, standard error)."""
    p = procs.run(DIR_NS, ["ipvsadm-rs", *args], capture_output=True,
                  input=stdin.encode() if stdin else None)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def held_templates():
    """Call-ID -> real server of the held calls' templates in the director."""
    return {c["data"]: c["dest"] for c in ipvs.conns(DIR_NS)
            if c["template"] and c["pe"] == "sip" and (c["data"] or "").startswith("held-")}


def inpkts():
    return ipvs.service_inpkts(DIR_NS, VIP, 5060)


def apply(path, want_plan, templates):
    """--dry-run (its plan shown and checked), then --apply; the held calls' templates and the
    service's counters must come through it."""
    before = inpkts()
    rc, plan, err = ipvsadm("--apply", path, "--dry-run")
    say(f"  ipvsadm-rs --apply {os.path.basename(path)} --dry-run:")
    for line in plan.splitlines():
        say(f"    {line}")
    expect_eq("--dry-run prints the plan, one ipvsadm line per change", (rc, plan, err),
              (0, want_plan, ""))
    rc, out, err = ipvsadm("--apply", path)
    expect_eq("--apply makes it, silently", (rc, out, err), (0, "", ""))
    rc, saved, _ = ipvsadm("-Sn")
    with open(path) as f:
        expect_eq("the table is now the file's (ipvsadm-rs -Sn)", saved, f.read())
    rc, again, _ = ipvsadm("--apply", path, "--dry-run")
    expect_eq("the same file again needs no change (empty plan)", (rc, again), (0, ""))
    expect_eq(f"the {HELD} held calls' templates are all there, each to the same server",
              held_templates(), templates)
    after = inpkts()
    expect(f"the service's counters went on ({before} then {after} packets in)", after >= before)


def probe(callid):
    """A SIP OPTIONS from the client to the VIP."""
    s = udp.sock(CLI_NS)
    try:
        s.sendto(udp.sip(callid=callid), (VIP, 5060))
    finally:
        s.close()


step("the director's rules: the README's SIP service on rs1 and rs2; sipp UAS on rs1-3")
first = rules(SERVICE, [(1, 1), (2, 1)])
with Lab(rules=first, uas=["v4"]) as lab:
    step(f"{HELD} calls, each held after its ACK until the end")
    held = lab.uac("held", HELD, 5, limit=HELD,
                   extra=["-sf", xml, "-recv_timeout", str((DEADLINE + 300) * 1000)])
    procs.wait_until(lambda: sipp.requests_sent(f"{lab.sipp.logs}/held.msg", "ACK") >= HELD
                     and len(held_templates()) >= HELD, DEADLINE,
                     "every call is held, with its template")
    templates = held_templates()
    per = {ip: sum(1 for d in templates.values() if d == ip) for ip in set(templates.values())}
    say("  held calls per server: " + ", ".join(f"{ip} {n}" for ip, n in sorted(per.items())))
    expect_eq("each held call has its template (sip, Call-ID)", len(templates), HELD)
    ipvs.totals_when(DIR_NS, lambda t: t[1] >= 2 * HELD)

    step("--apply: scheduler rr -> wrr, rs1's weight 1 -> 2, rs3 added")
    second = write("second.rules", rules(SERVICE.replace("-s rr", "-s wrr"),
                                         [(1, 2), (2, 1), (3, 1)]))
    apply(second, f"-E {SERVICE[3:].replace('-s rr', '-s wrr')}\n"
                  f"-e -u {VIP}:5060 -r {RS[0]}:5060 -m -w 2\n"
                  f"-a -u {VIP}:5060 -r {RS[2]}:5060 -m -w 1\n", templates)

    step(f"{NEW} new calls (from another client port) while the held calls go on")
    r = lab.calls("new", NEW, 10, extra=["-p", "5070"])
    expect_eq("sipp: every new call succeeded", f"{r['ok']}/{r['failed']}", f"{NEW}/0")
    expect_eq("each new call whole on one server", (r["whole"], r["split"]), (NEW, 0))
    expect(f"the added rs3 took new calls ({r['rs3']})", r["rs3"] > 0)

    step("--apply: rs3 removed (no call in progress on it)")
    third = write("third.rules", rules(SERVICE.replace("-s rr", "-s wrr"), [(1, 2), (2, 1)]))
    apply(third, f"-d -u {VIP}:5060 -r {RS[2]}:5060\n", templates)

    step("the held calls end")
    sipp.release_held(sorted(templates))
    r = held.wait(lab.diag_namespaces())
    say(f"  calls broken by the two applies: {HELD - r['ok'] + r['split']}")
    expect_eq("sipp: every held call succeeded", f"{r['ok']}/{r['failed']}", f"{HELD}/0")
    expect_eq("each held call's INVITE, ACK and BYE reached its one server",
              (r["whole"], r["split"]), (HELD, 0))

    step("baseline: ipvsadm-rs -C, then -R with the same file")
    before = procs.wait_until(inpkts, 60, "the service's counters show the calls")
    no_ports = netns.snmp(DIR_NS)["UdpNoPorts"]
    rc, _, err = ipvsadm("-C")
    expect_eq("-C", (rc, err), (0, ""))
    probe("between-flush-and-restore")
    try:
        procs.wait_until(lambda: netns.snmp(DIR_NS)["UdpNoPorts"] > no_ports, 60,
                         "the director takes the datagram itself")
        dropped = True
    except procs.Timeout as e:
        say(f"  {e}")
        dropped = False
    expect("a datagram to the VIP between -C and -R reached no real server: the director "
           "had no service, its own UDP dropped it (no port)",
           dropped and "between-flush-and-restore" not in lab.sipp.server_of_calls())
    with open(third) as f:
        rc, _, err = ipvsadm("-R", stdin=f.read())
    expect_eq("-R", (rc, err), (0, ""))
    after = inpkts()
    expect_eq(f"the restored service's counters start again from zero (were {before})",
              after, 0)
    left = held_templates()
    say(f"  held calls' templates after -C and -R: {len(left)} of {HELD} (the kernel keeps "
        "deleted servers that templates use, and -R's same servers take them back)")
    rc, out, _ = ipvsadm("-Lcn", "--persistent-conn")
    for line in [x for x in out.splitlines() if " sip held-" in x][:2]:
        say(f"  {line}")
sys.exit(checks.finish())
