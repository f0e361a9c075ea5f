//! `--drain` (an ipvsadm-rs extension): takes a real server out of a
//! service without cutting a call. The server's weight goes to 0, so that
//! no new call or client is scheduled to it, and it is deleted once nothing
//! that may carry a call points at it. docs/ipvsadm-rs.md ("Draining a real
//! server") gives the decisions below with their reasons; in short:
//!
//! - **What is waited for**: the server's connections (active and
//!   inactive) and its persistence templates, as IPVS counts them
//!   (`IPVS_DEST_ATTR_PERSIST_CONNS`, read over netlink every [`POLL`]).
//!   On a service with a persistence engine, a template without engine data
//!   is no call's: the `sip` engine's *fallback templates* (datagrams
//!   without a Call-ID, keyed by client address, refreshed by every client's
//!   keep-alives) would keep a server from ever draining, and deleting the
//!   server only moves those keep-alives elsewhere. Only on such a service,
//!   and only while the netlink count is not 0, `/proc/net/ip_vs_conn` is
//!   read to tell them apart ([`classify`]); everything not known to be a
//!   fallback is waited for.
//! - **The race** between "nothing left" and the delete: IPVS has no
//!   "delete if unused". The server is deleted only once seen idle over
//!   [`SETTLE`] (several readings), right after an idle reading; then
//!   `/proc/net/ip_vs_conn` is read again, and if a template that may hold
//!   a call points at the deleted server (made by `conn_out` or the sync
//!   daemon in between), the server is put back at weight 0 at once, which
//!   revives the very same server from IPVS's trash (the template stays
//!   valid), and the drain goes on. What is left open: a datagram of such a
//!   call that arrives in the moment between the delete and the re-add.
//! - **`expire_quiescent_template=1`** makes IPVS drop the templates of a
//!   weight-0 server when they are next used, which would move the calls in
//!   progress: the drain is refused ([`EXIT_QUIESCENT`]) before anything is
//!   changed.
//! - **A stop signal** (Ctrl-C, SIGTERM, SIGHUP) ends the wait cleanly: the
//!   server stays at weight 0, not deleted, and the line that restores its
//!   weight is printed; status 128 + the signal's number.
//!
//! The wait is a small state machine ([`step`]) over readings, with the
//! clock, the signals and the sysctl behind [`System`] and IPVS behind
//! [`Ipvs`](crate::kernel::Ipvs), so that tests drive it without a kernel
//! and without sleeping.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipvs::{Change, Destination, Family, Protocol, Service, ServiceKey};

use crate::app::Ctx;
use crate::cli::DrainRequest;
use crate::conn::{self, Conn};
use crate::explain;

pub(crate) mod system;

/// How often the server's counts are read.
pub(crate) const POLL: Duration = Duration::from_secs(1);
/// How long the server must be seen idle, reading after reading, before it
/// is deleted.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);
/// Plain progress lines (not on a terminal): at most one per this, when
/// something changed...
const PLAIN_EVERY: Duration = Duration::from_secs(5);
/// ... and one per this when nothing did.
const PLAIN_HEARTBEAT: Duration = Duration::from_secs(60);

/// The server was deleted once idle.
pub(crate) const EXIT_DRAINED: i32 = 0;
/// An error: a request to IPVS failed, or the service or server is not (or
/// no longer) there. The message says in which state the server is left.
pub(crate) const EXIT_FAILED: i32 = 1;
/// The timeout came first; the server is left at weight 0.
pub(crate) const EXIT_TIMED_OUT: i32 = 3;
/// The timeout came first and the server was deleted all the same
/// (`--force-delete`).
pub(crate) const EXIT_FORCED: i32 = 4;
/// Refused, nothing changed: `expire_quiescent_template` is set.
pub(crate) const EXIT_QUIESCENT: i32 = 5;
/// A stop signal ends the drain with 128 + its number, as a shell reports a
/// command killed by it.
pub(crate) const EXIT_SIGNAL_BASE: i32 = 128;

/// Where the sysctl that decides whether IPVS expires a weight-0 server's
/// templates lives (per network namespace: the caller's).
pub(crate) const QUIESCENT_SYSCTL: &str = "/proc/sys/net/ipv4/vs/expire_quiescent_template";

