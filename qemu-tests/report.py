#!/usr/bin/env python3
"""Turns the boot-test stream of qemu-tests/lib/suite.sh into one line per test.

usage: report.py LOGDIR [LABEL] < stream

Each test's whole output goes to LOGDIR/<test path with / as _>.log, written as it comes
(so the log of a test still running shows how far it got); standard output gets
one line per test (result, checks, seconds) as it ends, and the full log of a test that
failed. Lines outside any test (the guest's own messages, scripts/vm's verdict) are printed
as they come, so nothing the VM says is lost. The exit status is 0; the caller takes the
verdict from the VM's exit status and from the "failed:" line the suite prints.
"""
import os
import re
import sys

START = re.compile(r"^=== (\S+)$")
END = re.compile(r"^=== (\S+): exit (\d+) in (\d+)s$")
TOTALS = re.compile(r"^(\d+) passed, (\d+) failed$")


def main():
    logdir = sys.argv[1]
    label = f"[{sys.argv[2]}] " if len(sys.argv) > 2 else ""
    os.makedirs(logdir, exist_ok=True)
    test, lines, checks, log = None, [], None, None
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "replace").rstrip("\n")
        m = END.match(line)
        if test and m and m.group(1) == test:
            rc, secs = int(m.group(2)), int(m.group(3))
            lines.append(line)
            log.write(line + "\n")
            log.close()
            path = log.name
            what = f"{checks[0]} checks" if checks else "no checks"
            if checks and checks[1]:
                what += f", {checks[1]} failed"
            # qemu-tests/lib/suite.sh fails a test that ran no check; this says so again, in
            # case a stream comes from elsewhere.
            verdict = "ok  " if rc == 0 and checks and checks[0] else "FAIL"
            print(f"{label}{verdict} {test:<40} {secs:5d} s  ({what}; log: {path})", flush=True)
            if verdict == "FAIL":
                print(f"----- full log of {test}", flush=True)
                print("\n".join(lines), flush=True)
                print(f"----- end of {test}", flush=True)
            test, lines, checks, log = None, [], None, None
            continue
        m = START.match(line)
        if not test and m:
            test, lines, checks = m.group(1), [line], None
            log = open(os.path.join(logdir, test.replace("/", "_") + ".log"), "w", buffering=1)
            log.write(line + "\n")
            continue
        if test:
            lines.append(line)
            log.write(line + "\n")
            m = TOTALS.match(line)
            if m:
                checks = (int(m.group(1)) + int(m.group(2)), int(m.group(2)))
        else:
            print(f"{label}{line}", flush=True)
    if test:
        # The stream ended inside a test: the VM died or was killed; show everything.
        print(f"{label}FAIL {test} (the VM stopped before it ended)", flush=True)
        print("\n".join(lines), flush=True)


if __name__ == "__main__":
    main()
