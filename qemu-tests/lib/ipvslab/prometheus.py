"""node_exporter in a namespace, and what it serves: Debian's prometheus-node-exporter run as a
director would run it, scraped over loopback inside that namespace, its text exposition read
into samples."""
import re
import socket

from . import procs, udp

NODE_EXPORTER = "/usr/bin/prometheus-node-exporter"
# A sample line: NAME, optional {LABELS}, VALUE (the format has no timestamps here).
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def start(ns, textfile_dir, port, log, collectors=("textfile", "ipvs")):
    """Starts node_exporter in NS on 127.0.0.1:PORT with only COLLECTORS, the textfile one
    reading TEXTFILE_DIR; returns once it accepts connections (the Lab ends it)."""
    args = [NODE_EXPORTER, f"--web.listen-address=127.0.0.1:{port}",
            "--collector.disable-defaults",
            f"--collector.textfile.directory={textfile_dir}"]
    args += [f"--collector.{c}" for c in collectors]
    p = procs.spawn(ns, args, log=log)

    def listening():
        if p.poll() is not None:
            raise RuntimeError(f"node_exporter exited with status {p.returncode} (see {log})")
        s = udp.sock(ns, kind=socket.SOCK_STREAM)
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False
        finally:
            s.close()
    # Its start is a few hundred milliseconds on a quiet host: only a failure reaches this.
    procs.wait_until(listening, 120, f"node_exporter listens on 127.0.0.1:{port} in {ns}")
    return p


def scrape(ns, port, path="/metrics"):
    """GET PATH from 127.0.0.1:PORT in NS (HTTP/1.0, so the server closes when done): the
    status code and the body's text."""
    s = udp.sock(ns, kind=socket.SOCK_STREAM)
    try:
        s.settimeout(120)
        s.connect(("127.0.0.1", port))
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode())
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
    finally:
        s.close()
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, body.decode("utf-8", "replace")


def unescape(value):
    return re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def samples(text):
    """The samples of an exposition: [(name, {label: value}, value)], in order; comments
    are left out (see types())."""
    out = []
    for line in text.split("\n"):
        m = _SAMPLE.match(line)
        if m:
            labels = {k: unescape(v) for k, v in _LABEL.findall(m.group(2) or "")}
            out.append((m.group(1), labels, float(m.group(3))))
    return out


def types(text):
    """{family: type} from the exposition's # TYPE lines."""
    out = {}
    for line in text.split("\n"):
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            out[name] = kind
    return out
