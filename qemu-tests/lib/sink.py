"""A real server stand-in: logs what arrives on a port, one line per datagram or connection.

usage: sink.py udp|tcp BIND_IP PORT LOGFILE

For UDP each line is the datagram's length; for TCP, "conn" per accepted connection.
Used inside the VM's namespaces only; runs until killed.
"""
import socket
import sys

proto, ip, port, logfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
family = socket.AF_INET6 if ":" in ip else socket.AF_INET
log = open(logfile, "a", buffering=1)
if proto == "udp":
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((ip, port))
    while True:
        data, _ = s.recvfrom(65535)
        log.write(f"{len(data)}\n")
else:
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, port))
    s.listen(16)
    while True:
        c, _ = s.accept()
        log.write("conn\n")
        c.close()
