//! Planning a change of the whole table: the smallest list of [`Change`]s
//! that turns the table as it is into the table as it should be, in an
//! order that never leaves traffic without a service or a server it still
//! needs.
//!
//! Reloading a configuration by flushing the table and restoring it drops
//! every packet in between and orphans every persistence template (their
//! service is gone). [`plan`] instead edits what an edit can change (a
//! service's scheduler, flags, persistence and engine; a server's weight,
//! forwarding method, thresholds and tunnel), adds and deletes only what
//! differs, and never touches a service that stays, so connections and
//! templates of the services that stay keep them.
//!
//! Everything here is pure: [`Table`] is plain data, [`plan`] compares two
//! of them, and [`Table::apply`] carries a change out on the model (what
//! the kernel would do with it), which is how the plans are tested.
//!
//! ```
//! use ipvs::{plan, Change, Destination, Service, ServiceKey, Table};
//!
//! let key = ServiceKey::udp("10.0.0.1:5060".parse().unwrap());
//! let mut current = Table::new();
//! current.add_service(Service::new(key)).unwrap();
//! current.add_destination(&key, Destination::new("10.0.1.1:5060".parse().unwrap())).unwrap();
//!
//! let mut desired = current.clone();
//! desired.destination_mut(&key, "10.0.1.1:5060".parse().unwrap()).unwrap().weight = 3;
//!
//! let changes = plan(&current, &desired);
//! assert!(matches!(changes.as_slice(), [Change::EditDestination(_, d)] if d.weight == 3));
//! assert!(plan(&desired, &desired).is_empty());
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;

use crate::{Change, Destination, Forward, Service, ServiceFlags, ServiceKey, Stats};

/// Services with their destinations, in a stable order (the order they were
/// added: a file's, or the kernel's listing), each service once and each
/// destination once per service.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Table {
    entries: Vec<(Service, Vec<Destination>)>,
    /// Where each service is in `entries`.
    index: HashMap<ServiceKey, usize>,
}

/// Why a change cannot be made to a [`Table`]: the kernel's refusals, on the
/// model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TableError {
    /// The service is already in the table.
    ServiceExists(ServiceKey),
    /// The service is not in the table.
    NoService(ServiceKey),
    /// The service already has this destination.
    DestinationExists(ServiceKey, SocketAddr),
    /// The service has no such destination.
    NoDestination(ServiceKey, SocketAddr),
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TableError::ServiceExists(k) => write!(f, "service {k} is already defined"),
            TableError::NoService(k) => write!(f, "service {k} is not defined"),
            TableError::DestinationExists(k, a) => {
                write!(f, "destination {a} of service {k} is already defined")
            }
            TableError::NoDestination(k, a) => {
                write!(f, "service {k} has no destination {a}")
            }
        }
    }
}

impl std::error::Error for TableError {}

impl Table {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a service (with no destination) at the end.
    pub fn add_service(&mut self, service: Service) -> Result<(), TableError> {
        if self.index.contains_key(&service.key) {
            return Err(TableError::ServiceExists(service.key));
        }
        self.index.insert(service.key, self.entries.len());
        self.entries.push((service, Vec::new()));
        Ok(())
    }

    /// Adds a destination at the end of its service's.
    pub fn add_destination(
        &mut self,
        key: &ServiceKey,
        destination: Destination,
    ) -> Result<(), TableError> {
        let dests = self.dests_mut(key)?;
        if dests.iter().any(|d| d.addr == destination.addr) {
            return Err(TableError::DestinationExists(*key, destination.addr));
        }
        dests.push(destination);
        Ok(())
    }

    /// Every service with its destinations, in order.
    pub fn services(&self) -> impl Iterator<Item = (&Service, &[Destination])> {
        self.entries.iter().map(|(s, d)| (s, d.as_slice()))
    }

    /// One service with its destinations.
    pub fn service(&self, key: &ServiceKey) -> Option<(&Service, &[Destination])> {
        let (s, d) = self.entries.get(*self.index.get(key)?)?;
        Some((s, d))
    }

