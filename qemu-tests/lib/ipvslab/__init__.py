"""The boot tests' lab: network namespaces, the test topology, IPVS, the SIP engine and sipp,
driven from one Python process inside the VM (root, Python standard library only).

Under the emulated debug kernel every exec costs up to a second, so the harness does with
system calls and netlink what would otherwise take dozens of processes. A scenario in
qemu-tests/e2e/ is one executable file:

    from ipvslab import Lab, checks
    with Lab() as lab:
        ...
    sys.exit(checks.finish())
"""


def __getattr__(name):
    # Imported on first use, so that `python3 -m ipvslab.modules` (the shell scripts' way to
    # unload a module) does not load the modules module twice.
    if name == "Lab":
        from .lab import Lab
        return Lab
    raise AttributeError(name)
