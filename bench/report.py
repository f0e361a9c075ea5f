#!/usr/bin/env python3
"""Turns the raw records of a `make bench` run into figures.

usage: report.py criterion CRITERION_DIR      print parser records from criterion's output
       report.py scale RAW BENCHMARKS_MD      replace the scale section of BENCHMARKS.md
                                              with RAW's scale figures
       report.py summary RAW OUT_TXT OUT_JSON [BENCHMARKS_MD]
                                              print the figures, write them as text and
                                              JSON, and replace the results section of
                                              BENCHMARKS.md

Raw records are lines `PART key=value ...` or `meta key=free text` (see bench/vm/*.sh and
scripts/bench); anything else in the raw file is ignored. Every figure states its spread
over the runs, so that a reader can tell noise from a difference: the machine is shared,
and under emulation another guest's load slows ours.
"""
import json
import os
import re
import statistics
import sys

BEGIN = "<!-- results:begin{kernel} (written by scripts/bench) -->"
END = "<!-- results:end{kernel} -->"
SCALE_BEGIN = "<!-- scale:begin{kernel} (written by scripts/bench scale) -->"
SCALE_END = "<!-- scale:end{kernel} -->"


def records(path):
    out = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            words = line.split()
            if words[:1] == ["meta"] and "=" in line:
                # `meta KEY=free text`
                key, value = line[5:].rstrip("\n").split("=", 1)
                out.append(("meta", {key: value}))
                continue
            if len(words) < 2 or "=" in words[0]:
                continue
            kv = dict(w.split("=", 1) for w in words[1:] if "=" in w)
            if kv:
                out.append((words[0], kv))
    return out


def num(s):
    return float(s)


def quartiles(xs):
    xs = sorted(xs)
    if len(xs) < 2:
        return xs[0], xs[0]
    q = statistics.quantiles(xs, n=4, method="inclusive")
    return q[0], q[2]


def spread(xs):
    """Median, min, max, q1, q3 of a sample."""
    q1, q3 = quartiles(xs)
    return {"median": statistics.median(xs), "min": min(xs), "max": max(xs), "q1": q1,
            "q3": q3, "n": len(xs)}


def fmt(x, digits=3):
    return f"{x:.{digits}g}" if abs(x) < 10 ** digits else f"{x:.0f}"


def criterion(dirname):
    base = os.path.join(dirname, "call_id")
    for name in sorted(os.listdir(base)):
        est = os.path.join(base, name, "new", "estimates.json")
        bench = os.path.join(base, name, "new", "benchmark.json")
        if not os.path.exists(est):
            continue
        e = json.load(open(est))
        b = json.load(open(bench)) if os.path.exists(bench) else {}
        tp = (b.get("throughput") or {}).get("Bytes", 0)
        m = e["median"]
        ci = m["confidence_interval"]
        print(f"parser message={name} bytes={tp} median_ns={m['point_estimate']:.3f} "
              f"median_lo_ns={ci['lower_bound']:.3f} median_hi_ns={ci['upper_bound']:.3f} "
              f"mean_ns={e['mean']['point_estimate']:.3f}")