    /// One service, to change.
    pub fn service_mut(&mut self, key: &ServiceKey) -> Option<&mut Service> {
        let i = *self.index.get(key)?;
        self.entries.get_mut(i).map(|(s, _)| s)
    }

    /// One destination of a service, to change.
    pub fn destination_mut(
        &mut self,
        key: &ServiceKey,
        addr: SocketAddr,
    ) -> Option<&mut Destination> {
        self.dests_mut(key)
            .ok()?
            .iter_mut()
            .find(|d| d.addr == addr)
    }

    /// How many services the table has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no service.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn dests_mut(&mut self, key: &ServiceKey) -> Result<&mut Vec<Destination>, TableError> {
        let i = *self.index.get(key).ok_or(TableError::NoService(*key))?;
        self.entries
            .get_mut(i)
            .map(|(_, d)| d)
            .ok_or(TableError::NoService(*key))
    }

    fn remove_service(&mut self, key: &ServiceKey) -> Result<(), TableError> {
        let i = self.index.remove(key).ok_or(TableError::NoService(*key))?;
        self.entries.remove(i);
        for pos in self.index.values_mut() {
            if *pos > i {
                *pos -= 1;
            }
        }
        Ok(())
    }

    /// Carries out one change on the model, refusing what the kernel
    /// refuses (adding what exists, editing or deleting what does not).
    /// Changes that are not about services and destinations (counters,
    /// timeouts, sync daemons) leave the table as it is.
    pub fn apply(&mut self, change: &Change) -> Result<(), TableError> {
        match change {
            Change::AddService(s) => self.add_service(config_of_service(s)),
            Change::EditService(s) => {
                let old = self
                    .service_mut(&s.key)
                    .ok_or(TableError::NoService(s.key))?;
                *old = config_of_service(s);
                Ok(())
            }
            Change::DeleteService(k) => self.remove_service(k),
            Change::Flush => {
                *self = Table::new();
                Ok(())
            }
            Change::AddDestination(k, d) => self.add_destination(k, config_of_destination(d)),
            Change::EditDestination(k, d) => {
                let old = self
                    .destination_mut(k, d.addr)
                    .ok_or(TableError::NoDestination(*k, d.addr))?;
                *old = config_of_destination(d);
                Ok(())
            }
            Change::DeleteDestination(k, a) => {
                let dests = self.dests_mut(k)?;
                let i = dests
                    .iter()
                    .position(|d| d.addr == *a)
                    .ok_or(TableError::NoDestination(*k, *a))?;
                dests.remove(i);
                Ok(())
            }
            Change::Zero(_)
            | Change::SetTimeouts(_)
            | Change::StartDaemon(_)
            | Change::StopDaemon(_) => Ok(()),
        }
    }

    /// Whether both tables configure the same services and destinations,
    /// whatever their order and the fields the kernel keeps itself (see
    /// [`same_service_config`] and [`same_destination_config`]).
    pub fn same_config(&self, other: &Table) -> bool {
        self.len() == other.len()
            && self.services().all(|(s, dests)| {
                other.service(&s.key).is_some_and(|(o, odests)| {
                    same_service_config(s, o)
                        && dests.len() == odests.len()
                        && dests.iter().all(|d| {
                            odests
                                .iter()
                                .any(|od| od.addr == d.addr && same_destination_config(d, od))
                        })
                })
            })
    }
}

/// The service flags a table's owner chooses; the kernel adds `HASHED` to
/// every service it holds.
fn chosen_flags(flags: ServiceFlags) -> u32 {
    flags.bits() & !ServiceFlags::HASHED.bits()
}

/// Whether two services are configured alike: the same scheduler, flags
/// (but for the kernel's own `HASHED`), persistence engine (none and an
/// empty name are the same) and, for persistent services only, the same
/// timeout and granularity (the kernel uses them for nothing else).
pub fn same_service_config(a: &Service, b: &Service) -> bool {
    let pe = |s: &Service| s.pe_name.clone().filter(|p| !p.is_empty());
    a.key == b.key
        && a.scheduler == b.scheduler
        && chosen_flags(a.flags) == chosen_flags(b.flags)
        && pe(a) == pe(b)
        && (!a.is_persistent() || (a.timeout == b.timeout && a.netmask == b.netmask))
}

