//! The drain's [`System`] on the real machine: the monotonic clock, SIGINT,
//! SIGTERM and SIGHUP caught into a flag, and the caller's namespace's
//! sysctl.

use std::io;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::{System, QUIESCENT_SYSCTL};

/// The number of the first stop signal caught, 0 before any.
static STOP: AtomicI32 = AtomicI32::new(0);

/// The signals that stop a drain.
const STOP_SIGNALS: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// How long a sleep waits at most before it looks at [`STOP`] again: a
/// signal does not cut `std::thread::sleep` short (it sleeps on after an
/// interruption).
const SLICE: Duration = Duration::from_millis(100);

extern "C" fn on_stop_signal(sig: libc::c_int) {
    // Only the first signal is kept; a store to an atomic is
    // async-signal-safe.
    let _ = STOP.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst);
}

/// The real machine, with the stop signals caught from its creation on.
pub(crate) struct RealSystem {
    origin: Instant,
    terminal: bool,
}

impl RealSystem {
    /// Catches the stop signals; `terminal` says whether standard output is
    /// a terminal.
    pub(crate) fn new(terminal: bool) -> Self {
        let handler = on_stop_signal as extern "C" fn(libc::c_int);
        for sig in STOP_SIGNALS {
            // SAFETY: the handler only stores into an atomic, which is
            // async-signal-safe, and `signal` is given a valid signal
            // number and a function of the C signature it expects.
            unsafe {
                libc::signal(sig, handler as libc::sighandler_t);
            }
        }
        RealSystem {
            origin: Instant::now(),
            terminal,
        }
    }
}

impl System for RealSystem {
    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    fn sleep(&mut self, d: Duration) {
        let end = Instant::now() + d;
        while self.stop_signal().is_none() {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            std::thread::sleep(left.min(SLICE));
        }
    }

    fn stop_signal(&self) -> Option<i32> {
        match STOP.load(Ordering::SeqCst) {
            0 => None,
            sig => Some(sig),
        }
    }

    fn expire_quiescent_template(&self) -> io::Result<String> {
        std::fs::read_to_string(QUIESCENT_SYSCTL)
    }

    fn terminal(&self) -> bool {
        self.terminal
    }
}
