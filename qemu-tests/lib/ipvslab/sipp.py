"""Real SIP traffic with sipp: UAS on the real servers, UAC on the client (or on the servers),
and what their message logs say.

sipp runs without retransmissions (-nr): under emulation a busy guest can take longer than
SIP's 500 ms timer to answer, and sipp's built-in UAS aborts a call on a retransmitted INVITE
(which the engine, rightly, sends to the same server). veth loses nothing, and every socket
buffer is large enough (BUFF) for a stalled sipp.

Nothing here is paced by the clock: a UAC's work in flight is bounded by its concurrent-call
limit (-l), its deadlines are sized from its number of calls, and a receive timeout only
ends calls whose answer never comes (the scenarios that cut calls on purpose)."""
import os
import re
import signal
import socket
import subprocess
import time

from . import checks, netns, procs
from .topology import CLI, CLI_NS, RS, RS6, SERVERS, VIP, rs_ns

# sipp's socket buffers (its default is 64 KiB), and net.core.rmem_max/wmem_max while a Lab
# runs: a busy guest can stall a sipp process for seconds, and without retransmissions a
# datagram dropped on a full buffer is a call that never ends.
BUFF = 4194304
# sipp ends its run after ten 3-second stalls of its main loop (or 120 of 0.5 s), which a
# busy or slow guest reaches: report long stalls only, and never give up.
WATCHDOG = ["-watchdog_minor_threshold", "5000", "-watchdog_major_threshold", "60000",
            "-watchdog_minor_maxtriggers", "1000000", "-watchdog_major_maxtriggers", "1000000"]
# How long a call waits for an answer before sipp gives it up. No answer is lost on the way
# (veth, large buffers), so this only ends calls whose answer never comes; it is far beyond
# any answer's delay on a slow host.
RECV_TIMEOUT_MS = 120000
# A UAC's deadline: this much per call (a call is a few messages; sipp runs up to LIMIT at
# once) plus a fixed margin. Only a run that hangs reaches it.
PER_CALL_S, MARGIN_S = 5, 300
# Concurrent calls of one UAC: bounds the work in flight whatever the host's speed (the call
# rate -r is only an upper bound).
LIMIT = 20


def env():
    """sipp's environment: the shim qemu-tests/lib/sipp_idle.c preloaded (scripts/build-tools
    builds it on the host and scripts/vm names it in IPVSLAB_SHIM), unless IPVSLAB_NO_SHIM
    is set."""
    e = dict(os.environ)
    if os.environ.get("IPVSLAB_NO_SHIM"):
        return e
    shim = os.environ.get("IPVSLAB_SHIM", "")
    if not os.path.exists(shim):
        checks.say(f"  (no sipp shim at '{shim}': sipp runs without it)")
        return e
    e["LD_PRELOAD"] = shim
    return e


def bound(tables, port=5060):
    """The fields of each UDP socket bound to PORT in TABLES, the text of /proc/net/udp
    and udp6."""
    want = f":{port:04X}"
    for line in tables.split("\n"):
        f = line.split()
        if len(f) > 4 and f[1].endswith(want):
            yield f


def listening(ns, port=5060):
    """UDP sockets bound to PORT in NS."""
    return sum(1 for _ in bound(netns.read(ns, "udp") + netns.read(ns, "udp6"), port))


def rx_queue(ns, port=5060):
    """The largest receive queue (bytes) of the UDP sockets bound to PORT in NS."""
    return largest_rx_queue(netns.read(ns, "udp") + netns.read(ns, "udp6"), port)


def largest_rx_queue(tables, port=5060):
    """The largest receive queue (bytes) of the UDP sockets bound to PORT in TABLES."""
    return max((int(f[4].split(":")[1], 16) for f in bound(tables, port)), default=0)


def wait_listening(namespaces, port=5060, count=1, timeout=300):
    for ns in namespaces:
        procs.wait_until(lambda: listening(ns, port) >= count, timeout,
                         f"{count} sockets on port {port} in {ns}")


HDR_RE = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)


