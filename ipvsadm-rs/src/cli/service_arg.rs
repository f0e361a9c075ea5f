//! The service named by `-t`, `-u`, `--sctp-service` or `-f` (with `-6`) on a line of one
//! of ipvsadm-rs's own runs that take a single service (`--drain`, `--which-server`), read
//! as ipvsadm reads it.

use clap::{Arg, ArgAction, ArgGroup, ArgMatches};
use ipvs::{Family, Protocol};

use super::address::{parse_service, Parsed};
use super::defs::service::{FWMARK_SERVICE, IPV6, SCTP_SERVICE, TCP_SERVICE, UDP_SERVICE};
use super::defs::{Def, Takes};
use super::draft::ServiceKey;
use super::number::parse_fwmark;
use super::Exit;

/// The group of the options naming the service.
const SERVICE: &str = "service";

/// One of ipvsadm's options, taken at most once, under its definition's name.
pub(super) fn once(d: &Def) -> Arg {
    let a = Arg::new(d.long).long(d.long).action(ArgAction::Set);
    let a = match d.short {
        Some(c) => a.short(c),
        None => a,
    };
    match d.takes {
        Takes::Nothing => a.action(ArgAction::SetTrue),
        Takes::Value(v) | Takes::MaybeValue(v) => a.value_name(v).allow_hyphen_values(true),
    }
}

/// The service options (one of them required) and `-6`.
pub(super) fn args() -> ([Arg; 5], ArgGroup) {
    (
        [
            once(&TCP_SERVICE),
            once(&UDP_SERVICE),
            once(&SCTP_SERVICE),
            once(&FWMARK_SERVICE),
            once(&IPV6),
        ],
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

/// The service `m` names (`run` is the option that asked, for the messages), and the
/// netmask ipvsadm's parser reads with it.
pub(super) fn service(m: &ArgMatches, run: &str) -> Result<ServiceKey, Exit> {
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
        .ok_or_else(|| {
            Exit::fail(format!(
                "--{run} needs a service: -t, -u, --sctp-service or -f"
            ))
        })?;
        key.protocol = protocol;
        if parse_service(text, &mut key, &mut netmask) == Parsed::None {
            return Err(Exit::fail(
                "illegal virtual server address[:port] specified",
            ));
        }
    }
    Ok(key)
}

/// A clap refusal as a status-2 exit with clap's message.
pub(super) fn refusal(e: &clap::Error) -> Exit {
    let mut stderr = e.render().to_string();
    if !stderr.ends_with('\n') {
        stderr.push('\n');
    }
    Exit::status(2, stderr)
}
