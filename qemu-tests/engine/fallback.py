#!/usr/bin/python3 -S
"""What happens to datagrams without a usable Call-ID: our engine counts each by reason and
lets it through with normal persistence; the kernel's C engine drops it (the documented
difference), and so does ours with drop_without_callid=1. Also TCP on a --pe sip service.

Three rounds, each on a fresh standard topology (cli -- dir -- rs1, rs2, rs3) with a UDP
and a TCP service on the VIP, both --pe sip, and a UDP and a TCP listener on every real
server: our engine as loaded by default; our engine loaded with drop_without_callid=1, then
switched off at run time; the kernel's C engine (ip_vs_pe_sip). After the first round's
traffic, `ipvsadm-rs --pe-stats` (table and JSON) must show the counters read from /proc."""
import contextlib
import errno
import json
import os
import socket
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, netns, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP, resolve_servers  # noqa: E402

# Each wait is for one datagram, connection or counter, which come in well under a second on
# a quiet host: only a failure reaches this.
DEADLINE = 120
PARAM = f"/sys/module/{modules.ENGINE}/parameters/drop_without_callid"
C_ENGINE = "ip_vs_pe_sip"

RULES = "\n".join([f"-A -u {VIP}:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip",
                   f"-A -t {VIP}:5060 -s rr -p 60 -M 0.0.0.0 --pe sip"] +
                  [f"-a -{p} {VIP}:5060 -r {ip}:5060 -m" for ip in RS for p in "ut"])

LONGEST_ID = b"y" * 255
PAYLOADS = {
    "empty": b"",
    "no_callid": b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP c\r\nCSeq: 1 OPTIONS\r\n\r\n",
    "too_long": b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: " + b"x" * 256 + b"\r\n\r\n",
    "bad_terminator": b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: abc;def\r\n\r\n",
    "longest": b"OPTIONS sip:a@b SIP/2.0\r\nCall-ID: " + LONGEST_ID + b"\r\n\r\n",
}
# What the sinks record of each (udp.tag_of), back to its name.
NAME_OF = {udp.tag_of(p): name for name, p in PAYLOADS.items()}
# Sent in this order, each with the counter it must move and the check's text.
CASES = [("empty", "no_payload", "an empty datagram counts as no_payload"),
         ("no_callid", "no_callid", "a message without Call-ID counts as no_callid"),
         ("too_long", "too_long", "a 256-byte Call-ID counts as too_long"),
         ("bad_terminator", "bad_terminator", "a Call-ID followed by ';' counts as bad_terminator"),
         ("longest", "found", "a 255-byte Call-ID is found")]


def load(name, params=""):
    err = modules.load(name, params)
    if err:
        raise OSError(err, f"finit_module {name} {params}: {os.strerror(err)}")


def load_c_engine():
    # modprobe: the C engine needs nf_conntrack_sip and what that needs.
    subprocess.run(["modprobe", C_ENGINE], check=True)
    if not modules.loaded(C_ENGINE) or modules.loaded(modules.ENGINE):
        raise RuntimeError(f"modprobe {C_ENGINE} did not load the C engine alone")


@contextlib.contextmanager
def round_with(loader):
    """A Lab (standard topology) whose engine LOADER loads, before the services are made (so
    that `--pe sip` finds it and requests no module); yields (lab, sender, sinks): UDP from
    the client's port 5060, and the UDP and TCP listeners on port 5060 of rs1-3."""
    with Lab(engine=False) as lab:
        loader()
        ipvs.rules([DIR_NS], RULES)
        with udp.Sinks(RS_NS, tcp=True) as sinks, \
                contextlib.closing(udp.Sender(CLI_NS, CLI)) as sender:
            yield lab, sender, sinks


def send(sender, *names):
    sender.send(VIP, 5060, [PAYLOADS[n] for n in names])


def arrived(sinks, n):
    """The names of the datagrams the servers received, in arrival order, once there are N
    (or after DEADLINE)."""
    try:
        sinks.wait(n, DEADLINE, f"{n} datagrams arrive")
    except procs.Timeout as e:
        say(f"  {e}")
    with sinks.lock:
        return [NAME_OF.get(t, t[:40]) for _, t, _ in sinks.got]


def accepted(sinks):
    with sinks.lock:
        return sum(sinks.conns.values())


