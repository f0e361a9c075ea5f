// SPDX-License-Identifier: GPL-2.0

//! IPVS persistence engine `sip`: keeps every message of a SIP call on one real server.
//! The module `ip_vs_pe_sip_rs` (see `kmod/Kbuild`).
//!
//! A drop-in replacement for the kernel's C engine (`net/netfilter/ipvs/ip_vs_pe_sip.c`): the
//! Call-ID of a UDP datagram joins the client address in the persistence template, so that
//! with one-packet scheduling (`-o`) and a persistence mask of `0.0.0.0` the calls of one SIP
//! proxy or phone spread over the real servers while each call stays on one. The differences
//! from the C engine are listed in `docs/c-engine-differences.md`; the fallback for datagrams
//! without a usable Call-ID and its module parameter `drop_without_callid` in `docs/engine.md`.
//!
//! On a firewall-mark or port-zero service, media follows its call: the SDP of a client's
//! message with a Call-ID says which of the client's ports will carry that call's media; a
//! datagram from one of them, which has no Call-ID, is given the call's and reaches the
//! call's server (`docs/engine.md`, "Media follows its call").

use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;

// The Call-ID parser and the hash are the `ipvs-pe-sip` crate's own source files, compiled
// here as well, so that the module runs exactly the code the user-space tests and fuzzer
// exercise.
/// SIP Call-ID extraction (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/callid.rs"]
pub mod callid;
/// The kernel's `jhash()`, inlined here (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/jhash.rs"]
pub mod jhash;
/// A message's SDP and its media endpoints (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/media/mod.rs"]
pub mod media;
// Beside this folder: the abstraction (`pe/`, `pernet_counters.rs`, `param.rs`, and
// `compat.rs` for what differs between kernels) and the engine's counters (`stats.rs`).
#[path = "../compat.rs"]
mod compat;
#[path = "../media_table.rs"]
mod media_table;
#[path = "../param.rs"]
mod param;
#[path = "../pe/mod.rs"]
mod pe;
#[path = "../pernet_counters.rs"]
mod pernet_counters;
#[path = "../stats.rs"]
mod stats;
#[path = "../sync.rs"]
mod sync;

use core::sync::atomic::Ordering;
use media::{Addr, MediaSet};
use media_table::{Client, Limits, Service};
use pe::{Conn, ConnOut, Engine, HashKey, Lookup, NewConn, PeData, SkBuff};
use stats::{count, count_n, Event};

pe::module_ipvs_pe! {
    engine: Sip,
    data: stats::Registration,
    name: "ip_vs_pe_sip_rs",
    authors: ["ipvs-pe-sip developers"],
    description: "IPVS persistence engine for SIP (Call-ID), in Rust",
    license: "GPL",
    // IPVS loads engine NAME with `request_module("ip_vs_pe_NAME")`; a module named
    // ip_vs_pe_sip (the kernel's C engine), when installed, wins over this alias.
    alias: ["ip_vs_pe_sip"],
}

param::bool_param!(
    DROP_WITHOUT_CALLID,
    "drop_without_callid",
    0o644,
    "Drop datagrams without a usable Call-ID, as the C engine does (default: normal persistence)"
);

param::uint_param!(
    MEDIA_MAX_ENTRIES,
    "media_max_entries",
    0o644,
    16384,
    "Most media endpoints learnt per network namespace (default 16384, at most 65536)"
);

/// The most `media_max_entries` can raise the namespace's bound to: about 32 MiB of entries
/// (each in the 512-byte slab), 12 MiB more of client records if each entry's client is
/// another (the 192-byte slab), and a sweep of the whole table at the bound (in softirq, under
/// the table's lock, at most once a second) of that many. A larger value is taken as this one.
const MEDIA_MAX_ENTRIES_CAP: u32 = 1 << 16;

/// The most `media_max_per_client` can raise a client's bound to: a call's end walks the
/// client's entries in softirq, and a `BYE`'s source can be forged. A larger value is taken
/// as this one.
const MEDIA_MAX_PER_CLIENT_CAP: u32 = 4096;

param::uint_param!(
    MEDIA_MAX_PER_CLIENT,
    "media_max_per_client",
    0o644,
    1024,
    "Most media endpoints learnt per client address (default 1024, at most 4096; 0 learns none)"
);

