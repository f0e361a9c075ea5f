"""Network namespaces as `ip netns` keeps them (bind mounts under /run/netns), entered by
setns(2) on the calling thread."""
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000
MS_BIND = 4096
MS_REC = 16384
MS_SHARED = 1 << 20
MNT_DETACH = 2
EINVAL = 22

ROOT_NS = os.open("/proc/self/ns/net", os.O_RDONLY)


def check(ret, what):
    if ret != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"{what}: {os.strerror(e)}")


def path(name):
    return f"/run/netns/{name}"


def exists(name):
    return os.path.exists(path(name))


def prepare_dir():
    """Makes /run/netns a shared mount of its own, as `ip netns add` does on its first run.
    Both tools must agree on this: were the directory made a mount only by a later
    `ip netns add`, that mount would copy (MS_REC) the namespaces we had already mounted, and
    their files could no longer be removed (EBUSY: still a mount point underneath)."""
    os.makedirs("/run/netns", exist_ok=True)
    if libc.mount(b"none", b"/run/netns", b"none", MS_SHARED | MS_REC, None) == 0:
        return
    if ctypes.get_errno() != EINVAL:  # EINVAL: not a mount point yet
        check(-1, "make /run/netns shared")
    check(libc.mount(b"/run/netns", b"/run/netns", b"none", MS_BIND | MS_REC, None),
          "bind /run/netns")
    check(libc.mount(b"none", b"/run/netns", b"none", MS_SHARED | MS_REC, None),
          "make /run/netns shared")


def add(name):
    """What `ip netns add` does: a new namespace kept alive by a bind mount."""
    prepare_dir()
    os.close(os.open(path(name), os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0))
    check(libc.unshare(CLONE_NEWNET), "unshare")
    try:
        check(libc.mount(b"/proc/thread-self/ns/net", path(name).encode(), b"none", MS_BIND,
                         None), f"mount {name}")
    finally:
        enter_root()


def delete(name):
    """What `ip netns delete` does. Every mount on the file goes (a namespace bound twice
    would otherwise stay a mount point and its file could not be removed)."""
    for _ in range(8):
        if libc.umount2(path(name).encode(), MNT_DETACH) != 0:
            break
    os.unlink(path(name))


def enter(name):
    """Moves the calling thread into namespace NAME."""
    fd = os.open(path(name), os.O_RDONLY)
    try:
        check(libc.setns(fd, CLONE_NEWNET), f"setns {name}")
    finally:
        os.close(fd)


def enter_root():
    check(libc.setns(ROOT_NS, CLONE_NEWNET), "setns root")


def inode(name):
    return os.stat(path(name)).st_ino


class In:
    """`with In("dir"):` runs the block, and starts processes, inside that namespace (on the
    calling thread; files of the namespace are under /proc/thread-self/net)."""

    def __init__(self, name):
        self.name = name

    def __enter__(self):
        enter(self.name)

    def __exit__(self, *_):
        enter_root()


def read(ns, name, mode="r"):
    """The file /proc/net/NAME as namespace NS sees it."""
    with In(ns):
        with open(f"/proc/thread-self/net/{name}", mode) as f:
            return f.read()


class ProcFile:
    """/proc/net/NAME of namespace NS, opened once: each read() gives its content now, without
    entering the namespace again (a proc file keeps the namespace it was opened in). For
    polling in a loop, where two setns(2) and an open per read would cost more than the
    read itself on a debug kernel."""

    def __init__(self, ns, name):
        with In(ns):
            self.fd = os.open(f"/proc/thread-self/net/{name}", os.O_RDONLY)

    def read(self):
        chunks, off = [], 0
        while True:
            b = os.pread(self.fd, 65536, off)
            if not b:
                return b"".join(chunks).decode()
            chunks.append(b)
            off += len(b)

    def close(self):
        os.close(self.fd)


def sysctl(ns, values):
    """sysctl(ns, {"net.ipv4.ip_forward": 1}), for names without dots in their components."""
    with In(ns):
        for k, v in values.items():
            with open("/proc/sys/" + k.replace(".", "/"), "w") as f:
                f.write(str(v))


def snmp(ns):
    """NS's IPv4, ICMP and UDP counters (/proc/net/snmp) as {"UdpInDatagrams": n, ...}."""
    lines = read(ns, "snmp").split("\n")
    out = {}
    for i in range(0, len(lines) - 1, 2):
        head, vals = lines[i].split(), lines[i + 1].split()
        if head and vals and head[0] == vals[0]:
            proto = head[0].rstrip(":")
            out.update({proto + k: int(v) for k, v in zip(head[1:], vals[1:])})
    return out


def snmp6(ns):
    return parse_snmp6(read(ns, "snmp6"))


def parse_snmp6(text):
    return {k: int(v) for k, v in (line.split() for line in text.split("\n") if line)}
