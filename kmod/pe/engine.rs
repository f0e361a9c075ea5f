// SPDX-License-Identifier: GPL-2.0

//! The operations of a persistence engine ([`Engine`]) and the C table built from them
//! ([`PeTable`]).
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_pe`).
//!
//! IPVS calls `fill_param`, `ct_match` and `conn_out` from the packet path (softirq, or
//! process context with bottom halves disabled, under `rcu_read_lock()`), `ct_match` also
//! from the sync kthread (`ip_vs_proc_conn()`, process context); `hashkey_raw` from lookups
//! and from hashing a new entry, and also, on Linux 6.12, from timers and process context
//! (`ip_vs_conn_unlink()`, `ip_vs_ct_in_get()` before it takes the RCU lock), on 7.x from the
//! table's resize work (`conn_resize_work_handler()`, a workqueue with bottom halves disabled
//! and bucket spinlocks held); `show_pe_data` from `/proc` readers. None of them may sleep:
//! allocations use `GFP_ATOMIC`.

use super::compat::{hash_seed, HashTable};
use super::registration::engine_module_is_live;
use super::{Conn, ConnOut, HashKey, Lookup, NewConn, PeData, SkBuff};
use super::{PEDATA_MAXLEN, PENAME_MAXLEN, SHOW_BUF};
use crate::compat::{cstr_len, cstr_ptr};
use core::marker::PhantomData;
use core::sync::atomic::AtomicBool;
use kernel::bindings;
use kernel::error::from_result;
use kernel::ffi::{c_char, c_int};
use kernel::prelude::*;
use kernel::types::Opaque;

/// The operations of a persistence engine (`struct ip_vs_pe`).
#[vtable]
pub(crate) trait Engine: 'static {
    /// Name users give to `ipvsadm --pe` (at most `IP_VS_PENAME_MAXLEN - 1` bytes).
    const NAME: &'static CStr;

    /// Longest text `/proc/net/ip_vs_conn` shows of a template's engine data: what
    /// `show_pe_data` returns is cut to this length. The table does not build unless the name
    /// plus this fits the buffer `ip_vs_conn_seq_show()` passes.
    const SHOW_MAXLEN: usize = PEDATA_MAXLEN;

    /// Computes the engine data for a packet scheduled by a persistent service
    /// (`ip_vs_sched_persist()`), or for a real server's packet through `conn_out`
    /// (`ip_vs_new_conn_out()`).
    ///
    /// `Ok(Some(data))` keys the template by `data` (through `ct_match` and `hashkey_raw`);
    /// `Ok(None)` leaves the lookup without engine data: IPVS then compares templates with
    /// its generic rule, which ignores `pe` and `pe_data`, so such a lookup can match a
    /// template that has engine data (an engine that mixes both must tell them apart itself,
    /// for instance with data of its own for the fallback); `Err` makes IPVS drop the packet.
    fn fill_param(param: &Lookup, skb: &mut SkBuff) -> Result<Option<PeData>>;

    /// Whether `ct` is the template for `param` (called only when `param` has engine data):
    /// [`Lookup::matches_template`], which compares what every engine must, and the engine's
    /// own rule for the engine data.
    fn ct_match(param: &Lookup, ct: &Conn) -> bool;

    /// Hash of a template's key for the connection table; the same for a lookup and for the
    /// template it must find (see [`HashKey`]). `seed` is the table's random seed: one for
    /// all of IPVS before Linux 7.1 (`ip_vs_conn_rnd`); since 7.1 each namespace's table has
    /// its own key, a new one at each resize, and this is its low 32 bits, as the C engine
    /// takes it. The hash must be well mixed in its low 31 bits: IPVS takes the bucket from
    /// the low bits and, since 7.1, keeps bit 31 for the table's id.
    fn hashkey_raw(key: &HashKey, seed: u32, inverse: bool) -> u32;

    /// What `/proc/net/ip_vs_conn` shows of a template's engine data `data` (called only for
    /// an entry that has some), after the engine's name; cut to [`Engine::SHOW_MAXLEN`] bytes.
    /// By default the data as it is, as the C engine shows a Call-ID.
    fn show_pe_data(data: &[u8]) -> &[u8] {
        data
    }

    /// Creates a connection for a packet a real server sent first; `None` leaves the packet
    /// as it is (`ip_vs_out_hook()` accepts it unchanged, so a NATed server's packet would
    /// leave with the server's own address).
    fn conn_out(_ctx: ConnOut<'_>) -> Option<NewConn> {
        kernel::build_error!(kernel::error::VTABLE_DEFAULT_ERROR)
    }
}

/// The C entry points of an [`Engine`].
struct Adapter<T: Engine>(PhantomData<T>);

impl<T: Engine> Adapter<T> {
    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_conn_fill_param_persist()` with a parameter block filled by
    /// `ip_vs_conn_fill_param()` (see [`Lookup`]), owned by its caller on the stack, and the
    /// skb being processed.
    unsafe extern "C" fn fill_param(
        p: *mut bindings::ip_vs_conn_param,
        skb: *mut bindings::sk_buff,
    ) -> c_int {
        // `ip_vs_conn_fill_param()` sets `pe_data` but not `pe_data_len`, which the callers
        // then copy into the template (`ip_vs_conn_new()`): set both, whatever the engine
        // answers, so that no template carries an undefined length.
        // SAFETY: `p` is valid and exclusively ours during the call.
        unsafe {
            (*p).pe_data = core::ptr::null_mut();
            (*p).pe_data_len = 0;
        }
        // SAFETY: `ip_vs_conn_fill_param_persist()` set `pe` to the service's engine, which is
        // this table (it is calling our `fill_param`).
        if !unsafe { engine_module_is_live((*p).pe) } {
            // The module is being removed: a template made now would hold a reference taken
            // after `rmmod` found none (`ip_vs_conn_new()` takes it with `__module_get()`).
            // The packet is dropped, and the client's retransmission finds no service or
            // another engine. See `Registration::drop` for the references taken before this.
            return ENOENT.to_errno();
        }
        from_result(|| {
            // SAFETY: See the function's safety section; `Lookup`'s invariant holds.
            let param = unsafe { Lookup::from_raw(p) };
            // SAFETY: IPVS passes the skb it is processing and does not touch it meanwhile.
            let skb = unsafe { SkBuff::from_raw(skb) };
            if let Some(data) = T::fill_param(param, skb)? {
                let (ptr, len) = data.into_raw();
                // SAFETY: `p` is valid and exclusively ours during the call (`param`, a
                // shared view of it, is no longer used). Ownership of the kmalloc'ed buffer
                // passes to IPVS, which frees it with kfree().
                unsafe {
                    (*p).pe_data = ptr.cast();
                    (*p).pe_data_len = len;
                }
            }
            Ok(0)
        })
    }

    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_ct_in_get()`, under `rcu_read_lock()`, with a lookup block
    /// that has engine data (see [`Lookup`]) and an entry of its table (see [`Conn`]).
    unsafe extern "C" fn ct_match(
        p: *const bindings::ip_vs_conn_param,
        ct: *mut bindings::ip_vs_conn,
    ) -> bool {
        // SAFETY: See the function's safety section.
        let (param, ct) = unsafe { (Lookup::from_raw(p), Conn::from_raw(ct)) };
        T::ct_match(param, ct)
    }

    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_conn_hashkey_param()` with a block that satisfies
    /// [`HashKey`]'s invariant and the table it hashes for (see [`hash_seed`]).
    unsafe extern "C" fn hashkey_raw(
        p: *const bindings::ip_vs_conn_param,
        t: HashTable,
        inverse: bool,
    ) -> u32 {
        // SAFETY: As the function's safety section says, `p` satisfies `HashKey`'s invariant
        // and `t` is the live table IPVS hashes for, as `hash_seed` requires.
        let (key, seed) = unsafe { (HashKey::from_raw(p), hash_seed(t)) };
        T::hashkey_raw(key, seed, inverse)
    }

    /// # Safety
    ///
    /// Called by IPVS's `ip_vs_conn_seq_show()` with an entry that has engine data and a
    /// pointer into its `char pe_data[IP_VS_PENAME_MAXLEN + IP_VS_PEDATA_MAXLEN + 3]`, after
    /// `" NAME "`: `SHOW_BUF - NAME.len() - 2` bytes remain, one of them for the NUL it adds.
    unsafe extern "C" fn show_pe_data(cp: *const bindings::ip_vs_conn, buf: *mut c_char) -> c_int {
        // SAFETY: IPVS passes a valid connection, see [`Conn`].
        let conn = unsafe { Conn::from_raw(cp) };
        let Some(data) = conn.pe_data() else {
            return 0;
        };
        let text = T::show_pe_data(data);
        let n = text.len().min(T::SHOW_MAXLEN);
        // SAFETY: `PeTable::new` checked at compile time that `SHOW_MAXLEN` bytes fit in what
        // remains of the buffer, which nothing else accesses during the call; `text` is valid
        // for `n` bytes and outside the buffer (the engine never sees it).
        unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), n) };
        // CAST: at most SHOW_BUF (274), checked at compile time, which fits in a `c_int`.
        n as c_int
    }

    /// # Safety
    ///
    /// Called by IPVS's `__ip_vs_rs_conn_out()` with its valid `conn_out` arguments (see
    /// [`ConnOut`]).
    unsafe extern "C" fn conn_out(
        svc: *mut bindings::ip_vs_service,
        dest: *mut bindings::ip_vs_dest,
        skb: *mut bindings::sk_buff,
        iph: *const bindings::ip_vs_iphdr,
        dport: u16,
        cport: u16,
    ) -> *mut bindings::ip_vs_conn {
        // SAFETY: See the function's safety section.
        let ctx = unsafe { ConnOut::from_raw(svc, dest, skb, iph, dport, cport) };
        match T::conn_out(ctx) {
            Some(cp) => cp.into_raw(),
            None => core::ptr::null_mut(),
        }
    }
}