param::uint_param!(
    MEDIA_TIMEOUT,
    "media_timeout",
    0o644,
    120,
    "Seconds a learnt media endpoint lives without traffic (default 120)"
);

// CAST: IPPROTO_UDP is 17, it fits.
const IPPROTO_UDP: u16 = bindings::IPPROTO_UDP as u16;
// CAST: AF_INET is 2, it fits.
const AF_INET: u16 = bindings::AF_INET as u16;
// CAST: AF_INET6 is 10, it fits.
const AF_INET6: u16 = bindings::AF_INET6 as u16;
/// Size of a UDP header.
const UDP_HLEN: usize = 8;

/// The engine data of a fallback template (a datagram without a usable Call-ID): one NUL
/// byte, which no Call-ID contains (neither ours nor the C parser's). Fallback lookups thus
/// carry engine data too and go through `ct_match`, so a fallback lookup never takes a Call-ID
/// template and a Call-ID lookup never takes a fallback template, and the sync daemon carries
/// fallback templates (engine name and data) to the backup.
const FALLBACK: &[u8] = b"\0";

/// The SIP engine.
struct Sip;

/// A UDP datagram with a payload: the payload, and where it came from.
struct Datagram<'a> {
    payload: &'a [u8],
    /// The source address, unmasked.
    client: Client,
    /// The source port.
    port: u16,
}

/// The UDP payload of a datagram of family `af` and its source, or why there is none
/// (`AllocFailed` when the packet could not be linearized). Counts nothing.
#[inline]
fn datagram(af: u16, skb: &mut SkBuff) -> Result<Datagram<'_>, Event> {
    let iph = skb
        .ip_header(af)
        .filter(|h| h.protocol == IPPROTO_UDP)
        .ok_or(Event::NotUdp)?;
    // Unreachable from `ip_vs_sched_persist()` (`ip_vs_try_to_schedule()` only schedules
    // first fragments) and kept for any other caller: a later fragment has no SIP headers.
    if iph.fragoffs != 0 {
        return Err(Event::Fragment);
    }
    let dataoff = iph
        .transport_offset
        .checked_add(UDP_HLEN)
        .filter(|&o| o < skb.len())
        .ok_or(Event::NoPayload)?;
    skb.linearize().map_err(|_| Event::AllocFailed)?;
    let data = skb.linear_data();
    let payload = data.get(dataoff..).ok_or(Event::NoPayload)?;
    // The UDP header's first field, the source port (in network order).
    let port = iph
        .transport_offset
        .checked_add(2)
        .and_then(|end| data.get(iph.transport_offset..end))
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_be_bytes)
        .ok_or(Event::NoPayload)?;
    Ok(Datagram {
        payload,
        client: Client {
            af,
            addr: iph.saddr,
        },
        port,
    })
}

/// The Call-ID of a payload, or why there is none.
#[inline]
fn call_id_in(payload: &[u8]) -> Result<&[u8], Event> {
    callid::call_id(payload).map_err(|e| match e {
        callid::CallIdError::NotFound => Event::NoCallId,
        callid::CallIdError::TooLong => Event::TooLong,
        callid::CallIdError::BadTerminator => Event::BadTerminator,
    })
}

/// The Call-ID of a datagram of family `af`, or why there is none (`AllocFailed` when the
/// packet could not be linearized). Counts nothing.
#[inline]
fn call_id_of(af: u16, skb: &mut SkBuff) -> Result<&[u8], Event> {
    datagram(af, skb).and_then(|d| call_id_in(d.payload))
}

/// The service of a lookup whose datagrams' media the engine follows: a firewall-mark or
/// port-zero service (virtual port 0), where a client's media ports reach the service too.
/// A service on one port never sees them.
fn media_service(param: &Lookup) -> Option<Service> {
    if param.vport() != 0 {
        return None;
    }
    let af = param.af();
    Some(Service {
        af,
        protocol: param.protocol(),
        vaddr: param.vaddr().bytes(af).0,
        vport: 0,
    })
}

