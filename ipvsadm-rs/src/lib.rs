//! ipvsadm 1.31 compatible administration of the kernel's IP Virtual Server
//! table, over the [`ipvs`] library.
//!
//! The library is the program: `main.rs` only calls [`main`]. Its other
//! public items are what runs it against something other than the kernel
//! (the `restore_cpu` example, which times `-R` against a table that accepts
//! everything): [`run`] with a [`Ctx`] over an [`Ipvs`]. Everything else is
//! internal and may change with the program.
//!
//! Inside: `cli` turns an ipvsadm command line into a typed request,
//! `kernel` is what the commands need from IPVS (and ipvsadm's wording of
//! its errors), `render` produces ipvsadm's exact text (and `json` a stable
//! JSON form), `conn` reads `/proc/net/ip_vs_conn`, `app` carries out a
//! request (`apply` the `--apply` extension, on [`ipvs::plan`]), and
//! `program` sets up the streams and the kernel connection.
//! `explain` adds what a failure means after ipvsadm's message (and warns
//! about what a change sets up that IPVS cannot carry out), `offline`
//! carries out what needs no kernel before connecting, and `pe_stats` is
//! `--pe-stats`, the SIP engine's counters; `drain` is `--drain`, which
//! takes a real server out of a service without cutting a call.

mod app;
mod apply;
mod cli;
mod conn;
mod drain;
mod explain;
mod json;
mod kernel;
mod offline;
mod pe_stats;
mod program;
mod render;
mod sys;

pub use app::{main as run, Ctx};
pub use kernel::Ipvs;
pub use program::main;
pub use render::{Names, SystemNames};
