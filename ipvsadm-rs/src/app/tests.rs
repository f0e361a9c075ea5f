//! Whole command lines against an in-memory IPVS table.

use super::*;
use crate::render::Names;
use ipvs::{Object, Service, ServiceFlags, SyncDaemon, Timeouts, Version};
use std::net::IpAddr;

/// An IPVS table in memory, answering like the kernel does.
#[derive(Default)]
struct Fake {
    services: Vec<(Service, Vec<Destination>)>,
    timeouts: Timeouts,
    daemons: Vec<SyncDaemon>,
}

fn kerr(c: &Change, errno: i32) -> Error {
    Error::Kernel {
        op: c.op(),
        object: c.object(),
        errno,
    }
}

impl Fake {
    fn find(&mut self, k: &ServiceKey) -> Option<&mut (Service, Vec<Destination>)> {
        self.services.iter_mut().find(|(s, _)| s.key == *k)
    }

    /// One change, as the kernel makes it.
    fn apply(&mut self, c: &Change) -> Result<(), Error> {
        let no_service = || kerr(c, libc::ESRCH);
        match c {
            Change::AddService(s) => {
                if self.find(&s.key).is_some() {
                    return Err(kerr(c, libc::EEXIST));
                }
                let mut s = s.clone();
                s.flags |= ServiceFlags::HASHED;
                self.services.push((s, Vec::new()));
            }
            Change::EditService(s) => {
                let e = self.find(&s.key).ok_or_else(no_service)?;
                e.0 = Service {
                    flags: s.flags | ServiceFlags::HASHED,
                    ..s.clone()
                };
            }
            Change::DeleteService(k) => {
                let before = self.services.len();
                self.services.retain(|(e, _)| e.key != *k);
                if before == self.services.len() {
                    return Err(no_service());
                }
            }
            Change::Zero(Some(k)) => {
                self.find(k).ok_or_else(no_service)?;
            }
            Change::Zero(None) => {}
            Change::Flush => self.services.clear(),
            Change::AddDestination(k, d) => {
                let e = self.find(k).ok_or_else(no_service)?;
                if e.1.iter().any(|x| x.addr == d.addr) {
                    return Err(kerr(c, libc::EEXIST));
                }
                e.1.push(d.clone());
            }
            Change::EditDestination(k, d) => {
                let e = self.find(k).ok_or_else(no_service)?;
                let x =
                    e.1.iter_mut()
                        .find(|x| x.addr == d.addr)
                        .ok_or(kerr(c, libc::ENOENT))?;
                *x = d.clone();
            }
            Change::DeleteDestination(k, a) => {
                let e = self.find(k).ok_or_else(no_service)?;
                let before = e.1.len();
                e.1.retain(|x| x.addr != *a);
                if before == e.1.len() {
                    return Err(kerr(c, libc::ENOENT));
                }
            }
            Change::SetTimeouts(t) => self.timeouts = *t,
            Change::StartDaemon(d) => {
                if self.daemons.iter().any(|x| x.state == d.state) {
                    return Err(kerr(c, libc::EEXIST));
                }
                self.daemons.push(d.clone());
            }
            Change::StopDaemon(d) => {
                let before = self.daemons.len();
                self.daemons.retain(|x| x.state != d.state);
                if before == self.daemons.len() {
                    return Err(kerr(c, libc::ESRCH));
                }
            }
        }
        Ok(())
    }
}

impl Ipvs for Fake {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        Ok(self.services.iter().map(|(s, _)| s.clone()).collect())
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        self.find(key).map(|(s, _)| s.clone()).ok_or(Error::Kernel {
            op: Op::GetService,
            object: Object::Service(*key),
            errno: libc::ESRCH,
        })
    }
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        Ok(self.find(key).map(|(_, d)| d.clone()).unwrap_or_default())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(self.timeouts)
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        Ok(self.daemons.clone())
    }
    fn make_changes(&mut self, changes: &[Change]) -> Vec<Result<(), Error>> {
        changes.iter().map(|c| self.apply(c)).collect()
    }
}

struct NoNames;
impl Names for NoNames {
    fn host(&self, _: &IpAddr) -> Option<Vec<u8>> {
        None
    }
    fn service(&self, port: u16, _: u16) -> Option<Vec<u8>> {
        (port == 80).then(|| b"http".to_vec())
    }
}

