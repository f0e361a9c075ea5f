//! `ipvsadm-rs`: administration of the kernel's IP Virtual Server table,
//! compatible with ipvsadm 1.31.

fn main() -> std::process::ExitCode {
    ipvsadm_rs::main()
}
