#!/usr/bin/python3 -S
"""Media of calls in progress across a director failover (docs/engine.md, "Media follows its
call", Failover). IPVS's sync daemon carries the engine's templates, with their Call-IDs, to
the backup, but not the engine's media table: after the takeover the backup knows which server
holds each call but not which client ports carry its media, so that media is unmatched and
takes the service's fallback template (one server for all), until the client's next INVITE
with SDP for the call (a re-INVITE: a session refresh) teaches the backup; from then on the
call's media reaches the call's server again.

  cli --[client LAN]-- dir (master), dir2 (backup) --[server LAN]-- rs1, rs2, rs3
  (failover topology; the servers hold the VIP on tunl0)

Both directors mark SIP and 10000-10999 with nftables and have the service `-f 1 -s rr
-p 1800 -M 0.0.0.0 -o --pe sip` tunnelling (-i) to the servers, and sync daemons (version 1).
The datagrams are hand-made as in engine/media.py (ipvslab.media): a media datagram's call is
told by its payload, its server by the socket that received it. The engine's counters are
read in each director's namespace."""
import contextlib
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, netns, procs, topology, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.media import RTCP_PORT, RTP_PORT, Media, invite, mark, service_rules  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR2_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

# Each wait is for a few datagrams, a counter, or the sync daemon (which sends its buffer at
# least every 2 s): only a failure reaches this.
DEADLINE = 120
CALLS = 9          # 3 per server by round robin
RTP_PER_CALL = 2   # and one RTCP datagram
# Longer than the whole scenario however slow the host: the templates of held calls must not
# expire while it waits (as in failover.py).
PERSISTENCE = 1800
RULES = service_rules("-i", PERSISTENCE) + """
@dir --start-daemon master --mcast-interface s0 --syncid 7
@dir2 --start-daemon backup --mcast-interface s1 --syncid 7"""


def wait_count(what, count, n):
    return checks.wait_count(what, count, n, DEADLINE)


def delta(ns, before):
    """The engine's counters in NS since BEFORE (a dict of the same counters)."""
    now = lab.stats(ns)
    return {k: now[k] - before.get(k, 0) for k in now}


def call_templates(ns):
    """{Call-ID: server address} of the engine's templates with a Call-ID in NS."""
    return {c["data"]: c["dest"] for c in ipvs.conns(ns)
            if c["template"] and c["pe"] == "sip" and c["data"]}


def fallback_servers(ns):
    """The servers of the engine's templates without a Call-ID (fallback templates) in NS."""
    return sorted(c["dest"] for c in ipvs.conns(ns)
                  if c["template"] and c["pe"] == "sip" and not c["data"])


def vip_mac():
    """The client's neighbour entry for the VIP: the MAC address of the director holding it."""
    for line in netns.read(CLI_NS, "arp").split("\n")[1:]:
        f = line.split()
        if len(f) >= 4 and f[0] == VIP:
            return f[3]
    return None


step("failover topology with the VIP on each server's tunl0; nftables marks SIP and "
     "10000-10999 in both directors; service -f 1 -i --pe sip in both; sync daemons")
