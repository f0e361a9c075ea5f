// SPDX-License-Identifier: GPL-2.0

//! IPVS scheduler `sipmh`: Maglev hashing of the SIP Call-ID. The module `ip_vs_sipmh` (see
//! `kmod/Kbuild`); `ipvsadm -s sipmh` loads it.
//!
//! A new call goes to the server that a Maglev table, built from the service's servers and
//! weights, gives for the keyed hash of its Call-ID. Every director that has the same servers,
//! weights and key builds the same table, whatever order the servers were added in, so
//! directors behind ECMP send each call to the same server without sharing any state; adding
//! or removing a server moves few calls. A datagram without a usable Call-ID is scheduled by
//! its source address and port. The rules, the table's size and the key are in `docs/sipmh.md`.

use kernel::alloc::{flags, KVVec, KVec};
use kernel::c_str;
use kernel::prelude::*;

// The parser and the table are the `ipvs-pe-sip` crate's own source files, compiled here as
// well, so that the module runs the code the user-space tests and the `ipvs` crate's model
// exercise.
/// SIP Call-ID extraction (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/callid.rs"]
pub mod callid;
/// The Maglev table (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/maglev.rs"]
pub mod maglev;
/// SipHash-2-4 (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/siphash.rs"]
pub mod siphash;
// Beside this folder: the abstraction (`sched/`, `param.rs`, and `compat.rs` for what differs
// between kernels).
#[path = "../compat.rs"]
mod compat;
#[path = "../param.rs"]
mod param;
#[path = "../sched/mod.rs"]
mod sched;

use core::sync::atomic::{AtomicU64, Ordering};
use maglev::{Backend, BackendId, Scratch, EMPTY, TABLE_SIZE};
use sched::{Dest, DestInfo, Dests, Packet, Scheduler, AF_INET6};
use siphash::SipKey;

sched::module_ipvs_scheduler! {
    scheduler: SipMh,
    name: "ip_vs_sipmh",
    authors: ["ipvs-pe-sip developers"],
    description: "IPVS scheduler: Maglev hashing of the SIP Call-ID",
    license: "GPL",
}

param::charp_param!(
    HASH_KEY,
    "hash_key",
    0o400,
    "Key of the Call-ID hash: 32 hex digits, the same on every director (default: a fixed key)"
);

/// The key in use: set by the module's init from `hash_key`, before the scheduler is
/// registered, and never again (the parameter is not writable at run time).
static KEY: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];

/// Longest `hash_key` value read: 32 hex digits; one more byte tells a longer one.
const KEY_HEX_MAX: usize = 33;

/// The scheduler.
struct SipMh;

/// A service's table.
struct Table {
    key: SipKey,
    backends: KVec<Backend>,
    slots: KVVec<u16>,
}

/// How every director names a server: family, address and port.
fn backend_id(af: u16, addr: &[u8; 16], port: u16) -> BackendId {
    if af == AF_INET6 {
        BackendId::v6(*addr, port)
    } else {
        let [a, b, c, d, ..] = *addr;
        BackendId::v4([a, b, c, d], port)
    }
}

/// The `hash_key` parameter, if given: up to [`KEY_HEX_MAX`] bytes of it.
fn key_param(out: &mut [u8; KEY_HEX_MAX]) -> Option<&[u8]> {
    let p = HASH_KEY.load(Ordering::Relaxed);
    if p.is_null() {
        return None;
    }
    let mut n = 0;
    while n < KEY_HEX_MAX {
        // SAFETY: The loader set `p` to a NUL-terminated copy of the value (`param_set_charp()`)
        // that stays until the module is unloaded: the parameter's mode (0400) lets no one
        // write it through sysfs, which would free it while this reads. The loop stops at its
        // NUL.
        let b = unsafe { p.add(n).read() };
        if b == 0 {
            break;
        }
        let Some(slot) = out.get_mut(n) else { break };
        *slot = b;
        n += 1;
    }
    out.get(..n)
}

/// The key every table is built with, as set at init.
fn key() -> SipKey {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&KEY[0].load(Ordering::Relaxed).to_le_bytes());
    b[8..].copy_from_slice(&KEY[1].load(Ordering::Relaxed).to_le_bytes());
    SipKey::from_bytes(b)
}

/// The hash a packet is scheduled by: its Call-ID's, or its source address and port's.
fn packet_hash(key: &SipKey, packet: &Packet<'_>) -> u64 {
    if let Some(payload) = packet.udp_payload() {
        if let Ok(id) = callid::call_id(&payload) {
            return maglev::call_id_hash(key, id);
        }
    }
    let source = backend_id(
        packet.af(),
        &packet.source_addr(),
        packet.source_port().unwrap_or(0),
    );
    maglev::source_hash(key, &source)
}

impl Scheduler for SipMh {
    const NAME: &'static CStr = c_str!("sipmh");

    type State = Table;

    fn init() -> Result {
        let mut buf = [0u8; KEY_HEX_MAX];
        let bytes = match key_param(&mut buf) {
            None => maglev::DEFAULT_KEY_BYTES,
            Some(hex) => match SipKey::from_hex(hex) {
                Some(k) => k.to_bytes(),
                None => {
                    pr_err!("hash_key must be 32 hex digits (16 bytes)\n");
                    return Err(EINVAL);
                }
            },
        };
        let (lo, hi) = bytes.split_at(8);
        let word = |s: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(s);
            u64::from_le_bytes(w)
        };
        KEY[0].store(word(lo), Ordering::Relaxed);
        KEY[1].store(word(hi), Ordering::Relaxed);
        Ok(())
    }

    fn build(dests: &[DestInfo]) -> Result<Table> {
        let key = key();
        let mut backends = KVec::with_capacity(dests.len(), flags::GFP_KERNEL)?;
        for d in dests {
            backends.push(
                Backend {
                    id: backend_id(d.af, &d.addr, d.port),
                    // A server of weight 0 keeps the slots of its last weight.
                    weight: u32::try_from(d.last_weight).unwrap_or(0),
                },
                flags::GFP_KERNEL,
            )?;
        }
        let mut scratch = KVec::with_capacity(dests.len(), flags::GFP_KERNEL)?;
        scratch.extend_with(dests.len(), Scratch::default(), flags::GFP_KERNEL)?;
        let mut slots = KVVec::with_capacity(TABLE_SIZE, flags::GFP_KERNEL)?;
        slots.extend_with(TABLE_SIZE, EMPTY, flags::GFP_KERNEL)?;
        if let Err(e) = maglev::populate(&key, &backends, &mut scratch, &mut slots) {
            pr_warn!(
                "cannot build a table for {} servers ({:?}; at most {}): the service keeps the \
                 table it had\n",
                dests.len(),
                e,
                maglev::MAX_BACKENDS
            );
            return Err(E2BIG);
        }
        Ok(Table {
            key,
            backends,
            slots,
        })
    }

    fn schedule<'a>(table: &Table, dests: Dests<'a>, packet: &Packet<'_>) -> Option<&'a Dest> {
        let hash = packet_hash(&table.key, packet);
        let available = |i: usize| dests.get(i).is_some_and(Dest::is_available);
        let i = maglev::choose(&table.key, &table.slots, hash, &table.backends, available)?;
        // A second read of the slot: only a `del_dest` that could not rebuild the state nulls
        // it, and if that happened in between, this packet gets no destination and IPVS drops
        // it, as it does when a service has none.
        dests.get(i)
    }
}
