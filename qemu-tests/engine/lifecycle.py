#!/usr/bin/python3 -S
"""The module's life: load and unload, refusal while the C engine is loaded, refusal to
unload while a service uses it, autoload by `--pe sip`, and a Call-ID in /proc.

What modprobe does (autoload through our alias, an install line in modprobe.d, `modprobe -R`)
and what Debian's `ipvsadm --pe sip` does are run as those programs, one process each. The
rest is done from this one process: loads and unloads by finit_module(2) and delete_module(2),
the counters, parameters and kernel log read here, the datagram sent from a socket made in
the client's namespace (every process costs up to a second under the emulated debug kernel).
One topology serves the whole test (making one and waiting for its release take a quarter of
a minute each): the autoload checks, which send no traffic and so leave no template holding
the engine, come before the one that does, and flush their service to free the engine.
"""
import errno
import os
import re
import shutil
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import checks, ipvs, kernel, modules, netns, procs, topology, udp  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402
from ipvslab.topology import CLI, CLI_NS, DIR_NS, RS, VIP  # noqa: E402

OURS, C_ENGINE = modules.ENGINE, "ip_vs_pe_sip"
# The root namespace's counters: this thread is in it whenever they are read.
STATS = f"/proc/thread-self/net/{modules.STATS_PROC}"
COUNTERS = modules.STATS
PARAM = f"/sys/module/{OURS}/parameters/drop_without_callid"
CONF = "/etc/modprobe.d/ipvs-pe-sip-rs.conf"
MODULES = f"/lib/modules/{os.uname().release}"
C_FILE = f"{MODULES}/kernel/net/netfilter/ipvs/ip_vs_pe_sip.ko"
OVERLAY = "/tmp/lifecycle-modules"
# Templates and services hold their engine until their namespace is gone, and namespaces are
# cleaned up asynchronously: how long that may take (only a failure reaches it).
RELEASE = 300
SERVICE = f"{VIP}:5060"
libc = netns.libc
MNT_DETACH = 2
IPVS_CMD_FLUSH = 17


