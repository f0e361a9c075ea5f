//! ipvsadm 1.31's text output, byte for byte, rendered from typed entries.
//!
//! Output is built as bytes: host and service names come from NSS and need
//! not be UTF-8, and ipvsadm truncates names by bytes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipvs::{
    DaemonState, Destination, Family, Forward, Info, Netmask, Protocol, Service, ServiceFlags,
    ServiceKey, SyncDaemon, Timeouts, TunnelFlags, TunnelType,
};

use crate::sys;

/// How listings are printed (ipvsadm's `FMT_*`): set by the command line,
/// read only here.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Format {
    pub(crate) numeric: bool,
    pub(crate) rule: bool,
    pub(crate) stats: bool,
    pub(crate) rate: bool,
    pub(crate) thresholds: bool,
    pub(crate) persistent_conn: bool,
    pub(crate) nosort: bool,
    pub(crate) exact: bool,
    pub(crate) tun_info: bool,
}

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
    pub(crate) host: Vec<u8>,
    pub(crate) service: Vec<u8>,
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
pub(crate) fn addrport(
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
pub(crate) fn addrport_full(
    af: u16,
    addr: &IpAddr,
    port: u16,
    proto: u16,
    numeric: bool,
    names: &dyn Names,
) -> Vec<u8> {
    let mut out = Vec::new();
    let v6 = Family::from_raw(af) != Family::Inet;
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
pub(crate) fn largenum(i: u64, exact: bool) -> String {
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
pub(crate) fn header(info: &Info) -> String {
    format!(
        "IP Virtual Server version {} (size={})\n",
        info.version, info.conn_tab_size as i32
    )
}

/// The column titles for a listing format.
pub(crate) fn title(f: &Format) -> String {
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

fn protocol_name(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
        Protocol::Sctp => "SCTP",
        Protocol::Other(_) => "?",
    }
}

fn protocol_option(p: Protocol) -> &'static str {
    match p {
        Protocol::Tcp => "-t",
        Protocol::Udp => "-u",
        Protocol::Sctp => "--sctp-service",
        Protocol::Other(_) => "--xxx-service",
    }
}

fn fwd_name(f: Forward) -> &'static str {
    match f {
        Forward::Masq => "Masq",
        Forward::Local => "Local",
        Forward::Tunnel => "Tunnel",
        Forward::Route => "Route",
        Forward::Other(_) => "(null)",
    }
}

fn fwd_switch(f: Forward) -> &'static str {
    match f {
        Forward::Masq => "-m",
        Forward::Tunnel => "-i",
        Forward::Local | Forward::Route => "-g",
        Forward::Other(_) => "(null)",
    }
}

/// Index into ipvsadm's per-checksum-mode tables. ipvsadm indexes them with
/// the raw flags and reads past the table for combined flags; those are
/// shown by their strongest mode here.
pub(crate) fn tun_flag_index(flags: TunnelFlags) -> usize {
    if flags.contains(TunnelFlags::REMCSUM) {
        2
    } else if flags.contains(TunnelFlags::CSUM) {
        1
    } else {
        0
    }
}

