#!/usr/bin/python3 -S
"""A real server removed under traffic, with net.ipv4.vs.expire_nodest_conn=1: new calls avoid
it, and nothing keeps sending to it, not even the calls it was carrying (each call is held
3 s between its ACK and its BYE, so some are in progress on it): it receives nothing more, and
no entry of /proc/net/ip_vs_conn points at it (IPVS drops the templates of a removed server in
deferred work, and checks a template's server before using it). Those calls are cut, as a
server failure cuts them (their BYE goes to another server, which knows nothing of them); no
other call may suffer.

Ordered by progress, not by the clock: rs2 is removed once its own log shows calls in
progress on it, and its state is taken once IPVS has dropped its entries and rs2 has logged
every datagram its stack received."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, netns, procs, sipp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import DIR_NS, RS, VIP, rs_ns  # noqa: E402

calls = int(os.environ.get("E2E_CALLS", 150))
# Calls on rs2 in progress when it is removed: enough that the removal surely cuts some.
CARRYING = 4
# A cut call's BYE goes to a server that does not answer it: the client gives up after this.
# Every other answer comes far sooner, however slow the host.
CUT_TIMEOUT_MS = 30000


def rs2_received():
    """IPv4 packets rs2's stack received."""
    return netns.snmp(rs_ns(2))["IpInReceives"]


def rs2_all_logged():
    """rs2's sipp has read every datagram queued for it and logged each it read."""
    read = netns.snmp(rs_ns(2))["UdpInDatagrams"]  # counted when the application reads
    return sipp.rx_queue(rs_ns(2)) == 0 and \
        sum(1 for d, *_ in lab.sipp.server_messages(2) if d == "in") == read


def entries_to_rs2():
    return sum(1 for c in ipvs.conns(DIR_NS) if c["dest"] == RS[1])


step("topology, service with --pe sip, expire_nodest_conn=1, sipp UAS on rs1-3")
with Lab(sysctls={DIR_NS: {"net.ipv4.vs.expire_nodest_conn": 1}},
         rules=ipvs.service_rules(VIP, RS), uas=["v4"]) as lab:
    step(f"{calls} calls, up to 10 per second and 30 at once, each held 3 s; rs2 ({RS[1]}) "
         f"removed once it carries {CARRYING} calls in progress")
    uac = lab.uac("down", calls, 10, limit=30,
                  extra=["-d", "3000", "-recv_timeout", str(CUT_TIMEOUT_MS)])
    # Deadline: the time for all the calls to have started, which is what a removal must
    # come before; reached only if rs2 never takes calls.
    carrying = procs.wait_until(
        lambda: (n := lab.sipp.in_progress_at(2, "down")) >= CARRYING and n,
        60 + 5 * calls, "rs2 carries calls")
    started = uac.started()
    rc = procs.run(DIR_NS, ["ipvsadm-rs", "-d", "-u", f"{VIP}:5060", "-r", f"{RS[1]}:5060"]
                   ).returncode
    say(f"  rs2 removed while carrying {carrying} calls, {started} of {calls} calls begun")
    expect_eq("ipvsadm-rs -d removed rs2", rc, 0)
    expect("calls began after the removal", started < calls)
    # IPVS drops the entries of a removed server in deferred work; the datagrams it had
    # already sent there reach rs2's socket and log.
    try:
        procs.wait_until(lambda: entries_to_rs2() == 0, 300, "no entry points at rs2")
        procs.wait_until(rs2_all_logged, 300, "rs2 logged every datagram it received")
    except procs.Timeout as e:
        say(f"  {e}")
    conns_after, log_after, rx_after = entries_to_rs2(), lab.sipp.server_log_size(2), \
        rs2_received()
    expect_eq("once IPVS dropped them, no /proc/net/ip_vs_conn entry points at rs2",
              conns_after, 0)

    r = uac.wait(lab.diag_namespaces())
    conns_end, log_end, rx_end = entries_to_rs2(), lab.sipp.server_log_size(2), rs2_received()
    cut = lab.sipp.in_progress_at(2, "down")
    say(f"  rs2's log: {log_after} bytes once settled after its removal, {log_end} at the end "
        f"(datagrams received {rx_after}, {rx_end}); calls cut on rs2: {cut}")
    expect_eq("rs2 received nothing after that (its log stopped growing)", log_end, log_after)
    expect_eq("nor did its stack", rx_end, rx_after)
    expect_eq("at the end no entry points at rs2", conns_end, 0)
    expect(f"rs2 took calls before its removal ({r['rs2']})", r["rs2"] > 0)
    expect(f"it was carrying calls when it was removed ({cut})", cut > 0)
    expect_eq("every call reached a server", r["calls"], calls)
    broken = calls - r["ok"]
    say(f"  broken calls: {broken} (sipp: {r['ok']} successful, {r['failed']} failed), calls "
        f"cut on rs2: {cut}")
    expect(f"no call broke but those cut on rs2 ({broken} <= {cut})", broken <= cut)
    expect(f"at most the cut calls reached two servers ({r['split']} <= {cut})",
           r["split"] <= cut)
    expect_eq("every call not cut stayed whole on one server", r["whole"], calls - cut)
sys.exit(checks.finish())
