// SPDX-License-Identifier: GPL-2.0

//! What differs between the kernels in IPVS's persistence-engine interface (the rest is in
//! `kmod/compat.rs`).
//!
//! `scripts/build-kmod` probes the kernel tree for `ipvs_rht`: IPVS's per-namespace,
//! resizable connection tables (`struct ip_vs_rht`, Linux 7.1). `hashkey_raw` then gets the
//! table whose bucket it computes, instead of one global seed (`ip_vs_conn_rnd`). The engines
//! never see it: they get a hash seed.

/// The connection table argument IPVS passes to `hashkey_raw`: the table's random seed
/// (`ip_vs_conn_rnd`).
#[cfg(not(ipvs_rht))]
pub(super) type HashTable = u32;

/// The connection table argument IPVS passes to `hashkey_raw`: the table being looked up,
/// hashed into or resized into. Each table has its own random key (`ip_vs_rht_alloc()`), and
/// during a resize a lookup hashes once for the old table and once for the new.
#[cfg(ipvs_rht)]
pub(super) type HashTable = *mut kernel::bindings::ip_vs_rht;

/// The 32-bit seed of the hash an engine computes for table `t`.
///
/// # Safety
///
/// `t` must be what IPVS passed to `hashkey_raw` (with `ipvs_rht`: a live table, which IPVS
/// keeps alive for the call: under `rcu_read_lock()`, or owned by the resize work).
#[cfg(not(ipvs_rht))]
#[inline]
pub(super) unsafe fn hash_seed(t: HashTable) -> u32 {
    t
}

/// The 32-bit seed of the hash an engine computes for table `t`: the low 32 bits of the
/// table's siphash key, as the kernel's C engine seeds its `jhash()` (`(u32)t->hash_key.key[0]`).
/// IPVS keeps bit 31 of the result for the table's id (`ip_vs_rht_build_hash_key()`) and uses
/// the low bits for the bucket, so the engine's hash must be well mixed in bits 0 to 30, as
/// `jhash()` is.
///
/// # Safety
///
/// `t` must be what IPVS passed to `hashkey_raw` (with `ipvs_rht`: a live table, which IPVS
/// keeps alive for the call: under `rcu_read_lock()`, or owned by the resize work).
#[cfg(ipvs_rht)]
#[inline]
pub(super) unsafe fn hash_seed(t: HashTable) -> u32 {
    // SAFETY: As the caller guarantees, `t` is a live table: IPVS reaches it with
    // `rcu_dereference()` under `rcu_read_lock()` (`ip_vs_conn_hash()` relies on its caller's)
    // or owns it in the resize work. Its key is written once, by `get_random_bytes()` in
    // `ip_vs_rht_alloc()`, before `rcu_assign_pointer()` publishes the table, so a plain read
    // sees it, as the C engine's does.
    let key = unsafe { core::ptr::addr_of!((*t).hash_key.key[0]).read() };
    // CAST: the low 32 bits, as C's `(u32)` cast.
    key as u32
}
