//! Why a request failed.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::{DaemonState, ServiceKey};

/// What a request did, so that an error can say it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// Opening the socket and resolving the `IPVS` family.
    Connect,
    /// Reading the version ([`Client::info`](crate::Client::info)).
    GetInfo,
    /// Listing services.
    ListServices,
    /// Reading one service.
    GetService,
    /// Listing a service's destinations.
    ListDestinations,
    /// Reading the timeouts.
    GetTimeouts,
    /// Listing sync daemons.
    ListDaemons,
    /// [`Change::AddService`](crate::Change::AddService).
    AddService,
    /// [`Change::EditService`](crate::Change::EditService).
    EditService,
    /// [`Change::DeleteService`](crate::Change::DeleteService).
    DeleteService,
    /// [`Change::Zero`](crate::Change::Zero).
    Zero,
    /// [`Change::Flush`](crate::Change::Flush).
    Flush,
    /// [`Change::AddDestination`](crate::Change::AddDestination).
    AddDestination,
    /// [`Change::EditDestination`](crate::Change::EditDestination).
    EditDestination,
    /// [`Change::DeleteDestination`](crate::Change::DeleteDestination).
    DeleteDestination,
    /// [`Change::SetTimeouts`](crate::Change::SetTimeouts).
    SetTimeouts,
    /// [`Change::StartDaemon`](crate::Change::StartDaemon).
    StartDaemon,
    /// [`Change::StopDaemon`](crate::Change::StopDaemon).
    StopDaemon,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Connect => "connecting to IPVS",
            Op::GetInfo => "reading the IPVS version",
            Op::ListServices => "listing services",
            Op::GetService => "reading a service",
            Op::ListDestinations => "listing destinations",
            Op::GetTimeouts => "reading timeouts",
            Op::ListDaemons => "listing sync daemons",
            Op::AddService => "adding a service",
            Op::EditService => "editing a service",
            Op::DeleteService => "deleting a service",
            Op::Zero => "zeroing counters",
            Op::Flush => "flushing the table",
            Op::AddDestination => "adding a destination",
            Op::EditDestination => "editing a destination",
            Op::DeleteDestination => "deleting a destination",
            Op::SetTimeouts => "setting timeouts",
            Op::StartDaemon => "starting a sync daemon",
            Op::StopDaemon => "stopping a sync daemon",
        })
    }
}

/// What a failed request was about.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Object {
    /// The table or its settings as a whole.
    Table,
    /// One service.
    Service(ServiceKey),
    /// One destination of a service.
    Destination(ServiceKey, SocketAddr),
    /// A sync daemon.
    Daemon(DaemonState),
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Object::Table => f.write_str("the table"),
            Object::Service(k) => write!(f, "service {k}"),
            Object::Destination(k, a) => write!(f, "destination {a} of service {k}"),
            Object::Daemon(s) => write!(f, "sync daemon {s:?}"),
        }
    }
}

/// Why a request failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the request.
    Kernel {
        /// What was asked.
        op: Op,
        /// What it was about.
        object: Object,
        /// The kernel's error number (positive, as in `errno`).
        errno: i32,
    },
    /// The kernel has no `IPVS` generic netlink family: IPVS is not built
    /// in, or its module is not loaded.
    NoFamily,
    /// The socket, or the move into a network namespace, failed.
    Io {
        /// What was asked.
        op: Op,
        /// The system's error.
        source: io::Error,
    },
    /// The kernel's answer lacked something the request needs, or could not
    /// be decoded.
    Malformed {
        /// What was asked.
        op: Op,
        /// What was wrong.
        what: String,
    },
}

impl Error {
    /// The operation that failed.
    pub fn op(&self) -> Op {
        match self {
            Error::Kernel { op, .. } | Error::Io { op, .. } | Error::Malformed { op, .. } => *op,
            Error::NoFamily => Op::Connect,
        }
    }

    /// The error number, if the kernel or the system gave one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Kernel { errno, .. } => Some(*errno),
            Error::Io { source, .. } => source.raw_os_error(),
            Error::NoFamily | Error::Malformed { .. } => None,
        }
    }

    /// Whether the service, destination or daemon does not exist
    /// (`ESRCH` or `ENOENT`); a missing scheduler or engine on adding a
    /// service is reported with `ENOENT` too.
    ///
    /// ```
    /// let e = ipvs::Error::Kernel {
    ///     op: ipvs::Op::DeleteService,
    ///     object: ipvs::Object::Table,
    ///     errno: libc::ESRCH,
    /// };
    /// assert!(e.is_not_found() && !e.is_exists());
    /// ```
    pub fn is_not_found(&self) -> bool {
        matches!(self.errno(), Some(libc::ESRCH | libc::ENOENT))
    }

    /// Whether what was added exists already (`EEXIST`).
    pub fn is_exists(&self) -> bool {
        self.errno() == Some(libc::EEXIST)
    }

    /// Whether the caller lacks `CAP_NET_ADMIN` (`EPERM`).
    pub fn is_permission_denied(&self) -> bool {
        self.errno() == Some(libc::EPERM)
    }

    /// Whether a receive timed out (see
    /// [`Client::set_receive_timeout`](crate::Client::set_receive_timeout)).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Io { source, .. }
            if matches!(source.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut))
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Kernel { op, object, errno } => write!(
                f,
                "{op} ({object}): {}",
                io::Error::from_raw_os_error(*errno)
            ),
            Error::NoFamily => f.write_str("the kernel has no IPVS generic netlink family"),
            Error::Io { op, .. } => write!(f, "{op}: socket error"),
            Error::Malformed { op, what } => write!(f, "{op}: unexpected answer: {what}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The result of a request.
pub type Result<T, E = Error> = std::result::Result<T, E>;
