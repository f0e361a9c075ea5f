//! ipvsadm's commands: the first option of a line says what it does.

use super::{Def, Role, Takes, BASE};
use crate::cli::legality::Cmd;
use crate::cli::{usage, Exit, VERSION_LINE};

pub(crate) static ADD_SERVICE: Def = Def {
    long: "add-service",
    short: Some('A'),
    help: "Add a virtual service",
    role: Role::Command(Cmd::Add),
    ..BASE
};

pub(crate) static EDIT_SERVICE: Def = Def {
    long: "edit-service",
    short: Some('E'),
    help: "Edit a virtual service",
    role: Role::Command(Cmd::Edit),
    ..BASE
};

pub(crate) static DELETE_SERVICE: Def = Def {
    long: "delete-service",
    short: Some('D'),
    help: "Delete a virtual service",
    role: Role::Command(Cmd::Del),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_services() {
    use super::testing::*;
    assert_eq!(add("-A -t 10.0.0.1:80").scheduler.name(), "wlc");
    assert!(matches!(
        ok("-E -t 10.0.0.1:80 -s rr").command,
        crate::cli::Command::Change(ipvs::Change::EditService(_))
    ));
    assert!(matches!(
        ok("-D -u 10.0.0.1:5060").command,
        crate::cli::Command::Change(ipvs::Change::DeleteService(_))
    ));
    assert_eq!(
        says("-D -u 10.0.0.1:5060 -s rr"),
        "Illegal 'scheduler' option with the 'delete-service' command\n"
    );
}

pub(crate) static CLEAR: Def = Def {
    long: "clear",
    short: Some('C'),
    help: "Clear the whole table",
    role: Role::Command(Cmd::Flush),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_clear() {
    use super::testing::*;
    assert_eq!(
        ok("-C").command,
        crate::cli::Command::Change(ipvs::Change::Flush)
    );
    assert_eq!(err("-C -n").code, 2);
}

pub(crate) static LIST: Def = Def {
    long: "list",
    short: Some('L'),
    short_alias: Some('l'),
    help: "List the table",
    role: Role::Command(Cmd::List),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_list() {
    use super::testing::*;
    use crate::cli::{Command, ListWhat};
    assert_eq!(ok("-L").command, Command::List(ListWhat::All));
    assert_eq!(ok("-l").command, Command::List(ListWhat::All));
    assert!(matches!(
        ok("-Lt10.0.0.1:80").command,
        Command::List(ListWhat::Service(_))
    ));
    assert_eq!(says("-L foo"), "unexpected argument foo\n");
}

pub(crate) static ZERO: Def = Def {
    long: "zero",
    short: Some('Z'),
    help: "Zero counters of a service or all services",
    role: Role::Command(Cmd::Zero),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_zero() {
    use super::testing::*;
    use crate::cli::Command;
    use ipvs::Change;
    assert_eq!(ok("-Z").command, Command::Change(Change::Zero(None)));
    assert!(matches!(
        ok("-Z -f 3").command,
        Command::Change(Change::Zero(Some(_)))
    ));
}

pub(crate) static ADD_SERVER: Def = Def {
    long: "add-server",
    short: Some('a'),
    help: "Add a real server to a service",
    role: Role::Command(Cmd::AddDest),
    ..BASE
};

pub(crate) static EDIT_SERVER: Def = Def {
    long: "edit-server",
    short: Some('e'),
    help: "Edit a real server",
    role: Role::Command(Cmd::EditDest),
    ..BASE
};

pub(crate) static DELETE_SERVER: Def = Def {
    long: "delete-server",
    short: Some('d'),
    help: "Delete a real server",
    role: Role::Command(Cmd::DelDest),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_servers() {
    use super::testing::*;
    use crate::cli::Command;
    use ipvs::Change;
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -m");
    assert_eq!(d.addr.port(), 80);
    assert!(matches!(
        ok("-e -t 10.0.0.1:80 -r 10.0.0.2 -w 0").command,
        Command::Change(Change::EditDestination(..))
    ));
    assert!(matches!(
        ok("-d -t 10.0.0.1:80 -r 10.0.0.2").command,
        Command::Change(Change::DeleteDestination(..))
    ));
    assert_eq!(
        says("-a -t 10.0.0.1:80"),
        "You need to supply the 'real-server' option for the 'add-server' command\n"
    );
    assert_eq!(
        says("-d -t 10.0.0.1:80 -r 10.0.0.2 -w 1"),
        "Illegal 'weight' option with the 'delete-server' command\n"
    );
}

pub(crate) static SET: Def = Def {
    long: "set",
    help: "Set connection timeouts: tcp tcpfin udp",
    role: Role::Command(Cmd::Timeout),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_set() {
    use super::testing::*;
    use crate::cli::Command;
    use ipvs::{Change, Timeouts};
    assert_eq!(
        ok("--set 900 120 300").command,
        Command::Change(Change::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }))
    );
    assert_eq!(
        says("--set 1 2"),
        "--set option requires 3 timeout values\n"
    );
    assert_eq!(says("--set 1 2 x"), "invalid timeout value `x' specified\n");
    assert_eq!(says("--set 1 2 3 4"), "unexpected argument 4\n");
}

pub(crate) static HELP: Def = Def {
    long: "help",
    short: Some('h'),
    help: "Display the help message",
    role: Role::Ends(|program| Exit {
        code: 0,
        stdout: usage(program).into_bytes(),
        stderr: String::new(),
    }),
    ..BASE
};

pub(crate) static VERSION: Def = Def {
    long: "version",
    short: Some('v'),
    help: "Display the version",
    role: Role::Ends(|_| Exit {
        code: 0,
        stdout: format!("{VERSION_LINE}\n").into_bytes(),
        stderr: String::new(),
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_help_and_version() {
    use super::testing::*;
    let e = err("-h");
    assert_eq!(e.code, 0);
    assert!(String::from_utf8_lossy(&e.stdout).starts_with(VERSION_LINE));
    let e = err("-v");
    assert_eq!(e.stdout, format!("{VERSION_LINE}\n").into_bytes());
    // Only as the command: after it, they are options ipvsadm does not take.
    assert_eq!(says("-L -h"), "invalid option `-h'\n");
}

pub(crate) static RESTORE: Def = Def {
    long: "restore",
    short: Some('R'),
    help: "Restore rules from standard input",
    role: Role::Command(Cmd::Restore),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_restore() {
    use super::testing::*;
    use crate::cli::{parse, Command};
    assert_eq!(ok("-R").command, Command::Restore);
    // Not within a restore.
    assert_eq!(parse(&args("-R"), true).map_err(|e| e.code), Err(255));
}

pub(crate) static SAVE: Def = Def {
    long: "save",
    short: Some('S'),
    help: "Save rules to standard output",
    role: Role::Command(Cmd::Save),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_save() {
    use super::testing::*;
    let r = ok("-S -n");
    assert!(r.format.rule && r.format.numeric);
    assert_eq!(err("-S -c").code, 2);
}

pub(crate) static START_DAEMON: Def = Def {
    long: "start-daemon",
    takes: Takes::Value("STATE"),
    help: "Start a master or backup sync daemon",
    role: Role::Command(Cmd::StartDaemon),
    ..BASE
};

pub(crate) static STOP_DAEMON: Def = Def {
    long: "stop-daemon",
    takes: Takes::Value("STATE"),
    help: "Stop the master or backup sync daemon",
    role: Role::Command(Cmd::StopDaemon),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_daemons() {
    use super::testing::*;
    use ipvs::DaemonState;
    let d = start_daemon("--start-daemon backup");
    assert_eq!(
        (d.state, d.interface.as_slice()),
        (DaemonState::Backup, &b"eth0"[..])
    );
    assert_eq!(
        says("--start-daemon bogus"),
        "illegal start-daemon parameter specified\n"
    );
    assert_eq!(
        says("--stop-daemon bogus"),
        "illegal start_daemon specified\n"
    );
    assert!(ok("--stop-daemon master").command != crate::cli::Command::Save);
}
