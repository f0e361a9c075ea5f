//! Connection entries from `/proc/net/ip_vs_conn`, as `-Lc` lists them.
//!
//! ipvsadm reads the file in 256-byte pieces into fixed buffers, so a line
//! carrying a long persistence-engine datum (a SIP Call-ID of up to 255
//! bytes) is split and overflows its stack. Here each line is read whole and
//! every field is kept whatever its length. The file is read as bytes: an
//! engine's datum need not be UTF-8, and it is printed as the kernel wrote it.

use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr};

use crate::render::{addrport, pad_right as pad, Format, Names};
use ipvs::{Family, Protocol};

use crate::sys;

/// Where the kernel lists connections.
pub(crate) const PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// One connection or persistence template. Text fields are the kernel's
/// bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Conn {
    /// Protocol as the kernel names it (`TCP`, `UDP`, `SCTP`, ...).
    pub(crate) protocol: Vec<u8>,
    pub(crate) client: IpAddr,
    pub(crate) client_port: u16,
    pub(crate) virtual_addr: IpAddr,
    pub(crate) virtual_port: u16,
    pub(crate) dest: IpAddr,
    pub(crate) dest_port: u16,
    pub(crate) state: Vec<u8>,
    /// Seconds until the entry expires.
    pub(crate) expires: u32,
    /// Persistence engine name, for templates that carry engine data.
    pub(crate) pe_name: Option<Vec<u8>>,
    /// Persistence engine data (the SIP Call-ID for `sip`), whole: inner
    /// blanks included, surrounding ones dropped.
    pub(crate) pe_data: Option<Vec<u8>>,
}

/// C's `isspace`, where `sscanf`'s `%s` stops: unlike Rust's ASCII
/// whitespace it includes the vertical tab.
fn is_c_space(b: &u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn trim_c_space(mut s: &[u8]) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !is_c_space(first) {
            break;
        }
        s = rest;
    }
    while let [rest @ .., last] = s {
        if !is_c_space(last) {
            break;
        }
        s = rest;
    }
    s
}

/// The blank-separated words of a line; what is left stays readable.
struct Words<'a>(&'a [u8]);

impl<'a> Iterator for Words<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let start = self.0.iter().position(|b| !is_c_space(b))?;
        let rest = &self.0[start..];
        let end = rest.iter().position(is_c_space).unwrap_or(rest.len());
        let (word, rest) = rest.split_at(end);
        self.0 = rest;
        Some(word)
    }
}

/// Reads an address the way the kernel prints it: `%08X` for IPv4, `%pI6`
/// for IPv6.
fn parse_addr(w: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(w).ok()?;
    if let Some(a) = sys::parse_inet6(s) {
        return Some(IpAddr::V6(a));
    }
    if let Some(a) = sys::parse_inet4(s) {
        return Some(IpAddr::V4(a));
    }
    u32::from_str_radix(s, 16)
        .ok()
        .map(|v| IpAddr::V4(Ipv4Addr::from(v)))
}

fn parse_port(w: &[u8]) -> Option<u16> {
    u16::from_str_radix(std::str::from_utf8(w).ok()?, 16).ok()
}

