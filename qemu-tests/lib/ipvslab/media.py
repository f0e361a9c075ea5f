"""Media on a firewall-mark service (docs/engine.md, "Media follows its call"): SIP (5060) and
an RTP range under one mark set by nftables in the director(s), hand-made INVITEs whose SDP
names the client's media ports, and RTP datagrams whose payload tells which call sent them.

The servers all receive media on VIP:RTP_PORT (RTP) and VIP:RTCP_PORT (RTCP), so a media
datagram's call is told by its payload (a tag after the RTP header), and its server by the
socket that received it (Media.servers_of)."""
import contextlib
import struct

from . import procs, udp
from .topology import CLI, CLI_NS, RS, RS_NS, VIP

MARK = 1
RTP_PORT, RTCP_PORT = 10000, 10001

NFT = f"""table inet media {{
    chain pre {{
        type filter hook prerouting priority mangle; policy accept;
        ip daddr {VIP} udp dport {{ 5060, 10000-10999 }} meta mark set {MARK}
    }}
}}
"""


def mark(ns):
    """Loads NFT (SIP and 10000-10999 to the VIP get mark MARK) in namespace NS; returns nft's
    exit status."""
    return procs.run(ns, ["nft", "-f", "-"], input=NFT.encode()).returncode


def service_rules(fwd, persistence=60, port=None):
    """`ipvsadm-rs -R` lines of the mark's service `-s rr -p PERSISTENCE -M 0.0.0.0 -o --pe
    sip` to the three real servers with FWD, on PORT (None: port 0, where each datagram keeps
    its port)."""
    at = "" if port is None else f":{port}"
    return "\n".join([f"-A -f {MARK} -s rr -p {persistence} -M 0.0.0.0 -o --pe sip"] +
                     [f"-a -f {MARK} -r {ip}{at} {fwd}" for ip in RS])


def sdp(port, addr=CLI, rtcp_mux=False, count=1):
    """An SDP offering audio from ADDR:PORT (RTCP on PORT + 1, or on PORT itself with RTCP_MUX;
    with COUNT, that many streams on every other port)."""
    ports = f"{port}/{count}" if count > 1 else f"{port}"
    ip = "IP6" if ":" in addr else "IP4"
    return (f"v=0\r\no=- 1 1 IN {ip} {addr}\r\ns=-\r\nc=IN {ip} {addr}\r\nt=0 0\r\n"
            f"m=audio {ports} RTP/AVP 0\r\n" + ("a=rtcp-mux\r\n" if rtcp_mux else "")).encode()


def request_with(method, callid, body, cseq=1, headers=""):
    """A request METHOD of call CALLID from the client's port 5060 with the SDP BODY and
    HEADERS (lines, each ending in CRLF) besides the engine's own."""
    return (f"{method} sip:svc@{VIP} SIP/2.0\r\nVia: SIP/2.0/UDP {CLI}:5060\r\n"
            f"Call-ID: {callid}\r\nCSeq: {cseq} {method}\r\n{headers}"
            f"Content-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def response_with(status, callid, method, body, cseq=7):
    """The client's response STATUS ("200 OK") to a request METHOD of call CALLID that its
    server sent (with DR or TUN, not through the director), with the SDP BODY."""
    return (f"SIP/2.0 {status}\r\nVia: SIP/2.0/UDP {VIP}:5060;branch=z9hG4bK-{callid}\r\n"
            f"From: <sip:svc@{VIP}>;tag=s\r\nTo: <sip:client@{CLI}>;tag=c\r\n"
            f"Call-ID: {callid}\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: <sip:client@{CLI}:5060>\r\nContent-Type: application/sdp\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def invite_with(callid, body, cseq=1):
    """An INVITE of call CALLID from the client's port 5060 with the SDP BODY (CSEQ > 1: a
    re-INVITE of the call)."""
    return request_with("INVITE", callid, body, cseq)


def invite(callid, port, addr=CLI, rtcp_mux=False, count=1, cseq=1):
    """An INVITE of call CALLID whose SDP offers audio from ADDR:PORT (see sdp)."""
    return invite_with(callid, sdp(port, addr, rtcp_mux, count), cseq)


def bye(callid):
    return (f"BYE sip:svc@{VIP} SIP/2.0\r\nVia: SIP/2.0/UDP {CLI}:5060\r\n"
            f"Call-ID: {callid}\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n").encode()


def rtp(tag, seq=0):
    """An RTP datagram (version 2, PCMU) whose payload is TAG."""
    return struct.pack("!BBHII", 0x80, 0, seq, seq * 160, 0x5eed) + tag.encode()


def media_tag(data):
    """The tag of an RTP datagram (rtp), "-" if it has no payload."""
    return data[12:].decode("latin-1") if len(data) > 12 else "-"


class Media:
    """The client's media sockets (one per port, bound on demand, closed by STACK) and the
    servers' sinks on RTP_PORT and RTCP_PORT (ANSWER: as udp.Sinks takes it). `sent` counts
    the datagrams sent."""

    def __init__(self, stack, answer=None):
        self.senders = {}
        self.stack = stack
        self.sent = 0
        self.sinks = stack.enter_context(udp.Sinks(RS_NS, port=RTP_PORT, classify=media_tag,
                                                   answer=answer))
        self.rtcp = stack.enter_context(udp.Sinks(RS_NS, port=RTCP_PORT, classify=media_tag,
                                                  answer=answer))

    def sender(self, port):
        if port not in self.senders:
            self.senders[port] = self.stack.enter_context(
                contextlib.closing(udp.Sender(CLI_NS, CLI, port)))
        return self.senders[port]

    def send(self, port, dport, tag, n=1):
        """N RTP datagrams tagged TAG from the client's PORT to VIP:DPORT."""
        self.sent += self.sender(port).send(VIP, dport, [rtp(tag, i) for i in range(n)])

    def total(self):
        return self.sinks.count() + self.rtcp.count()

    def servers_of(self, tag):
        """The servers each datagram tagged TAG reached, in arrival order."""
        return self.sinks.by_tag().get(tag, []) + self.rtcp.by_tag().get(tag, [])
