//! `/proc/net/ip_vs_conn_sync`: the entries of `/proc/net/ip_vs_conn` with their origin,
//! this director's (`LOCAL`) or the sync daemon's (`SYNC`), and without the engine's data.
//!
//! The origin tells a template that the sync daemon made, which can point at a server of
//! weight 0 (a drain must wait for those too). The kernel (`ip_vs_conn_sync_seq_show()`, the
//! same in 6.12 and 7.3) prints the shared columns, then `%-6s` origin and `%7u` expiry:
//!
//! ```text
//! Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires
//! UDP 00000000 0000 0A0403C0 13C4 0A04040B 13C4 NONE        SYNC        58
//! ```

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::os::fd::BorrowedFd;

use super::fields::{head_text, Fields};
use super::{Entries, ProcError};
use crate::Protocol;

/// Where the kernel lists them.
pub const PATH: &str = "/proc/net/ip_vs_conn_sync";

/// The heading line the kernel prints first.
pub const HEADING: &str =
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Origin Expires";

/// Who made an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// This director, from a packet (`LOCAL`).
    Local,
    /// The sync daemon, from another director's message (`SYNC`: `IP_VS_CONN_F_SYNC`).
    Sync,
}

impl Origin {
    /// The kernel's word.
    pub fn name(self) -> &'static str {
        match self {
            Origin::Local => "LOCAL",
            Origin::Sync => "SYNC",
        }
    }
}

/// One connection or persistence template, with its origin.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SyncConn {
    /// Its protocol, as in [`Conn::protocol`](super::conn::Conn::protocol).
    pub protocol: Protocol,
    /// The client's address and port.
    pub client: SocketAddr,
    /// The virtual service's address and port.
    pub virtual_addr: SocketAddr,
    /// The real server's address and port.
    pub dest: SocketAddr,
    /// The state as the kernel names it.
    pub state: String,
    /// Who made it.
    pub origin: Origin,
    /// Whole seconds until it expires, unless traffic refreshes it.
    pub expires: u32,
}

impl SyncConn {
    /// The entry's line as the kernel prints it, without the newline.
    pub fn to_line(&self) -> String {
        let head = head_text(
            self.protocol,
            self.client,
            self.virtual_addr,
            self.dest,
            &self.state,
        );
        format!("{head} {:<6} {:>7}", self.origin.name(), self.expires)
    }

    /// Reads one line (without its newline) as the kernel prints it; `number` names it in
    /// the error.
    pub fn parse_line(line: &[u8], number: usize) -> Result<SyncConn, ProcError> {
        let mut f = Fields::new(line, PATH, number);
        let head = f.head()?;
        let origin = match f.word("origin")? {
            b"LOCAL" => Origin::Local,
            b"SYNC" => Origin::Sync,
            other => return Err(f.bad("origin", other)),
        };
        let expires = f.decimal("expiry")?;
        if !f.rest.is_empty() {
            return Err(f.bad("end of line", f.rest));
        }
        Ok(SyncConn {
            protocol: head.protocol,
            client: head.client,
            virtual_addr: head.virtual_addr,
            dest: head.dest,
            state: head.state,
            origin,
            expires,
        })
    }
}

/// The entries of a `/proc/net/ip_vs_conn_sync` as they are read, one result per line.
pub type SyncConns<R> = Entries<R, SyncConn>;

/// The entries of the file's text from `reader`.
pub fn read<R: BufRead>(reader: R) -> SyncConns<R> {
    Entries::new(reader, PATH, SyncConn::parse_line)
}

/// The entries of the calling thread's namespace.
pub fn open() -> Result<SyncConns<BufReader<File>>, ProcError> {
    super::open(PATH, None).map(read)
}

/// The entries of another namespace, opened by a helper thread.
pub fn open_in_netns(netns: BorrowedFd<'_>) -> Result<SyncConns<BufReader<File>>, ProcError> {
    super::open(PATH, Some(netns)).map(read)
}
