//! Floods an IPVS virtual service with SIP datagrams, each call with its own Call-ID, and
//! counts what the real servers receive. Used by `bench/vm/datapath.sh` inside the VM only.
//!
//! ```text
//! sipflood --client-netns NS --from IP:PORT --to IP:PORT --sink NS:DEV [--sink NS:DEV...]
//!          [--calls N] [--warmup SECONDS] [--seconds SECONDS] [--first-call N] [--live]
//!          [--count N] [--sink-port PORT...] [--ports N] [--port-step N] [--sdp-port PORT]
//!          [--raw] MESSAGE.sip...
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
//!
//! For the media benchmark (`bench/vm/media.sh`), which needs the same calls in several runs
//! and datagrams from many client ports: `--first-call` fixes the first call's number (by
//! default it comes from the clock, so that every run has new calls); `--sdp-port BASE`
//! writes the port `BASE + call * --port-step` (counting the calls of the run from 0) over the
//! first `m=` line's five-digit port, so that each call offers its own media port; `--ports N`
//! sends from N sockets, bound to the ports `--from`, `--from + --port-step`, ..., each batch
//! of datagrams from the next one in turn; `--raw` sends the message files as they are (no
//! Call-ID to number, for RTP); `--sink-port` gives the sinks' ports (5060 by default, the
//! option repeated for several); `--count` (above) also serves it to start its calls, with no
//! sinks (the record's received count is then 0).

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
    sink_ports: Vec<u16>,
    first_call: Option<u64>,
    live: bool,
    ports: u16,
    port_step: u16,
    sdp_port: Option<u16>,
    raw: bool,
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
    let mut sink_ports = Vec::new();
    let (mut first_call, mut sdp_port, mut count) = (None, None, None);
    let (mut ports, mut port_step, mut raw, mut live) = (1, 1, false, false);
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
            "--sink-port" => sink_ports.push(value()?.parse().map_err(|e| format!("{a}: {e}"))?),
            "--first-call" => first_call = Some(value()?.parse().map_err(|e| format!("{a}: {e}"))?),
            "--live" => live = true,
            "--ports" => ports = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--port-step" => port_step = value()?.parse().map_err(|e| format!("{a}: {e}"))?,
            "--sdp-port" => sdp_port = Some(value()?.parse().map_err(|e| format!("{a}: {e}"))?),
            "--count" => count = Some(value()?.parse().map_err(|e| format!("{a}: {e}"))?),
            "--raw" => raw = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            _ => messages.push(a),
        }
    }
    if messages.is_empty() || (sinks.is_empty() && count.is_none()) || calls == 0 {
        return Err("need at least one message file, one --sink and --calls > 0".into());
    }
    if ports == 0 || port_step == 0 {
        return Err("--ports and --port-step must be > 0".into());
    }
    if raw && sdp_port.is_some() {
        return Err("--raw sends the files as they are: no --sdp-port".into());
    }
    if sink_ports.is_empty() {
        sink_ports.push(5060);
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
        sink_ports,
        first_call,
        live,
        ports,
        port_step,
        sdp_port,
        raw,
        count,
    })
}

/// Digits of the SDP media port `--sdp-port` writes.
const PORT_DIGITS: usize = 5;

/// A message file and where, in it, the call number goes (nowhere with `--raw`), and the
/// media port (with `--sdp-port`).
struct Template {
    bytes: Vec<u8>,
    id_at: Option<usize>,
    port_at: Option<usize>,
}

impl Template {
    fn load(path: &str, raw: bool, sdp_port: bool) -> Result<Self, String> {
        let bytes = std::fs::read(path).map_err(|e| format!("{path}: {e}"))?;
        if raw {
            return Ok(Self {
                bytes,
                id_at: None,
                port_at: None,
            });
        }
        // The project's own parser finds the Call-ID; its offset is where the slice starts.
        let id = ipvs_pe_sip::call_id(&bytes).map_err(|e| format!("{path}: {e:?}"))?;
        if id.len() < ID_DIGITS {
            return Err(format!("{path}: Call-ID shorter than {ID_DIGITS} bytes"));
        }
        let id_at = Some(id.as_ptr() as usize - bytes.as_ptr() as usize);
        let port_at =
            if sdp_port {
                Some(media_port_at(&bytes).ok_or_else(|| {
                    format!("{path}: no `m=` line with a {PORT_DIGITS}-digit port")
                })?)
            } else {
                None
            };
        Ok(Self {
            bytes,
            id_at,
            port_at,
        })
    }
}

/// Where the port of the first `m=` line (`m=audio 49172 RTP/AVP ...`) starts, if it has
/// exactly PORT_DIGITS digits.
fn media_port_at(bytes: &[u8]) -> Option<usize> {
    let line = bytes.windows(3).position(|w| w == b"\nm=")? + 3;
    let at = line + bytes.get(line..)?.iter().position(|&b| b == b' ')? + 1;
    let digits = bytes
        .get(at..)?
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    (digits == PORT_DIGITS).then_some(at)
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

/// Writes the low digits of `n` in decimal over `out`.
fn write_decimal(out: &mut [u8], mut n: u64) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
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
    _sockets: Vec<UdpSocket>,
}

