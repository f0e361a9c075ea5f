"""Renders `ipvsadm-rs -Ln --json` as the `-Ln` text listing and compares it with the
real one: an independent reader of the documented JSON shape (docs/ipvsadm-rs.md)."""
import json
import sys


def service_line(s):
    if "fwmark" in s:
        name = f"FWM  {s['fwmark']}" + (" IPv6" if s["family"] == "inet6" else "")
    else:
        addr = s["address"] if s["family"] == "inet" else f"[{s['address']}]"
        name = f"{s['protocol'].upper():<4} {addr}:{s['port']}"
    line = f"{name} {s['scheduler']}"
    if s["sched_flags"]:
        line += f" ({','.join(s['sched_flags'])})"
    if s["persistent"]:
        line += f" persistent {s['timeout']}"
        if s["family"] == "inet" and s["netmask"] != "255.255.255.255":
            line += f" mask {s['netmask']}"
        if s["family"] == "inet6" and s["netmask"] != 128:
            line += f" mask {s['netmask']}"
        if s["pe"]:
            line += f" pe {s['pe']}"
    if s["one_packet"]:
        line += " ops"
    return line


FWD = {"masq": "Masq", "local": "Local", "tunnel": "Tunnel", "route": "Route"}


def main():
    data = json.load(open(sys.argv[1]))
    text = open(sys.argv[2]).read()
    out = [f"IP Virtual Server version {data['version']} (size={data['conn_tab_size']})",
           "Prot LocalAddress:Port Scheduler Flags",
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
    for s in data["services"]:
        out.append(service_line(s))
        for d in s["destinations"]:
            addr = d["address"] if d["family"] == "inet" else f"[{d['address']}]"
            out.append(f"  -> {addr + ':' + str(d['port']):<28} {FWD[d['forward']]:<7} "
                       f"{d['weight']:<6} {d['active_conns']:<10} {d['inact_conns']:<10}")
    rendered = "\n".join(out) + "\n"
    if rendered != text:
        sys.stderr.write("JSON rendering:\n" + rendered + "text listing:\n" + text)
        sys.exit(1)


main()
