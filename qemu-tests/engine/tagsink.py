"""A real server (or client) stand-in that logs which datagram arrived, for the engine tests.

usage: tagsink.py BIND_IP PORT LOGFILE

Each datagram is logged as one line "TAG SOURCE_IP", TAG being the value of its Call-ID
header, else of its X-Tag header, else its first line ("-" if empty). LOGFILE.ready is
created once the socket is bound. Used inside the VM's namespaces only; runs until killed.
"""
import socket
import sys

ip, port, logfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
family = socket.AF_INET6 if ":" in ip else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
s.bind((ip, port))
log = open(logfile, "a", buffering=1)
open(logfile + ".ready", "w").close()


def tag(data: bytes) -> str:
    lines = data.split(b"\n")
    for name in (b"call-id:", b"x-tag:"):
        for line in lines[1:]:
            if line.lower().startswith(name):
                return line[len(name):].strip().decode("latin-1") or "-"
    return lines[0].strip().decode("latin-1") or "-"


while True:
    data, src = s.recvfrom(65535)
    log.write(f"{tag(data)} {src[0]}\n")
