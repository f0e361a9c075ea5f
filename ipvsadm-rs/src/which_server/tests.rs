//! `--which-server` against an IPVS table in memory: the key's sources, weight 0, the
//! answer's lines and statuses.

use std::io::{self, BufRead};
use std::net::SocketAddr;

use ipvs::{
    Change, Destination, Error, Info, Object, Op, Scheduler, Service, ServiceKey, SyncDaemon,
    Timeouts, Version,
};

use super::*;
use crate::kernel::Ipvs;
use crate::render::NoNames;

/// One service and its destinations.
struct Fake {
    service: Service,
    dests: Vec<Destination>,
}

impl Ipvs for Fake {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        Ok(vec![self.service.clone()])
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        if *key == self.service.key {
            return Ok(self.service.clone());
        }
        Err(Error::Kernel {
            op: Op::GetService,
            object: Object::Service(*key),
            errno: libc::ESRCH,
        })
    }
    fn destinations(&mut self, _key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        Ok(self.dests.clone())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        Ok(Vec::new())
    }
    fn make_changes(&mut self, _changes: &[Change]) -> Vec<Result<(), Error>> {
        Vec::new()
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a test address")
}

fn key() -> ServiceKey {
    ServiceKey::udp(addr("10.0.1.100:5060"))
}

fn dest(a: &str, weight: u32) -> Destination {
    Destination {
        weight,
        ..Destination::new(addr(a))
    }
}

fn world(scheduler: &str, weights: &[(&str, u32)]) -> Fake {
    let mut service = Service::new(key());
    service.scheduler = Scheduler::from(scheduler);
    Fake {
        service,
        dests: weights.iter().map(|&(a, w)| dest(a, w)).collect(),
    }
}

fn request(ids: &[&str]) -> WhichServerRequest {
    WhichServerRequest {
        service: key(),
        call_ids: ids.iter().map(|s| (*s).to_owned()).collect(),
        hash_key: None,
        last_weights: Vec::new(),
    }
}

struct Ran {
    code: i32,
    out: String,
    err: String,
}

fn run(fake: &mut Fake, req: &WhichServerRequest, stdin: &str, param: io::Result<String>) -> Ran {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let read_conns = || -> io::Result<Box<dyn BufRead>> { Ok(Box::new(io::empty())) };
    let param = param.map_err(|e| io::Error::new(e.kind(), e.to_string()));
    let read_param = move || match &param {
        Ok(s) => Ok(s.clone()),
        Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
    };
    let code = {
        let mut ctx = Ctx {
            ipvs: fake,
            info: Info {
                version: Version(0x010201),
                conn_tab_size: 4096,
            },
            names: &NoNames,
            out: &mut out,
            err: &mut err,
            read_conns: &read_conns,
        };
        carry_out(
            &mut ctx,
            req,
            &mut io::Cursor::new(stdin.as_bytes()),
            &read_param,
        )
    };
    Ran {
        code,
        out: String::from_utf8(out).expect("UTF-8"),
        err: String::from_utf8(err).expect("UTF-8"),
    }
}

const THREE: [(&str, u32); 3] = [
    ("10.0.2.11:5060", 1),
    ("10.0.2.12:5060", 1),
    ("10.0.2.13:5060", 1),
];

/// The model's own answer, for comparison.
fn model_choice(weights: &[(&str, u32)], id: &str) -> String {
    let servers = weights.iter().map(|&(a, w)| Server {
        addr: addr(a),
        last_weight: w,
        weight: w,
    });
    let m = Maglev::new(DEFAULT_KEY, servers).expect("a table");
    let c = m.choose(id.as_bytes());
    c.server.expect("a server").addr.to_string()
}

#[test]
fn each_call_id_gets_the_models_server() {
    let mut fake = world("sipmh", &THREE);
    let ids = ["a@x", "b@x", "c@x", "d@x"];
    let r = run(&mut fake, &request(&ids), "", Ok("(null)\n".into()));
    assert_eq!(r.code, 0, "{}", r.err);
    let want: String = ids
        .iter()
        .map(|id| format!("{id} {}\n", model_choice(&THREE, id)))
        .collect();
    assert_eq!(r.out, want);
}

#[test]
fn call_ids_come_from_standard_input_with_a_dash() {
    let mut fake = world("sipmh", &THREE);
    let r = run(
        &mut fake,
        &request(&["-"]),
        "a@x\r\n\nb@x\n",
        Ok("(null)\n".into()),
    );
    assert_eq!(r.code, 0, "{}", r.err);
    let lines: Vec<&str> = r.out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].starts_with("a@x 10.0.2.1") && lines[1].starts_with("b@x 10.0.2.1"));
}