/// The bounds and timeout of the media table, as the module's parameters say now.
fn limits() -> Limits {
    Limits {
        max_entries: MEDIA_MAX_ENTRIES
            .load(Ordering::Relaxed)
            .min(MEDIA_MAX_ENTRIES_CAP),
        max_per_client: MEDIA_MAX_PER_CLIENT
            .load(Ordering::Relaxed)
            .min(MEDIA_MAX_PER_CLIENT_CAP),
        timeout_secs: MEDIA_TIMEOUT.load(Ordering::Relaxed),
    }
}

/// Whether an SDP address is the client's own (the same family and bytes).
fn is_clients(addr: &Addr, client: &Client) -> bool {
    match addr {
        Addr::V4(a) => client.af == AF_INET && client.addr.get(..4) == Some(&a[..]),
        Addr::V6(a) => client.af == AF_INET6 && client.addr == *a,
    }
}

/// Learns the media of call `id` from the SDP of a client's message `d` on `service`, or ends
/// the call's media when the message ends the call (`BYE`, `CANCEL`, or their responses).
fn follow_media(net: &pe::Net, service: &Service, d: &Datagram<'_>, id: &[u8]) {
    let Ok(msg) = media::message(d.payload) else {
        return;
    };
    let Some(table) = stats::media_table(net) else {
        return;
    };
    if msg.ends_call() {
        // Nothing to end while no table holds an entry: no lock.
        if !media_table::any_entries() {
            return;
        }
        let ended = table.lock().end(service, &d.client, id);
        count_n(net, Event::MediaEnded, ended);
        return;
    }
    // Only a call's offers and answers.
    if !msg.negotiates_media() {
        return;
    }
    let mut set = MediaSet::new();
    if msg.media(&mut set).is_err() {
        return;
    }
    let endpoints = set.endpoints();
    let own = endpoints
        .iter()
        .filter(|e| is_clients(&e.addr, &d.client))
        .count();
    // CAST: at most `media::MAX_ENDPOINTS` (8), it fits.
    count_n(
        net,
        Event::MediaForeign,
        endpoints.len().saturating_sub(own) as u32,
    );
    if own == 0 {
        return;
    }
    let ports = endpoints
        .iter()
        .filter(|e| is_clients(&e.addr, &d.client))
        .map(|e| e.port);
    let learnt = table.lock().learn(&limits(), service, &d.client, ports, id);
    count_n(net, Event::MediaLearnt, learnt.learnt);
    count_n(net, Event::MediaRefused, learnt.refused);
}

/// The engine data of a datagram `d` without a Call-ID on `service`: its call's Call-ID if
/// the media table knows its source; `None` if it does not.
fn media_of(net: &pe::Net, service: &Service, d: &Datagram<'_>) -> Option<Result<PeData>> {
    if !media_table::any_entries() {
        return None;
    }
    let table = stats::media_table(net)?;
    let mut table = table.lock();
    table.lookup(&limits(), service, &d.client, d.port, PeData::try_copy)
}

#[vtable]
impl Engine for Sip {
    const NAME: &'static CStr = c_str!("sip");

    #[inline]
    fn fill_param(param: &Lookup, skb: &mut SkBuff) -> Result<Option<PeData>> {
        let net = param.net();
        let service = media_service(param);
        let found = match datagram(param.af(), skb) {
            Err(reason) => Err(reason),
            Ok(d) => match call_id_in(d.payload) {
                Ok(id) => {
                    if let Some(service) = &service {
                        follow_media(net, service, &d, id);
                    }
                    Ok(id)
                }
                Err(reason) => match service.as_ref().map(|s| media_of(net, s, &d)) {
                    // Its call's Call-ID: counted by its reason, and as matched.
                    Some(Some(Ok(data))) => {
                        count(net, reason);
                        count(net, Event::MediaMatched);
                        if param.is_fwmark() {
                            count(net, Event::FwmarkNoCallId);
                        }
                        return Ok(Some(data));
                    }
                    Some(Some(Err(_))) => Err(Event::AllocFailed),
                    Some(None) => {
                        count(net, Event::MediaUnmatched);
                        Err(reason)
                    }
                    None => Err(reason),
                },
            },
        };
        let (data, event) = match found {
            Ok(id) => (id, Event::Found),
            Err(Event::AllocFailed) => {
                count(net, Event::AllocFailed);
                return Err(ENOMEM);
            }
            Err(reason) => {
                if param.is_fwmark() {
                    // A firewall-mark template (see `Event::FwmarkNoCallId`), whatever the
                    // datagram's outcome, counted below.
                    count(net, Event::FwmarkNoCallId);
                }
                if DROP_WITHOUT_CALLID.load(Ordering::Relaxed) {
                    // C's semantics, chosen by the operator: `-EINVAL` makes
                    // `ip_vs_sched_persist()` drop the packet.
                    count(net, reason);
                    count(net, Event::Dropped);
                    return Err(EINVAL);
                }
                (FALLBACK, reason)
            }
        };
        match PeData::try_copy(data) {
            Ok(d) => {
                count(net, event);
                Ok(Some(d))
            }
            Err(e) => {
                count(net, Event::AllocFailed);
                Err(e)
            }
        }
    }

