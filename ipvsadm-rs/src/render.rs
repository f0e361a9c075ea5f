//! ipvsadm 1.31's text output, byte for byte, rendered from typed entries.
//!
//! Output is built as bytes: host and service names come from NSS and need
//! not be UTF-8, and ipvsadm truncates names by bytes.

use std::net::IpAddr;

use crate::cli::Format;
use crate::sys;
use crate::types::*;

/// Name lookups used by non-numeric listings; swapped out in tests.
pub trait Names {
    /// The host name of an address, if it has one.
    fn host(&self, addr: &IpAddr) -> Option<Vec<u8>>;
    /// The service name of a port for a protocol, if it has one.
    fn service(&self, port: u16, proto: u16) -> Option<Vec<u8>>;
}

/// Name lookups through the C library, as ipvsadm does them.
pub struct SystemNames;

impl Names for SystemNames {
    fn host(&self, addr: &IpAddr) -> Option<Vec<u8>> {
        sys::addr_to_host(addr)
    }
    fn service(&self, port: u16, proto: u16) -> Option<Vec<u8>> {
        sys::port_to_service(port, proto)
    }
}

/// No names at all, so tests print numbers whatever the machine's NSS says.
#[cfg(test)]
pub(crate) struct NoNames;

#[cfg(test)]
impl Names for NoNames {
    fn host(&self, _: &IpAddr) -> Option<Vec<u8>> {
        None
    }
    fn service(&self, _: u16, _: u16) -> Option<Vec<u8>> {
        None
    }
}

/// The same names for every address and port, as a resolver could give
/// them: any length, any bytes.
#[cfg(test)]
pub(crate) struct FixedNames {
    pub host: Vec<u8>,
    pub service: Vec<u8>,
}

#[cfg(test)]
impl Names for FixedNames {
    fn host(&self, _: &IpAddr) -> Option<Vec<u8>> {
        Some(self.host.clone())
    }
    fn service(&self, _: u16, _: u16) -> Option<Vec<u8>> {
        Some(self.service.clone())
    }
}

/// Appends `s` left-aligned in a field of `width` bytes (C's `%-Ns`).
pub(crate) fn pad_right(out: &mut Vec<u8>, s: &[u8], width: usize) {
    out.extend_from_slice(s);
    let len = out.len() + width.saturating_sub(s.len());
    out.resize(len, b' ');
}

/// ipvsadm's `addrport_to_anyname`: `host:port`, bracketing IPv6, with names
/// unless numeric, cut to the 59 bytes of its buffer (see [`addrport_full`]).
pub fn addrport(
    af: u16,
    addr: &IpAddr,
    port: u16,
    proto: u16,
    numeric: bool,
    names: &dyn Names,
) -> Vec<u8> {
    let mut out = addrport_full(af, addr, port, proto, numeric, names);
    out.truncate(59);
    out
}

/// `host:port` at full length. ipvsadm cuts long names in `-S` output too,
/// which makes rules that cannot be restored; saved rules use this instead.
pub fn addrport_full(
    af: u16,
    addr: &IpAddr,
    port: u16,
    proto: u16,
    numeric: bool,
    names: &dyn Names,
) -> Vec<u8> {
    let mut out = Vec::new();
    let v6 = af != AF_INET;
    if v6 {
        out.push(b'[');
    }
    let host = if numeric { None } else { names.host(addr) };
    match host {
        Some(h) => out.extend_from_slice(&h),
        None => out.extend_from_slice(sys::ntop(addr).as_bytes()),
    }
    if v6 {
        out.push(b']');
    }
    out.push(b':');
    let svc = if numeric {
        None
    } else {
        names.service(port, proto)
    };
    match svc {
        Some(s) => out.extend_from_slice(&s),
        None => out.extend_from_slice(port.to_string().as_bytes()),
    }
    out
}

/// ipvsadm's `print_largenum`: a 9-wide column, scaled with K/M/G/T unless
/// exact.
pub fn largenum(i: u64, exact: bool) -> String {
    if exact {
        let s = i.to_string();
        let w = if s.len() <= 8 { 9 } else { s.len() + 1 };
        return format!("{s:>w$}");
    }
    if i < 100_000_000 {
        format!("{i:>9}")
    } else if i < 1_000_000_000 {
        format!("{:>8}K", i / 1000)
    } else if i < 100_000_000_000 {
        format!("{:>8}M", i / 1_000_000)
    } else if i < 100_000_000_000_000 {
        format!("{:>8}G", i / 1_000_000_000)
    } else {
        format!("{:>8}T", i / 1_000_000_000_000)
    }
}

