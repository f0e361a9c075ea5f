#!/usr/bin/python3 -S
"""The active-active recipe (docs/active-active.md), end to end: a router running BIRD
spreads the client's datagrams over three directors by ECMP (hashing addresses and ports);
each director announces the VIP by BGP (BIRD, with BFD) while keepalived holds it, balances
with the scheduler sipmh (Maglev on the Call-ID) and the engine sip, and checks the SIP
servers; the servers, reached by direct routing, answer the client through the router.
Every program runs with the recipe's own files (docs/active-active/).

Datagrams are aimed at a director by their source port: a probe from each of 24 client
ports tells which director the router sends that port to (the director that made the
probe's template). A large datagram travels in fragments, which ECMP hashes on the
addresses alone: all of them take one director, whatever the port.

0. Baseline, before keepalived: the same directors with `-s rr`. Calls whose INVITE, ACK and
   BYE each come from another port, through three different directors, are split over
   servers (asserted: the test can fail both ways).
1. keepalived starts on each director; the VIP is announced once the check has set sipmh.
2. Same table everywhere: dir2 and dir3 get the same servers in other orders; 300 Call-IDs,
   each sent through all three directors, go to one server each.
3. No call split: 45 calls, each message through another director (every third INVITE
   fragmented), beside sipp's own calls: every call whole on one server.
4. Weight 0: a server at weight 0 on one director only (health checks that disagree), then
   on all; held calls' BYEs through the director with their templates and through another.
5. A director lost while calls are held: its link cut; BFD and BGP withdraw it; the held
   calls end through the others, which have no template for them. Then keepalived killed on
   a second director, and the IPVS service deleted on the third: each withdraws its route."""
import itertools
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402

from ipvslab import checks, ecmp, ipvs, kernel, netns, procs, rtnl  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.ecmp import CLI, CLI_NS, DIRS, PEERS, RS_IPS, RTR_NS, SERVERS, VIP  # noqa: E402

HELD_XML = os.path.join(os.path.dirname(os.path.abspath(__file__)), "failover-uac.xml")
# Deadlines sized from the work, far beyond what any host needs; only a failure reaches them.
START_DEADLINE = 300
ROUTE_DEADLINE = 120
PER_MSG_S = 2
kmsg = kernel.Kmsg()
SVC = f"{VIP}:5060"


def no_kernel_report(when):
    r = kmsg.reports()
    expect(f"no kernel report {when}", not r, "\n".join(r))


def scheduler(ns):
    """The scheduler of NS's service VIP:5060 (/proc/net/ip_vs), or None without it."""
    want = f"{int.from_bytes(socket.inet_aton(VIP), 'big'):08X}:13C4"
    for line in netns.read(ns, "ip_vs").split("\n")[3:]:
        f = line.split()
        if len(f) >= 3 and f[0] == "UDP" and f[1] == want:
            return f[2]
    return None


def server_order(ns):
    """The service's servers in the order IPVS lists them (the order they were added in)."""
    want = f"{int.from_bytes(socket.inet_aton(VIP), 'big'):08X}:13C4"
    order, ours = [], False
    for line in netns.read(ns, "ip_vs").split("\n")[3:]:
        f = line.split()
        if not f:
            continue
        if f[0] != "->":
            ours = f[0] == "UDP" and f[1] == want
        elif ours:
            order.append(socket.inet_ntoa(int(f[1].split(":")[0], 16).to_bytes(4, "big")))
    return order


def ipvsadm(ns, *lines):
    """`ipvsadm-rs -R` of LINES in NS (one process for all of them)."""
    p = procs.run(ns, ["ipvsadm-rs", "-R"], input=("\n".join(lines) + "\n").encode(),
                  capture_output=True)
    if p.returncode:
        raise RuntimeError(f"ipvsadm-rs -R in {ns}: {p.stderr.decode().strip()}")


def set_weight(ns, server, weight):
    ipvsadm(ns, f"-e -u {SVC} -r {server}:5060 -g -w {weight}")


def routed(want, deadline=ROUTE_DEADLINE):
    """Waits until the router's route to the VIP leads to the directors WANT (a list, [] for
    none); returns the seconds it took."""
    t0 = time.monotonic()
    procs.wait_until(lambda: ecmp.directors_routed() == sorted(want) or None, deadline,
                     f"the router's route to the VIP leads to {want or 'nowhere'}")
    return time.monotonic() - t0


