#!/usr/bin/python3 -S
"""Media follows its call (docs/engine.md): SIP (5060) and an RTP range (10000-10999) under
one firewall mark, set by nftables in the director, on a service `-f 1 -p 60 -M 0.0.0.0 -o
--pe sip` tunnelling (-i) to three real servers that hold the VIP on tunl0.

One client address sends every call's INVITE from port 5060, with an SDP that names a media
port of the call's own (20000 + 2i); the servers all receive media on VIP:10000 (RTP) and
VIP:10001 (RTCP), so a media datagram's call is told by its payload (a tag after the RTP
header), and its server by the socket that received it. Each call's RTP and RTCP must reach
the server that holds its signalling. Then: an SDP whose address is not the client's is not
learnt; a BYE ends its call's entries; an UPDATE, a PRACK and the client's 200 to an UPDATE
move a call's media to new ports, and the SDP of an OPTIONS or a 488 is not learnt; the
bounds per client and per namespace refuse new entries and keep the old; an idle entry
expires; and without learning (a bound of 0), the same kind of calls' media piles up on one
server (the service's one fallback template), so the test fails either way if the engine
does not do what it says."""
import contextlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.media import RTCP_PORT, RTP_PORT, Media, bye, invite, invite_with  # noqa: E402
from ipvslab.media import mark, request_with, response_with, sdp, service_rules  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS_NS, VIP  # noqa: E402
from ipvslab.topology import resolve_servers  # noqa: E402

# Each wait is for a few datagrams or a counter, which come in well under a second on a quiet
# host: only a failure reaches this.
DEADLINE = 120
CALLS = 9           # learnt calls, 3 per server by round robin
BASELINE_CALLS = 6  # calls without learning
RTP_PER_CALL = 3


def param(name, value):
    modules.set_param(name, value)


# The SIP datagrams the client sent to the service (media: Media.sent), each of which the
# engine examines.
SIP_SENT = [0]


def send_sip(payloads):
    SIP_SENT[0] += signalling.send(VIP, 5060, payloads)


def wait_count(what, count, n):
    return checks.wait_count(what, count, n, DEADLINE)


step("topology with the VIP on each real server's tunl0, nftables marking SIP and "
     "10000-10999 with mark 1, service -f 1 -i with --pe sip")
