//! `sip-options-check`: is a SIP server alive? One SIP `OPTIONS` request over UDP, and the
//! answer is yes when a final response (any status from 200 to 699) to that very request
//! arrives before the timeout.
//!
//! It is written for keepalived's `MISC_CHECK` (exit status 0: alive; anything else: not),
//! and works from any script. Any final response counts, a `503 Service Unavailable` or a
//! `404` too: the server parsed the request and answered it, which is what a load balancer
//! needs to know. Provisional responses (1xx) keep it waiting. Datagrams that are not a
//! response to this request (another Call-ID or CSeq, a request, garbage) are ignored.
//!
//! The request is retransmitted as a SIP client transaction does over UDP (after 0.5 s, then
//! doubling up to 4 s) until the timeout, unless `--no-retransmit`.

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::time::{Duration, Instant};

/// SIP's default port.
pub const DEFAULT_PORT: u16 = 5060;
/// The default timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);
/// SIP's T1 (first retransmission interval) and T2 (its cap), RFC 3261 section 17.1.2.
const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
/// Room for one datagram: SIP over UDP stays far below this.
const BUF: usize = 65536;

/// Exit status: a final response arrived.
pub const EXIT_ALIVE: i32 = 0;
/// Exit status: no final response (timeout, port unreachable, network error).
pub const EXIT_DEAD: i32 = 1;
/// Exit status: the command line is wrong.
pub const EXIT_USAGE: i32 = 2;

/// The `--help` text.
pub const HELP: &str = "\
usage: sip-options-check [OPTIONS] HOST[:PORT]

Sends one SIP OPTIONS request over UDP to HOST (an address or a name; port 5060 unless
given; an IPv6 address with a port as [ADDR]:PORT) and waits for a final response to it.

Exit status:
  0  a final response (any status 200-699, e.g. 200 or 503) arrived in time: alive
  1  none did (timeout, port unreachable, network error): one line on stderr says which
  2  bad command line

Options:
  -s, --source ADDR      send from ADDR (an address of this host), so that the answer comes
                         back on the path the real server routes to (e.g. the director's
                         own address, not a floating one); default: chosen by routing
  -t, --timeout SECS     how long to wait for a final response (default 2; decimals allowed)
  -l, --local-port PORT  send from this UDP port (default: any free port)
      --no-retransmit    send the request once (default: resend after 0.5 s, 1 s, 2 s, 4 s,
                         4 s... until the timeout, as a SIP client does over UDP)
  -v, --verbose          print the response's status line on stdout
  -h, --help             this text
  -V, --version          the version

keepalived (a real_server's health check; keepalived needs misc_timeout above --timeout):
  MISC_CHECK {
      misc_path \"/usr/local/bin/sip-options-check --timeout 3 10.0.2.11:5060\"
      misc_timeout 10
  }
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Print [`HELP`].
    Help,
    /// Print the version.
    Version,
    /// Run a check.
    Check(Options),
}

/// A check's parameters.
#[derive(Debug, PartialEq, Eq, Clone)]
pub struct Options {
    /// The server, as given (`HOST[:PORT]`).
    pub target: String,
    /// The address to send from.
    pub source: Option<IpAddr>,
    /// How long to wait for a final response.
    pub timeout: Duration,
    /// The UDP port to send from (0: any).
    pub local_port: u16,
    /// Resend the request until the timeout.
    pub retransmit: bool,
    /// Print the status line of the response.
    pub verbose: bool,
}

