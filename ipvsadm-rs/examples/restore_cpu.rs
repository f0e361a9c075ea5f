//! Times the user-space side of `ipvsadm-rs -R` without a kernel: a
//! 50,000-line SIP restore (10,000 services of 4 real servers each) goes
//! through the real restore path against a table that accepts everything.
//!
//!     cargo build --release -p ipvsadm-rs --example restore_cpu
//!     /usr/bin/time -f '%U s user' target/release/examples/restore_cpu

use std::time::Instant;

use ipvs::{Change, Destination, Error, Info, Service, ServiceKey, SyncDaemon, Timeouts};
use ipvsadm_rs::{Ctx, Ipvs, SystemNames};

/// A kernel that accepts every change and has nothing to list.
struct Accept;

impl Ipvs for Accept {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        Ok(Vec::new())
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        Ok(Service::new(*key))
    }
    fn destinations(&mut self, _: &ServiceKey) -> Result<Vec<Destination>, Error> {
        Ok(Vec::new())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        Ok(Vec::new())
    }
    fn make_changes(&mut self, changes: &[Change]) -> Vec<Result<(), Error>> {
        changes.iter().map(|_| Ok(())).collect()
    }
}

/// The rules of the control-plane benchmark: SIP services with one-packet
/// scheduling and the `sip` engine, each with 4 masqueraded servers.
fn rules(services: u32) -> String {
    let mut s = String::new();
    for i in 0..services {
        let vip = format!("10.{}.{}.{}:5060", i >> 16, (i >> 8) & 0xff, i & 0xff);
        s.push_str(&format!("-A -u {vip} -s rr -p 60 -M 0.0.0.0 -o --pe sip\n"));
        for k in 0..4 {
            let j = (i * 4 + k) & 0xffff;
            s.push_str(&format!(
                "-a -u {vip} -r 192.168.{}.{}:5060 -m -w 1\n",
                j >> 8,
                j & 0xff
            ));
        }
    }
    s
}

fn main() {
    let input = rules(10_000);
    let argv = ["ipvsadm-rs".to_string(), "-R".to_string()];
    let mut out = std::io::sink();
    let mut err = Vec::new();
    let no_conns =
        || -> std::io::Result<Box<dyn std::io::BufRead>> { Ok(Box::new(std::io::empty())) };
    let mut ctx = Ctx {
        ipvs: &mut Accept,
        info: Info::default(),
        names: &SystemNames,
        out: &mut out,
        err: &mut err,
        read_conns: &no_conns,
    };
    let start = Instant::now();
    let code = ipvsadm_rs::run(&mut ctx, &argv, &mut input.as_bytes());
    let took = start.elapsed();
    println!(
        "{} lines restored in {:.3} s, status {code}, {} bytes of errors",
        input.lines().count(),
        took.as_secs_f64(),
        err.len()
    );
}