/// Whether two destinations are configured alike: the same weight,
/// thresholds and forwarding method, and for tunnels the same tunnel.
///
/// A destination the kernel found to be a local address is reported as
/// [`Forward::Local`] whatever method it was given, and would be again
/// after any edit, so `Local` matches every method.
pub fn same_destination_config(a: &Destination, b: &Destination) -> bool {
    let forward =
        a.forward == b.forward || a.forward == Forward::Local || b.forward == Forward::Local;
    a.addr == b.addr
        && a.weight == b.weight
        && a.upper_threshold == b.upper_threshold
        && a.lower_threshold == b.lower_threshold
        && forward
        && (!(a.forward == Forward::Tunnel && b.forward == Forward::Tunnel) || a.tunnel == b.tunnel)
}

/// A service as a change sends it: its configuration, without the counters
/// and flags the kernel keeps itself.
fn config_of_service(s: &Service) -> Service {
    Service {
        flags: ServiceFlags::from_bits(chosen_flags(s.flags)),
        stats: Stats::default(),
        ..s.clone()
    }
}

/// A destination as a change sends it: its configuration, without the
/// connection counts and counters of listings.
fn config_of_destination(d: &Destination) -> Destination {
    Destination {
        active_conns: 0,
        inactive_conns: 0,
        persistent_conns: 0,
        stats: Stats::default(),
        ..d.clone()
    }
}

/// The changes that turn `current` into `desired`, in the order to carry
/// them out; empty when they already configure the same (see
/// [`Table::same_config`]).
///
/// Each difference is one change: a service or destination that differs
/// only in its configuration is edited (`-E`, `-e`), never deleted and
/// added again, since everything but its address is editable; only what is
/// in one table alone is added or deleted. Within each step below, services
/// and destinations come in `desired`'s order. The order keeps traffic
/// flowing:
///
/// 1. services: the new ones are added and those that stay but differ are
///    edited. These are the changes the kernel may refuse for want of a
///    module (a scheduler or persistence engine), so they come before any
///    server is touched;
/// 2. destinations: the new ones are added (their service exists by now)
///    and those that differ are edited;
/// 3. the destinations that go are deleted from the services that stay,
///    after their replacements were added, so a service is never left
///    without a server it is about to get;
/// 4. last, the services that go are deleted (with their destinations).
///
/// A service of both tables is never deleted, so its connections and
/// persistence templates survive.
pub fn plan(current: &Table, desired: &Table) -> Vec<Change> {
    let mut services = Vec::new();
    let mut servers = Vec::new();
    let mut deletions = Vec::new();
    for (want, want_dests) in desired.services() {
        let have_dests = match current.service(&want.key) {
            None => {
                services.push(Change::AddService(config_of_service(want)));
                &[][..]
            }
            Some((have, have_dests)) => {
                if !same_service_config(have, want) {
                    services.push(Change::EditService(config_of_service(want)));
                }
                have_dests
            }
        };
        let have_by_addr: HashMap<SocketAddr, &Destination> =
            have_dests.iter().map(|d| (d.addr, d)).collect();
        for d in want_dests {
            match have_by_addr.get(&d.addr) {
                None => servers.push(Change::AddDestination(want.key, config_of_destination(d))),
                Some(h) if !same_destination_config(h, d) => {
                    servers.push(Change::EditDestination(want.key, config_of_destination(d)));
                }
                Some(_) => {}
            }
        }
        let wanted: HashSet<SocketAddr> = want_dests.iter().map(|d| d.addr).collect();
        deletions.extend(
            have_dests
                .iter()
                .filter(|d| !wanted.contains(&d.addr))
                .map(|d| Change::DeleteDestination(want.key, d.addr)),
        );
    }
    let mut changes = services;
    changes.append(&mut servers);
    changes.append(&mut deletions);
    changes.extend(
        current
            .services()
            .filter(|(s, _)| desired.service(&s.key).is_none())
            .map(|(s, _)| Change::DeleteService(s.key)),
    );
    changes
}

#[cfg(test)]
mod tests;
