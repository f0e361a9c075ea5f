// SPDX-License-Identifier: GPL-2.0

//! IPVS persistence engines.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_pe`).
//!
//! An engine implements [`Engine`]; [`module_ipvs_pe!`] builds its C operations table
//! ([`PeTable`]) at compile time in static storage and declares a kernel module that registers
//! it on load and unregisters it on unload. The engine sees only safe views of what IPVS hands
//! to each operation, so it holds no `unsafe` of its own: every `unsafe` block of the engine
//! side is in this folder.

use kernel::bindings;
use kernel::types::Opaque;

mod compat;
mod conn;
mod conn_out;
mod data;
mod engine;
mod registration;
mod skb;

pub(crate) use conn::{Conn, HashKey, Lookup};
pub(crate) use conn_out::{ConnOut, NewConn};
pub(crate) use data::PeData;
pub(crate) use engine::{Engine, PeTable};
// Used by the engines that have no data of their own (this folder is shared by several
// modules).
#[allow(unused_imports)]
pub(crate) use registration::NoData;
pub(crate) use registration::{module_ipvs_pe, Registration};
pub(crate) use skb::SkBuff;

/// Longest engine data IPVS stores in a connection (`IP_VS_PEDATA_MAXLEN`).
// CAST: 255, it fits.
pub(crate) const PEDATA_MAXLEN: usize = bindings::IP_VS_PEDATA_MAXLEN as usize;
/// Size of the buffer that holds an engine name in IPVS (`IP_VS_PENAME_MAXLEN`).
// CAST: 16, it fits.
pub(crate) const PENAME_MAXLEN: usize = bindings::IP_VS_PENAME_MAXLEN as usize;
/// Size of the buffer `ip_vs_conn_seq_show()` fills with `" NAME DATA"` and a NUL.
const SHOW_BUF: usize = PENAME_MAXLEN + PEDATA_MAXLEN + 3;

/// `IPPROTO_UDP`, as IPVS stores protocols (`u16`).
// CAST: IPPROTO_UDP is 17, it fits.
const IPPROTO_UDP: u16 = bindings::IPPROTO_UDP as u16;
/// `AF_INET6`, as IPVS stores address families (`u16`).
// CAST: AF_INET6 is 10, it fits.
const AF_INET6: u16 = bindings::AF_INET6 as u16;
/// `AF_UNSPEC`: the family a firewall mark is compared with, in place of a virtual address.
// CAST: AF_UNSPEC is 0, it fits.
const AF_UNSPEC: u16 = bindings::AF_UNSPEC as u16;
/// `IPPROTO_IP`: the protocol of a firewall-mark template, whose "virtual address" is a mark.
// CAST: IPPROTO_IP is 0, it fits.
const IPPROTO_IP: u16 = bindings::IPPROTO_IP as u16;

/// A network namespace (`struct net`), as IPVS hands it to an engine.
///
/// # Invariants
///
/// The wrapped `net` is alive for the lifetime of the reference.
#[repr(transparent)]
pub(crate) struct Net(Opaque<bindings::net>);

impl Net {
    /// # Safety
    ///
    /// `ptr` must point to a live `struct net` for the lifetime `'a`.
    unsafe fn from_raw<'a>(ptr: *mut bindings::net) -> &'a Self {
        // SAFETY: `Net` is a transparent wrapper of the C struct; the caller guarantees it is
        // alive for `'a`.
        unsafe { &*ptr.cast() }
    }

    /// The C `struct net`, alive as long as the reference.
    pub(crate) fn as_ptr(&self) -> *mut bindings::net {
        self.0.get()
    }
}