    #[inline(always)]
    fn ct_match(p: &Lookup, ct: &Conn) -> bool {
        // As the C engine: the same Call-ID (or both the fallback's data). The lengths first:
        // they are in the entry itself, the data behind a pointer of its own.
        match (ct.pe_data(), p.pe_data()) {
            (Some(a), Some(b)) => a.len() == b.len() && p.matches_template(ct) && a == b,
            _ => false,
        }
    }

    #[inline]
    fn hashkey_raw(key: &HashKey, seed: u32, _inverse: bool) -> u32 {
        match key.pe_data() {
            // As C: the Call-ID alone.
            Some(id) if id != FALLBACK => jhash::jhash(id, seed),
            // A fallback template: the masked client address, the protocol and the namespace,
            // as 6.12's own key of a template (`ip_vs_conn_hashkey()`), so that the fallback
            // templates of different clients, and of different namespaces with the same
            // addresses (every director namespace's mask-0 template of 0.0.0.0, in 6.12's one
            // table), do not share one hash chain. The service cannot be mixed in: on 6.12
            // `ip_vs_conn_hashkey_conn()` hashes a template without its virtual address (see
            // docs/engine.md).
            _ => {
                let (bytes, n) = key.caddr().bytes(key.af());
                let addr = bytes.get(..n).unwrap_or_default();
                jhash::jhash(
                    addr,
                    seed ^ u32::from(key.protocol()) ^ key.namespace_salt(),
                )
            }
        }
    }

    fn show_pe_data(data: &[u8]) -> &[u8] {
        // A fallback template shows no data (its line ends with "sip "); a Call-ID as it is.
        if data == FALLBACK {
            &[]
        } else {
            data
        }
    }

    fn conn_out(mut ctx: ConnOut<'_>) -> Option<NewConn> {
        // As in C: only SIP over UDP needs connections started by real servers. Where IPVS
        // can make none (a firewall mark, no port), nothing is parsed or counted.
        if ctx.protocol() != Some(IPPROTO_UDP) || !ctx.has_virtual_port() {
            return None;
        }
        // Without persistence the Call-ID changes nothing: IPVS's own connection, as in C.
        if !ctx.is_persistent() {
            return ctx.new_conn().or_else(|| ctx.new_conn_without_template());
        }
        // A datagram with a Call-ID goes IPVS's way, to the template of its call (made by our
        // `fill_param`, which finds the same Call-ID in the same bytes). One without, and any
        // that way fails, gets a connection for itself alone, with no template: the client's
        // fallback template must not be made to point at this server (`ip_vs_new_conn_out()`
        // makes a new one when the template it finds points elsewhere), and returning nothing
        // would let the packet leave un-NATed, from the server's own address. So whatever the
        // service's flags are when IPVS reads them again, `conn_out` never makes a fallback
        // template.
        let af = ctx.af();
        // Only whether there is one: the Call-ID itself borrows the packet.
        let found = call_id_of(af, ctx.skb()).map(|_| ());
        match found {
            Ok(()) => {
                if let Some(cp) = ctx.new_conn() {
                    return Some(cp);
                }
            }
            // Counted as `fill_param` counts the datagrams with one.
            Err(reason) => count(ctx.net(), reason),
        }
        ctx.new_conn_without_template()
    }
}
