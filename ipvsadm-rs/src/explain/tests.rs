//! What failures mean, on a host given as text.

use std::net::SocketAddr;

use ipvs::{Scheduler, Service};

use super::*;

/// A host whose module files are given.
struct FakeHost {
    loaded: &'static str,
    dep: Option<&'static str>,
    builtin: Option<&'static str>,
}

impl Host for FakeHost {
    fn loaded(&self) -> Option<String> {
        Some(self.loaded.to_string())
    }
    fn modules_dep(&self) -> Option<String> {
        self.dep.map(str::to_string)
    }
    fn modules_builtin(&self) -> Option<String> {
        self.builtin.map(str::to_string)
    }
}

const PROC_MODULES: &str = "ip_vs_rr 12288 1 - Live 0x0000000000000000\n\
ip_vs 192512 3 ip_vs_rr, Live 0x0000000000000000\n\
nf_conntrack 180224 1 ip_vs, Live 0x0000000000000000\n";
const DEP: &str = "kernel/net/netfilter/ipvs/ip_vs.ko: kernel/net/netfilter/nf_conntrack.ko\n\
kernel/net/netfilter/ipvs/ip_vs_rr.ko: kernel/net/netfilter/ipvs/ip_vs.ko\n\
kernel/net/netfilter/ipvs/ip_vs_wlc.ko.xz: kernel/net/netfilter/ipvs/ip_vs.ko\n\
kernel/net/netfilter/ipvs/ip_vs_ftp.ko: kernel/net/netfilter/ipvs/ip_vs.ko\n\
kernel/net/netfilter/ipvs/ip_vs_pe_sip.ko: kernel/net/netfilter/ipvs/ip_vs.ko\n\
extra/ip_vs_pe_sip_rs.ko: kernel/net/netfilter/ipvs/ip_vs.ko\n";

fn host() -> FakeHost {
    FakeHost {
        loaded: PROC_MODULES,
        dep: Some(DEP),
        builtin: Some("kernel/net/netfilter/ipvs/ip_vs_sh.ko\n"),
    }
}

fn udp_key() -> ServiceKey {
    ServiceKey::Inet {
        protocol: Protocol::Udp,
        addr: "10.1.0.3:5060".parse().expect("literal"),
    }
}

fn add(sched: &str, pe: Option<&str>) -> Change {
    let mut s = Service::new(udp_key());
    s.scheduler = Scheduler::from(sched);
    s.pe_name = pe.map(str::to_string);
    Change::AddService(s)
}

fn kernel_error(c: &Change, errno: i32) -> Error {
    Error::Kernel {
        op: c.op(),
        object: c.object(),
        errno,
    }
}

#[test]
fn an_unknown_engine_is_named_with_those_loaded_and_ours() {
    let c = add("rr", Some("nosuchengine"));
    let msg = message_on(&kernel_error(&c, libc::ENOENT), Some(&c), &host());
    let mut lines = msg.lines();
    // ipvsadm's line first, word for word.
    assert_eq!(
        lines.next(),
        Some("Scheduler or persistence engine not found")
    );
    assert!(lines.all(|l| l.starts_with("  ")), "{msg}");
    assert!(
        msg.contains("persistence engine 'nosuchengine' is not registered (engines loaded: none)"),
        "{msg}"
    );
    assert!(msg.contains("module ip_vs_pe_nosuchengine"), "{msg}");
    assert!(
        msg.contains("engine modules installed for this kernel: ip_vs_pe_sip, ip_vs_pe_sip_rs"),
        "{msg}"
    );
    assert!(msg.contains("`modprobe ip_vs_pe_sip_rs`"), "{msg}");
}

#[test]
fn sip_without_its_module_says_to_load_ours() {
    let c = add("rr", Some("sip"));
    let msg = explanation(&kernel_error(&c, libc::ENOENT), Some(&c), &host());
    assert!(msg.contains("'sip' is not registered"), "{msg}");
    assert!(msg.contains("modprobe ip_vs_pe_sip_rs"), "{msg}");
}

