//! `--drain` (an ipvsadm-rs extension): its arguments in the definition (so
//! that the man page and the completions show them), and the recognition
//! and checking of a command line that asks for it. What it does is in
//! `crate::drain`.
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

use super::address::{parse_service, Parsed};
use super::draft::{ServiceKey, AF_INET, AF_INET6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP};
use super::flag::Flag;
use super::number::parse_fwmark;
use super::Exit;
use crate::drain::SETTLE;

/// The id and long name of `--drain`.
pub(crate) const DRAIN: &str = "drain";
/// The id and long name of `--force-delete`.
const FORCE_DELETE: &str = "force-delete";
/// The id of a drain line's `--timeout SECONDS` (ipvsadm's own `--timeout`
/// is [`Flag::Timeout`], which takes no value).
const TIMEOUT: &str = "timeout";
/// The group of the options naming the service.
const SERVICE: &str = "service";

/// The man page's account of `--drain`: what it does and its exit statuses
/// (docs/ipvsadm-rs.md says why).
const DRAIN_LONG_HELP: &str = "\
Take a real server out of a service without cutting a call: \
--drain -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK [-6] -r SERVER-ADDRESS \
[--timeout SECONDS [--force-delete]]. \
Sets the server's weight to 0 (no new call or client is scheduled to it), waits until no \
persistence template that may hold a call and no connection points at it, then deletes it. \
Templates of a --pe service without engine data (the sip engine's fallback templates of \
datagrams without a Call-ID, refreshed by every client's keep-alives) are not waited for. \
The server is deleted once seen idle for 2 seconds (readings every second), and put back \
at weight 0 if a template pointing at it appeared just before the delete. \
Refused, changing nothing, when net.ipv4.vs.expire_quiescent_template is 1 (weight 0 \
would then move the calls in progress). Progress goes to standard output: one line \
rewritten on a terminal, plain lines otherwise. At the timeout (none by default) the \
server stays at weight 0 unless --force-delete. SIGINT, SIGTERM and SIGHUP stop the wait \
and leave the server at weight 0, not deleted. (ipvsadm-rs extension)

Exit status of --drain:
  0    deleted once idle
  1    an error; the message says how the server is left
  2    a refused command line (nothing changed), or no IPVS
  3    timed out: left at weight 0, not deleted
  4    timed out and deleted anyway (--force-delete)
  5    refused, nothing changed: expire_quiescent_template is 1
  128+N  stopped by signal N (130 for Ctrl-C): left at weight 0";

/// The clap arguments of `--drain` and `--force-delete` in ipvsadm's
/// definition, for the man page and the completions; a drain line itself
/// is read by [`drain_request`]. On another line `--force-delete` is
/// refused by clap (status 255, as any option a line does not take).
pub(crate) fn args() -> [Arg; 2] {
    [
        Arg::new(DRAIN)
            .long(DRAIN)
            .help(
                "Drain a real server (-r) of a service: weight 0, wait until no call \
                 template nor connection points at it, then delete it; with --timeout \
                 SECONDS, give up after that long (ipvsadm-rs extension)",
            )
            .long_help(DRAIN_LONG_HELP)
            .action(ArgAction::SetTrue),
        Arg::new(FORCE_DELETE)
            .long(FORCE_DELETE)
            .help(
                "With --drain and --timeout: at the timeout, delete the server anyway, \
                 cutting the calls still on it (exit status 4) (ipvsadm-rs extension)",
            )
            .action(ArgAction::SetTrue)
            .requires(DRAIN),
    ]
}

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

