//! The `no_std` core of the SIP persistence engine: everything that needs no kernel.
#![no_std]