/// The listing's first line (not printed by `-S`).
pub fn header(info: &Info) -> String {
    format!(
        "IP Virtual Server version {} (size={})\n",
        info.version_string(),
        info.conn_tab_size as i32
    )
}

/// The column titles for a listing format.
pub fn title(f: &Format) -> String {
    const PROT: &str = "Prot LocalAddress:Port";
    const REMOTE: &str = "  -> RemoteAddress:Port\n";
    let five = |c: [&str; 5]| {
        format!(
            "{PROT:<33} {:>8} {:>8} {:>8} {:>8} {:>8}\n{REMOTE}",
            c[0], c[1], c[2], c[3], c[4]
        )
    };
    if f.stats {
        five(["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"])
    } else if f.rate {
        five(["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"])
    } else if f.thresholds {
        format!(
            "{PROT:<33} {:<10} {:<10} {:<10} {:<10}\n{REMOTE}",
            "Uthreshold", "Lthreshold", "ActiveConn", "InActConn"
        )
    } else if f.persistent_conn {
        format!(
            "{PROT:<33} {:<9} {:<11} {:<10} {:<10}\n{REMOTE}",
            "Weight", "PersistConn", "ActiveConn", "InActConn"
        )
    } else if f.tun_info {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n".to_string()
    } else if !f.rule {
        "Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n".to_string()
    } else {
        String::new()
    }
}

fn protocol_name(p: u16) -> &'static str {
    match p {
        IPPROTO_TCP => "TCP",
        IPPROTO_UDP => "UDP",
        IPPROTO_SCTP => "SCTP",
        _ => "?",
    }
}

fn protocol_option(p: u16) -> &'static str {
    match p {
        IPPROTO_TCP => "-t",
        IPPROTO_UDP => "-u",
        IPPROTO_SCTP => "--sctp-service",
        _ => "--xxx-service",
    }
}

fn fwd_name(fwd_flags: u32) -> &'static str {
    match fwd_flags & fwd::MASK {
        fwd::MASQ => "Masq",
        fwd::LOCALNODE => "Local",
        fwd::TUNNEL => "Tunnel",
        fwd::DROUTE => "Route",
        _ => "(null)",
    }
}

fn fwd_switch(fwd_flags: u32) -> &'static str {
    match fwd_flags & fwd::MASK {
        fwd::MASQ => "-m",
        fwd::TUNNEL => "-i",
        fwd::LOCALNODE | fwd::DROUTE => "-g",
        _ => "(null)",
    }
}

/// Index into ipvsadm's per-checksum-mode tables. ipvsadm indexes them with
/// the raw flags and reads past the table for combined flags; those are
/// shown by their strongest mode here.
pub(crate) fn tun_flag_index(flags: u16) -> usize {
    if flags & tun::FLAG_REMCSUM != 0 {
        2
    } else if flags & tun::FLAG_CSUM != 0 {
        1
    } else {
        0
    }
}

fn tun_info(e: &DestEntry) -> Option<String> {
    if e.fwd & fwd::MASK != fwd::TUNNEL {
        return None;
    }
    let flags = ["-c", "+c", "r+c"][tun_flag_index(e.tun_flags)];
    let s = match e.tun_type {
        tun::IPIP => "ipip".to_string(),
        tun::GUE => format!("gue:{}:{flags}", e.tun_port),
        tun::GRE => format!("gre:{flags}"),
        _ => return None,
    };
    Some(s.chars().take(15).collect())
}

/// The `-b` names of the three scheduler flags, `None` where ipvsadm has
/// none: `sh` and `mh` name the two they use and leave the third unnamed.
pub(crate) fn sched_flag_names(sched: &str) -> [Option<&'static str>; 3] {
    match sched {
        "sh" => [Some("sh-fallback"), Some("sh-port"), None],
        "mh" => [Some("mh-fallback"), Some("mh-port"), None],
        _ => [Some("flag-1"), Some("flag-2"), Some("flag-3")],
    }
}

