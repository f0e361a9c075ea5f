//! What ipvsadm's commands need from the kernel, as a trait narrow enough
//! for a short test fake. How its errors are worded is `explain.rs`'s.

use ipvs::{Change, Destination, Error, Service, ServiceKey, SyncDaemon, Timeouts};

/// The kernel's IPVS as the commands use it: [`ipvs::Client`], or a fake.
pub trait Ipvs {
    /// Every service.
    fn services(&mut self) -> Result<Vec<Service>, Error>;
    /// One service.
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error>;
    /// A service's destinations.
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error>;
    /// The connection timeouts.
    fn timeouts(&mut self) -> Result<Timeouts, Error>;
    /// The running sync daemons.
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error>;
    /// Carries out changes in order, each with its own result.
    fn make_changes(&mut self, changes: &[Change]) -> Vec<Result<(), Error>>;
}

impl Ipvs for ipvs::Client {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        ipvs::Client::services(self)
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        ipvs::Client::service(self, key)
    }
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        ipvs::Client::destinations(self, key)
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        ipvs::Client::timeouts(self)
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        ipvs::Client::daemons(self)
    }
    fn make_changes(&mut self, changes: &[Change]) -> Vec<Result<(), Error>> {
        ipvs::Client::apply_all(self, changes)
    }
}