def tcp_connects(sinks):
    """A TCP connection from the client to VIP:5060, until a real server has accepted it:
    None, or what went wrong."""
    t = udp.sock(CLI_NS, kind=socket.SOCK_STREAM)
    try:
        t.settimeout(DEADLINE)
        t.connect((VIP, 5060))
        procs.wait_until(lambda: accepted(sinks) >= 1, DEADLINE, "a real server accepts it")
        return None
    except (OSError, procs.Timeout) as e:
        return str(e)
    finally:
        t.close()


def dropped_first(sender, sinks):
    """Sends the message without Call-ID, then the one with a Call-ID, once the director
    knows the servers' link addresses, so that they travel in the order sent and the second
    arriving means the first has had its chance. Returns the names of these two that the
    servers received by then, in order, and the packets the director took in meanwhile: IPv4
    (both must have reached it) and IPVS's (counted for each packet it let through)."""
    resolve_servers()
    ip0, vs0 = netns.snmp(DIR_NS)["IpInReceives"], ipvs.totals(DIR_NS)[1]
    n = sinks.count()
    send(sender, "no_callid", "longest")
    got = arrived(sinks, n + 1)[n:]
    return got, netns.snmp(DIR_NS)["IpInReceives"] - ip0, ipvs.totals(DIR_NS)[1] - vs0


def expect_dropped_first(who, sender, sinks):
    """WHO drops the message without Call-ID and passes the one with a Call-ID sent after it:
    the servers' sockets and the director's counters agree."""
    got, ip_in, vs_in = dropped_first(sender, sinks)
    expect(f"{who} passes the message with a Call-ID", "longest" in got, got)
    expect_eq(f"{who} drops the message without Call-ID, sent before it (only the other one "
              "arrives)", got, ["longest"])
    expect(f"the director received both ({ip_in} IPv4 packets in) and IPVS let one through "
           f"({vs_in})", ip_in >= 2 and vs_in == 1)


def tcp_dropped(sender, sinks):
    """Starts a TCP connection from the client to VIP:5060, then sends a datagram with a
    Call-ID (which every engine passes) the same way. Once that datagram has reached a real
    server, the director has dealt with the SYN sent before it (one path, in order; the
    servers' addresses resolved beforehand). Returns (dropped, detail): dropped when the SYN
    reached the director and went neither to a real server nor to the director's own TCP
    (which would have refused it): IPVS dropped it."""
    resolve_servers()
    spaces = [DIR_NS] + RS_NS
    before = {ns: netns.snmp(ns) for ns in spaces}
    t = udp.sock(CLI_NS, kind=socket.SOCK_STREAM)
    try:
        t.setblocking(False)
        err = t.connect_ex((VIP, 5060))
        n = sinks.count()
        sender.send(VIP, 5060, [udp.sip(callid="sent-after-the-syn")])
        try:
            sinks.wait(n + 1, DEADLINE, "the datagram sent after the SYN arrives")
        except procs.Timeout as e:
            return False, str(e)
        after = {ns: netns.snmp(ns) for ns in spaces}

        def delta(ns, k):
            return after[ns][k] - before[ns][k]
        to_servers = sum(delta(ns, "TcpInSegs") for ns in RS_NS)
        facts = {"connect": errno.errorcode.get(err, err),
                 "director: IPv4 packets in": delta(DIR_NS, "IpInReceives"),
                 "director: TCP segments to itself": delta(DIR_NS, "TcpInSegs"),
                 "real servers: TCP segments in": to_servers,
                 "connections accepted": accepted(sinks),
                 "client socket error": t.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)}
        ok = err == errno.EINPROGRESS and facts["director: IPv4 packets in"] >= 2 and \
            facts["director: TCP segments to itself"] == 0 and to_servers == 0 and \
            facts["connections accepted"] == 0
        return ok, ", ".join(f"{k} {v}" for k, v in facts.items())
    finally:
        t.close()


