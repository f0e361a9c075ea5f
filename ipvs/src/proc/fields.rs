//! The columns that `/proc/net/ip_vs_conn` and `/proc/net/ip_vs_conn_sync` share, as the
//! kernel prints them (`ip_vs_conn.c`): `%-3s` protocol, then client, virtual and
//! destination addresses (`%08X` of an IPv4 address, `%pI6` of an IPv6 one) each with a
//! `%04X` port, and the `%-11s` state.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::ProcError;
use crate::Protocol;

/// The shared columns of one line.
pub(super) struct Head {
    pub(super) protocol: Protocol,
    pub(super) client: SocketAddr,
    pub(super) virtual_addr: SocketAddr,
    pub(super) dest: SocketAddr,
    pub(super) state: String,
}

/// A line being read, word by word; errors name the file, the line and the field.
pub(super) struct Fields<'a> {
    /// What is left of the line, the blank before it included.
    pub(super) rest: &'a [u8],
    file: &'static str,
    number: usize,
}

impl<'a> Fields<'a> {
    pub(super) fn new(line: &'a [u8], file: &'static str, number: usize) -> Self {
        Fields {
            rest: line,
            file,
            number,
        }
    }

    pub(super) fn bad(&self, field: &'static str, found: &[u8]) -> ProcError {
        ProcError::line(self.file, self.number, field, found)
    }

    /// The next blank-separated word, which must be there.
    pub(super) fn word(&mut self, field: &'static str) -> Result<&'a [u8], ProcError> {
        let start = self
            .rest
            .iter()
            .position(|&b| b != b' ')
            .unwrap_or(self.rest.len());
        let tail = &self.rest[start..];
        let end = tail.iter().position(|&b| b == b' ').unwrap_or(tail.len());
        let (word, after) = tail.split_at(end);
        self.rest = after;
        if word.is_empty() {
            Err(self.bad(field, b"end of line"))
        } else {
            Ok(word)
        }
    }

    /// The next word as a `%u`.
    pub(super) fn decimal(&mut self, field: &'static str) -> Result<u32, ProcError> {
        let w = self.word(field)?;
        parse_decimal(w).ok_or_else(|| self.bad(field, w))
    }

    /// The columns up to the state.
    pub(super) fn head(&mut self) -> Result<Head, ProcError> {
        let p = self.word("protocol")?;
        let protocol = parse_protocol(p).ok_or_else(|| self.bad("protocol", p))?;
        let client = self.endpoint("client address", "client port")?;
        let virtual_addr = self.endpoint("virtual address", "virtual port")?;
        let dest = self.endpoint("destination address", "destination port")?;
        let s = self.word("state")?;
        let state = std::str::from_utf8(s).map_err(|_| self.bad("state", s))?;
        Ok(Head {
            protocol,
            client,
            virtual_addr,
            dest,
            state: state.to_owned(),
        })
    }

    fn endpoint(
        &mut self,
        addr_field: &'static str,
        port_field: &'static str,
    ) -> Result<SocketAddr, ProcError> {
        let a = self.word(addr_field)?;
        let ip = parse_addr(a).ok_or_else(|| self.bad(addr_field, a))?;
        let p = self.word(port_field)?;
        let port = parse_port(p).ok_or_else(|| self.bad(port_field, p))?;
        Ok(SocketAddr::new(ip, port))
    }
}

/// The shared columns as the kernel prints them, the state padded to 11.
pub(super) fn head_text(
    protocol: Protocol,
    client: SocketAddr,
    virtual_addr: SocketAddr,
    dest: SocketAddr,
    state: &str,
) -> String {
    format!(
        "{:<3} {} {:04X} {} {:04X} {} {:04X} {:<11}",
        protocol_name(protocol),
        addr_text(client.ip()),
        client.port(),
        addr_text(virtual_addr.ip()),
        virtual_addr.port(),
        addr_text(dest.ip()),
        dest.port(),
        state,
    )
}

/// The kernel's name of a protocol (`ip_vs_proto_name()`).
pub fn protocol_name(p: Protocol) -> String {
    match p {
        Protocol::Tcp => "TCP".into(),
        Protocol::Udp => "UDP".into(),
        Protocol::Sctp => "SCTP".into(),
        Protocol::Other(0) => "IP".into(),
        Protocol::Other(1) => "ICMP".into(),
        Protocol::Other(58) => "ICMPv6".into(),
        Protocol::Other(n) => format!("IP_{n}"),
    }
}

fn parse_protocol(w: &[u8]) -> Option<Protocol> {
    Some(match w {
        b"TCP" => Protocol::Tcp,
        b"UDP" => Protocol::Udp,
        b"SCTP" => Protocol::Sctp,
        b"IP" => Protocol::Other(0),
        b"ICMP" => Protocol::Other(1),
        b"ICMPv6" => Protocol::Other(58),
        [b'I', b'P', b'_', n @ ..] => {
            let n: u16 = parse_decimal(n)?.try_into().ok()?;
            // The numbers with names of their own are never printed this way.
            if matches!(n, 0 | 1 | 6 | 17 | 58 | 132) {
                return None;
            }
            Protocol::from_raw(n)
        }
        _ => return None,
    })
}

/// An address as the kernel prints it: `%08X` (IPv4) or `%pI6` (IPv6, eight groups).
fn addr_text(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => format!("{:08X}", u32::from(a)),
        IpAddr::V6(a) => {
            let g = a.segments();
            format!(
                "{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}:{:04x}",
                g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7]
            )
        }
    }
}

/// Reads [`addr_text`]'s forms, and any other form of an IPv6 address.
fn parse_addr(w: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(w).ok()?;
    if w.len() == 8 && w.iter().all(u8::is_ascii_hexdigit) {
        return u32::from_str_radix(s, 16)
            .ok()
            .map(|v| IpAddr::V4(Ipv4Addr::from(v)));
    }
    s.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
}

/// A `%04X` port: one to four hex digits.
fn parse_port(w: &[u8]) -> Option<u16> {
    if w.is_empty() || w.len() > 4 || !w.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u16::from_str_radix(std::str::from_utf8(w).ok()?, 16).ok()
}

/// A `%u`: decimal digits only, within `u32`.
fn parse_decimal(w: &[u8]) -> Option<u32> {
    if w.is_empty() || !w.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(w).ok()?.parse().ok()
}