/// Runs one command line; returns (exit status, stdout, stderr).
fn run_with(fake: &mut Fake, line: &str, stdin: &str) -> (i32, String, String) {
    let argv: Vec<String> = std::iter::once("ipvsadm".to_string())
        .chain(line.split_whitespace().map(String::from))
        .collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let conns = || -> std::io::Result<Box<dyn BufRead>> {
        Ok(Box::new(
            &b"Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
            UDP 0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE             59 sip abc@host\n"[..],
        ))
    };
    let mut ctx = Ctx {
        ipvs: fake,
        info: Info {
            version: Version(0x010201),
            conn_tab_size: 4096,
        },
        names: &NoNames,
        out: &mut out,
        err: &mut err,
        read_conns: &conns,
    };
    let code = super::run(&mut ctx, &argv, &mut stdin.as_bytes());
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

fn run(fake: &mut Fake, line: &str) -> (i32, String, String) {
    run_with(fake, line, "")
}

const HEAD: &str = concat!(
    "IP Virtual Server version 1.2.1 (size=4096)\n",
    "Prot LocalAddress:Port Scheduler Flags\n",
    "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
);

#[test]
fn add_list_save() {
    let mut f = Fake::default();
    assert_eq!(
        run(&mut f, "-A -t 10.0.0.1:80 -s rr -p 30 -M 255.255.255.0").0,
        0
    );
    assert_eq!(
        run(&mut f, "-a -t 10.0.0.1:80 -r 10.0.1.2:8080 -m -w 3").0,
        0
    );
    assert_eq!(run(&mut f, "-a -t 10.0.0.1:80 -r 10.0.1.1 -g").0, 0);
    assert_eq!(
        run(&mut f, "-A -u 10.0.0.1:5060 -p 60 -M 0.0.0.0 -o --pe sip").0,
        0
    );
    let (code, out, _) = run(&mut f, "-Ln");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        format!(
            "{HEAD}{}{}{}{}",
            "TCP  10.0.0.1:80 rr persistent 30 mask 255.255.255.0\n",
            "  -> 10.0.1.1:80                  Route   1      0          0         \n",
            "  -> 10.0.1.2:8080                Masq    3      0          0         \n",
            "UDP  10.0.0.1:5060 wlc persistent 60 mask 0.0.0.0 pe sip ops\n"
        )
    );
    let (_, out, _) = run(&mut f, "-S");
    assert_eq!(
        out,
        "-A -t 10.0.0.1:http -s rr -p 30 -M 255.255.255.0\n\
-a -t 10.0.0.1:http -r 10.0.1.1:http -g -w 1\n\
-a -t 10.0.0.1:http -r 10.0.1.2:8080 -m -w 3\n\
-A -u 10.0.0.1:5060 -s wlc -p 60 -M 0.0.0.0 --pe sip -o\n"
    );
}

/// ipvsadm's line first, then what it means (explain.rs), naming the object.
#[test]
fn kernel_errors_are_worded_and_exit_255() {
    let mut f = Fake::default();
    run(&mut f, "-A -t 10.0.0.1:80");
    assert_eq!(
        run(&mut f, "-A -t 10.0.0.1:80"),
        (
            255,
            String::new(),
            "Service already exists\n  service -t 10.0.0.1:80 is in the table already \
             (`ipvsadm-rs -E -t 10.0.0.1:80` changes it)\n"
                .into()
        )
    );
    assert_eq!(
        run(&mut f, "-d -t 10.0.0.1:80 -r 10.0.0.2"),
        (
            255,
            String::new(),
            "No such destination\n  real server 10.0.0.2:80 is not a destination of service \
             -t 10.0.0.1:80 (`ipvsadm-rs -Ln -t 10.0.0.1:80` lists them)\n"
                .into()
        )
    );
    let (code, out, err) = run(&mut f, "-a -t 10.0.0.9:80 -r 10.0.0.2");
    assert_eq!((code, out.as_str()), (255, ""));
    assert!(
        err.starts_with("Service not defined\n  service -t 10.0.0.9:80 is not in"),
        "{err}"
    );
    let (code, out, err) = run(&mut f, "-L -t 10.0.0.9:80");
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with("No such service\n  service -t 10.0.0.9:80 is not in"),
        "{err}"
    );
    assert_eq!(
        run(&mut f, "--stop-daemon master").2,
        "No daemon is running\n"
    );
}