def pe_stats_agree(lab):
    """`ipvsadm-rs --pe-stats` and `--pe-stats --json` in the director's namespace, printed to
    the log and checked against the counters read from /proc: the same names and counts, and
    each share of `examined` right. Read again if a counter moved meanwhile (a late segment
    of the TCP connection)."""
    for _ in range(5):
        before = modules.engine_stats(DIR_NS)
        table = procs.run(DIR_NS, ["ipvsadm-rs", "--pe-stats"], capture_output=True, text=True)
        js = procs.run(DIR_NS, ["ipvsadm-rs", "--pe-stats", "--json"], capture_output=True,
                       text=True)
        if modules.engine_stats(DIR_NS) == before:
            break
    say("  $ ipvsadm-rs --pe-stats")
    say("\n".join("    " + line for line in table.stdout.splitlines()))
    say("  $ ipvsadm-rs --pe-stats --json")
    say("\n".join("    " + line for line in js.stdout.splitlines()))
    expect("--pe-stats and --pe-stats --json exit 0", table.returncode == js.returncode == 0,
           f"{table.returncode}/{js.returncode} {table.stderr}{js.stderr}")
    rows = [[c.strip() for c in line.split("|")] for line in table.stdout.splitlines()[2:]]
    shown = {r[0]: int(r[1]) for r in rows if len(r) == 3}
    expect_eq("the table shows every counter of /proc with its count", shown, before)
    try:
        listed = json.loads(js.stdout)["counters"]
    except (ValueError, KeyError) as e:
        listed = []
        say(f"  {e}")
    expect_eq("the JSON lists every counter of /proc with its count",
              {c["name"]: c["count"] for c in listed}, before)
    shares = {r[0]: r[2] for r in rows if len(r) == 3}
    want = {k: f"{100 * v / before['examined']:.1f} %" for k, v in before.items()}
    expect_eq("and each one's share of examined", shares, want)
    expect("the JSON's shares are the same fractions",
           all(abs(c["share_of_examined"] - before[c["name"]] / before["examined"]) < 1e-9
               for c in listed), listed)


def set_param(value):
    """Writes VALUE to the module parameter; returns what it reads back, or the error."""
    try:
        with open(PARAM, "w") as f:
            f.write(value)
        with open(PARAM) as f:
            return f.read().strip()
    except OSError as e:
        return str(e)


step("our engine (default): a datagram without a usable Call-ID is counted by its reason "
     "and goes through")
with round_with(lambda: load(modules.ENGINE)) as (lab, sender, sinks):
    for name, stat, text in CASES:
        send(sender, name)
        expect_eq(text, lab.counter(stat, 1, DEADLINE), 1)
    expect("and listed whole in /proc/net/ip_vs_conn",
           any(c["pe"] == "sip" and c["data"] == LONGEST_ID.decode() for c in ipvs.conns(DIR_NS)),
           ipvs.conn_text(DIR_NS))
    expect_eq("examined counts all five", lab.stats()["examined"], 5)
    expect_eq("all five datagrams reached a real server", sorted(arrived(sinks, 5)),
              sorted(PAYLOADS))
    why = tcp_connects(sinks)
    expect("a TCP connection to the --pe sip service goes through", why is None, why)
    s = lab.stats()
    expect("and counts as not_udp", s["not_udp"] >= 1, s)
    pe_stats_agree(lab)

step("our engine loaded with drop_without_callid=1 (C's semantics, the operator's choice)")
with round_with(lambda: load(modules.ENGINE, "drop_without_callid=1")) as (lab, sender, sinks):
    expect_dropped_first("drop_without_callid=1", sender, sinks)
    s = lab.stats()
    expect_eq("counted as no_callid and dropped, beside the one found",
              f"{s['no_callid']}/{s.get('dropped')}/{s['found']}/{s['examined']}", "1/1/1/2")
    ok, detail = tcp_dropped(sender, sinks)
    say(f"  {detail}")
    expect("a TCP connection attempt is dropped too", ok)
    s = lab.stats()
    expect("and counted as not_udp and dropped", s["not_udp"] >= 1 and s.get("dropped", 0) >= 2,
           s)
    expect_eq("the parameter can be switched off at run time", set_param("0"), "N")
    dropped = lab.stats()["dropped"]
    n = sinks.count()
    send(sender, "no_callid")
    got = arrived(sinks, n + 1)
    expect("then a message without Call-ID arrives again", got[n:] == ["no_callid"], got)
    s = lab.stats()
    expect_eq("and is counted as no_callid, not as dropped", f"{s['no_callid']}/{s['dropped']}",
              f"2/{dropped}")

step("the kernel's C engine (ip_vs_pe_sip)")
with round_with(load_c_engine) as (lab, sender, sinks):
    expect_dropped_first("the C engine", sender, sinks)
    ok, detail = tcp_dropped(sender, sinks)
    say(f"  {detail}")
    expect("the C engine drops a TCP connection attempt", ok)
sys.exit(checks.finish())
