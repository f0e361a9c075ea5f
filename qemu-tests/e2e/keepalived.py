#!/usr/bin/python3 -S
"""The operator's recipe (docs/operations.md), end to end: two directors run Debian's
keepalived with the recipe's own files (docs/operations/keepalived.conf, sysctl.conf):
VRRP moves the VIP and the servers' gateway, keepalived drives the sync daemons, and its
MISC_CHECK runs sip-options-check against each SIP server.

  cli --[client LAN d0]-- dir (director1, master), dir2 (director2, backup)
      --[server LAN d1]-- rs1, rs2, rs3 (sipp UAS answering OPTIONS); sync link s0

1. Calls start through the master; the backup holds their `sip <Call-ID>` templates.
2. The master dies in the middle of the calls (its links cut, keepalived killed with
   SIGKILL): VRRP moves the VIP to the backup, and every call ends on its server.
3. A server's answers to the health checks stop: keepalived takes it out, new calls avoid
   it, calls held on the others are untouched; its answers come back, and so does it.
4. keepalived stops: it removes its service and addresses; the engine can be unloaded.

Calls are held after their ACK until the scenario releases them (failover-uac.xml), so no
result depends on the host's speed."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import time  # noqa: E402

from ipvslab import Lab, checks, ipvs, kernel, modules, netns, procs, rtnl, sipp  # noqa: E402
from ipvslab import keepalived as ka  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import DIR2_LAN, DIR2_NS, DIR_NS, GW, RS, SERVERS, \
    SWITCH_NS, VIP  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 12))
xml = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failover-uac.xml")
ADVERT = ka.advert_int()
# Deadlines sized from the work, far beyond what any host needs; only a failure reaches them.
# keepalived's start: a few processes, VRRP's first adverts (3 intervals for a backup).
START_DEADLINE = 300 + 10 * ADVERT
# Until the backup holds every call's template: a few messages per call and the sync.
SYNC_DEADLINE = 120 + 10 * calls
# VRRP: the backup takes over 3 advert intervals (plus its skew) after the last advert.
TAKEOVER_DEADLINE = 60 + 10 * ADVERT
# A server out: a check every delay_loop (10 s), three in a row without an answer (retry 2,
# delay_before_retry 2, each up to misc_timeout 10): under a minute; back: one check. An exec
# takes seconds under emulation.
CHECK_DEADLINE = 240
HOLD_MS = (SYNC_DEADLINE + 600) * 1000
kmsg = kernel.Kmsg()


def no_kernel_report(when):
    r = kmsg.reports()
    expect(f"no kernel report {when}", not r, "\n".join(r))


def templates(ns, tag):
    return [c for c in ipvs.conns(ns) if c["template"] and (c["data"] or "").startswith(tag)]


def sent(lab, tag, method):
    return sipp.requests_sent(f"{lab.sipp.logs}/{tag}.msg", method)


def held_calls(lab, tag, n, limit):
    """N calls of TAG, held after their ACK; returns the UAC once every one is held."""
    uac = lab.uac(tag, n, 5, limit=limit, extra=["-sf", xml, "-recv_timeout", str(HOLD_MS)])
    procs.wait_until(lambda: sent(lab, tag, "ACK") >= n, SYNC_DEADLINE,
                     f"every {tag} call is held")
    return uac


def server_of(lab, tag):
    """Call-ID -> the servers whose logs have it, for TAG's calls."""
    return {c: s for c, s in lab.sipp.server_of_calls().items() if c.startswith(tag + "-")}


def events(k, mark, who):
    for x in k.events(mark):
        say(f"  {who}: {x}")


def wait(cond, deadline, what):
    """wait_until, with a timeout reported as a line (the checks that follow fail)."""
    try:
        return procs.wait_until(cond, deadline, what)
    except procs.Timeout as e:
        say(f"  {e}")
        return None


step("two directors running keepalived with docs/operations/keepalived.conf and "
     "sysctl.conf; sipp UAS on rs1-3 answering OPTIONS")
