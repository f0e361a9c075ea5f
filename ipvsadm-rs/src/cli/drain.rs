//! `--drain` (an ipvsadm-rs extension): the checking of a command line that
//! asks for it. Its options are defined in `defs/ours.rs` (so that the man
//! page and the completions show them); what it does is in `crate::drain`.
//!
//! A drain line is read by a clap command of its own, not by ipvsadm's
//! option replay: its `--timeout` takes a value (ipvsadm's `--timeout` lists
//! the connection timeouts and takes none), and each option may come once.
//! Addresses, ports and marks are read as ipvsadm reads them (`-r` without a
//! port takes the service's). Every refusal has status 2 and says what is
//! wrong; nothing reaches the kernel before the whole line is checked.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Command as ClapCommand;

use super::address::{parse_service, Parsed};
use super::definition;
use super::defs::ours::{DRAIN, DRAIN_TIMEOUT, FORCE_DELETE};
use super::defs::server::REAL_SERVER;
use super::defs::Def;
use super::service_arg::{self, once};
use super::Exit;
use crate::drain::SETTLE;

/// What `--drain` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DrainRequest {
    /// The service the server is drained from.
    pub(crate) service: ipvs::ServiceKey,
    /// The real server, with its port (the service's when not given).
    pub(crate) server: SocketAddr,
    /// How long to wait, from the weight's change; `None` waits until done.
    pub(crate) timeout: Option<Duration>,
    /// `--force-delete`: delete the server at the timeout all the same.
    pub(crate) force_delete: bool,
}

/// The clap command a drain line is read with: the options ipvsadm's
/// grammar shares with it keep their definitions' names, but each is taken
/// once.
fn drain_command() -> ClapCommand {
    let own = |d: &Def| definition::arg(d);
    let (service, group) = service_arg::args();
    ClapCommand::new("ipvsadm-rs")
        .override_usage(
            "ipvsadm-rs --drain -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK [-6] \
             -r SERVER-ADDRESS [--timeout SECONDS [--force-delete]]",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(own(&DRAIN))
        .args(service)
        .args([
            once(&REAL_SERVER).required(true),
            own(&DRAIN_TIMEOUT),
            own(&FORCE_DELETE).requires(DRAIN_TIMEOUT.long),
        ])
        .group(group)
}

/// The drain a line asks for (it names `--drain`); refused, status 2 with
/// what is wrong, when it cannot be carried out as written.
pub(crate) fn request<S: AsRef<str>>(argv: &[S]) -> Result<DrainRequest, Exit> {
    let m = drain_command()
        .try_get_matches_from(argv.iter().map(AsRef::as_ref))
        .map_err(|e| service_arg::refusal(&e))?;
    let value = |d: &Def| m.get_one::<String>(d.long).map(String::as_str);
    let key = service_arg::service(&m, DRAIN.long)?;
    let mut netmask = 0;

    let server_text = value(&REAL_SERVER).unwrap_or_default();
    let mut server = key.clone();
    let parsed = parse_service(server_text, &mut server, &mut netmask);
    if parsed == Parsed::None {
        return Err(Exit::fail("illegal real server address[:port] specified"));
    }
    let port = if parsed == Parsed::Addr {
        key.port
    } else {
        server.port
    };

    let timeout = m.get_one::<u32>(DRAIN_TIMEOUT.long).copied();
    if let Some(t) = timeout {
        if u64::from(t) < SETTLE.as_secs() {
            return Err(Exit::fail(format!(
                "--timeout {t}: a server is deleted only once it has been seen idle for {} \
                 seconds, so the timeout must be at least that",
                SETTLE.as_secs()
            )));
        }
    }
    Ok(DrainRequest {
        service: key.typed(),
        server: SocketAddr::new(server.addr, port),
        timeout: timeout.map(|t| Duration::from_secs(t.into())),
        force_delete: m.get_flag(FORCE_DELETE.long),
    })
}

#[cfg(test)]
mod tests;
