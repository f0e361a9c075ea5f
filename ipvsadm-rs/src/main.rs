//! `ipvsadm-rs`: administration of the kernel's IP Virtual Server table,
//! compatible with ipvsadm 1.31.

use std::process::ExitCode;

use clap_complete::generate;
use ipvs::{Client, Info};
use ipvsadm_rs::app::{self, Ctx};
use ipvsadm_rs::cli::{self, Generate};
use ipvsadm_rs::render::SystemNames;

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

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();

    if let Some(g) = cli::generate_request(&argv) {
        let mut cmd = cli::command();
        let mut out = Vec::new();
        match g {
            Generate::Completions(shell) => generate(shell, &mut cmd, "ipvsadm-rs", &mut out),
            Generate::Man => {
                if let Err(e) = clap_mangen::Man::new(cmd).section("8").render(&mut out) {
                    app::emit(b"", format!("cannot render the man page: {e}\n").as_bytes());
                    return exit_code(1);
                }
            }
        }
        app::emit(&out, b"");
        return exit_code(0);
    }

    let (mut client, info) = match connect() {
        Ok(v) => v,
        Err(e) => {
            app::emit(b"", app::init_failure(&e).as_bytes());
            return exit_code(2);
        }
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    if let Some(w) = app::version_warning(&info) {
        err.extend_from_slice(w.as_bytes());
    }
    let read_conns = || std::fs::read(ipvsadm_rs::conn::PROC_FILE);
    let mut ctx = Ctx {
        ipvs: &mut client,
        info,
        names: &SystemNames,
        out: &mut out,
        err: &mut err,
        read_conns: &read_conns,
    };
    let code = app::main(&mut ctx, &argv, &mut std::io::stdin().lock());
    app::emit(&out, &err);
    exit_code(code)
}
