// SPDX-License-Identifier: GPL-2.0

//! IPVS schedulers whose choice is a function of the service's destinations.
//!
//! C header: [`include/net/ip_vs.h`](srctree/include/net/ip_vs.h) (`struct ip_vs_scheduler`).
//!
//! A scheduler implements [`Scheduler`]: from the destinations of a service it builds a state
//! (for `sipmh`, a Maglev table), and for each new connection it picks a destination from that
//! state and the packet. The abstraction keeps the state of each service in its `sched_data`,
//! rebuilds it whenever IPVS reports a destination added, edited or removed, publishes the new
//! one under RCU and frees the old one after a grace period. [`module_ipvs_scheduler!`] builds
//! the C operations table at compile time and declares the module that registers it. Every
//! `unsafe` block of the scheduler side is in this folder.

mod dest;
mod packet;
mod registration;
mod scheduler;
mod state;

pub(crate) use dest::{Dest, DestInfo, Dests};
pub(crate) use packet::Packet;
pub(crate) use registration::{module_ipvs_scheduler, Registration};
pub(crate) use scheduler::{SchedTable, Scheduler};

/// `AF_INET6`, as IPVS stores address families (`u16`).
// CAST: AF_INET6 is 10, it fits.
pub(crate) const AF_INET6: u16 = kernel::bindings::AF_INET6 as u16;
/// `IPPROTO_UDP`, as IPVS stores protocols.
// CAST: IPPROTO_UDP is 17, it fits.
pub(crate) const IPPROTO_UDP: u16 = kernel::bindings::IPPROTO_UDP as u16;
