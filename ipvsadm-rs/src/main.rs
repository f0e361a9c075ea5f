//! `ipvsadm-rs`: administration of the kernel's IP Virtual Server table.

fn main() {}
