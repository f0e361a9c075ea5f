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
from . import checks  # noqa: F401
from .lab import Lab  # noqa: F401
