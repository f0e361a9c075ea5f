//! Floods an IPVS virtual service with SIP datagrams, each call with its own Call-ID, and
//! counts what the real servers receive. Used by `bench/vm/datapath.sh` inside the VM only.
//!
//! ```text
//! sipflood --client-netns NS --from IP:PORT --to IP:PORT --sink NS:DEV [--sink NS:DEV...]
//!          [--calls N] [--warmup SECONDS] [--seconds SECONDS] [--first-call N] [--live]
//!          [--count N] MESSAGE.sip...
//! ```
//!
//! Every call sends the given messages in order (for example INVITE, ACK, BYE), `--calls`
//! calls at a time in round robin, so that consecutive datagrams always carry different
//! Call-IDs and the director's template table stays at a steady size. The Call-ID of each
//! message file is overwritten in place (same length) with the call's number.
//!
//! For `bench/vm/scale.sh`, which fills the director's table once and then measures lookups
//! in it: `--first-call N` numbers the calls from N (default: from the clock, different in
//! every run), so that two runs address the same calls; `--live` keeps the same `--calls`
//! calls for the whole run, each sending the messages in turn, so that no datagram creates a
//! template; `--count N` sends N datagrams with no warm-up and stops (with one message and
//! `--count` equal to `--calls`: each call's first datagram once, the table's fill).
//!
//! Sinks are UDP sockets bound to port 5060 in each real server's namespace that never read:
//! they only keep the real servers from answering with ICMP errors. What a real server
//! received is its interface's receive counter, read before and after the measured window.
//!
//! Prints one line: `sent=N received=N per_server=A/B/C seconds=S pps=P` where `pps` is the
//! rate at which datagrams reached the real servers.

use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Datagrams handed to one `sendmmsg`.
const BATCH: usize = 64;
/// Hex digits of the call number written over the start of each Call-ID.
const ID_DIGITS: usize = 16;

struct Args {
    client_netns: String,
    from: SocketAddr,
    to: SocketAddr,
    sinks: Vec<(String, String)>,
    calls: u64,
    warmup: Duration,
    seconds: Duration,
    messages: Vec<String>,
    first_call: Option<u64>,
    live: bool,
    count: Option<u64>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut client_netns = None;
    let (mut from, mut to) = (None, None);
    let mut sinks = Vec::new();
    let mut calls = 1024;
    let mut warmup = Duration::from_secs(1);
    let mut seconds = Duration::from_secs(5);
    let mut messages = Vec::new();
    let (mut first_call, mut live, mut count) = (None, false, None);
    let secs = |v: String| {
        v.parse::<f64>()
            .map(Duration::from_secs_f64)
            .map_err(|e| e.to_string())
    };
    while let Some(a) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{a} needs a value"));
        match a.as_str() {
            "--client-netns" => client_netns = Some(value()?),
            "--from" => from = Some(value()?.parse().map_err(|e| format!("--from: {e}"))?),
            "--to" => to = Some(value()?.parse().map_err(|e| format!("--to: {e}"))?),
            "--sink" => {
                let v = value()?;
                let (ns, dev) = v.split_once(':').ok_or("--sink wants NETNS:DEVICE")?;
                sinks.push((ns.to_owned(), dev.to_owned()));
            }
            "--calls" => calls = value()?.parse().map_err(|e| format!("--calls: {e}"))?,
            "--warmup" => warmup = secs(value()?)?,
            "--seconds" => seconds = secs(value()?)?,
            "--first-call" => {
                first_call = Some(value()?.parse().map_err(|e| format!("--first-call: {e}"))?);
            }
            "--live" => live = true,
            "--count" => count = Some(value()?.parse().map_err(|e| format!("--count: {e}"))?),
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => messages.push(a),
        }
    }
    if messages.is_empty() || sinks.is_empty() || calls == 0 {
        return Err("need at least one message file, one --sink and --calls > 0".into());
    }
    Ok(Args {
        client_netns: client_netns.ok_or("--client-netns is required")?,
        from: from.ok_or("--from is required")?,
        to: to.ok_or("--to is required")?,
        sinks,
        calls,
        warmup,
        seconds,
        messages,
        first_call,
        live,
        count,
    })
}

