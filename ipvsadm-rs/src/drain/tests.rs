//! The drain without a kernel: the state machine alone, the reading of
//! `/proc/net/ip_vs_conn`, and whole drains against an IPVS table in memory
//! whose counts follow a script over a clock that only moves when the drain
//! sleeps (no test waits for real time).

use std::cell::{Cell, RefCell};
use std::io::BufRead;
use std::net::SocketAddr;
use std::rc::Rc;

use ipvs::{Error, Info, Object, Op, ServiceFlags, SyncDaemon, Timeouts, Version};

use super::*;
use crate::kernel::Ipvs;
use crate::render::NoNames;

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn busy(templates: u32, conns: u32) -> Reading {
    Reading {
        templates,
        conns,
        ..Reading::default()
    }
}

// --- the state machine ----------------------------------------------------

/// Feeds readings taken one [`POLL`] apart from time 0; the time and what
/// the machine said at the first reading that did not say "wait".
fn drive(readings: &[Reading], deadline: Option<Duration>) -> (Duration, Next) {
    let mut phase = Phase::Busy;
    for (i, r) in readings.iter().enumerate() {
        let now = POLL * i as u32;
        match step(phase, r, now, deadline) {
            Next::Wait(p) => phase = p,
            next => return (now, next),
        }
    }
    panic!("still waiting after {} readings", readings.len());
}

#[test]
fn a_server_is_deleted_once_idle_for_the_settle_time() {
    let idle = Reading::default();
    let (at, next) = drive(&[busy(3, 0), busy(1, 1), idle, idle, idle, idle], None);
    assert_eq!(next, Next::Delete);
    // Idle from the reading at 2 s; deleted at the one SETTLE later.
    assert_eq!(at, secs(2) + SETTLE);
}

#[test]
fn one_busy_reading_starts_the_settle_again() {
    let idle = Reading::default();
    let (at, next) = drive(&[idle, idle, busy(0, 1), idle, idle, idle, idle], None);
    assert_eq!(next, Next::Delete);
    assert_eq!(at, secs(3) + SETTLE);
}

#[test]
fn fallback_templates_do_not_keep_a_server() {
    let fallbacks_only = Reading {
        fallbacks: 4,
        ..Reading::default()
    };
    assert!(fallbacks_only.idle());
    let (_, next) = drive(&[fallbacks_only; 3], None);
    assert_eq!(next, Next::Delete);
}

#[test]
fn the_timeout_ends_a_busy_wait() {
    let (at, next) = drive(&[busy(1, 0); 10], Some(secs(4)));
    assert_eq!((at, next), (secs(4), Next::TimedOut));
}

#[test]
fn a_server_idle_long_enough_at_the_timeout_is_deleted() {
    let idle = Reading::default();
    let (at, next) = drive(&[busy(1, 0), idle, idle, idle], Some(secs(3)));
    assert_eq!((at, next), (secs(3), Next::Delete));
    // Idle, but not for long enough: the timeout wins.
    let (at, next) = drive(&[busy(1, 0), busy(1, 0), idle, idle], Some(secs(3)));
    assert_eq!((at, next), (secs(3), Next::TimedOut));
}

// --- /proc/net/ip_vs_conn --------------------------------------------------

const VIP: &str = "10.0.1.100:5060";
const RIP: &str = "10.0.2.12:5060";

