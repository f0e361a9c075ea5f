// SPDX-License-Identifier: GPL-2.0

//! A namespace's media table: where each client said, in the SDP of a call, it would send
//! that call's media from, and the call's Call-ID, so that a datagram from there (which has no
//! Call-ID) is given the call's and follows it to its server. See `docs/engine.md`, "Media
//! follows its call".
//!
//! Safe Rust on owned boxes; the lock that guards a table ([`crate::sync::BhSpinLock`]) and
//! its place in each namespace ([`crate::pernet_counters`]) are the abstraction's.
//!
//! Layout: [`CLIENT_BUCKETS`] chains of clients (an unmasked client address), hashed with a
//! random seed of the namespace so that no client can aim at a chain; each client has
//! [`PORT_BUCKETS`] chains of its entries (one an endpoint: service and client port), hashed
//! by port. A client's record goes with its last entry. Every bound is checked where an entry
//! would be added; nothing here allocates but an entry or a client, in atomic context.

use crate::jhash::jhash;
use crate::pe::PEDATA_MAXLEN;
use crate::sync::{jiffies, random_u32, HZ};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::bindings;
use kernel::prelude::*;

/// `AF_INET6`, as IPVS stores address families.
// CAST: AF_INET6 is 10, it fits.
const AF_INET6: u16 = bindings::AF_INET6 as u16;

/// Chains of clients in a namespace.
const CLIENT_BUCKETS: usize = 256;
/// Chains of entries in a client.
const PORT_BUCKETS: usize = 16;

/// Entries in every namespace's table: the sum of their `count`s, kept beside them (each
/// change made under its table's lock). Read without a lock by [`any_entries`], so that a
/// datagram without a Call-ID takes no lock while nothing at all is learnt: a firewall-mark
/// service whose clients send no SDP never meets the lock. 64 bits: 65,536 namespaces at
/// their bound of 65,536 would be 2^32 entries.
static ENTRIES: AtomicU64 = AtomicU64::new(0);

/// Whether any namespace's table may hold an entry. A relaxed read: an entry being learnt on
/// another CPU at this moment may be missed, as it would be by a datagram a moment earlier.
pub(crate) fn any_entries() -> bool {
    ENTRIES.load(Ordering::Relaxed) != 0
}

/// A service as a lookup names it: family, protocol (`IPPROTO_IP` for a firewall mark),
/// virtual address (or mark) and port (0 for a firewall mark or a port-zero service).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Service {
    pub(crate) af: u16,
    pub(crate) protocol: u16,
    pub(crate) vaddr: [u8; 16],
    pub(crate) vport: u16,
}

/// A client's address, unmasked: family and bytes (the first 4 for IPv4, the rest zero).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Client {
    pub(crate) af: u16,
    pub(crate) addr: [u8; 16],
}

/// The bounds and the idle timeout, read from the module's parameters for each operation.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// Most entries in the namespace.
    pub(crate) max_entries: u32,
    /// Most entries of one client address.
    pub(crate) max_per_client: u32,
    /// Seconds an entry lives without a datagram or a message that names it again.
    pub(crate) timeout_secs: u32,
}

impl Limits {
    fn timeout(&self) -> u64 {
        u64::from(self.timeout_secs).saturating_mul(HZ)
    }
}

/// What [`MediaTable::learn`] did with a message's endpoints.
#[derive(Default)]
pub(crate) struct Learnt {
    /// Entries added or renewed.
    pub(crate) learnt: u32,
    /// Endpoints not learnt: a bound reached, or no memory.
    pub(crate) refused: u32,
}

type Link<T> = Option<KBox<T>>;

/// A node of a chain.
trait Node: Sized {
    fn next(&mut self) -> &mut Link<Self>;
    fn next_ref(&self) -> &Link<Self>;
}

/// Removes the nodes of chain `link` that `remove` chooses; returns how many.
fn remove_where<N: Node>(mut link: &mut Link<N>, mut remove: impl FnMut(&N) -> bool) -> u32 {
    let mut n = 0u32;
    loop {
        let gone = match link.as_deref() {
            None => return n,
            Some(node) => remove(node),
        };
        if gone {
            if let Some(mut node) = link.take() {
                *link = node.next().take();
                n = n.saturating_add(1);
            }
        } else {
            match link {
                Some(node) => link = node.next(),
                None => return n,
            }
        }
    }
}