#[test]
fn the_key_changes_the_answer_and_comes_from_the_module_or_the_option() {
    let mut fake = world("sipmh", &THREE);
    let ids: Vec<String> = (0..64).map(|i| format!("call-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let default = run(&mut fake, &request(&ids), "", Ok("(null)\n".into()));
    let hex = "00112233445566778899aabbccddeeff";
    let from_module = run(&mut fake, &request(&ids), "", Ok(format!("{hex}\n")));
    let mut req = request(&ids);
    req.hash_key = parse_key(hex).ok();
    let from_option = run(
        &mut fake,
        &req,
        "",
        Err(io::ErrorKind::PermissionDenied.into()),
    );
    assert_ne!(
        default.out, from_module.out,
        "another key, the same 64 choices"
    );
    assert_eq!(from_module.out, from_option.out);
    // Not loaded: the default key.
    let unloaded = run(
        &mut fake,
        &request(&ids),
        "",
        Err(io::ErrorKind::NotFound.into()),
    );
    assert_eq!(unloaded.out, default.out);
}

#[test]
fn an_unreadable_key_is_an_error_that_says_what_to_do() {
    let mut fake = world("sipmh", &THREE);
    let r = run(
        &mut fake,
        &request(&["a@x"]),
        "",
        Err(io::ErrorKind::PermissionDenied.into()),
    );
    assert_eq!(r.code, 1);
    assert!(r.out.is_empty());
    assert!(
        r.err.contains("root") && r.err.contains("--hash-key"),
        "{}",
        r.err
    );
}

#[test]
fn another_scheduler_is_refused() {
    let mut fake = world("rr", &THREE);
    let r = run(&mut fake, &request(&["a@x"]), "", Ok("(null)\n".into()));
    assert_eq!(r.code, 1);
    assert!(r.err.contains("scheduled by rr, not sipmh"), "{}", r.err);
}

#[test]
fn weight_zero_falls_back_keeps_the_table_and_says_what_it_assumed() {
    let ids: Vec<String> = (0..200).map(|i| format!("w-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut all = world("sipmh", &THREE);
    let before = run(&mut all, &request(&ids), "", Ok("(null)\n".into()));
    let mut zero = world("sipmh", &[THREE[0], ("10.0.2.12:5060", 0), THREE[2]]);
    let after = run(&mut zero, &request(&ids), "", Ok("(null)\n".into()));
    assert_eq!(after.code, 0);
    assert!(after.err.contains("10.0.2.12:5060 is at weight 0") && after.err.contains("1 assumed"));
    let mut moved = 0;
    for (b, a) in before.out.lines().zip(after.out.lines()) {
        if b.contains("10.0.2.12:5060") {
            moved += 1;
            assert!(
                a.contains("(the table's 10.0.2.12:5060 takes no new calls)"),
                "{a}"
            );
            assert_ne!(a.split(' ').nth(1), Some("10.0.2.12:5060"));
        } else {
            assert_eq!(a, b, "a call of another server moved");
        }
    }
    assert!(moved > 0);
    // Given its last weight, nothing is assumed.
    let mut req = request(&ids);
    req.last_weights = vec![(addr("10.0.2.12:5060"), 1)];
    let given = run(&mut zero, &req, "", Ok("(null)\n".into()));
    assert!(given.err.is_empty(), "{}", given.err);
    assert_eq!(given.out, after.out);
}

#[test]
fn no_server_taking_calls_gives_a_dash_and_status_1() {
    let mut fake = world("sipmh", &[("10.0.2.11:5060", 0)]);
    let r = run(&mut fake, &request(&["a@x"]), "", Ok("(null)\n".into()));
    assert_eq!(r.code, 1);
    assert_eq!(
        r.out,
        "a@x - (the table's 10.0.2.11:5060 takes no new calls)\n"
    );
}

#[test]
fn the_servers_order_does_not_matter() {
    let ids: Vec<String> = (0..100).map(|i| format!("o-{i}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut a = world("sipmh", &THREE);
    let mut b = world("sipmh", &[THREE[2], THREE[0], THREE[1]]);
    let ra = run(&mut a, &request(&ids), "", Ok("(null)\n".into()));
    let rb = run(&mut b, &request(&ids), "", Ok("(null)\n".into()));
    assert_eq!(ra.out, rb.out);
}
