//! ipvsadm 1.31 compatible administration of the kernel's IP Virtual Server
//! table, over the [`ipvs`] library.
//!
//! [`cli`] turns an ipvsadm command line into a typed request, [`kernel`]
//! is what the commands need from IPVS (and ipvsadm's wording of its
//! errors), [`render`] produces ipvsadm's exact text (and [`json`] a stable
//! JSON form), [`conn`] reads `/proc/net/ip_vs_conn`, and [`app`] ties them
//! together.

pub mod app;
pub mod cli;
pub mod conn;
pub mod json;
pub mod kernel;
pub mod render;
pub mod sys;