/// The service's scheduler flags as ipvsadm prints them.
fn sched_flags(se: &ServiceEntry) -> String {
    [svc_flags::SCHED1, svc_flags::SCHED2, svc_flags::SCHED3]
        .into_iter()
        .zip(sched_flag_names(&se.sched_name))
        .filter_map(|(bit, name)| name.filter(|_| se.flags & bit != 0))
        .collect::<Vec<_>>()
        .join(",")
}

/// An IPv4 persistence mask as stored by the kernel, in dotted form.
pub(crate) fn ipv4_mask(netmask: u32) -> String {
    std::net::Ipv4Addr::from(netmask.to_ne_bytes()).to_string()
}

/// `host:port` of a service or server: whole in rules, cut in listings.
fn endpoint(
    f: &Format,
    af: u16,
    addr: &IpAddr,
    port: u16,
    proto: u16,
    names: &dyn Names,
) -> Vec<u8> {
    if f.rule {
        addrport_full(af, addr, port, proto, f.numeric, names)
    } else {
        addrport(af, addr, port, proto, f.numeric, names)
    }
}

/// Appends the persistence timeout and a granularity other than a single
/// address, with the words of the format (`-p`/`-M` or `persistent`/`mask`).
fn persistence(out: &mut Vec<u8>, se: &ServiceEntry, timeout_word: &str, mask_word: &str) {
    out.extend_from_slice(format!(" {timeout_word} {}", se.timeout).as_bytes());
    if se.key.af == AF_INET && se.netmask != u32::MAX {
        out.extend_from_slice(format!(" {mask_word} {}", ipv4_mask(se.netmask)).as_bytes());
    }
    if se.key.af == AF_INET6 && se.netmask != 128 {
        out.extend_from_slice(format!(" {mask_word} {}", se.netmask as i32).as_bytes());
    }
}

