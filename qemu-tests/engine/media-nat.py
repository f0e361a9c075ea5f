#!/usr/bin/python3 -S
"""NAT (-m) on a firewall-mark service with one-packet scheduling: what docs/engine.md says of
it ("NAT with -o" and "Forwarding methods"), which it calls unsupported. The clients'
datagrams reach the right server (media follows its call inbound, as with DR or TUN), but no
reply is NATed: the servers' port-0 entries never match a reply (ip_vs_find_real_service()),
IPVS makes no connection out for a firewall-mark service, and a one-packet connection is not
kept for a reply to find, so every reply, SIP and media, leaves the director with the real
server's own address as its source; servers given a port (5060) change nothing for SIP.
ipvsadm-rs warns when the service is configured.

The standard topology (servers routed through the director), nftables marking SIP and
10000-10999 in the director, `-f 1 -s rr -p 60 -M 0.0.0.0 -o --pe sip` to the three servers
with -m (port 0: each keeps the datagram's port). The servers answer every INVITE with a 200
and echo every RTP datagram, from the socket that received it; the client looks at where
each answer comes from."""
import contextlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, procs, udp  # noqa: E402
from ipvslab.checks import expect_eq, say, step  # noqa: E402
from ipvslab.media import MARK, RTP_PORT, Media, invite, mark, media_tag  # noqa: E402
from ipvslab.media import service_rules  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402
from ipvslab.topology import resolve_servers  # noqa: E402

# Each wait is for a few datagrams, which come in well under a second on a quiet host: only a
# failure reaches this.
DEADLINE = 120
CALLS = 6          # 2 per server by round robin
RTP_PER_CALL = 2
WARNING = (f"Warning: service -f {MARK} has one-packet scheduling (-o) and masquerading (-m) "
           "real servers (", "): IPVS cannot NAT their replies")


def ok_of(data):
    """A server's answer to an INVITE: a 200 with the request's Call-ID."""
    callid = udp.tag_of(data)
    return (f"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {CLI}:5060\r\nCall-ID: {callid}\r\n"
            "CSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n").encode()


def restore(rules):
    """`ipvsadm-rs -R` of RULES in the director: (exit status, standard error)."""
    p = procs.run(DIR_NS, ["ipvsadm-rs", "-R"], input=rules.encode() + b"\n",
                  capture_output=True)
    return p.returncode, p.stderr.decode(errors="replace")


def warned_servers(err):
    """The servers the warning's first line names (a set), or None without that line; and how
    many lines begin with "Warning:"."""
    lines = err.split("\n")
    found = None
    for line in lines:
        if line.startswith(WARNING[0]) and line.endswith(WARNING[1]):
            found = set(line[len(WARNING[0]):-len(WARNING[1])].split(", "))
    return found, sum(1 for line in lines if line.startswith("Warning:"))


