//! The typed command of a checked line: what ipvsadm would send, in the
//! [`ipvs`] model.

use ipvs::{Change, Timeouts};

use super::draft::Draft;
use super::legality::{Cmd, Opt};
use super::{Command, ListWhat, Request};

/// The request of a checked line; `timeouts` are `--set`'s.
pub(crate) fn request(mut d: Draft, timeouts: Timeouts) -> Request {
    let command = match d.cmd {
        Cmd::List => Command::List(if d.has(Opt::Connection) {
            ListWhat::Connections
        } else if d.has(Opt::Service) {
            ListWhat::Service(d.svc.key.typed())
        } else if d.has(Opt::Timeout) {
            ListWhat::Timeout
        } else if d.has(Opt::Daemon) {
            ListWhat::Daemon
        } else {
            ListWhat::All
        }),
        Cmd::Restore => Command::Restore,
        Cmd::Save => {
            d.format.rule = true;
            Command::Save
        }
        Cmd::Flush => Command::Change(Change::Flush),
        Cmd::Add => Command::Change(Change::AddService(d.svc.typed())),
        Cmd::Edit => Command::Change(Change::EditService(d.svc.typed())),
        Cmd::Del => Command::Change(Change::DeleteService(d.svc.key.typed())),
        Cmd::Zero => {
            let k = &d.svc.key;
            let any = k.fwmark != 0 || !k.addr.is_unspecified() || k.port != 0;
            Command::Change(Change::Zero(any.then(|| k.typed())))
        }
        Cmd::AddDest => Command::Change(Change::AddDestination(d.svc.key.typed(), d.dest.typed())),
        Cmd::EditDest => {
            Command::Change(Change::EditDestination(d.svc.key.typed(), d.dest.typed()))
        }
        Cmd::DelDest => Command::Change(Change::DeleteDestination(
            d.svc.key.typed(),
            d.dest.typed().addr,
        )),
        Cmd::Timeout => Command::Change(Change::SetTimeouts(timeouts)),
        Cmd::StartDaemon => Command::Change(Change::StartDaemon(d.daemon.typed())),
        Cmd::StopDaemon => Command::Change(Change::StopDaemon(d.daemon.typed())),
    };
    Request {
        command,
        format: d.format,
        json: d.json,
    }
}
