//! The `--json` form of every listing. Its shape is documented in
//! `docs/ipvsadm-rs.md` and only grows: fields are never renamed or removed.
//!
//! Addresses are always numeric, counters are exact, and entries come in the
//! same order as in the text listing.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::Write;

use ipvs::{
    Destination, Family, Forward, Netmask, Protocol, Service, ServiceFlags, ServiceKey, Stats,
    SyncDaemon, Timeouts, TunnelType,
};
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::conn::Conn;
use crate::render;
use crate::sys;

#[derive(Serialize)]
pub(crate) struct Listing<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) conn_tab_size: Option<u32>,
    pub(crate) services: Vec<JsonService<'a>>,
}

#[derive(Serialize)]
pub(crate) struct JsonService<'a> {
    pub(crate) family: &'static str,
    /// `tcp`, `udp`, `sctp`; absent for fwmark services.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) protocol: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) address: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) fwmark: Option<u32>,
    pub(crate) scheduler: &'a str,
    pub(crate) sched_flags: Vec<&'static str>,
    pub(crate) persistent: bool,
    /// Persistence timeout in seconds (meaningful when `persistent`).
    pub(crate) timeout: u32,
    /// IPv4 services: the persistence mask as an address; IPv6: prefix length.
    pub(crate) netmask: serde_json::Value,
    pub(crate) pe: Option<&'a str>,
    pub(crate) one_packet: bool,
    pub(crate) stats: Stats,
    pub(crate) destinations: Vec<JsonDest>,
}

#[derive(Serialize)]
pub(crate) struct JsonTunnel {
    #[serde(rename = "type")]
    pub(crate) kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) checksum: Option<&'static str>,
}

#[derive(Serialize)]
pub(crate) struct JsonDest {
    pub(crate) family: &'static str,
    pub(crate) address: String,
    pub(crate) port: u16,
    /// `masq`, `local`, `tunnel`, `route`.
    pub(crate) forward: &'static str,
    pub(crate) weight: u32,
    pub(crate) u_threshold: u32,
    pub(crate) l_threshold: u32,
    pub(crate) active_conns: u32,
    pub(crate) inact_conns: u32,
    pub(crate) persist_conns: u32,
    /// Present for tunnelled destinations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) tunnel: Option<JsonTunnel>,
    pub(crate) stats: Stats,
}

fn family(f: Family) -> &'static str {
    if f == Family::Inet6 {
        "inet6"
    } else {
        "inet"
    }
}

fn proto(p: Protocol) -> &'static str {
    p.name().unwrap_or("unknown")
}

/// The scheduler flags set, by their `-b` names; unlike the text listing,
/// the third flag of `sh` and `mh` is shown too (as `flag-3`).
fn sched_flag_names(se: &Service) -> Vec<&'static str> {
    render::SCHED_FLAGS
        .into_iter()
        .zip(render::sched_flag_names(se.scheduler.name()))
        .filter(|(bit, _)| se.flags.contains(*bit))
        .map(|(_, name)| name.unwrap_or("flag-3"))
        .collect()
}

fn dest(e: &Destination) -> JsonDest {
    let forward = match e.forward {
        Forward::Masq => "masq",
        Forward::Local => "local",
        Forward::Tunnel => "tunnel",
        Forward::Route => "route",
        Forward::Other(_) => "unknown",
    };
    let checksum = ["none", "checksum", "remote"][render::tun_flag_index(e.tunnel.flags)];
    let tunnel = (e.forward == Forward::Tunnel).then_some(match e.tunnel.kind {
        TunnelType::Gue => JsonTunnel {
            kind: "gue",
            port: Some(e.tunnel.port),
            checksum: Some(checksum),
        },
        TunnelType::Gre => JsonTunnel {
            kind: "gre",
            port: None,
            checksum: Some(checksum),
        },
        TunnelType::Ipip => JsonTunnel {
            kind: "ipip",
            port: None,
            checksum: None,
        },
        TunnelType::Other(_) => JsonTunnel {
            kind: "unknown",
            port: None,
            checksum: None,
        },
    });
    JsonDest {
        family: family(Family::of(&e.addr.ip())),
        address: sys::ntop(&e.addr.ip()),
        port: e.addr.port(),
        forward,
        weight: e.weight,
        u_threshold: e.upper_threshold,
        l_threshold: e.lower_threshold,
        active_conns: e.active_conns,
        inact_conns: e.inactive_conns,
        persist_conns: e.persistent_conns,
        tunnel,
        stats: e.stats,
    }
}