fn sock(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn udp_key() -> ServiceKey {
    ServiceKey::udp(sock(VIP))
}

/// A line of `/proc/net/ip_vs_conn` (IPv4) as the kernel writes it.
fn proc_line(
    proto: &str,
    client: &str,
    virt: &str,
    dest: &str,
    expires: u32,
    pe: Option<&str>,
) -> String {
    let hex = |s: &str| {
        let a = sock(s);
        let ip = match a.ip() {
            IpAddr::V4(v4) => u32::from(v4),
            IpAddr::V6(_) => panic!("IPv4 only"),
        };
        format!("{ip:08X} {:04X}", a.port())
    };
    let mut l = format!(
        "{proto} {} {} {} NONE {expires:>14}",
        hex(client),
        hex(virt),
        hex(dest)
    );
    if let Some(pe) = pe {
        l.push(' ');
        l.push_str(pe);
    }
    l.push('\n');
    l
}

/// A call template of the sip engine from the service to `dest`.
fn call(dest: &str, callid: &str, expires: u32) -> String {
    proc_line(
        "UDP",
        "0.0.0.0:0",
        VIP,
        dest,
        expires,
        Some(&format!("sip {callid}")),
    )
}

/// A fallback template of the sip engine (`sip` and no data).
fn fallback(dest: &str) -> String {
    proc_line("UDP", "0.0.0.0:0", VIP, dest, 50, Some("sip "))
}

const HEADING: &str =
    "Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n";

fn parsed(line: &str) -> Conn {
    conn::parse_line(line.trim_end().as_bytes()).expect("a line of the file")
}

#[test]
fn entries_are_classified_by_service_server_and_data() {
    let k = udp_key();
    let rs = sock(RIP);
    let is = |line: String, want: Entry| {
        assert_eq!(classify(&parsed(&line), &k, rs), want, "{line}");
    };
    is(call(RIP, "a@b", 30), Entry::Template);
    is(fallback(RIP), Entry::Fallback);
    // A template of plain persistence (no engine) keeps a call too.
    is(
        proc_line("UDP", "10.0.1.2:0", VIP, RIP, 30, None),
        Entry::Template,
    );
    // Another server, another service, another protocol.
    is(call("10.0.2.13:5060", "a@b", 30), Entry::Other);
    is(
        proc_line(
            "UDP",
            "0.0.0.0:0",
            "10.0.1.101:5060",
            RIP,
            30,
            Some("sip x"),
        ),
        Entry::Other,
    );
    is(
        proc_line("TCP", "0.0.0.0:0", VIP, RIP, 30, Some("sip x")),
        Entry::Other,
    );
    // A connection (a client port) is counted over netlink, not here.
    is(
        proc_line("UDP", "10.0.1.2:5060", VIP, RIP, 30, None),
        Entry::Other,
    );
    // A template IPVS invalidated (ports set to 65535) routes nothing.
    is(
        proc_line(
            "UDP",
            "0.0.0.0:0",
            "10.0.1.100:65535",
            "10.0.2.12:65535",
            30,
            Some("sip x"),
        ),
        Entry::Other,
    );
}

#[test]
fn templates_of_port_zero_and_firewall_mark_services() {
    // A service of port 0: the template's ports are 0.
    let k = ServiceKey::udp(sock("10.0.1.100:0"));
    let t = proc_line(
        "UDP",
        "0.0.0.0:0",
        "10.0.1.100:0",
        "10.0.2.12:0",
        30,
        Some("sip x"),
    );
    assert_eq!(
        classify(&parsed(&t), &k, sock("10.0.2.12:0")),
        Entry::Template
    );
    // A firewall-mark service: <IP, client, 0, MARK, 0, server, 0>.
    let k = ServiceKey::Fwmark {
        family: Family::Inet,
        mark: 7,
    };
    let t = proc_line(
        "IP",
        "0.0.0.0:0",
        "0.0.0.7:0",
        "10.0.2.12:0",
        30,
        Some("sip "),
    );
    assert_eq!(classify(&parsed(&t), &k, sock(RIP)), Entry::Fallback);
    let t = proc_line(
        "IP",
        "0.0.0.0:0",
        "0.0.0.8:0",
        "10.0.2.12:0",
        30,
        Some("sip "),
    );
    assert_eq!(classify(&parsed(&t), &k, sock(RIP)), Entry::Other);
    // In IPv6 the mark fills the address's first four bytes.
    let k = ServiceKey::Fwmark {
        family: Family::Inet6,
        mark: 7,
    };
    let t = "IP 0000:0000:0000:0000:0000:0000:0000:0000 0000 \
             0000:0007:0000:0000:0000:0000:0000:0000 0000 \
             fd00:0002:0000:0000:0000:0000:0000:0012 0000 NONE 30 sip a@b";
    assert_eq!(
        classify(&parsed(t), &k, sock("[fd00:2::12]:5060")),
        Entry::Template
    );
}

// --- whole drains ----------------------------------------------------------

/// What the in-memory IPVS and the system share: the time, the server's
/// counts and what `/proc/net/ip_vs_conn` shows, as functions of the time.
struct World {
    now: Cell<Duration>,
    service: Service,
    server: RefCell<Option<Destination>>,
    /// (persistent, active + inactive) at a time.
    counts: Box<dyn Fn(Duration) -> (u32, u32)>,
    /// The file's lines at a time, and whether the server is deleted.
    proc: Box<dyn Fn(Duration, bool) -> String>,
    others: Vec<(Service, Vec<Destination>)>,
    changes: RefCell<Vec<(Duration, Change)>>,
    /// A change of this kind fails.
    failing: Cell<Option<Op>>,
    /// The times IPVS was asked for the server's counts.
    reads: RefCell<Vec<Duration>>,
    /// Someone else deletes the server at this time.
    vanish_at: Cell<Option<Duration>>,
}

struct Fake(Rc<World>);

fn not_found(op: Op, key: &ServiceKey) -> Error {
    Error::Kernel {
        op,
        object: Object::Service(*key),
        errno: libc::ESRCH,
    }
}

impl Ipvs for Fake {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        let w = &self.0;
        Ok(std::iter::once(w.service.clone())
            .chain(w.others.iter().map(|(s, _)| s.clone()))
            .collect())
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        let w = &self.0;
        if *key == w.service.key {
            return Ok(w.service.clone());
        }
        Err(not_found(Op::GetService, key))
    }
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        let w = &self.0;
        if *key == w.service.key {
            let now = w.now.get();
            w.reads.borrow_mut().push(now);
            if w.vanish_at.get().is_some_and(|t| now >= t) {
                *w.server.borrow_mut() = None;
            }
            let (p, c) = (w.counts)(now);
            return Ok(w
                .server
                .borrow()
                .iter()
                .map(|d| Destination {
                    persistent_conns: p,
                    inactive_conns: c,
                    ..d.clone()
                })
                .collect());
        }
        match w.others.iter().find(|(s, _)| s.key == *key) {
            Some((_, d)) => Ok(d.clone()),
            None => Err(not_found(Op::ListDestinations, key)),
        }
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        Ok(Vec::new())
    }
    fn make_changes(&mut self, changes: &[Change]) -> Vec<Result<(), Error>> {
        let w = &self.0;
        changes
            .iter()
            .map(|c| {
                if w.failing.get() == Some(c.op()) {
                    return Err(Error::Kernel {
                        op: c.op(),
                        object: c.object(),
                        errno: libc::ENOMEM,
                    });
                }
                w.changes.borrow_mut().push((w.now.get(), c.clone()));
                let mut server = w.server.borrow_mut();
                match c {
                    Change::EditDestination(_, d) => *server = Some(d.clone()),
                    Change::DeleteDestination(..) => *server = None,
                    Change::AddDestination(_, d) => *server = Some(d.clone()),
                    other => panic!("a drain makes no {other:?}"),
                }
                Ok(())
            })
            .collect()
    }
}