#[test]
fn restore_status_is_the_last_lines() {
    let mut f = Fake::default();
    let rules = "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\nipvsadm -A -t 10.0.0.2:80\n\n";
    let (code, _, err) = run_with(&mut f, "-R", rules);
    assert_eq!(
        (code, err.lines().next()),
        (0, Some("Service already exists"))
    );
    assert_eq!(f.services.len(), 2);
    let (code, _, _) = run_with(&mut f, "-R", "-A -t 10.0.0.3:80\n-A -t 10.0.0.3:80\n");
    assert_eq!(code, 255);
    // A rejected line ends the restore with its status.
    let (code, _, _) = run_with(&mut f, "-R", "-A -t 10.0.0.4\n-A -t 10.0.0.5:80\n");
    assert_eq!(code, 2);
    assert_eq!(f.services.len(), 3);
    let (code, _, _) = run_with(&mut f, "-R", "-R\n");
    assert_eq!(code, 255);
}

#[test]
fn save_restore_round_trip() {
    let mut f = Fake::default();
    let rules = "-A -t 10.0.0.1:80 -s sh -b sh-port -p 300\n\
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i --tun-type gue --tun-port 6080 --tun-csum -w 2\n\
-A -f 7 -6 -s mh -b mh-fallback\n\
-A -t [2001:db8::1]:443 -s rr -p 60 -M 64\n\
-a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 1\n";
    assert_eq!(run_with(&mut f, "-R", rules).0, 0);
    let (_, saved, _) = run(&mut f, "-Sn");
    let mut g = Fake::default();
    assert_eq!(run_with(&mut g, "-R", &saved).0, 0);
    assert_eq!(run(&mut g, "-Sn").1, saved);
    assert_eq!(
        saved,
        "-A -t 10.0.0.1:80 -s sh -p 300 -b sh-port\n\
-a -t 10.0.0.1:80 -r 10.0.1.1:80 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum\n\
-A -t [2001:db8::1]:443 -s rr -p 60 -M 64\n\
-a -t [2001:db8::1]:443 -r [2001:db8::2]:8443 -m -w 1\n\
-A -f 7 -6 -s mh -b mh-fallback\n"
    );
}

#[test]
fn timeouts_and_daemons() {
    let mut f = Fake::default();
    assert_eq!(run(&mut f, "--set 900 120 300").0, 0);
    assert_eq!(
        run(&mut f, "-L --timeout").1,
        "Timeout (tcp tcpfin udp): 900 120 300\n"
    );
    run(
        &mut f,
        "--start-daemon master --syncid 5 --mcast-interface lo",
    );
    assert_eq!(
        run(&mut f, "-L --daemon").1,
        "master sync daemon (mcast=lo, syncid=5)\n"
    );
    assert_eq!(
        run(&mut f, "--start-daemon master").2,
        "Daemon has already run\n"
    );
}

#[test]
fn connections_with_engine_data() {
    let mut f = Fake::default();
    let (code, out, _) = run(&mut f, "-Lcn --persistent-conn");
    assert_eq!(code, 0);
    assert!(
        out.ends_with("10.0.0.3:5060    sip                abc@host\n"),
        "{out}"
    );
    let (_, out, _) = run(&mut f, "-Lcn --json");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["connections"][0]["pe_data"], "abc@host");
}

#[test]
fn json_listing_is_stable() {
    let mut f = Fake::default();
    run(&mut f, "-A -t 10.0.0.1:80 -s rr");
    run(&mut f, "-a -t 10.0.0.1:80 -r 10.0.1.1 -g -w 2");
    run(&mut f, "-A -f 3");
    let (code, out, _) = run(&mut f, "-L --json");
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["version"], "1.2.1");
    // Fwmark services sort after the others, as in the text listing.
    assert_eq!(v["services"][1]["fwmark"], 3);
    assert_eq!(v["services"][0]["address"], "10.0.0.1");
    assert_eq!(v["services"][0]["protocol"], "tcp");
    assert_eq!(v["services"][0]["destinations"][0]["forward"], "route");
    assert_eq!(v["services"][0]["destinations"][0]["weight"], 2);
    assert_eq!(v["services"][0]["stats"]["conns"], 0);
    let (_, out, _) = run(&mut f, "-L --timeout --json");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["timeouts"]["tcp"], 0);
}

