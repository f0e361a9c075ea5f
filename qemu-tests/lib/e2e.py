"""Machinery for the end-to-end SIP scenarios (qemu-tests/e2e/), run as root inside the VM.

Under the emulated debug kernel every exec costs about a second, so one Python process does
what would otherwise take dozens of them: network namespaces, links, addresses and routes
(rtnetlink), sysctls, starting sipp inside a namespace, reading sipp's logs and
/proc/net/ip_vs_conn, loading and unloading modules with system calls, editing an IPVS
service (generic netlink). Results are printed as shell assignments for `eval`.

usage: e2e.py COMMAND [ARG...]; the commands are the cmd_* functions below. Every address
used lives only in the namespaces made here (those of qemu-tests/lib/topo.sh).
"""
import ctypes
import errno
import ipaddress
import os
import random
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

WORK = "/tmp/e2e"
LOGS = f"{WORK}/sip"
VIP, VIP6 = "10.0.1.100", "fd00:1::100"
CLI, CLI6 = "10.0.1.2", "fd00:1::2"
RS = ["10.0.2.11", "10.0.2.12", "10.0.2.13"]
RS6 = ["fd00:2::11", "fd00:2::12", "fd00:2::13"]
# Every namespace any scenario makes; `down` removes those that exist.
ALL_NS = ["cli", "dir", "dir2", "sw", "rs1", "rs2", "rs3"]
MODULES = ["ip_vs_pe_sip_rs", "ip_vs_pe_sip"]
STATS = ["examined", "found", "not_udp", "fragment", "no_payload", "no_callid", "too_long",
         "bad_terminator", "alloc_failed"]

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MNT_DETACH = 2


def say(text):
    """Prints TEXT through the shell that evaluates our output."""
    print("echo " + shlex.quote(text))


def check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


# --- Network namespaces -------------------------------------------------------------------

ROOT_NS = os.open("/proc/self/ns/net", os.O_RDONLY)


def ns_path(name):
    return f"/run/netns/{name}"


def ns_exists(name):
    return os.path.exists(ns_path(name))