/// The first node of chain `link` that `pred` chooses.
fn find_mut<N: Node>(mut link: &mut Link<N>, pred: impl Fn(&N) -> bool) -> Option<&mut N> {
    // Where it is, then a walk to it: a chain cannot be walked mutably and searched in one
    // loop that returns its borrow.
    let mut at = 0usize;
    let mut walk = link.as_deref();
    loop {
        let node = walk?;
        if pred(node) {
            break;
        }
        at = at.saturating_add(1);
        walk = node.next_ref().as_deref();
    }
    loop {
        let node = link.as_deref_mut()?;
        if at == 0 {
            return Some(node);
        }
        at = at.saturating_sub(1);
        link = node.next();
    }
}

/// An endpoint of a call: a client port on a service, and the call's Call-ID.
struct Entry {
    service: Service,
    port: u16,
    /// When it was learnt or last used (jiffies).
    seen: u64,
    id_len: u8,
    id: [u8; PEDATA_MAXLEN],
    next: Link<Entry>,
}

impl Node for Entry {
    fn next(&mut self) -> &mut Link<Self> {
        &mut self.next
    }
    fn next_ref(&self) -> &Link<Self> {
        &self.next
    }
}

/// A chain is dropped node by node, never by recursion: a client may fill one chain with the
/// whole of its bound, deeper than the kernel's stack would take.
impl Drop for Entry {
    fn drop(&mut self) {
        let mut next = self.next.take();
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
}

impl Entry {
    fn id(&self) -> &[u8] {
        self.id.get(..usize::from(self.id_len)).unwrap_or_default()
    }

    fn expired(&self, now: u64, timeout: u64) -> bool {
        now.wrapping_sub(self.seen) > timeout
    }
}

/// A client address and its entries.
struct ClientEntries {
    client: Client,
    /// Entries in `chains`.
    count: u32,
    /// When its expired entries were last reclaimed at its bound (at most once a second: a
    /// client at its bound must not make each of its messages walk all of its entries).
    swept: u64,
    chains: [Link<Entry>; PORT_BUCKETS],
    next: Link<ClientEntries>,
}

impl Node for ClientEntries {
    fn next(&mut self) -> &mut Link<Self> {
        &mut self.next
    }
    fn next_ref(&self) -> &Link<Self> {
        &self.next
    }
}

/// As for [`Entry`]: the chain of clients node by node (each client's own chains go the same
/// way).
impl Drop for ClientEntries {
    fn drop(&mut self) {
        let mut next = self.next.take();
        while let Some(mut node) = next {
            next = node.next.take();
        }
    }
}

impl ClientEntries {
    /// Removes the entries `remove` chooses; returns how many.
    fn remove_where(&mut self, mut remove: impl FnMut(&Entry) -> bool) -> u32 {
        let mut n = 0u32;
        for chain in self.chains.iter_mut() {
            n = n.saturating_add(remove_where(chain, &mut remove));
        }
        self.count = self.count.saturating_sub(n);
        n
    }
}

/// A namespace's table (see the module documentation).
pub(crate) struct MediaTable {
    seed: u32,
    /// Entries in the namespace.
    count: u32,
    /// The [`CLIENT_BUCKETS`] chains of clients, made at the first endpoint learnt: every
    /// namespace of the host has a table, most never learn anything, and then hold no chains.
    clients: KVec<Link<ClientEntries>>,
    /// The next chain of clients that a learning sweeps of expired entries.
    cursor: usize,
    /// When the whole table was last swept (at most once a second, at the namespace's bound).
    swept: u64,
}

impl crate::pernet_counters::NetState for MediaTable {
    const LOCK_NAME: &'static CStr = kernel::c_str!("ip_vs_pe_sip_rs media table");

    fn new() -> Result<Self> {
        Ok(Self {
            seed: random_u32(),
            count: 0,
            clients: KVec::new(),
            cursor: 0,
            swept: jiffies(),
        })
    }
}

impl MediaTable {
    /// The chain of `port` on `service` among a client's: seeded too, so that a client cannot
    /// put all of its entries in one chain by its choice of ports (it would only slow itself,
    /// but in softirq).
    fn port_chain(&self, service: &Service, port: u16) -> usize {
        let [a, b] = port.to_be_bytes();
        let [c, d] = service.protocol.to_be_bytes();
        let h = jhash(&[a, b, c, d], self.seed.rotate_left(16));
        // CAST: u32 to usize is lossless; the remainder is below PORT_BUCKETS.
        h as usize % PORT_BUCKETS
    }