def templates(ns, tag):
    """Call-ID -> the server (address) of NS's templates of TAG's Call-IDs."""
    if not netns.exists(ns):
        return {}
    return {c["data"]: c["dest"] for c in ipvs.conns(ns)
            if c["template"] and c["pe"] == "sip" and (c["data"] or "").startswith(tag + "-")}


def logged(w, tag, method):
    """How many METHOD requests of TAG's calls the servers' sipp logs have received."""
    n = 0
    for i in range(1, 4):
        for d, first, cid, _ in w.sipp.server_messages(i):
            if d == "in" and cid and cid.startswith(tag + "-") and \
                    first.startswith(method.encode() + b" "):
                n += 1
    return n


class Aim:
    """Picks a client port for a datagram through director D, a different one each time."""

    def __init__(self, ports):
        self.ports, self.next = ports, {d: 0 for d in DIRS}
        self.pool = ports.by_director()

    def port(self, d):
        ps = self.pool[d]
        p = ps[self.next[d] % len(ps)]
        self.next[d] += 1
        return p


def cross_calls(w, ports, tag, n, large_every=0, hold=False, paths=None):
    """N calls of TAG, each message from another client port through another director: the
    INVITE, ACK and BYE of call k take the directors of PATHS[k] (by default the six orders
    of the three, in turn); every LARGE_EVERY-th INVITE is fragmented (it takes ports.frag,
    and the ACK and BYE the two others). Each kind of message is sent for all the calls at
    once, then the servers' logs must hold them all before the next kind goes (so that no
    ACK overtakes its INVITE on another path). HOLD: no BYE (see bye()). Returns
    {Call-ID: (path, large)}."""
    aim = Aim(ports)
    perms = list(itertools.permutations(DIRS))
    plan = {}
    for k in range(n):
        large = bool(large_every) and k % large_every == 0
        path = paths[k] if paths else perms[k % len(perms)]
        if large:
            path = (ports.frag,) + tuple(d for d in path if d != ports.frag)
        plan[f"{tag}-{k}@client"] = (path, large)
    for step_no, method in enumerate(("INVITE", "ACK")):
        for cid, (path, large) in plan.items():
            d = path[step_no]
            if method == "INVITE" and large:
                data = ecmp.large_sip("INVITE", cid, 1)
            else:
                data = ecmp.sip_request(method, cid, 1)
            ports.send(aim.port(d), data)
        procs.wait_until(lambda: logged(w, tag, method) >= n, 60 + PER_MSG_S * n,
                         f"the servers received the {n} {method}s of {tag}")
        ports.drain()
    if not hold:
        bye(w, ports, tag, {cid: p[2] for cid, (p, _) in plan.items()}, aim)
    return plan


def bye(w, ports, tag, through, aim=None):
    """The BYE of each call in THROUGH ({Call-ID: director}); waits until the servers have
    them all."""
    aim = aim or Aim(ports)
    before = logged(w, tag, "BYE")
    for cid, d in through.items():
        ports.send(aim.port(d), ecmp.sip_request("BYE", cid, 2))
    procs.wait_until(lambda: logged(w, tag, "BYE") >= before + len(through),
                     60 + PER_MSG_S * len(through), f"the servers received {tag}'s BYEs")
    ports.drain()


def server_of(w, tag):
    """Call-ID -> {server number: methods} from the servers' logs, for TAG's calls."""
    out = {}
    for i in range(1, 4):
        for cid, methods in w.sipp.calls_at(i, tag).items():
            out.setdefault(cid, {})[i] = methods
    return out


def release(callids, port):
    """The INFO that releases each call held by the sipp UAC on client port PORT
    (failover-uac.xml), sent from the client's namespace."""
    s = ecmp.udp.sock(CLI_NS)
    try:
        for n, cid in enumerate(callids):
            s.sendto((f"INFO sip:sipp@{CLI}:{port} SIP/2.0\r\n"
                      f"Via: SIP/2.0/UDP {CLI}:5099;branch=z9hG4bK-release-{port}-{n}\r\n"
                      f"From: <sip:service@{VIP}:5060>;tag=release\r\n"
                      f"To: sipp <sip:sipp@{CLI}:{port}>\r\n"
                      f"Call-ID: {cid}\r\nCSeq: 3 INFO\r\nMax-Forwards: 70\r\n"
                      "Content-Length: 0\r\n\r\n").encode(), (CLI, port))
    finally:
        s.close()