/// A message file and where, in it, the call number goes.
struct Template {
    bytes: Vec<u8>,
    id_at: usize,
}

impl Template {
    fn load(path: &str) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        // The project's own parser finds the Call-ID; its offset is where the slice starts.
        let id = ipvs_pe_sip::call_id(&bytes).map_err(|e| format!("{path}: {e:?}"))?;
        if id.len() < ID_DIGITS {
            return Err(format!("{path}: Call-ID shorter than {ID_DIGITS} bytes"));
        }
        let id_at = id.as_ptr() as usize - bytes.as_ptr() as usize;
        Ok(Self { bytes, id_at })
    }
}

/// A network namespace made current for this (single-threaded) process.
fn enter(ns: &OwnedFd) -> io::Result<()> {
    // SAFETY: `ns` is an open namespace file; setns only changes this thread's namespace.
    if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

fn open_netns(name: &str) -> io::Result<OwnedFd> {
    Ok(File::open(format!("/run/netns/{name}"))?.into())
}

/// Receive counter of interface `dev` in the current namespace (netlink, via getifaddrs).
fn rx_packets(dev: &str) -> io::Result<u64> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs writes a list head we free below.
    if unsafe { libc::getifaddrs(&raw mut list) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let mut found = None;
    let mut p = list;
    while !p.is_null() {
        // SAFETY: `p` is a node of the list getifaddrs returned, not yet freed.
        let ifa = unsafe { &*p };
        p = ifa.ifa_next;
        if ifa.ifa_addr.is_null() || ifa.ifa_data.is_null() {
            continue;
        }
        // SAFETY: `ifa_addr` is non-null and points to a sockaddr; `ifa_name` is a C string.
        let (family, name) = unsafe { ((*ifa.ifa_addr).sa_family, CStr::from_ptr(ifa.ifa_name)) };
        if i32::from(family) == libc::AF_PACKET && name.to_bytes() == dev.as_bytes() {
            // SAFETY: for AF_PACKET entries glibc's `ifa_data` is a `struct rtnl_link_stats`,
            // whose first member is the 32-bit `rx_packets`.
            found = Some(u64::from(unsafe { *ifa.ifa_data.cast::<u32>() }));
            break;
        }
    }
    // SAFETY: `list` came from getifaddrs and nothing refers to it any more.
    unsafe { libc::freeifaddrs(list) };
    found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no interface {dev}")))
}

/// Writes the low digits of `n` in lowercase hex over `out`.
fn write_hex(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b"0123456789abcdef"[(n & 0xf) as usize];
        n >>= 4;
    }
}

struct Sink {
    ns: OwnedFd,
    dev: String,
    _socket: UdpSocket,
}

struct Flood {
    socket: UdpSocket,
    templates: Vec<Template>,
    calls: u64,
    /// Call number of the first call, different in every run.
    first_call: u64,
    /// Datagrams sent so far; datagram `i` is message `(i / calls) % templates` of call
    /// `first_call + (i / (calls * templates)) * calls + i % calls`, or with `live` of call
    /// `first_call + i % calls`.
    sent: u64,
    live: bool,
    /// Datagrams to send in all, if bounded (`--count`).
    limit: Option<u64>,
    bufs: Vec<Vec<u8>>,
}

