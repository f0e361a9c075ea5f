//! ipvsadm 1.31 compatible administration of the kernel's IP Virtual Server
//! table over generic netlink.
//!
//! The crate is split so the pieces can be reused: [`netlink`] is a small
//! typed client for the `IPVS` generic netlink family, [`cli`] turns an
//! ipvsadm command line into a typed request, [`render`] produces ipvsadm's
//! exact text (and [`json`] a stable JSON form), [`conn`] reads
//! `/proc/net/ip_vs_conn`, and [`app`] ties them together.

pub mod app;
pub mod cli;
pub mod conn;
pub mod json;
pub mod netlink;
pub mod render;
pub mod sys;
pub mod types;