def inpkts():
    return {d: ipvs.totals(d)[1] for d in DIRS if netns.exists(d)}


step("router, three directors and three SIP servers; BIRD on the router and the directors "
     "with docs/active-active/bird-*.conf; sipp UAS on each server's VIP")
with ecmp.ActiveActive() as w:
    took = w.wait_sessions(START_DEADLINE)
    say(f"  the router's BGP sessions with dir1-3 Established after {took:.1f} s")
    expect("the router has a BGP session Established with each director",
           all(w.birds[RTR_NS].established(PEERS[d]) for d in DIRS))
    expect_eq("no route to the VIP yet (no director holds it)", ecmp.next_hops(), [])

    step("0. baseline: the VIP on each director's vip0 by hand, IPVS with -s rr (the same "
         "servers, direct routing, --pe sip)")
    for d in DIRS:
        rtnl.add_addrs(d, ("vip0", VIP + "/32"))
    ipvs.rules(DIRS, ipvs.service_rules(VIP, RS_IPS, fwd="-g", persistence=1800))
    took = routed(DIRS)
    say(f"  route to the VIP over the three directors after {took:.1f} s: "
        f"{ecmp.next_hops()}")
    ports = ecmp.Ports()
    pool = ports.learn()
    say("  client ports by director: " + "; ".join(f"{d} {len(p)}" for d, p in pool.items()) +
        f"; fragments take {ports.frag}")
    expect("ECMP sends some client ports to each director", all(pool.values()))
    if not all(pool.values()):
        raise RuntimeError("a director takes no client port: no point going on")
    base_n = 30
    cross_calls(w, ports, "rr", base_n)
    r = w.sipp.report("rr")
    seen = {d: len(templates(d, "rr")) for d in DIRS}
    say(f"  templates per director: {seen} (every call through all three)")
    if seen != {d: base_n for d in DIRS}:
        for d in DIRS:
            cs = [c for c in ipvs.conns(d) if c["template"]]
            say(f"  {d}: IPVS totals {ipvs.totals(d)}; {len(cs)} templates, "
                f"{sum(1 for c in cs if not c['data'])} without a Call-ID")
        say(f"  the router's route: {ecmp.next_hops()}")
        w.say_session_log()
    expect_eq("rr: every call went through all three directors", seen,
              {d: base_n for d in DIRS})
    say(f"  rr baseline: {r['split']} of {base_n} calls split over servers")
    expect(f"rr: calls are split over servers ({r['split']} of {base_n}: at least one)",
           r["split"] > 0)
    for d in DIRS:
        ecmp.del_addr(d, "vip0", VIP + "/32")
        ipvs.flush(d)
    routed([])
    no_kernel_report("in the baseline")

    step("1. keepalived on each director with docs/active-active/keepalived.conf; "
         "modules.conf in /etc/modprobe.d, the scheduler loaded as at boot")
    os.makedirs(os.path.dirname(ecmp.MODPROBE_AT), exist_ok=True)
    shutil.copy(ecmp.MODULES, ecmp.MODPROBE_AT)
    subprocess.run(["modprobe", "ip_vs_sipmh"], check=True)
    key = ecmp.sched_options().partition("hash_key=")[2].split()[0]
    with open("/sys/module/ip_vs_sipmh/parameters/hash_key") as f:
        expect_eq("ip_vs_sipmh loaded with modules.conf's hash_key", f.read().strip(), key)
    t0 = time.monotonic()
    w.start_keepalived()
    try:
        routed(DIRS, START_DEADLINE)
    except procs.Timeout as e:
        say(f"  {e}")
        for d in DIRS:
            for x in w.ka[d].events()[-10:]:
                say(f"  {d}: {x}")
        raise
    say(f"  VIP announced by all three directors {time.monotonic() - t0:.1f} s after "
        f"keepalived started: {ecmp.next_hops()}")
    for d in DIRS:
        expect_eq(f"{d}: the service runs sipmh (set by the check before the VIP went up)",
                  scheduler(d), "sipmh")
        expect_eq(f"{d}: keepalived made the service with its three servers",
                  ipvs.real_servers(d, VIP), {ip: 1 for ip in RS_IPS})
    since = w.sessions()
    no_kernel_report("while keepalived started")

    step("2. same table everywhere: dir2 and dir3 get the same servers in other orders")
    orders = {"dir2": [RS_IPS[2], RS_IPS[0], RS_IPS[1]], "dir3": [RS_IPS[1], RS_IPS[2], RS_IPS[0]]}
    for d, order in orders.items():
        ipvsadm(d, *[f"-d -u {SVC} -r {ip}:5060" for ip in RS_IPS],
                *[f"-a -u {SVC} -r {ip}:5060 -g -w 1" for ip in order])
    listed = {d: server_order(d) for d in DIRS}
    for d in DIRS:
        say(f"  {d} lists its servers as {' '.join(x.split('.')[-1] for x in listed[d])}")
    expect("the three directors list their servers in three different orders",
           len({tuple(v) for v in listed.values()}) == 3)
    took = routed(DIRS)
    ports.learn()
    pool = ports.by_director()
    expect("ECMP still sends some client ports to each director", all(pool.values()))
    same_n, chunk = 300, 50
    aim = Aim(ports)
    for first in range(0, same_n, chunk):
        ids = [f"same-{k}" for k in range(first, min(first + chunk, same_n))]
        for cid in ids:
            for d in DIRS:
                ports.send(aim.port(d), ecmp.udp.sip(callid=cid))
        procs.wait_until(lambda: all(set(ids) <= set(templates(d, "same")) for d in DIRS),
                         60 + PER_MSG_S * len(ids), "each director holds the chunk's templates")
        ports.drain()
    chosen = {d: templates(d, "same") for d in DIRS}
    agree = sum(1 for c in chosen["dir1"] if chosen["dir2"].get(c) == chosen["dir1"][c] ==
                chosen["dir3"].get(c))
    spread = [sum(1 for v in chosen["dir1"].values() if v == ip) for ip in RS_IPS]
    say(f"  {same_n} Call-IDs through each director: {agree} on the same server from all "
        f"three; per server {'/'.join(map(str, spread))}")
    expect_eq("every Call-ID went to the same server through each of the three directors",
              agree, same_n)
    expect("the Call-IDs spread over the three servers (each at least a sixth)",
           min(spread) >= same_n // 6)
    # What an operator asks: the ipvs crate's model of the table, from dir2's servers (in
    # their order there) and the module's key.
    p = procs.run("dir2", ["ipvsadm-rs", "--which-server", "-u", SVC, "-"],
                  input="\n".join(sorted(chosen["dir1"])).encode() + b"\n", capture_output=True)
    model = {f[0]: f[1].rsplit(":", 1)[0] for f in
             (x.split() for x in p.stdout.decode(errors="replace").split("\n")) if len(f) >= 2}
    same = sum(1 for c, ip in chosen["dir1"].items() if model.get(c) == ip)
    say(f"  ipvsadm-rs --which-server (exit {p.returncode}): {same} of {same_n} Call-IDs on "
        "the server the directors chose")
    expect("ipvsadm-rs --which-server names the directors' server for every Call-ID",
           (p.returncode, same) == (0, same_n), p.stderr.decode(errors="replace"))
    no_kernel_report("in step 2")

    step("3. no call split: 45 calls, each message through another director (every third "
         "INVITE fragmented), beside 30 sipp calls")
    base_in = inpkts()
    frag0, reasm0 = netns.snmp(CLI_NS)["IpFragOKs"], \
        sum(netns.snmp(d)["IpReasmOKs"] for d in DIRS)
    uac = w.sipp.uac("sipp", CLI_NS, CLI, SVC, 30, 10, limit=10)
    n = 45
    plan = cross_calls(w, ports, "cross", n, large_every=3)
    r_sipp = uac.wait([CLI_NS, RTR_NS] + DIRS + SERVERS)
    r = w.sipp.report("cross")
    large = sum(1 for _, big in plan.values() if big)
    seen = {d: len(templates(d, "cross")) for d in DIRS}
    got_in = {d: v - base_in[d] for d, v in inpkts().items()}
    say(f"  datagrams taken in per director: {got_in}; templates of the 45 calls: {seen}")
    expect_eq("every call went through all three directors", seen, {d: n for d in DIRS})
    expect_eq("each call's INVITE, ACK and BYE reached one server, none split",
              (r["whole"], r["split"]), (n, 0))
    expect_eq("the calls spread over the three servers", r["servers_used"], 3)
    frags = netns.snmp(CLI_NS)["IpFragOKs"] - frag0
    reasm = sum(netns.snmp(d)["IpReasmOKs"] for d in DIRS) - reasm0
    say(f"  {large} large INVITEs: the client fragmented {frags} datagrams, the directors "
        f"reassembled {reasm}")
    expect(f"the client sent the {large} large INVITEs in fragments", frags >= large)
    expect(f"the directors reassembled them ({reasm} >= {large})", reasm >= large)
    expect_eq("sipp's 30 calls (one source port) all succeeded, each whole on one server",
              (r_sipp["ok"], r_sipp["failed"], r_sipp["whole"], r_sipp["split"]), (30, 0, 30, 0))
    no_kernel_report("in step 3")

    step("4. weight 0: 12 calls held through dir1 (INVITE and ACK), then one server at "
         "weight 0")
    held = cross_calls(w, ports, "held", 12, hold=True, paths=[("dir1", "dir1", "dir2")] * 12)
    at = {c: next(iter(s)) for c, s in server_of(w, "held").items()}
    counts = {i: sum(1 for v in at.values() if v == i) for i in (1, 2, 3)}
    s0 = max(counts, key=lambda i: counts[i])
    s_ip = RS_IPS[s0 - 1]
    say(f"  held calls per server: {counts}; rs{s0} ({s_ip}) goes to weight 0")
    expect("at least two held calls on that server", counts[s0] >= 2)

    say("  a. weight 0 on dir1 only (its health check failed first; dir2 and dir3 still "
        "see the server up)")
    set_weight("dir1", s_ip, 0)
    n = 30
    cross_calls(w, ports, "split", n)
    on_s = [c for c, ip in templates("dir2", "split").items() if ip == s_ip]
    r = w.sipp.report("split")
    say(f"  while the directors disagree: {r['split']} of {n} new calls split; the full "
        f"table sends {len(on_s)} of them to rs{s0}")
    expect_eq("exactly the new calls the full table sends to that server were split "
              "(through dir1 elsewhere, through the others to it)", r["split"], len(on_s))
    expect("and there were some", len(on_s) > 0)

    say("  b. weight 0 on all three directors")
    for d in ("dir2", "dir3"):
        set_weight(d, s_ip, 0)
    cross_calls(w, ports, "after", 15)
    r = w.sipp.report("after")
    expect_eq(f"15 new calls: none on rs{s0}, none split, each whole",
              (r[f"rs{s0}"], r["split"], r["whole"]), (0, 0, 15))

    on = sorted(c for c, i in at.items() if i == s0)
    via1, via2 = on[:len(on) // 2], on[len(on) // 2:]
    others = sorted(c for c, i in at.items() if i != s0)
    bye(w, ports, "held", {**{c: "dir1" for c in via1}, **{c: "dir2" for c in via2 + others}})
    after = server_of(w, "held")
    kept = sum(1 for c in via1 if set(after[c]) == {s0})
    moved = sum(1 for c in via2 if "BYE" not in after[c].get(s0, ()) and len(after[c]) == 2)
    whole = sum(1 for c in others if len(after[c]) == 1)
    say(f"  held calls on rs{s0}: BYE through dir1 (their templates) {kept} of {len(via1)} "
        f"reached it; through dir2 (no template) {moved} of {len(via2)} went to another "
        f"server; held calls on the other servers, BYE through dir2: {whole} of "
        f"{len(others)} whole")
    expect_eq("through the director holding their templates, held calls stay on the server "
              "at weight 0", kept, len(via1))
    expect_eq("through a director without their templates, they go to another server",
              moved, len(via2))
    expect_eq("held calls on the other servers end whole through any director", whole,
              len(others))
    for d in DIRS:
        set_weight(d, s_ip, 1)
    no_kernel_report("in step 4")

    flaps = w.sessions()
    expect_eq("no BGP session went down while the directors were healthy (steps 1-4)",
              flaps, since)
    if flaps != since:
        w.say_session_log()
    step("5. a director lost while calls are held: 4 sipp calls held from each of three "
         "client ports, one taken to each director")
    pool = ports.by_director()
    uacs = {}
    for d in DIRS:
        port = pool[d][0]
        ports.socks.pop(port).close()  # sipp takes the port
        tag = f"hold{d[-1]}"
        uacs[tag] = (port, w.sipp.uac(tag, CLI_NS, CLI, SVC, 4, 5, limit=4,
                                      extra=["-sf", HELD_XML, "-p", str(port),
                                             "-recv_timeout", "600000"]))

    def acks(tag):
        return sum(1 for x in ecmp.sipp.messages(f"{w.sipp.logs}/{tag}.msg")
                   if x[0] == "out" and x[1].startswith(b"ACK "))
    procs.wait_until(lambda: all(acks(tag) >= 4 for tag in uacs), 60 + PER_MSG_S * 24,
                     "every sipp call is held (its ACK sent)")
    # Which director holds each held call's template (sipp's own socket: its port is not
    # the probe's socket, and ECMP may hash it elsewhere).
    holder = {}
    for d in DIRS:
        for tag in uacs:
            for c in templates(d, tag):
                holder.setdefault(c, set()).add(d)
    per = {d: sum(1 for v in holder.values() if d in v) for d in DIRS}
    say(f"  held calls' templates per director: {per}")
    expect_eq("12 calls held, each through one director",
              (len(holder), max(map(len, holder.values()), default=0)), (12, 1))
    cut = max(DIRS, key=lambda d: per[d])
    rest = [d for d in DIRS if d != cut]
    lost = sorted(c for c, v in holder.items() if cut in v)
    # The router's BGP session with CUT as it first leaves Established (its reason stays
    # shown only until the next attempt to reconnect fails).
    first_down = []

    def withdrawn():
        # The route first, then the session: the route goes only once the session has left
        # Established, so the poll that sees the route gone sees the session's reason too.
        done = ecmp.directors_routed() == sorted(rest)
        info = w.birds[RTR_NS].protocols().get(PEERS[cut], ("", ""))[1]
        if not first_down and not info.startswith("Established"):
            first_down.append(info)
        return done
    t0 = time.monotonic()
    rtnl.link_down(RTR_NS, f"pd{cut[-1]}")
    procs.wait_until(withdrawn, ROUTE_DEADLINE, f"the router's route leaves {cut}", 0.05)
    took = time.monotonic() - t0
    say(f"  {cut}'s link cut: the router's route left it after {took:.2f} s (the time "
        f"without a route for the datagrams ECMP sent to {cut})")
    say(f"  the router's BGP session with {cut}: {first_down}")
    expect(f"BFD took the router's BGP session with {cut} down (not BGP's hold time)",
           first_down and "BFD session down" in first_down[0])
    expect("the router's BIRD logged that session's state changes (what the check after "
           "step 4 counts)", w.sessions()[cut] > since[cut])
    for tag, (port, _) in uacs.items():
        release(sorted(c for c in holder if c.startswith(tag + "-")), port)
    results = {tag: u.wait([CLI_NS, RTR_NS] + DIRS + SERVERS) for tag, (_, u) in uacs.items()}
    broken = sum(4 - r["ok"] + max(r["split"], 0) for r in results.values())
    say(f"  12 held calls released, {len(lost)} of them held through {cut}: broken {broken}")
    expect_eq("every held call ended whole on its server (sipp: 4 of 4 each)",
              [(r["ok"], r["failed"], r["whole"], r["split"]) for r in results.values()],
              [(4, 0, 4, 0)] * 3)
    picked = sum(1 for c in lost if any(c in templates(d, c.split("-")[0]) for d in rest))
    expect_eq(f"{cut}'s held calls ended through the other directors (which made templates "
              "for them)", picked, len(lost))

    say(f"  keepalived's main process killed (SIGKILL) on {rest[0]}")
    w.crash_keepalived(rest[0])
    took = routed(rest[1:])
    say(f"  {rest[0]} withdrawn {took:.2f} s after keepalived died (its VRRP process took "
        f"the VIP off vip0)")
    expect(f"{rest[0]}: the VIP is off vip0", VIP not in ecmp.keepalived.addresses(rest[0]))
    say(f"  the IPVS service deleted on {rest[1]}")
    ipvsadm(rest[1], f"-D -u {SVC}")
    took = routed([])
    say(f"  {rest[1]} withdrawn {took:.1f} s after its service went (sip-director-ready "
        f"failed twice)")
    expect_eq("no director announces the VIP any more", ecmp.next_hops(), [])
    no_kernel_report("in step 5")
sys.exit(checks.finish())
