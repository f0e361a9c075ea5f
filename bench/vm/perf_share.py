#!/usr/bin/env python3
"""Where a `perf record -a` run's kernel samples fell, for bench/vm/scale.sh, resolved
against /proc/kallsyms (the guest's modules are installed stripped, so perf report shows
their samples as bare addresses). Run in the guest right after the recording, with the same
modules loaded.

usage: perf_share.py PERF_DATA ENGINE_MODULE TAG

Prints `scale perf TAG samples=N busy=N engine_pct=.. ipvs_pct=.. ct_in_get_pct=..`, shares
of the busy samples (all but the idle loop's), then `scale sym TAG pct=.. dso=.. name=..`
for the hottest symbols."""
import bisect
import collections
import subprocess
import sys

IDLE = ("default_idle", "pv_native_safe_halt", "acpi_idle_do_entry", "poll_idle",
        "mwait_idle", "default_idle_call", "do_idle", "cpu_idle_poll")


def kallsyms():
    syms = []
    with open("/proc/kallsyms") as f:
        for line in f:
            w = line.split()
            if len(w) < 3 or w[1] in "aAUu":
                continue
            syms.append((int(w[0], 16), w[2], w[3].strip("[]") if len(w) > 3 else "kernel"))
    syms.sort()
    return [s[0] for s in syms], syms


def main(data, engine, tag):
    addrs, syms = kallsyms()
    out = subprocess.run(["perf", "script", "-i", data, "-F", "ip"], capture_output=True,
                         text=True, check=True).stdout
    hits = collections.Counter()
    for line in out.split():
        try:
            ip = int(line, 16)
        except ValueError:
            continue
        i = bisect.bisect_right(addrs, ip) - 1
        hits[syms[i][2:0:-1] if i >= 0 else ("user", "?")] += 1
    total = sum(hits.values())
    busy = total - sum(n for (mod, name), n in hits.items() if name in IDLE)
    share = lambda n: 100.0 * n / busy if busy else 0.0  # noqa: E731
    eng = sum(n for (mod, _), n in hits.items() if mod == engine)
    ipvs = sum(n for (mod, _), n in hits.items() if mod == "ip_vs")
    ct = hits.get(("ip_vs", "ip_vs_ct_in_get"), 0)
    print(f"scale perf {tag} samples={total} busy={busy} engine_pct={share(eng):.2f} "
          f"ipvs_pct={share(ipvs):.2f} ct_in_get_pct={share(ct):.2f}")
    top = [(k, n) for k, n in hits.most_common() if k[1] not in IDLE]
    for (mod, name), n in top[:12]:
        print(f"scale sym {tag} pct={share(n):.2f} dso={mod} name={name}")
    # The engine's own symbols too, wherever they rank (the C engine's parser is
    # nf_conntrack_sip's).
    for (mod, name), n in top[12:]:
        if mod in (engine, "nf_conntrack_sip") and share(n) >= 0.1:
            print(f"scale sym {tag} pct={share(n):.2f} dso={mod} name={name}")


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
