"""Datagrams in and out of the lab's namespaces without a process per namespace: a socket
belongs to the namespace it was made in, so each is made there (setns on this thread) and
used from the root namespace. The engine tests send tagged SIP messages through the VIP with
a Sender and see which real server each reached with Sinks."""
import select
import socket
import threading
import time

from . import netns
from .procs import wait_until


def sock(ns, family=socket.AF_INET, kind=socket.SOCK_DGRAM):
    """A socket of namespace NS."""
    with netns.In(ns):
        return socket.socket(family, kind)


def family_of(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


def sip(tag=None, callid=None, method="OPTIONS"):
    """A SIP request with "Call-ID: CALLID" (bytes or str), or without any Call-ID header
    but with "X-Tag: TAG", for a sink to tell who sent it."""
    enc = (lambda v: v if isinstance(v, bytes) else v.encode("latin-1"))
    head = b"Call-ID: " + enc(callid) if callid is not None else b"X-Tag: " + enc(tag)
    return (method.encode() + b" sip:svc@example.test SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP client.test:5060\r\n" + head + b"\r\n"
            b"CSeq: 1 " + method.encode() + b"\r\nContent-Length: 0\r\n\r\n")


def tag_of(data):
    """What a sink records of a datagram: its Call-ID, else its X-Tag, else its first line
    ("-" if empty)."""
    lines = data.split(b"\n")
    for name in (b"call-id:", b"x-tag:"):
        for line in lines[1:]:
            if line.lower().startswith(name):
                return line[len(name):].strip().decode("latin-1") or "-"
    return lines[0].strip().decode("latin-1") or "-"


class Sender:
    """UDP from SRC_IP:SPORT in namespace NS (a SIP phone's fixed source port)."""

    def __init__(self, ns, src_ip, sport=5060):
        self.s = sock(ns, family_of(src_ip))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.s.bind((src_ip, sport))

    def send(self, dst, dport, payloads, settle=None):
        """Sends each payload in turn. SETTLE, if given, is called with the number sent so
        far every 32 datagrams and must return once the receivers have caught up (so that
        however slow the host, no queue overflows); nothing here waits for a time."""
        for i, p in enumerate(payloads, 1):
            self.s.sendto(p, (dst, dport))
            if settle and i % 32 == 0:
                settle(i)
        return len(payloads) if hasattr(payloads, "__len__") else None

    def receive(self, n, deadline):
        """The next N datagrams sent back to this socket: [(data, (address, port))], fewer if
        DEADLINE seconds pass first (sized from the work: only a failure reaches it)."""
        out, end = [], time.monotonic() + deadline
        try:
            while len(out) < n and time.monotonic() < end:
                self.s.settimeout(max(end - time.monotonic(), 0.001))
                out.append(self.s.recvfrom(65535))
        except socket.timeout:
            pass
        finally:
            self.s.settimeout(None)
        return out

    def close(self):
        self.s.close()


class Sinks:
    """UDP (and, with tcp=True, TCP) listeners on IP:PORT in each of NAMESPACES, read by one
    thread: `got` holds (namespace, tag, source address) per datagram in arrival order, and
    `conns` counts accepted TCP connections per namespace. Every socket is bound when the
    constructor returns. CLASSIFY(data) gives what `got` records as a datagram's tag (tag_of
    by default); with ANSWER, each datagram is answered with ANSWER(data), from the socket that
    received it, as a server would."""

    def __init__(self, namespaces, ip="0.0.0.0", port=5060, tcp=False, classify=None,
                 answer=None):
        self.classify, self.answer = classify or tag_of, answer
        self.got, self.conns = [], {ns: 0 for ns in namespaces}
        self.lock = threading.Lock()
        self.socks = {}
        for ns in namespaces:
            u = sock(ns, family_of(ip))
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            u.bind((ip, port))
            self.socks[u.fileno()] = (u, ns, "udp")
            if tcp:
                t = sock(ns, family_of(ip), socket.SOCK_STREAM)
                t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                t.bind((ip, port))
                t.listen(16)
                self.socks[t.fileno()] = (t, ns, "tcp")
        self.stop_r, self.stop_w = socket.socketpair()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        fds = list(self.socks) + [self.stop_r.fileno()]
        while True:
            ready, _, _ = select.select(fds, [], [])
            for fd in ready:
                if fd == self.stop_r.fileno():
                    return
                s, ns, kind = self.socks[fd]
                if kind == "udp":
                    data, src = s.recvfrom(65535)
                    with self.lock:
                        self.got.append((ns, self.classify(data), src[0]))
                    if self.answer:
                        s.sendto(self.answer(data), src)
                else:
                    c, _ = s.accept()
                    c.close()
                    with self.lock:
                        self.conns[ns] += 1

    def count(self, ns=None):
        with self.lock:
            return sum(1 for g in self.got if ns is None or g[0] == ns)

    def wait(self, n, deadline, what):
        """Waits until N datagrams have arrived in all (DEADLINE: sized from the work, only a
        failure reaches it)."""
        wait_until(lambda: self.count() >= n, deadline, what)

    def by_tag(self):
        """tag -> [namespace, ...] in arrival order."""
        out = {}
        with self.lock:
            for ns, tag, _ in self.got:
                out.setdefault(tag, []).append(ns)
        return out

    def close(self):
        self.stop_w.send(b"x")
        self.thread.join()
        for s, _, _ in self.socks.values():
            s.close()
        self.stop_r.close()
        self.stop_w.close()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


def settle_on(sinks, first=0, slack=64):
    """A Sender.send SETTLE that waits until SINKS hold all but SLACK of what was sent (on top
    of FIRST datagrams already there): the next burst never finds a queue full of the last."""
    def settle(sent):
        wait_until(lambda: sinks.count() >= first + sent - slack, 120 + sent // 10,
                   f"the sinks receive datagram {sent - slack}")
    return settle
