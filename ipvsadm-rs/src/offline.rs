//! The command lines that need no IPVS connection, carried out before the
//! program connects, so that they work on a machine without IPVS (a build
//! host, a container, a user without `CAP_NET_ADMIN`): `--pe-stats`, and
//! every line that ends before reaching the kernel, namely `-h`, `-v` and
//! the lines refused as malformed (`--apply` lines included).
//!
//! ipvsadm 1.31 connects first and so fails even `-h` without IPVS ("Can't
//! initialize ipvs", status 2). With IPVS present the order makes no
//! difference: such lines print exactly what they printed after connecting.

use std::io::Write;

use crate::cli;
use crate::pe_stats;

/// Carries out `argv` if it needs no kernel; returns its exit status, or
/// `None` when the kernel is needed.
pub(crate) fn run(argv: &[String], out: &mut dyn Write, err: &mut dyn Write) -> Option<i32> {
    if let Some(req) = cli::pe_stats_request(argv) {
        return Some(match req {
            Ok(json) => pe_stats::run(std::fs::read_to_string(pe_stats::PROC_FILE), json, out, err),
            Err(exit) => finish(&exit, out, err),
        });
    }
    // `--apply` has a command line of its own (cli/apply.rs): refused here
    // when malformed, carried out with the kernel otherwise.
    if let Some(req) = cli::apply_request(argv) {
        return req.err().map(|exit| finish(&exit, out, err));
    }
    // No argument at all lists the table: that needs the kernel.
    if argv.len() <= 1 {
        return None;
    }
    match cli::parse(argv, false) {
        Ok(_) => None,
        Err(exit) => Some(finish(&exit, out, err)),
    }
}

/// Prints how a command line ends, as `app::main` would; returns its status.
fn finish(exit: &cli::Exit, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    // The run ends here whether or not these can be written.
    let _ = out.write_all(&exit.stdout);
    let _ = err.write_all(exit.stderr.as_bytes());
    exit.code
}