/// The system: the clock moves only when the drain sleeps.
struct Sys {
    world: Rc<World>,
    /// A stop signal arriving at this time.
    signal: Option<(Duration, i32)>,
    quiescent: io::Result<String>,
    terminal: bool,
    slept: Duration,
}

impl System for Sys {
    fn now(&self) -> Duration {
        self.world.now.get()
    }
    fn sleep(&mut self, d: Duration) {
        // A signal cuts a sleep short, as the real one does.
        let now = self.world.now.get();
        let to = match self.signal {
            Some((at, _)) if at > now && at < now + d => at,
            _ => now + d,
        };
        self.slept += to - now;
        self.world.now.set(to);
    }
    fn stop_signal(&self) -> Option<i32> {
        self.signal
            .filter(|(at, _)| *at <= self.world.now.get())
            .map(|(_, s)| s)
    }
    fn expire_quiescent_template(&self) -> io::Result<String> {
        match &self.quiescent {
            Ok(s) => Ok(s.clone()),
            Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
        }
    }
    fn terminal(&self) -> bool {
        self.terminal
    }
}

/// A drain's world: a UDP service (with `--pe sip` when `pe`, persistent)
/// with the server at weight 1, NATed.
fn world(
    pe: bool,
    counts: impl Fn(Duration) -> (u32, u32) + 'static,
    proc: impl Fn(Duration, bool) -> String + 'static,
) -> World {
    let mut service = Service::new(udp_key());
    service.flags = ServiceFlags::PERSISTENT | ServiceFlags::ONE_PACKET;
    service.timeout = 10;
    service.pe_name = pe.then(|| "sip".to_string());
    World {
        now: Cell::new(Duration::ZERO),
        service,
        server: RefCell::new(Some(Destination {
            forward: ipvs::Forward::Masq,
            ..Destination::new(sock(RIP))
        })),
        counts: Box::new(counts),
        proc: Box::new(proc),
        others: Vec::new(),
        changes: RefCell::new(Vec::new()),
        failing: Cell::new(None),
        reads: RefCell::new(Vec::new()),
        vanish_at: Cell::new(None),
    }
}