#[test]
fn with_the_engine_loaded_the_scheduler_is_blamed() {
    let h = FakeHost {
        loaded: "ip_vs_pe_sip_rs 16384 0 - Live 0x0\nip_vs 192512 1 ip_vs_pe_sip_rs, Live 0x0\n",
        ..host()
    };
    let c = add("nosuchsched", Some("sip"));
    let msg = explanation(&kernel_error(&c, libc::ENOENT), Some(&c), &h);
    assert!(
        msg.contains("scheduler 'nosuchsched' is not available"),
        "{msg}"
    );
    assert!(msg.contains("module ip_vs_nosuchsched"), "{msg}");
    // Loadable and built-in schedulers; neither IPVS itself, its FTP helper nor engines.
    assert!(
        msg.contains("schedulers available in this kernel: rr, sh, wlc\n"),
        "{msg}"
    );
    // Without an engine asked for, the scheduler is the one missing.
    let c = add("nosuchsched", None);
    let msg = explanation(&kernel_error(&c, libc::ENOENT), Some(&c), &host());
    assert!(msg.contains("scheduler 'nosuchsched'"), "{msg}");
}

#[test]
fn a_built_in_engine_counts_as_loaded() {
    let h = FakeHost {
        builtin: Some("kernel/net/netfilter/ipvs/ip_vs_pe_sip.ko\n"),
        ..host()
    };
    let c = add("nosuchsched", Some("sip"));
    let msg = explanation(&kernel_error(&c, libc::ENOENT), Some(&c), &h);
    assert!(msg.contains("scheduler 'nosuchsched'"), "{msg}");
}

#[test]
fn without_module_lists_only_what_is_known_is_said() {
    let h = FakeHost {
        loaded: "",
        dep: None,
        builtin: None,
    };
    let c = add("rr", Some("x"));
    let msg = explanation(&kernel_error(&c, libc::ENOENT), Some(&c), &h);
    assert!(!msg.contains("installed"), "{msg}");
    assert!(msg.contains("engines loaded: none"), "{msg}");
}

#[test]
fn a_missing_service_or_destination_is_named() {
    let dest: SocketAddr = "10.1.1.1:5060".parse().expect("literal");
    let c = Change::AddDestination(udp_key(), ipvs::Destination::new(dest));
    let msg = message_on(&kernel_error(&c, libc::ESRCH), Some(&c), &host());
    assert_eq!(
        msg,
        "Service not defined\n  service -u 10.1.0.3:5060 is not in this network namespace's \
         table (`ipvsadm-rs -Ln` lists the table; `ipvsadm-rs -A -u 10.1.0.3:5060` adds the \
         service)\n"
    );
    let c = Change::DeleteDestination(udp_key(), dest);
    let msg = message_on(&kernel_error(&c, libc::ENOENT), Some(&c), &host());
    assert_eq!(
        msg,
        "No such destination\n  real server 10.1.1.1:5060 is not a destination of service -u \
         10.1.0.3:5060 (`ipvsadm-rs -Ln -u 10.1.0.3:5060` lists them)\n"
    );
}

#[test]
fn services_are_spelled_as_on_the_command_line() {
    let v6 = ServiceKey::Inet {
        protocol: Protocol::Tcp,
        addr: "[2001:db8::1]:443".parse().expect("literal"),
    };
    assert_eq!(service_option(&v6), "-t [2001:db8::1]:443");
    let mark = ServiceKey::Fwmark {
        family: Family::Inet6,
        mark: 7,
    };
    assert_eq!(service_option(&mark), "-f 7 -6");
    let sctp = ServiceKey::Inet {
        protocol: Protocol::Sctp,
        addr: "10.0.0.1:9".parse().expect("literal"),
    };
    assert_eq!(service_option(&sctp), "--sctp-service 10.0.0.1:9");
}

#[test]
fn other_failures_keep_ipvsadms_message_alone() {
    let c = Change::Flush;
    let e = kernel_error(&c, libc::EPERM);
    assert_eq!(
        message_on(&e, Some(&c), &host()),
        "Permission denied (you must be root)\n"
    );
    // No privilege: ipvsadm's two lines stay whole (compare.sh compares them).
    assert_eq!(
        init_hint(&Error::Io {
            op: Op::Connect,
            source: std::io::Error::from_raw_os_error(libc::EPERM)
        }),
        ""
    );
    assert!(init_hint(&Error::NoFamily).contains("modprobe ip_vs"));
}
