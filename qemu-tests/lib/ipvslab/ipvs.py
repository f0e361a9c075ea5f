"""IPVS: rules through `ipvsadm-rs -R`, the generic netlink family for what the scenarios
change or count while traffic runs, and the /proc/net files (read nowhere else).

For the shell scripts in the VM: python3 -S -m ipvslab.ipvs entries NS prints how many
entries (connections and templates) NS's connection table holds."""
import contextlib
import ipaddress
import socket
import struct
import sys

from . import checks, netns, procs
from .rtnl import Netlink, attrs, nla

GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_ID, CTRL_ATTR_FAMILY_NAME = 0x10, 3, 1, 2
IPVS_CMD_SET_SERVICE, IPVS_CMD_GET_SERVICE, IPVS_CMD_ATTR_SERVICE = 2, 4, 1
IPVS_CMD_NEW_SERVICE, IPVS_CMD_DEL_SERVICE = 1, 3
IPVS_CMD_NEW_DEST, IPVS_CMD_SET_DEST, IPVS_CMD_DEL_DEST, IPVS_CMD_ATTR_DEST = 5, 6, 7, 2
DEST_ADDR, DEST_PORT, DEST_FWD, DEST_WEIGHT, DEST_U_THRESH, DEST_L_THRESH = 1, 2, 3, 4, 5, 6
FWD_MASQ = 0
IPVS_CMD_GET_DAEMON, IPVS_CMD_ATTR_DAEMON = 11, 3
IPVS_CMD_FLUSH = 17
DAEMON_STATE, DAEMON_MCAST_IFN, DAEMON_SYNC_ID = 1, 2, 3
DAEMON_STATES = {1: "master", 2: "backup"}
SVC_AF, SVC_PROTO, SVC_ADDR, SVC_PORT, SVC_SCHED, SVC_FLAGS, SVC_TIMEOUT, SVC_NETMASK, \
    SVC_STATS, SVC_PE, SVC_STATS64 = 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12
STATS_CONNS, STATS_INPKTS, STATS_OUTPKTS = 1, 2, 3
SVC_F_PERSISTENT, SVC_F_ONEPACKET = 0x1, 0x4


def rules(namespaces, text):
    """`ipvsadm-rs -R` of TEXT in each namespace; a line "@NS rule" goes to NS only."""
    for ns in namespaces:
        lines = []
        for line in text.strip().split("\n"):
            line = line.strip()
            if line.startswith("@"):
                target, _, line = line[1:].partition(" ")
                if target != ns:
                    continue
            lines.append(line)
        p = procs.run(ns, ["ipvsadm-rs", "-R"], input="\n".join(lines).encode() + b"\n")
        if p.returncode:
            raise RuntimeError(f"ipvsadm-rs -R in {ns}: exit {p.returncode}")


def service_rules(vip, servers, fwd="-m", pe="sip", v6=False, port=5060, persistence=60,
                  sched="rr"):
    """The rules of a one-packet UDP service on VIP:PORT with scheduler SCHED and PERSISTENCE
    seconds (None: not persistent; mask 0.0.0.0 in IPv4; in IPv6 the default /128, which with
    one client keys the templates on the Call-ID as 0.0.0.0 does in IPv4), engine PE (None:
    none), to SERVERS with FWD.

    A template lives PERSISTENCE seconds after its call's last datagram: a scenario that
    counts templates after a wait of unbounded length (calls held, a slow host) needs one
    longer than any such wait."""
    a = (lambda ip: f"[{ip}]:{port}") if v6 else (lambda ip: f"{ip}:{port}")
    persist = "" if persistence is None else \
        f" -p {persistence}" + ("" if v6 else " -M 0.0.0.0")
    head = f"-A -u {a(vip)} -s {sched}{persist} -o" + (f" --pe {pe}" if pe else "")
    return "\n".join([head] + [f"-a -u {a(vip)} -r {a(s)} {fwd}" for s in servers])