/// What a drain did: its status, its standard output and error.
struct Ran {
    code: i32,
    out: String,
    err: String,
    world: Rc<World>,
    sys: Sys,
}

impl Ran {
    fn changes(&self) -> Vec<(Duration, Change)> {
        self.world.changes.borrow().clone()
    }
    fn kinds(&self) -> Vec<Op> {
        self.changes().iter().map(|(_, c)| c.op()).collect()
    }
    fn weight(&self) -> Option<u32> {
        self.world.server.borrow().as_ref().map(|d| d.weight)
    }
}

fn request(timeout: Option<u64>, force_delete: bool) -> DrainRequest {
    DrainRequest {
        service: udp_key(),
        server: sock(RIP),
        timeout: timeout.map(secs),
        force_delete,
    }
}

fn run_with(world: World, req: &DrainRequest, mut sys: impl FnMut(Rc<World>) -> Sys) -> Ran {
    let world = Rc::new(world);
    let mut sys = sys(world.clone());
    let mut fake = Fake(world.clone());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let proc_world = world.clone();
    let read_conns = move || -> io::Result<Box<dyn BufRead>> {
        let deleted = proc_world.server.borrow().is_none();
        let text = format!(
            "{HEADING}{}",
            (proc_world.proc)(proc_world.now.get(), deleted)
        );
        Ok(Box::new(io::Cursor::new(text.into_bytes())))
    };
    let code = {
        let mut ctx = Ctx {
            ipvs: &mut fake,
            info: Info {
                version: Version(0x010201),
                conn_tab_size: 4096,
            },
            names: &NoNames,
            out: &mut out,
            err: &mut err,
            read_conns: &read_conns,
        };
        carry_out(&mut ctx, &mut sys, req)
    };
    Ran {
        code,
        out: String::from_utf8(out).unwrap(),
        err: String::from_utf8(err).unwrap(),
        world,
        sys,
    }
}

fn sys_plain(world: Rc<World>) -> Sys {
    Sys {
        world,
        signal: None,
        quiescent: Ok("0\n".into()),
        terminal: false,
        slept: Duration::ZERO,
    }
}

fn run(world: World, req: &DrainRequest) -> Ran {
    run_with(world, req, sys_plain)
}

/// Templates that end one by one: 3 until 4 s, then 1 until 9 s, then none.
fn ending(t: Duration) -> (u32, u32) {
    match t.as_secs() {
        0..=3 => (3, 0),
        4..=8 => (1, 0),
        _ => (0, 0),
    }
}

