#!/usr/bin/python3 -S
"""The same corpus of SIP datagrams through the kernel's C engine and through ours: each
engine must store exactly the Call-IDs the corpus index predicts for it (the C model's answer
for C, ours for Rust; they differ only where docs/c-engine-differences.md says), and our
counters must account for every datagram.

The corpus is written by the release example `corpus` (DIR/NNNN.sip, DIR/index.tsv: NNNN,
C answer, Rust answer, label; an answer is the Call-ID in hex, or "-" where the engine finds
none: C then drops the datagram, ours sends it on by normal persistence). One Python process
sends it from the client and receives it on the real servers (ipvslab.udp), paced by what the
servers received of what the engine passes on."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = "/tmp/corpus"
SLACK = 64  # datagrams in flight while sending


def template_callids_hex():
    """The Call-IDs of the director's entries made by engine "sip", as hex (every byte of
    the data: a Call-ID may hold any byte but a line end)."""
    return [c["data"].encode("latin-1").hex() for c in ipvs.conns(DIR_NS)
            if c["pe"] == "sip" and c["data"]]


def run_engine(mod, col, label, index, payloads):
    """Sends the corpus through a --pe sip service served by module MOD and compares the
    Call-IDs it stored with column COL of the index. Returns the engine's counters as the
    director saw them (-1 each if the scenario broke off before reading them)."""
    stats = {k: -1 for k in modules.STATS}
    want = sorted(row[col] for row in index if row[col] != "-")
    # What reaches the servers: C drops a datagram without a Call-ID, ours does not.
    passes = [mod == modules.ENGINE or row[col] != "-" for row in index]
    ahead = [0]
    for p in passes:
        ahead.append(ahead[-1] + p)
    step(f"{label} engine: topology, {mod}, service with --pe sip, {len(payloads)} datagrams")
    # The engine is loaded before the service names it: `--pe sip` alone would load the C one.
    # Persistence 900 s: no template may expire before it is read, however slow the host
    # (at 60 s, the first ones would go once sending took a minute on a busy host).
    with Lab(engine=mod, rules=ipvs.service_rules(VIP, RS, persistence=900)) as lab:
        expect(f"{label} engine: module {mod} is loaded", modules.loaded(mod))
        with udp.Sinks(RS_NS) as sinks:
            tx = udp.Sender(CLI_NS, CLI)

            def settle(sent):
                procs.wait_until(lambda: sinks.count() >= ahead[sent] - SLACK, 120 + sent // 10,
                                 f"the servers receive datagram {ahead[sent] - SLACK}")
            try:
                tx.send(VIP, 5060, payloads, settle)
                paced = True
            except procs.Timeout as e:
                say(f"  {e}")
                paced = False
            finally:
                tx.close()
            expect(f"{label} engine: the servers kept up with the datagrams it passed on", paced)
            # Until the director holds as many templates as Call-IDs were sent (a deadline
            # only a failure reaches); the comparison then says whether they are the right ones.
            try:
                procs.wait_until(lambda: len(template_callids_hex()) >= len(want),
                                 60 + len(payloads) // 10, "the templates")
                procs.wait_until(lambda: sinks.count() >= ahead[-1], 60 + len(payloads) // 10,
                                 "the datagrams")
            except procs.Timeout as e:
                say(f"  {e}")
            got = sorted(template_callids_hex())
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            expect(f"{label} engine: stored Call-IDs match the corpus ({len(want)} expected)",
                   got == want, f"got {len(got)}; missing {len(missing)}: "
                   f"{' '.join(missing[:8])}\nunexpected {len(extra)}: {' '.join(extra[:8])}")
            expect_eq(f"{label} engine: the servers received each datagram it passed on",
                      sinks.count(), ahead[-1])
        stats.update(lab.stats())
    return stats


exe = os.path.join(os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target"),
                   "release", "examples", "corpus")
shutil.rmtree(CORPUS, ignore_errors=True)
try:
    written = subprocess.run([exe, CORPUS], stdout=subprocess.DEVNULL).returncode == 0
except OSError as e:
    say(f"  {exe}: {e}")
    written = False
if not expect("the corpus is written", written):
    sys.exit(checks.finish())
with open(f"{CORPUS}/index.tsv") as f:
    index = [line.split("\t") for line in f.read().split("\n") if line]
payloads = []
for row in index:
    with open(f"{CORPUS}/{row[0]}.sip", "rb") as f:
        payloads.append(f.read())
n = len(index)
say(f"corpus: {n} datagrams, {sum(1 for r in index if r[1] != r[2])} with a documented C/Rust "
    "difference")

run_engine("ip_vs_pe_sip", 1, "C", index, payloads)
s = run_engine(modules.ENGINE, 2, "Rust", index, payloads)
found = sum(1 for row in index if row[2] != "-")
expect_eq("counter examined = datagrams sent", s["examined"], n)
expect_eq("counter found = Call-IDs stored", s["found"], found)
expect_eq("the fallback counters add up to the rest",
          sum(s[c] for c in ("not_udp", "fragment", "no_payload", "no_callid", "too_long",
                             "bad_terminator", "alloc_failed")), n - found)
expect_eq("no allocation failed", s["alloc_failed"], 0)
sys.exit(checks.finish())