/// Parses the arguments (without the program's name).
pub fn parse_args<I: IntoIterator<Item = String>>(args: I) -> Result<Command, String> {
    let mut source = None;
    let mut timeout = DEFAULT_TIMEOUT;
    let mut local_port = 0;
    let mut retransmit = true;
    let mut verbose = false;
    let mut target = None;
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        // --name=value as well as --name value.
        let (name, inline) = match arg.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        let mut value = |what: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or_else(|| format!("{name} needs {what}"))
        };
        match name.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-V" | "--version" => return Ok(Command::Version),
            "-s" | "--source" => {
                let v = value("an address")?;
                source = Some(
                    v.parse::<IpAddr>()
                        .map_err(|_| format!("--source: '{v}' is not an IP address"))?,
                );
            }
            "-t" | "--timeout" => {
                let v = value("a number of seconds")?;
                timeout = parse_timeout(&v)?;
            }
            "-l" | "--local-port" => {
                let v = value("a port")?;
                local_port = v
                    .parse::<u16>()
                    .map_err(|_| format!("--local-port: '{v}' is not a port number"))?;
            }
            "--no-retransmit" => retransmit = false,
            "-v" | "--verbose" => verbose = true,
            _ if arg.starts_with('-') && arg.len() > 1 => {
                return Err(format!("unknown option '{arg}'"));
            }
            _ if target.is_some() => return Err(format!("one server only ('{arg}' is extra)")),
            _ => target = Some(arg),
        }
    }
    let target = target.ok_or("no server given (HOST[:PORT])")?;
    Ok(Command::Check(Options {
        target,
        source,
        timeout,
        local_port,
        retransmit,
        verbose,
    }))
}

fn parse_timeout(v: &str) -> Result<Duration, String> {
    match v.parse::<f64>() {
        Ok(s) if s.is_finite() && s > 0.0 && s <= 86400.0 => Ok(Duration::from_secs_f64(s)),
        _ => Err(format!(
            "--timeout: '{v}' is not a number of seconds between 0 and 86400"
        )),
    }
}

/// `HOST[:PORT]`, `[IPV6]:PORT` or a bare IPv6 address, resolved; with a SOURCE, the first
/// address of its family.
pub fn resolve(target: &str, source: Option<IpAddr>) -> Result<SocketAddr, String> {
    let (host, port) = split_host_port(target)?;
    let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => (host, port)
            .to_socket_addrs()
            .map_err(|e| format!("{target}: cannot resolve '{host}': {e}"))?
            .collect(),
    };
    addrs
        .into_iter()
        .find(|a| source.is_none_or(|s| s.is_ipv4() == a.is_ipv4()))
        .ok_or_else(|| format!("{target}: no address of the source address's family"))
}

fn split_host_port(target: &str) -> Result<(&str, u16), String> {
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("{target}: '{p}' is not a port number"))
    };
    if let Some(rest) = target.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("{target}: no ']' after the IPv6 address"))?;
        return match after {
            "" => Ok((host, DEFAULT_PORT)),
            _ => match after.strip_prefix(':') {
                Some(p) => Ok((host, port(p)?)),
                None => Err(format!("{target}: expected ':PORT' after ']'")),
            },
        };
    }
    match target.matches(':').count() {
        0 => Ok((target, DEFAULT_PORT)),
        1 => {
            let (h, p) = target.split_once(':').unwrap_or((target, ""));
            Ok((h, port(p)?))
        }
        // A bare IPv6 address.
        _ => Ok((target, DEFAULT_PORT)),
    }
}

/// The identifiers of one request: its Call-ID, From tag and Via branch.
#[derive(Debug, Clone)]
pub struct Ids {
    /// The Call-ID.
    pub call_id: String,
    /// The From tag.
    pub tag: String,
    /// The Via branch (with RFC 3261's magic cookie).
    pub branch: String,
}

impl Ids {
    /// Fresh random identifiers (std's hasher keys are random per process).
    pub fn new() -> Self {
        let r = |n: u64| {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(n);
            h.write_u32(std::process::id());
            h.finish()
        };
        Ids {
            call_id: format!("{:016x}{:016x}", r(1), r(2)),
            tag: format!("{:016x}", r(3)),
            branch: format!("z9hG4bK-{:016x}", r(4)),
        }
    }
}

impl Default for Ids {
    fn default() -> Self {
        Self::new()
    }
}

fn host_of(a: &SocketAddr) -> String {
    match a {
        SocketAddr::V4(v) => format!("{}:{}", v.ip(), v.port()),
        SocketAddr::V6(v) => format!("[{}]:{}", v.ip(), v.port()),
    }
}