impl Flood {
    /// Sends one batch; returns how many datagrams went out.
    fn batch(&mut self) -> io::Result<usize> {
        let per_call = self.templates.len() as u64;
        let want = self.limit.map_or(BATCH, |l| {
            l.saturating_sub(self.sent).min(BATCH as u64) as usize
        });
        let mut iovs = [libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        }; BATCH];
        // SAFETY: all-zero is a valid mmsghdr (no address, no control data).
        let mut msgs: [libc::mmsghdr; BATCH] = unsafe { std::mem::zeroed() };
        for (k, (buf, (iov, msg))) in self
            .bufs
            .iter_mut()
            .zip(iovs.iter_mut().zip(msgs.iter_mut()))
            .enumerate()
        {
            let i = self.sent + k as u64;
            let round = i / self.calls;
            let t = &self.templates[(round % per_call) as usize];
            let generation = if self.live { 0 } else { round / per_call };
            let call = self
                .first_call
                .wrapping_add(generation * self.calls + i % self.calls);
            buf.clear();
            buf.extend_from_slice(&t.bytes);
            write_hex(&mut buf[t.id_at..t.id_at + ID_DIGITS], call);
            iov.iov_base = buf.as_mut_ptr().cast();
            iov.iov_len = buf.len();
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        // SAFETY: the first `want` (at most BATCH) of `msgs` each point to one iovec over a
        // live buffer; the socket is connected, so no addresses are needed.
        let n = unsafe {
            libc::sendmmsg(
                self.socket.as_raw_fd(),
                msgs.as_mut_ptr(),
                want as libc::c_uint,
                0,
            )
        };
        let n = usize::try_from(n).map_err(|_| io::Error::last_os_error())?;
        self.sent += n as u64;
        Ok(n)
    }
}

fn run(a: Args) -> Result<String, String> {
    let templates = a
        .messages
        .iter()
        .map(|p| Template::load(p))
        .collect::<Result<Vec<_>, _>>()?;
    let err = |what: &str, e: io::Error| format!("{what}: {e}");
    let client = open_netns(&a.client_netns).map_err(|e| err(&a.client_netns, e))?;
    let mut sinks = Vec::new();
    for (ns, dev) in &a.sinks {
        let fd = open_netns(ns).map_err(|e| err(ns, e))?;
        enter(&fd).map_err(|e| err(ns, e))?;
        let socket = UdpSocket::bind(("0.0.0.0", 5060)).map_err(|e| err(ns, e))?;
        sinks.push(Sink {
            ns: fd,
            dev: dev.clone(),
            _socket: socket,
        });
    }
    let counters = |sinks: &[Sink]| -> Result<Vec<u64>, String> {
        let v = sinks
            .iter()
            .map(|s| enter(&s.ns).and_then(|()| rx_packets(&s.dev)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| err("counters", e))?;
        enter(&client).map_err(|e| err("client namespace", e))?;
        Ok(v)
    };
    enter(&client).map_err(|e| err(&a.client_netns, e))?;
    let socket = UdpSocket::bind(a.from).map_err(|e| err("bind", e))?;
    socket.connect(a.to).map_err(|e| err("connect", e))?;
    let first_call = a.first_call.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut flood = Flood {
        socket,
        templates,
        calls: a.calls,
        first_call,
        sent: 0,
        live: a.live,
        limit: a.count,
        bufs: (0..BATCH).map(|_| Vec::with_capacity(2048)).collect(),
    };

    let start = Instant::now();
    while a.count.is_none() && start.elapsed() < a.warmup {
        flood.batch().map_err(|e| err("sendmmsg", e))?;
    }
    let before = counters(&sinks)?;
    let sent_before = flood.sent;
    let t0 = Instant::now();
    while match a.count {
        Some(n) => flood.sent < n,
        None => t0.elapsed() < a.seconds,
    } {
        flood.batch().map_err(|e| err("sendmmsg", e))?;
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let after = counters(&sinks)?;
    let per: Vec<u64> = after
        .iter()
        .zip(&before)
        .map(|(a, b)| a.wrapping_sub(*b))
        .collect();
    let received: u64 = per.iter().sum();
    let per_server = per.iter().map(u64::to_string).collect::<Vec<_>>().join("/");
    Ok(format!(
        "sent={} received={received} per_server={per_server} seconds={elapsed:.3} pps={:.0}",
        flood.sent - sent_before,
        received as f64 / elapsed
    ))
}

fn main() -> ExitCode {
    match parse_args().and_then(run) {
        Ok(line) => {
            println!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sipflood: {e}");
            ExitCode::FAILURE
        }
    }
}
