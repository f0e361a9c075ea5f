//! Whole command lines against an in-memory IPVS table.

use super::*;
use crate::netlink::Error;
use crate::render::Names;
use nix::errno::Errno;
use std::net::IpAddr;

/// An IPVS table in memory, answering like the kernel does.
#[derive(Default)]
struct Fake {
    services: Vec<(ServiceEntry, Vec<DestEntry>)>,
    timeouts: Timeouts,
    daemons: Vec<DaemonConfig>,
}

fn kerr(op: Op, errno: Errno) -> Error {
    Error::Kernel { op, errno }
}

fn same(a: &ServiceKey, b: &ServiceKey) -> bool {
    if a.fwmark != 0 || b.fwmark != 0 {
        a.fwmark == b.fwmark && a.af == b.af
    } else {
        (a.af, a.protocol, a.addr, a.port) == (b.af, b.protocol, b.addr, b.port)
    }
}

impl Fake {
    fn find(&mut self, k: &ServiceKey) -> Option<&mut (ServiceEntry, Vec<DestEntry>)> {
        self.services.iter_mut().find(|(s, _)| same(&s.key, k))
    }
}

fn entry(s: &ServiceConfig) -> ServiceEntry {
    let mut key = s.key.clone();
    if key.fwmark != 0 {
        key.protocol = 0;
        key.addr = IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED);
        key.port = 0;
    }
    ServiceEntry {
        key,
        sched_name: s.sched_name.clone(),
        pe_name: s.pe_name.clone(),
        flags: s.flags | svc_flags::HASHED,
        timeout: s.timeout,
        netmask: s.netmask,
        stats: Stats::default(),
    }
}

fn dest_entry(d: &DestConfig) -> DestEntry {
    DestEntry {
        af: d.af,
        addr: d.addr,
        port: d.port,
        fwd: d.fwd,
        weight: d.weight,
        u_threshold: d.u_threshold,
        l_threshold: d.l_threshold,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: d.tun_type,
        tun_port: d.tun_port,
        tun_flags: d.tun_flags,
        stats: Stats::default(),
    }
}

impl Ipvs for Fake {
    fn info(&mut self) -> Result<Info, Error> {
        Ok(Info {
            version: 0x010201,
            conn_tab_size: 4096,
        })
    }
    fn services(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        Ok(self.services.iter().map(|(s, _)| s.clone()).collect())
    }
    fn service(&mut self, key: &ServiceConfig) -> Result<ServiceEntry, Error> {
        self.find(&key.key)
            .map(|(s, _)| s.clone())
            .ok_or(kerr(Op::GetService, Errno::ESRCH))
    }
    fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        Ok(self.find(key).map(|(_, d)| d.clone()).unwrap_or_default())
    }
    fn add_service(&mut self, s: &ServiceConfig) -> Result<(), Error> {
        if self.find(&s.key).is_some() {
            return Err(kerr(Op::AddService, Errno::EEXIST));
        }
        self.services.push((entry(s), Vec::new()));
        Ok(())
    }
    fn edit_service(&mut self, s: &ServiceConfig) -> Result<(), Error> {
        let e = self
            .find(&s.key)
            .ok_or(kerr(Op::EditService, Errno::ESRCH))?;
        e.0 = entry(s);
        Ok(())
    }
    fn del_service(&mut self, s: &ServiceConfig) -> Result<(), Error> {
        let before = self.services.len();
        self.services.retain(|(e, _)| !same(&e.key, &s.key));
        if before == self.services.len() {
            return Err(kerr(Op::DelService, Errno::ESRCH));
        }
        Ok(())
    }
    fn zero(&mut self, s: Option<&ServiceConfig>) -> Result<(), Error> {
        match s {
            Some(s) => self
                .find(&s.key)
                .map(drop)
                .ok_or(kerr(Op::Zero, Errno::ESRCH)),
            None => Ok(()),
        }
    }
    fn flush(&mut self) -> Result<(), Error> {
        self.services.clear();
        Ok(())
    }
    fn add_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error> {
        let e = self.find(&s.key).ok_or(kerr(Op::AddDest, Errno::ESRCH))?;
        if e.1.iter().any(|x| x.addr == d.addr && x.port == d.port) {
            return Err(kerr(Op::AddDest, Errno::EEXIST));
        }
        e.1.push(dest_entry(d));
        Ok(())
    }
    fn edit_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error> {
        let e = self.find(&s.key).ok_or(kerr(Op::EditDest, Errno::ESRCH))?;
        let x =
            e.1.iter_mut()
                .find(|x| x.addr == d.addr && x.port == d.port)
                .ok_or(kerr(Op::EditDest, Errno::ENOENT))?;
        *x = dest_entry(d);
        Ok(())
    }
    fn del_dest(&mut self, s: &ServiceConfig, d: &DestConfig) -> Result<(), Error> {
        let e = self.find(&s.key).ok_or(kerr(Op::DelDest, Errno::ESRCH))?;
        let before = e.1.len();
        e.1.retain(|x| !(x.addr == d.addr && x.port == d.port));
        if before == e.1.len() {
            return Err(kerr(Op::DelDest, Errno::ENOENT));
        }
        Ok(())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(self.timeouts)
    }
    fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        self.timeouts = *t;
        Ok(())
    }
    fn daemons(&mut self) -> Result<Vec<DaemonConfig>, Error> {
        Ok(self.daemons.clone())
    }
    fn start_daemon(&mut self, d: &DaemonConfig) -> Result<(), Error> {
        if self.daemons.iter().any(|x| x.state == d.state) {
            return Err(kerr(Op::StartDaemon, Errno::EEXIST));
        }
        self.daemons.push(d.clone());
        Ok(())
    }
    fn stop_daemon(&mut self, d: &DaemonConfig) -> Result<(), Error> {
        let before = self.daemons.len();
        self.daemons.retain(|x| x.state != d.state);
        if before == self.daemons.len() {
            return Err(kerr(Op::StopDaemon, Errno::ESRCH));
        }
        Ok(())
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
    let conns = || {
        Ok(
            b"Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
            UDP 0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE             59 sip abc@host\n"
                .to_vec(),
        )
    };
    let mut ctx = Ctx {
        ipvs: fake,
        info: Info {
            version: 0x010201,
            conn_tab_size: 4096,
        },
        names: &NoNames,
        out: &mut out,
        err: &mut err,
        read_conns: &conns,
    };
    let code = main(&mut ctx, &argv, &mut stdin.as_bytes());
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

#[test]
fn kernel_errors_are_worded_and_exit_255() {
    let mut f = Fake::default();
    run(&mut f, "-A -t 10.0.0.1:80");
    assert_eq!(
        run(&mut f, "-A -t 10.0.0.1:80"),
        (255, String::new(), "Service already exists\n".into())
    );
    assert_eq!(
        run(&mut f, "-d -t 10.0.0.1:80 -r 10.0.0.2"),
        (255, String::new(), "No such destination\n".into())
    );
    assert_eq!(
        run(&mut f, "-a -t 10.0.0.9:80 -r 10.0.0.2"),
        (255, String::new(), "Service not defined\n".into())
    );
    let (code, out, err) = run(&mut f, "-L -t 10.0.0.9:80");
    assert_eq!(
        (code, out.as_str(), err.as_str()),
        (1, "", "No such service\n")
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
    assert_eq!((code, err.as_str()), (0, "Service already exists\n"));
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
    assert_eq!(err, "Service already exists\n");
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