#[test]
fn no_arguments_lists_the_table() {
    let mut f = Fake::default();
    let (code, out, _) = run(&mut f, "");
    assert_eq!((code, out.as_str()), (0, HEAD));
}

#[test]
fn restore_lists_see_earlier_changes() {
    let mut f = Fake::default();
    let rules = "-A -t 10.0.0.1:80\n-Ln\n-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n-Sn\n";
    let (code, out, err) = run_with(&mut f, "-R", rules);
    assert_eq!(code, 0);
    assert_eq!(err.lines().next(), Some("Service already exists"));
    assert_eq!(
        out,
        format!("{HEAD}TCP  10.0.0.1:80 wlc\n-A -t 10.0.0.1:80 -s wlc\n-A -t 10.0.0.2:80 -s wlc\n")
    );
}

#[test]
fn restore_words_end_at_nul_like_c_strings() {
    assert!(restore_words("").eq(None::<&str>));
    assert!(restore_words("-A\0junk -t 10.0.0.1:80 ipvsadm\0x \0").eq([
        "-A",
        "-t",
        "10.0.0.1:80",
        ""
    ]));
    // `\0` is an empty argument, not a missing one: `-p ''` is refused.
    let mut f = Fake::default();
    let (code, _, err) = run_with(&mut f, "-R", "-A -t 10.0.0.1:80 -p \0\n");
    assert_eq!(
        (code, err.as_str()),
        (2, "invalid timeout value `' specified\n")
    );
    // Words longer than ipvsadm's 4096-byte buffer stay whole.
    let long = "x".repeat(5000);
    assert!(restore_words(&format!("-A -t {long}")).eq(["-A", "-t", long.as_str()]));
}

/// Both streams into one log, each write marked with its stream, so a test
/// sees the order in which output and errors were produced.
struct Tagged<'a>(&'a std::cell::RefCell<Vec<(char, String)>>, char);

impl Write for Tagged<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf).into_owned();
        self.0.borrow_mut().push((self.1, text));
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn restore_errors_come_between_the_listings_around_them() {
    let mut f = Fake::default();
    let log = std::cell::RefCell::new(Vec::new());
    let (mut out, mut err) = (Tagged(&log, 'o'), Tagged(&log, 'e'));
    let no_conns = || -> std::io::Result<Box<dyn BufRead>> { Ok(Box::new(std::io::empty())) };
    let mut ctx = Ctx {
        ipvs: &mut f,
        info: Info::default(),
        names: &NoNames,
        out: &mut out,
        err: &mut err,
        read_conns: &no_conns,
    };
    let argv = ["ipvsadm".to_string(), "-R".to_string()];
    let rules = "-L -n\n-D -t 10.0.0.9:80\n-L -n\n";
    assert_eq!(super::run(&mut ctx, &argv, &mut rules.as_bytes()), 0);
    let streams: String = log.borrow().iter().map(|(s, _)| *s).collect();
    let first_err = streams.find('e').expect("an error");
    assert!(
        streams[..first_err].contains('o') && streams[first_err..].contains('o'),
        "{:?}",
        log.borrow()
    );
}

/// The first line of each warning on standard error
/// (explain/fwmark_nat.rs).
fn warned(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.starts_with("Warning: ")).collect()
}

/// The first line of the warning about `service`'s masquerading `servers`.
fn nat_warning(service: &str, servers: &str) -> String {
    format!(
        "Warning: service {service} has one-packet scheduling (-o) and masquerading (-m) real \
         servers ({servers}): IPVS cannot NAT their replies"
    )
}

