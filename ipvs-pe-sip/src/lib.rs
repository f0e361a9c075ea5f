//! The `no_std` core of the SIP persistence engine: everything that needs no
//! kernel.
//!
//! The parser lives in `callid.rs` and the kernel's hash in `jhash.rs`, which
//! the kernel module compiles as modules of its own crate; this crate root
//! only adds the lints that keep them panic-free and, for tests, a model of
//! the C engine to compare the parser with.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs, rust_2018_idioms, unreachable_pub)]
#![cfg_attr(
    not(test),
    deny(
        clippy::indexing_slicing,
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::arithmetic_side_effects,
        clippy::unreachable,
        clippy::todo,
        clippy::unimplemented,
        clippy::string_slice,
    )
)]

mod callid;
mod jhash;
pub mod maglev;
pub mod media;
pub mod siphash;

pub use callid::*;
pub use jhash::jhash;

#[cfg(any(test, feature = "c-model"))]
pub mod c_model;
