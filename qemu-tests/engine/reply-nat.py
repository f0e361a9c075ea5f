#!/usr/bin/python3 -S
"""Replies leave NATed: on a NAT service with one-packet scheduling (`-s rr -p 600 -M 0.0.0.0
-o --pe sip`), whatever a real server sends the client must come from the VIP, never from the
server's own address.

A one-packet connection is never hashed (`ip_vs_conn_hash()`), so a server's reply matches no
connection and IPVS hands it to the engine's `conn_out`; what `conn_out` leaves alone is
accepted unchanged (`ip_vs_out_hook()`), with the server's address as its source. The engine
used to leave alone every datagram without a usable Call-ID: answers to the keep-alives of RFC
5626 (a CRLF ping, a STUN binding request) and to requests without a Call-ID. It now gives each
a connection of its own, with no template (kmod/pe/conn_out.rs,
`ConnOut::new_conn_without_template`).

Two rounds: the client sends each kind from its port 5060 and every server answers what it
receives; then each server sends each kind to the client unprompted. Each kind: a SIP request
with a Call-ID, a CRLF keep-alive, a STUN binding request, a SIP request without a Call-ID. The
client looks at the source of every datagram it receives. Last, the client's fallback template
still points at the server it chose first (`conn_out` made no template for the datagrams
without a Call-ID), and the templates are the ones the Call-IDs made, plus that one.

One Python process: the servers' and the client's sockets are made in their namespaces and
used from here."""
import collections
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.sipp import listening  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

# A dozen datagrams through three namespaces: only a failure waits this long.
DEADLINE = 60
STUN_COOKIE = 0x2112A442
KINDS = ("callid", "crlf", "stun", "no-callid")


def stun(kind, txid):
    """A STUN message of KIND (1: binding request, 0x101: success response), no attributes."""
    return struct.pack("!HHI", kind, 0, STUN_COOKIE) + txid


def message(kind, n):
    """Datagram number N of KIND, as a client or a server sends it first."""
    if kind == "callid":
        return udp.sip(callid=f"reply-nat-{n}")
    if kind == "crlf":
        return b"\r\n\r\n"
    if kind == "stun":
        return stun(1, struct.pack("!12s", f"rnat{n:08d}".encode()))
    return udp.sip(tag=f"reply-nat-{n}")


def answer(data):
    """What a server answers to DATA: a SIP response with the request's Call-ID (or none), a
    CRLF pong, a STUN binding success with the request's transaction id."""
    if data == b"\r\n\r\n":
        return b"\r\n"
    if len(data) == 20 and data[:2] == b"\x00\x01":
        return stun(0x101, data[8:20])
    head = [line for line in data.split(b"\r\n")[1:] if line.lower().startswith(b"call-id:")]
    return b"SIP/2.0 200 OK\r\n" + b"".join(h + b"\r\n" for h in head) + \
        b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"


def kind_of(data):
    """Which of KINDS the datagram DATA is (a request or an answer)."""
    if data in (b"\r\n", b"\r\n\r\n"):
        return "crlf"
    if len(data) == 20 and struct.unpack_from("!I", data, 4)[0] == STUN_COOKIE:
        return "stun"
    if b"\ncall-id:" in data.lower():
        return "callid"
    return "no-callid"


class Servers(udp.Sinks):
    """A UDP socket on port 5060 in each server's namespace, answering every datagram
    (udp.Sinks); `received()` gives (server index, kind) per datagram received."""

    def __init__(self):
        super().__init__(RS_NS, classify=kind_of, answer=answer)

    def send(self, i, data):
        """Server I sends DATA to the client's port 5060 from its port 5060."""
        s = next(s for s, ns, _ in self.socks.values() if ns == RS_NS[i - 1])
        s.sendto(data, (CLI, 5060))

    def received(self):
        with self.lock:
            return [(RS_NS.index(ns) + 1, kind) for ns, kind, _ in self.got]


def collect(client, n):
    """The next N datagrams the client receives: [(kind, source address, source port)]."""
    out = []
    client.settimeout(DEADLINE)
    try:
        while len(out) < n:
            data, src = client.recvfrom(65535)
            out.append((kind_of(data), src[0], src[1]))
    except socket.timeout:
        say(f"  only {len(out)} of {n} datagrams arrived in {DEADLINE} s")
    return out


