use super::*;

fn entry(sched: &str, flags: u32) -> ServiceEntry {
    ServiceEntry {
        key: ServiceKey {
            af: AF_INET,
            protocol: IPPROTO_TCP,
            addr: "10.0.0.1".parse().expect("literal"),
            port: 80,
            fwmark: 0,
        },
        sched_name: sched.into(),
        pe_name: None,
        flags,
        timeout: 0,
        netmask: u32::MAX,
        stats: Stats::default(),
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
        af: AF_INET,
        addr: "10.0.0.2".parse().expect("literal"),
        port: 80,
        fwd: fwd::TUNNEL,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: tun::GUE,
        tun_port: 65535,
        tun_flags: tun::FLAG_CSUM | tun::FLAG_REMCSUM,
        stats: Stats::default(),
    };
    let v = serde_json::to_value(service(&se, &[d])).expect("json");
    assert_eq!(v["netmask"], "255.255.255.0");
    let t = &v["destinations"][0]["tunnel"];
    assert_eq!(
        (&t["type"], &t["port"], &t["checksum"]),
        (&"gue".into(), &65535.into(), &"remote".into())
    );
}