def _blocks(path):
    """(direction, message) of each message in a sipp -trace_msg log."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return
    for block in data.split(b"----------------------------------------------- ")[1:]:
        head, _, msg = block.partition(b"\n\n")
        lines = head.split(b"\n")
        yield "in" if len(lines) > 1 and b"received" in lines[1] else "out", msg.lstrip(b"\r\n")


def messages(path):
    """(direction, first line, Call-ID, size) of each message in a sipp -trace_msg log."""
    out = []
    for direction, msg in _blocks(path):
        m = HDR_RE.search(msg)
        out.append((direction, msg.split(b"\r\n", 1)[0].split(b"\n", 1)[0],
                    m.group(1).decode("latin-1") if m else None, len(msg)))
    return out


AUDIO_RE = re.compile(rb"^m=audio[ \t]+(\d+)", re.M)


def audio_ports(path):
    """Call-ID -> the audio port that the SDP of each INVITE sent offers (the port the call's
    RTP comes from), in a sipp -trace_msg log."""
    out = {}
    for direction, msg in _blocks(path):
        m, a = HDR_RE.search(msg), AUDIO_RE.search(msg)
        if direction == "out" and msg.startswith(b"INVITE ") and m and a:
            out[m.group(1).decode("latin-1")] = int(a.group(1))
    return out


def requests_sent(path, method):
    """Requests METHOD that the sipp whose -trace_msg log is PATH has sent."""
    return sum(1 for d, first, *_ in messages(path)
               if d == "out" and first.startswith(method.encode() + b" "))


def release_held(callids):
    """An INFO to each call held by a UAC on the client (the scenarios' *-uac.xml wait for
    one before their BYE), sent from inside the client's namespace."""
    with netns.In(CLI_NS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for n, cid in enumerate(callids):
            s.sendto((f"INFO sip:sipp@{CLI}:5060 SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {CLI}:5099;branch=z9hG4bK-release-{n}\r\n"
                      f"From: <sip:service@{VIP}:5060>;tag=release\r\n"
                      f"To: sipp <sip:sipp@{CLI}:5060>\r\n"
                      f"Call-ID: {cid}\r\nCSeq: 3 INFO\r\nMax-Forwards: 70\r\n"
                      "Content-Length: 0\r\n\r\n").encode(), (CLI, 5060))
    finally:
        s.close()


class Sipp:
    """The sipp processes of one Lab, with their logs in LOGS."""

    def __init__(self, logs):
        self.logs = logs
        os.makedirs(logs, exist_ok=True)

    def _args(self, base):
        return ["-nr", "-nostdin", "-buff_size", str(BUFF), "-trace_msg", "-message_file",
                base + ".msg", "-trace_err", "-error_file", base + ".err"] + WATCHDOG

    def uas(self, ns, ip, name, sf=None, extra=()):
        """sipp's UAS in NS bound to IP:5060, logging every message to NAME.msg; EXTRA: more
        options."""
        args = ["sipp", "-sn", "uas"] if not sf else ["sipp", "-sf", sf]
        base = f"{self.logs}/{name}"
        args += ["-i", ip, "-p", "5060"] + self._args(base) + list(extra)
        return procs.spawn(ns, args, log=base + ".out", cwd=self.logs, env=env())

    def servers(self, kinds, sf=None, extra=()):
        """A UAS on each real server per KIND: bound to its IPv4 ("v4") or IPv6 ("v6")
        address, or to the VIP ("vip", for tunnelling); waits until they all listen."""
        for kind in kinds:
            for i in SERVERS:
                ip = {"v4": RS[i - 1], "v6": RS6[i - 1], "vip": VIP}[kind]
                self.uas(rs_ns(i), ip, f"rs{i}.{kind}", sf, extra)
        wait_listening([rs_ns(i) for i in SERVERS], count=len(kinds))

    def uac(self, tag, ns, local, remote, calls, rate, extra=(), limit=LIMIT, background=False):
        """A sipp UAC in NS from LOCAL:5060 to REMOTE, its Call-IDs starting with TAG. In the
        background it has no deadline of its own: the scenario stops it (Uac.stop)."""
        args = ["sipp"] + ([] if "-sf" in extra else ["-sn", "uac"]) + \
            [remote, "-i", local, "-p", "5060", "-m", str(calls), "-r", str(rate),
             "-l", str(limit), "-cid_str", f"{tag}-%u-%p@%s",
             "-trace_stat", "-stf", f"{self.logs}/{tag}.csv"] + self._args(f"{self.logs}/{tag}")
        if "-recv_timeout" not in extra:
            args += ["-recv_timeout", str(RECV_TIMEOUT_MS)]
        deadline = None if background else MARGIN_S + PER_CALL_S * calls
        if deadline:
            args += ["-timeout", str(deadline), "-timeout_error"]
        args += list(extra)
        p = procs.spawn(ns, args, log=f"{self.logs}/{tag}.out", cwd=self.logs, env=env())
        return Uac(self, tag, p, calls, deadline)

    def totals(self, tag):
        """Cumulative totals from the last line of sipp's statistics file."""
        try:
            with open(f"{self.logs}/{tag}.csv") as f:
                rows = [r for r in f.read().split("\n") if r]
        except OSError:
            return {}
        head, last = rows[0].split(";"), rows[-1].split(";")
        return {h[:-3]: v for h, v in zip(head, last) if h.endswith("(C)")}

    def server_logs(self, i):
        return [f"{self.logs}/{f}" for f in sorted(os.listdir(self.logs))
                if f.startswith(f"rs{i}.") and f.endswith(".msg")]

    def server_messages(self, i):
        """The messages of every sipp log of real server I."""
        out = []
        for f in self.server_logs(i):
            out += messages(f)
        return out

    def server_log_size(self, i):
        return sum(os.path.getsize(f) for f in self.server_logs(i))

    def calls_at(self, i, tag=None):
        """Call-ID -> set of methods real server I received, for TAG's calls (or all)."""
        calls = {}
        for d, first, cid, _ in self.server_messages(i):
            if d == "in" and cid and (tag is None or cid.startswith(tag + "-")):
                calls.setdefault(cid, set()).add(first.split(b" ")[0].decode("latin-1"))
        return calls

    def in_progress_at(self, i, tag):
        """TAG's calls real server I took (INVITE received) and has not seen end (no BYE)."""
        return sum(1 for m in self.calls_at(i, tag).values() if "INVITE" in m and "BYE" not in m)

    def server_of_calls(self):
        """Call-ID -> the real servers (numbers) whose logs received it."""
        seen = {}
        for i in SERVERS:
            for d, _, cid, _ in self.server_messages(i):
                if cid:
                    seen.setdefault(cid, set()).add(i)
        return seen

    def report(self, tag, rc=None):
        """Where TAG's calls went, from the servers' own logs: a dict of figures (calls,
        split, whole, maxpct, servers_used, ok, failed, sent, min_invite, rs{i}, msgs{i})."""
        calls = {}  # callid -> {server: set of methods received}
        msgs = {}
        invite_sizes = []
        for i in SERVERS:
            n = 0
            for direction, first, cid, size in self.server_messages(i):
                if direction != "in" or not cid or not cid.startswith(tag + "-"):
                    continue
                n += 1
                if first.startswith(b"INVITE"):
                    invite_sizes.append(size)
                method = "response" if first.startswith(b"SIP/") else \
                    first.split(b" ")[0].decode("latin-1")
                calls.setdefault(cid, {}).setdefault(i, set()).add(method)
            msgs[i] = n
        per = {i: sum(1 for c in calls.values() if "INVITE" in c.get(i, ())) for i in SERVERS}
        # A call is whole when one server received its INVITE, ACK and BYE and no other
        # server received anything of it.
        whole = sum(1 for c in calls.values()
                    if len(c) == 1 and {"INVITE", "ACK", "BYE"} <= next(iter(c.values())))
        total = sum(per.values())
        t = self.totals(tag)
        r = {"calls": total, "split": sum(1 for c in calls.values() if len(c) > 1),
             "whole": whole, "maxpct": max(per.values()) * 100 // total if total else 0,
             "servers_used": sum(1 for v in per.values() if v),
             "ok": int(t.get("SuccessfulCall", -1)), "failed": int(t.get("FailedCall", -1)),
             "sent": sum(1 for d, *_ in messages(f"{self.logs}/{tag}.msg") if d == "out"),
             "min_invite": min(invite_sizes, default=0), "rc": rc}
        for i in SERVERS:
            r[f"rs{i}"] = per[i]
            r[f"msgs{i}"] = msgs[i]
        share = ", ".join(f"rs{i} {per[i]} ({per[i] * 100 // total if total else 0}%)"
                          for i in SERVERS)
        checks.say(f"  {tag}: {total} calls: {share}; split over servers: {r['split']}; "
                   f"whole on one server: {whole}; sipp: {r['ok']} successful, {r['failed']} "
                   f"failed; client datagrams sent: {r['sent']}")
        return r

    def diag(self, tag, namespaces):
        """Where TAG's incomplete calls lost messages, and the kernel's drop counters."""
        for ns in namespaces:
            if not netns.exists(ns):
                continue
            snmp = netns.read(ns, "snmp").split("\n")
            try:
                arp = netns.read(ns, "stat/arp_cache").split("\n")
            except OSError:
                arp = []
            mib = {}
            for proto in ("Ip", "Udp"):
                rows = [x.split() for x in snmp if x.startswith(proto + ": ")]
                mib.update({f"{proto}{k}": v for k, v in zip(rows[0][1:], rows[1][1:])})
            unres = sum(int(dict(zip(arp[0].split(), x.split()))["unresolved_discards"], 16)
                        for x in arp[1:] if x)
            keys = ("UdpInDatagrams", "UdpNoPorts", "UdpInErrors", "UdpRcvbufErrors",
                    "UdpOutDatagrams", "IpInReceives", "IpInDiscards", "IpInHdrErrors",
                    "IpInAddrErrors", "IpForwDatagrams", "IpOutDiscards", "IpOutNoRoutes")
            checks.say(f"  {ns}: " + " ".join(f"{k}={mib[k]}" for k in keys) +
                       f" arp_unresolved_discards={unres}")
        with open("/proc/net/softnet_stat") as f:
            drops = sum(int(x.split()[1], 16) for x in f.read().split("\n") if x)
        checks.say(f"  softnet drops: {drops}")
        uac = {}
        for d, first, cid, _ in messages(f"{self.logs}/{tag}.msg"):
            if cid:
                uac.setdefault(cid, []).append(f"{d}:{first.decode('latin-1')[:12]}")
        srv = {}
        for i in SERVERS:
            for d, first, cid, _ in self.server_messages(i):
                if cid and cid.startswith(tag + "-"):
                    srv.setdefault(cid, []).append(f"rs{i}{d}:{first.decode('latin-1')[:12]}")
        bad = [c for c, m in uac.items() if not any("in:SIP/2.0 200" in x for x in m[-1:])]
        checks.say(f"  calls whose last client message is not a 200: {len(bad)}")
        for c in bad[:4]:
            checks.say(f"    {c}: client {uac[c]}")
            checks.say(f"    {c}: servers {srv.get(c)}")
        for f in sorted(os.listdir(self.logs)):
            if f.endswith((".err", ".out")):
                with open(f"{self.logs}/{f}", errors="replace") as fh:
                    lines = [x for x in re.split(r"[\n\r]", fh.read()[-20000:]) if x.strip() and
                             "Overload warning" not in x and "events occurred" not in x]
                for x in lines[-4:]:
                    checks.say(f"  {f}: {x[:300]}")


class Uac:
    """A running sipp UAC."""

    def __init__(self, sipp, tag, proc, calls, deadline):
        self.sipp, self.tag, self.proc, self.calls = sipp, tag, proc, calls
        self.deadline = deadline
        self.t0 = time.monotonic()

    def started(self):
        """Calls sipp has begun (INVITEs in its message log)."""
        return sum(1 for d, first, *_ in messages(f"{self.sipp.logs}/{self.tag}.msg")
                   if d == "out" and first.startswith(b"INVITE"))

    def progress(self):
        """(begun, ended): the Call-IDs of the calls sipp has begun (INVITE sent) and of
        those it has ended (a 2xx received after its BYE), from its message log. Two of these
        taken around a stretch of time tell which calls ran wholly inside it."""
        begun, bye, ended = set(), set(), set()
        for d, first, cid, _ in messages(f"{self.sipp.logs}/{self.tag}.msg"):
            if d == "out" and first.startswith(b"INVITE"):
                begun.add(cid)
            elif d == "out" and first.startswith(b"BYE"):
                bye.add(cid)
            elif d == "in" and cid in bye and first.startswith(b"SIP/2.0 2"):
                ended.add(cid)
        return begun, ended

    def stop(self):
        """No new calls (SIGUSR1): sipp ends once the calls in progress have."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)

    def wait(self, namespaces=(), servers=True):
        """Waits for sipp to end (killing it at its deadline: calls, or for a background run
        one receive timeout after stop(), plus a margin), prints the report (from the real
        servers' logs unless not SERVERS) and, on failure, the diagnostics. Returns the
        report."""
        limit = self.deadline + 60 if self.deadline else \
            RECV_TIMEOUT_MS / 1000 + MARGIN_S + PER_CALL_S * LIMIT
        try:
            rc = self.proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            checks.say(f"  sipp client {self.tag} still runs {limit:.0f} s on: killed")
            self.proc.kill()
            rc = self.proc.wait()
        checks.say(f"  sipp client {self.tag}: exit {rc} after "
                   f"{time.monotonic() - self.t0:.0f} s")
        if servers:
            r = self.sipp.report(self.tag, rc)
        else:
            t = self.sipp.totals(self.tag)
            r = {"ok": int(t.get("SuccessfulCall", -1)), "failed": int(t.get("FailedCall", -1)),
                 "rc": rc}
        if rc != 0:
            self.sipp.diag(self.tag, namespaces)
        return r
