"""The test topologies, from the single definition in qemu-tests/lib/topology.conf.

standard:  cli --veth c0/d0-- dir --bridge br0 (ports b1-3)-- rs1, rs2, rs3 (veth r1-3)
failover:  cli, dir, dir2 on a client LAN and dir, dir2, rs1-3 on a server LAN (both bridges
           in namespace "sw"), plus a sync link s0/s1 between dir and dir2.

For the shell scripts in the VM (the benchmarks): python3 -S -m ipvslab.topology up|down
makes the standard topology afresh (or removes every topology's namespaces); `up` prints its
names and addresses, one NAME=VALUE line each (a list space-separated), as topology.conf
holds them.
"""
import os
import sys

from . import netns, procs, rtnl, udp

CONF = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "topology.conf")


def _load(path=CONF):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                k, _, v = line.partition("=")
                values[k] = v.split() if " " in v else v
    return values


_T = _load()
CLI_NS, DIR_NS, DIR2_NS, SWITCH_NS = _T["CLI_NS"], _T["DIR_NS"], _T["DIR2_NS"], _T["SWITCH_NS"]
RS_NS = _T["RS_NS"]
CLI, DIR, VIP = _T["CLI_IP"], _T["DIR_IP"], _T["VIP"]
CLI6, DIR6, VIP6 = _T["CLI_IP6"], _T["DIR_IP6"], _T["VIP6"]
GW, GW6 = _T["GW_IP"], _T["GW_IP6"]
RS, RS6 = _T["RS_IPS"], _T["RS_IP6S"]
DIR_LAN, DIR2, DIR2_LAN = _T["DIR_LAN_IP"], _T["DIR2_IP"], _T["DIR2_LAN_IP"]
SYNC, SYNC2 = _T["SYNC_IP"], _T["SYNC2_IP"]
SERVERS = (1, 2, 3)
STANDARD_NS = [CLI_NS, DIR_NS] + RS_NS
# Every namespace any topology makes; teardown removes those that exist.
ALL_NS = [CLI_NS, DIR_NS, DIR2_NS, SWITCH_NS] + RS_NS


def rs_ns(i):
    return RS_NS[i - 1]


def down():
    for ns in ALL_NS:
        if netns.exists(ns):
            netns.delete(ns)