class Ipvs(Netlink):
    """The IPVS generic netlink family, in the namespace current when it was made."""

    def __init__(self):
        super().__init__(16)  # NETLINK_GENERIC
        msg = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + \
            nla(CTRL_ATTR_FAMILY_NAME, b"IPVS\0")
        (_, body), = self.request(GENL_ID_CTRL, msg)
        self.family = struct.unpack_from("=H", attrs(body, 4)[CTRL_ATTR_FAMILY_ID])[0]

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

    def _service_id(self, addr, port):
        return nla(SVC_AF, struct.pack("=H", socket.AF_INET)) + \
            nla(SVC_PROTO, struct.pack("=H", socket.IPPROTO_UDP)) + \
            nla(SVC_ADDR, socket.inet_aton(addr) + b"\0" * 12) + \
            nla(SVC_PORT, struct.pack("!H", port))

    def new_service(self, addr, port, sched, timeout=None, pe=None):
        """`ipvsadm -A -u ADDR:PORT -s SCHED -o [-p TIMEOUT -M 0.0.0.0] [--pe PE]` (IPv4)."""
        flags = SVC_F_ONEPACKET | (SVC_F_PERSISTENT if timeout else 0)
        svc = self._service_id(addr, port) + nla(SVC_SCHED, sched.encode() + b"\0") + \
            nla(SVC_FLAGS, struct.pack("=II", flags, 0xffffffff)) + \
            nla(SVC_TIMEOUT, struct.pack("=I", timeout or 0)) + nla(SVC_NETMASK, b"\0" * 4)
        if pe:
            svc += nla(SVC_PE, pe.encode() + b"\0")
        self.request(self.family, struct.pack("=BBH", IPVS_CMD_NEW_SERVICE, 1, 0) +
                     nla(IPVS_CMD_ATTR_SERVICE, svc))

    def del_service(self, addr, port):
        """`ipvsadm -D -u ADDR:PORT` (IPv4)."""
        self.request(self.family, struct.pack("=BBH", IPVS_CMD_DEL_SERVICE, 1, 0) +
                     nla(IPVS_CMD_ATTR_SERVICE, self._service_id(addr, port)))

    def dest(self, cmd, addr, port, server, weight=1, dport=None):
        """`ipvsadm -a|-e|-d -u ADDR:PORT -r SERVER:DPORT -m -w WEIGHT` (IPv4; DPORT: PORT if
        None): CMD is "add", "edit" or "delete"."""
        d = nla(DEST_ADDR, socket.inet_aton(server) + b"\0" * 12) + \
            nla(DEST_PORT, struct.pack("!H", dport or port))
        if cmd != "delete":
            d += nla(DEST_FWD, struct.pack("=I", FWD_MASQ)) + \
                nla(DEST_WEIGHT, struct.pack("=i", weight)) + \
                nla(DEST_U_THRESH, struct.pack("=I", 0)) + nla(DEST_L_THRESH, struct.pack("=I", 0))
        op = {"add": IPVS_CMD_NEW_DEST, "edit": IPVS_CMD_SET_DEST, "delete": IPVS_CMD_DEL_DEST}
        self.request(self.family, struct.pack("=BBH", op[cmd], 1, 0) +
                     nla(IPVS_CMD_ATTR_SERVICE, self._service_id(addr, port)) +
                     nla(IPVS_CMD_ATTR_DEST, d))

    def services(self):
        """Every service with its packet counters: dicts addr, port, proto, conns, inpkts,
        outpkts."""
        out = []
        for _, body in self.request(self.family, struct.pack("=BBH", IPVS_CMD_GET_SERVICE, 1, 0),
                                    dump=True):
            svc = attrs(attrs(body, 4).get(IPVS_CMD_ATTR_SERVICE, b""))
            if SVC_ADDR not in svc:
                continue  # a firewall-mark service
            af = struct.unpack("=H", svc[SVC_AF])[0]
            raw = svc[SVC_ADDR][:16 if af == socket.AF_INET6 else 4]
            st = attrs(svc[SVC_STATS64]) if SVC_STATS64 in svc else attrs(svc[SVC_STATS])
            num = (lambda v: struct.unpack("=Q", v)[0]) if SVC_STATS64 in svc else \
                (lambda v: struct.unpack("=I", v)[0])
            out.append({"addr": str(ipaddress.ip_address(raw)),
                        "port": struct.unpack("!H", svc[SVC_PORT])[0],
                        "proto": struct.unpack("=H", svc[SVC_PROTO])[0],
                        "conns": num(st[STATS_CONNS]), "inpkts": num(st[STATS_INPKTS]),
                        "outpkts": num(st[STATS_OUTPKTS])})
        return out

    def daemons(self):
        """The sync daemons: (state "master" or "backup", interface, sync id) each, as
        `ipvsadm -L --daemon` lists them, without a process."""
        out = []
        for _, body in self.request(self.family, struct.pack("=BBH", IPVS_CMD_GET_DAEMON, 1, 0),
                                    dump=True):
            d = attrs(attrs(body, 4).get(IPVS_CMD_ATTR_DAEMON, b""))
            if DAEMON_STATE not in d:
                continue
            state = struct.unpack("=I", d[DAEMON_STATE])[0]
            out.append((DAEMON_STATES.get(state, str(state)),
                        d.get(DAEMON_MCAST_IFN, b"").split(b"\0")[0].decode(),
                        struct.unpack("=I", d[DAEMON_SYNC_ID])[0] if DAEMON_SYNC_ID in d else None))
        return out


@contextlib.contextmanager
def opened(ns):
    """`with opened(NS) as nl:` an Ipvs socket of namespace NS, closed after the block."""
    with netns.In(ns):
        nl = Ipvs()
    try:
        yield nl
    finally:
        nl.close()


