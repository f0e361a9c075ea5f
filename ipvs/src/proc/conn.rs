//! `/proc/net/ip_vs_conn`: every connection and persistence template of a namespace, with
//! the persistence engine's name and data (the SIP Call-ID of a `--pe sip` template).
//!
//! The kernel (`ip_vs_conn_seq_show()`, the same in 6.12 and 7.3) prints a heading, then
//! one line per entry:
//!
//! ```text
//! Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
//! UDP 00000000 0000 0A0403C0 13C4 0A04040B 13C4 NONE             58 sip a84b4c76e66710@pc33
//! UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP             119
//! ```
//!
//! `%-3s` protocol, client, virtual and destination addresses (`%08X` of an IPv4 address,
//! `%pI6` of an IPv6 one: eight groups of four hex digits) each with a `%04X` port,
//! `%-11s` state, `%7u` seconds to expiry and, for entries with engine data, a blank, the
//! engine's name, a blank and the data as the engine writes it, to the end of the line. The
//! destination's family may differ from the client's (a tunnel to an IPv6 server).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::BorrowedFd;

use super::{Lines, ProcError};
use crate::Protocol;

/// Where the kernel lists connections.
pub const PATH: &str = "/proc/net/ip_vs_conn";

/// The heading line the kernel prints first.
pub const HEADING: &str =
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData";

/// One connection or persistence template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Conn {
    /// Its protocol; the kernel's `IP` (a firewall-mark template), `ICMP`, `ICMPv6` and
    /// `IP_<n>` are [`Protocol::Other`] of their numbers.
    pub protocol: Protocol,
    /// The client's address and port (0.0.0.0 and 0 in a template of `-M 0.0.0.0`).
    pub client: SocketAddr,
    /// The virtual service's address and port.
    pub virtual_addr: SocketAddr,
    /// The real server's address and port.
    pub dest: SocketAddr,
    /// The state as the kernel names it (`UDP`, `ESTABLISHED`, `NONE`, `ASSURED`, ...).
    pub state: String,
    /// Whole seconds until it expires, unless traffic refreshes it.
    pub expires: u32,
    /// The persistence engine's name and data, for entries that have data.
    pub engine: Option<EngineData>,
}

/// What a persistence engine keeps in a template.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct EngineData {
    /// The engine's name (`sip`).
    pub name: String,
    /// Its data, the bytes the engine printed (the Call-ID for `sip`; not always UTF-8).
    pub data: Vec<u8>,
}

impl Conn {
    /// The Call-ID of a `sip` engine's template.
    pub fn call_id(&self) -> Option<&[u8]> {
        self.engine
            .as_ref()
            .filter(|e| e.name == "sip")
            .map(|e| e.data.as_slice())
    }

    /// The entry's line as the kernel prints it, without the newline.
    pub fn to_line(&self) -> Vec<u8> {
        let mut s = String::new();
        let _ = write!(
            s,
            "{:<3} {} {:04X} {} {:04X} {} {:04X} {:<11} {:>7}",
            protocol_name(self.protocol),
            addr_text(self.client.ip()),
            self.client.port(),
            addr_text(self.virtual_addr.ip()),
            self.virtual_addr.port(),
            addr_text(self.dest.ip()),
            self.dest.port(),
            self.state,
            self.expires,
        );
        let mut line = s.into_bytes();
        if let Some(e) = &self.engine {
            line.push(b' ');
            line.extend_from_slice(e.name.as_bytes());
            line.push(b' ');
            line.extend_from_slice(&e.data);
        }
        line
    }