/// The cumulative counters, in `--stats` column order.
fn totals(s: &Stats) -> [u64; 5] {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

/// The rate estimates, in `--rate` column order.
fn rates(s: &Stats) -> [u64; 5] {
    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
}

/// The service's name as listings and rules show it.
fn service_name(se: &ServiceEntry, f: &Format, names: &dyn Names) -> Vec<u8> {
    let k = &se.key;
    if k.fwmark != 0 {
        let v6 = k.af == AF_INET6;
        // ipvsadm prints the mark with %d, so marks above 2^31 come out
        // negative and cannot be restored; print them unsigned.
        return match (f.rule, v6) {
            (true, true) => format!("-f {} -6", k.fwmark),
            (true, false) => format!("-f {}", k.fwmark),
            (false, true) => format!("FWM  {} IPv6", k.fwmark),
            (false, false) => format!("FWM  {}", k.fwmark),
        }
        .into_bytes();
    }
    let vname = endpoint(f, k.af, &k.addr, k.port, k.protocol, names);
    let mut out = Vec::new();
    if f.rule {
        out.extend_from_slice(protocol_option(k.protocol).as_bytes());
        out.push(b' ');
        out.extend_from_slice(&vname);
    } else {
        pad_right(&mut out, protocol_name(k.protocol).as_bytes(), 4);
        out.push(b' ');
        out.extend_from_slice(&vname);
        if k.af != AF_INET6 {
            out.truncate(33);
        }
    }
    out
}

/// One service and its destinations, in the listing or rule format.
pub fn service_entry(
    out: &mut Vec<u8>,
    se: &ServiceEntry,
    dests: &[DestEntry],
    f: &Format,
    names: &dyn Names,
) {
    let svc_name = service_name(se, f, names);
    let persistent = se.flags & svc_flags::PERSISTENT != 0;
    if f.rule {
        out.extend_from_slice(b"-A ");
        out.extend_from_slice(&svc_name);
        out.extend_from_slice(format!(" -s {}", se.sched_name).as_bytes());
        if persistent {
            persistence(out, se, "-p", "-M");
        }
        if let Some(pe) = se.pe_name.as_deref().filter(|p| !p.is_empty()) {
            out.extend_from_slice(format!(" --pe {pe}").as_bytes());
        }
        if se.flags & svc_flags::ONEPACKET != 0 {
            out.extend_from_slice(b" -o");
        }
        if se.flags & svc_flags::SCHED_MASK != 0 {
            out.extend_from_slice(format!(" -b {}", sched_flags(se)).as_bytes());
        }
    } else if f.stats || f.rate {
        pad_right(out, &svc_name, 33);
        let cols = if f.stats {
            totals(&se.stats)
        } else {
            rates(&se.stats)
        };
        for c in cols {
            out.extend_from_slice(largenum(c, f.exact).as_bytes());
        }
    } else {
        out.extend_from_slice(&svc_name);
        out.extend_from_slice(format!(" {}", se.sched_name).as_bytes());
        if se.flags & svc_flags::SCHED_MASK != 0 {
            out.extend_from_slice(format!(" ({})", sched_flags(se)).as_bytes());
        }
        if persistent {
            persistence(out, se, "persistent", "mask");
            if let Some(pe) = se.pe_name.as_deref().filter(|p| !p.is_empty()) {
                out.extend_from_slice(format!(" pe {pe}").as_bytes());
            }
        }
        if se.flags & svc_flags::ONEPACKET != 0 {
            out.extend_from_slice(b" ops");
        }
    }
    out.push(b'\n');

    for e in dests {
        dest_entry(out, se, &svc_name, e, f, names);
    }
}

fn dest_entry(
    out: &mut Vec<u8>,
    se: &ServiceEntry,
    svc_name: &[u8],
    e: &DestEntry,
    f: &Format,
    names: &dyn Names,
) {
    let mut dname = endpoint(f, e.af, &e.addr, e.port, se.key.protocol, names);
    if !f.rule && e.af != AF_INET6 {
        dname.truncate(28);
    }
    let weight = e.weight as i32;
    if f.rule {
        out.extend_from_slice(b"-a ");
        out.extend_from_slice(svc_name);
        out.extend_from_slice(b" -r ");
        out.extend_from_slice(&dname);
        out.extend_from_slice(format!(" {} -w {weight}", fwd_switch(e.fwd)).as_bytes());
        if e.fwd & fwd::MASK == fwd::TUNNEL {
            let opt = ["--tun-nocsum", "--tun-csum", "--tun-remcsum"][tun_flag_index(e.tun_flags)];
            match e.tun_type {
                tun::GRE => out.extend_from_slice(format!(" --tun-type gre {opt}").as_bytes()),
                tun::GUE => out.extend_from_slice(
                    format!(" --tun-type gue --tun-port {} {opt}", e.tun_port).as_bytes(),
                ),
                tun::IPIP => out.extend_from_slice(b" --tun-type ipip"),
                _ => {}
            }
        }
        out.push(b'\n');
        return;
    }
    out.extend_from_slice(b"  -> ");
    pad_right(out, &dname, 28);
    let line = if f.stats {
        totals(&e.stats)
            .iter()
            .map(|c| largenum(*c, f.exact))
            .collect::<String>()
    } else if f.rate {
        // ipvsadm prints the first three rates of servers unscaled.
        let [cps, inpps, outpps, inbps, outbps] = rates(&e.stats);
        format!(
            " {cps:>8} {inpps:>8} {outpps:>8}{}{}",
            largenum(inbps, f.exact),
            largenum(outbps, f.exact)
        )
    } else if f.thresholds {
        format!(
            " {:<10} {:<10} {:<10} {:<10}",
            e.u_threshold, e.l_threshold, e.active_conns, e.inact_conns
        )
    } else if f.persistent_conn {
        format!(
            " {:<9} {:<11} {:<10} {:<10}",
            e.weight, e.persist_conns, e.active_conns, e.inact_conns
        )
    } else if f.tun_info {
        format!(
            " {:<7} {:<13} {:<6} {:<10} {:<10}",
            fwd_name(e.fwd),
            tun_info(e).unwrap_or_else(|| "n/a".into()),
            weight,
            e.active_conns,
            e.inact_conns
        )
    } else {
        format!(
            " {:<7} {:<6} {:<10} {:<10}",
            fwd_name(e.fwd),
            weight,
            e.active_conns,
            e.inact_conns
        )
    };
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
}

/// `-L --timeout`.
pub fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// A sync daemon's role by its state; `None` for neither.
pub(crate) fn daemon_kind(state: u32) -> Option<&'static str> {
    if state & daemon_state::MASTER != 0 {
        Some("master")
    } else if state & daemon_state::BACKUP != 0 {
        Some("backup")
    } else {
        None
    }
}

