//! `--apply` against an in-memory table: the plans it prints, what it
//! changes, and that a bad file or a refused change is reported with the
//! kernel untouched (or with what was done).

use std::io::BufRead;
use std::net::IpAddr;

use ipvs::{Error, Info, Object, Op, ServiceFlags, SyncDaemon, TableError, Timeouts, Version};

use super::*;
use crate::kernel::Ipvs;
use crate::render::Names;

/// The kernel's table as the planner's model, which refuses what the
/// kernel refuses; the change numbered `fail_at` (from 1) is refused too.
#[derive(Default)]
struct Model {
    table: Table,
    fail_at: Option<usize>,
    /// Every change asked for, refused ones included.
    asked: Vec<Change>,
}

impl Ipvs for Model {
    fn services(&mut self) -> Result<Vec<Service>, Error> {
        // As the kernel lists them: with its own flag.
        Ok(self
            .table
            .services()
            .map(|(s, _)| Service {
                flags: s.flags | ServiceFlags::HASHED,
                ..s.clone()
            })
            .collect())
    }
    fn service(&mut self, key: &ServiceKey) -> Result<Service, Error> {
        self.table
            .service(key)
            .map(|(s, _)| s.clone())
            .ok_or(Error::Kernel {
                op: Op::GetService,
                object: Object::Service(*key),
                errno: libc::ESRCH,
            })
    }
    fn destinations(&mut self, key: &ServiceKey) -> Result<Vec<Destination>, Error> {
        Ok(self
            .table
            .service(key)
            .map(|(_, d)| d.to_vec())
            .unwrap_or_default())
    }
    fn timeouts(&mut self) -> Result<Timeouts, Error> {
        Ok(Timeouts::default())
    }
    fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        Ok(Vec::new())
    }
    fn make_changes(&mut self, changes: &[Change]) -> Vec<Result<(), Error>> {
        changes
            .iter()
            .map(|c| {
                self.asked.push(c.clone());
                let errno = if self.fail_at == Some(self.asked.len()) {
                    Some(libc::ENOENT)
                } else {
                    match self.table.apply(c) {
                        Ok(()) => None,
                        Err(TableError::ServiceExists(_) | TableError::DestinationExists(..)) => {
                            Some(libc::EEXIST)
                        }
                        Err(TableError::NoService(_)) => Some(libc::ESRCH),
                        Err(TableError::NoDestination(..)) => Some(libc::ENOENT),
                    }
                };
                errno.map_or(Ok(()), |errno| {
                    Err(Error::Kernel {
                        op: c.op(),
                        object: c.object(),
                        errno,
                    })
                })
            })
            .collect()
    }
}

struct Numbers;
impl Names for Numbers {
    fn host(&self, _: &IpAddr) -> Option<Vec<u8>> {
        None
    }
    fn service(&self, _: u16, _: u16) -> Option<Vec<u8>> {
        None
    }
}

/// Runs one command line with `stdin`; returns (status, stdout, stderr).
fn run(model: &mut Model, line: &str, stdin: &str) -> (i32, String, String) {
    let argv: Vec<String> = std::iter::once("ipvsadm-rs".to_string())
        .chain(line.split_whitespace().map(String::from))
        .collect();
    let mut out = Vec::new();
    let mut err = Vec::new();
    let conns = || -> std::io::Result<Box<dyn BufRead>> { Ok(Box::new(&b""[..])) };
    let mut ctx = Ctx {
        ipvs: model,
        info: Info {
            version: Version(0x010201),
            conn_tab_size: 4096,
        },
        names: &Numbers,
        out: &mut out,
        err: &mut err,
        read_conns: &conns,
    };
    let code = crate::app::run(&mut ctx, &argv, &mut stdin.as_bytes());
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// The README's SIP service with three servers, as `-S` prints it.
const SIP: &str = "\
-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 --pe sip -o
-a -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m -w 1
-a -u 10.0.0.1:5060 -r 10.0.1.2:5060 -m -w 1
-a -u 10.0.0.1:5060 -r 10.0.1.3:5060 -m -w 1
";

fn loaded(rules: &str) -> Model {
    let mut m = Model::default();
    assert_eq!(run(&mut m, "--apply -", rules).0, 0);
    m.asked.clear();
    m
}

fn saved(m: &mut Model) -> String {
    let (code, out, _) = run(m, "-Sn", "");
    assert_eq!(code, 0);
    out
}

#[test]
fn an_empty_table_is_filled_in_order() {
    let mut m = Model::default();
    let (code, out, err) = run(&mut m, "--apply - --dry-run", SIP);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, SIP);
    assert!(m.asked.is_empty(), "a dry run changes nothing");
    let (code, out, err) = run(&mut m, "--apply -", SIP);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(saved(&mut m), SIP);
}

