"""The active-active topology of docs/active-active.md: a router running BIRD spreads the
client's datagrams over three directors by ECMP; each director runs BIRD (announcing the VIP
while keepalived holds it on vip0) and keepalived (its IPVS service, sipmh over the SIP
engine, and the SIP health checks); three SIP servers reached by direct routing answer the
client themselves, through the router. Every program runs with the recipe's own files
(docs/active-active/).

  cli --c0/r0-- rtr --bridge br0 (ports pd1-3, ps1-3)-- dir1, dir2, dir3 (d0; VIP on vip0)
  10.0.1.2      10.0.1.1                                 10.0.5.11 .12 .13
                10.0.5.1                              -- rs1, rs2, rs3 (e0; VIP on lo)
                                                         10.0.5.21 .22 .23

The router's bridge is the directors' and servers' LAN: a director's link is cut at its
bridge port (as a switch port or cable fails).

ActiveActive() is the scenario's world, as Lab is for the others: made on entry, every
process and namespace removed on exit (with what was left reported as checks). Datagrams
are aimed at one director by their source port: ECMP hashes the ports, and Ports learns from
the directors' own templates which port the router sends to which director."""
import ipaddress
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import time

from . import checks, ipvs, keepalived, modules, netns, procs, rtnl, sipp, udp
from .lab import close_work, open_work, report_exception
from .topology import resolve_servers

ROOT = keepalived.ROOT
RECIPE = os.path.join(ROOT, "docs", "active-active")
BIRD_ROUTER = os.path.join(RECIPE, "bird-router.conf")
BIRD_DIRECTOR = os.path.join(RECIPE, "bird-director.conf")
KEEPALIVED = os.path.join(RECIPE, "keepalived.conf")
MODULES = os.path.join(RECIPE, "modules.conf")
READY = os.path.join(RECIPE, "sip-director-ready")
# Where the recipe installs its check (keepalived.conf's vrrp_script) and modules.conf.
READY_AT = "/usr/local/sbin/sip-director-ready"
MODPROBE_AT = "/etc/modprobe.d/sip-director.conf"
WORK = "/tmp/ipvslab"
# The test runs the recipe's BIRD files with BFD's multiplier and BGP's hold and keepalive
# times this many times theirs: the guest is emulated on a shared host, where it can stall
# for seconds, and a session that expires while its peer is alive withdraws a healthy
# director (and loses what ECMP sent it meanwhile). BFD stays ahead of the hold time.
TIMER_SCALE = 4

CLI_NS, RTR_NS = "cli", "rtr"
DIRS = ["dir1", "dir2", "dir3"]
SERVERS = ["rs1", "rs2", "rs3"]
ALL_NS = [CLI_NS, RTR_NS] + DIRS + SERVERS
CLI, RTR_CLI = "10.0.1.2", "10.0.1.1"
RTR = "10.0.5.1"
DIR_IPS = ["10.0.5.11", "10.0.5.12", "10.0.5.13"]
RS_IPS = ["10.0.5.21", "10.0.5.22", "10.0.5.23"]
VIP = "10.0.9.100"
PORT = 5060
# keepalived's config-id of each director (the `@director1` lines of keepalived.conf).
NODES = {d: f"director{i}" for i, d in enumerate(DIRS, 1)}
# The router's BGP protocol of each director (bird-router.conf).
PEERS = {d: f"director{i}" for i, d in enumerate(DIRS, 1)}
RTM_DELADDR, RTM_GETROUTE = 21, 26
RTA_DST, RTA_GATEWAY, RTA_MULTIPATH, RTA_TABLE = 1, 5, 9, 15
IP_MTU_DISCOVER, IP_PMTUDISC_DONT = 10, 0


def conf_values(path):
    """NAME = VALUE lines of a sysctl file, comments dropped."""
    out = {}
    with open(path) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip()
    return out


def sched_options():
    """The scheduler module's options in the recipe's modules.conf ("hash_key=..."), as
    modprobe gives them."""
    with open(MODULES) as f:
        m = re.search(r"^options\s+ip_vs_sipmh\s+(.*)$", f.read(), re.M)
    return m.group(1).strip() if m else ""


# --- the kernel's routes -------------------------------------------------------------

