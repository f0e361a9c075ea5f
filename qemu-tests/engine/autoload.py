#!/usr/bin/python3 -S
"""Autoload under namespace churn: `ipvsadm-rs -A ... --pe sip` loads the engine again and
again while network namespaces with devices in them are created and destroyed beside it.

IPVS loads an engine with `request_module()` from `ip_vs_add_service()`, holding its service
mutex (the global `__ip_vs_mutex` on Linux 6.12), and waits for modprobe. A namespace being
dismantled holds `pernet_ops_rwsem` for reading while IPVS's exit for it waits for that mutex.
An engine whose init registered a pernet subsystem (which takes the rwsem for writing) waited
for the namespace, which waited for IPVS, which waited for the init: ipvsadm, modprobe, the
netns clean-up and every later `ip netns add` hung for good. The engine now registers its
counters from a work item once its init has returned (kmod/pernet_counters.rs).

Each attempt is watched: past its deadline (sized from what an autoload costs, far beyond what
any host needs), the test prints the stacks of the stuck tasks, kills the command (the wait in
`request_module()` is killable, which lets the guest recover) and fails. The install line
comes first: the C module is built too, and its name wins over our alias.

One process: the churn runs in three threads by system calls (a thread can have a network
namespace of its own), the director's namespace is made the same way, and the only programs
run are ipvsadm-rs (whose `--pe sip` makes the kernel run modprobe)."""
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from ipvslab import checks, ipvs, modules, netns, procs, rtnl  # noqa: E402
from ipvslab.checks import expect, expect_eq, say, step  # noqa: E402

OURS, C_ENGINE = modules.ENGINE, "ip_vs_pe_sip"
CONF = "/etc/modprobe.d/ipvs-pe-sip-rs.conf"
DIRECTOR = "autoload-dir"
CHURN_PREFIX = "autoload-churn"
THREADS = 3
ATTEMPTS = 12
SERVICE = "10.77.0.1:5060"
# One autoload is one modprobe and one module init: 1-2 s in the debug guest, under churn
# too. Only a hang reaches this.
ATTEMPT_DEADLINE = 120
# Freeing the engine once its service is gone, and stopping a churn thread (one namespace).
RELEASE = 300


class Churn:
    """THREADS threads, each creating a namespace with a veth pair in it and deleting it again,
    until stopped. `made` counts the namespaces created."""

    def __init__(self):
        self.stop = threading.Event()
        self.made = 0
        self.errors = []
        self.lock = threading.Lock()
        netns.prepare_dir()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True)
                        for i in range(THREADS)]
        for t in self.threads:
            t.start()

    def _run(self, i):
        name = f"{CHURN_PREFIX}{i}"
        while not self.stop.is_set():
            try:
                netns.add(name)
                try:
                    with netns.In(name):
                        rt = rtnl.Rt()
                        try:
                            rt.veth("a0", name, "a1", name)
                        finally:
                            rt.close()
                finally:
                    netns.delete(name)
                with self.lock:
                    self.made += 1
            except Exception as e:  # reported by the main thread
                with self.lock:
                    self.errors.append(f"{name}: {type(e).__name__}: {e}")
                return

    def count(self):
        with self.lock:
            return self.made

    def close(self):
        """Stops the threads; whether they all ended (a thread blocked in the kernel would
        not, and is reported)."""
        self.stop.set()
        end = time.monotonic() + RELEASE
        for t in self.threads:
            t.join(max(0.0, end - time.monotonic()))
        return not any(t.is_alive() for t in self.threads)


