"""A small netlink client: rtnetlink for links, addresses and routes (what `ip` does), and the
request/reply loop the generic netlink IPVS client (ipvs.py) shares."""
import fcntl
import ipaddress
import os
import socket
import struct

from . import netns

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_ACK, NLM_F_DUMP = 1, 4, 0x300
NLM_F_EXCL, NLM_F_CREATE = 0x200, 0x400
RTM_NEWLINK, RTM_NEWADDR, RTM_NEWROUTE = 16, 20, 24
IFLA_IFNAME, IFLA_MASTER, IFLA_LINKINFO, IFLA_NET_NS_FD = 3, 10, 18, 28
IFLA_INFO_KIND, IFLA_INFO_DATA, VETH_INFO_PEER = 1, 2, 1
IFA_ADDRESS, IFA_LOCAL, IFA_FLAGS, IFA_F_NODAD = 1, 2, 8, 0x02
RTA_GATEWAY = 5
IFF_UP = 1


def nla(kind, data):
    n = 4 + len(data)
    return struct.pack("=HH", n, kind) + data + b"\0" * (-n % 4)


def attrs(data, off=0):
    """The attributes in DATA from OFF: {type: payload} (nested flag bits dropped)."""
    out = {}
    while off + 4 <= len(data):
        n, t = struct.unpack_from("=HH", data, off)
        if n < 4:
            break
        out[t & 0x3fff] = data[off + 4:off + n]
        off += (n + 3) & ~3
    return out


def ifinfo(index=0, flags=0, change=0):
    return struct.pack("=BxHiII", socket.AF_UNSPEC, 0, index, flags, change)


class Netlink:
    """A netlink socket in the namespace current when it was made."""

    def __init__(self, proto=0):
        self.s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, proto)
        self.s.bind((0, 0))
        self.seq = 0

    def request(self, kind, payload, flags=0, dump=False):
        """Sends a request; returns the replies' (type, body), raises OSError on an error."""
        self.seq += 1
        flags |= NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        self.s.send(struct.pack("=IHHII", 16 + len(payload), kind, flags, self.seq, 0) + payload)
        replies = []
        while True:
            data = self.s.recv(1 << 20)
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
        fd = os.open(netns.path(ns), os.O_RDONLY)
        pfd = os.open(netns.path(peer_ns), os.O_RDONLY)
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
        extra = b""
        if master:
            extra = nla(IFLA_MASTER, struct.pack("=I", socket.if_nametoindex(master)))
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
    with netns.In(ns):
        rt = Rt()
        try:
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
        finally:
            rt.close()


def link_down(ns, *devs):
    with netns.In(ns):
        rt = Rt()
        for d in devs:
            rt.set(d, up=False)
        rt.close()


def add_addrs(ns, *pairs):
    """Adds (dev, cidr) addresses in NS."""
    with netns.In(ns):
        rt = Rt()
        for dev, cidr in pairs:
            rt.addr(dev, cidr)
        rt.close()


def garp(ns, dev, ip):
    """A gratuitous ARP for IP from DEV, as a router taking over an address sends one."""
    with netns.In(ns):
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    try:
        s.bind((dev, 0x0806))
        mac = fcntl.ioctl(s.fileno(), 0x8927, struct.pack("256s", dev.encode()))[18:24]
        a = socket.inet_aton(ip)
        arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + a + b"\0" * 6 + a
        s.send(b"\xff" * 6 + mac + b"\x08\x06" + arp)
    finally:
        s.close()


def rx_packets(ns, dev):
    """Packets received on DEV in NS (/proc/net/dev), or -1 without DEV."""
    lines = netns.read(ns, "dev").split("\n")[2:]
    rx = {x.split(":")[0].strip(): int(x.split(":")[1].split()[1]) for x in lines if ":" in x}
    return rx.get(dev, -1)