def next_hops(ns=RTR_NS, dst=VIP):
    """The gateways of NS's main-table route to DST/32 (several for ECMP), sorted; [] when
    there is none. Read by rtnetlink, without a process."""
    with netns.In(ns):
        rt = rtnl.Rt()
    try:
        want = socket.inet_aton(dst)
        rtmsg = struct.pack("=BBBBBBBBI", socket.AF_INET, 0, 0, 0, 0, 0, 0, 0, 0)
        for _, body in rt.request(RTM_GETROUTE, rtmsg, dump=True):
            dlen, table = body[1], body[4]
            a = rtnl.attrs(body, 12)
            table = struct.unpack("=I", a[RTA_TABLE])[0] if RTA_TABLE in a else table
            if dlen != 32 or a.get(RTA_DST) != want or table != 254:
                continue
            gws = []
            if RTA_GATEWAY in a:
                gws.append(socket.inet_ntoa(a[RTA_GATEWAY]))
            mp, off = a.get(RTA_MULTIPATH, b""), 0
            while off + 8 <= len(mp):
                n = struct.unpack_from("=H", mp, off)[0]
                if n < 8:
                    break
                sub = rtnl.attrs(mp[off:off + n], 8)
                if RTA_GATEWAY in sub:
                    gws.append(socket.inet_ntoa(sub[RTA_GATEWAY]))
                off += (n + 3) & ~3
            return sorted(gws)
        return []
    finally:
        rt.close()


def directors_routed(ns=RTR_NS):
    """The directors (namespace names) the router's route to the VIP leads to."""
    return [DIRS[DIR_IPS.index(g)] for g in next_hops(ns) if g in DIR_IPS]


def del_addr(ns, dev, cidr):
    ip = ipaddress.ip_interface(cidr)
    with netns.In(ns):
        rt = rtnl.Rt()
        try:
            msg = struct.pack("=BBBBI", socket.AF_INET, ip.network.prefixlen, 0, 0,
                              socket.if_nametoindex(dev))
            rt.request(RTM_DELADDR, msg + rtnl.nla(rtnl.IFA_LOCAL, ip.ip.packed))
        finally:
            rt.close()


# --- BIRD ------------------------------------------------------------------------------

def scaled_timers(conf, work):
    """A copy of BIRD file CONF in WORK with its BFD multiplier and BGP hold and keepalive
    times TIMER_SCALE times the file's (each set once); returns its path."""
    with open(conf) as f:
        text = f.read()
    for name in ("multiplier", "hold time", "keepalive time"):
        text, n = re.subn(rf"(\b{name} )(\d+);",
                          lambda m: f"{m.group(1)}{int(m.group(2)) * TIMER_SCALE};", text)
        if n != 1:
            raise RuntimeError(f"{conf} sets `{name}` {n} times, not once")
    out = os.path.join(work, "scaled-" + os.path.basename(conf))
    with open(out, "w") as f:
        f.write(text)
    return out