with Lab(topo="tun") as lab, contextlib.ExitStack() as stack:
    if not expect_eq("nft loads the marking rules in the director", mark(DIR_NS), 0):
        sys.exit(checks.finish())
    ipvs.rules([DIR_NS], service_rules("-i"))
    sip = stack.enter_context(udp.Sinks(RS_NS))
    media = Media(stack)
    signalling = stack.enter_context(contextlib.closing(udp.Sender(CLI_NS, CLI, 5060)))
    resolve_servers()

    step(f"{CALLS} calls from {CLI}:5060, each offering audio from its own port")
    calls = {f"media-{i}": 20000 + 2 * i for i in range(CALLS)}
    for callid, port in calls.items():
        # Call 0 multiplexes RTCP on its RTP port (a=rtcp-mux): one entry.
        send_sip([invite(callid, port, rtcp_mux=callid == "media-0")])
    wait_count(f"the servers receive the {CALLS} INVITEs", sip.count, CALLS)
    owner = {c: (sip.by_tag().get(c) or ["?"])[0] for c in calls}
    s = lab.stats()
    expect_eq("every endpoint of the SDPs was learnt (2 a call, 1 with rtcp-mux)",
              s["media_learnt"], 2 * CALLS - 1)
    expect_eq("nothing refused or foreign", (s["media_refused"], s["media_foreign"]), (0, 0))

    step(f"RTP ({RTP_PER_CALL} each) and RTCP from each call's advertised ports")
    before = lab.stats()
    for callid, port in calls.items():
        media.send(port, RTP_PORT, f"rtp {callid}", RTP_PER_CALL)
        media.send(port if callid == "media-0" else port + 1, RTCP_PORT, f"rtcp {callid}")
    sent = CALLS * (RTP_PER_CALL + 1)
    wait_count(f"the servers receive the {sent} media datagrams", media.total, sent)
    s = lab.stats()
    expect_eq("each media datagram was matched to its call",
              s["media_matched"] - before["media_matched"], sent)
    expect_eq("none unmatched", s["media_unmatched"] - before["media_unmatched"], 0)
    followed = 0
    for callid in calls:
        got = media.servers_of(f"rtp {callid}") + media.servers_of(f"rtcp {callid}")
        say(f"  {callid}: signalling {owner[callid]}, media " + " ".join(got))
        followed += all(g == owner[callid] for g in got) and len(got) == RTP_PER_CALL + 1
    spread = sorted(sum(1 for c in calls if owner[c] == ns) for ns in RS_NS)
    say(f"  calls per server: {spread}")
    expect_eq("every call's RTP and RTCP reached the server of its signalling", followed, CALLS)
    expect("the calls are spread over the three servers", spread == [3, 3, 3], spread)

    step("an SDP whose address is not the client's")
    n = sip.count()
    send_sip([invite("media-foreign", 20100, addr="10.0.1.77")])
    wait_count("the server receives it", sip.count, n + 1)
    s = lab.stats()
    expect_eq("its 2 endpoints are foreign, not learnt", s["media_foreign"], 2)
    n, u = media.total(), s["media_unmatched"]
    media.send(20100, RTP_PORT, "rtp media-foreign")
    wait_count("its RTP arrives", media.total, n + 1)
    expect_eq("its RTP from the client's port 20100 is not matched",
              lab.stats()["media_unmatched"], u + 1)

    step("BYE of media-1 ends its entries")
    n = sip.count()
    send_sip([bye("media-1")])
    wait_count("the server receives the BYE", sip.count, n + 1)
    expect_eq("the BYE reached the call's server", sip.by_tag()["media-1"][-1], owner["media-1"])
    expect_eq("its 2 entries ended", lab.counter("media_ended", 2, DEADLINE), 2)
    n, u = media.total(), lab.stats()["media_unmatched"]
    media.send(calls["media-1"], RTP_PORT, "rtp media-1 after bye")
    wait_count("its RTP after the BYE arrives", media.total, n + 1)
    expect_eq("RTP after the BYE is no longer matched", lab.stats()["media_unmatched"], u + 1)

    step("UPDATE, PRACK and the client's 200 to an UPDATE move a call's media; the SDP of an "
         "OPTIONS or of a 488 does not")
    moved = {"media-2": 20500, "media-3": 20600, "media-4": 20700}
    # Ports only described (RFC 3261, 21.4.26), never a call's: not learnt.
    described = {"media-5": 20800, "media-6": 20900}
    s0 = lab.stats()
    n = sip.count()
    send_sip([request_with("UPDATE", "media-2", sdp(moved["media-2"]), 3),
              request_with("PRACK", "media-3", sdp(moved["media-3"]), 2,
                           headers="RAck: 1 1 INVITE\r\n"),
              response_with("200 OK", "media-4", "UPDATE", sdp(moved["media-4"])),
              request_with("OPTIONS", "media-5", sdp(described["media-5"]), 3),
              response_with("488 Not Acceptable Here", "media-6", "UPDATE",
                            sdp(described["media-6"]))])
    wait_count("the servers receive the 5 messages", sip.count, n + 5)
    s = lab.stats()
    expect_eq("the UPDATE, the PRACK and the 200 each taught 2 endpoints; the OPTIONS and the "
              "488 none", s["media_learnt"] - s0["media_learnt"], 6)
    n, m, u = media.total(), s["media_matched"], s["media_unmatched"]
    for callid, port in {**moved, **described}.items():
        media.send(port, RTP_PORT, f"rtp {callid} moved")
    wait_count("their RTP arrives", media.total, n + len(moved) + len(described))
    s = lab.stats()
    expect_eq("the moved calls' RTP matched; from the ports only described it did not",
              (s["media_matched"] - m, s["media_unmatched"] - u), (len(moved), len(described)))
    expect_eq("each moved call's RTP reached the server of its signalling",
              {c: media.servers_of(f"rtp {c} moved") for c in moved},
              {c: [owner[c]] for c in moved})

    entries = 2 * CALLS - 1 - 2 + 2 * len(moved)
    step(f"bounds: {entries} entries now; the client's bound, then the namespace's, set there")
    param("media_max_per_client", entries)
    s0 = lab.stats()
    n = sip.count()
    send_sip([invite("media-bound-client", 20200)])
    wait_count("the server receives the INVITE", sip.count, n + 1)
    s = lab.stats()
    expect_eq("at the client's bound, both endpoints are refused",
              s["media_refused"] - s0["media_refused"], 2)
    param("media_max_per_client", 1024)
    param("media_max_entries", entries)
    n = sip.count()
    send_sip([invite("media-bound-ns", 20300)])
    wait_count("the server receives the INVITE", sip.count, n + 1)
    s = lab.stats()
    expect_eq("at the namespace's bound, both endpoints are refused",
              s["media_refused"] - s0["media_refused"], 4)
    expect_eq("and nothing was learnt meanwhile", s["media_learnt"], s0["media_learnt"])
    n, m = media.total(), s["media_matched"]
    media.send(20300, RTP_PORT, "rtp media-bound-ns")
    media.send(calls["media-2"], RTP_PORT, "rtp media-2 at the bound")
    wait_count("the two RTP datagrams arrive", media.total, n + 2)
    s = lab.stats()
    expect_eq("the refused call's RTP is unmatched, a known call's still matched",
              s["media_matched"], m + 1)
    expect_eq("media-2's RTP at the bound reached its server",
              media.servers_of("rtp media-2 at the bound"), [owner["media-2"]])
    param("media_max_entries", 16384)

    step("idle timeout: media_timeout=1, media-3's entry expires")
    n, m = media.total(), lab.stats()["media_matched"]
    media.send(calls["media-3"], RTP_PORT, "rtp media-3 before")
    wait_count("its RTP arrives", media.total, n + 1)
    expect_eq("media-3's RTP is matched before", lab.stats()["media_matched"], m + 1)
    param("media_timeout", 1)
    u0 = lab.stats()["media_unmatched"]
    tries = [0]

    def expired():
        # One datagram a poll, until one is not matched: the entry expired. Each matched one
        # refreshes the entry, so the polls are further apart than the timeout.
        n = media.total()
        tries[0] += 1
        media.send(calls["media-3"], RTP_PORT, "rtp media-3 idle")
        procs.wait_until(lambda: media.total() > n, DEADLINE, "it arrives")
        return lab.stats()["media_unmatched"] > u0
    try:
        procs.wait_until(expired, DEADLINE, "media-3's entry expires", poll=2)
    except procs.Timeout as e:
        say(f"  {e}")
    expect("media-3's entry expired once idle for longer than media_timeout",
           lab.stats()["media_unmatched"] > u0, f"{tries[0]} datagrams sent")
    say(f"  expired at datagram {tries[0]} (one every 2 s)")
    param("media_timeout", 120)

    step("hostile SDPs: malformed ones learn nothing; a client announcing many ports is bounded")
    s0 = lab.stats()
    skeleton = "v=0\r\no=- 1 1 IN IP4 {a}\r\ns=-\r\n{c}t=0 0\r\n{m}"
    c4 = f"c=IN IP4 {CLI}\r\n"
    bodies = {
        "no-c": skeleton.format(a=CLI, c="", m="m=audio 30000 RTP/AVP 0\r\n"),
        "ipv6-c": skeleton.format(a=CLI, c="c=IN IP6 fd00:1::2\r\n",
                                  m="m=audio 30002 RTP/AVP 0\r\n"),
        "port-70000": skeleton.format(a=CLI, c=c4, m="m=audio 70000 RTP/AVP 0\r\n"),
        "range-past-65535": skeleton.format(a=CLI, c=c4, m="m=audio 65534/4 RTP/AVP 0\r\n"),
        "17-media": skeleton.format(a=CLI, c=c4, m="m=audio 30010 RTP/AVP 0\r\n" * 17),
        "port-0": skeleton.format(a=CLI, c=c4, m="m=audio 0 RTP/AVP 0\r\n"),
        "not-sdp": "v=1\r\nhello\r\n",
    }
    hostile = [invite_with(f"hostile-{k}", b.encode()) for k, b in bodies.items()]
    # Cut off: Content-Length says more than the datagram holds.
    hostile.append(invite("hostile-cut", 30020).replace(b"Content-Length: ", b"Content-Length: 9"))
    n = sip.count()
    send_sip(hostile)
    wait_count("the servers receive them", sip.count, n + len(hostile))
    s = lab.stats()
    expect_eq(f"{len(hostile)} malformed or foreign SDPs learn nothing",
              s["media_learnt"], s0["media_learnt"])
    expect_eq("the IPv6 address of an IPv4 call is foreign (RTP and RTCP)",
              s["media_foreign"] - s0["media_foreign"], 2)
    # Thousands of ports from one client: 300 INVITEs of 8 endpoints each (4 streams, RTP
    # and RTCP), against the default bound of 1,024 per client.
    bound, many = 1024, 300
    # The client's entries from the calls above, at most: some may have expired since (their
    # idle time is the host's speed's), so the count learnt now lies between two figures.
    held = entries
    first, last = 31000, 31000 + 8 * (many - 1)
    n = sip.count()
    send_sip([invite(f"hostile-many-{i}", 31000 + 8 * i, count=4) for i in range(many)])
    wait_count("the servers receive them", sip.count, n + many)
    s1 = lab.stats()
    learnt = s1["media_learnt"] - s["media_learnt"]
    refused = s1["media_refused"] - s["media_refused"]
    say(f"  {many} INVITEs of 8 endpoints each: {learnt} learnt, {refused} refused "
        f"(client bound {bound}, at most {held} held before)")
    expect_eq("every endpoint announced was learnt or refused", learnt + refused, 8 * many)
    expect("the client's bound was reached, not passed: the rest refused",
           bound - held <= learnt <= bound, learnt)
    n, m, u = media.total(), s1["media_matched"], s1["media_unmatched"]
    media.send(first, RTP_PORT, "rtp hostile-many first")
    media.send(last, RTP_PORT, "rtp hostile-many last")
    wait_count("their RTP arrives", media.total, n + 2)
    s2 = lab.stats()
    expect_eq("the first call's port, learnt, matches; the last's, refused, does not",
              (s2["media_matched"] - m, s2["media_unmatched"] - u), (1, 1))

    step(f"baseline: {BASELINE_CALLS} more calls without learning (media_max_per_client=0)")
    param("media_max_per_client", 0)
    base = {f"base-{i}": 21000 + 2 * i for i in range(BASELINE_CALLS)}
    n = sip.count()
    for callid, port in base.items():
        send_sip([invite(callid, port)])
    wait_count("the servers receive the INVITEs", sip.count, n + BASELINE_CALLS)
    base_owner = {c: sip.by_tag()[c][0] for c in base}
    n = media.total()
    for callid, port in base.items():
        media.send(port, RTP_PORT, f"rtp {callid}", RTP_PER_CALL)
    wait_count("their RTP arrives", media.total, n + BASELINE_CALLS * RTP_PER_CALL)
    where = {c: media.servers_of(f"rtp {c}") for c in base}
    on = sorted({ns for got in where.values() for ns in got})
    wrong = sum(1 for c in base if any(g != base_owner[c] for g in where[c]))
    for c in base:
        say(f"  {c}: signalling {base_owner[c]}, media " + " ".join(where[c]))
    say(f"  without learning: all media on {on}, {wrong} of {BASELINE_CALLS} calls' media "
        "on another server than their signalling")
    expect_eq("without learning, every call's media piles on one server", len(on), 1)
    expect("and most calls' media misses their server", wrong >= BASELINE_CALLS // 2, wrong)
    s = lab.stats()
    sent = SIP_SENT[0] + media.sent
    expect_eq(f"the engine examined every datagram the client sent ({sent})",
              s["examined"], sent)
    say("  counters: " + ", ".join(f"{k} {v}" for k, v in s.items() if v))
sys.exit(checks.finish())