def standard(tun=False, dr=False):
    """With TUN, each real server also holds the VIP on its ipip device tunl0 for IPVS
    tunnelling (-i); with DR, on its loopback for direct routing (-g), answering no ARP for it
    (the director reaches the servers on br0)."""
    for ns in STANDARD_NS:
        netns.add(ns)
    rt = rtnl.Rt()
    rt.veth("c0", CLI_NS, "d0", DIR_NS)
    for i in SERVERS:
        rt.veth(f"r{i}", rs_ns(i), f"b{i}", DIR_NS)
    rt.close()
    rtnl.configure(CLI_NS, links=["c0"], addrs=[("c0", CLI + "/24"), ("c0", CLI6 + "/64")],
                   routes=[DIR, DIR6])
    rtnl.configure(DIR_NS, bridges=["br0"], ports=[(f"b{i}", "br0") for i in SERVERS],
                   links=["d0"] + [f"b{i}" for i in SERVERS],
                   addrs=[("d0", DIR + "/24"), ("d0", VIP + "/32"), ("d0", DIR6 + "/64"),
                          ("d0", VIP6 + "/128"), ("br0", GW + "/24"), ("br0", GW6 + "/64")])
    netns.sysctl(DIR_NS, {"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1})
    for i in SERVERS:
        rtnl.configure(rs_ns(i), links=[f"r{i}"],
                       addrs=[(f"r{i}", RS[i - 1] + "/24"), (f"r{i}", RS6[i - 1] + "/64")],
                       routes=[GW, GW6])
    if tun:
        tunnel_servers()
    if dr:
        for i in SERVERS:
            rtnl.configure(rs_ns(i), links=[], addrs=[("lo", VIP + "/32"), ("lo", VIP6 + "/128")])
            netns.sysctl(rs_ns(i), {"net.ipv4.conf.all.arp_ignore": 1,
                                    "net.ipv4.conf.all.arp_announce": 2})
    if tun or dr:
        # The servers answer from the VIP straight to the client through the director, which
        # must forward packets whose source is one of its own addresses.
        netns.sysctl(DIR_NS, {"net.ipv4.conf.all.accept_local": 1,
                              "net.ipv4.conf.br0.accept_local": 1,
                              "net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.br0.rp_filter": 0})


def tunnel_servers():
    """Each real server holds the VIP on its ipip device tunl0, for IPVS tunnelling (-i)."""
    for i in SERVERS:
        ns = rs_ns(i)
        rtnl.configure(ns, links=["tunl0"], addrs=[("tunl0", VIP + "/32")])
        # The tunnelled packet arrives on tunl0 from a client routed via r1: no reverse path
        # filtering, as on any tunnelling real server.
        netns.sysctl(ns, {"net.ipv4.conf.all.rp_filter": 0, "net.ipv4.conf.tunl0.rp_filter": 0})


def failover(tun=False):
    """Two directors on two LANs, and a sync link between them (IPv4 only).

    client LAN: cli, dir, dir2; the VIP floats. server LAN: rs1-3, dir, dir2; the servers'
    gateway address floats. The master "dir" starts with both floating addresses. TUN: each
    real server holds the VIP on tunl0, as in standard(), but the directors are not set to
    forward the servers' replies from the VIP (the scenarios that tunnel there expect none)."""
    for ns in [SWITCH_NS, CLI_NS, DIR_NS, DIR2_NS] + RS_NS:
        netns.add(ns)
    rt = rtnl.Rt()
    rt.veth("c0", CLI_NS, "pc", SWITCH_NS)
    rt.veth("d0", DIR_NS, "pd0", SWITCH_NS)
    rt.veth("d1", DIR_NS, "pd1", SWITCH_NS)
    rt.veth("e0", DIR2_NS, "pe0", SWITCH_NS)
    rt.veth("e1", DIR2_NS, "pe1", SWITCH_NS)
    rt.veth("s0", DIR_NS, "s1", DIR2_NS)
    for i in SERVERS:
        rt.veth(f"r{i}", rs_ns(i), f"p{i}", SWITCH_NS)
    rt.close()
    front, back = ["pc", "pd0", "pe0"], ["pd1", "pe1"] + [f"p{i}" for i in SERVERS]
    rtnl.configure(SWITCH_NS, bridges=["brc", "brs"],
                   ports=[(p, "brc") for p in front] + [(p, "brs") for p in back],
                   links=front + back)
    rtnl.configure(CLI_NS, links=["c0"], addrs=[("c0", CLI + "/24")])
    rtnl.configure(DIR_NS, links=["d0", "d1", "s0"],
                   addrs=[("d0", DIR + "/24"), ("d0", VIP + "/32"), ("d1", DIR_LAN + "/24"),
                          ("d1", GW + "/24"), ("s0", SYNC + "/24")])
    rtnl.configure(DIR2_NS, links=["e0", "e1", "s1"],
                   addrs=[("e0", DIR2 + "/24"), ("e1", DIR2_LAN + "/24"), ("s1", SYNC2 + "/24")])
    for ns in (DIR_NS, DIR2_NS):
        netns.sysctl(ns, {"net.ipv4.ip_forward": 1})
    for i in SERVERS:
        rtnl.configure(rs_ns(i), links=[f"r{i}"], addrs=[(f"r{i}", RS[i - 1] + "/24")],
                       routes=[GW])
    if tun:
        tunnel_servers()


def take_over():
    """The master fails (its LAN ports go down) and the backup takes the VIP and the servers'
    gateway address, announcing both with gratuitous ARP, as keepalived would."""
    rtnl.link_down(SWITCH_NS, "pd0", "pd1")
    rtnl.add_addrs(DIR2_NS, ("e0", VIP + "/32"), ("e1", GW + "/24"))
    # Three announcements, as keepalived sends; ARP needs no answer, so no pause is needed
    # for them to be heard (they queue on the bridge like any frame).
    for _ in range(3):
        rtnl.garp(DIR2_NS, "e0", VIP)
        rtnl.garp(DIR2_NS, "e1", GW)


def resolve_servers(ns=DIR_NS, servers=RS, deadline=120):
    """Director NS learns the real servers' link addresses (a datagram to a closed port of
    each), so that no packet it forwards waits for one in a neighbour queue, where a packet
    sent after it could overtake it: after this, datagrams from the client reach the servers
    in the order they were sent. Returns once the servers' answers (port unreachable) are
    in too, so that they do not count later. DEADLINE: only a failure reaches it."""
    unreach = netns.snmp(ns)["IcmpInDestUnreachs"]
    s = udp.sock(ns)
    try:
        for ip in servers:
            s.sendto(b"", (ip, 9))
    finally:
        s.close()

    def done():
        lines = netns.read(ns, "arp").split("\n")[1:]
        known = {f[0] for f in (x.split() for x in lines) if len(f) >= 3 and int(f[2], 16) & 2}
        return all(ip in known for ip in servers) and \
            netns.snmp(ns)["IcmpInDestUnreachs"] >= unreach + len(servers)
    procs.wait_until(done, deadline, f"{ns} resolves the real servers' addresses")


def main(argv):
    if argv == ["up"]:
        down()
        standard()
        for k, v in _T.items():
            print(f"{k}={' '.join(v) if isinstance(v, list) else v}")
    elif argv == ["down"]:
        down()
    else:
        sys.exit("usage: python3 -m ipvslab.topology up|down")


if __name__ == "__main__":
    main(sys.argv[1:])
