"""Kernel modules by system call (finit_module, delete_module), and the engine's counters.

The one place a module is unloaded, also for the shell scripts that run in the VM (the
boot-test runner's clean-up, the benchmarks):

    python3 -S -m ipvslab.modules unload [--deadline SECONDS] NAME...

unloads each NAME that is loaded as soon as nothing holds it (unload_when_free), and exits 1,
naming it, if one is still loaded at the deadline (default 300 s)."""
import ctypes
import errno
import os
import subprocess
import sys

from . import netns

libc = ctypes.CDLL(None, use_errno=True)
SYS_FINIT_MODULE, SYS_DELETE_MODULE = 313, 176
EWOULDBLOCK = errno.EWOULDBLOCK
ENGINE = "ip_vs_pe_sip_rs"
# The kernel's C engine, the reference.
C_ENGINE = "ip_vs_pe_sip"
# Our engine and the kernel's C one: both register engine "sip".
ENGINES = [ENGINE, C_ENGINE]
# The names of the engine's counters, in the order of its file: the one list, which the
# module checks its own against when it builds (kmod/stats.rs).
with open(os.path.join(os.path.dirname(__file__), "../../../kmod/stats-names.txt")) as f:
    STATS = f.read().split()
STATS_PROC = "ip_vs_pe_sip_stats"  # /proc/net/, per network namespace


def module_file(name):
    base = f"/lib/modules/{os.uname().release}"
    with open(f"{base}/modules.dep") as f:
        for line in f:
            path = line.split(":")[0]
            if os.path.basename(path).split(".")[0] == name:
                return path if path.startswith("/") else f"{base}/{path}"
    raise FileNotFoundError(name)


def load(name, params=""):
    """finit_module(2), with the module parameters PARAMS ("NAME=VALUE ...", as modprobe
    takes them); its dependencies (ip_vs) must already be loaded. Returns 0 or errno."""
    fd = os.open(module_file(name), os.O_RDONLY)
    try:
        ret = libc.syscall(SYS_FINIT_MODULE, fd, params.encode(), 0)
        err = 0 if ret == 0 else ctypes.get_errno()
    finally:
        os.close(fd)
    if err == 0 and name == ENGINE:
        counting()
    return err


def unload(name):
    """delete_module(2) without waiting, as rmmod: 0, or EWOULDBLOCK while in use."""
    ret = libc.syscall(SYS_DELETE_MODULE, name.encode(), os.O_NONBLOCK)
    return 0 if ret == 0 else ctypes.get_errno()


def set_param(name, value, module=ENGINE):
    """Writes VALUE to the parameter NAME of the loaded MODULE (one of mode 0644)."""
    with open(f"/sys/module/{module}/parameters/{name}", "w") as f:
        f.write(str(value))


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def stats_file(ns):
    """Where namespace NS's counters are read from, or None when there are none (module not
    loaded)."""
    with netns.In(ns):
        p = f"/proc/thread-self/net/{STATS_PROC}"
        if os.path.exists(p):
            return p
    return None


def counting(deadline=60):
    """Waits until the engine counts: it registers its counters a moment after its init has
    returned (never in the init itself: see kmod/pernet_counters.rs), for every namespace at
    once, and a namespace's file shows its lines only from then on. Returns whether it does
    (DEADLINE: one module load; only a failure reaches it)."""
    from .procs import Timeout, wait_until
    path = f"/proc/net/{STATS_PROC}"

    def lines():
        try:
            with open(path) as f:
                return f.read().strip() != ""
        except FileNotFoundError:
            return False
    try:
        wait_until(lines, deadline, "the engine's counters count")
    except Timeout:
        return False
    return True


def stats_present(ns):
    return stats_file(ns) is not None


def engine_stats(ns):
    """The engine's counters as namespace NS sees them ({name: value}; all 0 when the module
    is not loaded). The proc file's lines are "NAME VALUE"; names beyond STATS are kept."""
    out = {k: 0 for k in STATS}
    with netns.In(ns):
        p = f"/proc/thread-self/net/{STATS_PROC}"
        if os.path.exists(p):
            with open(p) as f:
                for line in f:
                    parts = line.split()
                    if len(parts) == 2 and parts[1].isdigit():
                        out[parts[0]] = int(parts[1])
    return out


def load_with_deps(name, params=""):
    """`modprobe NAME PARAMS` without a process: finit_module(2) of each module NAME needs
    (modules.dep) that is not loaded yet, then of NAME with PARAMS ("key=value ..."). No soft
    dependencies, aliases or install lines (for those, run modprobe). Returns 0 or the errno of
    the first load that failed (EEXIST: NAME was loaded already)."""
    base = f"/lib/modules/{os.uname().release}"
    deps = {}
    with open(f"{base}/modules.dep") as f:
        for line in f:
            path, _, needs = line.partition(":")
            deps[os.path.basename(path).split(".")[0].replace("-", "_")] = (path, needs.split())

    def insert(mod, args):
        path, needs = deps[mod]
        for dep in needs:
            m = os.path.basename(dep).split(".")[0].replace("-", "_")
            if not loaded(m):
                err = insert(m, b"")
                if err and err != errno.EEXIST:
                    return err
        fd = os.open(path if path.startswith("/") else f"{base}/{path}", os.O_RDONLY)
        try:
            ret = libc.syscall(SYS_FINIT_MODULE, fd, args, 0)
            return 0 if ret == 0 else ctypes.get_errno()
        finally:
            os.close(fd)

    if name not in deps:
        raise FileNotFoundError(name)
    err = insert(name, params.encode())
    if err == 0 and name == ENGINE:
        counting()
    return err


def unload_when_free(name, deadline):
    """Unloads NAME as soon as nothing holds it (templates and services keep their engine
    until their namespace is gone, which happens asynchronously); DEADLINE is sized from the
    work and only a failure reaches it. Returns whether NAME is gone."""
    from .procs import Timeout, wait_until
    try:
        wait_until(lambda: unload(name) == 0 or not loaded(name), deadline, f"{name} unloads")
    except Timeout:
        pass
    return not loaded(name)


def ready(engines, deadline):
    """A test's start: none of ENGINES loaded (each unloaded once free, see unload_when_free)
    and IPVS with its round-robin scheduler loaded, by one modprobe, which knows their soft
    dependencies."""
    for m in engines:
        unload_when_free(m, deadline)
    if not (loaded("ip_vs") and loaded("ip_vs_rr")):
        subprocess.run(["modprobe", "-a", "ip_vs", "ip_vs_rr"], check=True)


def main(argv):
    if argv[:1] != ["unload"]:
        sys.exit("usage: python3 -m ipvslab.modules unload [--deadline SECONDS] NAME...")
    names, deadline = argv[1:], 300
    if names[:1] == ["--deadline"] and len(names) > 1:
        names, deadline = names[2:], float(names[1])
    left = [m for m in names if not unload_when_free(m, deadline)]
    for m in left:
        print(f"{m} is still in use after {deadline:.0f} s", file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
