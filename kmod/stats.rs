// SPDX-License-Identifier: GPL-2.0

//! The engine's counters, in `/sys/module/ip_vs_pe_sip_rs/stats/`.
//!
//! Neither the kernel's C engine nor ipvsadm say why a SIP datagram was not balanced by its
//! Call-ID; these counters do. They start at zero when the module loads.

use crate::sysfs::{self, CounterFiles};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::c_str;
use kernel::prelude::*;

/// What became of a datagram handed to `fill_param`: each ends in exactly one event, so the
/// number examined is their sum, and the packet path pays for a single counter increment.
#[derive(Clone, Copy)]
pub(crate) enum Event {
    /// A Call-ID was found and stored in the template.
    Found,
    /// Not a UDP packet (or its network header could not be read): normal persistence.
    NotUdp,
    /// A later IPv6 fragment, which carries no SIP headers: normal persistence.
    Fragment,
    /// No payload after the UDP header: normal persistence.
    NoPayload,
    /// No usable Call-ID header: normal persistence.
    NoCallId,
    /// A Call-ID longer than 255 bytes: normal persistence.
    TooLong,
    /// A Call-ID followed by something other than a line end: normal persistence.
    BadTerminator,
    /// Memory could not be allocated: the packet is dropped, as by the C engine, so that the
    /// client's retransmission is balanced by its Call-ID.
    AllocFailed,
}

const N: usize = 8;
static COUNTS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

/// Counts `event`.
pub(crate) fn count(event: Event) {
    if let Some(c) = COUNTS.get(event as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// The counter of one event, as the one-element sum its file shows.
const fn one(event: Event) -> &'static [AtomicU64] {
    core::slice::from_ref(&COUNTS[event as usize])
}

static FILES: CounterFiles<{ N + 1 }> = CounterFiles::new(
    c_str!("stats"),
    [
        (c_str!("examined"), &COUNTS),
        (c_str!("found"), one(Event::Found)),
        (c_str!("not_udp"), one(Event::NotUdp)),
        (c_str!("fragment"), one(Event::Fragment)),
        (c_str!("no_payload"), one(Event::NoPayload)),
        (c_str!("no_callid"), one(Event::NoCallId)),
        (c_str!("too_long"), one(Event::TooLong)),
        (c_str!("bad_terminator"), one(Event::BadTerminator)),
        (c_str!("alloc_failed"), one(Event::AllocFailed)),
    ],
);

/// Creates the counter files; they go when the result is dropped.
pub(crate) fn register(module: &'static ThisModule) -> Result<sysfs::Registration> {
    FILES.register(module)
}
