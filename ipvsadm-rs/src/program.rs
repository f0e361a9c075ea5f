//! The program around [`app`]: the real standard streams, the kernel's
//! IPVS (loading its module once, as ipvsadm does), and the generated man
//! page and completions, which need no kernel.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, IsTerminal, Write};
use std::process::ExitCode;

use clap_complete::generate;
use ipvs::{Client, Info};

use crate::app::{self, Ctx};
use crate::cli::{self, Generate};
use crate::conn;
use crate::drain::system::RealSystem;
use crate::offline::Offline;
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

/// The whole program but for its standard streams; returns the exit status.
fn run(argv: &[String], out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    if let Some(g) = cli::generate_request(argv) {
        let mut cmd = cli::command();
        let written = match g {
            Generate::Completions(shell) => {
                generate(shell, &mut cmd, "ipvsadm-rs", out);
                Ok(())
            }
            Generate::Man => clap_mangen::Man::new(cmd).section("8").render(out),
        };
        if let Err(e) = written {
            let _ = writeln!(err, "cannot render the man page: {e}");
            return 1;
        }
        return 0;
    }

    // -h, -v, --pe-stats, refused lines and --apply's file need no kernel
    // (offline.rs); --drain's line is checked there too.
    let mut stdin = std::io::stdin().lock();
    let (apply, drain) = match crate::offline::run(argv, &mut stdin, out, err) {
        Offline::Done(code) => return code,
        Offline::Kernel => (None, None),
        Offline::Apply(req, table) => (Some((req, table)), None),
        Offline::Drain(req) => (None, Some(req)),
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
    let read_conns = || -> std::io::Result<Box<dyn BufRead>> {
        Ok(Box::new(BufReader::new(File::open(conn::PROC_FILE)?)))
    };
    let mut ctx = Ctx {
        ipvs: &mut client,
        info,
        names: &SystemNames,
        out,
        err,
        read_conns: &read_conns,
    };
    if let Some(req) = drain {
        let mut sys = RealSystem::new(std::io::stdout().is_terminal());
        return crate::drain::run(&mut ctx, &mut sys, &req);
    }
    match apply {
        Some((req, table)) => app::apply_main(&mut ctx, cli::program_name(argv), &req, &table),
        None => app::main(&mut ctx, argv, &mut stdin),
    }
}
