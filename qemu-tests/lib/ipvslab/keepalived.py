"""keepalived on the failover topology, with the recipe's own files (docs/operations/): the
directors' interfaces named as the recipe names them, its sysctls, keepalived instances
each with their own pid files and log, SIP servers that answer health checks, and what
the scenario reads (addresses, real servers, sync daemons, the kernel's log)."""
import ipaddress
import os
import re
import signal
import shlex
import shutil
import socket
import struct

from . import ipvs, netns, procs, rtnl, sipp
from .topology import DIR2_NS, DIR_NS, GW, RS, SERVERS, VIP, rs_ns

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
RECIPE = os.path.join(ROOT, "docs", "operations")
CONF = os.path.join(RECIPE, "keepalived.conf")
SYSCTL = os.path.join(RECIPE, "sysctl.conf")
# keepalived's config-id (its `@NODE` lines) of each director's namespace.
NODES = {DIR_NS: "director1", DIR2_NS: "director2"}
RTM_DELADDR, RTM_GETADDR = 21, 22
# Where the recipe installs the checker (its misc_path): the guest's /usr is a writable overlay.
CHECKER = "/usr/local/bin/sip-options-check"
# keepalived's log lines of a MISC_CHECK's result.
CHECK_OK = r"[Mm]isc check .*succe"
CHECK_FAILED = re.compile(r"[Mm]isc check .*(fail|timed out)|Removing service|[Dd]isabling service")
IFLA_IFNAME = 3


def recipe_sysctls():
    """{name: value} of the recipe's sysctl.conf."""
    out = {}
    with open(SYSCTL) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                k, _, v = line.partition("=")
                out[k.strip()] = v.strip()
    return out


def advert_int():
    """The VRRP advertisement interval of the recipe's keepalived.conf (seconds)."""
    with open(CONF) as f:
        m = re.search(r"^\s*advert_int\s+(\d+)", f.read(), re.M)
    return int(m.group(1)) if m else 1


def _rename(rt, old, new):
    idx = socket.if_nametoindex(old)
    rt.request(rtnl.RTM_NEWLINK, rtnl.ifinfo(idx, 0, rtnl.IFF_UP))
    rt.request(rtnl.RTM_NEWLINK, rtnl.ifinfo(idx) + rtnl.nla(IFLA_IFNAME, new.encode() + b"\0"))
    rt.request(rtnl.RTM_NEWLINK, rtnl.ifinfo(idx, rtnl.IFF_UP, rtnl.IFF_UP))


def _del_addr(rt, dev, cidr):
    ip = ipaddress.ip_interface(cidr)
    msg = struct.pack("=BBBBI", socket.AF_INET, ip.network.prefixlen, 0, 0,
                      socket.if_nametoindex(dev))
    rt.request(RTM_DELADDR, msg + rtnl.nla(rtnl.IFA_LOCAL, ip.ip.packed))


def recipe_topology():
    """On the failover topology: the backup's interfaces named as the master's (d0 client
    LAN, d1 server LAN, s0 sync link), as the recipe's one keepalived.conf expects, and the
    floating addresses (VIP, servers' gateway) taken off the master: keepalived adds them
    where VRRP says."""
    with netns.In(DIR2_NS):
        rt = rtnl.Rt()
        try:
            for old, new in (("e0", "d0"), ("e1", "d1"), ("s1", "s0")):
                _rename(rt, old, new)
        finally:
            rt.close()
    with netns.In(DIR_NS):
        rt = rtnl.Rt()
        try:
            _del_addr(rt, "d0", VIP + "/32")
            _del_addr(rt, "d1", GW + "/24")
        finally:
            rt.close()


def addresses(ns):
    """The IPv4 addresses of NS (strings)."""
    with netns.In(ns):
        rt = rtnl.Rt()
    try:
        out = set()
        for _, body in rt.request(RTM_GETADDR, struct.pack("=BBBBI", socket.AF_INET, 0, 0, 0, 0),
                                  dump=True):
            a = rtnl.attrs(body, 8)
            if rtnl.IFA_LOCAL in a:
                out.add(socket.inet_ntoa(a[rtnl.IFA_LOCAL]))
        return out
    finally:
        rt.close()


def holds(ns, *ips):
    return set(ips) <= addresses(ns)


def sync_states(ns):
    """The states of the sync daemons running in NS ("master", "backup"), read over netlink:
    the scenario polls them, and every exec costs seconds under the debug kernel."""
    return [state for state, _, _ in ipvs.daemons(ns)]


