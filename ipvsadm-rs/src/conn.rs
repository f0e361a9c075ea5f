//! Connection entries from `/proc/net/ip_vs_conn`, as `-Lc` lists them.
//!
//! ipvsadm reads the file in 256-byte pieces into fixed buffers, so a line
//! carrying a long persistence-engine datum (a SIP Call-ID of up to 255
//! bytes) is split and overflows its stack. Here each line is read whole and
//! every field is kept whatever its length.

use std::net::{IpAddr, Ipv4Addr};

use serde::Serialize;

use crate::cli::Format;
use crate::render::{addrport, pad_right as pad, Names};
use crate::sys;
use crate::types::*;

/// Where the kernel lists connections.
pub const PROC_FILE: &str = "/proc/net/ip_vs_conn";

/// One connection or persistence template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Conn {
    /// Protocol as the kernel names it (`TCP`, `UDP`, `SCTP`, ...).
    pub protocol: String,
    pub client: IpAddr,
    pub client_port: u16,
    pub virtual_addr: IpAddr,
    pub virtual_port: u16,
    pub dest: IpAddr,
    pub dest_port: u16,
    pub state: String,
    /// Seconds until the entry expires.
    pub expires: u32,
    /// Persistence engine name, for templates that carry engine data.
    pub pe_name: Option<String>,
    /// Persistence engine data (the SIP Call-ID for `sip`).
    pub pe_data: Option<String>,
}

/// Reads an address the way the kernel prints it: `%08X` for IPv4, `%pI6`
/// for IPv6.
fn parse_addr(s: &str) -> Option<IpAddr> {
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

/// Parses one line of the file (not the heading). Lines that do not have
/// the nine mandatory fields are skipped.
pub fn parse_line(line: &str) -> Option<Conn> {
    let mut f = line.split_ascii_whitespace();
    let protocol = f.next()?.to_string();
    let client = parse_addr(f.next()?)?;
    let client_port = u16::from_str_radix(f.next()?, 16).ok()?;
    let virtual_addr = parse_addr(f.next()?)?;
    let virtual_port = u16::from_str_radix(f.next()?, 16).ok()?;
    let dest = parse_addr(f.next()?)?;
    let dest_port = u16::from_str_radix(f.next()?, 16).ok()?;
    let state = f.next()?.to_string();
    let expires = f.next()?.parse::<u32>().ok()?;
    let pe_name = f.next().map(str::to_string);
    let pe_data = f.next().map(str::to_string);
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

/// Parses the whole file; `None` if it lacks even the heading line.
pub fn parse(text: &str) -> Option<Vec<Conn>> {
    let mut lines = text.lines();
    lines.next()?;
    Some(lines.filter_map(parse_line).collect())
}

fn proto_number(p: &str) -> u16 {
    match p {
        "TCP" => IPPROTO_TCP,
        "UDP" => IPPROTO_UDP,
        "SCTP" => IPPROTO_SCTP,
        _ => 0,
    }
}

fn af_of(a: &IpAddr) -> u16 {
    match a {
        IpAddr::V4(_) => AF_INET,
        IpAddr::V6(_) => AF_INET6,
    }
}

/// The `-Lc` listing, heading included.
pub fn render(conns: &[Conn], f: &Format, names: &dyn Names) -> Vec<u8> {
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
    for c in conns {
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
        pad(&mut out, c.protocol.as_bytes(), 3);
        out.push(b' ');
        pad(&mut out, expire.as_bytes(), 6);
        out.push(b' ');
        pad(&mut out, c.state.as_bytes(), 11);
        out.push(b' ');
        pad(&mut out, &cname, 18);
        out.push(b' ');
        pad(&mut out, &vname, 18);
        out.push(b' ');
        match (&c.pe_name, &c.pe_data, f.persistent_conn) {
            (Some(name), Some(data), true) => {
                pad(&mut out, &dname, 16);
                out.push(b' ');
                pad(&mut out, name.as_bytes(), 18);
                out.push(b' ');
                out.extend_from_slice(data.as_bytes());
            }
            _ => out.extend_from_slice(&dname),
        }
        out.push(b'\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::NoNames;

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
        let conns = parse(&text).expect("heading");
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
        let conns = parse(&text).expect("heading");
        assert_eq!(conns.len(), 1);
        assert_eq!(conns[0].pe_data.as_deref(), Some(callid.as_str()));
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
        let conns = parse(&text).expect("heading");
        let out = String::from_utf8_lossy(&render(&conns, &numeric(false), &NoNames)).into_owned();
        assert!(out.ends_with(
            "TCP 00:59  SYN_RECV    [2001:db8::2]:54321 [2001:db8::1]:80   [2001:db8::3]:80\n"
        ));
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let text = format!("{HEAD}garbage\n\nUDP 0A000002\n");
        assert_eq!(parse(&text), Some(vec![]));
        assert_eq!(parse(""), None);
    }
}
