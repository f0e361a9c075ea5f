//! A typed client for the Linux kernel's IP Virtual Server (IPVS), the
//! layer-4 load balancer configured by `ipvsadm`, over generic netlink.
//!
//! [`Client`] lists and changes the table; the model ([`Service`],
//! [`Destination`], [`SyncDaemon`], [`Timeouts`], ...) is plain data with an
//! `Other(..)` variant wherever the kernel may send a value this crate does
//! not know, so that decoding never fails on one (nor panics on anything).
//! Errors ([`Error`]) carry the operation, the object and the kernel's errno.
//!
//! ```no_run
//! use ipvs::{Change, Client, Destination, Service, ServiceKey};
//!
//! let mut ipvs = Client::connect()?;
//! let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
//! ipvs.apply(&Change::AddService(Service::new(key)))?;
//! ipvs.apply(&Change::AddDestination(key, Destination::new("192.168.0.2:80".parse().unwrap())))?;
//! for s in ipvs.services()? {
//!     println!("{} {} {:?}", s.key, s.scheduler, ipvs.destinations(&s.key)?);
//! }
//! # Ok::<(), ipvs::Error>(())
//! ```
//!
//! Listing and changing need `CAP_NET_ADMIN` in the namespace;
//! [`Client::connect_in_netns`] reaches another namespace without moving
//! the calling thread. With the `serde` feature every model type is
//! `Serialize`.

#![deny(missing_docs)]

mod change;
mod client;
mod codec;
mod config;
mod daemon;
mod destination;
mod error;
mod family;
pub mod maglev;
mod netns;
mod plan;
pub mod proc;
mod service;
mod stats;

pub use change::Change;
pub use client::Client;
pub use config::{Info, Timeouts, Version};
pub use daemon::{DaemonState, SyncDaemon};
pub use destination::{Destination, Forward, Tunnel, TunnelFlags, TunnelType};
pub use error::{Error, Object, Op, Result};
pub use family::{Family, Protocol};
pub use maglev::Maglev;
pub use plan::{plan, same_destination_config, same_service_config, Table, TableError};
pub use service::{Netmask, Scheduler, Service, ServiceFlags, ServiceKey};
pub use stats::Stats;