class Keepalived:
    """keepalived in NS with a recipe's keepalived.conf (CONF, the failover recipe's unless
    told) as node NODE (NODES[NS] unless told), in the foreground, logging to the console (its
    log file), with pid files of its own."""

    def __init__(self, ns, work, env=None, conf=CONF, node=None):
        self.ns, self.node = ns, node or NODES[ns]
        base = f"{work}/keepalived-{self.node}"
        self.log = base + ".log"
        self.pids = [f"{base}.pid", f"{base}-vrrp.pid", f"{base}-checkers.pid"]
        args = ["keepalived", "--dont-fork", "--log-console", "--no-syslog", "--log-detail",
                "-f", conf, "-i", self.node, "-p", self.pids[0], "-r", self.pids[1],
                "-c", self.pids[2]]
        self.proc = procs.spawn(ns, args, log=self.log, env=env)

    def text(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def logged(self, pattern, after=0):
        """Whether the log has a line matching PATTERN after character AFTER."""
        return re.search(pattern, self.text()[after:], re.M) is not None

    def events(self, after=0, limit=40):
        """keepalived's lines about checks, VRRP states, services and sync daemons after
        character AFTER (the last LIMIT)."""
        keep = re.compile(r"[Mm]isc check|Removing|Adding|Entering|STATE|sync|[Tt]imeout|"
                          r"fail|error|WARNING", re.I)
        return [x.strip()[:200] for x in self.text()[after:].split("\n") if keep.search(x)][-limit:]

    def vrrp_state(self):
        """The VRRP state keepalived last entered (MASTER, BACKUP, FAULT), or None."""
        states = re.findall(r"Entering (\w+) STATE", self.text())
        return states[-1] if states else None

    def vrrp_lines(self, limit=30):
        return [x.strip()[:200] for x in self.text().split("\n") if "(SIP_DIRECTOR)" in x][-limit:]

    def children(self):
        out = []
        for p in self.pids[1:]:
            try:
                with open(p) as f:
                    out.append(int(f.read().strip()))
            except (OSError, ValueError):
                pass
        return out

    def kill(self):
        """The director crashes: keepalived and its children killed at once (SIGKILL), so
        nothing is cleaned up."""
        victims = [self.proc.pid] + self.children()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for p in victims:
            try:
                os.kill(p, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()

    def stop(self, deadline):
        """An orderly stop (SIGTERM): keepalived removes its addresses and IPVS services.
        Returns its exit status (None if it was still running at DEADLINE)."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=deadline)
        except Exception:
            return None


def check_command(server):
    """The health check the recipe's keepalived.conf runs for SERVER (its misc_path, split)."""
    with open(CONF) as f:
        m = re.search(r'misc_path\s+"([^"]*\s' + re.escape(server) + r':5060)"', f.read())
    if not m:
        raise LookupError(f"no misc_path for {server} in {CONF}")
    return shlex.split(m.group(1))


def install_checker():
    """sip-options-check where the recipe installs it: this build's (on PATH) copied there."""
    src = shutil.which("sip-options-check")
    if not src:
        raise FileNotFoundError("sip-options-check is not on PATH (cargo build --release)")
    os.makedirs(os.path.dirname(CHECKER), exist_ok=True)
    shutil.copy(src, CHECKER + ".tmp")
    os.chmod(CHECKER + ".tmp", 0o755)
    os.rename(CHECKER + ".tmp", CHECKER)


def uninstall_checker():
    try:
        os.unlink(CHECKER)
    except FileNotFoundError:
        pass


def sip_servers(lab):
    """sipp's UAS on each real server, answering OPTIONS (and INFO, NOTIFY, UPDATE) outside
    calls with a 200 (-aa), so that the health checks have an answer; their logs named as
    Sipp.servers names them (its reports read them). Waits until they all listen."""
    s = lab.sipp
    for i in SERVERS:
        base = f"{s.logs}/rs{i}.v4"
        args = ["sipp", "-sn", "uas", "-aa", "-i", RS[i - 1], "-p", "5060"] + s._args(base)
        procs.spawn(rs_ns(i), args, log=base + ".out", cwd=s.logs, env=sipp.env())
    sipp.wait_listening([rs_ns(i) for i in SERVERS])


def blackhole(ns, ip, on=True):
    """A blackhole route to IP in NS (added, or removed with ON false): what NS sends to IP
    is dropped silently."""
    p = procs.run(ns, ["ip", "route", "add" if on else "del", "blackhole", f"{ip}/32"],
                  capture_output=True)
    if p.returncode:
        raise RuntimeError(f"ip route blackhole {ip} in {ns}: {p.stderr.decode().strip()}")
