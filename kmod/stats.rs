// SPDX-License-Identifier: GPL-2.0

//! The engine's counters, per network namespace, in `/proc/net/ip_vs_pe_sip_stats`.
//!
//! Neither the kernel's C engine nor ipvsadm say why a SIP datagram was not balanced by its
//! Call-ID; these counters do. Each namespace has its own, at zero when the namespace (or the
//! module) appears, readable from inside it as `/proc/net/ip_vs_stats` is; one `NAME VALUE`
//! line per counter.
//!
//! The lines' names, in order, are those of `kmod/stats-names.txt`, one a line: the one list,
//! which the boot tests (`qemu-tests/lib/ipvslab/modules.py`) and the docs' test
//! (`ipvs-pe-sip/tests/counters.rs`) read. [`Stats`]'s lines must name the same, or the module
//! does not build.
//!
//! Each namespace's media table (`media_table.rs`) lives beside its counters, made and dropped
//! with them.

use crate::media_table::MediaTable;
use crate::pe::Net;
use crate::pernet_counters::{Counters, Pernet};
use crate::sync::BhSpinLock;
use kernel::c_str;
use kernel::prelude::*;

/// What became of a datagram the engine examined: each ends in exactly one of the events
/// before [`Event::Dropped`], so the number examined is their sum, and the packet path pays
/// for a single per-CPU increment (two for a datagram dropped by `drop_without_callid` or
/// without a Call-ID on a firewall-mark service).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Event {
    /// A Call-ID was found and stored in the template.
    Found,
    /// Not a UDP packet (or its network header could not be read).
    NotUdp,
    /// A later IPv6 fragment, which carries no SIP headers.
    Fragment,
    /// No payload after the UDP header.
    NoPayload,
    /// No usable Call-ID header.
    NoCallId,
    /// A Call-ID longer than 255 bytes.
    TooLong,
    /// A Call-ID followed by something other than a line end.
    BadTerminator,
    /// Memory could not be allocated: the packet is dropped, as by the C engine, so that the
    /// client's retransmission is balanced by its Call-ID.
    AllocFailed,
    /// Not an outcome of its own: a datagram without a usable Call-ID (counted above by its
    /// reason) that was dropped because `drop_without_callid` is set.
    Dropped,
    /// Not an outcome of its own: a datagram without a usable Call-ID on a firewall-mark
    /// service (counted above by its outcome: its reason, or `AllocFailed`), matched by the
    /// media table or not. With a persistence mask of `0.0.0.0`, those the table does not
    /// match all take the service's one fallback template, so they all reach one real server;
    /// this is how an operator sees it.
    FwmarkNoCallId,
    /// Not a datagram's outcome: a media endpoint learnt (added or renewed) from the SDP of a
    /// message with a Call-ID, on a firewall-mark or port-zero service.
    MediaLearnt,
    /// Not a datagram's outcome: an endpoint of such an SDP not learnt because its address is
    /// not the datagram's source address.
    MediaForeign,
    /// Not a datagram's outcome: an endpoint not learnt because a bound was reached (the
    /// client's or the namespace's), or memory could not be allocated.
    MediaRefused,
    /// Not a datagram's outcome: an entry removed by its call's `BYE` or `CANCEL` (or their
    /// responses).
    MediaEnded,
    /// Not an outcome of its own: a datagram without a usable Call-ID (counted by its reason)
    /// that was given its call's Call-ID by the media table.
    MediaMatched,
    /// Not an outcome of its own: a datagram without a usable Call-ID on a firewall-mark or
    /// port-zero service that the media table did not know (normal persistence then, as any
    /// datagram without a Call-ID).
    MediaUnmatched,
}

/// The counters of every network namespace.
pub(crate) struct Stats;

static PERNET: Pernet<Stats> = Pernet::new();

impl Counters for Stats {
    const N: usize = 16;
    const FILE: &'static CStr = c_str!("ip_vs_pe_sip_stats");
    // CAST: below, fieldless enum discriminants (0 to 15) as indices.
    const LINES: &'static [(&'static str, &'static [usize])] = &[
        (
            "examined",
            &[
                Event::Found as usize,
                Event::NotUdp as usize,
                Event::Fragment as usize,
                Event::NoPayload as usize,
                Event::NoCallId as usize,
                Event::TooLong as usize,
                Event::BadTerminator as usize,
                Event::AllocFailed as usize,
            ],
        ),
        ("found", &[Event::Found as usize]),
        ("not_udp", &[Event::NotUdp as usize]),
        ("fragment", &[Event::Fragment as usize]),
        ("no_payload", &[Event::NoPayload as usize]),
        ("no_callid", &[Event::NoCallId as usize]),
        ("too_long", &[Event::TooLong as usize]),
        ("bad_terminator", &[Event::BadTerminator as usize]),
        ("alloc_failed", &[Event::AllocFailed as usize]),
        ("dropped", &[Event::Dropped as usize]),
        ("fwmark_no_callid", &[Event::FwmarkNoCallId as usize]),
        ("media_learnt", &[Event::MediaLearnt as usize]),
        ("media_foreign", &[Event::MediaForeign as usize]),
        ("media_refused", &[Event::MediaRefused as usize]),
        ("media_ended", &[Event::MediaEnded as usize]),
        ("media_matched", &[Event::MediaMatched as usize]),
        ("media_unmatched", &[Event::MediaUnmatched as usize]),
    ];
    type State = MediaTable;

    fn pernet() -> &'static Pernet<Self> {
        &PERNET
    }
}

/// The names of the file's lines, in order, one a line (see the module documentation).
const NAMES: &str = include_str!("stats-names.txt");

const _: () = assert!(
    same_names(NAMES, <Stats as Counters>::LINES),
    "the lines of Stats::LINES are not those of kmod/stats-names.txt, in order"
);

/// Whether `text` is the names of `lines`, in order, each followed by a line end, and nothing
/// else (evaluated at compile time).
const fn same_names(text: &str, lines: &[(&str, &[usize])]) -> bool {
    let text = text.as_bytes();
    let mut at = 0;
    let mut i = 0;
    while i < lines.len() {
        let name = lines[i].0.as_bytes();
        let mut j = 0;
        while j < name.len() {
            if at >= text.len() || text[at] != name[j] {
                return false;
            }
            at += 1;
            j += 1;
        }
        if name.is_empty() || at >= text.len() || text[at] != b'\n' {
            return false;
        }
        at += 1;
        i += 1;
    }
    at == text.len()
}

/// Counts `event` in namespace `net`.
#[inline]
pub(crate) fn count(net: &Net, event: Event) {
    count_n(net, event, 1);
}

/// Counts `event` `n` times in namespace `net`.
#[inline]
pub(crate) fn count_n(net: &Net, event: Event, n: u32) {
    if n != 0 {
        // CAST: a fieldless enum's discriminant, below `Stats::N`.
        PERNET.add(net, event as usize, u64::from(n));
    }
}

/// The media table of namespace `net`, once the counters are registered (it lives beside
/// them, see `pernet_counters.rs`).
#[inline]
pub(crate) fn media_table(net: &Net) -> Option<&BhSpinLock<MediaTable>> {
    PERNET.state(net)
}

/// The counters' registration: they exist while the value lives.
pub(crate) struct Registration {
    _pernet: crate::pernet_counters::PernetRegistration<Stats>,
}

impl kernel::Module for Registration {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self {
            _pernet: PERNET.register()?,
        })
    }
}