/// The C operations table of engine `T`, built at compile time; it lives in static storage
/// (see [`module_ipvs_pe!`]), so that services and templates, which keep pointers to it while
/// they hold a reference to the module, can never see it freed.
///
/// # Invariants
///
/// `pe` is a valid `ip_vs_pe` whose operations are [`Adapter`]'s for `T` and whose name is
/// `T::NAME`. IPVS knows the table only while `registered` is set, and only after
/// [`Registration::register`] set its list head and module.
///
/// [`Registration::register`]: super::Registration::register
pub(crate) struct PeTable<T: Engine> {
    pub(super) pe: Opaque<bindings::ip_vs_pe>,
    pub(super) registered: AtomicBool,
    _p: PhantomData<T>,
}

// SAFETY: IPVS reads the table from any CPU; it is written only by `Registration::register`
// and `unregister_ip_vs_pe()`, which the `registered` flag serialises, and by IPVS under its
// own `ip_vs_pe_mutex` (`n_list`; IPVS never touches `refcnt`).
unsafe impl<T: Engine> Sync for PeTable<T> {}

impl<T: Engine> PeTable<T> {
    /// Builds the table. Fails to compile if the name is empty or too long for IPVS, or if
    /// `" NAME "` and `SHOW_MAXLEN` bytes of text do not fit `ip_vs_conn_seq_show()`'s buffer.
    pub(crate) const fn new() -> Self {
        let name_len = cstr_len(T::NAME);
        assert!(name_len > 0 && name_len < PENAME_MAXLEN);
        assert!(1 + name_len + 1 + T::SHOW_MAXLEN < SHOW_BUF);
        Self {
            pe: Opaque::new(bindings::ip_vs_pe {
                // Set to an empty list by `register`, which knows the final address.
                n_list: bindings::list_head {
                    next: core::ptr::null_mut(),
                    prev: core::ptr::null_mut(),
                },
                // IPVS only reads the name.
                name: cstr_ptr(T::NAME).cast_mut(),
                refcnt: bindings::atomic_t { counter: 0 },
                // Set by `register`.
                module: core::ptr::null_mut(),
                fill_param: Some(Adapter::<T>::fill_param),
                ct_match: Some(Adapter::<T>::ct_match),
                hashkey_raw: Some(Adapter::<T>::hashkey_raw),
                show_pe_data: Some(Adapter::<T>::show_pe_data),
                conn_out: if T::HAS_CONN_OUT {
                    Some(Adapter::<T>::conn_out)
                } else {
                    None
                },
            }),
            registered: AtomicBool::new(false),
            _p: PhantomData,
        }
    }
}