/// A change that leaves a firewall-mark service with -o and masquerading
/// servers is made as asked, with ipvsadm's output and status, and warned
/// about on standard error; the service's flags are the kernel's.
#[test]
fn fwmark_one_packet_nat_is_done_and_warned_about() {
    let mut f = Fake::default();
    let quiet = |r: (i32, String, String)| r == (0, String::new(), String::new());
    // Added without servers, then a directly routed one: nothing to say.
    assert!(quiet(run(&mut f, "-A -f 1 -s rr -o")));
    assert!(quiet(run(&mut f, "-a -f 1 -r 10.1.1.1 -g")));
    let (code, out, err) = run(&mut f, "-a -f 1 -r 10.1.1.2 -m");
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(warned(&err), [nat_warning("-f 1", "10.1.1.2:0")]);
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(err.lines().skip(1).all(|l| l.starts_with("  ")), "{err}");
    assert!(run(&mut f, "-Ln").1.contains("  -> 10.1.1.2:0"));
    // A server edited to -m: every masquerading server is named.
    let (code, _, err) = run(&mut f, "-e -f 1 -r 10.1.1.1 -m");
    assert_eq!(code, 0);
    assert_eq!(
        warned(&err),
        [nat_warning("-f 1", "10.1.1.1:0, 10.1.1.2:0")]
    );
    // Without -o the replies are NATed; -o given again warns again.
    assert!(quiet(run(&mut f, "-E -f 1 -s rr")));
    assert!(quiet(run(&mut f, "-a -f 1 -r 10.1.1.3 -m")));
    let (code, out, err) = run(&mut f, "-E -f 1 -s wrr -o");
    assert_eq!((code, out.as_str()), (0, ""));
    assert_eq!(
        warned(&err),
        [nat_warning("-f 1", "10.1.1.1:0, 10.1.1.2:0, 10.1.1.3:0")]
    );
    // A refused change: ipvsadm's message and what it means, no warning.
    let (code, _, err) = run(&mut f, "-a -f 1 -r 10.1.1.3 -m");
    assert_eq!(code, 255);
    assert!(err.starts_with("Destination already exists\n"), "{err}");
    assert!(warned(&err).is_empty(), "{err}");
    // A service on VIP:port with -o and NAT (the README's recipe), and a
    // firewall-mark service without -o: nothing.
    assert!(quiet(run(
        &mut f,
        "-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip"
    )));
    assert!(quiet(run(
        &mut f,
        "-a -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m"
    )));
    assert!(quiet(run(&mut f, "-A -f 2 -s rr -p 60")));
    assert!(quiet(run(&mut f, "-a -f 2 -r 10.2.0.1 -m")));
}

/// `-R` warns at its end, once per service, about the table as it left it
/// (after a rejected line's message, when one ends it).
#[test]
fn a_restore_warns_once_per_service_at_its_end() {
    let mut f = Fake::default();
    let rules = "-A -f 1 -s rr -o\n-a -f 1 -r 10.1.1.1 -m\n-a -f 1 -r 10.1.1.2 -m\n\
                 -A -f 2 -s rr\n-a -f 2 -r 10.2.0.1 -m\n\
                 -A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip\n\
                 -a -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m\n\
                 -A -f 3 -o\n-a -f 3 -r 10.3.0.1 -g\n-a -f 3 -r 10.3.0.2 -i\n\
                 -L -n\n\
                 -E -f 2 -s rr -o\n";
    let (code, out, err) = run_with(&mut f, "-R", rules);
    assert_eq!(code, 0);
    assert!(out.starts_with("IP Virtual Server"), "{out}");
    assert_eq!(
        warned(&err),
        [
            nat_warning("-f 1", "10.1.1.1:0, 10.1.1.2:0"),
            nat_warning("-f 2", "10.2.0.1:0")
        ]
    );
    assert_eq!(err.lines().count(), 6, "{err}");
    // Set up and undone within the restore: nothing.
    let rules = "-A -f 4 -o\n-a -f 4 -r 10.4.0.1 -m\n-e -f 4 -r 10.4.0.1 -g\n";
    assert_eq!(
        run_with(&mut f, "-R", rules),
        (0, String::new(), String::new())
    );
    let rules = "-A -f 5 -o\n-a -f 5 -r 10.5.0.1 -m\n-A -t 10.0.0.4\n-A -f 6\n";
    let (code, out, err) = run_with(&mut f, "-R", rules);
    assert_eq!((code, out.as_str()), (2, ""));
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 4, "{err}");
    assert!(!lines[0].starts_with("Warning"), "{err}");
    assert_eq!(lines[1], nat_warning("-f 5", "10.5.0.1:0"));
    // -f 1 to -f 5 and the VIP:port service; not -f 6, after the line.
    assert_eq!(f.services.len(), 6);
}
