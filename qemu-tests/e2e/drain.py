#!/usr/bin/python3 -S
"""Taking a real server out without cutting a call: `ipvsadm-rs --drain` on rs2 while 30 calls
are held through the director, ten of them on rs2 (next to failed-server.py, where a plain
removal cuts the calls the server carries).

  cli --veth-- dir (IPVS, our engine, -p 15) --bridge-- rs1, rs2, rs3 (sipp UAS, -aa)

Each call is held after its ACK until the scenario releases it (an INFO it sends to the
client, which the call takes wherever it stands), and meanwhile refreshes its dialog with an
in-dialog INFO every 2 s, which the servers' sipp answers (-aa): the datagrams of a call in
progress keep its template alive, as a real call's in-dialog requests would, so a held call
outlives the short persistence however long it is held (only a sipp stalled for 13 of the
15 s would lose one). A client keep-alive without a Call-ID (a CRLF, RFC 5626) every 2 s
keeps the engine's one fallback template alive, made while rs2 was the only server with a
weight, so it points at rs2 throughout.

The drain is refused while expire_quiescent_template is 1, and times out (status 3, rs2 left
at weight 0) when given 2 s; then it runs for good in the background. New calls then reach
rs1 and rs3 only; rs2 stays while its calls are held; once they are released, rs2 is deleted,
and only after its last call template has expired (a thread polls the director's table and
connections and records both times), with the fallback template still pointing at it: the
drain does not wait for keep-alives, which then go to another server. No call breaks.
Nothing waits for a time: every step waits for a condition."""
import ipaddress
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, netns, procs, sipp, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.lab import WORK  # noqa: E402
from ipvslab.topology import CLI_NS, DIR_NS, RS, SERVERS, VIP, rs_ns  # noqa: E402

HELD = 30
NEW = 12
# The persistence timeout: a call's template lives this long after its last datagram, so the
# drain ends this long after rs2's last call. Short, for the test's time; the held calls
# refresh theirs far more often (REFRESH_MS), and only a sipp stalled for most of it would
# lose one.
PERSISTENCE = 15
REFRESH_MS = 2000
# The client's keep-alives without a Call-ID: as often as the calls' refreshes.
KEEPALIVE_S = REFRESH_MS / 1000
# Only a broken director reaches these: the calls' start is a few messages each.
DEADLINE = 120 + 10 * HELD
DRAINED = RS[1]
SERVICE = ["-u", f"{VIP}:5060", "-r", f"{DRAINED}:5060"]