#[test]
fn a_drain_sets_weight_0_waits_and_deletes_once_idle() {
    let r = run(
        world(false, ending, |_, _| String::new()),
        &request(None, false),
    );
    assert_eq!(r.code, EXIT_DRAINED, "{}{}", r.out, r.err);
    let changes = r.changes();
    assert_eq!(r.kinds(), [Op::EditDestination, Op::DeleteDestination]);
    // Weight 0 first, the rest of the server's configuration kept.
    match &changes[0] {
        (t, Change::EditDestination(k, d)) => {
            assert_eq!((*t, *k), (Duration::ZERO, udp_key()));
            assert_eq!(
                (d.addr, d.weight, d.forward),
                (sock(RIP), 0, ipvs::Forward::Masq)
            );
        }
        other => panic!("{other:?}"),
    }
    // Deleted at the reading SETTLE after the first idle one (9 s).
    assert_eq!(changes[1].0, secs(9) + SETTLE);
    assert_eq!(r.weight(), None);
    // No template was ever read from /proc: the service has no engine.
    assert!(r.out.starts_with(&format!(
        "draining {RIP} from -u {VIP}: weight 1 -> 0; waiting without a timeout"
    )));
    assert!(
        r.out
            .contains(&format!("deleted {RIP} from -u {VIP} after 11 s")),
        "{}",
        r.out
    );
    assert_eq!(r.err, "");
    // The clock moved by the drain's own sleeps only.
    assert_eq!(r.sys.slept, secs(11));
}

#[test]
fn the_readings_are_one_poll_apart_and_the_last_precedes_the_delete() {
    let r = run(
        world(false, ending, |_, _| String::new()),
        &request(None, false),
    );
    let reads = r.world.reads.borrow().clone();
    // The first reading is the one that finds the server (at the start),
    // then one per POLL.
    for pair in reads[1..].windows(2) {
        assert_eq!(pair[1] - pair[0], POLL);
    }
    let deleted_at = r.changes()[1].0;
    assert_eq!(*reads.last().unwrap(), deleted_at);
}

#[test]
fn a_server_at_weight_0_already_is_not_edited() {
    let w = world(false, |_| (0, 0), |_, _| String::new());
    w.server.borrow_mut().as_mut().unwrap().weight = 0;
    let r = run(w, &request(None, false));
    assert_eq!(r.code, EXIT_DRAINED);
    assert_eq!(r.kinds(), [Op::DeleteDestination]);
    assert_eq!(r.changes()[0].0, SETTLE);
}

#[test]
fn connections_are_waited_for_too() {
    let counts = |t: Duration| (0, if t < secs(5) { 2 } else { 0 });
    let r = run(
        world(false, counts, |_, _| String::new()),
        &request(None, false),
    );
    assert_eq!(r.code, EXIT_DRAINED);
    assert_eq!(r.changes()[1].0, secs(5) + SETTLE);
}

/// On a --pe sip service, the netlink count holds 2 call templates and a
/// fallback until 6 s, then the fallback alone: the server is deleted with
/// the fallback still there.
#[test]
fn fallback_templates_are_not_waited_for() {
    let counts = |t: Duration| (if t < secs(6) { 3 } else { 1 }, 0);
    let proc = |t: Duration, _| {
        let mut s = fallback(RIP) + &fallback("10.0.2.13:5060");
        if t < secs(6) {
            s += &call(RIP, "one@x", 7);
            s += &call(RIP, "two@x", 9);
            s += &call("10.0.2.13:5060", "three@x", 9);
        }
        s
    };
    let r = run(world(true, counts, proc), &request(None, false));
    assert_eq!(r.code, EXIT_DRAINED, "{}{}", r.out, r.err);
    assert_eq!(r.changes()[1].0, secs(6) + SETTLE);
    assert!(r
        .out
        .contains("(templates without engine data, the fallback templates"));
    assert!(
        r.out
            .contains("2 call templates, 0 connections (1 fallback template not waited for)"),
        "{}",
        r.out
    );
    assert!(r
        .out
        .contains("the longest expires in 9 s unless its call sends again"));
    assert!(
        r.out.contains("1 fallback template pointed at it"),
        "{}",
        r.out
    );
}

