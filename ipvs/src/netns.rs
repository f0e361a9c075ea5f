//! Opening a socket inside another network namespace without moving the
//! caller's thread.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

use neli::socket::NlSocket;

use crate::{Error, Op, Result};

/// Opens a generic netlink socket in the namespace `netns` from a scoped
/// helper thread, which enters the namespace, opens the socket and ends: a
/// socket keeps the namespace it was opened in, and the caller's thread
/// never changes namespace.
pub(crate) fn open_socket_in(netns: BorrowedFd<'_>) -> Result<NlSocket> {
    let io = |source| Error::Io {
        op: Op::Connect,
        source,
    };
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setns only reads the descriptor, which `netns`
                // keeps open for the whole scope; it changes the namespace
                // of this helper thread alone, which ends right after.
                if unsafe { libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(io(io::Error::last_os_error()));
                }
                crate::client::open_socket()
            })
            .join()
            .unwrap_or_else(|_| Err(io(io::Error::other("the namespace thread panicked"))))
    })
}

#[cfg(test)]
mod tests {
    use std::fs::File;

    use crate::{Client, Error};

    /// The namespace of the calling thread, as the kernel names it.
    fn own_netns() -> std::path::PathBuf {
        std::fs::read_link("/proc/thread-self/ns/net").expect("ns link")
    }

    #[test]
    fn a_missing_namespace_is_an_io_error() {
        let e = Client::connect_in_netns("/nonexistent/netns").expect_err("no such file");
        assert!(matches!(e, Error::Io { .. }) && e.errno() == Some(libc::ENOENT));
    }

    /// A fresh namespace, made by a thread of its own; `None` without the
    /// privilege to make one.
    fn fresh_netns() -> Option<File> {
        std::thread::spawn(|| {
            // SAFETY: unshare only changes this short-lived thread's
            // namespace.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return None;
            }
            File::open("/proc/thread-self/ns/net").ok()
        })
        .join()
        .ok()
        .flatten()
    }

    #[test]
    fn the_callers_thread_stays_in_its_namespace() {
        let Some(ns) = fresh_netns() else {
            eprintln!("skipped: cannot make a network namespace here");
            return;
        };
        let before = own_netns();
        // Without IPVS in the kernel the family is missing; either way the
        // socket was opened over there and this thread did not move.
        match Client::connect_in_netns_fd(std::os::fd::AsFd::as_fd(&ns)) {
            Ok(_) | Err(Error::NoFamily) => {}
            Err(e) => panic!("unexpected: {e:?}"),
        }
        assert_eq!(own_netns(), before);
    }
}
