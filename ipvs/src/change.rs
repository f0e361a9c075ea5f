//! Changes to the IPVS table and settings.

use std::net::SocketAddr;

use crate::{Destination, Object, Op, Service, ServiceKey, SyncDaemon, Timeouts};

/// One change, as [`Client::apply`](crate::Client::apply) and
/// [`Client::apply_all`](crate::Client::apply_all) send it.
///
/// Each variant holds what the kernel reads for it and nothing more.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Change {
    /// Adds a service (`-A`).
    AddService(Service),
    /// Replaces a service's configuration (`-E`).
    EditService(Service),
    /// Deletes a service and its destinations (`-D`).
    DeleteService(ServiceKey),
    /// Zeroes one service's counters, or every service's (`-Z`).
    Zero(Option<ServiceKey>),
    /// Deletes every service (`-C`).
    Flush,
    /// Adds a destination to a service (`-a`).
    AddDestination(ServiceKey, Destination),
    /// Replaces a destination's configuration (`-e`).
    EditDestination(ServiceKey, Destination),
    /// Deletes a service's destination, by address and port (`-d`).
    DeleteDestination(ServiceKey, SocketAddr),
    /// Sets the connection timeouts (`--set`).
    SetTimeouts(Timeouts),
    /// Starts a sync daemon (`--start-daemon`).
    StartDaemon(SyncDaemon),
    /// Stops a sync daemon (`--stop-daemon`).
    StopDaemon(SyncDaemon),
}

impl Change {
    /// The operation, for errors.
    pub fn op(&self) -> Op {
        match self {
            Change::AddService(_) => Op::AddService,
            Change::EditService(_) => Op::EditService,
            Change::DeleteService(_) => Op::DeleteService,
            Change::Zero(_) => Op::Zero,
            Change::Flush => Op::Flush,
            Change::AddDestination(..) => Op::AddDestination,
            Change::EditDestination(..) => Op::EditDestination,
            Change::DeleteDestination(..) => Op::DeleteDestination,
            Change::SetTimeouts(_) => Op::SetTimeouts,
            Change::StartDaemon(_) => Op::StartDaemon,
            Change::StopDaemon(_) => Op::StopDaemon,
        }
    }

    /// What the change is about, for errors.
    pub fn object(&self) -> Object {
        match self {
            Change::AddService(s) | Change::EditService(s) => Object::Service(s.key),
            Change::DeleteService(k) | Change::Zero(Some(k)) => Object::Service(*k),
            Change::Zero(None) | Change::Flush | Change::SetTimeouts(_) => Object::Table,
            Change::AddDestination(k, d) | Change::EditDestination(k, d) => {
                Object::Destination(*k, d.addr)
            }
            Change::DeleteDestination(k, a) => Object::Destination(*k, *a),
            Change::StartDaemon(d) | Change::StopDaemon(d) => Object::Daemon(d.state),
        }
    }
}