/// A template the netlink count has and the file does not show (one IPVS
/// invalidated, say) is waited for all the same.
#[test]
fn what_netlink_counts_is_waited_for_unless_known_to_be_a_fallback() {
    let counts = |t: Duration| (if t < secs(4) { 2 } else { 0 }, 0);
    let r = run(
        world(true, counts, |_, _| fallback(RIP)),
        &request(None, false),
    );
    assert_eq!(r.code, EXIT_DRAINED);
    assert_eq!(r.changes()[1].0, secs(4) + SETTLE);
    assert!(
        r.out.contains("1 call template, 0 connections (1 fallback"),
        "{}",
        r.out
    );
}

#[test]
fn an_unreadable_proc_file_makes_every_template_count() {
    let counts = |t: Duration| (if t < secs(4) { 1 } else { 0 }, 0);
    let world = Rc::new(world(true, counts, |_, _| String::new()));
    let mut sys = sys_plain(world.clone());
    let mut fake = Fake(world.clone());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let read_conns = || -> io::Result<Box<dyn BufRead>> {
        Err(io::Error::new(io::ErrorKind::PermissionDenied, "denied"))
    };
    let code = carry_out(
        &mut Ctx {
            ipvs: &mut fake,
            info: Info::default(),
            names: &NoNames,
            out: &mut out,
            err: &mut err,
            read_conns: &read_conns,
        },
        &mut sys,
        &request(None, false),
    );
    assert_eq!(code, EXIT_DRAINED);
    let err = String::from_utf8(err).unwrap();
    // Said once, and once more for the check after the delete.
    assert_eq!(
        err.matches("warning: cannot read /proc/net/ip_vs_conn")
            .count(),
        2,
        "{err}"
    );
    assert!(err.contains("every template is waited for"));
    assert_eq!(world.changes.borrow()[1].0, secs(4) + SETTLE);
}

#[test]
fn at_the_timeout_the_server_stays_at_weight_0() {
    let r = run(
        world(false, |_| (2, 1), |_, _| String::new()),
        &request(Some(30), false),
    );
    assert_eq!(r.code, EXIT_TIMED_OUT);
    assert_eq!(r.kinds(), [Op::EditDestination]);
    assert_eq!(r.weight(), Some(0));
    assert_eq!(r.sys.slept, secs(30));
    assert!(
        r.err.contains(&format!(
            "--drain: timed out after 30 s: 2 templates and 1 connection still pointed at \
             {RIP}; it stays in -u {VIP} at weight 0, not deleted"
        )),
        "{}",
        r.err
    );
    // How to put its weight back, its forwarding method kept.
    assert!(
        r.err
            .contains(&format!("`ipvsadm-rs -e -u {VIP} -r {RIP} -m -w 1` puts")),
        "{}",
        r.err
    );
}

#[test]
fn at_the_timeout_force_delete_deletes() {
    let r = run(
        world(true, |_| (1, 0), |_, _| call(RIP, "c@x", 9)),
        &request(Some(5), true),
    );
    assert_eq!(r.code, EXIT_FORCED);
    assert_eq!(r.kinds(), [Op::EditDestination, Op::DeleteDestination]);
    assert_eq!(r.changes()[1].0, secs(5));
    assert!(r.err.contains("anyway (--force-delete)"), "{}", r.err);
}

#[test]
fn expire_quiescent_template_refuses_the_drain_before_any_change() {
    let r = run_with(
        world(false, ending, |_, _| String::new()),
        &request(None, false),
        |w| Sys {
            quiescent: Ok("1\n".into()),
            ..sys_plain(w)
        },
    );
    assert_eq!(r.code, EXIT_QUIESCENT);
    assert!(r.changes().is_empty());
    assert_eq!(r.weight(), Some(1));
    assert_eq!(r.out, "");
    assert!(r
        .err
        .starts_with("--drain refused: net.ipv4.vs.expire_quiescent_template is 1"));
    assert!(r
        .err
        .contains("sysctl -w net.ipv4.vs.expire_quiescent_template=0"));
}