/// A service's key as [`service`] names it: `family`, then `protocol`,
/// `address` and `port`, or `fwmark`.
pub(crate) fn service_key(key: &ServiceKey) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("family".into(), family(key.family()).into());
    match *key {
        ServiceKey::Inet { protocol, addr } => {
            m.insert("protocol".into(), proto(protocol).into());
            m.insert("address".into(), sys::ntop(&addr.ip()).into());
            m.insert("port".into(), addr.port().into());
        }
        ServiceKey::Fwmark { mark, .. } => {
            m.insert("fwmark".into(), mark.into());
        }
    }
    m.into()
}

/// One service and its destinations.
pub(crate) fn service<'a>(se: &'a Service, dests: &[Destination]) -> JsonService<'a> {
    let netmask = match se.netmask {
        Netmask::Ipv6(prefix) => serde_json::Value::from(prefix),
        Netmask::Ipv4(m) => serde_json::Value::from(m.to_string()),
    };
    let (inet, fwmark) = match se.key {
        ServiceKey::Inet { protocol, addr } => (Some((protocol, addr)), None),
        ServiceKey::Fwmark { mark, .. } => (None, Some(mark)),
    };
    JsonService {
        family: family(se.key.family()),
        protocol: inet.map(|(p, _)| proto(p)),
        address: inet.map(|(_, a)| sys::ntop(&a.ip())),
        port: inet.map(|(_, a)| a.port()),
        fwmark,
        scheduler: se.scheduler.name(),
        sched_flags: sched_flag_names(se),
        persistent: se.is_persistent(),
        timeout: se.timeout,
        netmask,
        pe: se.pe_name.as_deref().filter(|p| !p.is_empty()),
        one_packet: se.flags.contains(ServiceFlags::ONE_PACKET),
        stats: se.stats,
        destinations: dests.iter().map(dest).collect(),
    }
}

#[derive(Serialize)]
struct JsonEndpoint {
    address: String,
    port: u16,
}

#[derive(Serialize)]
struct JsonConn<'a> {
    protocol: Cow<'a, str>,
    client: JsonEndpoint,
    #[serde(rename = "virtual")]
    virtual_: JsonEndpoint,
    destination: JsonEndpoint,
    state: Cow<'a, str>,
    expires: u32,
    pe_name: Option<Cow<'a, str>>,
    pe_data: Option<Cow<'a, str>>,
}

/// One connection of `-Lc --json`. Bytes that are not UTF-8 become U+FFFD.
fn connection(c: &Conn) -> JsonConn<'_> {
    JsonConn {
        protocol: String::from_utf8_lossy(&c.protocol),
        client: JsonEndpoint {
            address: sys::ntop(&c.client),
            port: c.client_port,
        },
        virtual_: JsonEndpoint {
            address: sys::ntop(&c.virtual_addr),
            port: c.virtual_port,
        },
        destination: JsonEndpoint {
            address: sys::ntop(&c.dest),
            port: c.dest_port,
        },
        state: String::from_utf8_lossy(&c.state),
        expires: c.expires,
        pe_name: c.pe_name.as_deref().map(String::from_utf8_lossy),
        pe_data: c.pe_data.as_deref().map(String::from_utf8_lossy),
    }
}

/// The connections as a JSON array, serialized as they are read. Each one
/// goes through [`serde_json::Value`], whose objects order their keys, so
/// the keys come in the order the format has always had.
struct Connections<I>(RefCell<Option<I>>);

impl<I: Iterator<Item = Conn>> Serialize for Connections<I> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for c in self.0.borrow_mut().take().into_iter().flatten() {
            let v = serde_json::to_value(connection(&c)).map_err(S::Error::custom)?;
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}

/// `-Lc --json`, written entry by entry, so that a table of a million
/// connections is never held in memory.
pub(crate) fn write_connections(
    w: &mut dyn Write,
    conns: impl Iterator<Item = Conn>,
) -> serde_json::Result<()> {
    let doc = BTreeMap::from([("connections", Connections(RefCell::new(Some(conns))))]);
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n").map_err(serde_json::Error::io)
}

/// `-L --timeout --json`.
pub(crate) fn timeouts(t: &Timeouts) -> serde_json::Value {
    serde_json::json!({ "timeouts": t })
}

/// `-L --daemon --json`.
pub(crate) fn daemons(ds: &[SyncDaemon]) -> serde_json::Value {
    let v: Vec<serde_json::Value> = ds
        .iter()
        .filter_map(|d| {
            let state = render::daemon_kind(d.state)?;
            Some(serde_json::json!({
                "state": state,
                "mcast_interface": String::from_utf8_lossy(&d.interface),
                "syncid": d.sync_id,
                "sync_maxlen": d.max_len,
                "mcast_group": d.group.as_ref().map(sys::ntop),
                "mcast_port": d.port,
                "mcast_ttl": d.ttl,
            }))
        })
        .collect();
    serde_json::json!({ "daemons": v })
}

#[cfg(test)]
mod tests;
