//! The Maglev lookup table of the `sipmh` scheduler (Eisenbud et al., NSDI 2016), with
//! weights, built the same on every director.
//!
//! Each server walks its own permutation of the table's slots, from an offset and a skip
//! that the keyed hash of its id gives; the servers take turns, in id order, each claiming
//! the next free slot on its walk. So the table depends only on the key and on the set of
//! (id, weight), never on the order IPVS lists the servers in, and a server that comes or
//! goes moves about its own share of slots only. A server's number of slots is fixed in
//! advance, in proportion to its weight; turns, scaled from the weights like IPVS's `mh`
//! does, keep the claims interleaved so that every server gets slots early on its walk.
//!
//! Compiled into the kernel module as a module of its crate (`#[path]`, beside
//! `siphash.rs`), so it uses `core` only, allocates nothing and cannot panic: the caller
//! owns the table and the per-server scratch.

use crate::siphash::{siphash, Hasher, SipKey};

/// Slots of every table: a prime (so that every skip walks all slots), > 100 x servers for
/// up to 655 servers (under 1 % imbalance).
pub const TABLE_SIZE: usize = 65_521;

/// Most servers a table holds: `TABLE_SIZE / 100`. Each server's share is a whole number of
/// slots, one more or one fewer than its exact share; past this many equal servers one slot
/// is more than 1 % of a share, the balance the table size was chosen for.
pub const MAX_BACKENDS: usize = TABLE_SIZE / 100;

/// The module's default key (its parameter `hash_key` unset): the 16 ASCII bytes
/// `ipvs-pe-sip:mh:1`. Public, so it spreads calls but does not stop a client who aims
/// Call-IDs at one server; directors set a secret key of their own.
pub const DEFAULT_KEY_BYTES: [u8; 16] = *b"ipvs-pe-sip:mh:1";

/// A slot that no server holds: the table of a service with no server of weight > 0.
pub const EMPTY: u16 = u16::MAX;

/// The table size as the hashes' type.
const SLOTS: u64 = TABLE_SIZE as u64;

/// Turns are weights divided by their gcd and shifted right until they have at most this
/// many bits: a server claims at most 255 slots in a row, and a round stays short.
const TURN_BITS: u32 = 8;

/// `AF_INET`, the family byte of an IPv4 [`BackendId`].
pub const AF_INET: u8 = 2;
/// `AF_INET6`, the family byte of an IPv6 [`BackendId`].
pub const AF_INET6: u8 = 10;

/// A server as every director names it: family, address, port, the same bytes everywhere.
///
/// 19 bytes: the family ([`AF_INET`] or [`AF_INET6`]), 16 address bytes (an IPv4 address
/// in the first 4, then zeros) and the port in network order. Ids order by these bytes,
/// the order the table is built in.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct BackendId([u8; 19]);

impl BackendId {
    /// An IPv4 server.
    #[must_use]
    pub const fn v4(addr: [u8; 4], port: u16) -> Self {
        let [a0, a1, a2, a3] = addr;
        let [p0, p1] = port.to_be_bytes();
        Self([
            AF_INET, a0, a1, a2, a3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, p0, p1,
        ])
    }

    /// An IPv6 server.
    #[must_use]
    pub const fn v6(addr: [u8; 16], port: u16) -> Self {
        let [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15] = addr;
        let [p0, p1] = port.to_be_bytes();
        Self([
            AF_INET6, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, p0, p1,
        ])
    }

    /// The id's bytes, what the hashes read.
    #[must_use]
    pub const fn as_bytes(&self) -> &[u8; 19] {
        &self.0
    }
}

/// A server of the table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Backend {
    /// Who it is.
    pub id: BackendId,
    /// Its last non-zero weight: a server set to weight 0 keeps its slots (lookups skip it
    /// while it is unavailable), so that weight 0 and back moves no other call.
    pub weight: u32,
}

/// Per-backend working space of [`populate`]; the caller allocates `backends.len()` of them.
#[derive(Default, Clone, Copy, Debug)]
pub struct Scratch {
    /// The backend's index in `backends`; the scratch is sorted by the backends' ids.
    index: u16,
    /// The next slot of its permutation.
    next: u32,
    /// The step of its permutation, in `1..TABLE_SIZE`.
    skip: u32,
    /// Slots it claims in a row, each round.
    turns: u32,
    /// Slots it has still to claim.
    quota: u32,
}

/// Why [`populate`] left the table as it was.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum PopulateError {
    /// The table does not have [`TABLE_SIZE`] slots.
    TableSize,
    /// There is less scratch than backends.
    ScratchSize,
    /// There are more than [`MAX_BACKENDS`] backends.
    TooManyBackends,
}