/// `-L --daemon`. Bytes: the interface name is printed as the kernel has it.
pub fn daemons(ds: &[DaemonConfig]) -> Vec<u8> {
    let mut out = Vec::new();
    for d in ds.iter().take(2) {
        let Some(kind) = daemon_kind(d.state) else {
            continue;
        };
        out.extend_from_slice(format!("{kind} sync daemon (mcast=").as_bytes());
        out.extend_from_slice(&d.mcast_ifn);
        let mut rest = format!(", syncid={}", d.syncid as i32);
        if d.sync_maxlen != 0 {
            rest += &format!(", maxlen={}", d.sync_maxlen);
        }
        if let Some(g) = &d.mcast_group {
            rest += &format!(", group={}", sys::ntop(g));
        }
        if d.mcast_port != 0 {
            rest += &format!(", port={}", d.mcast_port);
        }
        if d.mcast_ttl != 0 {
            rest += &format!(", ttl={}", d.mcast_ttl);
        }
        rest += ")\n";
        out.extend_from_slice(rest.as_bytes());
    }
    out
}

/// glibc's `qsort` (a top-down merge sort) with a C comparator. ipvsadm's
/// comparators subtract unsigned values into an `int`, which is not a
/// consistent order for addresses 2^31 apart; matching its output needs the
/// same algorithm, not just the same comparator.
pub fn c_qsort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
    if v.len() <= 1 {
        return;
    }
    let n1 = v.len() / 2;
    let (a, b) = v.split_at_mut(n1);
    c_qsort(a, cmp);
    c_qsort(b, cmp);
    let mut merged = Vec::with_capacity(v.len());
    let (mut i, mut j) = (0, n1);
    while i < n1 && j < v.len() {
        if cmp(&v[i], &v[j]) <= 0 {
            merged.push(v[i].clone());
            i += 1;
        } else {
            merged.push(v[j].clone());
            j += 1;
        }
    }
    merged.extend_from_slice(&v[i..n1]);
    merged.extend_from_slice(&v[j..]);
    v.clone_from_slice(&merged);
}

fn word(u: &[u8; 16], i: usize) -> u32 {
    u32::from_be_bytes([u[4 * i], u[4 * i + 1], u[4 * i + 2], u[4 * i + 3]])
}

/// ipvsadm's address comparison, keyed on the first entry's family.
fn cmp_addr(af: u16, a: &IpAddr, b: &IpAddr) -> i32 {
    let (ua, ub) = (addr_to_union(a), addr_to_union(b));
    if af == AF_INET6 {
        for i in 0..4 {
            let r = word(&ua, i).wrapping_sub(word(&ub, i)) as i32;
            if r != 0 {
                return r;
            }
        }
        0
    } else {
        word(&ua, 0).wrapping_sub(word(&ub, 0)) as i32
    }
}

/// ipvsadm's `ipvs_cmp_services`.
pub fn cmp_services(a: &ServiceEntry, b: &ServiceEntry) -> i32 {
    let (x, y) = (&a.key, &b.key);
    let r = x.fwmark.wrapping_sub(y.fwmark) as i32;
    if r != 0 {
        return r;
    }
    let r = i32::from(x.af) - i32::from(y.af);
    if r != 0 {
        return r;
    }
    let r = i32::from(x.protocol) - i32::from(y.protocol);
    if r != 0 {
        return r;
    }
    let r = cmp_addr(x.af, &x.addr, &y.addr);
    if r != 0 {
        return r;
    }
    i32::from(x.port) - i32::from(y.port)
}

/// ipvsadm's `ipvs_cmp_dests`.
pub fn cmp_dests(a: &DestEntry, b: &DestEntry) -> i32 {
    let r = cmp_addr(a.af, &a.addr, &b.addr);
    if r != 0 {
        return r;
    }
    i32::from(a.port) - i32::from(b.port)
}

/// Orders services as ipvsadm does (unless `--nosort`).
pub fn sort_services(v: &mut [ServiceEntry]) {
    c_qsort(v, &cmp_services);
}

/// Orders destinations as ipvsadm does (unless `--nosort`).
pub fn sort_dests(v: &mut [DestEntry]) {
    c_qsort(v, &cmp_dests);
}

#[cfg(test)]
mod tests;
