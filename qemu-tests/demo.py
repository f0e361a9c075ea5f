#!/usr/bin/python3 -S
"""The demo (`make demo`): SIP calls from one proxy address and port, balanced by Call-ID over
three SIP servers by our engine, then the same service without it, where plain persistence
pins every call to one server. It runs on ipvslab, the code the boot tests run: the same
topology, sipp servers and client, and reports read from the servers' own message logs.

DEMO_CALLS: calls in each half (60)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from ipvslab import Lab, checks, kernel, procs  # noqa: E402
from ipvslab.checks import expect_eq, say  # noqa: E402
from ipvslab.scenario import expect_balanced  # noqa: E402
from ipvslab.topology import CLI, DIR_NS, RS, VIP  # noqa: E402

calls = int(os.environ.get("DEMO_CALLS", 60))
SERVICE = f"-u {VIP}:5060 -s rr -p 60 -M 0.0.0.0 -o"


def heading(text):
    say(f"\n\033[1m{text}\033[0m")


def run(*args, lines=None):
    """ipvsadm-rs ARGS in the director's namespace, shown as typed there, with its output
    (the first LINES lines of it, if given)."""
    say(f"# ipvsadm-rs {' '.join(args)}")
    p = procs.run(DIR_NS, ["ipvsadm-rs", *args], capture_output=True, text=True)
    out = p.stdout.splitlines()
    for line in out[:lines] if lines else out:
        say(line)
    if p.returncode:
        raise RuntimeError(f"ipvsadm-rs {' '.join(args)}: exit {p.returncode}: {p.stderr}")


heading(f"Kernel {os.uname().release}; the Rust engine loaded, the network namespaces made")
with kernel.Kmsg() as log, Lab(uas=["v4"]) as lab:
    for line in log.new_lines():
        if "ip_vs_pe_sip_rs" in line or 'engine "sip"' in line:
            say(f"  kernel: {line}")

    heading("A SIP service on the director: one-packet scheduling, persistence mask 0.0.0.0, "
            "--pe sip")
    run("-A", *SERVICE.split(), "--pe", "sip")
    for ip in RS:
        run("-a", "-u", f"{VIP}:5060", "-r", f"{ip}:5060", "-m")
    run("-Ln")

    heading(f"{calls} SIP calls (INVITE, 200, ACK, BYE, 200) from {CLI}:5060, as a SIP proxy "
            "sends them; where each went, from the SIP servers' own message logs")
    r = lab.calls("demo", calls, 10)
    expect_balanced(r, calls)

    # Right after the calls: a template lives 60 s (-p 60) after its call's last message.
    heading("The director's persistence templates, keyed by Call-ID")
    run("-Lcn", "--persistent-conn", lines=8)
    heading("The engine's counters")
    run("--pe-stats")

    heading("Without --pe sip: plain persistence pins every call of the proxy to one server")
    run("-E", *SERVICE.split())
    r = lab.calls("plain", calls, 10)
    expect_eq("sipp: no call failed", r["failed"], 0)
    expect_eq("every call on one server", f"{r['servers_used']}/{r['maxpct']}", "1/100")
sys.exit(checks.finish())
