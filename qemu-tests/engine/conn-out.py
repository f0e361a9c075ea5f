#!/usr/bin/python3 -S
"""conn_out: a datagram a real server sends first (no connection matches it) on a --pe sip
service. With a Call-ID, the engine creates the connection and its template, so the client
sees the VIP and its answer returns to that server; without a Call-ID it creates a one-packet
connection with no template, so that the datagram is NATed (the C engine creates nothing, and
the datagram leaves with the server's own address), and no template: a fallback template made
there would point at that server and, with mask 0.0.0.0, re-point every client's fallback
traffic. Every kind of reply is in reply-nat.py; the test engine `tok` through conn_out is in
tok.py; real SIP calls started by the servers are in qemu-tests/e2e/conn-out.py.

One Python process: the real servers' and the client's sockets are made in their namespaces
and used from here (ipvslab.udp); rs1 sends from its listening socket, bound to port 5060 as a
SIP server's is."""
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, step  # noqa: E402
from ipvslab.sipp import listening  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP, rs_ns  # noqa: E402

# One datagram through three namespaces: only a failure waits this long.
DEADLINE = 60


def sink_socket(sinks, ns):
    """The UDP socket SINKS listen on in NS, to send from as that server."""
    return next(s for s, n, kind in sinks.socks.values() if n == ns and kind == "udp")


def receive(sock):
    """(tag, source address) of the next datagram on SOCK, or (None, "none")."""
    sock.settimeout(DEADLINE)
    try:
        data, src = sock.recvfrom(65535)
    except socket.timeout:
        return None, "none"
    return udp.tag_of(data), src[0]


def entries():
    """The director's connections and templates."""
    return ipvs.conns(DIR_NS)


svc = f"{VIP}:5060"
rules = f"-A -u {svc} -s rr -p 600 -M 0.0.0.0 -o --pe sip\n" + \
    "\n".join(f"-a -u {svc} -r {ip}:5060 -m" for ip in RS)
step("topology, service with --pe sip (NAT) to rs1-3, sinks on the servers and the client")
with Lab(rules=rules) as lab, udp.Sinks(RS_NS) as sinks, udp.sock(CLI_NS) as client:
    expect("the real servers listen", all(listening(ns) for ns in RS_NS))
    client.bind(("0.0.0.0", 5060))
    expect("the client listens", listening(CLI_NS))
    rs1 = sink_socket(sinks, rs_ns(1))

    step(f"rs1 ({RS[0]}:5060) sends the client a datagram without Call-ID")
    rs1.sendto(udp.sip(tag="server-no-callid-1"), (CLI, 5060))
    tag, src = receive(client)
    expect_eq("the client received the server's datagram without Call-ID", tag,
              "server-no-callid-1")
    expect_eq("it arrived from the VIP (a connection of its own NATed it)", src, VIP)
    expect_eq("the director has no connection and no template (the one-packet connection "
              "went with its packet)", len(entries()), 0)
    s = lab.stats()
    expect_eq("the engine examined it and counted no_callid",
              f"{s['examined']}/{s['no_callid']}", "1/1")

    step("rs1 sends the client a datagram with a Call-ID; the client answers the VIP")
    rs1.sendto(udp.sip(callid="server-call-1"), (CLI, 5060))
    tag, src = receive(client)
    expect_eq("the client received the server's datagram with a Call-ID", tag, "server-call-1")
    expect_eq("it arrived from the VIP (the new connection NATed it)", src, VIP)
    template = {"proto": "UDP", "caddr": "0.0.0.0", "cport": 0, "vaddr": VIP, "vport": 5060,
                "dest": RS[0], "dport": 5060, "pe": "sip", "data": "server-call-1"}
    expect("the director holds the call's template, pointing at rs1",
           any(all(c[k] == v for k, v in template.items()) for c in entries()),
           ipvs.conn_text(DIR_NS))
    client.sendto(udp.sip(callid="server-call-1"), (VIP, 5060))
    try:
        procs.wait_until(lambda: "server-call-1" in sinks.by_tag(), DEADLINE,
                         "the client's answer reaches a server")
    except procs.Timeout:
        pass
    expect_eq("the client's answer reached rs1 (and no other server)",
              sinks.by_tag().get("server-call-1"), [rs_ns(1)])
    s = lab.stats()
    expect_eq("counters: examined, found, no_callid",
              f"{s['examined']}/{s['found']}/{s['no_callid']}", "3/2/1")
sys.exit(checks.finish())