def summary(raw, out_txt, out_json, md):
    recs = records(raw)
    by = {}
    for part, kv in recs:
        by.setdefault(part, []).append(kv)
    lines = []
    data = {"raw": [{"part": p, **kv} for p, kv in recs]}
    say = lines.append

    meta = {k: v for kv in by.get("meta", []) for k, v in kv.items()}
    data["meta"] = meta
    say(f"make bench, {meta.get('date', '?')}: {meta.get('machine', '?')}")
    if "kernel" in meta:
        say(f"kernel: {meta['kernel']} (perf flavour)")
    if "load_before" in meta:
        say(f"host load average (1 min) before/after: {meta.get('load_before')} / "
            f"{meta.get('load_after', '?')}; other guests on this host make every figure noisier")

    # 1. Datapath.
    dp = [kv for kv in by.get("datapath", []) if "config" in kv and "pps" in kv]
    if dp:
        settings = next((kv for kv in by["datapath"] if "rounds" in kv), {})
        say("")
        say("1. Datapath: SIP datagrams through the director (NAT, -o, 3 real servers), "
            "packets per second received by the real servers")
        say(f"   {settings.get('rounds', '?')} rounds of none/C/Rust, "
            f"{settings.get('seconds', '?')} s "
            f"each, {settings.get('calls', '?')} calls in flight, messages "
            f"{settings.get('messages', '?')}, persistence {settings.get('persist', '?')} s")
        res = {}
        for cfg, label in (("none", "no engine (-s rr -o)"), ("c", "C ip_vs_pe_sip"),
                           ("rust", "Rust ip_vs_pe_sip_rs")):
            xs = [num(kv["pps"]) for kv in dp if kv["config"] == cfg]
            if not xs:
                continue
            s = spread(xs)
            sent = sum(int(kv["sent"]) for kv in dp if kv["config"] == cfg)
            got = sum(int(kv["received"]) for kv in dp if kv["config"] == cfg)
            # Receive counters also count the director's ARP requests: a few more than sent.
            s["lost"] = max(0, sent - got)
            s["sent"] = sent
            res[cfg] = s
            say(f"   {label:24} median {s['median']:8.0f} pps   min {s['min']:.0f}  max "
                f"{s['max']:.0f}  IQR {s['q1']:.0f}-{s['q3']:.0f}  (n={s['n']}, "
                f"lost {s['lost']} of {sent})")
        paired = {}
        for num_cfg, den_cfg in (("rust", "c"), ("rust", "none"), ("c", "none")):
            if num_cfg in res and den_cfg in res:
                rounds = {}
                for kv in dp:
                    rounds.setdefault(kv["round"], {})[kv["config"]] = num(kv["pps"])
                per = [r[num_cfg] / r[den_cfg] for r in rounds.values()
                       if num_cfg in r and den_cfg in r and r[den_cfg]]
                ratio = res[num_cfg]["median"] / res[den_cfg]["median"]
                paired[f"{num_cfg}/{den_cfg}"] = {"ratio_of_medians": ratio, **spread(per)}
                say(f"   {num_cfg}/{den_cfg:5} {ratio:.3f} (ratio of medians); per round "
                    f"{min(per):.3f}-{max(per):.3f}, median {statistics.median(per):.3f}")
        data["datapath"] = {"settings": settings, "configs": res, "ratios": paired}

    # 2. The engine alone.
    eng = [kv for kv in by.get("engine", []) if "fill_param" in kv]
    if eng:
        settings = next((kv for kv in by["engine"] if "rounds" in kv), {})
        say("")
        say("2. The engine alone (pe_sip_bench in the perf kernel): ns per call, median over "
            f"{settings.get('rounds', '?')} alternating rounds of "
            f"{settings.get('iterations', '?')} "
            "calls (min-max of the rounds)")
        say("   fill_param includes the kfree of its Call-ID copy. Baselines, the same code "
            "whichever engine is loaded: kmemdup = kmemdup+kfree (both engines' copy), "
            "krealloc = krealloc(NULL)+memcpy+kfree (a Rust KVec's), atomics = one shared "
            "counter increment (the Rust engine's statistics before they were per-CPU)")
        res = {}
        messages = []
        for kv in eng:
            if kv["message"] not in messages:
                messages.append(kv["message"])
        ops = ("fill_param", "hashkey_raw", "ct_match", "kmemdup", "krealloc", "atomics")
        say(f"   {'message':18} {'op':12} {'C':>18} {'Rust':>18} {'Rust/C':>7}  per round")
        for m in messages:
            res[m] = {}
            for op in ops:
                row = {}
                for mod, key in (("ip_vs_pe_sip", "c"), ("ip_vs_pe_sip_rs", "rust")):
                    xs = [num(kv[op]) for kv in eng
                          if kv["message"] == m and kv["module"] == mod and op in kv]
                    if xs:
                        row[key] = spread(xs)
                # Where an engine found no Call-ID, it has no hashkey_raw or ct_match to time
                # (the C engine drops the datagram; ours keys its fallback template on a
                # marker byte): nothing to compare.
                if op in ("hashkey_raw", "ct_match") and any(
                        kv.get("callid_len") == "0" for kv in eng if kv["message"] == m):
                    continue
                if "c" in row and "rust" in row and row["c"]["median"] > 0:
                    rounds = {}
                    for kv in eng:
                        if kv["message"] == m and op in kv:
                            rounds.setdefault(kv["round"], {})[kv["module"]] = num(kv[op])
                    per = [r["ip_vs_pe_sip_rs"] / r["ip_vs_pe_sip"] for r in rounds.values()
                           if len(r) == 2 and r["ip_vs_pe_sip"]]
                    row["ratio"] = row["rust"]["median"] / row["c"]["median"]
                    row["ratio_per_round"] = spread(per)
                    c, r = row["c"], row["rust"]
                    say(f"   {m:18} {op:12} {c['median']:7.1f} ({c['min']:.0f}-{c['max']:.0f})"
                        f"{'':>3} {r['median']:7.1f} ({r['min']:.0f}-{r['max']:.0f}){'':>3}"
                        f" {row['ratio']:6.2f}  {min(per):.2f}-{max(per):.2f}")
                res[m][op] = row
            lens = {kv["module"]: kv.get("callid_len") for kv in eng if kv["message"] == m}
            res[m]["callid_len"] = lens
        data["engine"] = {"settings": settings, "messages": res}

    # 3. The parser in user space.
    par = {kv["message"]: kv for kv in by.get("parser", [])}
    cg = {kv["message"]: kv for kv in by.get("callgrind", [])}
    if par or cg:
        say("")
        say("3. Call-ID parser in user space (ipvs_pe_sip::call_id, host CPU, not the VM): "
            "criterion median time (95% CI) and message bytes per second; bytes the parser "
            "reads (to the Call-ID's end, or the header section's) and callgrind "
            "instructions per message (per byte read)")
        say(f"   {'message':18} {'size':>7} {'time ns (95% CI)':>25} {'msg bytes/s':>12}"
            f"  {'read':>7}  instructions")
        res = {}
        for m in list(dict.fromkeys(list(cg) + list(par))):
            p, c = par.get(m, {}), cg.get(m, {})
            row = {}
            text = f"   {m:18}"
            if p:
                ns = num(p["median_ns"])
                size = int(p["bytes"])
                row.update(bytes=size, median_ns=ns, ci_ns=[num(p["median_lo_ns"]),
                                                            num(p["median_hi_ns"])],
                           bytes_per_s=size / ns * 1e9 if ns else 0)
                ci = f"({num(p['median_lo_ns']):.1f}-{num(p['median_hi_ns']):.1f})"
                text += (f" {size:5d} B  {ns:8.1f} {ci:>15}  {row['bytes_per_s'] / 1e9:6.2f} GB/s")
            if c:
                ins = num(c["instructions"]) / num(c["repetitions"])
                scanned = int(c["scanned"])
                row.update(instructions=ins, scanned=scanned)
                text += f"  {scanned:5d} B  {ins:6.0f} ({ins / scanned:5.2f}/B)"
            res[m] = row
            say(text)
        data["parser"] = res

    # 4. Control plane.
    cp = [kv for kv in by.get("control", []) if "tool" in kv]
    if cp:
        settings = next((kv for kv in by["control"] if "rounds" in kv), {})
        say("")
        say(f"4. Control plane: {settings.get('services', '?')} services with "
            f"{settings.get('dests', '?')} destinations, each tool in a fresh namespace, "
            f"{settings.get('rounds', '?')} rounds: elapsed seconds, median (min-max), and the "
            "CPU seconds the tool spent in user space / in the kernel")
        tools = {}
        keys = ("restore_s", "list_s", "restore_user_s", "restore_sys_s", "list_user_s",
                "list_sys_s")
        for tool in ("ipvsadm", "ipvsadm-rs"):
            rows = [kv for kv in cp if kv["tool"] == tool]
            if rows:
                tools[tool] = {k: spread([num(kv[k]) for kv in rows]) for k in keys
                               if all(k in kv for kv in rows)}
                tools[tool]["list_lines"] = sorted({kv["list_lines"] for kv in rows})
        ratios = {}
        for k, what in (("restore", "-R (restore)"), ("list", "-Ln (list)")):
            cells = []
            for tool, t in tools.items():
                e = t[f"{k}_s"]
                cell = f"{tool} {e['median']:6.2f} s ({e['min']:.2f}-{e['max']:.2f})"
                if f"{k}_user_s" in t:
                    cell += (f" cpu {t[f'{k}_user_s']['median']:.2f}/"
                             f"{t[f'{k}_sys_s']['median']:.2f}")
                cells.append(cell)
            say(f"   {what:13} " + "   ".join(cells))
            if len(tools) == 2:
                a, b = tools["ipvsadm"][f"{k}_s"], tools["ipvsadm-rs"][f"{k}_s"]
                ratios[k] = b["median"] / a["median"]
                say(f"   {'':13} ipvsadm-rs/ipvsadm time: {ratios[k]:.3f}")
        for tool, t in tools.items():
            say(f"   {tool} listing lines: {', '.join(t['list_lines'])}")
        data["control"] = {"settings": settings, "tools": tools,
                           "ratio_rs_over_ipvsadm": ratios}

    # 5. Schedulers.
    sc = [kv for kv in by.get("scheduler", []) if "sched" in kv and "pps" in kv]
    if sc:
        settings = next((kv for kv in by["scheduler"] if "rounds" in kv), {})
        say("")
        say("5. Schedulers: a new connection per datagram (-o, no persistence, no engine, NAT, "
            "3 real servers), packets per second received by the real servers")
        say(f"   {settings.get('rounds', '?')} rounds of rr/mh/sipmh, "
            f"{settings.get('seconds', '?')} s each, {settings.get('calls', '?')} Call-IDs")
        res = {}
        for s in ("rr", "mh", "sipmh"):
            xs = [num(kv["pps"]) for kv in sc if kv["sched"] == s]
            if xs:
                res[s] = spread(xs)
                say(f"   {s:6} median {res[s]['median']:8.0f} pps   min {res[s]['min']:.0f}  "
                    f"max {res[s]['max']:.0f}  (n={res[s]['n']})")
        ratios = {}
        for den in ("rr", "mh"):
            if "sipmh" in res and den in res and res[den]["median"]:
                ratios[f"sipmh/{den}"] = res["sipmh"]["median"] / res[den]["median"]
                say(f"   sipmh/{den:3} {ratios[f'sipmh/{den}']:.3f} (ratio of medians)")
        data["scheduler"] = {"settings": settings, "schedulers": res, "ratios": ratios}

    # 6. Media follows its call.
    md_runs = [kv for kv in by.get("media", []) if "traffic" in kv and "sent" in kv]
    mem = {kv["phase"]: kv for kv in by.get("media", []) if kv.get("phase")}
    if md_runs or mem:
        data["media"] = media_section(by["media"], md_runs, mem, say)

    # 7. Scale.
    sc_data = scale_section(by, say)
    if sc_data:
        data["scale"] = sc_data

    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(out_txt, "w") as f:
        f.write(text)
    with open(out_json, "w") as f:
        json.dump(data, f, indent=1)
    if md:
        update_markdown(md, text, meta)
    return 0


