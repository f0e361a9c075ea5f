#!/usr/bin/python3 -S
"""The test-only engine `tok` (kmod/engines/tok.rs), built on the same abstraction (kmod/pe/)
as `sip`: proof that it serves another engine. It keys templates on the payload's first line
and hashes them with the client address, which it reads through the view hashkey_raw gets
(IPVS hashes every new template through ip_vs_conn_hashkey_conn(), with no virtual
address). Also: two engines registered side by side, the registration rules (unload refused
while a service uses an engine), and conn_out through IPVS's default ip_vs_new_conn_out().

One process: modules loaded and unloaded by finit_module(2) and delete_module(2), the service
made by one `ipvsadm-rs -R`, the datagrams sent and received through sockets made in the
namespaces (every process costs up to a second under the emulated debug kernel)."""
import errno
import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import checks, ipvs, modules, netns, procs, topology, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.rtnl import attrs  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

TOK, SIP = "ip_vs_pe_tok_rs", modules.ENGINE
TOKENS, ROUNDS = 30, 3
# Templates and services hold their engine until their namespace is gone, and namespaces are
# cleaned up asynchronously: how long that may take (only a failure reaches it).
RELEASE = 300


def arrives(cond, deadline, what):
    """Whether COND comes true before DEADLINE seconds (sized from the work; only a failure
    reaches it)."""
    try:
        procs.wait_until(cond, deadline, what)
        return True
    except procs.Timeout:
        return False


def service_engine(ns, addr, port):
    """The engine of NS's UDP service ADDR:PORT as IPVS gives it to `ipvsadm -Ln` ("pe NAME"):
    its name, or None."""
    with ipvs.opened(ns) as nl:
        for _, body in nl.request(nl.family,
                                  struct.pack("=BBH", ipvs.IPVS_CMD_GET_SERVICE, 1, 0),
                                  dump=True):
            svc = attrs(attrs(body, 4).get(ipvs.IPVS_CMD_ATTR_SERVICE, b""))
            if svc.get(ipvs.SVC_AF) == struct.pack("=H", socket.AF_INET) and \
                    svc.get(ipvs.SVC_PROTO) == struct.pack("=H", socket.IPPROTO_UDP) and \
                    svc.get(ipvs.SVC_ADDR, b"")[:4] == socket.inet_aton(addr) and \
                    svc.get(ipvs.SVC_PORT) == struct.pack("!H", port):
                pe = svc.get(ipvs.SVC_PE)
                return pe.rstrip(b"\0").decode() if pe else None
    return None


def sock_of(sinks, ns):
    """The UDP socket SINKS listen on in NS: a server (or the client) sends from its
    listening port, as a SIP phone does."""
    return next(s for s, n, kind in sinks.socks.values() if n == ns and kind == "udp")


def server_of(ip):
    return RS_NS[RS.index(ip)] if ip in RS else ip