/// What the drain needs of the system besides IPVS: the clock, the stop
/// signals, one sysctl and whether the output is a terminal.
pub(crate) trait System {
    /// Time since an origin of the system's choosing; never goes back.
    fn now(&self) -> Duration;
    /// Waits for `d`, or less once a stop signal has come.
    fn sleep(&mut self, d: Duration);
    /// The number of the signal that asked the drain to stop, once one came.
    fn stop_signal(&self) -> Option<i32>;
    /// The text of [`QUIESCENT_SYSCTL`].
    fn expire_quiescent_template(&self) -> io::Result<String>;
    /// Whether standard output is a terminal (progress rewrites one line).
    fn terminal(&self) -> bool;
}

/// What points at the server at one reading.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reading {
    /// Persistence templates that may hold a call: waited for.
    pub(crate) templates: u32,
    /// Fallback templates (an engine's, without data): not waited for.
    pub(crate) fallbacks: u32,
    /// Connections, active and inactive: waited for.
    pub(crate) conns: u32,
    /// The longest time left (seconds, as `/proc` shows it: the time until
    /// it expires unless used again) of the templates waited for, when
    /// `/proc/net/ip_vs_conn` was read.
    pub(crate) longest_left: Option<u32>,
}

impl Reading {
    /// Nothing that may carry a call points at the server.
    pub(crate) fn idle(&self) -> bool {
        self.templates == 0 && self.conns == 0
    }
}

/// Where the wait stands between two readings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// The last reading found something pointing at the server.
    Busy,
    /// Every reading since `since` found it idle.
    Idle { since: Duration },
}

/// What to do after a reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Read again after [`POLL`].
    Wait(Phase),
    /// Delete the server now.
    Delete,
    /// Give up: the timeout has come.
    TimedOut,
}

/// The drain's state machine: the phase after a reading taken at `now`,
/// and what to do. The server is deleted once every reading over
/// [`SETTLE`] found it idle; the timeout is checked after that, so that an
/// idle server whose settle ends at the timeout is still deleted.
pub(crate) fn step(
    phase: Phase,
    reading: &Reading,
    now: Duration,
    deadline: Option<Duration>,
) -> Next {
    let phase = match (phase, reading.idle()) {
        (_, false) => Phase::Busy,
        (Phase::Busy, true) => Phase::Idle { since: now },
        (idle @ Phase::Idle { .. }, true) => idle,
    };
    if let Phase::Idle { since } = phase {
        if now.saturating_sub(since) >= SETTLE {
            return Next::Delete;
        }
    }
    if deadline.is_some_and(|d| now >= d) {
        return Next::TimedOut;
    }
    Next::Wait(phase)
}

/// What an entry of `/proc/net/ip_vs_conn` is to the drain of a server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// A template of the service pointing at the server that may hold a
    /// call: one with engine data (the SIP Call-ID), or one without engine.
    Template,
    /// A template of the service pointing at the server with an engine but
    /// no data: the `sip` engine's fallback template, keyed by client
    /// address alone.
    Fallback,
    /// Anything else: a connection, an entry of another server or service,
    /// a template IPVS has already invalidated (its ports set to 65535).
    Other,
}

/// The kernel's name of a protocol in `/proc/net/ip_vs_conn`
/// (`ip_vs_proto_name()`).
fn proc_protocol(p: Protocol) -> String {
    match p {
        Protocol::Tcp => "TCP".into(),
        Protocol::Udp => "UDP".into(),
        Protocol::Sctp => "SCTP".into(),
        Protocol::Other(n) => format!("IP_{n}"),
    }
}

/// The virtual address of a firewall-mark service's templates: the mark in
/// network order in the address's first four bytes (`ip_vs_sched_persist()`).
fn fwmark_addr(family: Family, mark: u32) -> IpAddr {
    match family {
        Family::Inet6 => IpAddr::V6(Ipv6Addr::from(u128::from(mark) << 96)),
        _ => IpAddr::V4(Ipv4Addr::from(mark)),
    }
}

