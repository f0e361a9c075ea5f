// SPDX-License-Identifier: GPL-2.0

//! The engine's counters, in `/sys/module/ip_vs_pe_sip_rs/stats/`.
//!
//! Neither the kernel's C engine nor ipvsadm say why a SIP datagram was not balanced by its
//! Call-ID; these counters do. They start at zero when the module loads.

use crate::sysfs::{self, CounterFiles};
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::c_str;
use kernel::prelude::*;

/// What the engine counts: every datagram examined ends in exactly one of the other events.
#[derive(Clone, Copy)]
pub(crate) enum Event {
    /// A packet was handed to `fill_param`.
    Examined,
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

const N: usize = 9;
static COUNTS: [AtomicU64; N] = [const { AtomicU64::new(0) }; N];

/// Counts `event`.
pub(crate) fn count(event: Event) {
    if let Some(c) = COUNTS.get(event as usize) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

static FILES: CounterFiles<N> = CounterFiles::new(
    c_str!("stats"),
    [
        (c_str!("examined"), &COUNTS[Event::Examined as usize]),
        (c_str!("found"), &COUNTS[Event::Found as usize]),
        (c_str!("not_udp"), &COUNTS[Event::NotUdp as usize]),
        (c_str!("fragment"), &COUNTS[Event::Fragment as usize]),
        (c_str!("no_payload"), &COUNTS[Event::NoPayload as usize]),
        (c_str!("no_callid"), &COUNTS[Event::NoCallId as usize]),
        (c_str!("too_long"), &COUNTS[Event::TooLong as usize]),
        (c_str!("bad_terminator"), &COUNTS[Event::BadTerminator as usize]),
        (c_str!("alloc_failed"), &COUNTS[Event::AllocFailed as usize]),
    ],
);

/// Creates the counter files; they go when the result is dropped.
pub(crate) fn register(module: &'static ThisModule) -> Result<sysfs::Registration> {
    FILES.register(module)
}
