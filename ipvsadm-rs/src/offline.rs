//! The command lines that need no IPVS connection, carried out before the
//! program connects, so that they work on a machine without IPVS (a build
//! host, a container, a user without `CAP_NET_ADMIN`): `--pe-stats`, and
//! every line that ends before reaching the kernel, namely `-h`, `-v` and
//! the lines refused as malformed (`--apply` and `--drain` lines
//! included). `--apply`'s file is read and checked here too, so that a bad
//! file is reported as such with or without IPVS.
//!
//! ipvsadm 1.31 connects first and so fails even `-h` without IPVS ("Can't
//! initialize ipvs", status 2). With IPVS present the order makes no
//! difference: such lines print exactly what they printed after connecting.

use std::io::{Read, Write};

use ipvs::Table;

use crate::cli::{self, ApplyRequest, DrainRequest};
use crate::pe_stats;

/// What is left for the kernel after the offline part of a command line.
pub(crate) enum Offline {
    /// The line has been carried out (or refused); its exit status.
    Done(i32),
    /// The line needs the kernel.
    Kernel,
    /// `--apply`, with the table its file describes.
    Apply(ApplyRequest, Table),
    /// `--drain`, its line checked.
    Drain(DrainRequest),
}

/// Carries out what `argv` needs no kernel for.
pub(crate) fn run(
    argv: &[String],
    stdin: &mut dyn Read,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Offline {
    if let Some(req) = cli::pe_stats_request(argv) {
        return Offline::Done(match req {
            Ok(req) => pe_stats::run(std::fs::read_to_string(pe_stats::PROC_FILE), &req, out, err),
            Err(exit) => finish(&exit, out, err),
        });
    }
    // So has `--drain` (cli/drain.rs): a refused line touches nothing.
    if let Some(req) = cli::drain_request(argv) {
        return match req {
            Ok(req) => Offline::Drain(req),
            Err(exit) => Offline::Done(finish(&exit, out, err)),
        };
    }
    // `--apply` has a command line of its own (cli/apply.rs), and a file.
    if let Some(req) = cli::apply_request(argv) {
        let program = cli::program_name(argv);
        return match req
            .and_then(|req| crate::apply::desired(program, &req, stdin).map(|table| (req, table)))
        {
            Ok((req, table)) => Offline::Apply(req, table),
            Err(exit) => Offline::Done(finish(&exit, out, err)),
        };
    }
    // No argument at all lists the table: that needs the kernel.
    if argv.len() <= 1 {
        return Offline::Kernel;
    }
    match cli::parse(argv, false) {
        Ok(_) => Offline::Kernel,
        Err(exit) => Offline::Done(finish(&exit, out, err)),
    }
}

/// Prints how a command line ends, as `app::main` would; returns its status.
fn finish(exit: &cli::Exit, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    // The run ends here whether or not these can be written.
    let _ = out.write_all(&exit.stdout);
    let _ = err.write_all(exit.stderr.as_bytes());
    exit.code
}
