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

use clap::{Arg, ArgAction, ArgGroup, Command as ClapCommand};
use ipvs::{Family, Protocol};

use super::address::{parse_service, Parsed};
use super::definition;
use super::defs::ours::{DRAIN, DRAIN_TIMEOUT, FORCE_DELETE};
use super::defs::server::REAL_SERVER;
use super::defs::service::{FWMARK_SERVICE, IPV6, SCTP_SERVICE, TCP_SERVICE, UDP_SERVICE};
use super::defs::{Def, Takes};
use super::draft::ServiceKey;
use super::number::parse_fwmark;
use super::Exit;
use crate::drain::SETTLE;

/// The group of the options naming the service.
const SERVICE: &str = "service";

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
    let once = |d: &Def| {
        let a = Arg::new(d.long).long(d.long).action(ArgAction::Set);
        let a = match d.short {
            Some(c) => a.short(c),
            None => a,
        };
        match d.takes {
            Takes::Nothing => a.action(ArgAction::SetTrue),
            Takes::Value(v) | Takes::MaybeValue(v) => a.value_name(v).allow_hyphen_values(true),
        }
    };
    let own = |d: &Def| definition::arg(d);
    ClapCommand::new("ipvsadm-rs")
        .override_usage(
            "ipvsadm-rs --drain -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK [-6] \
             -r SERVER-ADDRESS [--timeout SECONDS [--force-delete]]",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args([
            own(&DRAIN),
            once(&TCP_SERVICE),
            once(&UDP_SERVICE),
            once(&SCTP_SERVICE),
            once(&FWMARK_SERVICE),
            once(&IPV6),
            once(&REAL_SERVER).required(true),
            own(&DRAIN_TIMEOUT),
            own(&FORCE_DELETE).requires(DRAIN_TIMEOUT.long),
        ])
        .group(
            ArgGroup::new(SERVICE)
                .args([
                    TCP_SERVICE.long,
                    UDP_SERVICE.long,
                    SCTP_SERVICE.long,
                    FWMARK_SERVICE.long,
                ])
                .required(true)
                .multiple(false),
        )
}

/// The drain a line asks for (it names `--drain`); refused, status 2 with
/// what is wrong, when it cannot be carried out as written.
pub(crate) fn request<S: AsRef<str>>(argv: &[S]) -> Result<DrainRequest, Exit> {
    let m = drain_command()
        .try_get_matches_from(argv.iter().map(AsRef::as_ref))
        .map_err(|e| {
            let mut stderr = e.render().to_string();
            if !stderr.ends_with('\n') {
                stderr.push('\n');
            }
            Exit::status(2, stderr)
        })?;
    let value = |d: &Def| m.get_one::<String>(d.long).map(String::as_str);
    if m.get_flag(IPV6.long) && value(&FWMARK_SERVICE).is_none() {
        return Err(Exit::fail(
            "-6 goes with -f: it makes a firewall-mark service IPv6",
        ));
    }
    let mut key = ServiceKey::default();
    let mut netmask = 0;
    if let Some(mark) = value(&FWMARK_SERVICE) {
        key.fwmark = parse_fwmark(mark)?;
        key.af = if m.get_flag(IPV6.long) {
            Family::Inet6
        } else {
            Family::Inet
        };
    } else {
        let (text, protocol) = [
            (&TCP_SERVICE, Protocol::Tcp),
            (&UDP_SERVICE, Protocol::Udp),
            (&SCTP_SERVICE, Protocol::Sctp),
        ]
        .into_iter()
        .find_map(|(d, p)| value(d).map(|v| (v, p)))
        .ok_or_else(|| Exit::fail("--drain needs a service: -t, -u, --sctp-service or -f"))?;
        key.protocol = protocol;
        if parse_service(text, &mut key, &mut netmask) == Parsed::None {
            return Err(Exit::fail(
                "illegal virtual server address[:port] specified",
            ));
        }
    }

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