def scale_section(by, say):
    """The scale part (bench/vm/scale.sh): a row per conn_tab_bits mode, table size and
    engine, medians over rounds (and over the timed runs of each table)."""
    recs = by.get("scale", [])
    if not any("pps" in kv for kv in recs):
        return None
    settings = next((kv for kv in recs if "sizes" in kv), {})
    table_bits = {(kv["bits"], kv["size"]): kv["conn_tab_bits"] for kv in recs
                  if "conn_tab_bits" in kv}
    kind = {}
    for kv in recs:
        if "engine" not in kv:
            continue
        if "templates" in kv and "conn_obj" in kv:
            k = "mem"
        elif "templates" in kv:
            k = "fill"
        elif "rep" in kv:
            k = "run"
        elif "engine_pct" in kv:
            k = "perf"
        elif "per_lookup" in kv:
            k = "count"
        else:
            continue
        kind.setdefault((kv["bits"], kv["size"], kv["engine"], k), []).append(kv)

    def med(key, field, scale=1.0):
        xs = [num(kv[field]) * scale for kv in kind.get(key, []) if field in kv]
        return statistics.median(xs) if xs else None

    say("")
    say("7. Scale: live calls (one template each) against the cost of a datagram, C engine "
        "and ours, each table filled in a fresh director namespace")
    sizes = sorted({k[1] for k in kind}, key=int)
    say(f"   sizes {', '.join(sizes)}; conn_tab_bits: IPVS's default "
        f"({settings.get('default_bits', '?')}) and fitted (log2 of the size, rounded up); "
        f"{settings.get('rounds', '?')} round(s), {settings.get('reps', '?')} timed runs of "
        f"{settings.get('seconds', '?')} s per table; persistence {settings.get('persist', '?')}"
        f" s; guest memory {int(settings.get('mem_kb', 0)) // 1024} MiB")
    say("   fill: new calls per second while filling (an INVITE each: lookup miss, schedule, "
        "template allocated, hashed, inserted). dgrams/s: INVITE/ACK/BYE of the live calls "
        "only (median of the timed runs, and their range). eng%/ip_vs%: the engine's (for C, with "
        "nf_conntrack_sip's parser) and ip_vs's share of the guest's busy perf samples "
        "(incl. the flood tool); in_get%: "
        "ip_vs_ct_in_get's own. match/lookup: ct_match calls per template lookup (kprobes, "
        "separate run). B/tmpl: slab bytes per template, ip_vs_conn pages + kmalloc objects")
    say(f"   {'bits':>7} {'size':>8} {'eng':>4} {'fill/s':>8} {'dgrams/s':>9} {'range':>12} "
        f"{'rust/c':>6} "
        f"{'eng%':>5} {'ip_vs%':>6} {'in_get%':>7} {'match/lk':>8} {'conn B':>6} "
        f"{'kmal B':>6} {'B/tmpl':>6}")
    rows = {}
    modes = list(dict.fromkeys(k[0] for k in kind))
    for mode in modes:
        for size in sizes:
            for eng in ("c", "rust"):
                if (mode, size, eng, "run") not in kind:
                    continue
                key = (mode, size, eng)
                mem = kind.get(key + ("mem",), [])
                per_t = [(num(kv["conn_pages"]) / num(kv["templates"]),
                          num(kv["kmalloc_bytes"]) / num(kv["templates"]))
                         for kv in mem if num(kv["templates"]) > 0]
                row = {
                    "conn_tab_bits": table_bits.get((mode, size)),
                    "fill_calls_per_s": med(key + ("fill",), "pps"),
                    "templates": med(key + ("fill",), "templates"),
                    "pps": med(key + ("run",), "pps"),
                    "pps_all": [num(kv["pps"]) for kv in kind[key + ("run",)]],
                    "engine_pct": med(key + ("perf",), "engine_pct"),
                    # The C engine parses with nf_conntrack_sip's functions: its own share
                    # is both modules' (from the hottest symbols the run listed).
                    "helper_pct": statistics.median(
                        [sum(num(s["pct"]) for s in recs if "name" in s and s.get("dso")
                             == "nf_conntrack_sip" and s["round"] == kv["round"]
                             and (s["bits"], s["size"], s["engine"]) == key)
                         for kv in kind.get(key + ("perf",), [])] or [0]),
                    "ipvs_pct": med(key + ("perf",), "ipvs_pct"),
                    "ct_in_get_pct": med(key + ("perf",), "ct_in_get_pct"),
                    "ct_match_per_lookup": med(key + ("count",), "per_lookup"),
                    "conn_obj": med(key + ("mem",), "conn_obj"),
                    "conn_bytes_per_template": statistics.median(x[0] for x in per_t)
                    if per_t else None,
                    "kmalloc_bytes_per_template": statistics.median(x[1] for x in per_t)
                    if per_t else None,
                }
                rows[f"{mode}/{size}/{eng}"] = row
                ratio = ""
                if eng == "rust" and f"{mode}/{size}/c" in rows and rows[f"{mode}/{size}/c"]["pps"]:
                    ratio = f"{row['pps'] / rows[f'{mode}/{size}/c']['pps']:.2f}"

                def f(x, d=0):
                    return "-" if x is None else f"{x:.{d}f}"
                cb, kb = row["conn_bytes_per_template"], row["kmalloc_bytes_per_template"]
                rng = f"{min(row['pps_all']):.0f}-{max(row['pps_all']):.0f}"
                own = row["engine_pct"]
                if own is not None:
                    own += row["helper_pct"]
                say(f"   {mode[:3] + '=' + str(row['conn_tab_bits']):>7} {size:>8} {eng:>4} "
                    f"{f(row['fill_calls_per_s']):>8} {f(row['pps']):>9} {rng:>12} {ratio:>6} "
                    f"{f(own, 1):>5} {f(row['ipvs_pct'], 1):>6} "
                    f"{f(row['ct_in_get_pct'], 1):>7} {f(row['ct_match_per_lookup'], 2):>8} "
                    f"{f(cb):>6} {f(kb):>6} "
                    f"{f(None if cb is None else cb + kb):>6}")
    # The engines' own hottest symbols at the largest size, to say where the time goes.
    syms = [kv for kv in recs if "name" in kv and "pct" in kv]
    if syms and sizes:
        big = sizes[-1]
        for mode in modes:
            for eng in ("c", "rust"):
                top = [kv for kv in syms if kv["bits"] == mode and kv["size"] == big
                       and kv["engine"] == eng][:8]
                if top:
                    say(f"   hottest symbols, {mode} bits, {big} calls, {eng}: " + ", ".join(
                        f"{symbol(kv)} {kv['pct']}%" for kv in top))
                own = [kv for kv in syms if kv["bits"] == mode and kv["size"] == big
                       and kv["engine"] == eng and kv["dso"] in (
                           "ip_vs_pe_sip", "ip_vs_pe_sip_rs", "nf_conntrack_sip")]
                if own:
                    say("     the engine's own: " + ", ".join(
                        f"{symbol(kv)} {kv['pct']}%" for kv in own))
    return {"settings": settings, "rows": rows}


