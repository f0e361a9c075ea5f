//! A user-space model of the `sipmh` scheduler: which server a new call goes to.
//!
//! The model runs the module's own code (the `ipvs-pe-sip` crate's `maglev.rs` and
//! `siphash.rs`), so given the servers, their weights and the key it builds the table the
//! module builds and makes the module's choice: the table's server for the Call-ID's hash,
//! or, when that server takes no new call, the rendezvous fallback among those that do.
//!
//! It needs two weights per server, and a listing gives only one:
//! - the **last non-zero weight** builds the table (the kernel's `last_weight`: a server
//!   set to weight 0 keeps its slots, so that weight 0 and back moves no other call). IPVS
//!   does not report it; it is the weight the operator configured (keepalived's `weight`,
//!   or the weight before `ipvsadm-rs --drain` set 0). A server added at weight 0 has none;
//! - the **current weight** (`ipvsadm-rs -Ln`, [`Destination::weight`]) says whether the
//!   server takes new calls.
//!
//! [`Server::from`] a listed [`Destination`] takes its weight for both, right for every
//! server not at weight 0; give a drained one its configured weight with
//! [`Server::last_weight`]. The module also skips an overloaded server (its upper
//! connection threshold reached), which a listing cannot tell exactly:
//! [`Maglev::choose_with`] takes that from the caller.

use std::fmt;
use std::net::SocketAddr;

use ipvs_pe_sip::maglev::{self as table, Backend, BackendId, Scratch, EMPTY};
pub use ipvs_pe_sip::maglev::{DEFAULT_KEY_BYTES, MAX_BACKENDS, TABLE_SIZE};
pub use ipvs_pe_sip::siphash::SipKey;

use crate::Destination;

/// The module's default key, used when its parameter `hash_key` is not set.
pub const DEFAULT_KEY: SipKey = SipKey::from_bytes(DEFAULT_KEY_BYTES);

/// What the scheduler reads of one destination of the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Server {
    /// The server's address and port.
    pub addr: SocketAddr,
    /// Its last non-zero weight, which its share of the table is built from.
    pub last_weight: u32,
    /// Its weight now: 0 takes it out of new calls, which then fall back to another.
    pub weight: u32,
}

impl From<&Destination> for Server {
    /// A listed server, its weight taken as its last non-zero weight too.
    fn from(d: &Destination) -> Self {
        Server {
            addr: d.addr,
            last_weight: d.weight,
            weight: d.weight,
        }
    }
}

/// Why there is no model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MaglevError {
    /// The key is not 32 hex digits.
    BadKey(String),
    /// More servers than a table holds ([`MAX_BACKENDS`]); the module builds no table either.
    TooManyServers(usize),
}

impl fmt::Display for MaglevError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MaglevError::BadKey(k) => write!(f, "hash key {k:?} is not 32 hex digits"),
            MaglevError::TooManyServers(n) => {
                write!(f, "{n} servers: a sipmh table holds at most {MAX_BACKENDS}")
            }
        }
    }
}

impl std::error::Error for MaglevError {}

/// The key as the module parameter `hash_key` takes it (32 hex digits).
///
/// Also reads what `/sys/module/ip_vs_sipmh/parameters/hash_key` shows to root: the same
/// with a newline, or `(null)` when the parameter is not set, which is [`DEFAULT_KEY`].
pub fn parse_key(s: &str) -> Result<SipKey, MaglevError> {
    match s.trim() {
        "(null)" => Ok(DEFAULT_KEY),
        hex => SipKey::from_hex(hex.as_bytes()).ok_or_else(|| MaglevError::BadKey(s.into())),
    }
}

