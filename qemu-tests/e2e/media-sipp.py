#!/usr/bin/python3 -S
"""Media follows its call, with real calls: sipp as the client sends INVITEs whose SDP offers
a media port of the call's own and then streams RTP from that port; the director puts SIP
(5060) and RTP (10000-10999) under one firewall mark (nftables) on a service `-f 1 -p 60 -M
0.0.0.0 -o --pe sip` with direct routing (-g) to three real servers that hold the VIP on lo
(engine/media.py and e2e/media-failover.py tunnel; this one covers DR), where
sipp's UAS answers with an SDP naming the VIP and port 10000 (-mi VIP -mp 10000: in TUN and DR
the director never sees the answers, so the servers must advertise the VIP and a port inside
the mark's range). The engine learns each call's media port from its INVITE, so each call's
RTP must reach the server that holds its signalling.

sipp 3.6.1 gives each call a port of its own only through play_pcap_audio with
[auto_media_port] (-mp plus 4 per call number, sent by a raw socket from that port):
rtp_stream sends every call's RTP from the one socket of -mp ([rtpstream_audio_port] is -mp).
The test writes the pcap it replays, reads each call's port from the INVITE sipp logged
(-trace_msg), and counts the RTP per source port where it left (the client) and where it
arrived (each server), with an nftables set of counters in each namespace. Without learning
(media_max_per_client=0), the same kind of calls' media piles up on one server (the service's
one fallback template), so the test fails either way if the engine does not do what it
says."""
import json
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, media, modules, procs, sipp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS_NS, VIP, resolve_servers  # noqa: E402

CALLS = 9     # learnt calls, 3 per server by round robin
BASELINE = 6  # calls without learning
PACKETS = 10  # RTP datagrams a call streams: 200 ms of PCMU
RTP_PORT = media.RTP_PORT
PORTS = {"media": 20000, "base": 22000}  # each UAC's -mp: its calls' ports start there
XML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "media-sipp-uac.xml")
# A wait is for a few calls and their RTP, which take seconds on a quiet host: only a failure
# reaches this.
DEADLINE = 300


def param(name, value):
    modules.set_param(name, value)


def write_pcap(path, n):
    """N RTP datagrams (PCMU, 20 ms apart) on Ethernet, as play_pcap_audio replays them: it
    keeps only the UDP payload and sets the ports and addresses of the call."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)]
    for i in range(n):
        rtp = struct.pack("!BBHII", 0x80, 0, i, i * 160, 0x5eed) + b"\xff" * 160
        udp = struct.pack("!HHHH", 6000, RTP_PORT, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0,
                         bytes(4), bytes(4)) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        us = i * 20000
        out.append(struct.pack("<IIII", us // 1000000, us % 1000000, len(frame), len(frame)))
        out.append(frame)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def counting_set(hook):
    """An nftables set that counts the RTP to VIP:RTP_PORT per source address and port, on
    HOOK (input on a server, output on the client)."""
    return f"""table ip rtp {{
    set seen {{ type ipv4_addr . inet_service; flags dynamic; counter; }}
    chain c {{
        type filter hook {hook} priority filter; policy accept;
        ip daddr {VIP} udp dport {RTP_PORT} update @seen {{ ip saddr . udp sport }}
    }}
}}
"""


def seen(ns):
    """(source address, port) -> RTP datagrams counted in NS's set."""
    p = procs.run(ns, ["nft", "-j", "list", "set", "ip", "rtp", "seen"], capture_output=True)
    out = {}
    for item in json.loads(p.stdout or b"{}").get("nftables", []):
        for e in item.get("set", {}).get("elem", []):
            addr, port = e["elem"]["val"]["concat"]
            out[(addr, port)] = e["elem"]["counter"]["packets"]
    return out


def arrived():
    """Server namespace -> its seen()."""
    return {ns: seen(ns) for ns in RS_NS}


def wait(what, cond):
    try:
        procs.wait_until(cond, DEADLINE, what, poll=1)
    except procs.Timeout as e:
        say(f"  {e}")


def run_calls(lab, tag, calls):
    """CALLS calls of UAC TAG, held once their RTP has reached the servers: (Call-ID -> media
    port, Call-ID -> signalling server, Call-ID -> {server: RTP received}, RTP the client sent
    per call, the UAC's report once released)."""
    s0 = lab.stats()
    uac = lab.uac(tag, calls, 10, limit=calls, extra=["-sf", XML, "-mp", str(PORTS[tag])])
    # Every datagram of RTP passes the engine, matched or not.
    want = calls * PACKETS
    wait(f"the engine sees {want} RTP datagrams", lambda: sum(
        lab.stats()[k] - s0[k] for k in ("media_matched", "media_unmatched")) >= want)
    wait(f"the servers receive {want} RTP datagrams", lambda: sum(
        n for got in arrived().values() for (a, p), n in got.items()
        if PORTS[tag] <= p < PORTS[tag] + 4 * calls) >= want)
    ports = sipp.audio_ports(f"{lab.sipp.logs}/{tag}.msg")
    owner = {c: sorted(s) for c, s in lab.sipp.server_of_calls().items() if c in ports}
    got = arrived()
    reached = {c: {ns: got[ns].get((CLI, p), 0) for ns in RS_NS if got[ns].get((CLI, p))}
               for c, p in ports.items()}
    sent = seen(CLI_NS)
    sent = {c: sent.get((CLI, p), 0) for c, p in ports.items()}
    sipp.release_held(sorted(ports))
    r = uac.wait(lab.diag_namespaces())
    for c in sorted(ports, key=lambda c: ports[c]):
        say(f"  {c}: port {ports[c]}, signalling rs{'/rs'.join(map(str, owner.get(c, [])))}, "
            f"RTP sent {sent[c]}, received " +
            (", ".join(f"{ns} {n}" for ns, n in reached[c].items()) or "nowhere"))
    return ports, owner, reached, sent, r