def symbol(kv):
    """A perf record's symbol, Rust's v0-mangled names shortened to their path."""
    name = kv["name"]
    if name == "?":
        return "(user space)"
    if name.startswith("_R") and "Cs" in name:
        rest, parts = name.split("_", 2)[-1], []
        i = 0
        while i < len(rest):
            if rest[i] in "Bs":
                # A back-reference or a disambiguator: base-62 digits up to "_".
                i = rest.find("_", i) + 1 or len(rest)
                continue
            m = re.match(r"(\d+)", rest[i:])
            if not m:
                i += 1
                continue
            n, j = int(m.group(1)), i + len(m.group(1))
            parts.append(rest[j:j + n])
            i = j + n
        return "::".join(p for p in parts if p) or name
    return name


def update_scale_markdown(raw, md):
    """Replaces the scale block of RAW's kernel in MD with RAW's scale section."""
    recs = records(raw)
    by = {}
    for part, kv in recs:
        by.setdefault(part, []).append(kv)
    meta = {k: v for kv in by.get("meta", []) for k, v in kv.items()}
    lines = []
    if not scale_section(by, lines.append):
        return 1
    series = meta.get("kernel", "").split(" ")[0]
    begin = SCALE_BEGIN.format(kernel=f" {series}" if series else "")
    end = SCALE_END.format(kernel=f" {series}" if series else "")
    marks = {k: int(kv[k]) for kv in by.get("vm", []) if kv.get("part") == "scale"
             for k in ("start", "end") if k in kv}
    took = (f"the scale part took {marks['end'] - marks['start']} s in the guest"
            if len(marks) == 2 else f"the run took {meta.get('duration', '?')}")
    block = (f"{begin}\nLatest run: {meta.get('date', '?')}, kernel {meta.get('kernel', '?')}, "
             f"{meta.get('machine', '?')}; {took}.\n\n```text\n"
             + "\n".join(lines).lstrip("\n") + f"\n```\n{end}")
    with open(md, encoding="utf-8") as f:
        doc = f.read()
    write_block(md, doc, begin, end, block)
    return 0