with Lab(topo="failover", uas=()) as lab:
    ka.recipe_topology()
    sysctls = ka.recipe_sysctls()
    for ns in (DIR_NS, DIR2_NS):
        netns.sysctl(ns, sysctls)
    say(f"  sysctls of the recipe in both directors: {len(sysctls)}")
    ka.sip_servers(lab)
    ka.install_checker()
    env = dict(os.environ)
    t0 = time.monotonic()
    # Director2 starts once director1 is master, as an operator brings up a pair. Started
    # together, both time out waiting for an advert at the same moment and both become
    # master; director2 then backs off, but in one make test its keepalived never
    # did: it logged the higher-priority advert, then neither "Entering BACKUP STATE" nor
    # anything else, and sent nothing more for 300 s on an idle guest.
    master = ka.Keepalived(DIR_NS, lab.sipp.logs, env)
    wait(lambda: master.vrrp_state() == "MASTER", START_DEADLINE, "director1 master")
    backup = ka.Keepalived(DIR2_NS, lab.sipp.logs, env)
    # On a slow host director2 may still be master for a moment (its first advert timeout
    # can come before director1's next advert); then it hears director1 and backs off.
    settled = wait(lambda: ka.holds(DIR_NS, VIP, GW) and master.vrrp_state() == "MASTER" and
                   backup.vrrp_state() == "BACKUP" and not ka.addresses(DIR2_NS) & {VIP, GW},
                   START_DEADLINE, "director1 master, director2 backup")
    expect("director1 became VRRP master and holds the VIP and the servers' gateway",
           ka.holds(DIR_NS, VIP, GW) and master.vrrp_state() == "MASTER")
    expect("director2 is VRRP backup and holds neither",
           backup.vrrp_state() == "BACKUP" and not ka.addresses(DIR2_NS) & {VIP, GW})
    if not settled:
        for ns, k in ((DIR_NS, master), (DIR2_NS, backup)):
            for x in k.vrrp_lines():
                say(f"  {ns}: {x}")
            dev = [x for x in netns.read(ns, "dev").split("\n") if "d0:" in x]
            say(f"  {ns}: /proc/net/dev {dev}")
            say(f"  {ns}: igmp {netns.read(ns, 'igmp').split()[:40]}")
            # Where each keepalived process waits, if it is stuck in the kernel.
            for pid in [k.proc.pid] + k.children():
                found = procs.kernel_stack(pid)
                text = f"state {found[0]}: " + found[1].replace("\n", " | ") if found else "gone"
                say(f"  {ns}: keepalived {pid} stack: {text[:600]}")
        raise RuntimeError("VRRP did not settle: no point going on")
    full = {ip: 1 for ip in RS}
    for ns, k in ((DIR_NS, master), (DIR2_NS, backup)):
        wait(lambda: ipvs.real_servers(ns, VIP) == full and k.logged(ka.CHECK_OK),
             START_DEADLINE, f"{ns}: the service with its three servers, checked")
        expect_eq(f"{ns}: keepalived made the service with its three real servers",
                  ipvs.real_servers(ns, VIP), full)
        expect(f"{ns}: sip-options-check succeeded from keepalived's MISC_CHECK",
               k.logged(ka.CHECK_OK), k.text()[-3000:])
    wait(lambda: "master" in ka.sync_states(DIR_NS) and "backup" in ka.sync_states(DIR2_NS),
         START_DEADLINE, "the sync daemons run")
    expect("keepalived started the master sync daemon on director1 and the backup one on "
           "director2", "master" in ka.sync_states(DIR_NS) and
           "backup" in ka.sync_states(DIR2_NS),
           ka.sync_states(DIR_NS) + ka.sync_states(DIR2_NS))
    say(f"  keepalived ready after {time.monotonic() - t0:.1f} s")
    events(master, 0, "director1")
    events(backup, 0, "director2")
    no_kernel_report("while keepalived started")

    step(f"1. {calls} calls through the master, each held after its ACK")
    t1 = time.monotonic()
    uac = None
    try:
        uac = held_calls(lab, "long", calls, calls)
    except procs.Timeout as e:
        say(f"  {e}")
    wait(lambda: len(templates(DIR2_NS, "long-")) >= calls, SYNC_DEADLINE,
         "the backup holds every call's template")
    mine = templates(DIR2_NS, "long-")
    named = sum(1 for c in mine if c["pe"] == "sip")
    say(f"  the backup held the templates of {len(mine)} calls after "
        f"{time.monotonic() - t1:.1f} s")
    expect_eq("the backup received every call's template (engine sip, the Call-ID)",
              (len(mine), named), (calls, calls))
    out = procs.run(DIR2_NS, ["ipvsadm-rs", "-Lcn", "--persistent-conn"],
                    capture_output=True).stdout.decode("latin-1").split("\n")
    listed = [x for x in out if len(x.split()) >= 2 and x.split()[-2] == "sip" and
              x.split()[-1].startswith("long-")]
    for line in listed[:2]:
        say(f"  {line}")
    expect_eq("ipvsadm-rs -Lcn --persistent-conn on the backup lists each as sip <Call-ID>",
              len(listed), calls)
    expect_eq("every call is held before the failure: ACKs sent, BYEs not",
              f"{sent(lab, 'long', 'ACK')}/{sent(lab, 'long', 'BYE')}", f"{calls}/0")
    no_kernel_report("in step 1")

    step("2. the master dies: its links cut, keepalived killed (SIGKILL)")
    mark = len(backup.text())
    _, b_in_before, _ = ipvs.totals(DIR2_NS)
    t_cut = time.monotonic()
    rtnl.link_down(SWITCH_NS, "pd0", "pd1")
    rtnl.link_down(DIR_NS, "s0")
    master.kill()
    wait(lambda: ka.holds(DIR2_NS, VIP, GW), TAKEOVER_DEADLINE, "the backup holds the VIP")
    gap = time.monotonic() - t_cut
    expect("director2 holds the VIP and the servers' gateway", ka.holds(DIR2_NS, VIP, GW),
           backup.text()[mark:][-3000:])
    say(f"  time without a director (links cut -> VIP on director2): {gap:.1f} s "
        f"(VRRP advert_int {ADVERT} s)")
    expect("director2's keepalived logged its VRRP transition to MASTER",
           backup.logged(r"Entering MASTER STATE", mark), backup.text()[mark:][-3000:])
    wait(lambda: "master" in ka.sync_states(DIR2_NS), TAKEOVER_DEADLINE,
         "director2 runs the master sync daemon")
    expect("director2 now runs the master sync daemon", "master" in ka.sync_states(DIR2_NS),
           ka.sync_states(DIR2_NS))
    sipp.release_held(sorted({c["data"] for c in mine}))
    r = uac.wait(lab.diag_namespaces()) if uac else {"ok": 0, "failed": -1, "split": -1,
                                                     "whole": 0}
    _, b_in, _ = ipvs.totals_when(DIR2_NS, lambda t: t[1] - b_in_before >= calls)
    expect(f"the BYEs went through director2 ({b_in - b_in_before} >= {calls} packets)",
           b_in - b_in_before >= calls)
    broken = calls - r["ok"] + max(r["split"], 0)
    say(f"  calls: {calls}; broken by the failover: {broken}")
    expect_eq("sipp: every call succeeded", f"{r['ok']}/{r['failed']}", f"{calls}/0")
    expect_eq("no call reached more than one server", r["split"], 0)
    expect_eq("each call's INVITE, ACK and BYE reached its one server", r["whole"], calls)
    events(backup, mark, "director2")
    no_kernel_report("in step 2")

    mark3 = len(backup.text())
    step("3. a server's answers to the health checks stop (it drops what it sends to "
         "director2's own address; its calls go on)")
    # Two calls held first: round robin puts them on two servers; the third gets the fault.
    try:
        held = held_calls(lab, "held", 2, 2)
    except procs.Timeout as e:
        say(f"  {e}")
        held = None
    at = server_of(lab, "held")
    busy = {s for v in at.values() for s in v}
    free = sorted(set(SERVERS) - busy)
    expect(f"the two held calls are on two servers ({sorted(busy)})", len(busy) == 2 and free)
    bad = free[0] if free else 2
    bad_ip = RS[bad - 1]
    say(f"  rs{bad} ({bad_ip}) stops answering director2's health checks")
    cmd = ka.check_command(bad_ip)

    def check_now():
        """The recipe's check of the faulty server, run from director2: (exit, stderr, s)."""
        t = time.monotonic()
        p = procs.run(DIR2_NS, cmd + ["--verbose"], capture_output=True)
        took = time.monotonic() - t
        err = p.stderr.decode(errors="replace").strip()
        say(f"  {' '.join(cmd[-3:])} from director2: exit {p.returncode} after {took:.1f} s "
            f"{p.stdout.decode(errors='replace').strip()}{err}")
        return p.returncode, err, took

    rc, _, _ = check_now()
    expect_eq(f"the recipe's check of rs{bad} from director2 succeeds", rc, 0)
    mark = len(backup.text())
    t3 = time.monotonic()
    ka.blackhole(f"rs{bad}", DIR2_LAN)
    rc, err, _ = check_now()
    expect(f"with rs{bad}'s answers lost, it exits 1 with its reason on stderr",
           rc == 1 and "no final response within" in err)
    out = {ip: 0 if ip == bad_ip else 1 for ip in RS}
    wait(lambda: ipvs.real_servers(DIR2_NS, VIP) == out, CHECK_DEADLINE,
         f"keepalived takes rs{bad} out (weight 0)")
    say(f"  out after {time.monotonic() - t3:.1f} s")
    expect_eq(f"keepalived took rs{bad} out of the service (inhibit_on_failure: weight 0)",
              ipvs.real_servers(DIR2_NS, VIP), out)
    failed_line = [x for x in backup.text()[mark:].split("\n") if ka.CHECK_FAILED.search(x)]
    for x in failed_line[:2]:
        say(f"  keepalived: {x.strip()[:200]}")
    expect(f"keepalived's MISC_CHECK of rs{bad} failed", failed_line,
           backup.text()[mark:][-3000:])
    # From another port: the held calls' sipp has port 5060.
    new = lab.calls("new", 6, 5, extra=["-p", "5062"])
    expect_eq(f"the 6 new calls avoided rs{bad}: per server",
              [new[f"rs{i}"] for i in SERVERS], [0 if i == bad else 3 for i in SERVERS])
    expect_eq("and all succeeded, each whole on one server",
              (new["ok"], new["failed"], new["whole"]), (6, 0, 6))
    sipp.release_held(sorted(at))
    h = held.wait(lab.diag_namespaces()) if held else {"ok": 0, "failed": -1, "whole": 0}
    expect_eq("the calls held on the other servers ended there, untouched",
              (h["ok"], h["failed"], h["whole"], h.get("split")), (2, 0, 2, 0))

    mark = len(backup.text())
    t4 = time.monotonic()
    ka.blackhole(f"rs{bad}", DIR2_LAN, on=False)
    wait(lambda: ipvs.real_servers(DIR2_NS, VIP) == full, CHECK_DEADLINE, f"rs{bad} is back")
    say(f"  back after {time.monotonic() - t4:.1f} s")
    expect_eq(f"rs{bad} answers again: keepalived put it back",
              ipvs.real_servers(DIR2_NS, VIP), full)
    again = lab.calls("again", 3, 5)
    expect_eq("3 new calls: one per server, rs{bad} included".replace("{bad}", str(bad)),
              ([again[f"rs{i}"] for i in SERVERS], again["ok"], again["whole"]),
              ([1, 1, 1], 3, 3))
    events(backup, mark3, "director2")
    no_kernel_report("in step 3")

    step("4. keepalived stops (SIGTERM) on director2; the dead director1 is gone")
    # The dead master's machine: its namespace (with the service its killed keepalived
    # left) goes, as a powered-off machine does.
    netns.delete(DIR_NS)
    rc = backup.stop(CHECK_DEADLINE)
    expect_eq("keepalived exited", rc, 0)
    expect_eq("director2: no IPVS service left", ipvs.service_count(DIR2_NS), 0)
    expect_eq("director2: the VIP and the gateway address removed",
              ka.addresses(DIR2_NS) & {VIP, GW}, set())
    expect("director2: no sync daemon left", not ka.sync_states(DIR2_NS),
           ka.sync_states(DIR2_NS))
    t5 = time.monotonic()
    gone = modules.unload_when_free(modules.ENGINE, CHECK_DEADLINE)
    expect(f"rmmod {modules.ENGINE} succeeded ({time.monotonic() - t5:.1f} s after the stop)",
           gone)
    no_kernel_report("in step 4")
ka.uninstall_checker()
sys.exit(checks.finish())