/// Fills `table` (len [`TABLE_SIZE`]) with indices into `backends`.
///
/// The result does not depend on the order of `backends`: the same ids and weights in any
/// order map every slot to the same id. A backend's share of slots is its weight's share of
/// the total, rounded to a whole slot (the slots left by rounding go one each to the first
/// weighted backends in id order); weight 0 gets no slots; if no backend has weight > 0,
/// every slot is [`EMPTY`]. Backends with the same id and weight are interchangeable.
///
/// Work: one hash per backend, a sort of the scratch, and the backends' walks along their
/// permutations, about `ln(TABLE_SIZE)` steps a slot on average and never more than
/// `TABLE_SIZE` steps a backend (a few milliseconds in all, optimised, for up to 655).
pub fn populate(
    key: &SipKey,
    backends: &[Backend],
    scratch: &mut [Scratch],
    table: &mut [u16],
) -> Result<(), PopulateError> {
    if table.len() != TABLE_SIZE {
        return Err(PopulateError::TableSize);
    }
    if backends.len() > MAX_BACKENDS {
        return Err(PopulateError::TooManyBackends);
    }
    let work = scratch
        .get_mut(..backends.len())
        .ok_or(PopulateError::ScratchSize)?;
    table.fill(EMPTY);

    // The backends in id order: the order every director takes turns in.
    for (index, (s, b)) in (0..=u16::MAX).zip(work.iter_mut().zip(backends)) {
        let (offset, skip) = permutation(key, &b.id);
        *s = Scratch {
            index,
            next: offset,
            skip,
            ..Scratch::default()
        };
    }
    work.sort_unstable_by_key(|s| backends.get(usize::from(s.index)).map(|b| (b.id, b.weight)));

    let weight = |s: &Scratch| backends.get(usize::from(s.index)).map_or(0, |b| b.weight);
    // At most MAX_BACKENDS weights of 32 bits: the sum cannot reach 2^64.
    let total = work
        .iter()
        .fold(0u64, |sum, s| sum.saturating_add(u64::from(weight(s))));
    if total == 0 {
        return Ok(());
    }
    let (gcd, shift) = turn_scale(work.iter().map(weight));
    let mut left = SLOTS;
    for s in work.iter_mut() {
        let w = weight(s);
        let quota = (u64::from(w).saturating_mul(SLOTS))
            .checked_div(total)
            .unwrap_or(0);
        s.quota = u32::try_from(quota).unwrap_or(0);
        left = left.saturating_sub(quota);
        s.turns = match w.checked_div(gcd) {
            Some(t) if t > 0 => (t >> shift).max(1),
            _ => 0,
        };
    }
    // What rounding left (fewer slots than weighted backends), one each, in id order.
    for s in work.iter_mut().filter(|s| s.turns > 0) {
        if left == 0 {
            break;
        }
        s.quota = s.quota.saturating_add(1);
        left = left.saturating_sub(1);
    }

    // Rounds: each backend with slots still to claim claims up to its turns of them. The
    // quotas add up to the table, so it is full when they are all claimed.
    loop {
        let mut claimed = false;
        for s in work.iter_mut() {
            for _ in 0..s.turns.min(s.quota) {
                if !claim(table, s) {
                    break;
                }
                s.quota = s.quota.saturating_sub(1);
                claimed = true;
            }
        }
        if !claimed {
            return Ok(());
        }
    }
}

/// Gives `s` the next free slot on its permutation; false if it walked all of them.
fn claim(table: &mut [u16], s: &mut Scratch) -> bool {
    for _ in 0..TABLE_SIZE {
        let slot = s.next;
        // `next` and `skip` are below the table size, so their sum fits and wraps once.
        let step = s.next.wrapping_add(s.skip);
        s.next = step.checked_sub(SLOTS as u32).unwrap_or(step);
        if let Some(entry) = table.get_mut(slot as usize) {
            if *entry == EMPTY {
                *entry = s.index;
                return true;
            }
        }
    }
    false
}

/// The gcd of the non-zero weights, and the shift that leaves at most [`TURN_BITS`] bits
/// to the largest of them divided by it: the turns are `(weight / gcd) >> shift`, at least 1.
fn turn_scale(weights: impl Iterator<Item = u32> + Clone) -> (u32, u32) {
    let gcd = weights.clone().fold(0, gcd);
    let top = weights
        .map(|w| w.checked_div(gcd).unwrap_or(0))
        .max()
        .unwrap_or(0);
    let bits = u32::BITS.saturating_sub(top.leading_zeros());
    (gcd, bits.saturating_sub(TURN_BITS))
}

/// Euclid's greatest common divisor; `gcd(0, w) == w`.
fn gcd(mut a: u32, mut b: u32) -> u32 {
    while let Some(r) = a.checked_rem(b) {
        (a, b) = (b, r);
    }
    a
}

