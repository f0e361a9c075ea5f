//! `--which-server` (an ipvsadm-rs extension): the checking of a command line that asks for
//! it. Its options are defined in `defs/ours.rs`; what it does is in `crate::which_server`.
//!
//! Like a drain line, it is read by a clap command of its own: it takes Call-IDs as
//! operands, which ipvsadm's grammar has none of. Every refusal has status 2 and says what
//! is wrong.

use std::net::SocketAddr;

use clap::{Arg, ArgAction, Command as ClapCommand};
use ipvs::maglev::parse_key;

use super::address::{parse_service, Parsed};
use super::definition;
use super::defs::ours::{HASH_KEY, LAST_WEIGHT, WHICH_SERVER};
use super::service_arg;
use super::Exit;
use crate::which_server::WhichServerRequest;

/// The operands' id.
const CALL_IDS: &str = "CALL-ID";

fn command() -> ClapCommand {
    let own = |d| definition::arg(d);
    let (service, group) = service_arg::args();
    ClapCommand::new("ipvsadm-rs")
        .override_usage(
            "ipvsadm-rs --which-server -t|-u|--sctp-service SERVICE-ADDRESS | -f FWMARK [-6] \
             [--hash-key HEX] [--last-weight SERVER-ADDRESS=WEIGHT]... CALL-ID...",
        )
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(own(&WHICH_SERVER))
        .args(service)
        .args([own(&HASH_KEY), own(&LAST_WEIGHT)])
        .arg(
            Arg::new(CALL_IDS)
                .action(ArgAction::Append)
                .num_args(1..)
                .required(true),
        )
        .group(group)
}

/// The question a line asks (it names `--which-server`); refused, status 2 with what is
/// wrong, when it cannot be answered as written.
pub(crate) fn request<S: AsRef<str>>(argv: &[S]) -> Result<WhichServerRequest, Exit> {
    let m = command()
        .try_get_matches_from(argv.iter().map(AsRef::as_ref))
        .map_err(|e| service_arg::refusal(&e))?;
    let key = service_arg::service(&m, WHICH_SERVER.long)?;
    let hash_key = match m.get_one::<String>(HASH_KEY.long) {
        Some(hex) => Some(parse_key(hex).map_err(|_| {
            Exit::fail(format!(
                "--hash-key {hex}: the key is 32 hex digits (16 bytes), as the module's \
                 hash_key parameter takes it"
            ))
        })?),
        None => None,
    };
    let mut last_weights = Vec::new();
    for text in m.get_many::<String>(LAST_WEIGHT.long).into_iter().flatten() {
        let bad = || {
            Exit::fail(format!(
                "--last-weight {text}: give SERVER-ADDRESS=WEIGHT, the server as -r takes it \
                 and its weight before it was set to 0"
            ))
        };
        let (addr, weight) = text.split_once('=').ok_or_else(bad)?;
        let mut server = key.clone();
        let mut netmask = 0;
        let parsed = parse_service(addr, &mut server, &mut netmask);
        if parsed == Parsed::None {
            return Err(bad());
        }
        let port = if parsed == Parsed::Addr {
            key.port
        } else {
            server.port
        };
        let weight: u32 = weight.parse().map_err(|_| bad())?;
        last_weights.push((SocketAddr::new(server.addr, port), weight));
    }
    Ok(WhichServerRequest {
        service: key.typed(),
        call_ids: m
            .get_many::<String>(CALL_IDS)
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        hash_key,
        last_weights,
    })
}

#[cfg(test)]
mod tests;
