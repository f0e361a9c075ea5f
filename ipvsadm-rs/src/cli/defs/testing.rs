//! What the options' tests share: a line parsed as ipvsadm's, and what it
//! gives.

use ipvs::{Change, Destination, Service, ServiceKey, SyncDaemon};

use crate::cli::{parse, Command, Exit, Request};

/// `ipvsadm WORDS...`.
pub(crate) fn args(s: &str) -> Vec<String> {
    std::iter::once("ipvsadm".to_string())
        .chain(s.split_whitespace().map(String::from))
        .collect()
}

/// The request of a line that must be accepted.
pub(crate) fn ok(s: &str) -> Request {
    match parse(&args(s), false) {
        Ok(r) => r,
        Err(e) => panic!("{s}: unexpected exit {} {}", e.code, e.stderr),
    }
}

/// How a line that must be refused ends.
pub(crate) fn err(s: &str) -> Exit {
    match parse(&args(s), false) {
        Ok(r) => panic!("{s}: unexpectedly accepted: {r:?}"),
        Err(e) => e,
    }
}

/// The message of a refused line.
pub(crate) fn says(s: &str) -> String {
    err(s).stderr
}

/// The service of an add.
pub(crate) fn add(s: &str) -> Service {
    match ok(s).command {
        Command::Change(Change::AddService(s)) => s,
        other => panic!("not an add: {other:?}"),
    }
}

/// The service and server of an add-server.
pub(crate) fn add_dest(s: &str) -> (ServiceKey, Destination) {
    match ok(s).command {
        Command::Change(Change::AddDestination(k, d)) => (k, d),
        other => panic!("not an add-server: {other:?}"),
    }
}

/// The daemon of a start-daemon.
pub(crate) fn start_daemon(s: &str) -> SyncDaemon {
    match ok(s).command {
        Command::Change(Change::StartDaemon(d)) => d,
        other => panic!("not a start-daemon: {other:?}"),
    }
}
