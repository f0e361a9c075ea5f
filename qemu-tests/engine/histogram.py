#!/usr/bin/python3 -S
# boot-test: needs ipvs_rht
"""The spread of Call-ID templates over the buckets of IPVS's connection table, ours against
the kernel's C engine, on the same Call-IDs (Linux 7.1's resizable tables).

Since 7.1 IPVS takes a template's bucket from the low bits of the engine's hash and keeps
bit 31 for the table's id, and each table has its own random key, which the engines seed
their hash with. So the comparison is statistical, not bucket by bucket: CALLS Call-IDs of
sipp's own pattern (`[call_number]-[pid]@[local_ip]`) go through a --pe sip service once with
each engine, and /proc/net/ip_vs_status gives each table's histogram of bucket lengths (0 to
7, the last "7 or more"). Each histogram is compared with what a uniform hash gives (CALLS
balls in B buckets: binomial), and the two with each other (a test of homogeneity), by a
chi-square test at a significance of 1e-6: a well-mixed hash passes all but once in a
million runs; one that clusters (a hash mixed in too few bits, a constant seed) fails by
orders of magnitude. The figures are printed."""
import math
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import Lab, checks, ipvs, modules, netns, procs, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, RS_NS, VIP  # noqa: E402

CALLS = int(os.environ.get("HISTOGRAM_CALLS", 10000))
LENGTHS = 8  # /proc/net/ip_vs_status counts bucket lengths 0 to 7 ("7" is 7 or more)
ALPHA = 1e-6


def status():
    text = netns.read(DIR_NS, "ip_vs_status")
    conns = int(re.search(r"^Conns:\s+(\d+)", text, re.M).group(1))
    buckets = int(re.search(r"^Conn buckets:\s+(\d+)", text, re.M).group(1))
    hist = [0] * LENGTHS
    m = re.search(r"^Conn buckets empty:\s+(\d+)", text, re.M)
    if m:
        hist[0] = int(m.group(1))
    for n, count in re.findall(r"^Conn buckets len-(\d+):\s+(\d+)", text, re.M):
        hist[int(n)] = int(count)
    return conns, buckets, hist


def settled(calls):
    """The table holds CALLS entries, and its histogram counts each bucket once (no resize
    under way: a walk during a move can see an entry twice or miss it)."""
    conns, buckets, hist = status()
    return conns == calls and sum(hist) == buckets and \
        sum(min(n, LENGTHS - 1) * c for n, c in enumerate(hist)) <= calls


def binomial_expected(n, buckets):
    """Expected number of buckets of each length 0..6 and 7 or more, for N entries hashed
    uniformly into BUCKETS."""
    p = 1.0 / buckets
    probs = [math.comb(n, k) * p ** k * (1 - p) ** (n - k) for k in range(LENGTHS - 1)]
    probs.append(1.0 - sum(probs))
    return [buckets * q for q in probs]


def chi2_sf(x, df):
    """P(X > x) for X chi-square with DF degrees of freedom (the regularized upper incomplete
    gamma function, by its series)."""
    a, z = df / 2.0, x / 2.0
    if z <= 0:
        return 1.0
    term = total = 1.0 / a
    n = 1
    while term > total * 1e-15 and n < 10000:
        term *= z / (a + n)
        total += term
        n += 1
    return max(0.0, 1.0 - math.exp(-z + a * math.log(z) - math.lgamma(a)) * total)


def fit(hist, expected):
    """Chi-square statistic of HIST against EXPECTED counts, and its p-value."""
    stat = sum((o - e) ** 2 / e for o, e in zip(hist, expected))
    return stat, chi2_sf(stat, len(hist) - 1)


def homogeneity(a, b):
    """Chi-square test that histograms A and B come from one distribution."""
    na, nb = sum(a), sum(b)
    stat = 0.0
    df = 0
    for x, y in zip(a, b):
        if x + y == 0:
            continue
        df += 1
        for obs, n in ((x, na), (y, nb)):
            e = (x + y) * n / (na + nb)
            stat += (obs - e) ** 2 / e
    return stat, chi2_sf(stat, max(df - 1, 1))


def run_engine(mod, label, payloads):
    """The histogram of the table after PAYLOADS went through a --pe sip service of MOD."""
    step(f"{label} engine: {mod}, service with --pe sip, {len(payloads)} Call-IDs")
    with Lab(engine=mod, rules=ipvs.service_rules(VIP, RS, persistence=900)):
        expect(f"{label} engine: module {mod} is loaded", modules.loaded(mod))
        with udp.Sinks(RS_NS) as sinks:
            tx = udp.Sender(CLI_NS, CLI)
            try:
                tx.send(VIP, 5060, payloads, udp.settle_on(sinks))
            finally:
                tx.close()
            try:
                sinks.wait(len(payloads), 120 + len(payloads) // 20, "every datagram")
                procs.wait_until(lambda: settled(len(payloads)), 120,
                                 "the table to hold every template, with no resize under way")
            except procs.Timeout:
                pass
        conns, buckets, hist = status()
        expect_eq(f"{label} engine: one template per Call-ID (Conns:)", conns, len(payloads))
        expect_eq(f"{label} engine: the histogram counts every bucket once",
                  sum(hist), buckets)
        return buckets, hist


def show(label, buckets, hist, expected):
    say(f"  {label:<9} {buckets} buckets: " +
        " ".join(f"{n}:{c}" for n, c in enumerate(hist)) +
        f"   (uniform: {' '.join(f'{e:.0f}' for e in expected)})")


# sipp's Call-ID: [call_number]-[pid]@[local_ip], one process's calls.
payloads = [udp.sip(callid=f"{i}-4242@{CLI}", method="INVITE") for i in range(1, CALLS + 1)]
c_buckets, c_hist = run_engine(modules.C_ENGINE, "C", payloads)
r_buckets, r_hist = run_engine(modules.ENGINE, "Rust", payloads)
expect_eq("both tables have the same size", r_buckets, c_buckets)
expected = binomial_expected(CALLS, r_buckets)
show("C", c_buckets, c_hist, expected)
show("Rust", r_buckets, r_hist, expected)
for label, hist in (("C", c_hist), ("Rust", r_hist)):
    stat, p = fit(hist, expected)
    say(f"  {label}: chi-square {stat:.1f} against a uniform hash, p = {p:.3g}")
    expect(f"{label} engine: the spread is that of a uniform hash (p >= {ALPHA:g})", p >= ALPHA)
stat, p = homogeneity(c_hist, r_hist)
say(f"  C against Rust: chi-square {stat:.1f}, p = {p:.3g}")
expect(f"the two engines' spreads are alike (p >= {ALPHA:g})", p >= ALPHA)
sys.exit(checks.finish())