def flush(ns):
    """`ipvsadm -C` in NS, by netlink: every service goes (and a service's engine is free once
    no template holds it)."""
    with opened(ns) as nl:
        nl.request(nl.family, struct.pack("=BBH", IPVS_CMD_FLUSH, 1, 0))


def daemons(ns):
    """The sync daemons of NS (Ipvs.daemons)."""
    with opened(ns) as nl:
        return nl.daemons()


def service_inpkts(ns, addr, port):
    """Packets IPVS in NS took in for the UDP service ADDR:PORT."""
    with opened(ns) as nl:
        for s in nl.services():
            if s["addr"] == str(ipaddress.ip_address(addr)) and s["port"] == port and \
                    s["proto"] == socket.IPPROTO_UDP:
                return s["inpkts"]
    raise LookupError(f"no service {addr}:{port} in {ns}")


def _addr(field):
    """An address of /proc/net/ip_vs_conn: IPv4 as 8 hex digits, IPv6 written out."""
    text = field.decode()
    return str(ipaddress.ip_address(text if ":" in text else int(text, 16)))


def conn_text(ns):
    """NS's /proc/net/ip_vs_conn as it is (for a failure's details)."""
    return netns.read(ns, "ip_vs_conn")


def conns(ns):
    """The entries of NS's /proc/net/ip_vs_conn: dicts with proto, caddr, cport, vaddr,
    vport, dest, dport, state, pe and data (the engine's name and data, None without an
    engine; data "" for a template without any), template (a template has no client port).
    Data is the rest of the line after the engine's name, every byte of it (latin-1)."""
    lines = netns.read(ns, "ip_vs_conn", "rb").split(b"\n")[1:]
    out = []
    for line in lines:
        # Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires [PEName [PEData]]
        fields = line.split(None, 9)
        if len(fields) < 9:
            continue
        pe, data = None, None
        if len(fields) == 10:
            pe, _, data = fields[9].partition(b" ")
            pe, data = pe.decode(), data.decode("latin-1")
        out.append({"proto": fields[0].decode(), "caddr": _addr(fields[1]),
                    "cport": int(fields[2], 16), "vaddr": _addr(fields[3]),
                    "vport": int(fields[4], 16), "dest": _addr(fields[5]),
                    "dport": int(fields[6], 16), "state": fields[7].decode(),
                    "pe": pe, "data": data, "template": fields[2] == b"0000"})
    return out


def real_servers(ns, vip, port=5060):
    """{server address: weight} of the IPv4 UDP service VIP:PORT in NS (/proc/net/ip_vs);
    None without that service."""
    want = f"{int(ipaddress.ip_address(vip)):08X}:{port:04X}"
    found, out = False, {}
    for line in netns.read(ns, "ip_vs").split("\n")[3:]:
        f = line.split()
        if not f:
            continue
        if f[0] != "->":
            found = f[0] == "UDP" and f[1] == want
        elif found:
            addr = str(ipaddress.ip_address(int(f[1].split(":")[0], 16)))
            out[addr] = int(f[3])
    return out if found else None


def totals_when(ns, cond, deadline=120):
    """NS's totals once COND(totals) holds (packets may still be on their way through the
    director), or as they are after DEADLINE seconds."""
    def caught_up():
        t = totals(ns)
        return t if cond(t) else None
    try:
        return procs.wait_until(caught_up, deadline, "IPVS's totals catch up")
    except procs.Timeout:
        t = totals(ns)
        checks.say(f"  IPVS's totals in {ns} after {deadline} s: {t}, not what was expected")
        return t


def totals(ns):
    """(connections, incoming, outgoing packets) IPVS handled in NS: the sums of its per-CPU
    counters in /proc/net/ip_vs_stats_percpu, which count each packet as it passes. (The
    totals in /proc/net/ip_vs_stats are the estimator's copy, made every 2 s, and later
    still while its kthread calibrates itself on a slow host.)"""
    c = i = o = 0
    for line in netns.read(ns, "ip_vs_stats_percpu").split("\n")[2:]:
        f = line.split()
        if not f or f[0] == "~":
            break
        c, i, o = c + int(f[1], 16), i + int(f[2], 16), o + int(f[3], 16)
    return c, i, o


def service_count(ns=None):
    """IPVS services in NS (/proc/net/ip_vs), by default in the root namespace: a namespace's
    services go with it, so once the lab's namespaces are gone, any left in the root one were
    made outside them."""
    try:
        if ns:
            text = netns.read(ns, "ip_vs")
        else:
            with open("/proc/net/ip_vs") as f:
                text = f.read()
    except FileNotFoundError:
        return 0
    return sum(1 for x in text.split("\n")[3:] if x.startswith(("TCP", "UDP", "SCTP", "FWM")))


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "entries":
        sys.exit("usage: python3 -m ipvslab.ipvs entries NS")
    print(len(conns(sys.argv[2])))
