//! Times the user-space side of `ipvsadm-rs -R` without a kernel: a
//! 50,000-line SIP restore (10,000 services of 4 real servers each) goes
//! through the real restore path against a table that accepts everything.
//!
//!     cargo build --release -p ipvsadm-rs --example restore_cpu
//!     /usr/bin/time -f '%U s user' target/release/examples/restore_cpu

use std::time::Instant;

use ipvsadm_rs::app::{self, Ctx};
use ipvsadm_rs::netlink::{Error, Ipvs};
use ipvsadm_rs::render::SystemNames;
use ipvsadm_rs::types::*;

/// A kernel that accepts every change and has nothing to list.
struct Accept;

impl Ipvs for Accept {
    fn info(&mut self) -> Result<Info, Error> {
        Ok(Info::default())
    }
    fn services(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        Ok(Vec::new())
    }
    fn service(&mut self, _: &ServiceConfig) -> Result<ServiceEntry, Error> {
        Err(Error::NoFamily)
    }
    fn dests(&mut self, _: &ServiceKey) -> Result<Vec<DestEntry>, Error> {
        Ok(Vec::new())
    }
    fn add_service(&mut self, _: &ServiceConfig) -> Result<(), Error> {
        Ok(())
    }
    fn edit_service(&mut self, _: &ServiceConfig) -> Result<(), Error> {
        Ok(())
    }
    fn del_service(&mut self, _: &ServiceConfig) -> Result<(), Error> {
        Ok(())
    }
    fn zero(&mut self, _: Option<&ServiceConfig>) -> Result<(), Error> {
        Ok(())
    }
    fn flush(&mut self) -> Result<(), Error> {
        Ok(())
    }
    fn add_dest(&mut self, _: &ServiceConfig, _: &DestConfig) -> Result<(), Error> {
        Ok(())
    }
    fn edit_dest(&mut self, _: &ServiceConfig, _: &DestConfig) -> Result<(), Error> {
        Ok(())
    }
    fn del_dest(&mut self, _: &ServiceConfig, _: &DestConfig) -> Result<(), Error> {
        Ok(())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(Timeouts::default())
    }
    fn set_timeouts(&mut self, _: &Timeouts) -> Result<(), Error> {
        Ok(())
    }
    fn daemons(&mut self) -> Result<Vec<DaemonConfig>, Error> {
        Ok(Vec::new())
    }
    fn start_daemon(&mut self, _: &DaemonConfig) -> Result<(), Error> {
        Ok(())
    }
    fn stop_daemon(&mut self, _: &DaemonConfig) -> Result<(), Error> {
        Ok(())
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
    let mut out = Vec::new();
    let mut err = Vec::new();
    let no_conns = || Ok(Vec::new());
    let mut ctx = Ctx {
        ipvs: &mut Accept,
        info: Info::default(),
        names: &SystemNames,
        out: &mut out,
        err: &mut err,
        read_conns: &no_conns,
    };
    let start = Instant::now();
    let code = app::main(&mut ctx, &argv, &mut input.as_bytes());
    let took = start.elapsed();
    println!(
        "{} lines restored in {:.3} s, status {code}, {} bytes of errors",
        input.lines().count(),
        took.as_secs_f64(),
        err.len()
    );
}