def run(args, ns=None):
    """A real program, in namespace NS (the root one if None): (exit status, stdout, stderr)."""
    kw = {"stdin": subprocess.DEVNULL, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    p = procs.run(ns, args, **kw) if ns else subprocess.run(args, **kw)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def expect_runs(text, args, ns=None):
    rc, out, err = run(args, ns)
    return expect(text, rc == 0, f"{' '.join(args)}: exit {rc}\n{out}{err}")


def root_counters():
    """[(name, value)] in the file's order, or None when there is no file."""
    try:
        with open(STATS) as f:
            return [(k, int(v)) for k, v in (line.split() for line in f if line.strip())]
    except FileNotFoundError:
        return None


def read(path):
    with open(path) as f:
        return f.read().strip()


def flush(ns):
    """`ipvsadm -C` in NS, by netlink. A service's engine is free once the service is gone if
    no template holds it (none without traffic)."""
    with ipvs.opened(ns) as nl:
        nl.request(nl.family, struct.pack("=BBH", IPVS_CMD_FLUSH, 1, 0))


def hide_c_engine():
    """/lib/modules is the host's, read-only: an overlay on it takes the C engine away and
    keeps the index that depmod rebuilds without it."""
    shutil.rmtree(OVERLAY, ignore_errors=True)
    for d in ("upper", "work"):
        os.makedirs(f"{OVERLAY}/{d}")
    opts = f"lowerdir={MODULES},upperdir={OVERLAY}/upper,workdir={OVERLAY}/work"
    netns.check(libc.mount(b"overlay", MODULES.encode(), b"overlay", 0, opts.encode()),
                f"overlay on {MODULES}")
    os.unlink(C_FILE)
    rc, out, err = run(["depmod", "-a"])
    if rc:
        raise RuntimeError(f"depmod -a: exit {rc}: {out}{err}")


def modules_bound():
    """How many mounts stack on the modules' directory (one, the guest's, when none of ours)."""
    where = os.path.realpath(MODULES)
    with open("/proc/self/mountinfo") as f:
        return sum(1 for line in f if line.split()[4] == where)


def restore_modules(base):
    """Undoes hide_c_engine: back to BASE mounts on the modules' directory."""
    while modules_bound() > base:
        if libc.umount2(MODULES.encode(), 0) != 0 and \
                libc.umount2(MODULES.encode(), MNT_DETACH) != 0:
            break
    shutil.rmtree(OVERLAY, ignore_errors=True)


def loads_and_unloads():
    step("load and unload by finit_module and delete_module")
    with kernel.Kmsg() as log:
        expect_eq("ip_vs_pe_sip_rs loads", modules.load_with_deps(OURS), 0)
        lines = log.new_lines()
    expect("the module registered engine sip",
           any('persistence engine "sip" registered' in line for line in lines))
    c = root_counters()
    say(f"  root namespace: {c}")
    expect("its counters exist in the root namespace and start at 0",
           c is not None and "examined" in dict(c) and all(v == 0 for _, v in c))
    expect_eq("one 'NAME VALUE' line per counter, in the documented order",
              [k for k, _ in c or []], COUNTERS)
    mode = os.stat(STATS).st_mode & 0o777 if c is not None else None
    expect_eq("the file is read-only for everyone", f"{mode:o}" if mode else None, "444")
    expect_eq("parameter drop_without_callid is visible and off by default", read(PARAM), "N")
    rc, out, err = run(["modinfo", "-p", OURS])
    expect_eq("modinfo -p lists the parameter, its description and its type",
              (rc, [line for line in out.splitlines() if line.startswith("drop_without_callid:")]),
              (0, ["drop_without_callid:Drop datagrams without a usable Call-ID, as the C engine "
                   "does (default: normal persistence) (bool)"]))
    expect_eq("rmmod ip_vs_pe_sip_rs", modules.unload(OURS), 0)
    expect("the counters are gone after unload", not os.path.exists(STATS))
    expect_eq("ip_vs_pe_sip_rs loads with drop_without_callid=1",
              modules.load_with_deps(OURS, "drop_without_callid=1"), 0)
    expect_eq("the parameter reads Y", read(PARAM), "Y")
    try:
        with open(PARAM, "w") as f:
            f.write("0")
        changed = None
    except OSError as e:
        changed = e
    expect("it can be changed at run time", changed is None, changed)
    expect_eq("and then reads N", read(PARAM), "N")
    expect_eq("rmmod ip_vs_pe_sip_rs", modules.unload(OURS), 0)
    cycles = 0
    for _ in range(5):
        if modules.load_with_deps(OURS) or modules.unload(OURS):
            break
        cycles += 1
    expect_eq("five more load/unload cycles", cycles, 5)
    expect("the module is not left loaded", not modules.loaded(OURS))

    step("only one engine named sip can exist: ours next to the C one fails cleanly")
    expect_eq("the kernel's C engine loads", modules.load_with_deps(C_ENGINE), 0)
    with kernel.Kmsg() as log:
        err = modules.load_with_deps(OURS)
        lines = log.new_lines()
    expect("ours refuses to load beside it (EBUSY)", err == errno.EBUSY,
           f"errno {errno.errorcode.get(err, err)}")
    expect("with a clear log line",
           any(re.search('cannot register persistence engine "sip": an engine of that name'
                         '.*already registered', line) for line in lines), "\n".join(lines))
    expect("and is not left loaded", not modules.loaded(OURS))
    expect_eq("the C engine unloads", modules.unload(C_ENGINE), 0)


def debian_ipvsadm():
    step("Debian's ipvsadm makes a --pe sip service on our engine")
    expect_eq("ip_vs_pe_sip_rs loads", modules.load_with_deps(OURS), 0)
    expect_runs("ipvsadm -A ... --pe sip", ["ipvsadm", "-A", "-u", SERVICE, "-s", "rr", "-p",
                                            "60", "-M", "0.0.0.0", "-o", "--pe", "sip"], DIR_NS)
    ipvs.rules([DIR_NS], "\n".join(f"-a -u {SERVICE} -r {ip}:5060 -m" for ip in RS))
    rc, out, err = run(["ipvsadm", "-Ln"], DIR_NS)
    expect("ipvsadm lists the engine", "persistent 60 mask 0.0.0.0 pe sip" in out, out + err)
    err = modules.unload(OURS)
    expect("rmmod is refused while a service uses the engine (EWOULDBLOCK)",
           err == modules.EWOULDBLOCK, f"errno {errno.errorcode.get(err, err)}")
    expect("the module is still loaded", modules.loaded(OURS))

    callid = "lifecycle-1@client.test"
    cli = udp.Sender(CLI_NS, CLI)
    try:
        cli.send(VIP, 5060, [udp.sip(callid=callid, method="INVITE")])
    finally:
        cli.close()

    def listed():
        return any(c["pe"] == "sip" and c["data"] == callid for c in ipvs.conns(DIR_NS))
    try:
        procs.wait_until(listed, 120, "the template is listed")
    except procs.Timeout:
        pass
    expect("the Call-ID shows as 'sip <callid>' in /proc/net/ip_vs_conn", listed(),
           ipvs.conn_text(DIR_NS))
    st = modules.engine_stats(DIR_NS)
    expect_eq("one datagram examined", st["examined"], 1)
    expect_eq("one Call-ID found", st["found"], 1)
    expect_eq("counted in the director's namespace only, not in the root namespace",
              dict(root_counters() or []).get("examined"), 0)

    expect_runs("the service can be deleted", ["ipvsadm", "-D", "-u", SERVICE], DIR_NS)
    # Templates keep a reference to their engine until they expire or their namespace goes
    # (namespaces are cleaned up asynchronously). The director's goes alone: the kernel cleans
    # up the namespaces deleted together in one batch, so the others would only delay it.
    netns.delete(DIR_NS)
    expect("rmmod succeeds once no service uses the engine",
           modules.unload_when_free(OURS, RELEASE))


def autoload(base):
    step("with the C engine installed, --pe sip loads it: a module's name wins over another "
         "module's alias; an install line in modprobe.d makes ours the one that loads")
    rc, out, err = run(["modprobe", "-R", C_ENGINE])
    expect_eq("modprobe resolves ip_vs_pe_sip to the C module when it is installed",
              out.strip(), "ip_vs_pe_sip")
    with open(CONF, "w") as f:
        f.write("install ip_vs_pe_sip /sbin/modprobe ip_vs_pe_sip_rs\n")
    try:
        expect_runs("with the install line, ipvsadm --pe sip autoloads ours",
                    ["ipvsadm", "-A", "-u", SERVICE, "-s", "rr", "-p", "60", "-o", "--pe", "sip"],
                    DIR_NS)
    finally:
        os.unlink(CONF)
    expect("ip_vs_pe_sip_rs is loaded", modules.loaded(OURS))
    expect("and the C module is not", not modules.loaded(C_ENGINE))
    flush(DIR_NS)
    expect("our engine unloads", modules.unload_when_free(OURS, RELEASE))

    step("on a kernel without the C engine, --pe sip loads ours through its alias")
    hide_c_engine()
    try:
        rc, out, err = run(["modprobe", "-R", C_ENGINE])
        expect_eq("modprobe resolves ip_vs_pe_sip to our module", out.strip(), OURS)
        expect_runs("ipvsadm --pe sip autoloads it",
                    ["ipvsadm", "-A", "-u", SERVICE, "-s", "rr", "-p", "60", "-o", "--pe", "sip"],
                    DIR_NS)
        expect("ip_vs_pe_sip_rs is loaded", modules.loaded(OURS))
    finally:
        restore_modules(base)
    expect("the C engine is back in /lib/modules", os.path.exists(C_FILE))
    flush(DIR_NS)
    expect("and ours unloads once its service is gone", modules.unload_when_free(OURS, RELEASE))


def teardown(base):
    """Whatever happened: no modprobe.d file, /lib/modules as it was, no namespace, no engine."""
    if os.path.exists(CONF):
        os.unlink(CONF)
    restore_modules(base)
    topology.down()
    for m in (OURS, C_ENGINE):
        modules.unload_when_free(m, RELEASE)
    checks.step("teardown")
    expect("no modprobe.d file left", not os.path.exists(CONF))
    expect("/lib/modules is the host's again", modules_bound() == base and
           os.path.exists(C_FILE) and not os.path.exists(OVERLAY))
    expect_eq("no network namespace left", sum(netns.exists(n) for n in topology.ALL_NS), 0)
    expect_eq("no IPVS service left", ipvs.service_count(), 0)
    expect_eq("ip_vs_pe_sip_rs and ip_vs_pe_sip unloaded",
              sum(modules.loaded(m) for m in (OURS, C_ENGINE)), 0)


def main():
    base = modules_bound()
    try:
        topology.down()
        modules.ready((OURS, C_ENGINE), RELEASE)
        loads_and_unloads()
        step("the test topology")
        topology.standard()
        autoload(base)
        debian_ipvsadm()
    except Exception as e:
        checks.crashed(e)
    finally:
        teardown(base)
    say(f"time: {time.monotonic() - checks.T0:.0f} s")
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main())
