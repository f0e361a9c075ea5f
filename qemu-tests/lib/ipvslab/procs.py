"""Processes in namespaces, and waiting for conditions rather than for time."""
import os
import signal
import subprocess
import time

from . import netns


class Timeout(Exception):
    pass


def wait_until(cond, timeout, what, poll=0.2):
    """Polls COND until it returns a true value, which is returned. TIMEOUT is a deadline
    sized from the work, far beyond what any host needs; past it, raises Timeout(WHAT)."""
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise Timeout(f"{what}: not after {timeout:.0f} s")
        time.sleep(poll)


def spawn(ns, args, log=None, cwd=None, env=None):
    """Starts ARGS inside NS in its own session; the Lab ends it with every other process in
    its namespaces."""
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        with netns.In(ns):
            return subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True,
                                    env=env)
    finally:
        if log:
            out.close()


def run(ns, args, **kw):
    with netns.In(ns):
        return subprocess.run(args, **kw)


def in_namespaces(names):
    """pid -> namespace name, for every process living in one of the namespaces NAMES."""
    inodes = {netns.inode(n): n for n in names if netns.exists(n)}
    found = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                ino = os.stat(f"/proc/{d}/ns/net").st_ino
            except OSError:
                continue
            if ino in inodes:
                found[int(d)] = inodes[ino]
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False


def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def kill_all(pids, grace=30):
    """SIGTERM, then SIGKILL for what is still alive after GRACE seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for p in pids:
            try:
                os.kill(p, sig)
            except ProcessLookupError:
                pass
        try:
            # Reaping here takes exit statuses from their Popen objects: only at the end.
            wait_until(lambda: reap() or not any(alive(p) for p in pids), grace,
                       "processes end", 0.1)
            return
        except Timeout:
            pass


def cpu_snapshot(names):
    """The system's CPU time and that of each process in namespaces NAMES (ticks)."""
    with open("/proc/stat") as f:
        total = [int(x) for x in f.readline().split()[1:8]]
    procs = {}
    for pid, ns in in_namespaces(names).items():
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().split(") ")[-1].split()
            with open(f"/proc/{pid}/comm") as f:
                procs[pid] = (f"{f.read().strip()}@{ns}", int(st[11]) + int(st[12]))
        except OSError:
            pass
    return total, procs


def cpu_report(before, names):
    (t0, p0), (t1, p1) = before, cpu_snapshot(names)
    kinds = ["user", "nice", "system", "idle", "iowait", "irq", "softirq"]
    d = [b - a for a, b in zip(t0, t1)]
    hz = os.sysconf("SC_CLK_TCK")
    parts = [f"{n} {v / hz:.1f}s" for n, v in zip(kinds, d) if v]
    parts += [f"{p1[p][0]} {(p1[p][1] - p0.get(p, ('', 0))[1]) / hz:.1f}s" for p in p1]
    return ", ".join(parts)


def kernel_stack(pid, tid=None):
    """Where task TID of process PID (the process itself by default) waits in the kernel:
    its state letter and /proc's stack, or None once it is gone."""
    base = f"/proc/{pid}/task/{tid or pid}"
    try:
        with open(f"{base}/stat") as f:
            stat = f.read()
        with open(f"{base}/stack") as f:
            stack = f.read().strip()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2], stack


def stuck_tasks(names=()):
    """Every task in uninterruptible sleep (D), or whose command is one of NAMES, with its
    kernel stack: what a hang looks like. One line per task, then its stack's lines."""
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        for tid in tids:
            found = kernel_stack(pid, tid)
            if found and (found[0] == "D" or comm in names):
                out.append(f"{comm} (pid {pid}, task {tid}, state {found[0]}):")
                out += [f"    {line}" for line in found[1].split("\n")[:12]]
    return out