def autoload_once(n, churn=None):
    """One attempt: the engine is not loaded; `ipvsadm-rs -A ... --pe sip` loads it (with
    CHURN, a Churn, beside it). Returns whether the command returned by itself."""
    count = churn.count if churn else (lambda: 0)
    before = count()
    t0 = time.monotonic()
    with netns.In(DIRECTOR):
        p = subprocess.Popen(["ipvsadm-rs", "-A", "-u", SERVICE, "-s", "rr", "-p", "60",
                              "-M", "0.0.0.0", "-o", "--pe", "sip"],
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT)
    try:
        out, _ = p.communicate(timeout=ATTEMPT_DEADLINE)
    except subprocess.TimeoutExpired:
        stacks = procs.stuck_tasks(("modprobe", "ipvsadm-rs"))
        p.kill()
        p.communicate()
        expect(f"attempt {n}: ipvsadm-rs --pe sip returns (it hung for {ATTEMPT_DEADLINE} s, "
               "and was killed; the stuck tasks follow)", False)
        for line in stacks:
            say(f"    | {line}")
        return False
    took = time.monotonic() - t0
    during = count() - before
    say(f"  attempt {n}: returned in {took:.1f} s, {during} namespaces created meanwhile")
    ok = expect(f"attempt {n}: ipvsadm-rs --pe sip succeeded", p.returncode == 0,
                out.decode(errors="replace"))
    expect(f"attempt {n}: ours is the engine loaded, not the C module",
           modules.loaded(OURS) and not modules.loaded(C_ENGINE))
    return ok


def main():
    modules.ready((OURS, C_ENGINE), RELEASE)
    netns.prepare_dir()
    netns.add(DIRECTOR)
    with open(CONF, "w") as f:
        f.write("install ip_vs_pe_sip /sbin/modprobe ip_vs_pe_sip_rs\n")
    churn = None
    try:
        step("without churn: --pe sip autoloads ours through the install line, and its "
             "counters exist in the director's namespace")
        if autoload_once(0):
            expect("the counters count in the director's namespace", modules.counting())
            expect_eq("and start at 0 there", modules.engine_stats(DIRECTOR)["examined"], 0)
        release()

        step(f"{ATTEMPTS} autoloads while {THREADS} threads create and delete namespaces "
             "with a veth pair in each")
        churn = Churn()
        procs.wait_until(lambda: churn.count() >= THREADS or churn.errors, RELEASE,
                         "the churn creates namespaces")
        ran = 0
        for n in range(1, ATTEMPTS + 1):
            ran += 1
            if not autoload_once(n, churn):
                break
            expect(f"attempt {n}: the counters count", modules.counting())
            release()
        made = churn.count()
        expect_eq("every attempt returned by itself", ran, ATTEMPTS)
        expect(f"namespaces were created and destroyed throughout ({made})",
               made >= ATTEMPTS, "the churn did not run beside the attempts")
        ended = churn.close()
        expect("the churn threads ended (namespace creation is not blocked)", ended)
        expect_eq("the churn made no error", churn.errors, [])
        churn = None
    except Exception as e:
        checks.crashed(e)
    finally:
        if churn is not None:
            churn.close()
        teardown()
    return checks.finish()


def release():
    """Deletes the director's service and unloads the engine once it is free."""
    ipvs.flush(DIRECTOR)
    expect("the engine unloads once the service is gone", modules.unload_when_free(OURS, RELEASE))


def teardown():
    step("teardown")
    if os.path.exists(CONF):
        os.unlink(CONF)
    for name in [DIRECTOR] + [f"{CHURN_PREFIX}{i}" for i in range(THREADS)]:
        if netns.exists(name):
            netns.delete(name)
    for m in (OURS, C_ENGINE):
        modules.unload_when_free(m, RELEASE)
    expect("no modprobe.d file left", not os.path.exists(CONF))
    expect_eq("no network namespace left",
              sum(netns.exists(n) for n in [DIRECTOR] +
                  [f"{CHURN_PREFIX}{i}" for i in range(THREADS)]), 0)
    expect_eq("no IPVS service left", ipvs.service_count(), 0)
    expect_eq("ip_vs_pe_sip_rs and ip_vs_pe_sip unloaded",
              sum(modules.loaded(m) for m in (OURS, C_ENGINE)), 0)


if __name__ == "__main__":
    sys.exit(main())