def ns_add(name):
    """What `ip netns add` does: a new namespace kept alive by a bind mount."""
    os.makedirs("/run/netns", exist_ok=True)
    os.close(os.open(ns_path(name), os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    check(libc.unshare(CLONE_NEWNET), "unshare")
    check(libc.mount(b"/proc/self/ns/net", ns_path(name).encode(), b"none", MS_BIND, None),
          f"mount {name}")
    enter_root()


def ns_del(name):
    libc.umount2(ns_path(name).encode(), MNT_DETACH)
    os.unlink(ns_path(name))


def enter(name):
    """Moves this (single-threaded or calling) thread into namespace NAME."""
    fd = os.open(ns_path(name), os.O_RDONLY)
    try:
        check(libc.setns(fd, CLONE_NEWNET), f"setns {name}")
    finally:
        os.close(fd)


def enter_root():
    check(libc.setns(ROOT_NS, CLONE_NEWNET), "setns root")


class In:
    """`with In("dir"):` runs the block, and starts processes, inside that namespace."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        enter(self.name)

    def __exit__(self, *_):
        enter_root()


def sysctl(ns, values):
    """sysctl(ns, {"net.ipv4.ip_forward": 1}), for names without dots in their components."""
    with In(ns):
        for k, v in values.items():
            with open("/proc/sys/" + k.replace(".", "/"), "w") as f:
                f.write(str(v))


# --- rtnetlink ----------------------------------------------------------------------------

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_EXCL, NLM_F_CREATE = 1, 4, 0x200, 0x400
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 3, 10, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS, IFA_F_NODAD = 1, 2, 8, 0x02
RTA_GATEWAY = 5
IFF_UP = 1


def nla(kind, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + b"\0" * (-n % 4)


def ifinfo(index=0, flags=0, change=0):
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


class Netlink:
    def __init__(self, proto=0):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
        self.s.bind((0, 0))
        self.seq = 0

    def request(self, kind, payload, flags=0):
        self.seq += 1
        hdr = struct.pack("=IHHII", 16 + len(payload), kind,
                          flags | NLM_F_REQUEST | NLM_F_ACK, self.seq, 0)
        self.s.send(hdr + payload)
        replies = []
        while True:
            data = self.s.recv(65536)
            off = 0
            while off + 16 <= len(data):
                n, t, _, _, _ = struct.unpack_from("=IHHII", data, off)
                body = data[off + 16:off + n]
                off += (n + 3) & ~3
                if t == NLMSG_ERROR:
                    err = struct.unpack_from("=i", body)[0]
                    if err:
                        raise OSError(-err, f"netlink request {kind}: {os.strerror(-err)}")
                    return replies
                if t == NLMSG_DONE:
                    return replies
                replies.append((t, body))

    def close(self):
        self.s.close()


class Rt(Netlink):
    """rtnetlink in the namespace current when it was made."""

    def __init__(self):
        super().__init__(0)

    def veth(self, name, ns, peer, peer_ns):
        """A veth pair with each end created directly in its namespace."""
        fd, pfd = os.open(ns_path(ns), os.O_RDONLY), os.open(ns_path(peer_ns), os.O_RDONLY)
        try:
            peer_msg = ifinfo() + nla(IFLA_IFNAME, peer.encode() + b"\0") + \
                nla(IFLA_NET_NS_FD, struct.pack("=I", pfd))
            info = nla(IFLA_INFO_KIND, b"veth") + nla(IFLA_INFO_DATA, nla(VETH_INFO_PEER, peer_msg))
            self.request(RTM_NEWLINK, ifinfo() + nla(IFLA_IFNAME, name.encode() + b"\0") +
                         nla(IFLA_NET_NS_FD, struct.pack("=I", fd)) + nla(IFLA_LINKINFO, info),
                         NLM_F_CREATE | NLM_F_EXCL)
        finally:
            os.close(fd)
            os.close(pfd)

    def link(self, name, kind):
        self.request(RTM_NEWLINK, ifinfo() + nla(IFLA_IFNAME, name.encode() + b"\0") +
                     nla(IFLA_LINKINFO, nla(IFLA_INFO_KIND, kind.encode())),
                     NLM_F_CREATE | NLM_F_EXCL)

    def set(self, name, up=True, master=None):
        extra = nla(IFLA_MASTER, struct.pack("=I", socket.if_nametoindex(master))) if master else b""
        self.request(RTM_NEWLINK, ifinfo(socket.if_nametoindex(name), IFF_UP if up else 0, IFF_UP)
                     + extra)

    def addr(self, dev, cidr):
        ip = ipaddress.ip_interface(cidr)
        fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
        raw = ip.ip.packed
        flags = IFA_F_NODAD if ip.version == 6 else 0
        msg = struct.pack("=BBBBI", fam, ip.network.prefixlen, flags, 0, socket.if_nametoindex(dev))
        self.request(RTM_NEWADDR, msg + nla(IFA_LOCAL, raw) + nla(IFA_ADDRESS, raw) +
                     nla(IFA_FLAGS, struct.pack("=I", flags)), NLM_F_CREATE | NLM_F_EXCL)

    def default_route(self, via):
        gw = ipaddress.ip_address(via)
        fam = socket.AF_INET6 if gw.version == 6 else socket.AF_INET
        # main table, boot protocol, universe scope, unicast
        msg = struct.pack("=BBBBBBBBI", fam, 0, 0, 0, 254, 3, 0, 1, 0)
        self.request(RTM_NEWROUTE, msg + nla(RTA_GATEWAY, gw.packed), NLM_F_CREATE | NLM_F_EXCL)


def configure(ns, links=(), addrs=(), routes=(), bridges=(), ports=()):
    """In NS: make BRIDGES, enslave PORTS (dev, bridge), bring LINKS up, add ADDRS (dev, cidr)
    and default ROUTES (via)."""
    with In(ns):
        rt = Rt()
        rt.set("lo")
        for b in bridges:
            rt.link(b, "bridge")
            rt.set(b)
        for dev, br in ports:
            rt.set(dev, master=br)
        for dev in links:
            rt.set(dev)
        for dev, cidr in addrs:
            rt.addr(dev, cidr)
        for via in routes:
            rt.default_route(via)
        rt.close()


# --- Topologies ---------------------------------------------------------------------------

def topo_standard(tun=False):
    """qemu-tests/lib/topo.sh's topology (same names and addresses). With TUN, each real
    server also holds the VIP on its ipip device tunl0 for IPVS tunnelling (-i)."""
    for ns in ["cli", "dir", "rs1", "rs2", "rs3"]:
        ns_add(ns)
    rt = Rt()
    rt.veth("c0", "cli", "d0", "dir")
    for i in (1, 2, 3):
        rt.veth(f"r{i}", f"rs{i}", f"b{i}", "dir")
    rt.close()
    configure("cli", links=["c0"], addrs=[("c0", CLI + "/24"), ("c0", CLI6 + "/64")],
              routes=["10.0.1.1", "fd00:1::1"])
    configure("dir", bridges=["br0"], ports=[(f"b{i}", "br0") for i in (1, 2, 3)],
              links=["d0", "b1", "b2", "b3"],
              addrs=[("d0", "10.0.1.1/24"), ("d0", VIP + "/32"), ("d0", "fd00:1::1/64"),
                     ("d0", VIP6 + "/128"), ("br0", "10.0.2.1/24"), ("br0", "fd00:2::1/64")])
    sysctl("dir", {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1})
    for i in (1, 2, 3):
        ns = f"rs{i}"
        links, addrs = [f"r{i}"], [(f"r{i}", RS[i - 1] + "/24"), (f"r{i}", RS6[i - 1] + "/64")]
        if tun:
            links.append("tunl0")
            addrs.append(("tunl0", VIP + "/32"))
        configure(ns, links=links, addrs=addrs, routes=["10.0.2.1", "fd00:2::1"])
        if tun:
            # The tunnelled packet arrives on tunl0 from a client routed via r1: no reverse
            # path filtering, as on any tunnelling real server.
            sysctl(ns, {"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.tunl0.rp_filter": 0})
    if tun:
        # The servers answer from the VIP straight to the client through the director, which
        # must forward packets whose source is one of its own addresses.
        sysctl("dir", {"net.ipv4.conf.all.accept_local": 1, "net.ipv4.conf.br0.accept_local": 1,
                       "net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.br0.rp_filter": 0})


def topo_failover():
    """Two directors on two LANs (bridges in namespace "sw"), and a sync link between them.

    client LAN: cli 10.0.1.2, dir 10.0.1.1, dir2 10.0.1.3; the VIP 10.0.1.100 floats.
    server LAN: rs1-3 10.0.2.11-13, dir 10.0.2.2, dir2 10.0.2.3; their gateway 10.0.2.1
    floats. sync link: dir s0 10.0.3.1 -- dir2 s1 10.0.3.2.
    The master "dir" starts with both floating addresses."""
    for ns in ["sw", "cli", "dir", "dir2", "rs1", "rs2", "rs3"]:
        ns_add(ns)
    rt = Rt()
    rt.veth("c0", "cli", "pc", "sw")
    rt.veth("d0", "dir", "pd0", "sw")
    rt.veth("d1", "dir", "pd1", "sw")
    rt.veth("e0", "dir2", "pe0", "sw")
    rt.veth("e1", "dir2", "pe1", "sw")
    rt.veth("s0", "dir", "s1", "dir2")
    for i in (1, 2, 3):
        rt.veth(f"r{i}", f"rs{i}", f"p{i}", "sw")
    rt.close()
    front, back = ["pc", "pd0", "pe0"], ["pd1", "pe1", "p1", "p2", "p3"]
    configure("sw", bridges=["brc", "brs"],
              ports=[(p, "brc") for p in front] + [(p, "brs") for p in back],
              links=front + back)
    configure("cli", links=["c0"], addrs=[("c0", CLI + "/24")])
    configure("dir", links=["d0", "d1", "s0"],
              addrs=[("d0", "10.0.1.1/24"), ("d0", VIP + "/32"), ("d1", "10.0.2.2/24"),
                     ("d1", "10.0.2.1/24"), ("s0", "10.0.3.1/24")])
    configure("dir2", links=["e0", "e1", "s1"],
              addrs=[("e0", "10.0.1.3/24"), ("e1", "10.0.2.3/24"), ("s1", "10.0.3.2/24")])
    for ns in ("dir", "dir2"):
        sysctl(ns, {"net.ipv4.ip_forward": 1})
    for i in (1, 2, 3):
        configure(f"rs{i}", links=[f"r{i}"], addrs=[(f"r{i}", RS[i - 1] + "/24")],
                  routes=["10.0.2.1"])


def garp(ns, dev, ip):
    """A gratuitous ARP for IP from DEV, as a router taking over an address sends one."""
    with In(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
        s.bind((dev, 0x0806))
        import fcntl
        mac = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", dev.encode()))[18:24]
        a = socket.inet_aton(ip)
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + a + b"\0" * 6 + a
        s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
        s.close()


# --- Processes ----------------------------------------------------------------------------

SHIM_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sipp_idle.c")
# Kept across the scenarios of one boot (WORK is not).
SHIM = "/tmp/e2e-shim/sipp_idle.so"


def sipp_env():
    """The environment for sipp: with sipp_idle.so preloaded (built once per boot), unless
    E2E_NO_SHIM is set or no C compiler is there."""
    env = dict(os.environ)
    if os.environ.get("E2E_NO_SHIM"):
        return env
    if not os.path.exists(SHIM):
        os.makedirs(os.path.dirname(SHIM), exist_ok=True)
        if subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", SHIM + ".tmp", SHIM_SRC,
                           "-ldl"]).returncode == 0:
            os.rename(SHIM + ".tmp", SHIM)
        else:
            say("  (no sipp_idle.so: sipp runs without it)")
            return env
    env["LD_PRELOAD"] = SHIM
    return env


def spawn(ns, args, log=None, cwd=None, stdin=subprocess.DEVNULL):
    """Starts ARGS inside NS in its own session (it outlives this process; `down` ends it with
    every other process in our namespaces)."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    env = sipp_env() if os.path.basename(args[0]) == "sipp" else None
    with In(ns):
        p = subprocess.Popen(args, stdin=stdin, stdout=out, stderr=subprocess.STDOUT, cwd=cwd,
                             start_new_session=True, env=env)
    return p


def run(ns, args, **kw):
    with In(ns):
        return subprocess.run(args, **kw)


def ns_inodes():
    return {os.stat(ns_path(n)).st_ino: n for n in ALL_NS if ns_exists(n)}


def procs_in_namespaces():
    """pid -> namespace name, for every process living in one of our namespaces."""
    inodes, found = ns_inodes(), {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ino = os.stat(f"/proc/{d}/ns/net").st_ino
            except OSError:
                continue
            if ino in inodes:
                found[int(d)] = inodes[ino]
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def kill_all(pids, timeout=10):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        end = time.time() + timeout
        while time.time() < end and any(alive(p) for p in pids):
            reap()
            time.sleep(0.1)
        if not any(alive(p) for p in pids):
            return


def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


# --- Modules ------------------------------------------------------------------------------

def module_file(name):
    kver = os.uname().release
    base = f"/lib/modules/{kver}"
    with open(f"{base}/modules.dep") as f:
        for line in f:
            path = line.split(":")[0]
            if os.path.basename(path).split(".")[0] == name:
                return path if path.startswith("/") else f"{base}/{path}"
    raise FileNotFoundError(name)


def load_module(name):
    """finit_module(2); its dependencies (ip_vs) must already be loaded. Returns 0 or errno."""
    fd = os.open(module_file(name), os.O_RDONLY)
    try:
        ret = libc.syscall(313, fd, b"", 0)  # finit_module
        return 0 if ret == 0 else ctypes.get_errno()
    finally:
        os.close(fd)


def unload_module(name):
    """delete_module(2) without waiting, as rmmod: 0, or EWOULDBLOCK while in use."""
    ret = libc.syscall(176, name.encode(), os.O_NONBLOCK)  # delete_module
    return 0 if ret == 0 else ctypes.get_errno()


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def engine_stats(ns="dir"):
    """The engine's counters in namespace NS (its /proc/net/ip_vs_pe_sip_stats)."""
    with In(ns):
        try:
            with open("/proc/thread-self/net/ip_vs_pe_sip_stats") as f:
                got = dict(line.split() for line in f)
        except OSError:
            got = {}
    return {k: int(got.get(k, 0)) for k in STATS}


# --- IPVS ---------------------------------------------------------------------------------

def ipvs_conns(ns):
    """The entries of NS's /proc/net/ip_vs_conn: dicts with dest, dport, pe, data, ..."""
    with In(ns):
        with open("/proc/net/ip_vs_conn", "rb") as f:
            lines = f.read().split(b"\n")[1:]
    out = []
    for line in lines:
        fields = line.split(None, 9)
        if len(fields) < 9:
            continue
        dest = fields[5].decode()
        dest = str(ipaddress.ip_address(int(dest, 16))) if ":" not in dest else \
            str(ipaddress.ip_address(dest))
        pe, data = None, None
        if len(fields) == 10:
            pe, _, data = fields[9].partition(b" ")
            pe, data = pe.decode(), data.decode("latin-1")
        # Templates have no client port; their state is NONE or ASSURED.
        out.append({"dest": dest, "dport": int(fields[6], 16), "state": fields[7].decode(),
                    "pe": pe, "data": data, "template": fields[2] == b"0000"})
    return out


def ipvs_totals(ns):
    """Incoming and outgoing packets IPVS handled in NS (/proc/net/ip_vs_stats)."""
    with In(ns):
        with open("/proc/net/ip_vs_stats") as f:
            lines = f.read().split("\n")
    conns, inp, outp = (int(x, 16) for x in lines[2].split()[:3])
    return conns, inp, outp


GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 0x10, 3, 1, 2
IPVS_CMD_SET_SERVICE, IPVS_CMD_ATTR_SERVICE = 2, 1
SVC_AF, SVC_PROTO, SVC_ADDR, SVC_PORT, SVC_SCHED, SVC_FLAGS, SVC_TIMEOUT, SVC_NETMASK, \
    SVC_PE = 1, 2, 3, 4, 6, 7, 8, 9, 11
SVC_F_PERSISTENT, SVC_F_ONEPACKET = 0x1, 0x4


class Ipvs(Netlink):
    """The IPVS generic netlink family, in the namespace current when it was made."""

    def __init__(self):
        super().__init__(16)  # NETLINK_GENERIC
        msg = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + \
            nla(CTRL_ATTR_FAMILY_NAME, b"IPVS\0")
        (_, body), = self.request(GENL_ID_CTRL, msg)
        off = 4
        while off < len(body):
            n, t = struct.unpack_from("=HH", body, off)
            if t == CTRL_ATTR_FAMILY_ID:
                self.family = struct.unpack_from("=H", body, off + 4)[0]
            off += (n + 3) & ~3

    def set_service(self, addr, port, pe, timeout=60, sched="rr"):
        """`ipvsadm -E -u ADDR:PORT -s SCHED -p TIMEOUT -M 0.0.0.0 -o [--pe PE]` (IPv4)."""
        svc = nla(SVC_AF, struct.pack("=H", socket.AF_INET)) + \
            nla(SVC_PROTO, struct.pack("=H", socket.IPPROTO_UDP)) + \
            nla(SVC_ADDR, socket.inet_aton(addr) + b"\0" * 12) + \
            nla(SVC_PORT, struct.pack("!H", port)) + nla(SVC_SCHED, sched.encode() + b"\0") + \
            nla(SVC_FLAGS, struct.pack("=II", SVC_F_PERSISTENT | SVC_F_ONEPACKET, 0xffffffff)) + \
            nla(SVC_TIMEOUT, struct.pack("=I", timeout)) + nla(SVC_NETMASK, b"\0" * 4)
        if pe:
            svc += nla(SVC_PE, pe.encode() + b"\0")
        self.request(self.family, struct.pack("=BBH", IPVS_CMD_SET_SERVICE, 1, 0) +
                     nla(IPVS_CMD_ATTR_SERVICE, svc))


# --- sipp ---------------------------------------------------------------------------------

# sipp's socket buffers (its default is 64 KiB). A busy guest can stall a sipp process for
# seconds, and without retransmissions (-nr) a datagram dropped on a full buffer is a call
# that never ends. net.core.rmem_max, which caps them, is raised while a scenario runs.
BUFF = "4194304"
# sipp ends its run after ten 3-second stalls of its main loop (or 120 of 0.5 s), which a
# guest busy with a flood reaches: report long stalls only, and never give up.
WATCHDOG = ["-watchdog_minor_threshold", "5000", "-watchdog_major_threshold", "60000",
            "-watchdog_minor_maxtriggers", "1000000", "-watchdog_major_maxtriggers", "1000000"]
RMEM_SAVED = "/tmp/e2e-saved"


def sipp_uas(i, ip, kind, sf=None):
    """sipp's UAS on real server I (1-3), bound to IP:5060, logging every message to
    rsI.KIND.msg."""
    args = ["sipp", "-sn", "uas"] if not sf else ["sipp", "-sf", sf]
    base = f"{LOGS}/rs{i}.{kind}"
    args += ["-i", ip, "-p", "5060", "-nr", "-nostdin", "-buff_size", BUFF, "-trace_msg",
             "-message_file", base + ".msg", "-trace_err", "-error_file", base + ".err"] + WATCHDOG
    return spawn(f"rs{i}", args, log=base + ".out", cwd=LOGS)


def server_messages(i):
    """The messages of every sipp log of real server I."""
    out = []
    for f in sorted(os.listdir(LOGS)):
        if f.startswith(f"rs{i}.") and f.endswith(".msg"):
            out += sipp_messages(f"{LOGS}/{f}")
    return out


def sipp_uac(tag, ns, local, remote, calls, rate, extra=()):
    """A sipp UAC in NS from LOCAL:5060 to REMOTE; Call-IDs start with TAG."""
    args = ["sipp", "-sn", "uac", remote, "-i", local, "-p", "5060", "-nr", "-m", str(calls),
            "-r", str(rate), "-l", "100", "-nostdin", "-timeout", "300", "-timeout_error",
            "-recv_timeout", "20000",
            "-buff_size", BUFF,
            "-cid_str", f"{tag}-%u-%p@%s", "-trace_stat", "-stf", f"{LOGS}/{tag}.csv",
            "-trace_msg", "-message_file", f"{LOGS}/{tag}.msg",
            "-trace_err", "-error_file", f"{LOGS}/{tag}.err"] + WATCHDOG + list(extra)
    if "-sf" in extra:
        args[1:3] = []
    p = spawn(ns, args, log=f"{LOGS}/{tag}.out", cwd=LOGS)
    with open(f"{WORK}/{tag}.pid", "w") as f:
        f.write(str(p.pid))
    return p


def sipp_totals(tag):
    """Cumulative totals from the last line of sipp's statistics file."""
    try:
        with open(f"{LOGS}/{tag}.csv") as f:
            rows = [r for r in f.read().split("\n") if r]
    except OSError:
        return {}
    head, last = rows[0].split(";"), rows[-1].split(";")
    return {h[:-3]: v for h, v in zip(head, last) if h.endswith("(C)")}


HDR_RE = re.compile(rb"^(?:call-id|i)[ \t]*:[ \t]*(\S+)", re.I | re.M)


def sipp_messages(path):
    """(direction, first line, Call-ID, size) of each message in a sipp -trace_msg log."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return []
    out = []
    for block in data.split(b"----------------------------------------------- ")[1:]:
        head, _, msg = block.partition(b"\n\n")
        lines = head.split(b"\n")
        direction = "in" if len(lines) > 1 and b"received" in lines[1] else "out"
        msg = msg.lstrip(b"\r\n")
        m = HDR_RE.search(msg)
        out.append((direction, msg.split(b"\r\n", 1)[0].split(b"\n", 1)[0],
                    m.group(1).decode("latin-1") if m else None, len(msg)))
    return out


def call_report(tag, servers=(1, 2, 3), prefix="R"):
    """Where TAG's calls went, from the servers' own logs; as shell assignments."""
    calls = {}  # callid -> {server: set of methods received}
    msgs = {}
    invite_sizes = []
    for i in servers:
        n = 0
        for direction, first, cid, size in server_messages(i):
            if direction != "in" or not cid or not cid.startswith(tag + "-"):
                continue
            n += 1
            if first.startswith(b"INVITE"):
                invite_sizes.append(size)
            method = first.split(b" ")[0].decode("latin-1") if not first.startswith(b"SIP/") \
                else "response"
            calls.setdefault(cid, {}).setdefault(i, set()).add(method)
        msgs[i] = n
    per = {i: sum(1 for c in calls.values() if "INVITE" in c.get(i, ())) for i in servers}
    split = sum(1 for c in calls.values() if len(c) > 1)
    # A call is whole when one server received its INVITE, ACK and BYE and no other server
    # received anything of it.
    whole = sum(1 for c in calls.values()
                if len(c) == 1 and {"INVITE", "ACK", "BYE"} <= next(iter(c.values())))
    total = sum(per.values())
    t = sipp_totals(tag)
    sent = sum(1 for d, *_ in sipp_messages(f"{LOGS}/{tag}.msg") if d == "out")
    res = {"CALLS": total, "SPLIT": split, "WHOLE": whole, "MAXPCT":
           max(per.values()) * 100 // total if total else 0,
           "SERVERS_USED": sum(1 for v in per.values() if v),
           "OK": t.get("SuccessfulCall", "?"), "FAILED": t.get("FailedCall", "?"),
           "SENT": sent, "MIN_INVITE": min(invite_sizes, default=0)}
    for i in servers:
        res[f"RS{i}"] = per[i]
        res[f"MSGS{i}"] = msgs[i]
    lines = [f"{prefix}_{k}={v}" for k, v in res.items()]
    share = ", ".join(f"rs{i} {per[i]} ({per[i] * 100 // total if total else 0}%)"
                      for i in servers)
    say(f"  {tag}: {total} calls: {share}; split over servers: {split}; "
        f"whole on one server: {whole}; sipp: {res['OK']} successful, {res['FAILED']} "
        f"failed; client datagrams sent: {sent}")
    print("\n".join(lines))


# --- Commands -----------------------------------------------------------------------------

def cmd_up(args):
    """up [--tun | --failover] [--no-engine] [--set NS:SYSCTL=VALUE]... [--rules]
    [--uas v4|v6|vip [SCENARIO]]: a clean
    work directory; the namespaces, links and addresses; IPVS and (unless --no-engine) our
    engine loaded; with --rules, `ipvsadm-rs -R` of standard input in the director(s) (see
    `ipvs`); with --uas, sipp UAS on the real servers."""
    cmd_down([], quiet=True)
    subprocess.run(["rm", "-rf", WORK])
    os.makedirs(LOGS)
    for k in ("rmem_max", "wmem_max"):
        with open(f"/proc/sys/net/core/{k}") as f:
            old = f.read().strip()
        with open(f"{RMEM_SAVED}.{k}", "w") as f:
            f.write(old)
        with open(f"/proc/sys/net/core/{k}", "w") as f:
            f.write(BUFF)
    failover = "--failover" in args
    if failover:
        topo_failover()
    else:
        topo_standard(tun="--tun" in args)
    # Loaded here rather than by `--pe sip`, whose module request would load the kernel's C
    # engine (a module of that very name wins over our alias).
    subprocess.run(["modprobe", "-a", "ip_vs", "ip_vs_rr"] +
                   ([] if "--no-engine" in args else ["ip_vs_pe_sip_rs"]), check=True)
    if failover:
        for ns in ("dir", "dir2"):
            # Version 1 of the sync protocol carries the engine's name and data (the Call-ID).
            sysctl(ns, {"net.ipv4.vs.sync_version": 1})
    for i, a in enumerate(args):
        if a == "--set":
            ns, _, kv = args[i + 1].partition(":")
            k, _, v = kv.partition("=")
            sysctl(ns, {k: v})
    if "--rules" in args:
        ipvs_rules(["dir", "dir2"] if failover else ["dir"], sys.stdin.read())
    if "--uas" in args:
        i = args.index("--uas")
        cmd_uas(args[i + 1:i + 3] if len(args) > i + 2 and not args[i + 2].startswith("-")
                else args[i + 1:i + 2])


def ipvs_rules(namespaces, text):
    """`ipvsadm-rs -R` of TEXT in each namespace; a line "@NS rule" goes to NS only."""
    for ns in namespaces:
        lines = []
        for line in text.split("\n"):
            if line.startswith("@"):
                target, _, line = line[1:].partition(" ")
                if target != ns:
                    continue
            lines.append(line)
        p = run(ns, ["ipvsadm-rs", "-R"], input="\n".join(lines).encode())
        if p.returncode:
            raise SystemExit(f"ipvsadm-rs -R in {ns}: exit {p.returncode}")


def cmd_ipvs(args):
    """ipvs NS...: `ipvsadm-rs -R` of standard input in each NS (lines "@NS rule": NS only)."""
    ipvs_rules(args, sys.stdin.read())


def cmd_down(args, quiet=False):
    """down: ends every process in our namespaces, deletes the namespaces, unloads the SIP
    engines (waiting for the namespaces' asynchronous clean-up to drop their templates), and
    reports what is left."""
    pids = list(procs_in_namespaces())
    kill_all(pids)
    for n in ALL_NS:
        if ns_exists(n):
            ns_del(n)
    end = time.time() + 60
    while time.time() < end and any(loaded(m) for m in MODULES):
        for m in MODULES:
            if loaded(m):
                unload_module(m)
        time.sleep(0.2)
    for k in ("rmem_max", "wmem_max"):
        try:
            with open(f"{RMEM_SAVED}.{k}") as f:
                old = f.read()
            with open(f"/proc/sys/net/core/{k}", "w") as f:
                f.write(old)
            os.unlink(f"{RMEM_SAVED}.{k}")
        except FileNotFoundError:
            pass
    if quiet:
        return
    left_ns = [n for n in ALL_NS if ns_exists(n)]
    left_procs = [p for p in pids if alive(p)]
    with open("/proc/net/ip_vs") if os.path.exists("/proc/net/ip_vs") else open("/dev/null") as f:
        svcs = [x for x in f.read().split("\n")[3:] if x.startswith(("TCP", "UDP", "SCTP", "FWM"))]
    print(f"LEFT_NS={len(left_ns)} LEFT_PROCS={len(left_procs)} LEFT_SVCS={len(svcs)} "
          f"LEFT_MODS={sum(loaded(m) for m in MODULES)}")


def cmd_ns(args):
    """ns NAME CMD [ARG...]: runs CMD inside namespace NAME (stdin, stdout passed through)."""
    sys.exit(run(args[0], args[1:]).returncode)


def cmd_uas(args):
    """uas KIND[,KIND] [SCENARIO]: sipp UAS on rs1-3 bound to their IPv4 (v4) or IPv6 (v6)
    address, or to the VIP (vip, for tunnelling); waits until they listen."""
    kinds, sf = args[0].split(","), (args[1] if len(args) > 1 else None)
    for kind in kinds:
        for i in (1, 2, 3):
            ip = {"v4": RS[i - 1], "v6": RS6[i - 1], "vip": VIP}[kind]
            sipp_uas(i, ip, kind, sf)
    wait_listening([f"rs{i}" for i in (1, 2, 3)], count=len(kinds))


def wait_listening(namespaces, port=5060, count=1, timeout=60):
    """Waits until COUNT UDP sockets are bound to PORT in each namespace."""
    end = time.time() + timeout
    want = f":{port:04X}"
    for ns in namespaces:
        while True:
            with In(ns):
                lines = open("/proc/net/udp").read().split("\n")[1:] + \
                    open("/proc/net/udp6").read().split("\n")[1:]
            if sum(1 for x in lines if x.split()[1:2] and x.split()[1].endswith(want)) >= count:
                break
            if time.time() > end:
                raise SystemExit(f"nothing listens on port {port} in {ns}")
            time.sleep(0.2)


def cmd_uac(args):
    """uac TAG CALLS RATE [--v6] [--bg] [SIPP ARG...]: sipp UAC from the client's port 5060
    to the VIP. In the foreground, waits and prints the report; with --bg, returns at once
    (see `wait`)."""
    tag, calls, rate = args[0], int(args[1]), args[2]
    rest = args[3:]
    v6, bg = "--v6" in rest, "--bg" in rest
    extra = [a for a in rest if a not in ("--v6", "--bg")]
    p = sipp_uac(tag, "cli", CLI6 if v6 else CLI, f"[{VIP6}]:5060" if v6 else f"{VIP}:5060",
                 calls, rate, extra)
    if not bg:
        t0 = time.time()
        p.wait()
        finish_uac(tag, p.returncode, time.time() - t0)


def finish_uac(tag, rc, seconds=None):
    took = f" after {seconds:.0f} s" if seconds is not None else ""
    say(f"  sipp client {tag}: exit {rc}{took}")
    call_report(tag)
    if rc != 0:
        cmd_diag([tag])


def cmd_wait(args):
    """wait TAG [--stop]: waits for the background UAC TAG (after SIGUSR1 with --stop: no new
    calls) and prints the report."""
    tag = args[0]
    with open(f"{WORK}/{tag}.pid") as f:
        pid = int(f.read())
    if "--stop" in args and alive(pid):
        try:
            os.kill(pid, signal.SIGUSR1)
        except ProcessLookupError:
            pass
    while alive(pid):
        time.sleep(0.2)
    try:
        rc = os.waitpid(pid, 0)[1] >> 8
    except ChildProcessError:
        rc = 0 if sipp_totals(tag).get("FailedCall") == "0" else 1
    finish_uac(tag, rc)


def cmd_diag(args):
    """diag TAG: where TAG's incomplete calls lost messages, and the kernel's drop counters."""
    tag = args[0]
    for ns in ["cli", "dir", "dir2", "rs1", "rs2", "rs3"]:
        if not ns_exists(ns):
            continue
        with In(ns):
            snmp = open("/proc/net/snmp").read().split("\n")
            arp = open("/proc/net/stat/arp_cache").read().split("\n") \
                if os.path.exists("/proc/net/stat/arp_cache") else []
        mib = {}
        for proto in ("Ip", "Udp"):
            rows = [x.split() for x in snmp if x.startswith(proto + ": ")]
            mib.update({f"{proto}{k}": v for k, v in zip(rows[0][1:], rows[1][1:])})
        unres = sum(int(dict(zip(arp[0].split(), x.split()))["unresolved_discards"], 16)
                    for x in arp[1:] if x)
        keys = ("UdpInDatagrams", "UdpNoPorts", "UdpInErrors", "UdpRcvbufErrors",
                "UdpOutDatagrams", "IpInReceives", "IpInDiscards", "IpInHdrErrors",
                "IpInAddrErrors", "IpForwDatagrams", "IpOutDiscards", "IpOutNoRoutes")
        say(f"  {ns}: " + " ".join(f"{k}={mib[k]}" for k in keys) +
            f" arp_unresolved_discards={unres}")
    drops = sum(int(x.split()[1], 16) for x in open("/proc/net/softnet_stat").read().split("\n")
                if x)
    say(f"  softnet drops: {drops}; ipvs dir (conns, in, out): {ipvs_totals('dir')}")
    uac = {}
    for d, first, cid, _ in sipp_messages(f"{LOGS}/{tag}.msg"):
        if cid:
            uac.setdefault(cid, []).append(f"{d}:{first.decode('latin-1')[:12]}")
    srv = {}
    for i in (1, 2, 3):
        for d, first, cid, _ in server_messages(i):
            if cid and cid.startswith(tag + "-"):
                srv.setdefault(cid, []).append(f"rs{i}{d}:{first.decode('latin-1')[:12]}")
    bad = [c for c, m in uac.items() if not any("in:SIP/2.0 200" in x for x in m[-1:])]
    say(f"  calls whose last client message is not a 200: {len(bad)}")
    for c in bad[:4]:
        say(f"    {c}: client {uac[c]}")
        say(f"    {c}: servers {srv.get(c)}")
    for f in sorted(os.listdir(LOGS)):
        if f.endswith((".err", ".out")):
            with open(f"{LOGS}/{f}", errors="replace") as fh:
                lines = [x for x in re.split(r"[\n\r]", fh.read()[-20000:]) if x.strip() and
                         "Overload warning" not in x and "events occurred" not in x]
            for x in lines[-4:]:
                say(f"  {f}: {x[:300]}")


def cmd_stats(args):
    """stats [PREFIX]: the engine's counters as PREFIX_NAME=N."""
    p = args[0] if args else "S"
    print(" ".join(f"{p}_{k}={v}" for k, v in engine_stats().items()))


def cmd_load(args):
    """load MODULE: finit_module; prints LOAD_RC (0 or errno)."""
    print(f"LOAD_RC={load_module(args[0])}")


def server_of_calls(tag=None):
    """Call-ID -> the real servers (numbers) whose logs received it."""
    seen = {}
    for i in (1, 2, 3):
        for d, _, cid, _ in server_messages(i):
            if cid and (tag is None or cid.startswith(tag + "-")):
                seen.setdefault(cid, set()).add(i)
    return seen


def cmd_templates(args):
    """templates NS [v6]: the engine's templates in NS, compared with where the servers' logs
    saw their Call-IDs: T_COUNT, T_AGREE (template points at the one server that logged the
    Call-ID), T_NAMED (the Call-ID ends with @ the template's server, as the Call-IDs of calls
    sipp starts on a server do), T_TO_i."""
    addrs = RS6 if "v6" in args else RS
    conns = [c for c in ipvs_conns(args[0]) if c["pe"] == "sip"]
    seen = server_of_calls()
    agree = sum(1 for c in conns if c["dest"] in addrs and
                seen.get(c["data"]) == {addrs.index(c["dest"]) + 1})
    named = sum(1 for c in conns if c["data"].endswith("@" + c["dest"]))
    per = {i: sum(1 for c in conns if c["dest"] == addrs[i - 1]) for i in (1, 2, 3)}
    print(f"T_COUNT={len(conns)} T_AGREE={agree} T_NAMED={named} " +
          " ".join(f"T_TO_{i}={per[i]}" for i in per))
    for c in conns[:2]:
        say(f"  e.g. template -> {c['dest']}:{c['dport']} sip {c['data']}")


def cmd_failover(args):
    """failover N TAG: waits until the backup (dir2) holds the sync'd templates of N calls of
    TAG (B_TEMPLATES, B_WAIT seconds, B_NAMED: those with engine sip and the Call-ID); then
    the master fails (its LAN ports go down) and the backup takes the VIP and the servers'
    gateway address, announcing both with gratuitous ARP, as keepalived would."""
    n, tag = int(args[0]), args[1]
    t0 = time.time()
    mine = []
    while time.time() - t0 < 60:
        mine = [c for c in ipvs_conns("dir2") if (c["data"] or "").startswith(tag + "-")]
        if len(mine) >= n:
            break
        time.sleep(0.3)
    named = sum(1 for c in mine if c["pe"] == "sip" and c["template"])
    print(f"B_TEMPLATES={len(mine)} B_NAMED={named} B_WAIT={time.time() - t0:.1f}")
    t1 = time.time()
    with In("sw"):
        rt = Rt()
        rt.set("pd0", up=False)
        rt.set("pd1", up=False)
        rt.close()
    with In("dir2"):
        rt = Rt()
        rt.addr("e0", VIP + "/32")
        rt.addr("e1", "10.0.2.1/24")
        rt.close()
    _, b_in, _ = ipvs_totals("dir2")
    for k in range(3):
        garp("dir2", "e0", VIP)
        garp("dir2", "e1", "10.0.2.1")
        if k < 2:
            time.sleep(0.5)
    began = os.path.getmtime(f"{WORK}/{tag}.pid")
    print(f"TAKEOVER_S={time.time() - t1:.2f} TAKEOVER_AT={time.time() - began:.0f} "
          f"B_IN_BEFORE={b_in}")


def cmd_totals(args):
    """totals NS PREFIX: IPVS packet totals in NS."""
    c, i, o = ipvs_totals(args[0])
    print(f"{args[1]}_CONNS={c} {args[1]}_IN={i} {args[1]}_OUT={o}")


def cmd_dev(args):
    """dev DEV PREFIX NS...: packets received on DEV in each NS, as PREFIX_NS=N."""
    dev, p = args[0], args[1]
    out = []
    for ns in args[2:]:
        with In(ns):
            lines = open("/proc/net/dev").read().split("\n")[2:]
        rx = {x.split(":")[0].strip(): int(x.split(":")[1].split()[1]) for x in lines if ":" in x}
        out.append(f"{p}_{ns}={rx.get(dev, -1)}")
    print(" ".join(out))


def cmd_snmp(args):
    """snmp NS PREFIX: fragmentation counters of NS (IPv4 and IPv6)."""
    with In(args[0]):
        snmp = open("/proc/net/snmp").read().split("\n")
        snmp6 = dict(line.split() for line in open("/proc/net/snmp6").read().split("\n") if line)
    heads = [x.split() for x in snmp if x.startswith("Ip: ")]
    ip = dict(zip(heads[0][1:], heads[1][1:]))
    p = args[1]
    print(f"{p}_FRAGCREATES={ip['FragCreates']} {p}_FRAGOKS={ip['FragOKs']} "
          f"{p}_REASMOKS={ip['ReasmOKs']} {p}_FRAG6CREATES={snmp6['Ip6FragCreates']} "
          f"{p}_REASM6OKS={snmp6['Ip6ReasmOKs']}")


def server_log_size(i):
    return sum(os.path.getsize(f"{LOGS}/{f}") for f in os.listdir(LOGS)
               if f.startswith(f"rs{i}.") and f.endswith(".msg"))


def cmd_remove_server(args):
    """remove-server I: deletes real server I from the service (while calls run); prints the
    size of its message logs and the count of /proc/net/ip_vs_conn entries pointing at it,
    a moment later."""
    i = int(args[0])
    rc = run("dir", ["ipvsadm-rs", "-d", "-u", f"{VIP}:5060", "-r", f"{RS[i - 1]}:5060"]).returncode
    # The director drops entries to a removed server in deferred work; give it, and the
    # datagrams already on their way to the server, a moment.
    time.sleep(2)
    to = sum(1 for c in ipvs_conns("dir") if c["dest"] == RS[i - 1])
    print(f"DEL_RC={rc} LOG_AFTER={server_log_size(i)} CONNS_AFTER={to}")


def cmd_removed(args):
    """removed TAG I: after the run, for the removed real server I: the size of its logs, the
    entries pointing at it, and TAG's calls it took (INVITE received) but did not finish
    (no BYE received): those the removal cut."""
    tag, i = args[0], int(args[1])
    to = sum(1 for c in ipvs_conns("dir") if c["dest"] == RS[i - 1])
    calls = {}
    for d, first, cid, _ in server_messages(i):
        if d == "in" and cid and cid.startswith(tag + "-"):
            calls.setdefault(cid, set()).add(first.split(b" ")[0])
    cut = sum(1 for m in calls.values() if b"INVITE" in m and b"BYE" not in m)
    print(f"LOG_END={server_log_size(i)} CONNS_END={to} CUT={cut}")


def cmd_conn_out(args):
    """conn-out N RATE: the servers start calls: sipp UAC on each real server sends N calls to
    the client's sipp UAS (10.0.1.2:5060) through the director. Prints per server i:
    SRVi_OK, SRVi_FAILED, SRVi_OWN (answers it received for its own calls), SRVi_FOREIGN
    (messages it received of calls it did not start), and CLI_INVITES (INVITEs the client
    received)."""
    n, rate = args[0], args[1]
    spawn("cli", ["sipp", "-sn", "uas", "-i", CLI, "-p", "5060", "-nr", "-nostdin", "-buff_size",
                  BUFF, "-trace_msg", "-message_file", f"{LOGS}/cli.msg", "-trace_err",
                  "-error_file", f"{LOGS}/cli.err"] + WATCHDOG, log=f"{LOGS}/cli.out", cwd=LOGS)
    wait_listening(["cli"])
    procs = [sipp_uac(f"srv{i}", f"rs{i}", RS[i - 1], f"{CLI}:5060", n, rate)
             for i in (1, 2, 3)]
    t0 = time.time()
    for p in procs:
        p.wait()
    say(f"  the servers' sipp clients ended after {time.time() - t0:.0f} s, exit "
        f"{[p.returncode for p in procs]}")
    for i in (1, 2, 3):
        t = sipp_totals(f"srv{i}")
        own = foreign = 0
        for d, first, cid, _ in sipp_messages(f"{LOGS}/srv{i}.msg"):
            if d == "in":
                if cid and cid.startswith(f"srv{i}-"):
                    own += 1
                else:
                    foreign += 1
        print(f"SRV{i}_OK={t.get('SuccessfulCall', '?')} SRV{i}_FAILED={t.get('FailedCall', '?')} "
              f"SRV{i}_OWN={own} SRV{i}_FOREIGN={foreign}")
        if any(p.returncode for p in procs):
            cmd_diag([f"srv{i}"])
    invites = sum(1 for d, first, *_ in sipp_messages(f"{LOGS}/cli.msg")
                  if d == "in" and first.startswith(b"INVITE"))
    print(f"CLI_INVITES={invites}")


# --- The hostile scenario -----------------------------------------------------------------

# Call-ID word characters (RFC 3261), without those a shell would interpret.
WORD = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%_+~"
# Maps any byte to a Call-ID word character, or to anything but a line end.
TO_WORD = bytes(WORD[b % len(WORD)] for b in range(256))
NO_EOL = bytes(b if b not in (10, 13) else 32 for b in range(256))


def words(rng, n):
    return rng.randbytes(n).translate(TO_WORD)


def sip_request(callid_line, method="OPTIONS", body=b""):
    return (f"{method} sip:svc@example.test SIP/2.0\r\n"
            "Via: SIP/2.0/UDP attacker.test:5060;branch=z9hG4bK1\r\n"
            "From: <sip:a@example.test>;tag=1\r\nTo: <sip:svc@example.test>\r\n").encode() + \
        callid_line + b"CSeq: 1 " + method.encode() + b"\r\nContent-Length: " + \
        str(len(body)).encode() + b"\r\n\r\n" + body


def hostile_datagrams(rng, n):
    """N malformed or random datagrams, each with the counter the engine must count it in
    ("any" for random bytes, which may even hold a Call-ID)."""
    kinds = ["empty", "no_callid", "binary", "huge", "truncated", "bad", "early", "random"]
    early = sip_request(b"Call-ID: early@attacker.test\r\n", "INVITE")
    for k in range(n):
        kind = kinds[k % len(kinds)]
        if kind == "empty":
            yield b"", "no_payload"
        elif kind == "no_callid":
            yield sip_request(b""), "no_callid"
        elif kind == "binary":
            # Without a line end there is no header after the start line.
            yield rng.randbytes(rng.randint(1, 512)).translate(NO_EOL), "no_callid"
        elif kind == "huge":
            yield sip_request(b"Call-ID: " + words(rng, rng.randint(256, 1200)) + b"\r\n"), \
                "too_long"
        elif kind == "truncated":
            # Cut inside the Call-ID's value: no line end after it.
            full = sip_request(b"Call-ID: cut%d@attacker.test\r\n" % k)
            yield full[:full.index(b"@attacker.test") + 5], "bad_terminator"
        elif kind == "bad":
            yield sip_request(b"Call-ID: abc%d;tag=x\r\n" % k), "bad_terminator"
        elif kind == "early":
            # Cut before the Call-ID header.
            yield early[:rng.randint(1, early.index(b"Call-ID"))], "no_callid"
        else:
            d = rng.randbytes(rng.randint(1, 512))
            if k % 16 == 7:
                d = b"INVITE sip:x SIP/2.0\r\n" + d.replace(b"\0", b"\r\n")
            yield d, "any"


def cpu_snapshot():
    with open("/proc/stat") as f:
        total = [int(x) for x in f.readline().split()[1:8]]
    procs = {}
    for pid, ns in procs_in_namespaces().items():
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().split(") ")[-1].split()
            with open(f"/proc/{pid}/comm") as f:
                procs[pid] = (f"{f.read().strip()}@{ns}", int(st[11]) + int(st[12]))
        except OSError:
            pass
    return total, procs


def cpu_report(before):
    (t0, p0), (t1, p1) = before, cpu_snapshot()
    names = ["user", "nice", "system", "idle", "iowait", "irq", "softirq"]
    d = [b - a for a, b in zip(t0, t1)]
    parts = [f"{n} {v / 100:.1f}s" for n, v in zip(names, d) if v]
    parts += [f"{p1[p][0]} {(p1[p][1] - p0.get(p, ('', 0))[1]) / 100:.1f}s" for p in p1]
    return ", ".join(parts)


def cmd_hostile(args):
    """hostile N MARKER: sends ten valid datagrams with Call-IDs of exactly 255 bytes, then N
    malformed ones (IPv4 and IPv6, alternately) at the VIPs from the client; prints what was
    sent per category. Once the long Call-IDs are sent it writes them to MARKER (LONG_IDS=(...))
    and keeps going, so that the listing happens while the flood runs."""
    n, marker = int(args[0]), args[1]
    rng = random.Random(5060)
    longs = [words(rng, 251).decode() + f"{i:04d}" for i in range(10)]
    sent = {}
    with In("cli"):
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s4.bind((CLI, 0))
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s6.bind((CLI6, 0))
    # Each socket's receive buffer takes what the servers answer; nobody reads it.
    for i, cid in enumerate(longs):
        d = sip_request(b"Call-ID: " + cid.encode() + b"\r\n", "INVITE")
        sock, dst = (s6, (VIP6, 5060)) if i % 2 else (s4, (VIP, 5060))
        sock.sendto(d, dst)
        sent["found"] = sent.get("found", 0) + 1
    # Written whole, then renamed: the scenario waits for MARKER and reads the IDs from it.
    with open(marker + ".tmp", "w") as f:
        f.write("LONG_IDS=(" + " ".join(shlex.quote(x) for x in longs) + ")\n")
    os.rename(marker + ".tmp", marker)
    cpu0 = cpu_snapshot()
    t0 = time.time()
    for k, (d, cat) in enumerate(hostile_datagrams(rng, n)):
        sock, dst = (s6, (VIP6, 5060)) if k % 2 else (s4, (VIP, 5060))
        sock.sendto(d, dst)
        sent[cat] = sent.get(cat, 0) + 1
        # Paced so that the guest's receive queues never overflow: every datagram reaches the
        # director, and the real calls beside them lose nothing.
        if k % 8 == 7:
            time.sleep(0.004)
    dt = time.time() - t0
    say("  CPU while flooding: " + cpu_report(cpu0))
    print(f"H_TOTAL={n + len(longs)} H_SECONDS={dt:.1f} " +
          " ".join(f"H_{k}={v}" for k, v in sorted(sent.items())))


def cmd_cycles(args):
    """cycles N: N times: load the engine, attach it to the idle service 10.0.1.100:5070 in
    "dir", try to unload it (must be refused), detach it, unload it (must succeed). A thread
    reads the engine's counter files all along, across their creation and removal."""
    n = int(args[0])
    stop = threading.Event()
    reads = [0]

    def reader():
        while not stop.is_set():
            try:
                with open(stats_file) as f:
                    f.read()
                reads[0] += 1
            except OSError:
                pass

    # The counters of the root namespace (each namespace has its own file).
    stats_file = "/proc/1/net/ip_vs_pe_sip_stats"
    th = threading.Thread(target=reader)
    th.start()
    with In("dir"):
        ipvs = Ipvs()
    res = {"loaded": 0, "attached": 0, "refused": 0, "unloaded": 0, "stats_dir": 0}
    errors = []
    t0 = time.time()
    try:
        for _ in range(n):
            rc = load_module("ip_vs_pe_sip_rs")
            if rc:
                errors.append(f"load: {os.strerror(rc)}")
                break
            res["loaded"] += 1
            res["stats_dir"] += os.path.isfile(stats_file)
            ipvs.set_service(VIP, 5070, "sip")
            res["attached"] += 1
            rc = unload_module("ip_vs_pe_sip_rs")
            if rc == errno.EWOULDBLOCK:
                res["refused"] += 1
            else:
                errors.append(f"unload while attached: {os.strerror(rc) if rc else 'succeeded'}")
            ipvs.set_service(VIP, 5070, None)
            rc = unload_module("ip_vs_pe_sip_rs")
            if rc == 0:
                res["unloaded"] += 1
            else:
                errors.append(f"unload after detach: {os.strerror(rc)}")
                break
    finally:
        stop.set()
        th.join()
    print(f"C_SECONDS={time.time() - t0:.1f} C_READS={reads[0]} " +
          " ".join(f"C_{k.upper()}={v}" for k, v in res.items()))
    for e in errors[:5]:
        say(f"  cycle error: {e}")


def cmd_refuse(args):
    """refuse: tries to unload the engine now (a service uses it): prints REFUSE_RC."""
    print(f"REFUSE_RC={unload_module('ip_vs_pe_sip_rs')}")


if __name__ == "__main__":
    os.makedirs(WORK, exist_ok=True)
    name = sys.argv[1].replace("-", "_")
    globals()[f"cmd_{name}"](sys.argv[2:])