#[test]
fn applying_twice_changes_nothing_the_second_time() {
    let mut m = loaded(SIP);
    let (code, out, err) = run(&mut m, "--apply - --dry-run", SIP);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (code, out, err) = run(&mut m, "--apply -", SIP);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert!(m.asked.is_empty());
}

#[test]
fn one_weight_is_one_edit_line() {
    let mut m = loaded(SIP);
    let new = SIP.replace("10.0.1.2:5060 -m -w 1", "10.0.1.2:5060 -m -w 3");
    let (code, out, _) = run(&mut m, "--apply - --dry-run", &new);
    assert_eq!(code, 0);
    assert_eq!(out, "-e -u 10.0.0.1:5060 -r 10.0.1.2:5060 -m -w 3\n");
    assert_eq!(run(&mut m, "--apply -", &new).0, 0);
    assert_eq!(m.asked.len(), 1);
    assert_eq!(saved(&mut m), new);
}

#[test]
fn a_reload_edits_adds_then_deletes() {
    let mut m = loaded(SIP);
    let new = "\
# the scheduler switched, rs3 replaced by rs4, a threshold on rs1, a new service
-A -u 10.0.0.1:5060 -s wrr -p 60 -M 0.0.0.0 --pe sip -o
-a -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m -w 2 -x 100 -y 50
-a -u 10.0.0.1:5060 -r 10.0.1.2:5060 -m -w 1

-a -u 10.0.0.1:5060 -r 10.0.1.4:5060 -m -w 1
-A -t [2001:db8::1]:80 -s lc
-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -g -w 1
";
    let (code, out, _) = run(&mut m, "--apply - --dry-run", new);
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "\
-E -u 10.0.0.1:5060 -s wrr -p 60 -M 0.0.0.0 --pe sip -o
-A -t [2001:db8::1]:80 -s lc
-e -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m -w 2 -x 100 -y 50
-a -u 10.0.0.1:5060 -r 10.0.1.4:5060 -m -w 1
-a -t [2001:db8::1]:80 -r [2001:db8::2]:80 -g -w 1
-d -u 10.0.0.1:5060 -r 10.0.1.3:5060
"
    );
    // The printed plan is what -R reads, and makes the same table.
    let mut replayed = loaded(SIP);
    assert_eq!(run(&mut replayed, "-R", &out).0, 0);
    assert_eq!(run(&mut m, "--apply -", new).0, 0);
    assert_eq!(saved(&mut m), saved(&mut replayed));
    // Deleting a whole service is one line.
    let (code, out, _) = run(&mut m, "--apply - --dry-run", SIP);
    assert_eq!(code, 0);
    assert!(out.ends_with("-D -t [2001:db8::1]:80\n"), "{out}");
}

