//! `--which-server` (an ipvsadm-rs extension): which real server of a `sipmh` service a new
//! call with a given Call-ID goes to.
//!
//! The answer is computed here, by the `ipvs` crate's model of the scheduler's table
//! (`ipvs::maglev`, the module's own table code), from the service's servers and weights and
//! the module's key, not asked of the kernel: IPVS has no way to ask a scheduler. So it is
//! what every director with the same servers, weights and key chooses, and it holds for a
//! call that has no template yet (one that has keeps its server).
//!
//! The key is the module's `hash_key` parameter, which only root can read; `--hash-key`
//! gives it otherwise. A server at weight 0 keeps the table share of its last non-zero
//! weight, which IPVS does not report: `--last-weight SERVER=WEIGHT` gives it, and without it
//! the weight most of the service's servers have is assumed (said on standard error).

use std::collections::HashMap;
use std::io::{self, BufRead};
use std::net::SocketAddr;

use ipvs::maglev::{parse_key, Maglev, Server, SipKey, DEFAULT_KEY};
use ipvs::{Destination, ServiceKey};

use crate::app::Ctx;
use crate::explain;

/// Where root reads the module's key.
pub(crate) const KEY_PARAM: &str = "/sys/module/ip_vs_sipmh/parameters/hash_key";
/// The scheduler's name.
const SIPMH: &str = "sipmh";

/// What `--which-server` was asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WhichServerRequest {
    /// The `sipmh` service.
    pub(crate) service: ServiceKey,
    /// The Call-IDs; `-` reads them from standard input, one a line.
    pub(crate) call_ids: Vec<String>,
    /// `--hash-key`: the key, instead of the module's.
    pub(crate) hash_key: Option<SipKey>,
    /// `--last-weight SERVER=WEIGHT`: the last non-zero weight of a server now at weight 0.
    pub(crate) last_weights: Vec<(SocketAddr, u32)>,
}

/// The key: `--hash-key`'s, else the module's as `read_param` reads it (the default key when
/// the module is not loaded); `Err` says why there is none.
fn key(
    req: &WhichServerRequest,
    read_param: &dyn Fn() -> io::Result<String>,
) -> Result<SipKey, String> {
    if let Some(k) = req.hash_key {
        return Ok(k);
    }
    match read_param() {
        Ok(text) => parse_key(&text).map_err(|e| format!("{KEY_PARAM}: {e}")),
        // Not loaded: the first `-s sipmh` will load it with its default key, unless
        // modprobe.d gives one (which --hash-key must then give here).
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(DEFAULT_KEY),
        Err(e) => Err(format!(
            "cannot read the scheduler's key from {KEY_PARAM} ({e}): it is readable by root \
             only; run as root or give it with --hash-key"
        )),
    }
}

/// The model's servers: each destination with its weight, and for one at weight 0 its last
/// non-zero weight (given, or assumed: the notes say which).
fn servers(
    dests: &[Destination],
    given: &[(SocketAddr, u32)],
    notes: &mut Vec<String>,
) -> Vec<Server> {
    let mut counts: HashMap<u32, usize> = HashMap::new();
    for d in dests.iter().filter(|d| d.weight > 0) {
        *counts.entry(d.weight).or_default() += 1;
    }
    // The commonest weight, the larger on a tie; 1 when every server is at weight 0.
    let usual = counts
        .into_iter()
        .max_by_key(|&(w, n)| (n, w))
        .map_or(1, |(w, _)| w);
    dests
        .iter()
        .map(|d| {
            let last_weight = if d.weight > 0 {
                d.weight
            } else if let Some(&(_, w)) = given.iter().find(|(a, _)| *a == d.addr) {
                w
            } else {
                notes.push(format!(
                    "--which-server: {} is at weight 0; its share of the table is that of its \
                     last non-zero weight, which IPVS does not report: {usual} assumed (give \
                     it with --last-weight {}=WEIGHT)",
                    d.addr, d.addr
                ));
                usual
            };
            Server {
                addr: d.addr,
                last_weight,
                weight: d.weight,
            }
        })
        .collect()
}

/// One line of the answer: the Call-ID and the server (`-` when none takes new calls), and
/// the table's own server when the call falls back from it; and whether there is a server.
fn answer(model: &Maglev, call_id: &str) -> (String, bool) {
    let c = model.choose(call_id.as_bytes());
    let server = c.server.map_or("-".to_owned(), |s| s.addr.to_string());
    let line = match (c.fell_back(), c.primary) {
        (true, Some(p)) => {
            format!(
                "{call_id} {server} (the table's {} takes no new calls)\n",
                p.addr
            )
        }
        _ => format!("{call_id} {server}\n"),
    };
    (line, c.server.is_some())
}

/// Carries out `--which-server`; returns the exit status: 0, or 1 when the service is not a
/// `sipmh` one, has no server that takes new calls, or anything else stops it.
pub(crate) fn carry_out(
    ctx: &mut Ctx<'_>,
    req: &WhichServerRequest,
    stdin: &mut dyn BufRead,
    read_param: &dyn Fn() -> io::Result<String>,
) -> i32 {
    let fail = |ctx: &mut Ctx<'_>, msg: String| {
        let _ = ctx.err.write_all(msg.as_bytes());
        1
    };
    let svc = explain::service_option(&req.service);
    let service = match ctx.ipvs.service(&req.service) {
        Ok(s) => s,
        Err(e) => return fail(ctx, explain::message(&e, None)),
    };
    if service.scheduler.name() != SIPMH {
        return fail(
            ctx,
            format!(
                "--which-server: service {svc} is scheduled by {}, not {SIPMH}: its choice \
                 does not follow from the Call-ID\n",
                service.scheduler.name()
            ),
        );
    }
    let dests = match ctx.ipvs.destinations(&req.service) {
        Ok(d) => d,
        Err(e) => return fail(ctx, explain::message(&e, None)),
    };
    let key = match key(req, read_param) {
        Ok(k) => k,
        Err(msg) => return fail(ctx, format!("--which-server: {msg}\n")),
    };
    let mut notes = Vec::new();
    let model = match Maglev::new(key, servers(&dests, &req.last_weights, &mut notes)) {
        Ok(m) => m,
        Err(e) => return fail(ctx, format!("--which-server: service {svc}: {e}\n")),
    };
    for n in notes {
        let _ = writeln!(ctx.err, "{n}");
    }
    let mut from_stdin = Vec::new();
    let ids: &[String] = if req.call_ids.iter().any(|c| c == "-") {
        for line in stdin.lines() {
            match line {
                Ok(l) if !l.trim().is_empty() => from_stdin.push(l.trim().to_owned()),
                Ok(_) => {}
                Err(e) => return fail(ctx, format!("--which-server: standard input: {e}\n")),
            }
        }
        &from_stdin
    } else {
        &req.call_ids
    };
    let mut status = 0;
    for id in ids {
        let (line, found) = answer(&model, id);
        if !found {
            status = 1;
        }
        if ctx.out.write_all(line.as_bytes()).is_err() {
            return 1;
        }
    }
    status
}

#[cfg(test)]
mod tests;