/// The clap command a drain line is read with.
fn drain_command() -> ClapCommand {
    let service = |f: Flag, short: Option<char>, value_name: &'static str| {
        let a = Arg::new(f.long())
            .long(f.long())
            .value_name(value_name)
            .action(ArgAction::Set)
            .allow_hyphen_values(true);
        match short {
            Some(c) => a.short(c),
            None => a,
        }
    };
    let hp = "HOST[:PORT]";
    ClapCommand::new("ipvsadm-rs")
        .override_usage(
            "ipvsadm-rs --drain -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK [-6] \
             -r SERVER-ADDRESS [--timeout SECONDS [--force-delete]]",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .args([
            Arg::new(DRAIN).long(DRAIN).action(ArgAction::SetTrue),
            service(Flag::TcpService, Some('t'), hp),
            service(Flag::UdpService, Some('u'), hp),
            service(Flag::SctpService, None, hp),
            service(Flag::FwmarkService, Some('f'), "FWMARK"),
            Arg::new(Flag::Ipv6.long())
                .long(Flag::Ipv6.long())
                .short('6')
                .action(ArgAction::SetTrue),
            service(Flag::RealServer, Some('r'), hp).required(true),
            Arg::new(TIMEOUT)
                .long(TIMEOUT)
                .value_name("SECONDS")
                .action(ArgAction::Set)
                .allow_negative_numbers(true)
                .value_parser(clap::value_parser!(u32)),
            Arg::new(FORCE_DELETE)
                .long(FORCE_DELETE)
                .action(ArgAction::SetTrue)
                .requires(TIMEOUT),
        ])
        .group(
            ArgGroup::new(SERVICE)
                .args([
                    Flag::TcpService.long(),
                    Flag::UdpService.long(),
                    Flag::SctpService.long(),
                    Flag::FwmarkService.long(),
                ])
                .required(true)
                .multiple(false),
        )
}

/// Whether `word` (after `argv[0]`) asks for `--drain`.
fn is_drain(word: &str) -> bool {
    word == "--drain" || word.starts_with("--drain=")
}

/// Recognises a command line asking for `--drain`: `None` for any other
/// line, which goes to ipvsadm's parser untouched; `Some(Err(..))`, status
/// 2 with what is wrong, for a drain line that is refused.
pub(crate) fn drain_request(argv: &[String]) -> Option<Result<DrainRequest, Exit>> {
    if !argv.iter().skip(1).any(|w| is_drain(w)) {
        return None;
    }
    Some(checked(argv))
}

/// A drain line read and checked.
fn checked(argv: &[String]) -> Result<DrainRequest, Exit> {
    let m = drain_command().try_get_matches_from(argv).map_err(|e| {
        let mut stderr = e.render().to_string();
        if !stderr.ends_with('\n') {
            stderr.push('\n');
        }
        Exit::status(2, stderr)
    })?;
    let value = |f: Flag| m.get_one::<String>(f.long()).map(String::as_str);

    if m.get_flag(Flag::Ipv6.long()) && value(Flag::FwmarkService).is_none() {
        return Err(Exit::fail(
            "-6 goes with -f: it makes a firewall-mark service IPv6",
        ));
    }
    let mut key = ServiceKey::default();
    let mut netmask = 0;
    if let Some(mark) = value(Flag::FwmarkService) {
        key.fwmark = parse_fwmark(mark)?;
        key.af = if m.get_flag(Flag::Ipv6.long()) {
            AF_INET6
        } else {
            AF_INET
        };
    } else {
        let (text, protocol) = [
            (Flag::TcpService, IPPROTO_TCP),
            (Flag::UdpService, IPPROTO_UDP),
            (Flag::SctpService, IPPROTO_SCTP),
        ]
        .into_iter()
        .find_map(|(f, p)| value(f).map(|v| (v, p)))
        .ok_or_else(|| Exit::fail("--drain needs a service: -t, -u, --sctp-service or -f"))?;
        key.protocol = protocol;
        if parse_service(text, &mut key, &mut netmask) == Parsed::None {
            return Err(Exit::fail(
                "illegal virtual server address[:port] specified",
            ));
        }
    }

    let server_text = value(Flag::RealServer).unwrap_or_default();
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

    let timeout = m.get_one::<u32>(TIMEOUT).copied();
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
        force_delete: m.get_flag(FORCE_DELETE),
    })
}

#[cfg(test)]
mod tests;