#[test]
fn a_bad_file_names_its_line_and_changes_nothing() {
    for (file, line, why) in [
        ("-A -u 10.0.0.1:5060 -s rr\n-a -u 10.0.0.1:5060 -r nowhere:x -m\n", 2, "illegal"),
        ("-A -u 10.0.0.1:5060 -s fastest\n", 1, "unknown scheduler `fastest'"),
        ("-A -u 10.0.0.1:5060\n\n-A -u 10.0.0.1:5060\n", 3, "already defined at line 1"),
        ("-a -u 10.0.0.1:5060 -r 10.0.1.1:5060\n", 1, "not defined by an -A line"),
        (
            "-A -u 10.0.0.1:5060\n-a -u 10.0.0.1:5060 -r 10.0.1.1\n-a -u 10.0.0.1:5060 -r 10.0.1.1 -w 2\n",
            3,
            "already defined at line 2",
        ),
        ("-A -u 10.0.0.1:5060\n-C\n", 2, "only -A and -a lines"),
        ("-A -u 10.0.0.1:5060\n-A -u 10.0.0.2:5060 --frobnicate\n", 2, ""),
    ] {
        let mut m = loaded(SIP);
        let (code, out, err) = run(&mut m, "--apply -", file);
        assert_ne!(code, 0, "{file}");
        assert_eq!(out, "");
        assert!(err.starts_with(&format!("<stdin>:{line}: ")), "{file}: {err}");
        assert!(err.contains(why), "{file}: {err}");
        assert!(err.ends_with("nothing was changed\n"), "{err}");
        assert!(m.asked.is_empty(), "{file}: the kernel was touched");
    }
    let mut m = loaded(SIP);
    let (code, _, err) = run(&mut m, "--apply /nonexistent/rules", "");
    assert_eq!(code, 2);
    assert!(err.starts_with("cannot read /nonexistent/rules: "), "{err}");
    assert!(m.asked.is_empty());
}

#[test]
fn a_refused_change_says_what_was_done() {
    let mut m = loaded(SIP);
    m.fail_at = Some(2);
    let new = SIP
        .replace("-w 1\n-a", "-w 4\n-a")
        .replace("-s rr", "-s wrr");
    let (code, out, err) = run(&mut m, "--apply -", &new);
    assert_eq!((code, out.as_str()), (255, ""));
    assert_eq!(
        err,
        "\
ipvsadm-rs: --apply: change 2 of 3 failed: -e -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m -w 4: No such destination
the 1 changes before it were made:
  -E -u 10.0.0.1:5060 -s wrr -p 60 -M 0.0.0.0 --pe sip -o
the 1 changes after it were not made
"
    );
    assert_eq!(m.asked.len(), 2, "nothing after the refused change");
}

/// A file that sets up a firewall-mark service with -o and masquerading
/// servers is applied as any other, and standard error warns about it,
/// with `--dry-run` too, and when the kernel has it already.
#[test]
fn a_file_with_fwmark_one_packet_nat_is_applied_with_a_warning() {
    let fwmark = "\
-A -f 1 -s rr -o
-a -f 1 -r 10.1.1.1:0 -m -w 1
-a -f 1 -r 10.1.1.2:0 -g -w 1
-A -f 2 -s rr
-a -f 2 -r 10.2.0.1:0 -m -w 1
";
    let file = format!("{SIP}{fwmark}");
    let warning = "Warning: service -f 1 has one-packet scheduling (-o) and masquerading (-m) \
                   real servers (10.1.1.1:0): IPVS cannot NAT their replies";
    let mut m = Model::default();
    let (code, out, err) = run(&mut m, "--apply - --dry-run", &file);
    // The plan: services first, then servers, each in the file's order.
    let sorted = |t: &str| {
        let mut l: Vec<String> = t.lines().map(String::from).collect();
        l.sort();
        l
    };
    assert_eq!((code, sorted(&out)), (0, sorted(&file)));
    assert_eq!(err.lines().next(), Some(warning));
    assert_eq!(err.lines().count(), 3, "{err}");
    assert!(m.asked.is_empty());
    for _ in 0..2 {
        let (code, out, err) = run(&mut m, "--apply -", &file);
        assert_eq!((code, out.as_str()), (0, ""));
        assert_eq!(err.lines().next(), Some(warning));
        assert_eq!(err.lines().count(), 3, "{err}");
    }
    assert_eq!(saved(&mut m), file);
}