/// The OPTIONS request sent from LOCAL to SERVER.
pub fn request(server: &SocketAddr, local: &SocketAddr, ids: &Ids) -> String {
    let (s, l) = (host_of(server), host_of(local));
    format!(
        "OPTIONS sip:{s} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {l};branch={branch};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:sip-options-check@{l}>;tag={tag}\r\n\
         To: <sip:{s}>\r\n\
         Call-ID: {cid}\r\n\
         CSeq: 1 OPTIONS\r\n\
         Accept: application/sdp\r\n\
         User-Agent: sip-options-check/{version}\r\n\
         Content-Length: 0\r\n\r\n",
        branch = ids.branch,
        tag = ids.tag,
        cid = ids.call_id,
        version = env!("CARGO_PKG_VERSION"),
    )
}

/// The status code and reason of DATAGRAM if it is a response to our request (Call-ID
/// CALL_ID, CSeq `1 OPTIONS`); None for anything else.
pub fn response_to(datagram: &[u8], call_id: &str) -> Option<(u16, String)> {
    let end = find(datagram, b"\r\n\r\n")
        .or_else(|| find(datagram, b"\n\n"))
        .unwrap_or(datagram.len());
    let head = std::str::from_utf8(datagram.get(..end)?).ok()?;
    let mut lines = head.lines();
    let first = lines.next()?.trim_end();
    let rest = first.strip_prefix("SIP/2.0 ")?;
    let code = rest.get(..3)?;
    if !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let reason = rest.get(3..)?;
    if !(reason.is_empty() || reason.starts_with(' ')) {
        return None;
    }
    let code: u16 = code.parse().ok()?;
    if !(100..=699).contains(&code) {
        return None;
    }
    let (mut cid_ok, mut cseq_ok) = (false, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim(), value.trim());
        if name.eq_ignore_ascii_case("call-id") || name.eq_ignore_ascii_case("i") {
            cid_ok = value == call_id;
        } else if name.eq_ignore_ascii_case("cseq") {
            let mut parts = value.split_whitespace();
            cseq_ok = parts.next() == Some("1")
                && parts
                    .next()
                    .is_some_and(|m| m.eq_ignore_ascii_case("OPTIONS"))
                && parts.next().is_none();
        }
    }
    (cid_ok && cseq_ok).then(|| (code, reason.trim().to_owned()))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A final response.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    /// Its status code (200-699).
    pub status: u16,
    /// Its reason phrase.
    pub reason: String,
}

/// Why there is no final response.
#[derive(Debug)]
pub enum Failure {
    /// Nothing final before the timeout.
    Timeout {
        /// The timeout.
        after: Duration,
        /// Requests sent (with retransmissions).
        sent: u32,
        /// Provisional responses received.
        provisional: u32,
        /// Datagrams ignored (not a response to the request).
        ignored: u32,
    },
    /// ICMP port unreachable: nothing listens there.
    Refused,
    /// Any other error of the socket (with what was being done).
    Io(&'static str, io::Error),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Timeout {
                after,
                sent,
                provisional,
                ignored,
            } => {
                write!(
                    f,
                    "no final response within {} s (OPTIONS sent {sent} time{}",
                    after.as_secs_f64(),
                    if *sent == 1 { "" } else { "s" }
                )?;
                if *provisional > 0 {
                    write!(f, ", {provisional} provisional response(s)")?;
                }
                if *ignored > 0 {
                    write!(f, ", {ignored} unrelated datagram(s) ignored")?;
                }
                write!(f, ")")
            }
            Failure::Refused => write!(f, "port unreachable (nothing listens there)"),
            Failure::Io(what, e) => write!(f, "{what}: {e}"),
        }
    }
}