    /// The chain of `client`.
    fn client_chain(&self, client: &Client) -> usize {
        let n = if client.af == AF_INET6 { 16 } else { 4 };
        let h = jhash(
            client.addr.get(..n).unwrap_or_default(),
            self.seed ^ u32::from(client.af),
        );
        // CAST: u32 to usize is lossless; the remainder is below CLIENT_BUCKETS.
        h as usize % CLIENT_BUCKETS
    }

    /// Makes the chains of clients, if they are not made yet.
    fn make_chains(&mut self) -> Result {
        if !self.clients.is_empty() {
            return Ok(());
        }
        let mut chains = KVec::with_capacity(CLIENT_BUCKETS, GFP_ATOMIC)?;
        for _ in 0..CLIENT_BUCKETS {
            // Within the capacity just reserved: allocates nothing.
            chains.push(None, GFP_ATOMIC)?;
        }
        self.clients = chains;
        Ok(())
    }

    /// Removes the expired entries of `clients` chain `i`, and the clients left without any.
    fn sweep_chain(&mut self, i: usize, now: u64, timeout: u64) {
        let Some(chain) = chain_of(&mut self.clients, i) else {
            return;
        };
        let mut removed = 0u32;
        let mut link = &mut *chain;
        while let Some(c) = link {
            removed = removed.saturating_add(c.remove_where(|e| e.expired(now, timeout)));
            link = &mut c.next;
        }
        remove_where(chain, |c| c.count == 0);
        self.forget(removed);
    }

    /// Takes `n` removed entries off the namespace's count and the global one.
    fn forget(&mut self, n: u32) {
        let n = n.min(self.count);
        self.count = self.count.saturating_sub(n);
        // ENTRIES is the sum of the counts, so it holds at least `n`.
        ENTRIES.fetch_sub(u64::from(n), Ordering::Relaxed);
    }

    /// Learns the endpoints `ports` of `client` on `service` for the call `id`: each an entry,
    /// a new one or one renewed (the port moved to this call if another had it), within the
    /// bounds.
    pub(crate) fn learn(
        &mut self,
        limits: &Limits,
        service: &Service,
        client: &Client,
        ports: impl Iterator<Item = u16>,
        id: &[u8],
    ) -> Learnt {
        let mut out = Learnt::default();
        let now = jiffies();
        let timeout = limits.timeout();
        let Ok(id_len) = u8::try_from(id.len()) else {
            return out;
        };
        let mut stored = [0u8; PEDATA_MAXLEN];
        match stored.get_mut(..id.len()) {
            Some(dst) => dst.copy_from_slice(id),
            None => return out,
        }
        // Nothing can be learnt (a bound of 0): no chains made for it.
        let learns = limits.max_per_client != 0 && limits.max_entries != 0;
        if (self.clients.is_empty() && !learns) || self.make_chains().is_err() {
            // CAST: a count of a message's endpoints, at most `media::MAX_ENDPOINTS`.
            out.refused = ports.count() as u32;
            return out;
        }
        // Reclaims expired entries as it goes: one chain of clients per message learnt.
        let cursor = self.cursor;
        self.cursor = cursor.wrapping_add(1) % CLIENT_BUCKETS;
        self.sweep_chain(cursor, now, timeout);
        let ci = self.client_chain(client);
        for port in ports {
            if self.learn_one(
                limits, now, timeout, ci, service, client, port, &stored, id_len,
            ) {
                out.learnt = out.learnt.saturating_add(1);
            } else {
                out.refused = out.refused.saturating_add(1);
            }
        }
        if let Some(chain) = chain_of(&mut self.clients, ci) {
            remove_where(chain, |c| c.count == 0);
        }
        out
    }