with Lab(topo="failover-tun", rules=RULES) as lab, contextlib.ExitStack() as stack:
    for ns in lab.directors:
        expect_eq(f"nft loads the marking rules in {ns}", mark(ns), 0)
    expect_eq("the sync daemons run", [ipvs.daemons(DIR_NS), ipvs.daemons(DIR2_NS)],
              [[("master", "s0", 7)], [("backup", "s1", 7)]])
    sip = stack.enter_context(udp.Sinks(RS_NS))
    media = Media(stack)
    signalling = stack.enter_context(contextlib.closing(udp.Sender(CLI_NS, CLI, 5060)))
    for ns in lab.directors:
        topology.resolve_servers(ns)
    calls = {f"mf-{i}": 20000 + 2 * i for i in range(CALLS)}
    addr_of = dict(zip(RS_NS, RS))
    sip_sent = 0

    def send_media(rnd):
        """RTP and RTCP of every call from its ports, tagged with round RND; returns how many
        datagrams, once the servers have them all."""
        n = media.total()
        for callid, port in calls.items():
            media.send(port, RTP_PORT, f"rtp {callid} {rnd}", RTP_PER_CALL)
            media.send(port + 1, RTCP_PORT, f"rtcp {callid} {rnd}")
        sent = CALLS * (RTP_PER_CALL + 1)
        wait_count(f"the servers receive the {sent} media datagrams of round {rnd}",
                   media.total, n + sent)
        return sent

    def media_servers(rnd):
        """{Call-ID: [server, ...]} where each media datagram of round RND arrived."""
        return {c: media.servers_of(f"rtp {c} {rnd}") + media.servers_of(f"rtcp {c} {rnd}")
                for c in calls}

    def followed(where, owner):
        """The calls all of whose media datagrams reached their signalling's server."""
        return [c for c, got in where.items()
                if len(got) == RTP_PER_CALL + 1 and all(g == owner[c] for g in got)]

    step(f"{CALLS} calls through the master, each INVITE offering audio from its own port")
    sip_sent += signalling.send(VIP, 5060, [invite(c, p) for c, p in calls.items()])
    wait_count(f"the servers receive the {CALLS} INVITEs", sip.count, CALLS)
    owner = {c: (sip.by_tag().get(c) or ["?"])[0] for c in calls}
    spread = sorted(sum(1 for c in calls if owner[c] == ns) for ns in RS_NS)
    expect_eq("the calls spread 3/3/3 over the servers", spread, [3, 3, 3])
    expect_eq("the master learnt each call's RTP and RTCP ports",
              lab.stats(DIR_NS)["media_learnt"], 2 * CALLS)

    step(f"media through the master: {RTP_PER_CALL} RTP and 1 RTCP datagrams a call")
    sent = send_media("master")
    s = lab.stats(DIR_NS)
    expect_eq("the master matched every media datagram to its call", s["media_matched"], sent)
    expect_eq("none unmatched", s["media_unmatched"], 0)
    good = followed(media_servers("master"), owner)
    expect_eq("every call's media reached the server of its signalling", len(good), CALLS)

    step("the sync daemon carries the templates, with their Call-IDs, to the backup")
    want = {c: addr_of.get(owner[c]) for c in calls}
    try:
        procs.wait_until(lambda: call_templates(DIR2_NS) == want, DEADLINE,
                         "the backup holds every call's template")
    except procs.Timeout as e:
        say(f"  {e}")
    synced = call_templates(DIR2_NS)
    for c in sorted(synced)[:3]:
        say(f"  backup: template sip {c} -> {synced[c]}")
    expect_eq("the backup holds a template with each call's Call-ID, to its server", synced,
              want)
    b0 = lab.stats(DIR2_NS)
    say(f"  backup before the takeover: fallback templates {fallback_servers(DIR2_NS)}, "
        f"media learnt {b0['media_learnt']}")
    expect_eq("the backup has examined nothing yet, so learnt no media (the sync daemon "
              "carries templates only)", (b0["examined"], b0["media_learnt"]), (0, 0))
    master_examined = lab.stats(DIR_NS)["examined"]
    expect_eq("the master examined every datagram the client sent", master_examined,
              sip_sent + media.sent)

    step("failover: the master's LAN ports go down, the backup takes the VIP")
    mac = vip_mac()
    topology.take_over()
    try:
        procs.wait_until(lambda: vip_mac() not in (None, mac), DEADLINE,
                         "the client's neighbour entry for the VIP moves to the backup")
    except procs.Timeout as e:
        say(f"  {e}")
    say(f"  the VIP's MAC address at the client: {mac} before, {vip_mac()} after")
    sent_before = sip_sent + media.sent

    step("media of the calls in progress through the backup, before any re-INVITE")
    b0 = lab.stats(DIR2_NS)
    sent = send_media("backup")
    d = delta(DIR2_NS, b0)
    expect_eq("the backup matched none of it", d["media_matched"], 0)
    expect_eq("every media datagram was unmatched on the backup", d["media_unmatched"], sent)
    where = media_servers("backup")
    on = sorted({g for got in where.values() for g in got})
    fb = fallback_servers(DIR2_NS)
    missed = [c for c, got in where.items() if any(g != owner[c] for g in got)]
    for c in calls:
        say(f"  {c}: signalling {owner[c]}, media " + " ".join(where[c]))
    say(f"  all media on {on}; the backup's fallback templates point at {fb}")
    expect("all of it reached one server, the one the backup's fallback template names",
           len(on) == 1 and [addr_of[on[0]]] == fb, f"media on {on}, fallback {fb}")
    expect_eq("so every call held on another server lost its media there", sorted(missed),
              sorted(c for c in calls if [owner[c]] != on))
    expect("that is most calls (6 of 9 with 3/3/3)", len(missed) >= CALLS // 2, len(missed))

    step("a re-INVITE of each call (CSeq 2, the same SDP) through the backup")
    n = sip.count()
    sip_sent += signalling.send(VIP, 5060, [invite(c, p, cseq=2) for c, p in calls.items()])
    wait_count(f"the servers receive the {CALLS} re-INVITEs", sip.count, n + CALLS)
    again = {c: sip.by_tag().get(c, [])[1:] for c in calls}
    expect_eq("each re-INVITE reached its call's server (the synced template)",
              sum(1 for c in calls if again[c] == [owner[c]]), CALLS)
    expect_eq("the backup learnt each call's RTP and RTCP ports",
              delta(DIR2_NS, b0)["media_learnt"], 2 * CALLS)

    step("media of the calls through the backup, after the re-INVITEs")
    b1 = lab.stats(DIR2_NS)
    sent = send_media("refreshed")
    d = delta(DIR2_NS, b1)
    expect_eq("the backup matched every media datagram to its call", d["media_matched"], sent)
    expect_eq("none unmatched", d["media_unmatched"], 0)
    where = media_servers("refreshed")
    for c in calls:
        say(f"  {c}: signalling {owner[c]}, media " + " ".join(where[c]))
    expect_eq("every call's media reached its original server again",
              len(followed(where, owner)), CALLS)
    expect_eq("the backup still holds the same template of each call", call_templates(DIR2_NS),
              want)
    s = lab.stats(DIR2_NS)
    expect_eq("the backup examined every datagram sent after the takeover",
              s["examined"], sip_sent + media.sent - sent_before)
    expect_eq("the master none of them", lab.stats(DIR_NS)["examined"], master_examined)
    say("  backup's counters: " + ", ".join(f"{k} {v}" for k, v in s.items() if v))
sys.exit(checks.finish())
