//! A warning for a combination IPVS accepts but cannot carry out: a
//! firewall-mark service (`-f`) with one-packet scheduling (`-o`) and
//! masquerading (`-m`) real servers.
//!
//! The clients' packets reach the servers, but the servers' replies are
//! never NATed: a one-packet connection is not hashed (`ip_vs_conn_hash()`),
//! so no connection is there for a reply to match, and the only other way,
//! a persistence engine's `conn_out` (which `--pe sip` has), goes through
//! `ip_vs_find_real_service()`, which matches no reply when the servers have
//! port 0 (a firewall-mark server's port unless one is given), and then
//! `ip_vs_new_conn_out()`, which refuses firewall-mark services anyway. The
//! replies leave the director with the real server's own address as their
//! source.
//!
//! ipvsadm says nothing. ipvsadm-rs makes the change as asked, with
//! ipvsadm's output and exit status, and once it is made prints
//! [`warning`]'s lines on standard error, once per service and command (a
//! `-R` restore warns at its end, about the services as it left them). The
//! state is read back over netlink ([`check`]): whether a server added now
//! completes the combination depends on the service's flags in the kernel.

use std::collections::HashSet;
use std::net::SocketAddr;

use ipvs::{Change, Destination, Forward, Service, ServiceFlags, ServiceKey};

use super::service_option;
use crate::kernel::Ipvs;

/// The service a change may leave in the combination, to be checked once
/// the change is made: a firewall-mark service given `-o` by `-E`, or a
/// masquerading server added or edited on a firewall-mark service. A
/// service just added (`-A`) has no server yet: the lines that add its
/// servers are the ones checked.
pub(crate) fn concerns(c: &Change) -> Option<ServiceKey> {
    let key = match c {
        Change::EditService(s) if s.flags.contains(ServiceFlags::ONE_PACKET) => s.key,
        Change::AddDestination(k, d) | Change::EditDestination(k, d)
            if d.forward == Forward::Masq =>
        {
            *k
        }
        _ => return None,
    };
    matches!(key, ServiceKey::Fwmark { .. }).then_some(key)
}

/// The real servers whose replies IPVS cannot NAT: the masquerading servers
/// of a firewall-mark service with one-packet scheduling; none for any other
/// service.
pub(crate) fn unnated(s: &Service, dests: &[Destination]) -> Vec<SocketAddr> {
    let fwmark = matches!(s.key, ServiceKey::Fwmark { .. });
    if !fwmark || !s.flags.contains(ServiceFlags::ONE_PACKET) {
        return Vec::new();
    }
    dests
        .iter()
        .filter(|d| d.forward == Forward::Masq)
        .map(|d| d.addr)
        .collect()
}

/// The warning for a service and its servers, whole lines; `None` when
/// their replies are NATed.
pub(crate) fn warning(s: &Service, dests: &[Destination]) -> Option<String> {
    let servers = unnated(s, dests);
    if servers.is_empty() {
        return None;
    }
    let servers: Vec<String> = servers.iter().map(ToString::to_string).collect();
    Some(format!(
        "Warning: service {} has one-packet scheduling (-o) and masquerading (-m) real servers \
         ({}): IPVS cannot NAT their replies\n  \
         the replies leave this director un-NATed, with the real server's own address as \
         their source: a one-packet connection is not kept for replies to find, and for a \
         firewall-mark service IPVS makes none when they come (ip_vs_new_conn_out() refuses \
         such services)\n  \
         instead, use a service on VIP:PORT (-u VIP:PORT ... -o --pe sip: the SIP engine \
         NATs the replies), or direct routing (-g) or tunnelling (-i), whose real servers \
         answer from the VIP themselves; or no -o, if datagrams need not be scheduled one \
         by one\n",
        service_option(&s.key),
        servers.join(", ")
    ))
}

/// The warning for a service as the kernel has it now; `None` when its
/// replies are NATed, or it cannot be read (it was deleted meanwhile, say:
/// the change itself succeeded, and that is all ipvsadm would report).
pub(crate) fn check(ipvs: &mut dyn Ipvs, key: &ServiceKey) -> Option<String> {
    let s = ipvs.service(key).ok()?;
    let dests = ipvs.destinations(key).ok()?;
    warning(&s, &dests)
}

/// The services that changes made by one command may have left in the
/// combination ([`concerns`]), each once, in the order first touched.
#[derive(Default)]
pub(crate) struct Touched {
    order: Vec<ServiceKey>,
    seen: HashSet<ServiceKey>,
}

impl Touched {
    /// Notes a change that was made.
    pub(crate) fn note(&mut self, c: &Change) {
        if let Some(k) = concerns(c) {
            if self.seen.insert(k) {
                self.order.push(k);
            }
        }
    }

    /// The warnings for the services noted, as the kernel has them now;
    /// forgets them.
    pub(crate) fn warnings(&mut self, ipvs: &mut dyn Ipvs) -> String {
        self.seen.clear();
        std::mem::take(&mut self.order)
            .iter()
            .filter_map(|k| check(ipvs, k))
            .collect()
    }
}

#[cfg(test)]
mod tests;