/// A backend's walk through the table: its first slot and its step, from the keyed hash of
/// its id (never its position), the step never 0 so that the walk visits every slot.
fn permutation(key: &SipKey, id: &BackendId) -> (u32, u32) {
    let mut h = Hasher::new(key);
    h.write(b"sipmh permutation ");
    h.write(id.as_bytes());
    let h = h.finish();
    let offset = (h >> 32) % SLOTS;
    let skip = ((h & 0xffff_ffff) % (SLOTS - 1)).wrapping_add(1);
    (offset as u32, skip as u32)
}

/// The hash a Call-ID is scheduled by: SipHash-2-4 of its bytes (as the parser's `call_id`
/// returns them), which a [`Hasher`] fed the Call-ID in pieces computes too.
#[must_use]
pub fn call_id_hash(key: &SipKey, call_id: &[u8]) -> u64 {
    siphash(key, call_id)
}

/// The hash a datagram without a usable Call-ID is scheduled by: SipHash-2-4 of its source
/// address and port as a [`BackendId`]'s bytes.
#[must_use]
pub fn source_hash(key: &SipKey, source: &BackendId) -> u64 {
    siphash(key, source.as_bytes())
}

/// The table's choice for `hash` (slot `hash % TABLE_SIZE`); `None` when that slot is
/// [`EMPTY`] or beyond `table`.
#[must_use]
pub fn lookup(table: &[u16], hash: u64) -> Option<u16> {
    let slot = (hash % SLOTS) as usize;
    table.get(slot).copied().filter(|&e| e != EMPTY)
}

/// When the table's choice is unavailable (weight 0 now, or overloaded): the available
/// backend with the highest keyed rendezvous score for `hash`, ties to the higher id.
///
/// Every director computes the same answer from the same backends in any order, and a
/// backend that becomes unavailable moves only the calls it would have taken. The scores
/// ignore weights (weighing them needs logarithms). `available(i)` says whether
/// `backends[i]` may take new calls; `None` when none may.
pub fn fallback(
    key: &SipKey,
    hash: u64,
    backends: &[Backend],
    available: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut best: Option<(u64, BackendId, usize)> = None;
    for (i, b) in backends.iter().enumerate() {
        if !available(i) {
            continue;
        }
        let score = rendezvous_score(key, hash, &b.id);
        match best {
            Some((s, id, _)) if (s, id) >= (score, b.id) => {}
            _ => best = Some((score, b.id, i)),
        }
    }
    best.map(|(_, _, i)| i)
}

/// The table's choice for `hash` if `available` says it may take the call, else
/// [`fallback`]'s: what the scheduler does with a new call.
pub fn choose(
    key: &SipKey,
    table: &[u16],
    hash: u64,
    backends: &[Backend],
    available: impl Fn(usize) -> bool,
) -> Option<usize> {
    match lookup(table, hash).map(usize::from) {
        Some(i) if i < backends.len() && available(i) => Some(i),
        _ => fallback(key, hash, backends, available),
    }
}

/// The rendezvous score of one backend for one hash.
fn rendezvous_score(key: &SipKey, hash: u64, id: &BackendId) -> u64 {
    let mut h = Hasher::new(key);
    h.write(b"sipmh rendezvous ");
    h.write(&hash.to_le_bytes());
    h.write(id.as_bytes());
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gcd_of_weights() {
        assert_eq!(gcd(0, 0), 0);
        assert_eq!(gcd(0, 12), 12);
        assert_eq!(gcd(12, 18), 6);
        assert_eq!(gcd(u32::MAX, u32::MAX - 1), 1);
    }

    #[test]
    fn turns_have_at_most_turn_bits() {
        for weights in [
            &[100, 200, 300][..],
            &[1, u32::MAX],
            &[0, 7],
            &[255, 256],
            &[0],
        ] {
            let (g, shift) = turn_scale(weights.iter().copied());
            for &w in weights {
                let t = w.checked_div(g).unwrap_or(0) >> shift;
                assert!(t < 1 << TURN_BITS, "{weights:?}: {t}");
            }
            let top = weights.iter().max().unwrap().checked_div(g).unwrap_or(0) >> shift;
            assert!(
                shift == 0 || top >= 1 << (TURN_BITS - 1),
                "{weights:?}: no bit lost needlessly"
            );
        }
        assert_eq!(turn_scale([100, 200, 300].into_iter()), (100, 0));
    }

    #[test]
    fn a_walk_visits_every_slot_once() {
        let key = SipKey::from_bytes([7; 16]);
        let (offset, skip) = permutation(&key, &BackendId::v4([192, 0, 2, 1], 5060));
        assert!(offset < SLOTS as u32 && (1..SLOTS as u32).contains(&skip));
        let mut table = [0u16; TABLE_SIZE];
        table.fill(EMPTY);
        let mut s = Scratch {
            next: offset,
            skip,
            ..Scratch::default()
        };
        for _ in 0..TABLE_SIZE {
            assert!(claim(&mut table, &mut s));
        }
        assert!(!claim(&mut table, &mut s), "a full table has no slot left");
        assert_eq!(s.next, offset, "back where it started");
    }
}