/// What entry `c` is to the drain of `server` from the service `key`. A
/// template has client port 0 and is keyed `<protocol, client, 0, VIP,
/// VPORT, server, PORT>`, with ports 0 for a service of port 0 or 21, and
/// `<IP, client, 0, MARK, 0, server, 0>` for a firewall-mark service
/// (`ip_vs_sched_persist()`).
pub(crate) fn classify(c: &Conn, key: &ServiceKey, server: SocketAddr) -> Entry {
    let to_server = c.dest == server.ip() && (c.dest_port == server.port() || c.dest_port == 0);
    let of_service = match key {
        ServiceKey::Inet { protocol, addr } => {
            c.protocol == proc_protocol(*protocol).as_bytes()
                && c.virtual_addr == addr.ip()
                && (c.virtual_port == addr.port() || c.virtual_port == 0)
        }
        ServiceKey::Fwmark { family, mark } => {
            c.protocol == b"IP"
                && c.virtual_addr == fwmark_addr(*family, *mark)
                && c.virtual_port == 0
        }
    };
    if c.client_port != 0 || !to_server || !of_service {
        return Entry::Other;
    }
    match (&c.pe_name, &c.pe_data) {
        (Some(_), None) => Entry::Fallback,
        _ => Entry::Template,
    }
}

/// The templates of `/proc/net/ip_vs_conn` that concern the drain.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// [`Entry::Template`]s.
    pub(crate) templates: u32,
    /// [`Entry::Fallback`]s.
    pub(crate) fallbacks: u32,
    /// The longest time left of the [`Entry::Template`]s.
    pub(crate) longest_left: Option<u32>,
}

/// Reads `/proc/net/ip_vs_conn` (through `ctx`) for the templates of
/// `server` in the service `key`.
fn scan(ctx: &Ctx<'_>, key: &ServiceKey, server: SocketAddr) -> io::Result<Scan> {
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "no heading line");
    let entries = conn::entries((ctx.read_conns)()?)?.ok_or_else(bad)?;
    let mut s = Scan::default();
    for c in entries {
        match classify(&c, key, server) {
            Entry::Template => {
                s.templates += 1;
                s.longest_left = s.longest_left.max(Some(c.expires));
            }
            Entry::Fallback => s.fallbacks += 1,
            Entry::Other => {}
        }
    }
    Ok(s)
}

/// A drain under way.
struct Drain<'r> {
    req: &'r DrainRequest,
    service: Service,
    /// The server's configuration before the drain.
    before: Destination,
    /// When the weight was set to 0.
    started: Duration,
    /// "call template" on a service with an engine, "template" otherwise.
    noun: &'static str,
    /// Whether `/proc/net/ip_vs_conn` could not be read (said once).
    proc_unreadable: bool,
    /// Times the server was put back after a template appeared at its
    /// delete.
    reinstated: u32,
    progress: Progress,
}

/// The progress shown while waiting.
struct Progress {
    /// Standard output is a terminal: one line is rewritten.
    terminal: bool,
    /// That line is being rewritten (it must end before any other output).
    open_line: bool,
    /// The last plain line: when, and what it said.
    last: Option<(Duration, Reading)>,
}