fn tun_info(e: &Destination) -> Option<String> {
    if e.forward != Forward::Tunnel {
        return None;
    }
    let flags = ["-c", "+c", "r+c"][tun_flag_index(e.tunnel.flags)];
    let s = match e.tunnel.kind {
        TunnelType::Ipip => "ipip".to_string(),
        TunnelType::Gue => format!("gue:{}:{flags}", e.tunnel.port),
        TunnelType::Gre => format!("gre:{flags}"),
        TunnelType::Other(_) => return None,
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
fn sched_flags(se: &Service) -> String {
    SCHED_FLAGS
        .into_iter()
        .zip(sched_flag_names(se.scheduler.name()))
        .filter_map(|(bit, name)| name.filter(|_| se.flags.contains(bit)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The three scheduler flags, in their `-b` order.
pub(crate) const SCHED_FLAGS: [ServiceFlags; 3] = [
    ServiceFlags::SCHED_1,
    ServiceFlags::SCHED_2,
    ServiceFlags::SCHED_3,
];

/// The fields of a service's key as ipvsadm's structure holds them (family,
/// protocol, address, port, fwmark), the kernel's zeros where a key of the
/// other kind has none: what sorting and printing compare.
pub(crate) fn key_fields(k: &ServiceKey) -> (u16, u16, IpAddr, u16, u32) {
    match *k {
        ServiceKey::Inet { protocol, addr } => (
            Family::of(&addr.ip()).to_raw(),
            protocol.to_raw(),
            addr.ip(),
            addr.port(),
            0,
        ),
        ServiceKey::Fwmark { family, mark } => {
            let zero = match family {
                Family::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                _ => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            };
            (family.to_raw(), 0, zero, 0, mark)
        }
    }
}

/// `host:port` of a service or server: whole in rules, cut in listings.
fn endpoint(f: &Format, addr: &IpAddr, port: u16, proto: u16, names: &dyn Names) -> Vec<u8> {
    let af = Family::of(addr).to_raw();
    if f.rule {
        addrport_full(af, addr, port, proto, f.numeric, names)
    } else {
        addrport(af, addr, port, proto, f.numeric, names)
    }
}

/// Appends the persistence timeout and a granularity other than a single
/// address, with the words of the format (`-p`/`-M` or `persistent`/`mask`).
fn persistence(out: &mut Vec<u8>, se: &Service, timeout_word: &str, mask_word: &str) {
    out.extend_from_slice(format!(" {timeout_word} {}", se.timeout).as_bytes());
    let shown = match (se.key.family(), se.netmask) {
        (_, m) if m.is_single() => None,
        (Family::Inet, Netmask::Ipv4(m)) => Some(m.to_string()),
        (Family::Inet6, Netmask::Ipv6(prefix)) => Some((prefix as i32).to_string()),
        _ => None,
    };
    if let Some(m) = shown {
        out.extend_from_slice(format!(" {mask_word} {m}").as_bytes());
    }
}

/// The cumulative counters, in `--stats` column order.
fn totals(s: &ipvs::Stats) -> [u64; 5] {
    [s.conns, s.inpkts, s.outpkts, s.inbytes, s.outbytes]
}

/// The rate estimates, in `--rate` column order.
fn rates(s: &ipvs::Stats) -> [u64; 5] {
    [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
}

/// The service's name as listings and rules show it.
pub(crate) fn service_name(se: &Service, f: &Format, names: &dyn Names) -> Vec<u8> {
    let (protocol, addr) = match se.key {
        ServiceKey::Fwmark { family, mark } => {
            let v6 = family == Family::Inet6;
            // ipvsadm prints the mark with %d, so marks above 2^31 come out
            // negative and cannot be restored; print them unsigned.
            return match (f.rule, v6) {
                (true, true) => format!("-f {mark} -6"),
                (true, false) => format!("-f {mark}"),
                (false, true) => format!("FWM  {mark} IPv6"),
                (false, false) => format!("FWM  {mark}"),
            }
            .into_bytes();
        }
        ServiceKey::Inet { protocol, addr } => (protocol, addr),
    };
    let vname = endpoint(f, &addr.ip(), addr.port(), protocol.to_raw(), names);
    let mut out = Vec::new();
    if f.rule {
        out.extend_from_slice(protocol_option(protocol).as_bytes());
        out.push(b' ');
        out.extend_from_slice(&vname);
    } else {
        pad_right(&mut out, protocol_name(protocol).as_bytes(), 4);
        out.push(b' ');
        out.extend_from_slice(&vname);
        if addr.is_ipv4() {
            out.truncate(33);
        }
    }
    out
}

/// One service and its destinations, in the listing or rule format.
pub(crate) fn service_entry(
    out: &mut Vec<u8>,
    se: &Service,
    dests: &[Destination],
    f: &Format,
    names: &dyn Names,
) {
    let svc_name = service_name(se, f, names);
    let persistent = se.is_persistent();
    if f.rule {
        out.extend_from_slice(b"-A ");
        out.extend_from_slice(&svc_name);
        out.extend_from_slice(format!(" -s {}", se.scheduler).as_bytes());
        if persistent {
            persistence(out, se, "-p", "-M");
        }
        if let Some(pe) = se.pe_name.as_deref().filter(|p| !p.is_empty()) {
            out.extend_from_slice(format!(" --pe {pe}").as_bytes());
        }
        if se.flags.contains(ServiceFlags::ONE_PACKET) {
            out.extend_from_slice(b" -o");
        }
        if se.flags.intersects(ServiceFlags::SCHED_MASK) {
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
        out.extend_from_slice(format!(" {}", se.scheduler).as_bytes());
        if se.flags.intersects(ServiceFlags::SCHED_MASK) {
            out.extend_from_slice(format!(" ({})", sched_flags(se)).as_bytes());
        }
        if persistent {
            persistence(out, se, "persistent", "mask");
            if let Some(pe) = se.pe_name.as_deref().filter(|p| !p.is_empty()) {
                out.extend_from_slice(format!(" pe {pe}").as_bytes());
            }
        }
        if se.flags.contains(ServiceFlags::ONE_PACKET) {
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
    se: &Service,
    svc_name: &[u8],
    e: &Destination,
    f: &Format,
    names: &dyn Names,
) {
    let (_, protocol, ..) = key_fields(&se.key);
    let mut dname = endpoint(f, &e.addr.ip(), e.addr.port(), protocol, names);
    if !f.rule && e.addr.is_ipv4() {
        dname.truncate(28);
    }
    let weight = e.weight as i32;
    if f.rule {
        out.extend_from_slice(b"-a ");
        out.extend_from_slice(svc_name);
        out.extend_from_slice(b" -r ");
        out.extend_from_slice(&dname);
        out.extend_from_slice(format!(" {} -w {weight}", fwd_switch(e.forward)).as_bytes());
        if e.forward == Forward::Tunnel {
            let opt =
                ["--tun-nocsum", "--tun-csum", "--tun-remcsum"][tun_flag_index(e.tunnel.flags)];
            match e.tunnel.kind {
                TunnelType::Gre => {
                    out.extend_from_slice(format!(" --tun-type gre {opt}").as_bytes());
                }
                TunnelType::Gue => out.extend_from_slice(
                    format!(" --tun-type gue --tun-port {} {opt}", e.tunnel.port).as_bytes(),
                ),
                TunnelType::Ipip => out.extend_from_slice(b" --tun-type ipip"),
                TunnelType::Other(_) => {}
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
            e.upper_threshold, e.lower_threshold, e.active_conns, e.inactive_conns
        )
    } else if f.persistent_conn {
        format!(
            " {:<9} {:<11} {:<10} {:<10}",
            e.weight, e.persistent_conns, e.active_conns, e.inactive_conns
        )
    } else if f.tun_info {
        format!(
            " {:<7} {:<13} {:<6} {:<10} {:<10}",
            fwd_name(e.forward),
            tun_info(e).unwrap_or_else(|| "n/a".into()),
            weight,
            e.active_conns,
            e.inactive_conns
        )
    } else {
        format!(
            " {:<7} {:<6} {:<10} {:<10}",
            fwd_name(e.forward),
            weight,
            e.active_conns,
            e.inactive_conns
        )
    };
    out.extend_from_slice(line.as_bytes());
    out.push(b'\n');
}

/// `-L --timeout`.
pub(crate) fn timeouts(t: &Timeouts) -> String {
    format!(
        "Timeout (tcp tcpfin udp): {} {} {}\n",
        t.tcp as i32, t.tcp_fin as i32, t.udp as i32
    )
}

/// A sync daemon's role by its state; `None` for neither.
pub(crate) fn daemon_kind(state: DaemonState) -> Option<&'static str> {
    let bits = state.to_raw();
    if bits & DaemonState::Master.to_raw() != 0 {
        Some("master")
    } else if bits & DaemonState::Backup.to_raw() != 0 {
        Some("backup")
    } else {
        None
    }
}

/// `-L --daemon`. Bytes: the interface name is printed as the kernel has it.
pub(crate) fn daemons(ds: &[SyncDaemon]) -> Vec<u8> {
    let mut out = Vec::new();
    for d in ds.iter().take(2) {
        let Some(kind) = daemon_kind(d.state) else {
            continue;
        };
        out.extend_from_slice(format!("{kind} sync daemon (mcast=").as_bytes());
        out.extend_from_slice(&d.interface);
        let mut rest = format!(", syncid={}", d.sync_id as i32);
        if d.max_len != 0 {
            rest += &format!(", maxlen={}", d.max_len);
        }
        if let Some(g) = &d.group {
            rest += &format!(", group={}", sys::ntop(g));
        }
        if d.port != 0 {
            rest += &format!(", port={}", d.port);
        }
        if d.ttl != 0 {
            rest += &format!(", ttl={}", d.ttl);
        }
        rest += ")\n";
        out.extend_from_slice(rest.as_bytes());
    }
    out
}

/// An address as the kernel's 16-byte union, as ipvsadm compares it.
fn addr_to_union(addr: &IpAddr) -> [u8; 16] {
    let mut b = [0u8; 16];
    match addr {
        IpAddr::V4(a) => b[..4].copy_from_slice(&a.octets()),
        IpAddr::V6(a) => b = a.octets(),
    }
    b
}

/// glibc's `qsort` (a top-down merge sort) with a C comparator. ipvsadm's
/// comparators subtract unsigned values into an `int`, which is not a
/// consistent order for addresses 2^31 apart; matching its output needs the
/// same algorithm, not just the same comparator.
pub(crate) fn c_qsort<T: Clone>(v: &mut [T], cmp: &dyn Fn(&T, &T) -> i32) {
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
    if af == Family::Inet6.to_raw() {
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
pub(crate) fn cmp_services(a: &Service, b: &Service) -> i32 {
    let (x_af, x_proto, x_addr, x_port, x_mark) = key_fields(&a.key);
    let (y_af, y_proto, y_addr, y_port, y_mark) = key_fields(&b.key);
    let r = x_mark.wrapping_sub(y_mark) as i32;
    if r != 0 {
        return r;
    }
    let r = i32::from(x_af) - i32::from(y_af);
    if r != 0 {
        return r;
    }
    let r = i32::from(x_proto) - i32::from(y_proto);
    if r != 0 {
        return r;
    }
    let r = cmp_addr(x_af, &x_addr, &y_addr);
    if r != 0 {
        return r;
    }
    i32::from(x_port) - i32::from(y_port)
}

/// ipvsadm's `ipvs_cmp_dests`.
pub(crate) fn cmp_dests(a: &Destination, b: &Destination) -> i32 {
    let r = cmp_addr(
        Family::of(&a.addr.ip()).to_raw(),
        &a.addr.ip(),
        &b.addr.ip(),
    );
    if r != 0 {
        return r;
    }
    i32::from(a.addr.port()) - i32::from(b.addr.port())
}

/// Orders services as ipvsadm does (unless `--nosort`).
pub(crate) fn sort_services(v: &mut [Service]) {
    c_qsort(v, &cmp_services);
}

/// Orders destinations as ipvsadm does (unless `--nosort`).
pub(crate) fn sort_dests(v: &mut [Destination]) {
    c_qsort(v, &cmp_dests);
}

#[cfg(test)]
mod tests;

/// Entries for tests, so each test states only what it is about.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::net::{IpAddr, SocketAddr};

    use ipvs::{Destination, Forward, Service, ServiceKey};

    /// A TCP service with the default scheduler.
    pub(crate) fn service(addr: &str, port: u16) -> Service {
        let addr: IpAddr = addr.parse().expect("literal");
        Service::new(ServiceKey::tcp(SocketAddr::new(addr, port)))
    }

    /// A masquerading real server of weight 1.
    pub(crate) fn dest(addr: &str, port: u16) -> Destination {
        let addr: IpAddr = addr.parse().expect("literal");
        Destination {
            forward: Forward::Masq,
            ..Destination::new(SocketAddr::new(addr, port))
        }
    }

    /// A fwmark service of `family`.
    pub(crate) fn fwmark(family: ipvs::Family, mark: u32) -> Service {
        Service::new(ServiceKey::Fwmark { family, mark })
    }

    /// `s` with its protocol changed.
    pub(crate) fn with_protocol(mut s: Service, p: ipvs::Protocol) -> Service {
        if let ServiceKey::Inet { protocol, .. } = &mut s.key {
            *protocol = p;
        }
        s
    }
}