/// Sends the OPTIONS request to SERVER as OPTS says and waits for its final response.
pub fn check(server: SocketAddr, opts: &Options) -> Result<Answer, Failure> {
    let start = Instant::now();
    let deadline = start + opts.timeout;
    let bind_ip = opts.source.unwrap_or(if server.is_ipv4() {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    } else {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    });
    let sock = UdpSocket::bind(SocketAddr::new(bind_ip, opts.local_port))
        .map_err(|e| Failure::Io("bind", e))?;
    // Connected: the kernel keeps only the server's datagrams and reports its ICMP errors.
    sock.connect(server)
        .map_err(|e| Failure::Io("connect", e))?;
    let local = sock
        .local_addr()
        .map_err(|e| Failure::Io("local address", e))?;
    let ids = Ids::new();
    let req = request(&server, &local, &ids);
    let (mut sent, mut provisional, mut ignored) = (0u32, 0u32, 0u32);
    let mut next_send = start;
    let mut interval = T1;
    let mut buf = vec![0u8; BUF];
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(Failure::Timeout {
                after: opts.timeout,
                sent,
                provisional,
                ignored,
            });
        }
        if now >= next_send && (sent == 0 || opts.retransmit) {
            match sock.send(req.as_bytes()) {
                Ok(_) => sent += 1,
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    return Err(Failure::Refused)
                }
                Err(e) => return Err(Failure::Io("send", e)),
            }
            next_send = now + interval;
            interval = (interval * 2).min(T2);
        }
        let until = if opts.retransmit {
            deadline.min(next_send)
        } else {
            deadline
        };
        let wait = until
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1));
        sock.set_read_timeout(Some(wait))
            .map_err(|e| Failure::Io("set the receive timeout", e))?;
        match sock.recv(&mut buf) {
            Ok(n) => match buf.get(..n).and_then(|d| response_to(d, &ids.call_id)) {
                Some((status, reason)) if status >= 200 => return Ok(Answer { status, reason }),
                Some(_) => {
                    provisional += 1;
                    // RFC 3261 17.1.2.2: after a provisional response, retransmit every T2.
                    interval = T2;
                    next_send = next_send.max(Instant::now() + T2);
                }
                None => ignored += 1,
            },
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock
                        | io::ErrorKind::TimedOut
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => return Err(Failure::Refused),
            Err(e) => return Err(Failure::Io("receive", e)),
        }
    }
}