UAC_XML = f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<!-- qemu-tests/e2e/drain.py: INVITE, 200, ACK; then an in-dialog INFO every {REFRESH_MS} ms
     (the servers' sipp -aa answers it) until the scenario releases the call with an INFO of
     its own; then BYE, 200. -->
<scenario name="UAC held until released, its dialog refreshed">
  <send>
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Subject: held until released
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000

    ]]>
  </send>

  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>

  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <!-- Released by the scenario (label 3), else the dialog is refreshed (label 2). The release
       is a global optional: sipp takes it wherever the call stands (also between the refresh's
       timeout and its send, and while a refresh waits for its 200); a refresh's 200 that comes
       after the BYE may be taken for the BYE's (the server has the BYE either way). The NOTIFY
       never comes: sipp wants a mandatory receive between an optional one and a send. -->
  <label id="1"/>
  <recv request="INFO" optional="global" timeout="{REFRESH_MS}" ontimeout="2" next="3"/>
  <recv request="NOTIFY"/>

  <label id="2"/>
  <send>
    <![CDATA[

      INFO sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: [cseq] INFO
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" next="1"/>

  <label id="3"/>
  <send>
    <![CDATA[

      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:sipp@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: [service] <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: [cseq] BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>

  <recv response="200" crlf="true"/>
</scenario>
"""


def servers(lab):
    """sipp's UAS on each real server, as Sipp.servers() starts it but with -aa, so that the
    held calls' in-dialog INFOs are answered; its logs named as Sipp's reports expect."""
    for i in SERVERS:
        base = f"{lab.sipp.logs}/rs{i}.v4"
        procs.spawn(rs_ns(i), ["sipp", "-sn", "uas", "-aa", "-i", RS[i - 1], "-p", "5060"] +
                    lab.sipp._args(base), log=base + ".out", cwd=lab.sipp.logs, env=sipp.env())
    sipp.wait_listening([rs_ns(i) for i in SERVERS])


def tail(lab, tag):
    """What sipp said of the calls it gave up, and why it ended: the entries of TAG's error log
    but its refreshes' timeouts (they run on without a line break between them), and the end
    of its output."""
    for name in (f"{tag}.err", f"{tag}.out"):
        try:
            with open(f"{lab.sipp.logs}/{name}", errors="replace") as f:
                text = f.read()
        except OSError:
            continue
        entries = [e for e in re.split(r"(?=\d{4}-\d\d-\d\d\t)|\n", text)
                   if e.strip() and "receive timeout" not in e]
        for entry in entries[-30:]:
            say(f"  {name}: {entry[:700]!r}")


def ipvsadm(*args):
    """ipvsadm-rs ARGS in the director: (status, standard output, standard error)."""
    p = procs.run(DIR_NS, ["ipvsadm-rs", *args], capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def weights():
    """{server: weight} of the service in the director."""
    return ipvs.real_servers(DIR_NS, VIP) or {}


def held_templates():
    """Call-ID -> real server of the held calls' templates in the director."""
    return {c["data"]: c["dest"] for c in ipvs.conns(DIR_NS)
            if c["template"] and c["pe"] == "sip" and (c["data"] or "").startswith("held-")}


def fallbacks():
    """The real servers the engine's fallback templates point at (invalidated ones too)."""
    return [c["dest"] for c in ipvs.conns(DIR_NS)
            if c["template"] and c["pe"] == "sip" and not c["data"]]


def keepalive(s):
    """A CRLF keep-alive (RFC 5626) from the client to the VIP: no Call-ID."""
    s.sendto(b"\r\n\r\n", (VIP, 5060))


def hexaddr(ip):
    return f"{int(ipaddress.ip_address(ip)):08X}"


class Watch(threading.Thread):
    """Polls the director every 0.1 s, the table first, then the connections: whether rs2 is a
    real server, and the templates pointing at it. A template seen after rs2 was found gone
    existed once it was gone (none can be made for a deleted server). Also sends the client's
    keep-alive every KEEPALIVE_S. Reads through file descriptors opened in the namespace once
    (no setns from this thread)."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.table = netns.ProcFile(DIR_NS, "ip_vs")
        self.conns = netns.ProcFile(DIR_NS, "ip_vs_conn")
        self.done = threading.Event()
        self.sent = 0.0            # when the last keep-alive was sent
        self.polls = 0
        self.present = None
        self.last_call = None      # time of the last poll that saw a call template to rs2
        self.deleted = None        # time of the first poll that found rs2 gone
        self.calls_when_gone = 0   # call templates to rs2 in polls that found it gone
        self.fallback_at_delete = None
        self.returned = 0          # polls that found rs2 back after it was gone
        self.error = None

    def present_now(self):
        want = f"{hexaddr(VIP)}:13C4"
        found, here = False, False
        for line in self.table.read().split("\n")[3:]:
            f = line.split()
            if not f:
                continue
            if f[0] != "->":
                found = f[0] == "UDP" and f[1] == want
            elif found and f[1] == f"{hexaddr(DRAINED)}:13C4":
                here = True
        return here

    def templates_now(self):
        """(call templates, fallback templates) pointing at rs2."""
        calls = fallback = 0
        for line in self.conns.read().split("\n")[1:]:
            f = line.split(None, 9)
            if len(f) < 9 or f[2] != "0000" or f[5] != hexaddr(DRAINED):
                continue
            data = f[9].partition(" ")[2].strip() if len(f) == 10 else None
            if data:
                calls += 1
            elif data == "":
                fallback += 1
        return calls, fallback

    def run(self):
        try:
            while not self.done.is_set():
                t = time.monotonic()
                if t - self.sent >= KEEPALIVE_S:
                    keepalive(self.sock)
                    self.sent = t
                present = self.present_now()
                calls, fallback = self.templates_now()
                self.polls += 1
                if calls:
                    self.last_call = t
                if not present:
                    self.calls_when_gone += calls
                    if self.deleted is None and self.present:
                        self.deleted, self.fallback_at_delete = t, fallback
                elif self.deleted is not None:
                    self.returned += 1
                self.present = present
                self.done.wait(0.1)
        except Exception as e:  # reported by the scenario
            self.error = e

    def stop(self):
        """Ends the polling (once; again does nothing)."""
        if self.done.is_set():
            return
        self.done.set()
        self.join()
        self.table.close()
        self.conns.close()


step(f"the README's service with -p {PERSISTENCE}; sipp UAS with -aa on rs1-3")
with Lab(rules=ipvs.service_rules(VIP, RS, persistence=PERSISTENCE)) as lab:
    servers(lab)
    xml = f"{WORK}/drain-uac.xml"
    with open(xml, "w") as f:
        f.write(UAC_XML)
    client = udp.sock(CLI_NS)

    step("the engine's fallback template, made while rs2 alone has a weight")
    ipvs.rules([DIR_NS], "\n".join(f"-e -u {VIP}:5060 -r {RS[i - 1]}:5060 -m -w 0"
                                   for i in (1, 3)))
    # Its keep-alives make the template, then keep it alive.
    watch = Watch(client)
    watch.start()
    try:
        procs.wait_until(lambda: DRAINED in fallbacks(), 60, "a fallback template to rs2")
        ipvs.rules([DIR_NS], "\n".join(f"-e -u {VIP}:5060 -r {RS[i - 1]}:5060 -m -w 1"
                                       for i in (1, 3)))
        say(f"  fallback templates: {fallbacks()}")

        step(f"{HELD} calls, each held after its ACK until the end, its dialog refreshed")
        held = lab.uac("held", HELD, 10, limit=HELD, extra=["-sf", xml])
        procs.wait_until(lambda: held.proc.poll() is not None or
                         sipp.requests_sent(f"{lab.sipp.logs}/held.msg", "ACK") >= HELD
                         and len(held_templates()) >= HELD, DEADLINE,
                         "every call is held, with its template")
        if held.proc.poll() is not None:
            tail(lab, "held")
            raise RuntimeError(f"the held calls' sipp ended early (exit {held.proc.poll()})")
        templates = held_templates()
        on_rs2 = sorted(c for c, d in templates.items() if d == DRAINED)
        say("  held calls per server: " + ", ".join(
            f"rs{i} {sum(1 for d in templates.values() if d == RS[i - 1])}" for i in SERVERS))
        expect_eq("each held call has its template (sip, Call-ID)", len(templates), HELD)
        expect(f"rs2 holds calls ({len(on_rs2)})", len(on_rs2) > 0)

        step("refused while net.ipv4.vs.expire_quiescent_template is 1")
        netns.sysctl(DIR_NS, {"net.ipv4.vs.expire_quiescent_template": 1})
        rc, out, err = ipvsadm("--drain", *SERVICE)
        netns.sysctl(DIR_NS, {"net.ipv4.vs.expire_quiescent_template": 0})
        say(f"  {err.splitlines()[0] if err else '(nothing said)'}")
        said_why = "expire_quiescent_template is 1" in err
        expect_eq("--drain refuses (status 5), saying why", (rc, said_why), (5, True))
        expect_eq("rs2 is left at weight 1", weights().get(DRAINED), 1)

        step("--timeout 2 while rs2 holds calls")
        rc, out, err = ipvsadm("--drain", *SERVICE, "--timeout", "2")
        say(f"  {err.splitlines()[0] if err else '(nothing said)'}")
        expect_eq("it times out (status 3)", rc, 3)
        expect_eq("rs2 is left in the service at weight 0", weights().get(DRAINED), 0)
        expect_eq("the held calls' templates are all there", held_templates(), templates)

        step("--drain in the background; new calls meanwhile")
        log = f"{WORK}/drain.out"
        drain = procs.spawn(DIR_NS, ["ipvsadm-rs", "--drain", *SERVICE, "--timeout",
                                     str(DEADLINE + 10 * PERSISTENCE)], log=log)

        def said():
            with open(log, errors="replace") as f:
                return f.read()

        procs.wait_until(lambda: "[" in said() or drain.poll() is not None, 60,
                         "the drain's first reading")
        r = lab.calls("new", NEW, 10, extra=["-p", "5070"])
        expect_eq(f"sipp: the {NEW} new calls succeeded", (r["ok"], r["failed"]), (NEW, 0))
        expect_eq("no new call reached rs2", r["rs2"], 0)
        expect_eq("rs2 is still in the service, at weight 0, while its calls are held",
                  weights().get(DRAINED), 0)
        expect("the drain still waits", drain.poll() is None)

        step("the held calls released")
        released = time.monotonic()
        sipp.release_held(sorted(templates))
        r = held.wait(lab.diag_namespaces())
        if r["failed"]:
            tail(lab, "held")
        try:
            rc = drain.wait(timeout=DEADLINE + 10 * PERSISTENCE)
        except subprocess.TimeoutExpired:  # reported below
            drain.kill()
            rc = drain.wait()
        # The drain has deleted rs2 before it ended: the watch's next poll sees it gone.
        procs.wait_until(lambda: watch.deleted or watch.error or not watch.is_alive(), 60,
                         "the watch sees rs2 gone")
        watch.stop()
        text = said()
        for line in text.splitlines():
            say(f"  | {line}")
        expect_eq("the drain ended with status 0", rc, 0)
        expect(f"it said it deleted rs2 ({DRAINED}:5060)",
               f"deleted {DRAINED}:5060 from -u {VIP}:5060" in text)
        expect("and that the fallback template pointing at it was not waited for",
               "1 fallback template pointed at it" in text)
        expect_eq("the watch ran to its end", watch.error, None)
        say(f"  watch: {watch.polls} polls; released at {released - checks.T0:.1f} s, rs2's last "
            f"call template seen at {(watch.last_call or 0) - checks.T0:.1f} s, rs2 found deleted "
            f"at {(watch.deleted or 0) - checks.T0:.1f} s")
        expect("rs2 was deleted", watch.deleted is not None)
        expect("after its calls were released, and after their templates were gone",
               watch.deleted and watch.last_call and watch.deleted > watch.last_call > released)
        expect_eq("no call template pointed at rs2 once it was gone", watch.calls_when_gone, 0)
        expect_eq("rs2 did not come back", watch.returned, 0)
        expect(f"its fallback template still pointed at it then ({watch.fallback_at_delete})",
               (watch.fallback_at_delete or 0) >= 1)
        # The keep-alives went with the watch: one per poll from here.
        procs.wait_until(lambda: keepalive(client) or set(fallbacks()) - {DRAINED}, 60,
                         "a fallback template to another server")
        say(f"  fallback templates after the delete: {fallbacks()}")

        say(f"  calls broken by the drain: {HELD - r['ok'] + r['split']}")
        expect_eq(f"sipp: the {HELD} held calls succeeded", (r["ok"], r["failed"]), (HELD, 0))
        expect_eq("no call reached more than one server", r["split"], 0)
        expect_eq("each call's INVITE, ACK and BYE reached its one server", r["whole"], HELD)
        expect_eq(f"rs2 carried its {len(on_rs2)} held calls to their end", r["rs2"], len(on_rs2))
    finally:
        watch.stop()
        client.close()
sys.exit(checks.finish())
