//! The servers' counts from a table and a connection list in memory.

use std::net::SocketAddr;

use ipvs::{
    Change, Destination, Error, Netmask, Protocol, Service, ServiceFlags, ServiceKey, SyncDaemon,
    Timeouts,
};

use super::*;

/// A table to list: services with their servers.
struct Table(Vec<(Service, Vec<Destination>)>);

impl Ipvs for Table {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        Ok(self.0.iter().map(|(s, _)| s.clone()).collect())
    }
    fn service(&mut self, _: &ServiceKey) -> Result<Service, Error> {
        unreachable!("not asked for")
    }
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        Ok(self
            .0
            .iter()
            .find(|(s, _)| s.key == *key)
            .map(|(_, d)| d.clone())
            .unwrap_or_default())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        unreachable!("not asked for")
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        unreachable!("not asked for")
    }
    fn make_changes(&mut self, _: &[Change]) -> Vec<Result<(), Error>> {
        unreachable!("nothing is changed")
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("literal")
}

fn udp(vip: &str, persistent: bool, pe: Option<&str>) -> Service {
    let mut s = Service::new(ServiceKey::Inet {
        protocol: Protocol::Udp,
        addr: addr(vip),
    });
    if persistent {
        s.flags |= ServiceFlags::PERSISTENT;
        s.timeout = 60;
        s.netmask = Netmask::Ipv4(std::net::Ipv4Addr::UNSPECIFIED);
    }
    s.pe_name = pe.map(String::from);
    s
}

fn server(a: &str, templates: u32) -> Destination {
    Destination {
        persistent_conns: templates,
        ..Destination::new(addr(a))
    }
}

/// The SIP service 10.0.0.1:5060 on .11 and .12, a plain persistent
/// service 10.0.0.2:5060 on .11, and a service without persistence.
fn table() -> Table {
    Table(vec![
        (
            udp("10.0.0.1:5060", true, Some("sip")),
            vec![server("10.0.1.12:5060", 2), server("10.0.1.11:5060", 4)],
        ),
        (
            udp("10.0.0.3:53", false, None),
            vec![server("10.0.1.11:53", 0)],
        ),
        (
            udp("10.0.0.2:5060", true, None),
            vec![server("10.0.1.11:5060", 1)],
        ),
    ])
}

/// /proc/net/ip_vs_conn: three calls on .11 and one on .12, a fallback
/// template on .12, a connection of a call on .11, and a template of the
/// plain service on .11.
const CONNS: &str = "\
Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
UDP 0A000064 0000 0A000001 13C4 0A00010B 13C4 NONE             59 sip a@x
UDP 0A000064 0000 0A000001 13C4 0A00010B 13C4 NONE             59 sip b@x
UDP 0A000065 0000 0A000001 13C4 0A00010B 13C4 NONE             59 sip c@x
UDP 0A000064 0000 0A000001 13C4 0A00010C 13C4 NONE             59 sip d@x
UDP 0A000064 0000 0A000001 13C4 0A00010C 13C4 NONE             59 sip
UDP 0A000064 13C4 0A000001 13C4 0A00010B 13C4 UDP              59 sip a@x
UDP 0A000064 0000 0A000002 13C4 0A00010B 13C4 NONE             59
";

fn conns_of(text: &'static str) -> impl Fn() -> io::Result<Box<dyn BufRead>> {
    move || Ok(Box::new(text.as_bytes()))
}

#[test]
fn each_server_of_a_persistent_service_with_its_templates_and_calls() {
    let got = held(&mut table(), &conns_of(CONNS)).expect("read");
    let rows: Vec<(String, String, u32, Option<u32>)> = got
        .iter()
        .map(|h| {
            (
                h.service.to_string(),
                h.server.to_string(),
                h.templates,
                h.calls,
            )
        })
        .collect();
    let sip = ServiceKey::Inet {
        protocol: Protocol::Udp,
        addr: addr("10.0.0.1:5060"),
    }
    .to_string();
    let plain = ServiceKey::Inet {
        protocol: Protocol::Udp,
        addr: addr("10.0.0.2:5060"),
    }
    .to_string();
    assert_eq!(
        rows,
        [
            (sip.clone(), "10.0.1.11:5060".into(), 4, Some(3)),
            (sip, "10.0.1.12:5060".into(), 2, Some(1)),
            (plain, "10.0.1.11:5060".into(), 1, None),
        ]
    );
}

#[test]
fn without_a_sip_service_the_connections_are_not_read() {
    let mut t = table();
    t.0.remove(0);
    let never = || -> io::Result<Box<dyn BufRead>> { panic!("read") };
    let got = held(&mut t, &never).expect("read");
    assert_eq!(got.len(), 1);
    assert_eq!(held(&mut Table(Vec::new()), &never), Ok(Vec::new()));
}

#[test]
fn unreadable_connections_are_an_error_naming_the_file() {
    let gone = || -> io::Result<Box<dyn BufRead>> { Err(io::ErrorKind::NotFound.into()) };
    let e = held(&mut table(), &gone).expect_err("unreadable");
    assert!(e.starts_with("cannot read /proc/net/ip_vs_conn: "), "{e}");
    let e = held(&mut table(), &conns_of("")).expect_err("empty");
    assert!(e.contains("unexpected input"), "{e}");
}