def expect_calls(r, calls, what):
    expect_eq(f"{what}: sipp: every call succeeded", (r["ok"], r["failed"]), (calls, 0))
    expect_eq(f"{what}: each call's INVITE, ACK and BYE reached its one server",
              (r["whole"], r["split"]), (calls, 0))


step("topology with the VIP on each real server's lo, nftables marking SIP and "
     "10000-10999 with mark 1, service -f 1 -g with --pe sip; sipp UAS on the VIP answering "
     f"with media on {VIP}:{RTP_PORT}")
with Lab(topo="dr") as lab:
    loaded = [media.mark(DIR_NS)] + \
        [procs.run(ns, ["nft", "-f", "-"], input=counting_set(hook).encode()).returncode
         for ns, hook in [(CLI_NS, "output")] + [(ns, "input") for ns in RS_NS]]
    if not expect_eq("nft loads the marking rules and the RTP counters", loaded, [0] * 5):
        sys.exit(checks.finish())
    ipvs.rules([DIR_NS], media.service_rules("-g"))
    lab.sipp.servers(["vip"], extra=["-mi", VIP, "-mp", str(RTP_PORT)])
    resolve_servers()
    write_pcap(f"{lab.sipp.logs}/media.pcap", PACKETS)

    step(f"{CALLS} calls from {CLI}:5060, each streaming {PACKETS} RTP datagrams from the port "
         "its SDP offers")
    s0 = lab.stats()
    ports, owner, reached, sent, r = run_calls(lab, "media", CALLS)
    expect_eq(f"sipp offered {CALLS} ports, one per call", len(set(ports.values())), CALLS)
    expect_eq("the client sent each call's RTP from its port",
              sorted(set(sent.values())), [PACKETS])
    expect_eq("each call's signalling reached one server",
              sum(1 for c in ports if len(owner.get(c, [])) == 1), CALLS)
    followed = sum(1 for c in ports if len(owner.get(c, [])) == 1 and
                   reached[c] == {RS_NS[owner[c][0] - 1]: PACKETS})
    spread = sorted(sum(1 for c in ports if owner.get(c) == [i]) for i in (1, 2, 3))
    say(f"  calls per server: {spread}")
    expect_eq("every call's RTP reached the server of its signalling, all of it", followed,
              CALLS)
    expect_eq("the calls are spread over the three servers", spread, [3, 3, 3])
    expect_calls(r, CALLS, "learnt calls")
    s = lab.stats()
    d = {k: s[k] - s0[k] for k in s}
    expect_eq("the engine learnt 2 endpoints per INVITE (RTP, RTCP)", d["media_learnt"],
              2 * CALLS)
    expect_eq("it matched each RTP datagram to its call, none unmatched",
              (d["media_matched"], d["media_unmatched"]), (CALLS * PACKETS, 0))
    expect_eq("nothing refused or foreign", (d["media_refused"], d["media_foreign"]), (0, 0))
    wait("the BYEs end the calls' entries", lambda: lab.stats()["media_ended"] >= 2 * CALLS)
    expect_eq("each BYE ended its call's 2 entries", lab.stats()["media_ended"], 2 * CALLS)

    step(f"baseline: {BASELINE} more calls without learning (media_max_per_client=0)")
    param("media_max_per_client", 0)
    s0 = lab.stats()
    ports, owner, reached, sent, r = run_calls(lab, "base", BASELINE)
    expect_calls(r, BASELINE, "baseline")
    on = sorted({ns for m in reached.values() for ns in m})
    wrong = sum(1 for c in ports if set(reached[c]) != {RS_NS[owner[c][0] - 1]})
    say(f"  without learning: all media on {on}, {wrong} of {BASELINE} calls' media on "
        "another server than their signalling")
    expect_eq("without learning, every call's media piles on one server", len(on), 1)
    expect("and most calls' media misses their server", wrong >= BASELINE // 2, wrong)
    s = lab.stats()
    d = {k: s[k] - s0[k] for k in s}
    expect_eq("the engine refused each endpoint and learnt none",
              (d["media_refused"], d["media_learnt"]), (2 * BASELINE, 0))
    expect_eq("none of their RTP was matched", (d["media_matched"], d["media_unmatched"]),
              (0, BASELINE * PACKETS))

    step("the engine's counters account for every datagram the client sent")
    rtp = sum(seen(CLI_NS).values())
    sip_sent = sum(1 for tag in PORTS for dr, *_ in sipp.messages(f"{lab.sipp.logs}/{tag}.msg")
                   if dr == "out")
    s = lab.stats()
    say(f"  client: {sip_sent} SIP datagrams, {rtp} RTP; counters: " +
        ", ".join(f"{k} {v}" for k, v in s.items() if v))
    expect_eq("examined: every SIP and RTP datagram", s["examined"], sip_sent + rtp)
    expect_eq("found: a Call-ID in each SIP datagram", s["found"], sip_sent)
    expect_eq("fwmark_no_callid: each RTP datagram", s["fwmark_no_callid"], rtp)
    expect_eq("matched and unmatched: each RTP datagram",
              s["media_matched"] + s["media_unmatched"], rtp)
sys.exit(checks.finish())
