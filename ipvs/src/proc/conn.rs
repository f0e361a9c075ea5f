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

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

use super::fields::{head_text, Fields};
use super::{Entries, ProcError};
use crate::Protocol;

pub use super::fields::protocol_name;

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
        let head = head_text(
            self.protocol,
            self.client,
            self.virtual_addr,
            self.dest,
            &self.state,
        );
        let mut line = format!("{head} {:>7}", self.expires).into_bytes();
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
        let mut f = Fields::new(line, PATH, number);
        let head = f.head()?;
        let expires = f.decimal("expiry")?;
        // After the expiry: nothing, or " NAME DATA" with DATA as the engine wrote it.
        let engine = match f.rest {
            [] => None,
            [b' ', more @ ..] => {
                let Some(i) = more.iter().position(|&b| b == b' ') else {
                    return Err(f.bad("engine data", more));
                };
                let (name, data) = (&more[..i], &more[i + 1..]);
                let name = std::str::from_utf8(name)
                    .ok()
                    .filter(|n| !n.is_empty())
                    .ok_or_else(|| f.bad("engine name", name))?;
                Some(EngineData {
                    name: name.to_owned(),
                    data: data.to_vec(),
                })
            }
            other => return Err(f.bad("expiry", other)),
        };
        Ok(Conn {
            protocol: head.protocol,
            client: head.client,
            virtual_addr: head.virtual_addr,
            dest: head.dest,
            state: head.state,
            expires,
            engine,
        })
    }
}

/// The entries of a `/proc/net/ip_vs_conn` as they are read, one result per line.
pub type Conns<R> = Entries<R, Conn>;

/// The entries of the file's text from `reader`.
pub fn read<R: BufRead>(reader: R) -> Conns<R> {
    Entries::new(reader, PATH, Conn::parse_line)
}

/// The entries of the calling thread's namespace.
pub fn open() -> Result<Conns<BufReader<File>>, ProcError> {
    super::open(PATH, None).map(read)
}

/// The entries of another namespace (a descriptor of `/run/netns/NAME` or
/// `/proc/PID/ns/net`), opened by a helper thread; the caller's thread stays where it is.
pub fn open_in_netns(netns: BorrowedFd<'_>) -> Result<Conns<BufReader<File>>, ProcError> {
    super::open(PATH, Some(netns)).map(read)
}