    /// Reads one line (without its newline) as the kernel prints it; `number` names it in
    /// the error.
    pub fn parse_line(line: &[u8], number: usize) -> Result<Conn, ProcError> {
        let bad = |field, found: &[u8]| ProcError::line(PATH, number, field, found);
        let mut rest = line;
        let mut word = |field| {
            let w = next_word(&mut rest);
            if w.is_empty() {
                Err(bad(field, b"end of line"))
            } else {
                Ok(w)
            }
        };
        let proto = word("protocol")?;
        let protocol = parse_protocol(proto).ok_or_else(|| bad("protocol", proto))?;
        let mut endpoint = |addr_field, port_field| -> Result<SocketAddr, ProcError> {
            let a = word(addr_field)?;
            let ip = parse_addr(a).ok_or_else(|| bad(addr_field, a))?;
            let p = word(port_field)?;
            let port = parse_port(p).ok_or_else(|| bad(port_field, p))?;
            Ok(SocketAddr::new(ip, port))
        };
        let client = endpoint("client address", "client port")?;
        let virtual_addr = endpoint("virtual address", "virtual port")?;
        let dest = endpoint("destination address", "destination port")?;
        let state = word("state")?;
        let state = std::str::from_utf8(state).map_err(|_| bad("state", state))?;
        let e = word("expiry")?;
        let expires = parse_decimal(e).ok_or_else(|| bad("expiry", e))?;
        // After the expiry: nothing, or " NAME DATA" with DATA as the engine wrote it.
        let engine = match rest {
            [] => None,
            [b' ', more @ ..] => {
                let (name, data) = match more.iter().position(|&b| b == b' ') {
                    Some(i) => (&more[..i], &more[i + 1..]),
                    None => return Err(bad("engine data", more)),
                };
                let name = std::str::from_utf8(name)
                    .ok()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| bad("engine name", name))?;
                Some(EngineData {
                    name: name.to_owned(),
                    data: data.to_vec(),
                })
            }
            other => return Err(bad("expiry", other)),
        };
        Ok(Conn {
            protocol,
            client,
            virtual_addr,
            dest,
            state: state.to_owned(),
            expires,
            engine,
        })
    }
}

/// The entries of a `/proc/net/ip_vs_conn` as they are read, one result per line: a line
/// that cannot be read is an error, and the next ones are still read.
pub struct Conns<R> {
    lines: Lines<R>,
}

/// The entries of the file's text from `reader` (the heading and blank lines are skipped).
pub fn read<R: BufRead>(reader: R) -> Conns<R> {
    Conns {
        lines: Lines::new(reader, PATH),
    }
}

/// The entries of the calling thread's namespace.
pub fn open() -> Result<Conns<BufReader<File>>, ProcError> {
    open_in(None)
}

/// The entries of another namespace (a descriptor of `/run/netns/NAME` or
/// `/proc/PID/ns/net`), opened by a helper thread; the caller's thread stays where it is.
pub fn open_in_netns(netns: BorrowedFd<'_>) -> Result<Conns<BufReader<File>>, ProcError> {
    open_in(Some(netns))
}

fn open_in(netns: Option<BorrowedFd<'_>>) -> Result<Conns<BufReader<File>>, ProcError> {
    let io = |source: io::Error| ProcError::Io { file: PATH, source };
    super::open("ip_vs_conn", netns)
        .map(|f| read(BufReader::new(f)))
        .map_err(io)
}

impl<R: BufRead> Iterator for Conns<R> {
    type Item = Result<Conn, ProcError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (number, line) = match self.lines.next_line()? {
                Ok(l) => l,
                Err(e) => return Some(Err(e)),
            };
            if line.iter().all(u8::is_ascii_whitespace) || line.starts_with(b"Pro FromIP") {
                continue;
            }
            return Some(Conn::parse_line(line, number));
        }
    }
}

/// The next blank-separated word of `rest`, which keeps what follows it (its blank too).
fn next_word<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let start = rest.iter().position(|&b| b != b' ').unwrap_or(rest.len());
    let tail = &rest[start..];
    let end = tail.iter().position(|&b| b == b' ').unwrap_or(tail.len());
    let (word, after) = tail.split_at(end);
    *rest = after;
    word
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

/// An address as the kernel prints it: `%08X` (IPv4) or `%pI6` (IPv6).
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