/// `n` things, in the singular or the plural.
fn count(n: u32, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// The name of a stop signal.
fn signal_name(sig: i32) -> String {
    match sig {
        libc::SIGINT => "SIGINT".into(),
        libc::SIGTERM => "SIGTERM".into(),
        libc::SIGHUP => "SIGHUP".into(),
        n => format!("signal {n}"),
    }
}

/// Carries out `--drain`; returns the exit status.
pub(crate) fn carry_out(ctx: &mut Ctx<'_>, sys: &mut dyn System, req: &DrainRequest) -> i32 {
    let mut d = match Drain::start(ctx, sys, req) {
        Ok(d) => d,
        Err(code) => return code,
    };
    d.wait(ctx, sys)
}

/// Writes a whole message to standard error.
fn say_err(ctx: &mut Ctx<'_>, msg: &str) {
    // The run ends the same whether or not this can be written.
    let _ = ctx.err.write_all(msg.as_bytes());
}

impl<'r> Drain<'r> {
    /// The checks, then the weight set to 0; `Err` is the exit status of a
    /// drain that did not start (nothing changed).
    fn start(ctx: &mut Ctx<'_>, sys: &mut dyn System, req: &'r DrainRequest) -> Result<Self, i32> {
        let svc = explain::service_option(&req.service);
        let service = ctx.ipvs.service(&req.service).map_err(|e| {
            say_err(ctx, &explain::message(&e, None));
            EXIT_FAILED
        })?;
        let dests = ctx.ipvs.destinations(&req.service).map_err(|e| {
            say_err(ctx, &explain::message(&e, None));
            EXIT_FAILED
        })?;
        let Some(before) = dests.into_iter().find(|d| d.addr == req.server) else {
            say_err(
                ctx,
                &format!(
                    "--drain: real server {} is not a destination of service {svc} \
                     (`ipvsadm-rs -Ln {svc}` lists them); nothing was changed\n",
                    req.server
                ),
            );
            return Err(EXIT_FAILED);
        };

        match sys.expire_quiescent_template() {
            Ok(text) if text.trim() != "0" => {
                say_err(
                    ctx,
                    &format!(
                        "--drain refused: net.ipv4.vs.expire_quiescent_template is {} in this \
                         network namespace: IPVS drops a weight-0 server's templates when they \
                         are next used, so the weight 0 of a drain would move the calls in \
                         progress on {} to other servers, which know nothing of them; nothing \
                         was changed\n  set it to 0 for the drain (`sysctl -w \
                         net.ipv4.vs.expire_quiescent_template=0`), or delete the server at \
                         once (`ipvsadm-rs -d {svc} -r {}`) if its calls may be cut\n",
                        text.trim(),
                        req.server,
                        req.server
                    ),
                );
                return Err(EXIT_QUIESCENT);
            }
            Ok(_) => {}
            Err(e) => say_err(
                ctx,
                &format!(
                    "warning: cannot read {QUIESCENT_SYSCTL} ({e}): if it is 1, the weight 0 \
                     of this drain moves the calls in progress to other servers\n"
                ),
            ),
        }

        let others = other_services(ctx, &req.service, req.server.ip());
        if !others.is_empty() {
            say_err(
                ctx,
                &format!(
                    "note: {} is also a real server of {}: this drain leaves it there (drain \
                     each service with a --drain of its own; they can run side by side)\n",
                    req.server.ip(),
                    others.join(", ")
                ),
            );
        }

        if before.weight != 0 {
            let zero = Change::EditDestination(
                req.service,
                Destination {
                    weight: 0,
                    ..before.clone()
                },
            );
            if let Some(Err(e)) = ctx.ipvs.make_changes(std::slice::from_ref(&zero)).pop() {
                say_err(ctx, &explain::message(&e, Some(&zero)));
                say_err(ctx, "--drain: the server's weight is unchanged\n");
                return Err(EXIT_FAILED);
            }
        }
        let noun = if service.pe_name.is_some() {
            "call template"
        } else {
            "template"
        };
        let d = Drain {
            req,
            service,
            before,
            started: sys.now(),
            noun,
            proc_unreadable: false,
            reinstated: 0,
            progress: Progress {
                terminal: sys.terminal(),
                open_line: false,
                last: None,
            },
        };
        let timeout = match req.timeout {
            Some(t) => format!("for up to {} s", t.as_secs()),
            None => "without a timeout".into(),
        };
        let fallbacks = if d.service.pe_name.is_some() {
            " (templates without engine data, the fallback templates of datagrams without a \
             Call-ID, are not waited for)"
        } else {
            ""
        };
        let line = format!(
            "draining {} from {svc}: weight {} -> 0; waiting {timeout} until no {} and no \
             connection points at it{fallbacks}, then deleting it\n",
            req.server, d.before.weight, d.noun
        );
        let _ = ctx.out.write_all(line.as_bytes());
        let _ = ctx.out.flush();
        Ok(d)
    }

    /// The wait, then the delete or the end without it; the exit status.
    fn wait(&mut self, ctx: &mut Ctx<'_>, sys: &mut dyn System) -> i32 {
        let deadline = self.req.timeout.map(|t| self.started + t);
        let mut phase = Phase::Busy;
        loop {
            if let Some(sig) = sys.stop_signal() {
                return self.stopped(ctx, sys, sig);
            }
            let now = sys.now();
            let reading = match self.read(ctx) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let msg = format!(
                        "--drain: {} is no longer a real server of {}: something else deleted \
                         it during the drain\n",
                        self.req.server,
                        explain::service_option(&self.req.service)
                    );
                    self.fail(ctx, &msg);
                    return EXIT_FAILED;
                }
                Err(e) => {
                    let msg = format!(
                        "{}--drain: {} is left at weight 0, not deleted\n",
                        explain::message(&e, None),
                        self.req.server
                    );
                    self.fail(ctx, &msg);
                    return EXIT_FAILED;
                }
            };
            let next = step(phase, &reading, now, deadline);
            self.show(ctx, now, &reading, next);
            match next {
                Next::Wait(p) => {
                    phase = p;
                    sys.sleep(POLL);
                }
                Next::TimedOut => return self.timed_out(ctx, sys, &reading),
                Next::Delete => match self.delete(ctx) {
                    Ok(0) => return self.drained(ctx, sys, &reading),
                    Ok(appeared) => match self.reinstate(ctx, appeared) {
                        Ok(()) => {
                            phase = Phase::Busy;
                            sys.sleep(POLL);
                        }
                        Err(code) => return code,
                    },
                    Err(code) => return code,
                },
            }
        }
    }

    /// What points at the server now; `None` once it is not in the service.
    fn read(&mut self, ctx: &mut Ctx<'_>) -> Result<Option<Reading>, ipvs::Error> {
        let dests = ctx.ipvs.destinations(&self.req.service)?;
        let Some(d) = dests.into_iter().find(|d| d.addr == self.req.server) else {
            return Ok(None);
        };
        let mut r = Reading {
            templates: d.persistent_conns,
            fallbacks: 0,
            conns: d.active_conns.saturating_add(d.inactive_conns),
            longest_left: None,
        };
        if r.templates == 0 || self.service.pe_name.is_none() || self.proc_unreadable {
            return Ok(Some(r));
        }
        match scan(ctx, &self.req.service, self.req.server) {
            // The netlink count less the fallbacks /proc shows, or the
            // templates /proc shows if more: the file is read after the
            // count, and a template it lists that the count missed is waited
            // for, as is one it does not list.
            Ok(s) => {
                r.templates = r.templates.saturating_sub(s.fallbacks).max(s.templates);
                r.fallbacks = s.fallbacks;
                r.longest_left = s.longest_left;
            }
            Err(e) => {
                self.proc_unreadable = true;
                let msg = format!(
                    "warning: cannot read {} ({e}): every template is waited for, the \
                     engine's fallback templates included\n",
                    conn::PROC_FILE
                );
                self.end_line(ctx);
                say_err(ctx, &msg);
            }
        }
        Ok(Some(r))
    }

    /// Deletes the server; then the templates that may hold a call and
    /// point at it (made between the last reading and the delete), from
    /// `/proc/net/ip_vs_conn`, on a persistent service. `Err` is the exit
    /// status of a failed delete.
    fn delete(&mut self, ctx: &mut Ctx<'_>) -> Result<u32, i32> {
        let del = Change::DeleteDestination(self.req.service, self.req.server);
        if let Some(Err(e)) = ctx.ipvs.make_changes(std::slice::from_ref(&del)).pop() {
            let msg = format!(
                "{}--drain: {} is left at weight 0, not deleted\n",
                explain::message(&e, Some(&del)),
                self.req.server
            );
            self.fail(ctx, &msg);
            return Err(EXIT_FAILED);
        }
        if !self.service.is_persistent() {
            return Ok(0);
        }
        match scan(ctx, &self.req.service, self.req.server) {
            Ok(s) => Ok(s.templates),
            Err(e) => {
                self.end_line(ctx);
                say_err(
                    ctx,
                    &format!(
                        "warning: cannot read {} after the delete ({e}): whether a template \
                         appeared just before it is not known\n",
                        conn::PROC_FILE
                    ),
                );
                Ok(0)
            }
        }
    }

    /// Puts the server back at weight 0 after `appeared` templates were
    /// found pointing at it once deleted: IPVS revives the same server from
    /// its trash, so their calls go on. `Err` is the exit status when that
    /// fails.
    fn reinstate(&mut self, ctx: &mut Ctx<'_>, appeared: u32) -> Result<(), i32> {
        let add = Change::AddDestination(
            self.req.service,
            Destination {
                weight: 0,
                ..self.before.clone()
            },
        );
        self.end_line(ctx);
        if let Some(Err(e)) = ctx.ipvs.make_changes(std::slice::from_ref(&add)).pop() {
            let msg = format!(
                "{}--drain: {} was deleted while {} pointed at it (made between the last \
                 reading and the delete), and putting it back failed: the calls they hold \
                 may break\n",
                explain::message(&e, Some(&add)),
                self.req.server,
                count(appeared, self.noun)
            );
            say_err(ctx, &msg);
            return Err(EXIT_FAILED);
        }
        self.reinstated += 1;
        let line = format!(
            "{} pointed at {} once deleted (made between the last reading and the delete, by \
             conn_out or the sync daemon): put back at weight 0, draining on\n",
            count(appeared, self.noun),
            self.req.server
        );
        let _ = ctx.out.write_all(line.as_bytes());
        Ok(())
    }

    /// The line that puts the server back as it was before the drain.
    fn restore_line(&self, ctx: &Ctx<'_>) -> String {
        let edit = Change::EditDestination(self.req.service, self.before.clone());
        String::from_utf8_lossy(&crate::apply::command_line(&edit, ctx)).into_owned()
    }

    /// The end of a drain: the server deleted once idle.
    fn drained(&mut self, ctx: &mut Ctx<'_>, sys: &dyn System, last: &Reading) -> i32 {
        self.end_line(ctx);
        let waited = sys.now().saturating_sub(self.started).as_secs();
        let mut line = format!(
            "deleted {} from {} after {waited} s: no {} and no connection pointed at it for \
             {} s",
            self.req.server,
            explain::service_option(&self.req.service),
            self.noun,
            SETTLE.as_secs()
        );
        if last.fallbacks > 0 {
            line.push_str(&format!(
                "; {} pointed at it (datagrams without a Call-ID: its clients' next ones go \
                 to another server)",
                count(last.fallbacks, "fallback template")
            ));
        }
        if self.reinstated > 0 {
            line.push_str(&format!(
                "; put back {} after a template appeared at its delete",
                count(self.reinstated, "time")
            ));
        }
        line.push('\n');
        let _ = ctx.out.write_all(line.as_bytes());
        EXIT_DRAINED
    }

    /// The end at the timeout: the server left at weight 0, or deleted
    /// all the same with `--force-delete`.
    fn timed_out(&mut self, ctx: &mut Ctx<'_>, sys: &dyn System, last: &Reading) -> i32 {
        self.end_line(ctx);
        let waited = sys.now().saturating_sub(self.started).as_secs();
        let left = format!(
            "{} and {} still pointed at {}",
            count(last.templates, self.noun),
            count(last.conns, "connection"),
            self.req.server
        );
        let svc = explain::service_option(&self.req.service);
        if self.req.force_delete {
            let del = Change::DeleteDestination(self.req.service, self.req.server);
            if let Some(Err(e)) = ctx.ipvs.make_changes(std::slice::from_ref(&del)).pop() {
                let msg = format!(
                    "{}--drain: timed out after {waited} s ({left}); the delete failed: it is \
                     left at weight 0\n",
                    explain::message(&e, Some(&del))
                );
                say_err(ctx, &msg);
                return EXIT_FAILED;
            }
            say_err(
                ctx,
                &format!(
                    "--drain: timed out after {waited} s ({left}): deleted it from {svc} \
                     anyway (--force-delete); the calls they held may break\n"
                ),
            );
            return EXIT_FORCED;
        }
        let restore = self.restore_line(ctx);
        say_err(
            ctx,
            &format!(
                "--drain: timed out after {waited} s: {left}; it stays in {svc} at weight 0, \
                 not deleted\n  `ipvsadm-rs --drain` again waits on; `ipvsadm-rs -d {svc} -r \
                 {}` deletes it, cutting those calls; `ipvsadm-rs {restore}` puts its weight \
                 back\n",
                self.req.server
            ),
        );
        EXIT_TIMED_OUT
    }

    /// The end on a stop signal: the server stays at weight 0.
    fn stopped(&mut self, ctx: &mut Ctx<'_>, sys: &dyn System, sig: i32) -> i32 {
        self.end_line(ctx);
        let waited = sys.now().saturating_sub(self.started).as_secs();
        let restore = self.restore_line(ctx);
        say_err(
            ctx,
            &format!(
                "--drain: stopped by {} after {waited} s: {} stays in {} at weight 0, not \
                 deleted\n  `ipvsadm-rs {restore}` puts its weight back\n",
                signal_name(sig),
                self.req.server,
                explain::service_option(&self.req.service),
            ),
        );
        EXIT_SIGNAL_BASE + sig
    }

    /// An error during the wait, said after the progress line.
    fn fail(&mut self, ctx: &mut Ctx<'_>, msg: &str) {
        self.end_line(ctx);
        say_err(ctx, msg);
    }

    /// Ends a terminal's progress line, so that other output starts on a
    /// line of its own.
    fn end_line(&mut self, ctx: &mut Ctx<'_>) {
        if self.progress.open_line {
            let _ = ctx.out.write_all(b"\n");
            let _ = ctx.out.flush();
            self.progress.open_line = false;
        }
    }

    /// The progress after a reading: on a terminal, one line rewritten at
    /// each reading; otherwise a plain line when something changed (at most
    /// one per [`PLAIN_EVERY`], but at once when the server turns idle or
    /// busy) and one per [`PLAIN_HEARTBEAT`] when nothing did.
    fn show(&mut self, ctx: &mut Ctx<'_>, now: Duration, r: &Reading, next: Next) {
        let text = self.describe(now, r, next);
        if self.progress.terminal {
            let _ = ctx.out.write_all(format!("\r\x1b[K{text}").as_bytes());
            let _ = ctx.out.flush();
            self.progress.open_line = true;
            return;
        }
        let due = match self.progress.last {
            None => true,
            Some((at, last)) => {
                let since = now.saturating_sub(at);
                let changed = (last.templates, last.fallbacks, last.conns)
                    != (r.templates, r.fallbacks, r.conns);
                (changed && (since >= PLAIN_EVERY || last.idle() != r.idle()))
                    || since >= PLAIN_HEARTBEAT
            }
        };
        if due {
            self.progress.last = Some((now, *r));
            let _ = ctx.out.write_all(format!("{text}\n").as_bytes());
            let _ = ctx.out.flush();
        }
    }

    /// One reading, taken at `now`, in words.
    fn describe(&self, now: Duration, r: &Reading, next: Next) -> String {
        let mut s = format!(
            "[{:>4} s] {}, {}",
            now.saturating_sub(self.started).as_secs(),
            count(r.templates, self.noun),
            count(r.conns, "connection")
        );
        if r.fallbacks > 0 {
            s.push_str(&format!(
                " ({} not waited for)",
                count(r.fallbacks, "fallback template")
            ));
        }
        if let Some(left) = r.longest_left.filter(|_| r.templates > 0) {
            s.push_str(&format!(
                "; the longest expires in {left} s unless its call sends again"
            ));
        }
        if let Next::Wait(Phase::Idle { since }) = next {
            s.push_str(&format!(
                "; idle for {} s of {}",
                now.saturating_sub(since).as_secs(),
                SETTLE.as_secs()
            ));
        }
        if let Some(t) = self.req.timeout {
            s.push_str(&format!(" (timeout {} s)", t.as_secs()));
        }
        s
    }
}

/// The other services `ip` is a real server of, as their options (with the
/// server's port and weight there); best effort: a service that cannot be
/// read is left out.
fn other_services(ctx: &mut Ctx<'_>, key: &ServiceKey, ip: IpAddr) -> Vec<String> {
    let Ok(services) = ctx.ipvs.services() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for s in services.iter().filter(|s| s.key != *key) {
        let Ok(dests) = ctx.ipvs.destinations(&s.key) else {
            continue;
        };
        for d in dests.iter().filter(|d| d.addr.ip() == ip) {
            out.push(format!(
                "{} (as {}, weight {})",
                explain::service_option(&s.key),
                d.addr,
                d.weight
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests;
