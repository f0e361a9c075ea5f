use super::*;
use crate::types::fixtures;

fn entry(sched: &str, flags: u32) -> ServiceEntry {
    ServiceEntry {
        sched_name: sched.into(),
        flags,
        ..fixtures::service("10.0.0.1", 80)
    }
}

#[test]
fn sched_flags_by_their_option_names() {
    let all = svc_flags::SCHED_MASK;
    let names = |sched| sched_flag_names(&entry(sched, all));
    assert_eq!(names("sh"), ["sh-fallback", "sh-port", "flag-3"]);
    assert_eq!(names("mh"), ["mh-fallback", "mh-port", "flag-3"]);
    assert_eq!(names("rr"), ["flag-1", "flag-2", "flag-3"]);
    assert!(sched_flag_names(&entry("sh", 0)).is_empty());
}

#[test]
fn tunnels_and_masks() {
    let mut se = entry("rr", 0);
    se.netmask = u32::from_ne_bytes([255, 255, 255, 0]);
    let d = DestEntry {
        fwd: fwd::TUNNEL,
        tun_type: tun::GUE,
        tun_port: 65535,
        tun_flags: tun::FLAG_CSUM | tun::FLAG_REMCSUM,
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
