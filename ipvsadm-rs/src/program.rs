//! The program around [`app`]: the line recognised once, the real standard
//! streams, the kernel's IPVS (loading its module once, as ipvsadm does),
//! and the runs that need no kernel.
//!
//! What needs no IPVS connection is done before connecting, so that it
//! works on a machine without IPVS (a build host, a container, a user
//! without `CAP_NET_ADMIN`): the generated man page and completions,
//! `--pe-stats`, `--apply`'s file (read and checked, so that a bad file is
//! reported as such with or without IPVS) and every line that ends before
//! reaching the kernel (`-h`, `-v`, refusals). ipvsadm 1.31 connects first
//! and so fails even `-h` without IPVS ("Can't initialize ipvs", status 2);
//! with IPVS present the order makes no difference: such lines print
//! exactly what they printed after connecting.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use clap_complete::generate;
use ipvs::{Client, Info};

use crate::app::{self, Ctx};
use crate::cli::{self, Generate, Run};
use crate::conn;
use crate::drain::system::RealSystem;
use crate::render::SystemNames;

/// Connects and asks for the IPVS version, loading the module once if the
/// first attempt fails, as ipvsadm does.
fn connect() -> Result<(Client, Info), ipvs::Error> {
    let attempt = || -> Result<(Client, Info), ipvs::Error> {
        let mut c = Client::connect()?;
        let info = c.info()?;
        Ok((c, info))
    };
    match attempt() {
        Ok(v) => Ok(v),
        Err(first) => {
            let loaded = std::process::Command::new("/sbin/modprobe")
                .args(["--", "ip_vs"])
                .stdout(std::process::Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if loaded {
                attempt()
            } else {
                Err(first)
            }
        }
    }
}

fn exit_code(code: i32) -> ExitCode {
    ExitCode::from((code & 0xff) as u8)
}

/// Standard output as ipvsadm's C library buffers it: by line on a
/// terminal, in blocks otherwise, so that errors on the unbuffered standard
/// error fall between the pieces of output as ipvsadm's do.
fn stdout() -> Box<dyn Write> {
    let stdout = std::io::stdout();
    if stdout.is_terminal() {
        Box::new(stdout.lock())
    } else {
        Box::new(BufWriter::with_capacity(4096, stdout.lock()))
    }
}

/// The program: reads the command line, runs it on the real streams and
/// kernel, and gives the exit status.
pub fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let mut out = stdout();
    let mut err = std::io::stderr().lock();
    let code = run(&argv, &mut out, &mut err);
    // Nothing sensible can be done if the reader went away.
    let _ = out.flush();
    exit_code(code)
}

/// Prints how a line ends without being carried out; returns its status.
fn ended(exit: &cli::Exit, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    // The run ends here whether or not these can be written.
    let _ = out.write_all(&exit.stdout);
    let _ = err.write_all(exit.stderr.as_bytes());
    exit.code
}

/// Writes the man page or a completion script.
fn generate_doc(g: Generate, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let mut cmd = cli::command();
    let written = match g {
        Generate::Completions(shell) => {
            generate(shell, &mut cmd, "ipvsadm-rs", out);
            Ok(())
        }
        Generate::Man => clap_mangen::Man::new(cmd).section("8").render(out),
    };
    match written {
        Ok(()) => 0,
        Err(e) => {
            let _ = writeln!(err, "cannot render the man page: {e}");
            1
        }
    }
}

/// Opens `/proc/net/ip_vs_conn`.
fn read_conns() -> std::io::Result<Box<dyn BufRead>> {
    Ok(Box::new(BufReader::new(File::open(conn::PROC_FILE)?)))
}

/// The real servers of the persistent services, for `--pe-stats`: read
/// only once the engine is known to be loaded, so IPVS (which the engine
/// needs) is there, and not loaded as ipvsadm would.
fn servers() -> Result<Vec<crate::pe_stats::Held>, String> {
    let mut client = Client::connect().map_err(|e| crate::explain::message(&e, None))?;
    crate::pe_stats::held(&mut client, &read_conns)
}

/// The whole program but for its standard streams; returns the exit status.
fn run(argv: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let program = cli::program_name(argv);
    let mut stdin = std::io::stdin().lock();
    let run = match cli::recognise(argv) {
        Ok(run) => run,
        Err(exit) => return ended(&exit, out, err),
    };
    let run = match run {
        Run::Generate(g) => return generate_doc(g, out, err),
        Run::PeStats(req) => return crate::pe_stats::show(&req, &mut servers, out, err),
        Run::Apply(req) => match crate::apply::desired(program, &req, &mut stdin) {
            Ok(table) => KernelRun::Apply(req, table),
            Err(exit) => return ended(&exit, out, err),
        },
        Run::Drain(req) => KernelRun::Drain(req),
        Run::WhichServer(req) => KernelRun::WhichServer(req),
        Run::Ipvsadm(req) => KernelRun::Ipvsadm(req),
    };

    let (mut client, info) = match connect() {
        Ok(v) => v,
        Err(e) => {
            let _ = err.write_all(app::init_failure(&e).as_bytes());
            let _ = err.write_all(crate::explain::init_hint(&e).as_bytes());
            return 2;
        }
    };
    if let Some(w) = app::version_warning(&info) {
        let _ = err.write_all(w.as_bytes());
    }
    let mut ctx = Ctx {
        ipvs: &mut client,
        info,
        names: &SystemNames,
        out,
        err,
        read_conns: &read_conns,
    };
    match run {
        KernelRun::Drain(req) => {
            let mut sys = RealSystem::new(std::io::stdout().is_terminal());
            crate::drain::carry_out(&mut ctx, &mut sys, &req)
        }
        KernelRun::Apply(req, table) => {
            let r = crate::apply::carry_out(&mut ctx, program, &req, &table);
            app::finish(&mut ctx, r)
        }
        KernelRun::Ipvsadm(req) => app::carry_out(&mut ctx, program, req, &mut stdin),
        KernelRun::WhichServer(req) => {
            let read_key = || std::fs::read_to_string(crate::which_server::KEY_PARAM);
            crate::which_server::carry_out(&mut ctx, &req, &mut stdin, &read_key)
        }
    }
}

/// A run that needs the kernel, with what was read before connecting.
enum KernelRun {
    Ipvsadm(cli::Request),
    Apply(cli::ApplyRequest, ipvs::Table),
    Drain(cli::DrainRequest),
    WhichServer(crate::which_server::WhichServerRequest),
}