MEDIA_TRAFFIC = (("rust", "sip", "Rust, SIP (ACK)"), ("rust", "media", "Rust, RTP matched"),
                 ("rust", "unknown", "Rust, RTP unmatched"), ("c", "sip", "C, SIP (ACK)"),
                 ("c", "media", "C, RTP (dropped)"))


def media_section(recs, runs, mem, say):
    """Section 6 (bench/vm/media.sh): rates of SIP and media datagrams through each engine on
    a service of every port, and the memory of a learnt entry."""
    settings = next((kv for kv in recs if "rounds" in kv), {})
    out = {"settings": settings}
    say("")
    say("6. Media: SIP and RTP datagrams on a port-zero service (every port of the VIP, as "
        "a firewall-mark service gets SIP and an RTP range; NAT, -o, 3 real servers)")
    if runs:
        say(f"   {settings.get('rounds', '?')} rounds, each engine in turn, "
            f"{settings.get('seconds', '?')} s a run, {settings.get('calls', '?')} calls "
            f"started (ours learns 2 entries a call: RTP and RTCP), RTP of "
            f"{settings.get('rtp_bytes', '?')} bytes. Rate = datagrams sent per second (the "
            "whole path runs in the sender's context); received = what reached the servers")
        # The sent rate is the figure: the C engine drops media (no Call-ID), so nothing of
        # its media run is received, and elsewhere received equals sent (all delivered).
        for kv in runs:
            kv["rate"] = num(kv["sent"]) / num(kv["seconds"]) if num(kv["seconds"]) else 0.0
        res = {}
        for eng, kind, label in MEDIA_TRAFFIC:
            rows = [kv for kv in runs if kv["engine"] == eng and kv["traffic"] == kind]
            if not rows:
                continue
            s = spread([kv["rate"] for kv in rows])
            sent = sum(int(kv["sent"]) for kv in rows)
            got = sum(int(kv["received"]) for kv in rows)
            matched = sum(int(kv.get("matched", 0)) for kv in rows)
            unmatched = sum(int(kv.get("unmatched", 0)) for kv in rows)
            s.update(sent=sent, received=got, matched=matched, unmatched=unmatched,
                     per_server=[kv.get("per_server", "") for kv in rows])
            res[f"{eng}/{kind}"] = s
            say(f"   {label:21} median {s['median']:8.0f}/s  min {s['min']:.0f}  max "
                f"{s['max']:.0f}  IQR {s['q1']:.0f}-{s['q3']:.0f}  (n={s['n']}; received "
                f"{got} of {sent}; media matched {matched}, unmatched {unmatched})")
        rounds = {}
        for kv in runs:
            rounds.setdefault(kv["round"], {})[f"{kv['engine']}/{kv['traffic']}"] = kv["rate"]
        ratios = {}
        for a, b in (("rust/media", "rust/sip"), ("rust/unknown", "rust/sip"),
                     ("rust/media", "rust/unknown"), ("c/media", "c/sip"),
                     ("rust/sip", "c/sip")):
            if a in res and b in res and res[b]["median"]:
                per = [r[a] / r[b] for r in rounds.values() if a in r and b in r and r[b]]
                ratios[f"{a} : {b}"] = {"ratio_of_medians": res[a]["median"] / res[b]["median"],
                                        **spread(per)}
                say(f"   {a:12} / {b:8} {ratios[f'{a} : {b}']['ratio_of_medians']:.3f} "
                    f"(ratio of medians); per round {min(per):.3f}-{max(per):.3f}, "
                    f"median {statistics.median(per):.3f}")
        out.update(runs=res, ratios=ratios)
    if "learn" in mem and "control" in mem:
        learn, control = mem["learn"], mem["control"]
        n = int(learn["entries"])
        say(f"   memory: {n} entries learnt ({learn['calls']} INVITEs with SDP, one client), "
            f"against a control of {control['calls']} INVITEs learning nothing (their "
            "templates): the difference per entry, by slab cache (objects, bytes, pages)")

        def deltas(kv):
            d = {}
            for k, v in kv.items():
                what, _, cache = k.partition(".")
                if what in ("objs", "size", "pages") and cache:
                    d.setdefault(cache, {"objs": 0, "size": 0, "pages": 0})[what] = int(v)
            return d
        dl, dc = deltas(learn), deltas(control)
        caches = {}
        for cache in sorted(set(dl) | set(dc)):
            a = dl.get(cache, {"objs": 0, "size": 0, "pages": 0})
            b = dc.get(cache, {"objs": 0, "size": 0, "pages": 0})
            size = a["size"] or b["size"]
            objs, pages = a["objs"] - b["objs"], a["pages"] - b["pages"]
            caches[cache] = {"objs": objs, "size": size, "pages": pages}
        total_bytes = sum(c["objs"] * c["size"] for c in caches.values())
        total_pages = sum(c["pages"] for c in caches.values())
        slab = (int(learn["slab_kb"]) - int(control["slab_kb"])) * 1024
        per = {"objects_bytes": total_bytes / n, "pages_bytes": total_pages * 4096 / n,
               "slab_bytes": slab / n} if n else {}
        for cache, c in sorted(caches.items(), key=lambda kv: -abs(kv[1]["objs"] * kv[1]["size"])):
            # What moved by more than 1% of an object per entry.
            if n and abs(c["objs"]) * 100 >= n:
                say(f"     {cache:22} {c['objs']:+7d} objects of {c['size']} B "
                    f"({c['objs'] / n:.3f} per entry), {c['pages']:+d} pages")
        if per:
            say(f"     per entry: {per['objects_bytes']:.0f} B in objects, "
                f"{per['pages_bytes']:.0f} B in slab pages, {per['slab_bytes']:.0f} B of "
                "/proc/meminfo's Slab")
        out["memory"] = {"entries": n, "learn": learn, "control": control, "caches": caches,
                         "per_entry": per}
    return out