struct Flood {
    /// The client's sockets, one per source port; batch `b` goes out of socket `b % len`.
    sockets: Vec<UdpSocket>,
    batches: u64,
    /// With `--sdp-port`: the first call's media port and the step between calls' ports.
    sdp_port: Option<(u16, u16)>,
    templates: Vec<Template>,
    calls: u64,
    /// Call number of the first call, different in every run.
    first_call: u64,
    /// Datagrams sent so far; datagram `i` is message `(i / calls) % templates` of call
    /// `first_call + (i / (calls * templates)) * calls + i % calls`, or with `live` of call
    /// `first_call + i % calls`.
    sent: u64,
    live: bool,
    bufs: Vec<Vec<u8>>,
}

impl Flood {
    /// Sends one batch of at most `want` (up to BATCH) datagrams; returns how many went out.
    fn batch(&mut self, want: usize) -> io::Result<usize> {
        let per_call = self.templates.len() as u64;
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
            let offset = generation * self.calls + i % self.calls;
            let call = self.first_call.wrapping_add(offset);
            buf.clear();
            buf.extend_from_slice(&t.bytes);
            if let Some(at) = t.id_at {
                write_hex(&mut buf[at..at + ID_DIGITS], call);
            }
            if let (Some(at), Some((base, step))) = (t.port_at, self.sdp_port) {
                // Within u16 by the check in `run`: offset % calls < calls.
                let port = u64::from(base) + (offset % self.calls) * u64::from(step);
                write_decimal(&mut buf[at..at + PORT_DIGITS], port);
            }
            iov.iov_base = buf.as_mut_ptr().cast();
            iov.iov_len = buf.len();
            msg.msg_hdr.msg_iov = iov;
            msg.msg_hdr.msg_iovlen = 1;
        }
        let socket = &self.sockets[(self.batches % self.sockets.len() as u64) as usize];
        self.batches += 1;
        let want = want.min(BATCH);
        // SAFETY: `msgs` holds BATCH headers, each pointing to one iovec over a live buffer;
        // the socket is connected, so no addresses are needed.
        let n = unsafe {
            libc::sendmmsg(
                socket.as_raw_fd(),
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
        .map(|p| Template::load(p, a.raw, a.sdp_port.is_some()))
        .collect::<Result<Vec<_>, _>>()?;
    let port_of = |j: u64| {
        u16::try_from(u64::from(a.from.port()) + j * u64::from(a.port_step))
            .map_err(|_| "--from's port + (--ports - 1) * --port-step is past 65535".to_owned())
    };
    port_of(u64::from(a.ports) - 1)?;
    if let Some(base) = a.sdp_port {
        let last = u64::from(base) + (a.calls - 1) * u64::from(a.port_step);
        if base < 10000 || last > 65535 {
            return Err("--sdp-port: the calls' ports must have 5 digits".into());
        }
    }
    let err = |what: &str, e: io::Error| format!("{what}: {e}");
    let client = open_netns(&a.client_netns).map_err(|e| err(&a.client_netns, e))?;
    let mut sinks = Vec::new();
    for (ns, dev) in &a.sinks {
        let fd = open_netns(ns).map_err(|e| err(ns, e))?;
        enter(&fd).map_err(|e| err(ns, e))?;
        let sockets = a
            .sink_ports
            .iter()
            .map(|&p| UdpSocket::bind(("0.0.0.0", p)))
            .collect::<io::Result<Vec<_>>>()
            .map_err(|e| err(ns, e))?;
        sinks.push(Sink {
            ns: fd,
            dev: dev.clone(),
            _sockets: sockets,
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
    let mut sockets = Vec::new();
    for j in 0..u64::from(a.ports) {
        let mut from = a.from;
        from.set_port(port_of(j)?);
        let socket = UdpSocket::bind(from).map_err(|e| err("bind", e))?;
        socket.connect(a.to).map_err(|e| err("connect", e))?;
        sockets.push(socket);
    }
    let first_call = a.first_call.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
    });
    let mut flood = Flood {
        sockets,
        batches: 0,
        sdp_port: a.sdp_port.map(|base| (base, a.port_step)),
        templates,
        calls: a.calls,
        first_call,
        sent: 0,
        live: a.live,
        bufs: (0..BATCH).map(|_| Vec::with_capacity(2048)).collect(),
    };

    let start = Instant::now();
    while a.count.is_none() && start.elapsed() < a.warmup {
        flood.batch(BATCH).map_err(|e| err("sendmmsg", e))?;
    }
    let before = counters(&sinks)?;
    let sent_before = flood.sent;
    let t0 = Instant::now();
    while match a.count {
        Some(n) => flood.sent < n,
        None => t0.elapsed() < a.seconds,
    } {
        let left = a.count.map_or(BATCH, |n| {
            usize::try_from(n.saturating_sub(flood.sent)).unwrap_or(BATCH)
        });
        flood.batch(left).map_err(|e| err("sendmmsg", e))?;
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
