//! ipvsadm 1.31 compatible administration of the kernel's IP Virtual Server
//! table, over the [`ipvs`] library.
//!
//! The library is the program: `main.rs` only calls [`main`]. Its other
//! public items are what runs it against something other than the kernel
//! (the `restore_cpu` example, which times `-R` against a table that accepts
//! everything): [`run`] with a [`Ctx`] over an [`Ipvs`]. Everything else is
//! internal and may change with the program.
//!
//! Inside: `cli` reads a command line once into the kind of run it asks
//! for (each option defined once, in `cli/defs/`), `kernel` is what the
//! commands need from IPVS, `render` produces ipvsadm's exact text (and
//! `json` a stable JSON form), `conn` reads `/proc/net/ip_vs_conn`, `app`
//! carries out an ipvsadm request, and `program` sets up the streams and the
//! kernel connection, doing first what needs no kernel. `explain` holds
//! ipvsadm's wording of errors and adds what a failure means (and warns
//! about what a change sets up that IPVS cannot carry out). ipvsadm-rs's
//! own runs: `apply` is `--apply` (on [`ipvs::plan`]), `pe_stats` is
//! `--pe-stats` (the SIP engine's counters, the calls held per server), and
//! `drain` is `--drain`, which takes a real server out of a service without
//! cutting a call, and `which_server` is `--which-server`, which says where the
//! `sipmh` scheduler sends a Call-ID.

mod app;
mod apply;
mod cli;
mod conn;
mod drain;
mod explain;
mod json;
mod kernel;
mod pe_stats;
mod program;
mod render;
mod sys;
mod which_server;

pub use app::{run, Ctx};
pub use kernel::Ipvs;
pub use program::main;
pub use render::{Names, SystemNames};