/// The key as 32 lower-case hex digits, what `hash_key=` takes.
pub fn key_hex(key: &SipKey) -> String {
    key.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// How every director names a server or a source: family, address, port.
pub fn backend_id(addr: SocketAddr) -> BackendId {
    match addr {
        SocketAddr::V4(a) => BackendId::v4(a.ip().octets(), a.port()),
        SocketAddr::V6(a) => BackendId::v6(a.ip().octets(), a.port()),
    }
}

/// The scheduler's answer for one hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice<'a> {
    /// The table's server, whether or not it takes new calls.
    pub primary: Option<&'a Server>,
    /// Where the new call goes: the primary, or the fallback when the primary takes no new
    /// call; `None` when no server takes new calls.
    pub server: Option<&'a Server>,
}

impl Choice<'_> {
    /// Whether the call went elsewhere than the table's server.
    pub fn fell_back(&self) -> bool {
        self.primary != self.server
    }
}

/// One service's `sipmh` table, as the module builds it.
#[derive(Clone, Debug)]
pub struct Maglev {
    key: SipKey,
    servers: Vec<Server>,
    backends: Vec<Backend>,
    table: Vec<u16>,
}

impl Maglev {
    /// The table of `servers` under `key`. The order of the servers does not matter: every
    /// director that has the same ones builds the same table.
    pub fn new(
        key: SipKey,
        servers: impl IntoIterator<Item = Server>,
    ) -> Result<Self, MaglevError> {
        let servers: Vec<Server> = servers.into_iter().collect();
        let backends: Vec<Backend> = servers
            .iter()
            .map(|s| Backend {
                id: backend_id(s.addr),
                weight: s.last_weight,
            })
            .collect();
        let mut scratch = vec![Scratch::default(); backends.len()];
        let mut slots = vec![EMPTY; TABLE_SIZE];
        table::populate(&key, &backends, &mut scratch, &mut slots)
            .map_err(|_| MaglevError::TooManyServers(servers.len()))?;
        Ok(Maglev {
            key,
            servers,
            backends,
            table: slots,
        })
    }

    /// The table of a service's listed destinations (see [`Server::from`] for weight 0).
    pub fn from_destinations<'a>(
        key: SipKey,
        destinations: impl IntoIterator<Item = &'a Destination>,
    ) -> Result<Self, MaglevError> {
        Self::new(key, destinations.into_iter().map(Server::from))
    }

    /// The servers, in the order given.
    pub fn servers(&self) -> &[Server] {
        &self.servers
    }

    /// The key the table was built with.
    pub fn key(&self) -> SipKey {
        self.key
    }

    /// Slots of the table each server holds, in the order of [`Maglev::servers`].
    pub fn slots(&self) -> Vec<usize> {
        let mut n = vec![0; self.servers.len()];
        for &e in self.table.iter().filter(|&&e| e != EMPTY) {
            if let Some(c) = n.get_mut(usize::from(e)) {
                *c += 1;
            }
        }
        n
    }

    /// Where a new call with this Call-ID (the header's value, as the engine reads it) goes.
    pub fn choose(&self, call_id: &[u8]) -> Choice<'_> {
        self.choose_hash(table::call_id_hash(&self.key, call_id), |s| s.weight > 0)
    }

    /// Where a new datagram without a usable Call-ID from `source` goes.
    pub fn choose_source(&self, source: SocketAddr) -> Choice<'_> {
        let hash = table::source_hash(&self.key, &backend_id(source));
        self.choose_hash(hash, |s| s.weight > 0)
    }

    /// [`Maglev::choose`] with the caller's word on which servers take new calls (the module
    /// takes those of weight > 0 that are not overloaded).
    pub fn choose_with(&self, call_id: &[u8], available: impl Fn(&Server) -> bool) -> Choice<'_> {
        self.choose_hash(table::call_id_hash(&self.key, call_id), available)
    }

    fn choose_hash(&self, hash: u64, available: impl Fn(&Server) -> bool) -> Choice<'_> {
        let up = |i: usize| self.servers.get(i).is_some_and(&available);
        let chosen = table::choose(&self.key, &self.table, hash, &self.backends, up);
        Choice {
            primary: table::lookup(&self.table, hash)
                .and_then(|i| self.servers.get(usize::from(i))),
            server: chosen.and_then(|i| self.servers.get(i)),
        }
    }
}
