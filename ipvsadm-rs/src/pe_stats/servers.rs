//! The calls held on each real server, which no exporter of IPVS shows:
//! for every real server of a persistent service, IPVS's count of the
//! persistence templates pointing at it (over netlink, as `-L
//! --persistent-conn` shows it), and for a `--pe sip` service its call
//! templates, those with a Call-ID, read from `/proc/net/ip_vs_conn` (the
//! rest are the engine's fallback templates, which hold no call).

use std::io::{self, BufRead};
use std::net::SocketAddr;

use ipvs::ServiceKey;

use crate::conn;
use crate::drain::{classify, Entry};
use crate::explain;
use crate::kernel::Ipvs;
use crate::render;

/// The engine whose templates carry a Call-ID.
const SIP: &str = "sip";

/// One real server of a persistent service, and what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    pub(crate) service: ServiceKey,
    pub(crate) server: SocketAddr,
    /// The persistence templates pointing at it: IPVS's own count, call
    /// templates and fallback templates alike.
    pub(crate) templates: u32,
    /// For a server of a `--pe sip` service, the calls it holds: its
    /// templates with a Call-ID. `None` for other services, whose templates
    /// are per client, not per call.
    pub(crate) calls: Option<u32>,
}

#[cfg(test)]
impl Held {
    /// A server `rs` of the UDP service `vip`, from literals.
    pub(crate) fn udp(vip: &str, rs: &str, templates: u32, calls: Option<u32>) -> Self {
        Held {
            service: ServiceKey::Inet {
                protocol: ipvs::Protocol::Udp,
                addr: vip.parse().expect("literal"),
            },
            server: rs.parse().expect("literal"),
            templates,
            calls,
        }
    }

    /// The servers of docs/ipvsadm-rs.md's example: two of a `--pe sip`
    /// service and one of a persistent service without engine.
    pub(crate) fn documented() -> Vec<Self> {
        vec![
            Held::udp("10.4.3.192:5060", "10.4.4.11:5060", 41, Some(40)),
            Held::udp("10.4.3.192:5060", "10.4.4.12:5060", 38, Some(38)),
            Held::udp("10.4.3.193:5060", "10.4.4.13:5060", 7, None),
        ]
    }
}

/// Reads the real servers of the persistent services, in ipvsadm's order
/// (`-L`'s): their template counts from `ipvs`, their calls from the
/// connections `read_conns` opens (read only when a `--pe sip` service has
/// a server). `Err` says what could not be read.
pub(crate) fn held(
    ipvs: &mut dyn Ipvs,
    read_conns: &dyn Fn() -> io::Result<Box<dyn BufRead>>,
) -> Result<Vec<Held>, String> {
    let mut services = ipvs.services().map_err(|e| explain::message(&e, None))?;
    render::sort_services(&mut services);
    let mut out = Vec::new();
    for s in services.iter().filter(|s| s.is_persistent()) {
        let mut dests = ipvs
            .destinations(&s.key)
            .map_err(|e| explain::message(&e, None))?;
        render::sort_dests(&mut dests);
        let sip = s.pe_name.as_deref() == Some(SIP);
        out.extend(dests.iter().map(|d| Held {
            service: s.key,
            server: d.addr,
            templates: d.persistent_conns,
            calls: sip.then_some(0),
        }));
    }
    if out.iter().any(|h| h.calls.is_some()) {
        count_calls(&mut out, read_conns)?;
    }
    Ok(out)
}

/// Counts each `--pe sip` server's call templates, in one pass over the
/// connections: a template belongs to at most one server of one service.
fn count_calls(
    out: &mut [Held],
    read_conns: &dyn Fn() -> io::Result<Box<dyn BufRead>>,
) -> Result<(), String> {
    let cannot = |e: io::Error| format!("cannot read {}: {e}", conn::PROC_FILE);
    let entries = conn::entries(read_conns().map_err(cannot)?)
        .map_err(cannot)?
        .ok_or_else(|| format!("unexpected input from {}", conn::PROC_FILE))?;
    for c in entries.filter(|c| c.client_port == 0) {
        for h in out.iter_mut() {
            let Some(calls) = h.calls.as_mut() else {
                continue;
            };
            match classify(&c, &h.service, h.server) {
                Entry::Template => {
                    *calls += 1;
                    break;
                }
                Entry::Fallback => break,
                Entry::Other => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