def write_block(md, doc, begin, end, block):
    """Writes DOC to file MD with BLOCK in place of what lies from BEGIN to END (appended if
    they are not there)."""
    if begin in doc and end in doc:
        doc = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block, doc,
                     flags=re.S)
    else:
        doc += "\n" + block + "\n"
    with open(md, "w", encoding="utf-8") as f:
        f.write(doc)


def update_markdown(md, text, meta):
    """Replaces the results block of META's kernel (one block per kernel series)."""
    with open(md, encoding="utf-8") as f:
        doc = f.read()
    series = meta.get("kernel", "").split(" ")[0]
    begin = BEGIN.format(kernel=f" {series}" if series else "")
    end = END.format(kernel=f" {series}" if series else "")
    block = (f"{begin}\nLatest run: {meta.get('date', '?')}, {meta.get('machine', '?')}; "
             f"`make bench` took {meta.get('duration', '?')}.\n\n```text\n{text}```\n{end}")
    write_block(md, doc, begin, end, block)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "criterion":
        criterion(sys.argv[2])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "scale":
        return update_scale_markdown(sys.argv[2], sys.argv[3])
    if len(sys.argv) in (5, 6) and sys.argv[1] == "summary":
        return summary(*sys.argv[2:5], sys.argv[5] if len(sys.argv) == 6 else None)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
