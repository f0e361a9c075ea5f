use super::*;
use crate::render::fixtures;
use ipvs::{Tunnel, TunnelFlags};

fn entry(sched: &str, flags: ServiceFlags) -> Service {
    Service {
        scheduler: sched.into(),
        flags,
        ..fixtures::service("10.0.0.1", 80)
    }
}

#[test]
fn sched_flags_by_their_option_names() {
    let all = ServiceFlags::SCHED_MASK;
    let names = |sched| sched_flag_names(&entry(sched, all));
    assert_eq!(names("sh"), ["sh-fallback", "sh-port", "flag-3"]);
    assert_eq!(names("mh"), ["mh-fallback", "mh-port", "flag-3"]);
    assert_eq!(names("rr"), ["flag-1", "flag-2", "flag-3"]);
    assert!(sched_flag_names(&entry("sh", ServiceFlags::empty())).is_empty());
}

#[test]
fn tunnels_and_masks() {
    let mut se = entry("rr", ServiceFlags::empty());
    se.netmask = Netmask::Ipv4([255, 255, 255, 0].into());
    let d = Destination {
        forward: Forward::Tunnel,
        tunnel: Tunnel {
            kind: TunnelType::Gue,
            port: 65535,
            flags: TunnelFlags::from_bits(TunnelFlags::CSUM.bits() | TunnelFlags::REMCSUM.bits()),
        },
        ..fixtures::dest("10.0.0.2", 80)
    };
    let v = serde_json::to_value(service(&se, &[d])).expect("json");
    assert_eq!(v["netmask"], "255.255.255.0");
    let t = &v["destinations"][0]["tunnel"];
    assert_eq!(
        (&t["type"], &t["port"], &t["checksum"]),
        (&"gue".into(), &65535.into(), &"remote".into())
    );
}