/// The expiry as ipvsadm reads it, with `%d` into an `unsigned int`: glibc
/// converts to a `long`, saturating, and keeps the low 32 bits. The kernel
/// prints an unsigned 32-bit number, so this is that number; older kernels
/// could print a wrapped `unsigned long`, shown here as ipvsadm shows it.
fn parse_expires(w: &[u8]) -> Option<u32> {
    let (neg, digits) = match w {
        [b'-', d @ ..] => (true, d),
        [b'+', d @ ..] => (false, d),
        d => (false, d),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let magnitude = digits.iter().fold(0i128, |n, d| {
        (n * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1)
    });
    let n = if neg { -magnitude } else { magnitude };
    let n = n.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
    Some(n as u32)
}

/// Parses one line of the file (not the heading). Lines that do not have
/// the nine mandatory fields are skipped.
pub(crate) fn parse_line(line: &[u8]) -> Option<Conn> {
    let mut f = Words(line);
    let protocol = f.next()?.to_vec();
    let client = parse_addr(f.next()?)?;
    let client_port = parse_port(f.next()?)?;
    let virtual_addr = parse_addr(f.next()?)?;
    let virtual_port = parse_port(f.next()?)?;
    let dest = parse_addr(f.next()?)?;
    let dest_port = parse_port(f.next()?)?;
    let state = f.next()?.to_vec();
    let expires = parse_expires(f.next()?)?;
    let pe_name = f.next().map(<[u8]>::to_vec);
    // ipvsadm reads only the datum's first word; the kernel writes the datum
    // to the end of the line, so it is taken whole.
    let pe_data = Some(trim_c_space(f.0))
        .filter(|d| !d.is_empty())
        .map(<[u8]>::to_vec);
    Some(Conn {
        protocol,
        client,
        client_port,
        virtual_addr,
        virtual_port,
        dest,
        dest_port,
        state,
        expires,
        pe_name,
        pe_data,
    })
}

/// The entries of the file as they are read, one line at a time, so that a
/// table of a million connections is never held in memory. Lines that are
/// not entries are skipped; a read error ends the entries.
pub(crate) struct Entries<R> {
    reader: R,
    line: Vec<u8>,
}

/// Reads the heading line; `None` if the file lacks even that.
pub(crate) fn entries<R: BufRead>(mut reader: R) -> std::io::Result<Option<Entries<R>>> {
    let mut line = Vec::new();
    if reader.read_until(b'\n', &mut line)? == 0 {
        return Ok(None);
    }
    Ok(Some(Entries { reader, line }))
}

impl<R: BufRead> Iterator for Entries<R> {
    type Item = Conn;

    fn next(&mut self) -> Option<Conn> {
        loop {
            self.line.clear();
            match self.reader.read_until(b'\n', &mut self.line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let line = self.line.strip_suffix(b"\n").unwrap_or(&self.line);
            if let Some(c) = parse_line(line) {
                return Some(c);
            }
        }
    }
}

fn proto_number(p: &[u8]) -> u16 {
    match p {
        b"TCP" => Protocol::Tcp.to_raw(),
        b"UDP" => Protocol::Udp.to_raw(),
        b"SCTP" => Protocol::Sctp.to_raw(),
        _ => 0,
    }
}

fn af_of(a: &IpAddr) -> u16 {
    Family::of(a).to_raw()
}

/// The `-Lc` listing, heading included, written entry by entry as the
/// entries come.
pub(crate) fn write_listing(
    w: &mut dyn Write,
    conns: impl IntoIterator<Item = Conn>,
    f: &Format,
    names: &dyn Names,
) -> std::io::Result<()> {
    w.write_all(&heading(f))?;
    let mut line = Vec::new();
    for c in conns {
        line.clear();
        entry(&mut line, &c, f, names);
        w.write_all(&line)?;
    }
    Ok(())
}

/// The listing's heading lines.
fn heading(f: &Format) -> Vec<u8> {
    let mut out = b"IPVS connection entries\n".to_vec();
    if f.persistent_conn {
        out.extend_from_slice(
            format!(
                "pro expire {:<11} {:<18} {:<18} {:<18} {:<16} {}\n",
                "state", "source", "virtual", "destination", "pe name", "pe_data"
            )
            .as_bytes(),
        );
    } else {
        out.extend_from_slice(
            format!(
                "pro expire {:<11} {:<18} {:<18} {}\n",
                "state", "source", "virtual", "destination"
            )
            .as_bytes(),
        );
    }
    out
}

/// One entry's line.
fn entry(out: &mut Vec<u8>, c: &Conn, f: &Format, names: &dyn Names) {
    let proto = proto_number(&c.protocol);
    // The client's family decides the virtual address's, as in ipvsadm.
    let af = af_of(&c.client);
    let cname = addrport(af, &c.client, c.client_port, proto, f.numeric, names);
    let vname = addrport(af, &c.virtual_addr, c.virtual_port, proto, f.numeric, names);
    let dname = addrport(
        af_of(&c.dest),
        &c.dest,
        c.dest_port,
        proto,
        f.numeric,
        names,
    );
    let expire = format!("{:02}:{:02}", c.expires / 60, c.expires % 60);
    pad(out, &c.protocol, 3);
    out.push(b' ');
    pad(out, expire.as_bytes(), 6);
    out.push(b' ');
    pad(out, &c.state, 11);
    out.push(b' ');
    pad(out, &cname, 18);
    out.push(b' ');
    pad(out, &vname, 18);
    out.push(b' ');
    match (&c.pe_name, &c.pe_data, f.persistent_conn) {
        (Some(name), Some(data), true) => {
            pad(out, &dname, 16);
            out.push(b' ');
            pad(out, name, 18);
            out.push(b' ');
            out.extend_from_slice(data);
        }
        _ => out.extend_from_slice(&dname),
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{FixedNames, NoNames};

    /// The entries of a whole file held in memory; `None` if it lacks even
    /// the heading line.
    fn parse(text: &[u8]) -> Option<Vec<Conn>> {
        entries(text).ok().flatten().map(Iterator::collect)
    }

    /// The `-Lc --json` document of `conns`.
    fn json(conns: &[Conn]) -> serde_json::Value {
        let mut out = Vec::new();
        crate::json::write_connections(&mut out, conns.iter().cloned()).expect("in memory");
        serde_json::from_slice(&out).expect("json")
    }

    /// The whole listing of `conns`, in memory.
    fn render(conns: &[Conn], f: &Format, names: &dyn Names) -> Vec<u8> {
        let mut out = Vec::new();
        write_listing(&mut out, conns.iter().cloned(), f, names).expect("in memory");
        out
    }

    const HEAD: &str =
        "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";

    fn numeric(pc: bool) -> Format {
        Format {
            numeric: true,
            persistent_conn: pc,
            ..Format::default()
        }
    }

    #[test]
    fn ipv4_tcp_entry() {
        let text =
            format!("{HEAD}TCP 0A000002 D431 0A000001 0050 0A000003 0050 ESTABLISHED     899\n");
        let conns = parse(text.as_bytes()).expect("heading");
        let out = render(&conns, &numeric(false), &NoNames);
        assert_eq!(
            String::from_utf8_lossy(&out),
            "IPVS connection entries\n\
             pro expire state       source             virtual            destination\n\
             TCP 14:59  ESTABLISHED 10.0.0.2:54321     10.0.0.1:80        10.0.0.3:80\n"
        );
    }

    #[test]
    fn sip_template_with_longest_call_id() {
        let callid = "a".repeat(255);
        let text = format!(
            "{HEAD}UDP 0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE             60 sip {callid}\n"
        );
        let conns = parse(text.as_bytes()).expect("heading");
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0].pe_data.as_deref(), Some(callid.as_bytes()));
        let out = String::from_utf8_lossy(&render(&conns, &numeric(true), &NoNames)).into_owned();
        let last = out.lines().last().expect("a line");
        assert_eq!(
            last,
            format!(
                "UDP 01:00  NONE        10.0.0.2:5060      10.0.0.1:5060      10.0.0.3:5060    sip                {callid}"
            )
        );
        // Without --persistent-conn the engine columns are not shown.
        let out = String::from_utf8_lossy(&render(&conns, &numeric(false), &NoNames)).into_owned();
        assert!(out.ends_with("10.0.0.3:5060\n"));
    }

    #[test]
    fn ipv6_entry() {
        let text = format!(
            "{HEAD}TCP 2001:0db8:0000:0000:0000:0000:0000:0002 D431 2001:0db8:0000:0000:0000:0000:0000:0001 0050 2001:0db8:0000:0000:0000:0000:0000:0003 0050 SYN_RECV         59\n"
        );
        let conns = parse(text.as_bytes()).expect("heading");
        let out = String::from_utf8_lossy(&render(&conns, &numeric(false), &NoNames)).into_owned();
        assert!(out.ends_with(
            "TCP 00:59  SYN_RECV    [2001:db8::2]:54321 [2001:db8::1]:80   [2001:db8::3]:80\n"
        ));
    }

    /// The last line of a listing, as bytes.
    fn last_line(out: &[u8]) -> &[u8] {
        let body = out.strip_suffix(b"\n").expect("newline");
        body.rsplit(|&b| b == b'\n').next().expect("a line")
    }

    #[test]
    fn engine_data_is_printed_as_the_kernel_wrote_it() {
        // Not UTF-8, inner blanks, a vertical tab (a blank to C, not to
        // Rust's `split_ascii_whitespace`), trailing blanks.
        let mut text =
            format!("{HEAD}UDP\x0b0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE 60 sip ")
                .into_bytes();
        text.extend_from_slice(b"id\xff\xfe@host tag=1\x0bx  \n");
        let conns = parse(&text).expect("heading");
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0].protocol, b"UDP");
        assert_eq!(
            conns[0].pe_data.as_deref(),
            Some(&b"id\xff\xfe@host tag=1\x0bx"[..])
        );
        let out = render(&conns, &numeric(true), &NoNames);
        assert_eq!(
            last_line(&out),
            &b"UDP 01:00  NONE        10.0.0.2:5060      10.0.0.1:5060      10.0.0.3:5060    sip                id\xff\xfe@host tag=1\x0bx"[..]
        );
        let json = json(&conns);
        assert_eq!(
            json["connections"][0]["pe_data"],
            "id\u{fffd}\u{fffd}@host tag=1\x0bx"
        );
    }

    #[test]
    fn engine_name_without_data_is_a_plain_entry() {
        for tail in [" sip", " sip   ", ""] {
            let text =
                format!("{HEAD}UDP 0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE 60{tail}\n");
            let conns = parse(text.as_bytes()).expect("heading");
            assert_eq!(conns[0].pe_data, None, "{tail:?}");
            let out = render(&conns, &numeric(true), &NoNames);
            assert!(last_line(&out).ends_with(b"10.0.0.1:5060      10.0.0.3:5060"));
        }
    }

    /// Our engine's fallback template (a datagram without a Call-ID) as the
    /// kernel writes it (`ip_vs_conn_seq_show()`: ` %7u`, then ` sip ` and
    /// no data) is listed as ipvsadm 1.31 lists it: its `sscanf` fills 10
    /// of 11 fields, and only a line of 11 gets the engine columns
    /// (`print_conn()`'s `n == 11`), so `--persistent-conn` or not, the line
    /// is a plain entry ending at the destination, with no trailing blank.
    #[test]
    fn fallback_template_is_listed_as_ipvsadm_lists_it() {
        let v4 = "UDP 0A000103 0000 0A000001 13C4 0A000003 13C4 NONE            600 sip \n";
        let v6 = "UDP 2001:0db8:0000:0000:0000:0000:0000:0002 0000 \
                  2001:0db8:0000:0000:0000:0000:0000:0001 13C4 \
                  2001:0db8:0000:0000:0000:0000:0000:0003 13C4 NONE             59 sip \n";
        let conns = parse(format!("{HEAD}{v4}{v6}").as_bytes()).expect("heading");
        assert_eq!(conns.len(), 2);
        for c in &conns {
            assert_eq!(c.pe_name.as_deref(), Some(&b"sip"[..]));
            assert_eq!(c.pe_data, None);
        }
        let body = "UDP 10:00  NONE        10.0.1.3:0         10.0.0.1:5060      10.0.0.3:5060\n\
                    UDP 00:59  NONE        [2001:db8::2]:0    [2001:db8::1]:5060 [2001:db8::3]:5060\n";
        assert_eq!(
            String::from_utf8(render(&conns, &numeric(true), &NoNames)).expect("utf8"),
            format!(
                "IPVS connection entries\n\
                 pro expire state       source             virtual            destination        \
                 pe name          pe_data\n{body}"
            )
        );
        assert_eq!(
            String::from_utf8(render(&conns, &numeric(false), &NoNames)).expect("utf8"),
            format!(
                "IPVS connection entries\n\
                 pro expire state       source             virtual            destination\n{body}"
            )
        );
        // `-Lc` resolves names but lays the line out the same way.
        let names = FixedNames {
            host: b"h".to_vec(),
            service: b"sip".to_vec(),
        };
        let out = render(&conns[..1], &Format::default(), &names);
        assert_eq!(
            last_line(&out),
            b"UDP 10:00  NONE        h:sip              h:sip              h:sip"
        );
        // JSON keeps the engine's name; there is no datum.
        let json = json(&conns);
        assert_eq!(json["connections"][0]["pe_name"], "sip");
        assert_eq!(json["connections"][0]["pe_data"], serde_json::Value::Null);
    }

    #[test]
    fn widest_fields() {
        let v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        let text = format!(
            "{HEAD}SCTP {v6} FFFF {v6} 0000 {v6} FFFF S-ACK-SENT 4294967295\n\
             IP_255 0A000002 0000 0A000001 FFFF 0A000003 0000 ESTABLISHED 0\n"
        );
        let conns = parse(text.as_bytes()).expect("heading");
        let out = render(&conns, &numeric(false), &NoNames);
        let full = format!("[{v6}]");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            format!(
                "IPVS connection entries\n\
                 pro expire state       source             virtual            destination\n\
                 SCTP 71582788:15 S-ACK-SENT  {full}:65535 {full}:0 {full}:65535\n\
                 IP_255 00:00  ESTABLISHED 10.0.0.2:0         10.0.0.1:65535     10.0.0.3:0\n"
            )
        );
    }

    #[test]
    fn long_names_are_cut_at_ipvsadms_buffer() {
        let names = FixedNames {
            host: vec![b'h'; 253],
            service: b"sip".to_vec(),
        };
        let text = format!("{HEAD}UDP 0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE 60 sip c\n");
        let conns = parse(text.as_bytes()).expect("heading");
        let f = Format {
            persistent_conn: true,
            ..Format::default()
        };
        let out = render(&conns, &f, &names);
        // `host:port` is cut to 59 bytes: here all of them are the host's.
        let name = vec![b'h'; 59];
        let mut expected = b"UDP 01:00  NONE        ".to_vec();
        for _ in 0..3 {
            expected.extend_from_slice(&name);
            expected.push(b' ');
        }
        expected.extend_from_slice(b"sip                c");
        assert_eq!(last_line(&out), &expected[..]);
    }

    #[test]
    fn expiry_is_read_as_ipvsadm_reads_it() {
        assert_eq!(parse_expires(b"899"), Some(899));
        assert_eq!(parse_expires(b"4294967295"), Some(u32::MAX));
        // A wrapped 64-bit expiry keeps its low 32 bits, as in ipvsadm.
        assert_eq!(parse_expires(b"18446744073709551"), Some(1_271_310_319));
        assert_eq!(parse_expires(b"99999999999999999999999"), Some(u32::MAX));
        assert_eq!(parse_expires(b"-99999999999999999999999"), Some(0));
        assert_eq!(parse_expires(b"-1"), Some(u32::MAX));
        assert_eq!(parse_expires(b"12x"), None);
        assert_eq!(parse_expires(b"-"), None);
    }

    #[test]
    fn random_lines_never_panic() {
        let words: [&[u8]; 12] = [
            b"TCP",
            b"0A000001",
            b"FFFF",
            b"::1",
            b"1.2.3.4",
            b"NONE",
            b"60",
            b"sip",
            b" ",
            b"\x0b",
            b"\xff",
            b"\n",
        ];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..5_000 {
            let mut text = HEAD.as_bytes().to_vec();
            for _ in 0..(seed % 30) {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                text.extend_from_slice(words[(seed % 12) as usize]);
                text.push(b' ');
            }
            if let Some(conns) = parse(&text) {
                let _ = render(&conns, &numeric(true), &NoNames);
                let _ = json(&conns);
            }
        }
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let text = format!("{HEAD}garbage\n\nUDP 0A000002\n");
        assert_eq!(parse(text.as_bytes()), Some(vec![]));
        assert_eq!(parse(b""), None);
    }
}