/// The whole program on ARGS (without the program's name): prints what it has to say and
/// returns the exit status.
pub fn main_with(args: Vec<String>) -> i32 {
    let opts = match parse_args(args) {
        Ok(Command::Help) => {
            print!("{HELP}");
            return EXIT_ALIVE;
        }
        Ok(Command::Version) => {
            println!("sip-options-check {}", env!("CARGO_PKG_VERSION"));
            return EXIT_ALIVE;
        }
        Ok(Command::Check(o)) => o,
        Err(e) => {
            eprintln!("sip-options-check: {e} (see --help)");
            return EXIT_USAGE;
        }
    };
    let server = match resolve(&opts.target, opts.source) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sip-options-check: {e}");
            return EXIT_USAGE;
        }
    };
    match check(server, &opts) {
        Ok(a) => {
            if opts.verbose {
                println!("{}: SIP/2.0 {} {}", opts.target, a.status, a.reason);
            }
            EXIT_ALIVE
        }
        Err(f) => {
            eprintln!("sip-options-check: {}: {f}", opts.target);
            EXIT_DEAD
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Result<Command, String> {
        parse_args(a.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn targets() {
        assert_eq!(split_host_port("10.0.2.11"), Ok(("10.0.2.11", 5060)));
        assert_eq!(split_host_port("10.0.2.11:5080"), Ok(("10.0.2.11", 5080)));
        assert_eq!(split_host_port("fd00:2::11"), Ok(("fd00:2::11", 5060)));
        assert_eq!(
            split_host_port("[fd00:2::11]:5070"),
            Ok(("fd00:2::11", 5070))
        );
        assert_eq!(split_host_port("[fd00:2::11]"), Ok(("fd00:2::11", 5060)));
        assert!(split_host_port("[fd00:2::11]5070").is_err());
        assert!(split_host_port("host:").is_err());
        assert_eq!(
            resolve("[::1]:5070", None),
            Ok(SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 5070))
        );
        assert!(resolve("127.0.0.1", Some(IpAddr::V6(Ipv6Addr::LOCALHOST))).is_err());
    }

    #[test]
    fn command_line() {
        let Ok(Command::Check(o)) = args(&["-s", "10.0.2.2", "--timeout=1.5", "-l", "5061", "x"])
        else {
            panic!("not a check");
        };
        assert_eq!(o.source, Some(IpAddr::V4(Ipv4Addr::new(10, 0, 2, 2))));
        assert_eq!(o.timeout, Duration::from_millis(1500));
        assert_eq!(
            (o.local_port, o.retransmit, o.target.as_str()),
            (5061, true, "x")
        );
        assert_eq!(args(&["-h", "--bogus"]), Ok(Command::Help));
        assert!(args(&["-t", "NaN", "x"]).is_err());
        assert!(args(&["-t", "-1", "x"]).is_err());
        assert!(args(&["-l", "70000", "x"]).is_err());
    }

    #[test]
    fn responses() {
        let ok = "SIP/2.0 200 OK\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS\r\n\r\n";
        assert_eq!(response_to(ok.as_bytes(), "abc"), Some((200, "OK".into())));
        // Compact Call-ID, bare LF line ends, any case, a body.
        let compact = "SIP/2.0 503 Service Unavailable\ni:  abc \ncseq: 1 options\n\nbody";
        assert_eq!(
            response_to(compact.as_bytes(), "abc"),
            Some((503, "Service Unavailable".into()))
        );
        assert_eq!(response_to(ok.as_bytes(), "abd"), None);
        for bad in [
            "SIP/2.0 200 OK\r\nCall-ID: abc\r\nCSeq: 2 OPTIONS\r\n\r\n",
            "SIP/2.0 200 OK\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS x\r\n\r\n",
            "SIP/2.0 200 OK\r\nCall-ID: abc\r\n\r\n",
            "SIP/2.0 099 Low\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS\r\n\r\n",
            "SIP/2.0 700 High\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS\r\n\r\n",
            "SIP/2.0 2000 OK\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS\r\n\r\n",
            "SIP/2.0 20\r\n",
            "SIP/2.0 ",
            "OPTIONS sip:x SIP/2.0\r\nCall-ID: abc\r\nCSeq: 1 OPTIONS\r\n\r\n",
            "",
        ] {
            assert_eq!(response_to(bad.as_bytes(), "abc"), None, "{bad:?}");
        }
        assert_eq!(
            response_to(b"SIP/2.0 200 OK\r\nCall-ID: \xff\r\n\r\n", "abc"),
            None
        );
        // The Call-ID of the headers, not of the body.
        let body = "SIP/2.0 200 OK\r\nCSeq: 1 OPTIONS\r\n\r\nCall-ID: abc\r\n";
        assert_eq!(response_to(body.as_bytes(), "abc"), None);
    }

    #[test]
    fn request_is_parsable_by_our_own_reader() {
        let ids = Ids::new();
        let s: SocketAddr = "10.0.2.11:5060".parse().unwrap_or_else(|_| unreachable!());
        let l: SocketAddr = "10.0.2.2:40000".parse().unwrap_or_else(|_| unreachable!());
        let r = request(&s, &l, &ids);
        assert!(r.starts_with("OPTIONS sip:10.0.2.11:5060 SIP/2.0\r\n"));
        assert!(r.contains("Via: SIP/2.0/UDP 10.0.2.2:40000;branch=z9hG4bK-"));
        assert!(r.ends_with("Content-Length: 0\r\n\r\n"));
        assert_ne!(Ids::new().call_id, ids.call_id);
        // The engine's parser (what a director running it reads) finds its Call-ID.
        assert_eq!(
            ipvs_pe_sip::call_id(r.as_bytes()),
            Ok(ids.call_id.as_bytes()),
            "{r}"
        );
        // A server answers with the request's headers under a status line (RFC 3261 8.2.6):
        // our response reader takes that answer as the one to this very request.
        let (_, headers) = r.split_once("\r\n").unwrap_or_else(|| unreachable!());
        let answer = format!("SIP/2.0 200 OK\r\n{headers}");
        assert_eq!(
            response_to(answer.as_bytes(), &ids.call_id),
            Some((200, "OK".into()))
        );
        assert_eq!(response_to(answer.as_bytes(), &Ids::new().call_id), None);
        // Every header is "Name: value", each name once, and the body is empty as announced.
        let (head, body) = r.split_once("\r\n\r\n").unwrap_or_else(|| unreachable!());
        assert_eq!(body, "");
        let mut names = std::collections::HashSet::new();
        for line in head.split("\r\n").skip(1) {
            let (name, value) = line.split_once(": ").unwrap_or_else(|| panic!("{line:?}"));
            assert!(
                name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'),
                "{line:?}"
            );
            assert!(!value.is_empty(), "{line:?}");
            assert!(names.insert(name.to_ascii_lowercase()), "{name} twice");
        }
    }
}
