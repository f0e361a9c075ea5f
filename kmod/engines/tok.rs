// SPDX-License-Identifier: GPL-2.0

//! IPVS persistence engine `tok`, for the boot tests only: the proof that the abstraction
//! (`kmod/pe/`) serves engines other than `sip`. The module `ip_vs_pe_tok_rs`, built by
//! `scripts/build-kmod test` only (see `kmod/Kbuild`).
//!
//! It keys templates on a token: the first line of a UDP datagram's payload (1 to 32 bytes
//! before the first `\n`), which a datagram carries in both directions, as a SIP message
//! carries its Call-ID. A datagram without a token is dropped (`fill_param` fails), as the C
//! SIP engine does. Unlike `sip`, its hash mixes the client address (read through the
//! [`HashKey`] view, which is all IPVS provides when it hashes a connection), and its
//! `conn_out` is the default one of IPVS (`ip_vs_new_conn_out()`) for UDP.

use kernel::bindings;
use kernel::c_str;
use kernel::prelude::*;

#[path = "../compat.rs"]
mod compat;
/// The kernel's `jhash()` (the `ipvs-pe-sip` crate).
#[path = "../../ipvs-pe-sip/src/jhash.rs"]
pub mod jhash;
// Not every accessor of the shared abstraction is used by this engine.
#[allow(dead_code)]
#[path = "../pe/mod.rs"]
mod pe;

use pe::{Conn, ConnOut, Engine, HashKey, Lookup, NewConn, PeData, SkBuff};

pe::module_ipvs_pe! {
    engine: Tok,
    name: "ip_vs_pe_tok_rs",
    authors: ["ipvs-pe-sip developers"],
    description: "IPVS test persistence engine keyed on a token (boot tests only)",
    license: "GPL",
    alias: ["ip_vs_pe_tok"],
}

// CAST: IPPROTO_UDP is 17, it fits.
const IPPROTO_UDP: u16 = bindings::IPPROTO_UDP as u16;
/// Longest token.
const TOKEN_MAX: usize = 32;
/// Size of a UDP header.
const UDP_HLEN: usize = 8;

/// The token engine.
struct Tok;

/// The token of a datagram of family `af`.
fn token(af: u16, skb: &mut SkBuff) -> Option<&[u8]> {
    let iph = skb.ip_header(af).filter(|h| h.protocol == IPPROTO_UDP)?;
    let off = iph.transport_offset.checked_add(UDP_HLEN)?;
    skb.linearize().ok()?;
    let payload = skb.linear_data().get(off..)?;
    let line = payload.split(|&b| b == b'\n').next()?;
    (!line.is_empty() && line.len() <= TOKEN_MAX).then_some(line)
}

#[vtable]
impl Engine for Tok {
    const NAME: &'static CStr = c_str!("tok");
    const SHOW_MAXLEN: usize = TOKEN_MAX;

    fn fill_param(param: &Lookup, skb: &mut SkBuff) -> Result<Option<PeData>> {
        let t = token(param.af(), skb).ok_or(EINVAL)?;
        Ok(Some(PeData::try_copy(t)?))
    }

    fn ct_match(p: &Lookup, ct: &Conn) -> bool {
        // The same token.
        p.matches_template(ct)
            && matches!((ct.pe_data(), p.pe_data()), (Some(a), Some(b)) if a == b)
    }

    fn hashkey_raw(key: &HashKey, seed: u32, _inverse: bool) -> u32 {
        let (addr, n) = key.caddr().bytes(key.af());
        let seed = jhash::jhash(addr.get(..n).unwrap_or_default(), seed);
        jhash::jhash(key.pe_data().unwrap_or_default(), seed)
    }

    fn conn_out(mut ctx: ConnOut<'_>) -> Option<NewConn> {
        if ctx.protocol() == Some(IPPROTO_UDP) {
            ctx.new_conn()
        } else {
            None
        }
    }
}