step("standard topology, nftables marking SIP and 10000-10999 with mark 1 in the director")
with Lab() as lab, contextlib.ExitStack() as stack:
    if not expect_eq("nft loads the marking rules in the director", mark(DIR_NS), 0):
        sys.exit(checks.finish())

    step("ipvsadm-rs -R of the service with tunnelling (-i) servers, then with -m servers")
    status, err = restore(service_rules("-i"))
    expect_eq("with -i: exit 0, nothing on standard error", (status, err), (0, ""))
    ipvs.flush(DIR_NS)
    status, err = restore(service_rules("-m"))
    for line in err.rstrip("\n").split("\n"):
        say(f"  stderr: {line}")
    servers, warnings = warned_servers(err)
    expect_eq("with -m: exit 0 (the service is made as asked)", status, 0)
    expect_eq("and one warning, naming the three servers (port 0), that IPVS cannot NAT "
              "their replies", (servers, warnings), ({f"{ip}:0" for ip in RS}, 1))
    expect_eq("the service's three servers are masquerading",
              [line.split()[2] for line in procs.run(DIR_NS, ["ipvsadm-rs", "-Ln"],
                                                     capture_output=True).stdout.decode()
               .split("\n") if line.strip().startswith("->") and ":0" in line],
              ["Masq"] * 3)

    sip = stack.enter_context(udp.Sinks(RS_NS, answer=ok_of))
    media = Media(stack, answer=lambda data: data)
    signalling = stack.enter_context(contextlib.closing(udp.Sender(CLI_NS, CLI, 5060)))
    resolve_servers()
    addr_of = dict(zip(RS_NS, RS))
    _, in0, out0 = ipvs.totals(DIR_NS)

    step(f"{CALLS} calls from {CLI}:5060, each INVITE offering audio from its own port; "
         "each server answers 200")
    calls = {f"nat-{i}": 20000 + 2 * i for i in range(CALLS)}
    signalling.send(VIP, 5060, [invite(c, p) for c, p in calls.items()])
    try:
        sip.wait(CALLS, DEADLINE, f"the servers receive the {CALLS} INVITEs")
    except procs.Timeout as e:
        say(f"  {e}")
    owner = {c: (sip.by_tag().get(c) or ["?"])[0] for c in calls}
    spread = sorted(sum(1 for c in calls if owner[c] == ns) for ns in RS_NS)
    expect_eq("the INVITEs spread 2/2/2 over the servers", spread, [2, 2, 2])
    expect_eq("the engine learnt each call's RTP and RTCP ports", lab.stats()["media_learnt"],
              2 * CALLS)
    answers = signalling.receive(CALLS, DEADLINE)
    src = {udp.tag_of(data): f"{a}:{p}" for data, (a, p) in answers}
    for c in calls:
        say(f"  {c}: 200 from {src.get(c)} (server {owner[c]})")
    expect_eq(f"every 200 reached the client ({len(answers)} of {CALLS})", len(answers), CALLS)
    expect_eq("each from its server's own address, not the VIP", src,
              {c: f"{addr_of.get(owner[c])}:5060" for c in calls})

    step(f"RTP ({RTP_PER_CALL} each) from each call's port; each server echoes it")
    for c, port in calls.items():
        media.send(port, RTP_PORT, f"rtp {c}", RTP_PER_CALL)
    sent = CALLS * RTP_PER_CALL
    try:
        procs.wait_until(lambda: media.total() >= sent, DEADLINE,
                         f"the servers receive the {sent} RTP datagrams")
    except procs.Timeout as e:
        say(f"  {e}")
    s = lab.stats()
    expect_eq("the engine matched each RTP datagram to its call (none unmatched)",
              (s["media_matched"], s["media_unmatched"]), (sent, 0))
    where = {c: media.servers_of(f"rtp {c}") for c in calls}
    for c in calls:
        say(f"  {c}: signalling {owner[c]}, RTP " + " ".join(where[c]))
    expect_eq("every call's RTP reached the server of its signalling (inbound NAT works)",
              sum(1 for c in calls if where[c] == [owner[c]] * RTP_PER_CALL), CALLS)
    echoes = {c: media.sender(port).receive(RTP_PER_CALL, DEADLINE) for c, port in calls.items()}
    got = {c: sorted({f"{a}:{p}" for data, (a, p) in e if media_tag(data) == f"rtp {c}"})
           for c, e in echoes.items()}
    say(f"  echoes received: {sum(len(e) for e in echoes.values())} of {sent}")
    expect_eq("every echo reached the client", sum(len(e) for e in echoes.values()), sent)
    expect_eq("each from its server's own address and port, not the VIP", got,
              {c: [f"{addr_of.get(owner[c])}:{RTP_PORT}"] for c in calls})
    _, d_in, d_out = ipvs.totals_when(DIR_NS, lambda t: t[1] - in0 >= CALLS + sent)
    say(f"  IPVS in the director: {d_in - in0} packets in, {d_out - out0} out")
    expect_eq("IPVS took in every datagram the client sent", d_in - in0, CALLS + sent)
    expect_eq("and handled none of the servers' replies (none NATed)", d_out - out0, 0)

    step("the servers given port 5060 (ip_vs_find_real_service() can then match their SIP "
         "replies, but IPVS makes no connection out for a mark service): still none NATed")
    ipvs.flush(DIR_NS)
    status, err = restore(service_rules("-m", port=5060))
    expect_eq("ipvsadm-rs -R: exit 0, one warning naming the three servers on port 5060",
              (status,) + warned_servers(err), (0, {f"{ip}:5060" for ip in RS}, 1))
    _, in0, out0 = ipvs.totals(DIR_NS)
    more = {f"nat-port-{i}": 20100 + 2 * i for i in range(3)}
    n = sip.count()
    signalling.send(VIP, 5060, [invite(c, p) for c, p in more.items()])
    try:
        sip.wait(n + len(more), DEADLINE, "the servers receive the 3 INVITEs")
    except procs.Timeout as e:
        say(f"  {e}")
    owner = {c: (sip.by_tag().get(c) or ["?"])[0] for c in more}
    answers = signalling.receive(len(more), DEADLINE)
    src = {udp.tag_of(data): f"{a}:{p}" for data, (a, p) in answers}
    say("  " + ", ".join(f"{c}: 200 from {src.get(c)} (server {owner[c]})" for c in more))
    expect_eq("the 3 INVITEs reached the 3 servers", sorted(owner.values()), sorted(RS_NS))
    expect_eq("each 200 reached the client from its server's own address, not the VIP", src,
              {c: f"{addr_of.get(owner[c])}:5060" for c in more})
    _, d_in, d_out = ipvs.totals_when(DIR_NS, lambda t: t[1] - in0 >= len(more))
    expect_eq("IPVS took in the 3 INVITEs and handled none of the replies",
              (d_in - in0, d_out - out0), (len(more), 0))
sys.exit(checks.finish())