    /// Learns one endpoint; whether it was stored.
    #[allow(clippy::too_many_arguments)]
    fn learn_one(
        &mut self,
        limits: &Limits,
        now: u64,
        timeout: u64,
        ci: usize,
        service: &Service,
        client: &Client,
        port: u16,
        id: &[u8; PEDATA_MAXLEN],
        id_len: u8,
    ) -> bool {
        let pi = self.port_chain(service, port);
        let Some(chain) = chain_of(&mut self.clients, ci) else {
            return false;
        };
        // Known already: renewed, for this call.
        if let Some(c) = find_mut(chain, |c| c.client == *client) {
            if let Some(chain) = c.chains.get_mut(pi) {
                if let Some(e) = find_mut(chain, |e| e.port == port && e.service == *service) {
                    e.id = *id;
                    e.id_len = id_len;
                    e.seen = now;
                    return true;
                }
            }
        }
        // A new entry: within the client's bound (its expired entries reclaimed first), then
        // the namespace's (the whole table swept first, at most once a second).
        let mut freed = 0u32;
        let Some(chain) = chain_of(&mut self.clients, ci) else {
            return false;
        };
        let full = match find_mut(chain, |c| c.client == *client) {
            Some(c) if c.count >= limits.max_per_client => {
                if now.wrapping_sub(c.swept) >= HZ {
                    c.swept = now;
                    freed = c.remove_where(|e| e.expired(now, timeout));
                }
                c.count >= limits.max_per_client
            }
            _ => limits.max_per_client == 0,
        };
        self.forget(freed);
        if full {
            return false;
        }
        if self.count >= limits.max_entries {
            if now.wrapping_sub(self.swept) >= HZ {
                self.swept = now;
                for i in 0..CLIENT_BUCKETS {
                    self.sweep_chain(i, now, timeout);
                }
            }
            if self.count >= limits.max_entries {
                return false;
            }
        }
        let entry = Entry {
            service: *service,
            port,
            seen: now,
            id_len,
            id: *id,
            next: None,
        };
        let Ok(mut entry) = KBox::new(entry, GFP_ATOMIC) else {
            return false;
        };
        let Some(chain) = chain_of(&mut self.clients, ci) else {
            return false;
        };
        if find_mut(chain, |c| c.client == *client).is_none() {
            let record = ClientEntries {
                client: *client,
                count: 0,
                swept: now,
                chains: core::array::from_fn(|_| None),
                next: None,
            };
            let Ok(mut record) = KBox::new(record, GFP_ATOMIC) else {
                return false;
            };
            record.next = chain.take();
            *chain = Some(record);
        }
        let Some(c) = find_mut(chain, |c| c.client == *client) else {
            return false;
        };
        let Some(slot) = c.chains.get_mut(pi) else {
            return false;
        };
        entry.next = slot.take();
        *slot = Some(entry);
        c.count = c.count.saturating_add(1);
        // Below `max_entries` (checked above), so neither count can overflow.
        self.count = self.count.saturating_add(1);
        ENTRIES.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// Ends the call `id` of `client` on `service`: removes its entries; returns how many.
    pub(crate) fn end(&mut self, service: &Service, client: &Client, id: &[u8]) -> u32 {
        let ci = self.client_chain(client);
        let Some(chain) = chain_of(&mut self.clients, ci) else {
            return 0;
        };
        let removed = match find_mut(chain, |c| c.client == *client) {
            Some(c) => c.remove_where(|e| e.service == *service && e.id() == id),
            None => 0,
        };
        remove_where(chain, |c| c.count == 0);
        self.forget(removed);
        removed
    }

    /// The Call-ID learnt for a datagram from `client`'s `port` on `service`, given to
    /// `found` while the table is held; an expired entry is removed and not used.
    pub(crate) fn lookup<R>(
        &mut self,
        limits: &Limits,
        service: &Service,
        client: &Client,
        port: u16,
        found: impl FnOnce(&[u8]) -> R,
    ) -> Option<R> {
        let now = jiffies();
        let timeout = limits.timeout();
        let ci = self.client_chain(client);
        let pi = self.port_chain(service, port);
        let chain = chain_of(&mut self.clients, ci)?;
        let c = find_mut(chain, |c| c.client == *client)?;
        let slot = c.chains.get_mut(pi)?;
        let expired = remove_where(slot, |e| e.expired(now, timeout));
        c.count = c.count.saturating_sub(expired);
        let answer = find_mut(slot, |e| e.port == port && e.service == *service).map(|e| {
            e.seen = now;
            found(e.id())
        });
        if expired != 0 {
            remove_where(chain, |c| c.count == 0);
            self.forget(expired);
        }
        answer
    }
}

/// A namespace's table goes with its entries (the chains drop themselves): they leave the
/// global count.
impl Drop for MediaTable {
    fn drop(&mut self) {
        let n = self.count;
        self.forget(n);
    }
}

/// Chain `i` (taken modulo [`CLIENT_BUCKETS`]) of `clients`; none before the chains are made.
fn chain_of(clients: &mut KVec<Link<ClientEntries>>, i: usize) -> Option<&mut Link<ClientEntries>> {
    clients.get_mut(i % CLIENT_BUCKETS)
}
