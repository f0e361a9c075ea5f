//! ipvsadm's wording of the library's errors: the line it prints for each
//! failed request, word for word (scripts match it).

use ipvs::{Error, Op};
use nix::errno::Errno;

/// The errno an error stands for, as ipvsadm's `errno` would be.
pub(crate) fn errno(e: &Error) -> Errno {
    match e {
        Error::NoFamily => Errno::ENOPROTOOPT,
        Error::Io { source, .. } => source.raw_os_error().map_or(Errno::EIO, Errno::from_raw),
        _ => e.errno().map_or(Errno::EINVAL, Errno::from_raw),
    }
}

/// Words an error code for the operation, with ipvsadm's own wording where
/// it has one, else the C library's.
pub(crate) fn describe(op: Op, errno: Errno) -> String {
    use Errno::*;
    let specific = match (op, errno) {
        (Op::AddService, EEXIST) => Some("Service already exists"),
        (Op::AddService | Op::EditService, ENOENT) => {
            Some("Scheduler or persistence engine not found")
        }
        (
            Op::EditService
            | Op::DeleteService
            | Op::Zero
            | Op::ListServices
            | Op::ListDestinations
            | Op::GetService,
            ESRCH,
        ) => Some("No such service"),
        (Op::AddDestination | Op::EditDestination | Op::DeleteDestination, ESRCH) => {
            Some("Service not defined")
        }
        (Op::AddDestination, EEXIST) => Some("Destination already exists"),
        (Op::EditDestination | Op::DeleteDestination, ENOENT) => Some("No such destination"),
        (Op::StartDaemon, EEXIST) => Some("Daemon has already run"),
        (Op::StopDaemon, ESRCH) => Some("No daemon is running"),
        (_, EPERM) => Some("Permission denied (you must be root)"),
        (_, EINVAL) => {
            Some("Invalid operation.  Possibly wrong module version, address not unicast, ...")
        }
        (_, ENOPROTOOPT) => Some("Protocol not available"),
        (_, ENOMEM) => Some("Memory allocation problem"),
        (_, EOPNOTSUPP) => Some("Operation not supported with IPv6"),
        (_, EAFNOSUPPORT) => Some("Operation not supported with specified address family"),
        (_, EMSGSIZE) => Some("Module is wrong version"),
        _ => None,
    };
    match specific {
        Some(s) => s.to_string(),
        None => errno.desc().to_string(),
    }
}

/// The line ipvsadm prints for a failed request.
pub(crate) fn message(e: &Error) -> String {
    match e {
        Error::Malformed { what, .. } => format!("unexpected answer from the kernel: {what}"),
        _ => describe(e.op(), errno(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_worded_per_operation() {
        assert_eq!(
            describe(Op::AddService, Errno::EEXIST),
            "Service already exists"
        );
        assert_eq!(
            describe(Op::AddDestination, Errno::ESRCH),
            "Service not defined"
        );
        assert_eq!(
            describe(Op::DeleteDestination, Errno::ENOENT),
            "No such destination"
        );
        assert_eq!(
            describe(Op::Flush, Errno::ENOENT),
            "No such file or directory"
        );
        assert_eq!(
            describe(Op::AddService, Errno::EPERM),
            "Permission denied (you must be root)"
        );
        // An error code the kernel would never send still has a wording.
        let e = Error::Kernel {
            op: Op::Flush,
            object: ipvs::Object::Table,
            errno: i32::MIN,
        };
        assert!(!message(&e).is_empty());
    }
}
