//! The options of listings (`-L`, `-S`): what to list and how.

use super::{Def, Role, BASE};
use crate::cli::legality::Opt;
use crate::cli::Exit;

pub(crate) static NUMERIC: Def = Def {
    long: "numeric",
    short: Some('n'),
    help: "Numeric output of addresses and ports",
    role: Role::Set(Some(Opt::Numeric), |d, _| {
        d.format.numeric = true;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_numeric() {
    use super::testing::*;
    assert!(ok("-Ln").format.numeric);
    assert!(!ok("-L").format.numeric);
    assert_eq!(says("-L -n -n"), "multiple 'numeric' options specified\n");
}

pub(crate) static CONNECTION: Def = Def {
    long: "connection",
    short: Some('c'),
    help: "List connections",
    role: Role::Set(Some(Opt::Connection), |_, _| Ok(())),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_connection() {
    use super::testing::*;
    use crate::cli::{Command, ListWhat};
    assert_eq!(ok("-Lnc").command, Command::List(ListWhat::Connections));
    assert_eq!(
        says("-L -c --timeout"),
        "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n"
    );
}

pub(crate) static TIMEOUT: Def = Def {
    long: "timeout",
    help: "List timeouts; with --drain, --timeout SECONDS bounds the wait",
    role: Role::Set(Some(Opt::Timeout), |_, _| Ok(())),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_timeout() {
    use super::testing::*;
    use crate::cli::{Command, ListWhat};
    assert_eq!(ok("-L --timeout").command, Command::List(ListWhat::Timeout));
    assert_eq!(
        says("-L --stats --timeout"),
        "options conflicts in the list command\n"
    );
}

pub(crate) static DAEMON: Def = Def {
    long: "daemon",
    help: "List sync daemons",
    role: Role::Set(Some(Opt::Daemon), |_, _| Ok(())),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_daemon() {
    use super::testing::*;
    use crate::cli::{Command, ListWhat};
    assert_eq!(ok("-L --daemon").command, Command::List(ListWhat::Daemon));
    assert_eq!(
        says("-L --daemon --persistent-conn"),
        "options conflicts in the list command\n"
    );
}

pub(crate) static STATS: Def = Def {
    long: "stats",
    help: "List statistics",
    role: Role::Set(Some(Opt::Stats), |d, _| {
        d.format.stats = true;
        Ok(())
    }),
    ..BASE
};

pub(crate) static RATE: Def = Def {
    long: "rate",
    help: "List rates",
    role: Role::Set(Some(Opt::Rate), |d, _| {
        d.format.rate = true;
        Ok(())
    }),
    ..BASE
};

pub(crate) static THRESHOLDS: Def = Def {
    long: "thresholds",
    help: "List thresholds",
    role: Role::Set(Some(Opt::Thresholds), |d, _| {
        d.format.thresholds = true;
        Ok(())
    }),
    ..BASE
};

pub(crate) static PERSISTENT_CONN: Def = Def {
    long: "persistent-conn",
    help: "List persistent connections",
    role: Role::Set(Some(Opt::PersistentConn), |d, _| {
        d.format.persistent_conn = true;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_columns() {
    use super::testing::*;
    let f = ok("-L --stats").format;
    assert!(f.stats && !f.rate);
    assert!(ok("-L --rate").format.rate);
    assert!(ok("-L --thresholds").format.thresholds);
    assert!(ok("-L --persistent-conn").format.persistent_conn);
    assert_eq!(
        says("-L -c --rate"),
        "options conflicts in the list command\n"
    );
    assert_eq!(err("-A -t 10.0.0.1:80 --stats").code, 2);
}

pub(crate) static NOSORT: Def = Def {
    long: "nosort",
    help: "Do not sort the listing",
    role: Role::Set(Some(Opt::NoSort), |d, _| {
        d.format.nosort = true;
        Ok(())
    }),
    ..BASE
};

pub(crate) static SORT: Def = Def {
    long: "sort",
    help: "Sort the listing (the default)",
    // Does nothing, as in ipvsadm, and may be given any number of times.
    role: Role::Set(None, |_, _| Ok(())),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_sorting() {
    use super::testing::*;
    assert!(ok("-L --nosort").format.nosort);
    assert!(!ok("-L --sort --sort").format.nosort);
    assert_eq!(
        says("-L --nosort --nosort"),
        "multiple 'nosort' options specified\n"
    );
}

pub(crate) static EXACT: Def = Def {
    long: "exact",
    short: Some('X'),
    help: "Exact numbers",
    role: Role::Set(Some(Opt::Exact), |d, _| {
        d.format.exact = true;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_exact() {
    use super::testing::*;
    assert!(ok("-L --stats -X").format.exact);
    assert_eq!(err("-A -t 10.0.0.1:80 -X").code, 2);
}

pub(crate) static TUN_INFO: Def = Def {
    long: "tun-info",
    help: "List tunnel information",
    role: Role::Set(Some(Opt::TunInfo), |d, _| {
        d.format.tun_info = true;
        Ok(())
    }),
    ..BASE
};

#[cfg(test)]
#[test]
fn test_tun_info() {
    use super::testing::*;
    assert!(ok("-L --tun-info").format.tun_info);
}

pub(crate) static JSON: Def = Def {
    long: "json",
    help: "Print listings as JSON",
    role: Role::Set(None, |d, _| {
        if d.json {
            return Err(Exit::fail("multiple 'json' options specified"));
        }
        d.json = true;
        Ok(())
    }),
    ours: true,
    ..BASE
};

#[cfg(test)]
#[test]
fn test_json() {
    use super::testing::*;
    assert!(ok("-L --json").json);
    assert!(ok("-Lt10.0.0.1:80 --json").json);
    assert_eq!(
        says("-C --json"),
        "Illegal 'json' option with the 'flush' command\n"
    );
    assert_eq!(
        says("-L --json --json"),
        "multiple 'json' options specified\n"
    );
}