#[test]
fn an_unreadable_sysctl_is_warned_about() {
    let r = run_with(
        world(false, ending, |_, _| String::new()),
        &request(None, false),
        |w| Sys {
            quiescent: Err(io::Error::new(io::ErrorKind::NotFound, "gone")),
            ..sys_plain(w)
        },
    );
    assert_eq!(r.code, EXIT_DRAINED);
    assert!(r
        .err
        .starts_with("warning: cannot read /proc/sys/net/ipv4/vs/expire_quiescent"));
}

#[test]
fn a_stop_signal_leaves_the_server_at_weight_0() {
    let r = run_with(
        world(false, |_| (1, 0), |_, _| String::new()),
        &request(None, false),
        |w| Sys {
            signal: Some((Duration::from_millis(3500), libc::SIGINT)),
            ..sys_plain(w)
        },
    );
    assert_eq!(r.code, 128 + libc::SIGINT);
    assert_eq!(r.kinds(), [Op::EditDestination]);
    assert_eq!(r.weight(), Some(0));
    // Stopped when the signal came, not at the end of a sleep.
    assert_eq!(r.sys.slept, Duration::from_millis(3500));
    assert!(r.err.contains(&format!(
        "--drain: stopped by SIGINT after 3 s: {RIP} stays in -u {VIP} at weight 0, not deleted"
    )));
    assert!(r
        .err
        .contains(&format!("`ipvsadm-rs -e -u {VIP} -r {RIP} -m -w 1`")));
}

