"""Sends tagged UDP datagrams from a fixed source address and port, for the engine tests.

usage: tagsend.py SRC_IP SRC_PORT DST_IP DST_PORT KIND PREFIX FIRST LAST

KIND callid: SIP requests with "Call-ID: PREFIX<i>"; KIND tag: SIP requests without any
Call-ID header but with "X-Tag: PREFIX<i>"; KIND line: the payload "PREFIX<i>\\n" only.
i runs from FIRST to LAST inclusive. Used inside the VM's namespaces only.
"""
import socket
import sys
import time

src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
kind, prefix, first, last = sys.argv[5], sys.argv[6], int(sys.argv[7]), int(sys.argv[8])
family = socket.AF_INET6 if ":" in dst else socket.AF_INET
s = socket.socket(family, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, sport))
for i in range(first, last + 1):
    t = f"{prefix}{i}".encode()
    if kind == "line":
        p = t + b"\n"
    else:
        header = b"Call-ID: " if kind == "callid" else b"X-Tag: "
        p = (b"OPTIONS sip:svc@example.test SIP/2.0\r\n"
             b"Via: SIP/2.0/UDP client.test:5060\r\n" + header + t + b"\r\n"
             b"CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n")
    s.sendto(p, (dst, dport))
    # Pace the datagrams so that the emulated guest never drops one.
    time.sleep(0.002)
print(f"sent {last - first + 1} datagrams")