def report(what, got):
    """One check per kind: every datagram of that kind came from VIP:5060."""
    by_kind = collections.defaultdict(collections.Counter)
    for kind, ip, port in got:
        by_kind[kind][f"{ip}:{port}"] += 1
    for kind in KINDS:
        sources = dict(by_kind.get(kind, {}))
        say(f"  {what}, {kind}: sources {sources}")
        expect_eq(f"{what}: every {kind} datagram came from the VIP", sources, {f"{VIP}:5060": 3})


def templates():
    return [c for c in ipvs.conns(DIR_NS) if c["template"]]


svc = f"{VIP}:5060"
rules = f"-A -u {svc} -s rr -p 600 -M 0.0.0.0 -o --pe sip\n" + \
    "\n".join(f"-a -u {svc} -r {ip}:5060 -m" for ip in RS)
step("topology, NAT service with --pe sip and -o to rs1-3; each server answers what it gets")
with Lab(rules=rules) as lab, udp.sock(CLI_NS) as client:
    servers = Servers()
    try:
        expect("the real servers listen", all(listening(ns) for ns in RS_NS))
        client.bind(("0.0.0.0", 5060))

        step("the client sends 3 of each kind from port 5060; each server answers")
        n = 0
        for kind in KINDS:
            for _ in range(3):
                n += 1
                client.sendto(message(kind, n), (VIP, 5060))
        got = collect(client, 12)
        report("answers", got)
        seen = servers.received()
        fallback_servers = {i for i, kind in seen if kind != "callid"}
        say(f"  received by the servers: {sorted(seen)}")
        expect_eq("the datagrams without a Call-ID all reached one server (the fallback "
                  "template's)", len(fallback_servers), 1)
        expect_eq("the three Call-IDs reached the three servers",
                  sorted(i for i, kind in seen if kind == "callid"), [1, 2, 3])

        step("each server sends each kind to the client unprompted")
        for i in (1, 2, 3):
            for kind in KINDS:
                n += 1
                servers.send(i, message(kind, n))
        got = collect(client, 12)
        report("sent first by the servers", got)

        step("the templates: one per Call-ID, and the client's one fallback template, which "
             "still points where it did")
        t = templates()
        for c in t:
            say(f"  template to {c['dest']}: {c['pe']} {c['data']!r}")
        fallback = [c for c in t if c["pe"] == "sip" and c["data"] == ""]
        expect_eq("one fallback template", len(fallback), 1)
        rs_of = {ip: i for i, ip in enumerate(RS, 1)}
        expect_eq("it points at the server the datagrams without a Call-ID reached",
                  {rs_of.get(c["dest"]) for c in fallback}, fallback_servers)
        expect_eq("six Call-ID templates: three from the client, three from the servers",
                  len([c for c in t if c["data"]]), 6)
        before = len(servers.received())
        client.sendto(message("no-callid", n + 1), (VIP, 5060))
        try:
            procs.wait_until(lambda: len(servers.received()) > before, DEADLINE,
                             "a server receives the client's datagram")
        except procs.Timeout:
            pass
        expect_eq("a new datagram without a Call-ID still reaches that server",
                  {i for i, _ in servers.received()[before:]}, fallback_servers)
        expect_eq("no connection is left (one-packet connections go with their packet)",
                  len([c for c in ipvs.conns(DIR_NS) if not c["template"]]), 0)

        step("the templates as Debian's ipvsadm 1.31 and ipvsadm-rs list them "
             "(-Lcn --persistent-conn; the fallback template's line has no engine datum)")
        listings = {}
        for tool in ("ipvsadm", "ipvsadm-rs"):
            p = procs.run(DIR_NS, [tool, "-Lcn", "--persistent-conn"], capture_output=True)
            # The expiry column (mm:ss) moves between the two runs: compare the rest.
            listings[tool] = sorted(" ".join(f for i, f in enumerate(line.split()) if i != 1)
                                    for line in p.stdout.decode().splitlines()
                                    if line.startswith("UDP"))
            expect_eq(f"{tool} -Lcn --persistent-conn exits 0", p.returncode, 0)
        for line in listings["ipvsadm"]:
            say(f"  ipvsadm: {line}")
        expect_eq("ipvsadm-rs lists the templates as ipvsadm does", listings["ipvsadm-rs"],
                  listings["ipvsadm"])
        plain = [line for line in listings["ipvsadm"] if "reply-nat-" not in line]
        expect_eq("seven templates listed; the fallback template's alone without a Call-ID, "
                  "and as a plain entry (no engine name)",
                  (len(listings["ipvsadm"]), len(plain), [x.split()[-1] != "sip" for x in plain]),
                  (7, 1, [True]))
    finally:
        servers.close()
sys.exit(checks.finish())