class Bird:
    """BIRD in NS with CONF, in the foreground, logging to its stderr (a file), with a control
    socket of its own, which cmd() speaks to as birdc does (no process per command)."""

    def __init__(self, ns, conf, work):
        self.ns = ns
        self.sock = f"{work}/bird-{ns}.ctl"
        self.log = f"{work}/bird-{ns}.log"
        self.pidfile = f"{work}/bird-{ns}.pid"
        self.proc = procs.spawn(ns, ["bird", "-f", "-c", conf, "-s", self.sock,
                                     "-P", self.pidfile], log=self.log)

    def cmd(self, text):
        """The reply's lines to command TEXT (their codes stripped); [] if BIRD does not
        answer (not started yet, or gone)."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(30)
        try:
            s.connect(self.sock)
            buf = b""
            while not re.search(rb"^\d{4} ", buf, re.M):  # the greeting
                chunk = s.recv(65536)
                if not chunk:
                    return []
                buf += chunk
            s.sendall(text.encode() + b"\n")
            buf = b""
            while not re.search(rb"^\d{4} ", buf, re.M):
                chunk = s.recv(65536)
                if not chunk:
                    break
                buf += chunk
        except OSError:
            return []
        finally:
            s.close()
        return [x[5:] if re.match(r"\d{4}[ -]", x) else x[1:]
                for x in buf.decode(errors="replace").split("\n") if x]

    def protocols(self):
        """{protocol name: (state, info)} of `show protocols`."""
        out = {}
        for line in self.cmd("show protocols")[1:]:
            f = line.split(None, 5)
            if len(f) >= 5:
                out[f[0]] = (f[3], f[5].strip() if len(f) > 5 else "")
        return out

    def established(self, name):
        return self.protocols().get(name, ("", ""))[1].startswith("Established")

    def text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""


# --- SIP servers' health-check answers ---------------------------------------------------

def options_answer(data):
    """A server's 200 to an OPTIONS (what sip-options-check asks): its Via, Call-ID and CSeq
    echoed. Anything else gets an empty datagram, which a checker ignores."""
    if not data.startswith(b"OPTIONS "):
        return b""
    keep = [x for x in data.split(b"\r\n")
            if x.lower().startswith((b"via:", b"call-id:", b"from:", b"cseq:", b"to:"))]
    return b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep) + b"\r\nContent-Length: 0\r\n\r\n"


# --- aiming datagrams at one director ---------------------------------------------------

class Ports:
    """Client sockets on ports FIRST.. (COUNT of them), and which director the router sends
    each one's datagrams to, learnt by a probe per port (an OPTIONS whose Call-ID names the
    port; the director that made its template is the one) and one large datagram sent in
    fragments (which ECMP hashes on the addresses alone: every fragment of every large
    datagram takes one director, `frag`)."""

    def __init__(self, first=20000, count=24):
        self.socks = {}
        for p in range(first, first + count):
            s = udp.sock(CLI_NS)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
            s.bind((CLI, p))
            s.setblocking(False)
            self.socks[p] = s
        self.of, self.frag, self.round = {}, None, 0

    def send(self, port, data):
        self.socks[port].sendto(data, (VIP, PORT))

    def drain(self):
        """Drops what the servers answered (the scenario reads their logs, not answers)."""
        for s in self.socks.values():
            try:
                while s.recv(65536):
                    pass
            except BlockingIOError:
                pass

    def learn(self, deadline=120):
        """Probes every port and the fragment path; returns {director: [ports]}."""
        self.round += 1
        tag = f"probe{self.round}"
        want = {}
        for p in self.socks:
            cid = f"{tag}-{p}"
            want[cid] = p
            self.send(p, udp.sip(callid=cid))
        big = f"{tag}-frag"
        self.send(next(iter(self.socks)), large_sip("OPTIONS", big, 1))
        want[big] = None

        def seen():
            out = {}
            for d in routed_dirs():
                for c in ipvs.conns(d):
                    if c["template"] and c["data"] in want:
                        out.setdefault(c["data"], set()).add(d)
            return out if len(out) == len(want) else None
        try:
            found = procs.wait_until(seen, deadline, "every probe made a template")
        except procs.Timeout:
            for d in routed_dirs():
                got = [c["data"] for c in ipvs.conns(d) if c["template"]]
                checks.say(f"  {d}: {len(got)} templates, {sum(1 for c in got if c in want)} "
                           f"of the probes; IPVS totals {ipvs.totals(d)}")
                checks.say("  " + ipvs.conn_text(d)[:1500].replace("\n", "\n  "))
            checks.say(f"  the router's route: {next_hops()}")
            raise
        self.of = {want[c]: min(ds) for c, ds in found.items() if want[c] is not None}
        self.frag = min(found[big])
        twice = [c for c, ds in found.items() if len(ds) > 1]
        if twice:
            raise RuntimeError(f"probes through two directors: {twice}")
        self.drain()
        return self.by_director()

    def by_director(self):
        out = {d: [] for d in DIRS}
        for p, d in sorted(self.of.items()):
            if p not in self.socks:
                continue
            out[d].append(p)
        return out


def routed_dirs():
    """The directors whose namespaces still exist (a cut director's is kept)."""
    return [d for d in DIRS if netns.exists(d)]


def large_sip(method, callid, cseq, size=3000, to_tag=""):
    """A SIP request of about SIZE bytes (an SDP body), larger than the MTU: it leaves the
    client in fragments."""
    body = "v=0\r\no=- 1 1 IN IP4 10.0.1.2\r\ns=-\r\nc=IN IP4 10.0.1.2\r\nt=0 0\r\n" \
        "m=audio 6000 RTP/AVP 0\r\n"
    while len(body) < size:
        body += "a=x-padding:" + "0123456789abcdef" * 4 + "\r\n"
    return sip_request(method, callid, cseq, body, to_tag)


def sip_request(method, callid, cseq, body="", to_tag=""):
    head = (f"{method} sip:service@{VIP}:{PORT} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {CLI}:5060;branch=z9hG4bK-{callid}-{cseq}-{method}\r\n"
            f"From: sipp <sip:sipp@{CLI}:5060>;tag={callid}\r\n"
            f"To: service <sip:service@{VIP}:{PORT}>{to_tag}\r\n"
            f"Call-ID: {callid}\r\nCSeq: {cseq} {method}\r\n"
            f"Contact: sip:sipp@{CLI}:5060\r\nMax-Forwards: 70\r\n")
    if body:
        head += "Content-Type: application/sdp\r\n"
    return (head + f"Content-Length: {len(body)}\r\n\r\n" + body).encode()


# --- the world -----------------------------------------------------------------------

def build():
    """The namespaces, links, addresses and routes (nothing runs yet)."""
    for ns in ALL_NS:
        netns.add(ns)
    rt = rtnl.Rt()
    rt.veth("c0", CLI_NS, "r0", RTR_NS)
    for i, d in enumerate(DIRS, 1):
        rt.veth("d0", d, f"pd{i}", RTR_NS)
    for i, s in enumerate(SERVERS, 1):
        rt.veth("e0", s, f"ps{i}", RTR_NS)
    rt.close()
    ports = [f"pd{i}" for i in range(1, 4)] + [f"ps{i}" for i in range(1, 4)]
    rtnl.configure(RTR_NS, bridges=["br0"], ports=[(p, "br0") for p in ports],
                   links=["r0"] + ports,
                   addrs=[("r0", RTR_CLI + "/24"), ("br0", RTR + "/24")])
    rtnl.configure(CLI_NS, links=["c0"], addrs=[("c0", CLI + "/24")], routes=[RTR_CLI])
    for d, ip in zip(DIRS, DIR_IPS):
        with netns.In(d):
            rt = rtnl.Rt()
            try:
                rt.link("vip0", "dummy")
            finally:
                rt.close()
        rtnl.configure(d, links=["d0", "vip0"], addrs=[("d0", ip + "/24")], routes=[RTR])
    for s, ip in zip(SERVERS, RS_IPS):
        rtnl.configure(s, links=["e0"], addrs=[("e0", ip + "/24"), ("lo", VIP + "/32")],
                       routes=[RTR])
    netns.sysctl(RTR_NS, conf_values(os.path.join(RECIPE, "sysctl-router.conf")))
    for s in SERVERS:
        netns.sysctl(s, conf_values(os.path.join(RECIPE, "sysctl-server.conf")))


def down():
    for ns in ALL_NS:
        if netns.exists(ns):
            netns.delete(ns)


class ActiveActive:
    """with ActiveActive() as w: the topology, IPVS and our engine loaded, the recipe's
    sysctls, BIRD started on the router and the directors (wait_sessions() waits for their
    sessions), sipp's UAS on each server's VIP (-aa: it answers OPTIONS too) and the
    servers' health-check answers on their own addresses; keepalived is started by
    start_keepalived()."""

    def __init__(self):
        self.saved, self.birds, self.ka = {}, {}, {}
        self.traced = 0
        self.sipp = None
        self.health = []

    def __enter__(self):
        self._clear()
        self.sipp, self.saved = open_work()
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self):
        build()
        subprocess.run(["modprobe", "-a", "ip_vs", "ip_vs_rr", modules.ENGINE], check=True)
        if not modules.counting():
            raise RuntimeError(f"{modules.ENGINE} loaded but its counters do not count")
        for d in DIRS:
            netns.sysctl(d, conf_values(os.path.join(RECIPE, "sysctl-director.conf")))
        self.birds[RTR_NS] = Bird(RTR_NS, scaled_timers(BIRD_ROUTER, WORK), WORK)
        director = scaled_timers(BIRD_DIRECTOR, WORK)
        for d in DIRS:
            self.birds[d] = Bird(d, director, WORK)
        for i, s in enumerate(SERVERS, 1):
            # Its logs named as Sipp.servers names them (Sipp.report reads them).
            base = f"{self.sipp.logs}/rs{i}.vip"
            args = ["sipp", "-sn", "uas", "-aa", "-i", VIP, "-p", str(PORT)] + \
                self.sipp._args(base)
            procs.spawn(s, args, log=base + ".out", cwd=self.sipp.logs, env=sipp.env())
        sipp.wait_listening(SERVERS)
        self.health = [udp.Sinks([s], ip=ip, answer=options_answer)
                       for s, ip in zip(SERVERS, RS_IPS)]
        for d in DIRS:
            resolve_servers(d, RS_IPS)

    def wait_sessions(self, deadline):
        """Until the router's BGP session with each director is Established; returns the
        seconds it took. From then on the router's BIRD logs each session's state changes
        (`debug PROTOCOL { states }`), which sessions() counts."""
        t0 = time.monotonic()
        r = self.birds[RTR_NS]
        procs.wait_until(lambda: all(r.established(PEERS[d]) for d in DIRS), deadline,
                         "the router's BGP sessions with the three directors are Established")
        took = time.monotonic() - t0
        for d in DIRS:
            r.cmd(f"debug {PEERS[d]} {{ states }}")
        self.traced = len(r.text())
        return took

    def session_log(self):
        """{director: the lines the router's BIRD logged about its session with it since
        wait_sessions()}: each state change (a session that went down, even for a moment,
        logs some) and its reason. (Not `show protocols`' time of the last change: BIRD
        prints it from its cached monotonic clock and a fresh wall clock, so it moves by tens
        of milliseconds between two calls.)"""
        director = {p: d for d, p in PEERS.items()}
        out = {d: [] for d in DIRS}
        for line in self.birds[RTR_NS].text()[self.traced:].splitlines():
            m = re.search(r"<\w+> (\S+): ", line)
            if m and m.group(1) in director:
                out[director[m.group(1)]].append(line)
        return out

    def say_session_log(self):
        """Prints session_log(), for a failure's details: a session that went down loses
        what ECMP sent its way meanwhile, often why a scenario failed."""
        for d, lines in self.session_log().items():
            for x in lines:
                checks.say(f"  the router's BIRD, {d}: {x}")

    def sessions(self):
        """{director: how many state changes of the router's session with it BIRD has logged
        since wait_sessions()} (session_log())."""
        return {d: sum(1 for x in lines if ": State changed to " in x)
                for d, lines in self.session_log().items()}

    def start_keepalived(self):
        """keepalived on each director, its check and checker installed where the recipe
        puts them."""
        keepalived.install_checker()
        os.makedirs(os.path.dirname(READY_AT), exist_ok=True)
        shutil.copy(READY, READY_AT + ".tmp")
        os.chmod(READY_AT + ".tmp", 0o755)
        os.rename(READY_AT + ".tmp", READY_AT)
        env = dict(os.environ)
        for d in DIRS:
            self.ka[d] = keepalived.Keepalived(d, WORK, env, conf=KEEPALIVED, node=NODES[d])

    def crash_keepalived(self, d):
        """keepalived's main process on director D dies (SIGKILL); its VRRP and checker
        processes are told by the kernel (their parent-death signal) and stop."""
        k = self.ka[d]
        k.proc.send_signal(signal.SIGKILL)
        k.proc.wait()
        procs.wait_until(lambda: not any(procs.alive(p) for p in k.children()), 120,
                         f"keepalived's children on {d} end")

    def __exit__(self, kind, value, tb):
        if kind is not None:
            report_exception(kind, value, tb)
            self.say_session_log()
        checks.step("teardown")
        for h in self.health:
            h.close()
        self.health = []
        left = self._clear()
        for path in (READY_AT, keepalived.CHECKER, MODPROBE_AT):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        checks.expect_eq("no network namespace left", left["ns"], 0)
        checks.expect_eq("no process left in them", left["procs"], 0)
        checks.expect_eq("no IPVS service left", left["services"], 0)
        checks.expect_eq("the engine and the scheduler unloaded", left["modules"], 0)
        close_work(self.saved)
        return kind is not None and issubclass(kind, Exception)

    @staticmethod
    def _clear():
        pids = list(procs.in_namespaces(ALL_NS))
        procs.kill_all(pids)
        down()
        mods = modules.ENGINES + ["ip_vs_sipmh"]
        for m in mods:
            modules.unload_when_free(m, 300)
        return {"ns": sum(netns.exists(n) for n in ALL_NS),
                "procs": sum(procs.alive(p) for p in pids),
                "services": ipvs.service_count(),
                "modules": sum(modules.loaded(m) for m in mods)}