def scenario(opened):
    step("two engines side by side, and the registration rules")
    expect_eq("ip_vs_pe_tok_rs loads", modules.load_with_deps(TOK), 0)
    expect_eq("ip_vs_pe_sip_rs loads beside it", modules.load_with_deps(SIP), 0)
    expect("both are loaded", modules.loaded(TOK) and modules.loaded(SIP))
    topology.down()
    topology.standard()
    try:
        ipvs.rules([DIR_NS], "\n".join(
            [f"-A -u {VIP}:5060 -s rr -p 600 -M 0.0.0.0 -o --pe tok"] +
            [f"-a -u {VIP}:5060 -r {ip}:5060 -m" for ip in RS]))
        made = None
    except RuntimeError as e:
        made = e
    expect("a --pe tok service", made is None, made)
    expect_eq("IPVS lists the service's engine as tok (ipvsadm -Ln: pe tok)",
              service_engine(DIR_NS, VIP, 5060), "tok")
    err = modules.unload(TOK)
    expect("rmmod ip_vs_pe_tok_rs is refused while the service uses it (EWOULDBLOCK)",
           err == modules.EWOULDBLOCK and modules.loaded(TOK),
           f"errno {errno.errorcode.get(err, err)}")
    expect_eq("rmmod ip_vs_pe_sip_rs, which no service uses, succeeds", modules.unload(SIP), 0)

    try:
        rs = opened(udp.Sinks(RS_NS))
    except OSError as e:
        expect("the real servers listen", False, e)
        raise
    expect("the real servers listen",
           all(sock_of(rs, ns).getsockname()[1] == 5060 for ns in RS_NS))

    n = TOKENS * ROUNDS
    step(f"{ROUNDS} rounds of the tokens T1..T{TOKENS} from the client to the VIP")
    cli = opened(udp.Sender(CLI_NS, CLI))
    cli.send(VIP, 5060, [f"T{i}\n".encode() for _ in range(ROUNDS)
                         for i in range(1, TOKENS + 1)],
             settle=udp.settle_on(rs, slack=16))
    expect(f"the {n} datagrams arrived",
           arrives(lambda: rs.count() >= n, 60 + n, "the datagrams arrive"),
           f"{rs.count()} arrived")
    # Each token on one server, the one its template points at.
    tmpl = [c for c in ipvs.conns(DIR_NS) if c["pe"] == "tok"]
    where = {c["data"]: server_of(c["dest"]) for c in tmpl}
    got = rs.by_tag()
    whole = sum(1 for t, servers in got.items() if set(servers) == {where.get(t)})
    used = len(set(where.values()))
    say(f"  TEMPLATES={len(tmpl)} WHOLE={whole} SERVERS={used}")
    expect_eq("one template per token, listed as 'tok <token>'",
              sorted(c["data"] for c in tmpl if c["template"]),
              sorted(f"T{i}" for i in range(1, TOKENS + 1)))
    expect_eq("each token's datagrams all reached its template's server", whole, TOKENS)
    expect_eq("the tokens spread over the three servers", used, 3)

    step("a datagram without a token is dropped (fill_param fails)")
    # Once the director knows the servers' link addresses, the two travel in the order sent:
    # the second arriving means the first has had its chance.
    topology.resolve_servers()
    ip0, vs0 = netns.snmp(DIR_NS)["IpInReceives"], ipvs.totals(DIR_NS)[1]
    cli.send(VIP, 5060, [b""])
    cli.send(VIP, 5060, [b"after-empty-1\n"])
    expect("the next datagram arrives",
           arrives(lambda: "after-empty-1" in rs.by_tag(), 60, "after-empty-1 arrives"))
    expect_eq("the empty one did not", rs.count(), n + 1)
    ip_in, vs_in = netns.snmp(DIR_NS)["IpInReceives"] - ip0, ipvs.totals(DIR_NS)[1] - vs0
    expect(f"the director received both ({ip_in} IPv4 packets in) and IPVS let one through "
           f"({vs_in})", ip_in >= 2 and vs_in == 1)
    cli.close()

    step("conn_out: rs2 speaks first with token S1; the client sees the VIP and its answer "
         "returns to rs2")
    try:
        client = opened(udp.Sinks([CLI_NS]))
    except OSError as e:
        expect("the client listens", False, e)
        raise
    expect("the client listens", sock_of(client, CLI_NS).getsockname()[1] == 5060)
    sock_of(rs, RS_NS[1]).sendto(b"S1\n", (CLI, 5060))
    expect("the client received rs2's datagram",
           arrives(lambda: client.count() >= 1, 60, "rs2's datagram arrives"))
    expect_eq("from the VIP", [src for _, tag, src in client.got if tag == "S1"], [VIP])
    expect("the director holds template 'tok S1' pointing at rs2",
           any(c["pe"] == "tok" and c["data"] == "S1" and c["template"] and
               c["dest"] == RS[1] and c["dport"] == 5060 for c in ipvs.conns(DIR_NS)),
           ipvs.conn_text(DIR_NS))
    sock_of(client, CLI_NS).sendto(b"S1\n", (VIP, 5060))
    arrives(lambda: "S1" in rs.by_tag(), 60, "the client's answer arrives")
    expect_eq("the client's answer reached rs2", rs.by_tag().get("S1"), [RS_NS[1]])


def main():
    opened = []

    def track(obj):
        opened.append(obj)
        return obj
    try:
        topology.down()
        modules.ready((TOK, SIP), RELEASE)
        scenario(track)
    except Exception as e:
        checks.crashed(e)
    finally:
        for obj in opened:
            try:
                obj.close()
            except OSError:
                pass
        # The templates hold the engine until the director's namespace is cleaned up, which
        # the kernel does asynchronously, in one batch with any other namespace deleted with
        # it: the director's goes alone.
        if netns.exists(DIR_NS):
            netns.delete(DIR_NS)
        expect("ip_vs_pe_tok_rs unloads once no service uses it",
               modules.unload_when_free(TOK, RELEASE))
        topology.down()
        modules.unload_when_free(SIP, RELEASE)
        checks.step("teardown")
        expect_eq("no network namespace left", sum(netns.exists(n) for n in topology.ALL_NS), 0)
        expect_eq("no IPVS service left", ipvs.service_count(), 0)
        expect_eq("ip_vs_pe_tok_rs and ip_vs_pe_sip_rs unloaded",
                  sum(modules.loaded(m) for m in (TOK, SIP)), 0)
    say(f"time: {time.monotonic() - checks.T0:.0f} s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