/// A template made between the last reading and the delete (by conn_out,
/// say) is found once the server is deleted: the server is put back at
/// weight 0 and drained on, until it is idle for good.
#[test]
fn a_template_made_at_the_delete_puts_the_server_back() {
    // The count is 0 until 5 s; the template appears just as the server is
    // deleted (at 2 s) and ends at 5 s.
    let counts = |t: Duration| {
        (
            if (secs(3)..secs(5)).contains(&t) {
                1
            } else {
                0
            },
            0,
        )
    };
    let proc = |t: Duration, deleted: bool| {
        if (deleted && t == SETTLE) || (secs(3)..secs(5)).contains(&t) {
            call(RIP, "late@x", 9)
        } else {
            String::new()
        }
    };
    let r = run(world(true, counts, proc), &request(None, false));
    assert_eq!(r.code, EXIT_DRAINED, "{}{}", r.out, r.err);
    let changes = r.changes();
    assert_eq!(
        r.kinds(),
        [
            Op::EditDestination,
            Op::DeleteDestination,
            Op::AddDestination,
            Op::DeleteDestination
        ]
    );
    match &changes[2] {
        (t, Change::AddDestination(_, d)) => {
            assert_eq!(*t, SETTLE);
            assert_eq!((d.weight, d.forward), (0, ipvs::Forward::Masq));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(changes[3].0, secs(5) + SETTLE);
    assert!(r.out.contains("1 call template pointed at"), "{}", r.out);
    assert!(
        r.out.contains("put back 1 time after a template appeared"),
        "{}",
        r.out
    );
}

#[test]
fn a_missing_service_or_server_changes_nothing() {
    let mut req = request(None, false);
    req.service = ServiceKey::udp(sock("10.0.1.101:5060"));
    let r = run(world(false, ending, |_, _| String::new()), &req);
    assert_eq!(r.code, EXIT_FAILED);
    assert!(r.changes().is_empty());
    assert!(r.err.starts_with("No such service\n"), "{}", r.err);

    let mut req = request(None, false);
    req.server = sock("10.0.2.19:5060");
    let r = run(world(false, ending, |_, _| String::new()), &req);
    assert_eq!(r.code, EXIT_FAILED);
    assert!(r.changes().is_empty());
    assert!(r
        .err
        .contains("10.0.2.19:5060 is not a destination of service -u 10.0.1.100:5060"));
}

#[test]
fn a_server_deleted_by_someone_else_ends_the_drain() {
    let w = world(false, |_| (1, 0), |_, _| String::new());
    w.vanish_at.set(Some(secs(3)));
    let r = run(w, &request(None, false));
    assert_eq!(r.code, EXIT_FAILED);
    assert_eq!(r.kinds(), [Op::EditDestination]);
    assert!(
        r.err.contains(&format!(
            "{RIP} is no longer a real server of -u {VIP}: something else deleted it"
        )),
        "{}",
        r.err
    );
}

#[test]
fn a_failed_change_says_where_the_server_is_left() {
    let w = world(false, ending, |_, _| String::new());
    w.failing.set(Some(Op::EditDestination));
    let r = run(w, &request(None, false));
    assert_eq!(r.code, EXIT_FAILED);
    assert!(
        r.err.contains("the server's weight is unchanged"),
        "{}",
        r.err
    );
    assert_eq!(r.weight(), Some(1));

    let w = world(false, ending, |_, _| String::new());
    w.failing.set(Some(Op::DeleteDestination));
    let r = run(w, &request(None, false));
    assert_eq!(r.code, EXIT_FAILED);
    assert!(
        r.err
            .contains(&format!("{RIP} is left at weight 0, not deleted")),
        "{}",
        r.err
    );
    assert_eq!(r.weight(), Some(0));
}

#[test]
fn other_services_of_the_server_are_named() {
    let mut w = world(false, ending, |_, _| String::new());
    let other = Service::new(ServiceKey::tcp(sock("10.0.1.100:5061")));
    w.others.push((
        other,
        vec![
            Destination::new(sock("10.0.2.12:5061")),
            Destination::new(sock("10.0.2.13:5061")),
        ],
    ));
    let r = run(w, &request(None, false));
    assert_eq!(r.code, EXIT_DRAINED);
    assert!(
        r.err.contains(
            "note: 10.0.2.12 is also a real server of -t 10.0.1.100:5061 (as 10.0.2.12:5061, \
             weight 1): this drain leaves it there"
        ),
        "{}",
        r.err
    );
}

#[test]
fn plain_progress_lines_are_few() {
    // Counts that change at every reading for a minute, then none.
    let counts = |t: Duration| {
        (
            if t < secs(60) {
                60 - t.as_secs() as u32
            } else {
                0
            },
            0,
        )
    };
    let r = run(
        world(false, counts, |_, _| String::new()),
        &request(None, false),
    );
    assert_eq!(r.code, EXIT_DRAINED);
    let lines: Vec<&str> = r.out.lines().filter(|l| l.starts_with('[')).collect();
    // One at the start, one per PLAIN_EVERY while the counts change, and
    // one when the server turns idle.
    assert_eq!(
        lines.len(),
        60 / PLAIN_EVERY.as_secs() as usize + 1,
        "{}",
        r.out
    );
    assert!(lines[0].starts_with("[   0 s] 60 templates, 0 connections"));
    assert!(lines
        .last()
        .unwrap()
        .starts_with("[  60 s] 0 templates, 0 connections; idle for 0 s of 2"));
    assert!(!r.out.contains('\r'));
}

#[test]
fn on_a_terminal_one_line_is_rewritten() {
    let r = run_with(
        world(false, ending, |_, _| String::new()),
        &request(Some(60), false),
        |w| Sys {
            terminal: true,
            ..sys_plain(w)
        },
    );
    assert_eq!(r.code, EXIT_DRAINED);
    // One rewrite per reading (12: 0 to 11 s), then the end on a line of
    // its own.
    assert_eq!(r.out.matches("\r\x1b[K").count(), 12, "{:?}", r.out);
    assert!(r
        .out
        .contains("\r\x1b[K[   4 s] 1 template, 0 connections (timeout 60 s)"));
    assert!(r.out.contains("(timeout 60 s)\ndeleted "), "{:?}", r.out);
}
