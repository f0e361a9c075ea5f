// SPDX-License-Identifier: GPL-2.0

//! IPVS persistence engine `sip`: keeps every message of a SIP call on one real server.
//!
//! A drop-in replacement for the kernel's C engine (`net/netfilter/ipvs/ip_vs_pe_sip.c`): the
//! Call-ID of a UDP datagram joins the client address in the persistence template, so that
//! with one-packet scheduling (`-o`) and a persistence mask of `0.0.0.0` the calls of one SIP
//! proxy or phone spread over the real servers while each call stays on one. The differences
//! from the C engine are listed in `docs/c-engine-differences.md`.

use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;

// The Call-ID parser and the hash are the `ipvs-pe-sip` crate's own source files, compiled
// here as well, so that the module runs exactly the code the user-space tests and fuzzer
// exercise.
/// SIP Call-ID extraction (the `ipvs-pe-sip` crate).
#[path = "../ipvs-pe-sip/src/callid.rs"]
pub mod callid;
/// The kernel's `jhash()`, inlined here (the `ipvs-pe-sip` crate).
#[path = "../ipvs-pe-sip/src/jhash.rs"]
pub mod jhash;
mod pe;
mod stats;
mod sysfs;

use pe::{Conn, ConnOut, ConnParam, Engine, InetAddr, NewConn, PeData, SkBuff};
use stats::{count, Event};

module! {
    type: SipModule,
    name: "ip_vs_pe_sip_rs",
    author: "ipvs-pe-sip developers",
    description: "IPVS persistence engine for SIP (Call-ID), in Rust",
    license: "GPL",
    // IPVS loads engine NAME with `request_module("ip_vs_pe_NAME")`.
    alias: ["ip_vs_pe_sip"],
}

const IPPROTO_UDP: u16 = bindings::IPPROTO_UDP as u16;
const IPPROTO_IP: u16 = bindings::IPPROTO_IP as u16;
/// `AF_UNSPEC`: how `ct_match` compares a firewall mark in place of a virtual address.
const AF_UNSPEC: u16 = bindings::AF_UNSPEC as u16;
/// Size of a UDP header.
const UDP_HLEN: usize = 8;

/// The SIP engine.
struct Sip;

#[vtable]
impl Engine for Sip {
    const NAME: &'static CStr = c_str!("sip");

    #[inline]
    fn fill_param(param: &ConnParam, skb: &mut SkBuff) -> Result<Option<PeData>> {
        let Some(iph) = skb
            .ip_header(param.af())
            .filter(|h| h.protocol == IPPROTO_UDP)
        else {
            count(Event::NotUdp);
            return Ok(None);
        };
        if iph.fragoffs != 0 {
            count(Event::Fragment);
            return Ok(None);
        }
        let Some(dataoff) = iph
            .transport_offset
            .checked_add(UDP_HLEN)
            .filter(|&o| o < skb.len())
        else {
            count(Event::NoPayload);
            return Ok(None);
        };
        if let Err(e) = skb.linearize() {
            count(Event::AllocFailed);
            return Err(e);
        }
        let Some(payload) = skb.linear_data().get(dataoff..) else {
            count(Event::NoPayload);
            return Ok(None);
        };
        match callid::call_id(payload) {
            Ok(id) => match PeData::try_copy(id) {
                Ok(data) => {
                    count(Event::Found);
                    Ok(Some(data))
                }
                Err(e) => {
                    count(Event::AllocFailed);
                    Err(e)
                }
            },
            Err(e) => {
                count(match e {
                    callid::CallIdError::NotFound => Event::NoCallId,
                    callid::CallIdError::TooLong => Event::TooLong,
                    callid::CallIdError::BadTerminator => Event::BadTerminator,
                });
                Ok(None)
            }
        }
    }

    #[inline]
    fn ct_match(p: &ConnParam, ct: &Conn) -> bool {
        // The same fields, in the same order, as the C engine.
        let vaddr_af = if p.protocol() == IPPROTO_IP {
            AF_UNSPEC
        } else {
            p.af()
        };
        ct.af() == p.af()
            && InetAddr::equal(p.af(), &p.caddr(), &ct.caddr())
            && InetAddr::equal(vaddr_af, &p.vaddr(), &ct.vaddr())
            && ct.vport() == p.vport()
            && ct.is_template()
            && ct.protocol() == p.protocol()
            && matches!((ct.pe_data(), p.pe_data()), (Some(a), Some(b)) if a == b)
    }

    #[inline]
    fn hashkey_raw(p: &ConnParam, initval: u32, _inverse: bool) -> u32 {
        jhash::jhash(p.pe_data().unwrap_or_default(), initval)
    }

    fn show_pe_data(conn: &Conn, buf: &mut [u8]) -> usize {
        let data = conn.pe_data().unwrap_or_default();
        let n = data.len().min(buf.len());
        match (buf.get_mut(..n), data.get(..n)) {
            (Some(dst), Some(src)) => {
                dst.copy_from_slice(src);
                n
            }
            _ => 0,
        }
    }

    fn conn_out(ctx: ConnOut<'_>) -> Option<NewConn> {
        // As in C: only SIP over UDP needs connections started by real servers.
        if ctx.protocol() == IPPROTO_UDP {
            ctx.new_conn()
        } else {
            None
        }
    }
}

struct SipModule {
    // Dropped in this order: the engine goes before its counters.
    _engine: pe::Registration<Sip>,
    _stats: sysfs::Registration,
}

impl kernel::Module for SipModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let stats = stats::register(module)?;
        let engine = pe::Registration::new(module)?;
        pr_info!("persistence engine \"sip\" registered\n");
        Ok(Self {
            _engine: engine,
            _stats: stats,
        })
    }
}
