"""The Lab: a scenario's world, set up on entry and ALWAYS torn down on exit, with what was
left behind reported as checks (the scenarios run one after another in one boot)."""
import os
import shutil
import subprocess
import time
import traceback

from . import checks, ipvs, modules, netns, procs, topology
from .sipp import BUFF, Sipp

WORK = "/tmp/ipvslab"


def open_work():
    """A fresh WORK with a Sipp that logs there, and the sockets' buffer limits raised to
    sipp's BUFF; returns the Sipp and the limits' old values, for close_work()."""
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    saved = {}
    for k in ("rmem_max", "wmem_max"):
        path = f"/proc/sys/net/core/{k}"
        with open(path) as f:
            saved[path] = f.read().strip()
        with open(path, "w") as f:
            f.write(str(BUFF))
    return Sipp(f"{WORK}/sip"), saved


def report_exception(kind, value, tb):
    """A scenario's exception as a failed check, with the end of its traceback."""
    checks.result(False, f"the scenario ran to its end ({kind.__name__}: {value})")
    for line in "".join(traceback.format_exception(kind, value, tb)).split("\n")[-12:]:
        if line:
            checks.say(f"    | {line}")


def close_work(saved):
    """Puts back the limits open_work() raised, and says how long the scenario took."""
    for path, old in saved.items():
        with open(path, "w") as f:
            f.write(old)
    checks.say(f"time: {time.monotonic() - checks.T0:.0f} s")


class Lab:
    """with Lab(topo="standard"|"tun"|"dr"|"failover"|"failover-tun", engine=True,
    sysctls={ns: {k: v}}, rules=TEXT, uas=("v4",), uas_scenario=None) as lab: ...

    ENGINE: True loads our engine (and waits for its counters), a module name (such as
    modules.C_ENGINE, the kernel's C engine) loads that one, False none.
    TEXT goes to `ipvsadm-rs -R` in the director(s) (a line "@NS rule" to NS only)."""

    def __init__(self, topo="standard", engine=True, sysctls=None, rules=None, uas=(),
                 uas_scenario=None):
        if engine is True:
            engine = modules.ENGINE
        self.topo, self.engine, self.sysctls = topo, engine or None, sysctls or {}
        self.rules, self.uas, self.uas_scenario = rules, uas, uas_scenario
        self.failover = topo.startswith("failover")
        self.directors = [topology.DIR_NS, topology.DIR2_NS] if self.failover \
            else [topology.DIR_NS]
        self.saved = {}
        self.sipp = None

    # --- set-up and teardown ---------------------------------------------------------

    def __enter__(self):
        self._clear()
        self.sipp, self.saved = open_work()
        try:
            if self.failover:
                topology.failover(tun=self.topo == "failover-tun")
            else:
                topology.standard(tun=self.topo == "tun", dr=self.topo == "dr")
            # Loaded here rather than by `--pe sip`, whose module request would load the
            # kernel's C engine (a module of that very name wins over our alias).
            subprocess.run(["modprobe", "-a", "ip_vs", "ip_vs_rr"] +
                           ([self.engine] if self.engine else []), check=True)
            if self.engine == modules.ENGINE and not modules.counting():
                raise RuntimeError(f"{modules.ENGINE} loaded but its counters do not count")
            if self.failover:
                for ns in self.directors:
                    # Version 1 of the sync protocol carries the engine's name and data.
                    netns.sysctl(ns, {"net.ipv4.vs.sync_version": 1})
            for ns, values in self.sysctls.items():
                netns.sysctl(ns, values)
            if self.rules:
                ipvs.rules(self.directors, self.rules)
            if self.uas:
                self.sipp.servers(self.uas, self.uas_scenario)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, kind, value, tb):
        if kind is not None:
            report_exception(kind, value, tb)
        checks.step("teardown")
        left = self._clear()
        checks.expect_eq("no network namespace left", left["ns"], 0)
        checks.expect_eq("no process left in them", left["procs"], 0)
        checks.expect_eq("no IPVS service left", left["services"], 0)
        checks.expect_eq("ip_vs_pe_sip_rs and ip_vs_pe_sip unloaded", left["modules"], 0)
        close_work(self.saved)
        # An exception is reported as a failed check; the caller prints the totals.
        return kind is not None and issubclass(kind, Exception)

    @staticmethod
    def _clear():
        """Ends every process in the lab's namespaces, deletes them, unloads the SIP
        engines (waiting for the namespaces' asynchronous clean-up to drop their templates),
        and returns what is left."""
        pids = list(procs.in_namespaces(topology.ALL_NS))
        procs.kill_all(pids)
        topology.down()

        for m in modules.ENGINES:
            modules.unload_when_free(m, 300)
        return {"ns": sum(netns.exists(n) for n in topology.ALL_NS),
                "procs": sum(procs.alive(p) for p in pids),
                "services": ipvs.service_count(),
                "modules": sum(modules.loaded(m) for m in modules.ENGINES)}

    # --- helpers the scenarios share -------------------------------------------------

    def uac(self, tag, calls, rate, v6=False, **kw):
        """sipp UAC from the client's port 5060 to the VIP (see Sipp.uac)."""
        t = topology
        return self.sipp.uac(tag, t.CLI_NS, t.CLI6 if v6 else t.CLI,
                             f"[{t.VIP6}]:5060" if v6 else f"{t.VIP}:5060", calls, rate, **kw)

    def calls(self, tag, calls, rate, v6=False, **kw):
        """uac() in the foreground: waits and returns the report."""
        return self.uac(tag, calls, rate, v6, **kw).wait(self.diag_namespaces())

    def diag_namespaces(self):
        return [topology.CLI_NS] + self.directors + topology.RS_NS

    def stats(self, ns=topology.DIR_NS):
        return modules.engine_stats(ns)

    def counter(self, name, n, deadline, ns=topology.DIR_NS):
        """The engine's counter NAME in NS once it reaches N; past DEADLINE (sized from the
        work by the caller: only a failure reaches it), as it is then, the wait said."""
        try:
            procs.wait_until(lambda: self.stats(ns).get(name, 0) >= n, deadline,
                             f"counter {name} reaches {n}")
        except procs.Timeout as e:
            checks.say(f"  {e}")
        return self.stats(ns).get(name, 0)

    def refuse_unload(self):
        """Tries to unload the engine now: errno (EWOULDBLOCK while a service uses it)."""
        return modules.unload(modules.ENGINE)
