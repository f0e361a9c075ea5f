#!/usr/bin/python3 -S
"""Media follows its call over IPv6 (docs/engine.md, "Media follows its call"): SIP (5060) and
an RTP range (10000-10999) to the IPv6 VIP under one firewall mark, set by nftables in the
director (`ip6 daddr`), on a service `-f 1 -6 -p 60 -o --pe sip` (the default /128 mask: one
client, so the templates are keyed on the Call-ID) with direct routing to three real servers
that hold the IPv6 VIP on lo.

The client sends each call's INVITE from [CLI6]:5060 with an SDP `c=IN IP6` naming its own
address and a media port of the call's own, then RTP and RTCP from those ports; each server
receives media on [VIP6]:10000 and :10001, and the datagram's payload names its call. Each
call's media must reach the server of its signalling; an SDP naming the client's IPv4
address on this IPv6 call is not learnt. Without learning, the calls' media would all take
the service's one fallback template (one server), so the spread of the calls over the three
servers makes the test fail if the engine does not follow the media."""
import contextlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, procs, udp  # noqa: E402
from ipvslab.checks import expect_eq, say, step  # noqa: E402
from ipvslab.media import MARK, RTCP_PORT, RTP_PORT, invite, media_tag, rtp  # noqa: E402
from ipvslab.topology import CLI, CLI6, CLI_NS, DIR_NS, RS6, RS_NS, VIP6  # noqa: E402

# Each wait is for a few datagrams, which come in well under a second on a quiet host: only a
# failure reaches this.
DEADLINE = 120
CALLS = 6           # 2 per server by round robin
RTP_PER_CALL = 3

NFT = f"""table inet media6 {{
    chain pre {{
        type filter hook prerouting priority mangle; policy accept;
        ip6 daddr {VIP6} udp dport {{ 5060, 10000-10999 }} meta mark set {MARK}
    }}
}}
"""
RULES = "\n".join([f"-A -f {MARK} -6 -s rr -p 60 -o --pe sip"] +
                  [f"-a -f {MARK} -6 -r {ip} -g" for ip in RS6])


def wait_count(what, count, n):
    return checks.wait_count(what, count, n, DEADLINE)


step("topology with the IPv6 VIP on each real server's lo, nftables marking SIP and "
     "10000-10999 to it with mark 1, service -f 1 -6 -g with --pe sip")
with Lab(topo="dr") as lab, contextlib.ExitStack() as stack:
    p = procs.run(DIR_NS, ["nft", "-f", "-"], input=NFT.encode())
    if not expect_eq("nft loads the marking rules in the director", p.returncode, 0):
        sys.exit(checks.finish())
    ipvs.rules([DIR_NS], RULES)
    sip = stack.enter_context(udp.Sinks(RS_NS, ip="::"))
    rtp_sinks = stack.enter_context(udp.Sinks(RS_NS, ip="::", port=RTP_PORT,
                                              classify=media_tag))
    rtcp_sinks = stack.enter_context(udp.Sinks(RS_NS, ip="::", port=RTCP_PORT,
                                               classify=media_tag))
    signalling = stack.enter_context(contextlib.closing(udp.Sender(CLI_NS, CLI6, 5060)))
    # No neighbour resolution beforehand: each step waits for its datagrams to arrive before
    # the next is sent, so no datagram can overtake one that waits for a neighbour.
    sent = [0]

    def media_total():
        return rtp_sinks.count() + rtcp_sinks.count()

    step(f"{CALLS} calls from [{CLI6}]:5060, each offering audio from its own port (c=IN IP6)")
    calls = {f"media6-{i}": 20000 + 2 * i for i in range(CALLS)}
    sent[0] += signalling.send(VIP6, 5060, [invite(c, p, addr=CLI6) for c, p in calls.items()])
    wait_count(f"the servers receive the {CALLS} INVITEs", sip.count, CALLS)
    owner = {c: (sip.by_tag().get(c) or ["?"])[0] for c in calls}
    s = lab.stats()
    expect_eq("every endpoint of the SDPs was learnt (RTP and RTCP of each call)",
              s["media_learnt"], 2 * CALLS)
    expect_eq("nothing refused or foreign", (s["media_refused"], s["media_foreign"]), (0, 0))

    step(f"RTP ({RTP_PER_CALL} each) and RTCP from each call's advertised ports")
    for c, port in calls.items():
        with contextlib.closing(udp.Sender(CLI_NS, CLI6, port)) as r, \
                contextlib.closing(udp.Sender(CLI_NS, CLI6, port + 1)) as rc:
            sent[0] += r.send(VIP6, RTP_PORT, [rtp(f"rtp {c}", i) for i in range(RTP_PER_CALL)])
            sent[0] += rc.send(VIP6, RTCP_PORT, [rtp(f"rtcp {c}")])
    total = CALLS * (RTP_PER_CALL + 1)
    wait_count(f"the servers receive the {total} media datagrams", media_total, total)
    s = lab.stats()
    expect_eq("each media datagram was matched to its call, none unmatched",
              (s["media_matched"], s["media_unmatched"]), (total, 0))
    followed = 0
    for c in calls:
        got = rtp_sinks.by_tag().get(f"rtp {c}", []) + rtcp_sinks.by_tag().get(f"rtcp {c}", [])
        say(f"  {c}: signalling {owner[c]}, media " + " ".join(got))
        followed += len(got) == RTP_PER_CALL + 1 and all(g == owner[c] for g in got)
    spread = sorted(sum(1 for c in calls if owner[c] == ns) for ns in RS_NS)
    say(f"  calls per server: {spread}")
    expect_eq("every call's RTP and RTCP reached the server of its signalling", followed, CALLS)
    expect_eq("the calls are spread over the three servers", spread, [2, 2, 2])

    step("an SDP naming the client's IPv4 address on this IPv6 call")
    n = sip.count()
    sent[0] += signalling.send(VIP6, 5060, [invite("media6-v4", 20100, addr=CLI)])
    wait_count("the server receives it", sip.count, n + 1)
    s = lab.stats()
    expect_eq("its 2 endpoints are foreign, not learnt",
              (s["media_foreign"], s["media_learnt"]), (2, 2 * CALLS))
    expect_eq(f"the engine examined every datagram the client sent ({sent[0]})",
              s["examined"], sent[0])
    say("  counters: " + ", ".join(f"{k} {v}" for k, v in s.items() if v))
sys.exit(checks.finish())
