"""Sends UDP datagrams (files, or SIP messages built from arguments) from a fixed source port.

usage: sipsend.py SRC_IP SRC_PORT DST_IP DST_PORT FILE...
       sipsend.py SRC_IP SRC_PORT DST_IP DST_PORT --callid ID [--count N]

Used inside the VM's namespaces only.
"""
import socket
import sys
import time


def invite(callid: bytes, n: int) -> bytes:
    return (b"INVITE sip:svc@example.test SIP/2.0\r\n"
            b"Via: SIP/2.0/UDP client.test:5060;branch=z9hG4bK" + str(n).encode() + b"\r\n"
            b"From: <sip:a@example.test>;tag=1\r\n"
            b"To: <sip:svc@example.test>\r\n"
            b"Call-ID: " + callid + b"\r\n"
            b"CSeq: 1 INVITE\r\n"
            b"Content-Length: 0\r\n\r\n")


def main() -> None:
    src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((src, sport))
    args = sys.argv[5:]
    if args and args[0] == "--callid":
        callid = args[1].encode("latin-1")
        count = int(args[3]) if len(args) > 3 and args[2] == "--count" else 1
        payloads = [invite(callid, i) for i in range(count)]
    else:
        payloads = [open(p, "rb").read() for p in args]
    for p in payloads:
        s.sendto(p, (dst, dport))
        # Pace the datagrams so that the emulated guest never drops one.
        time.sleep(0.002)
    print(f"sent {len(payloads)} datagrams")


if __name__ == "__main__":
    main()
