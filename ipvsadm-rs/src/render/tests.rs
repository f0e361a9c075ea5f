use super::*;

struct LongNames;
impl Names for LongNames {
    fn host(&self, _: &IpAddr) -> Option<Vec<u8>> {
        Some(b"a-rather-long-host-name.in.a.deeply.nested.example.domain".to_vec())
    }
    fn service(&self, _: u16, _: u16) -> Option<Vec<u8>> {
        Some(b"http".to_vec())
    }
}

fn svc(addr: &str, port: u16) -> ServiceEntry {
    let addr: IpAddr = addr.parse().expect("literal");
    ServiceEntry {
        key: ServiceKey {
            af: if addr.is_ipv4() { AF_INET } else { AF_INET6 },
            protocol: IPPROTO_TCP,
            addr,
            port,
            fwmark: 0,
        },
        sched_name: "wlc".into(),
        pe_name: None,
        flags: 0,
        timeout: 0,
        netmask: u32::MAX,
        stats: Stats::default(),
    }
}

fn dest(addr: &str, port: u16) -> DestEntry {
    let addr: IpAddr = addr.parse().expect("literal");
    DestEntry {
        af: if addr.is_ipv4() { AF_INET } else { AF_INET6 },
        addr,
        port,
        fwd: fwd::MASQ,
        weight: 1,
        u_threshold: 0,
        l_threshold: 0,
        active_conns: 0,
        inact_conns: 0,
        persist_conns: 0,
        tun_type: 0,
        tun_port: 0,
        tun_flags: 0,
        stats: Stats::default(),
    }
}

#[test]
fn largenum_scales_like_ipvsadm() {
    assert_eq!(largenum(0, false), "        0");
    assert_eq!(largenum(99_999_999, false), " 99999999");
    assert_eq!(largenum(100_000_000, false), "  100000K");
    assert_eq!(largenum(1_000_000_000, false), "    1000M");
    assert_eq!(largenum(100_000_000_000, false), "     100G");
    assert_eq!(largenum(u64::MAX, false), "18446744T");
    assert_eq!(largenum(123, true), "      123");
    assert_eq!(largenum(u64::MAX, true), " 18446744073709551615");
}

#[test]
fn titles() {
    let f = Format {
        stats: true,
        ..Format::default()
    };
    assert_eq!(
        title(&f),
        "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n"
    );
    let f = Format {
        thresholds: true,
        ..Format::default()
    };
    assert_eq!(
        title(&f),
        "Prot LocalAddress:Port            Uthreshold Lthreshold ActiveConn InActConn \n  -> RemoteAddress:Port\n"
    );
}

#[test]
fn names_are_truncated_like_ipvsadm() {
    let f = Format::default();
    let mut out = Vec::new();
    service_entry(
        &mut out,
        &svc("10.0.0.1", 80),
        &[dest("10.0.0.2", 80)],
        &f,
        &LongNames,
    );
    let text = String::from_utf8(out).expect("utf8");
    let mut lines = text.lines();
    // The service column is cut to 33 bytes and the server column to 28.
    assert_eq!(lines.next(), Some("TCP  a-rather-long-host-name.in.a wlc"));
    assert_eq!(
        lines.next(),
        Some("  -> a-rather-long-host-name.in.a Masq    1      0          0         ")
    );
    // Rules are not cut: ipvsadm's 59-byte cut would make them unrestorable.
    let f = Format {
        rule: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    service_entry(&mut out, &svc("10.0.0.1", 80), &[], &f, &LongNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "-A -t a-rather-long-host-name.in.a.deeply.nested.example.domain:http -s wlc\n"
    );
}

#[test]
fn stats_and_rates() {
    let mut s = svc("10.0.0.1", 80);
    s.stats.conns = 5;
    s.stats.inbytes = 1_500_000_000;
    let mut d = dest("10.0.0.2", 80);
    d.stats.cps = 3;
    d.stats.inbps = 123_456_789_012;
    let f = Format {
        numeric: true,
        stats: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    service_entry(&mut out, &s, &[d.clone()], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "TCP  10.0.0.1:80                         5        0        0    1500M        0\n  -> 10.0.0.2:80                         0        0        0        0        0\n"
    );
    let f = Format {
        numeric: true,
        rate: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    service_entry(&mut out, &s, &[d], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "TCP  10.0.0.1:80                         0        0        0        0        0\n  -> 10.0.0.2:80                         3        0        0     123G        0\n"
    );
}

#[test]
fn tunnel_info_and_rules() {
    let mut d = dest("10.0.0.2", 80);
    d.fwd = fwd::TUNNEL;
    d.tun_type = tun::GUE;
    d.tun_port = 6080;
    d.tun_flags = tun::FLAG_REMCSUM;
    let f = Format {
        numeric: true,
        tun_info: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    service_entry(&mut out, &svc("10.0.0.1", 80), &[d.clone()], &f, &NoNames);
    assert!(String::from_utf8(out).expect("utf8").ends_with(
        "  -> 10.0.0.2:80                  Tunnel  gue:6080:r+c  1      0          0         \n"
    ));
    let f = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    service_entry(&mut out, &svc("10.0.0.1", 80), &[d], &f, &NoNames);
    assert!(String::from_utf8(out).expect("utf8").ends_with(
        "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -i -w 1 --tun-type gue --tun-port 6080 --tun-remcsum\n"
    ));
}

#[test]
fn sorting_keeps_ipvsadms_wrapping_order() {
    // ipvsadm subtracts addresses into an int, so 192.168.x sorts before
    // both 1.x and 10.x, and 1.x before 10.x: not a numeric order.
    let mut v = vec![
        svc("10.0.0.1", 80),
        svc("192.168.0.1", 80),
        svc("1.2.3.4", 80),
    ];
    sort_services(&mut v);
    let order: Vec<String> = v.iter().map(|s| s.key.addr.to_string()).collect();
    assert_eq!(order, ["192.168.0.1", "1.2.3.4", "10.0.0.1"]);
    let mut v = vec![svc("10.0.0.1", 81), svc("10.0.0.1", 80)];
    sort_services(&mut v);
    assert_eq!(v[0].key.port, 80);
}

#[test]
fn fwmarks_above_2_31_print_unsigned() {
    let mut s = svc("0.0.0.0", 0);
    s.key.fwmark = 4_294_967_295;
    s.key.protocol = 0;
    let f = Format {
        rule: true,
        ..Format::default()
    };
    let mut out = Vec::new();
    service_entry(&mut out, &s, &[], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "-A -f 4294967295 -s wlc\n"
    );
}

#[test]
fn daemon_lines() {
    let d = DaemonConfig {
        state: daemon_state::BACKUP,
        mcast_ifn: b"eth1".to_vec(),
        syncid: 3,
        sync_maxlen: 1472,
        mcast_group: Some("224.0.0.81".parse().expect("literal")),
        mcast_port: 8848,
        mcast_ttl: 1,
    };
    assert_eq!(
        daemons(std::slice::from_ref(&d)),
        b"backup sync daemon (mcast=eth1, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
    );
    // Interface names may hold any byte but `/`, `:`, blanks and NUL; they
    // are printed as the kernel has them.
    let d = DaemonConfig {
        state: daemon_state::MASTER,
        mcast_ifn: b"v\xe9th.15-bytes!!".to_vec(),
        syncid: 255,
        sync_maxlen: 0,
        mcast_group: None,
        mcast_port: 0,
        mcast_ttl: 0,
    };
    assert_eq!(
        daemons(&[d]),
        b"master sync daemon (mcast=v\xe9th.15-bytes!!, syncid=255)\n"
    );
}

/// One service line in the given format.
fn service_line(se: &ServiceEntry, f: &Format) -> String {
    let mut out = Vec::new();
    service_entry(&mut out, se, &[], f, &NoNames);
    String::from_utf8(out).expect("utf8")
}

#[test]
fn sched_flags_are_named_per_scheduler() {
    let list = Format {
        numeric: true,
        ..Format::default()
    };
    let rule = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let mut s = svc("10.0.0.1", 80);
    s.sched_name = "sh".into();
    s.flags = svc_flags::SCHED_MASK;
    assert_eq!(
        service_line(&s, &list),
        "TCP  10.0.0.1:80 sh (sh-fallback,sh-port)\n"
    );
    assert_eq!(
        service_line(&s, &rule),
        "-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port\n"
    );
    s.sched_name = "rr".into();
    assert_eq!(
        service_line(&s, &rule),
        "-A -t 10.0.0.1:80 -s rr -b flag-1,flag-2,flag-3\n"
    );
    // ipvsadm has no name for the third flag of sh and mh and prints an empty
    // list; the comparison suite pins that output, so it is kept.
    s.sched_name = "mh".into();
    s.flags = svc_flags::SCHED3;
    assert_eq!(service_line(&s, &list), "TCP  10.0.0.1:80 mh ()\n");
    assert_eq!(service_line(&s, &rule), "-A -t 10.0.0.1:80 -s mh -b \n");
}

#[test]
fn persistence_in_listings_and_rules() {
    let list = Format {
        numeric: true,
        ..Format::default()
    };
    let rule = Format {
        numeric: true,
        rule: true,
        ..Format::default()
    };
    let mut s = svc("10.0.0.1", 5060);
    s.key.protocol = IPPROTO_UDP;
    s.flags = svc_flags::PERSISTENT | svc_flags::ONEPACKET;
    s.timeout = 60;
    s.netmask = 0;
    s.pe_name = Some("sip".into());
    assert_eq!(
        service_line(&s, &list),
        "UDP  10.0.0.1:5060 wlc persistent 60 mask 0.0.0.0 pe sip ops\n"
    );
    assert_eq!(
        service_line(&s, &rule),
        "-A -u 10.0.0.1:5060 -s wlc -p 60 -M 0.0.0.0 --pe sip -o\n"
    );
    let mut s = svc("2001:db8::1", 443);
    s.flags = svc_flags::PERSISTENT;
    s.timeout = 300;
    s.netmask = 64;
    assert_eq!(
        service_line(&s, &list),
        "TCP  [2001:db8::1]:443 wlc persistent 300 mask 64\n"
    );
    assert_eq!(
        service_line(&s, &rule),
        "-A -t [2001:db8::1]:443 -s wlc -p 300 -M 64\n"
    );
    // A single-address granularity is not shown.
    s.netmask = 128;
    assert_eq!(
        service_line(&s, &rule),
        "-A -t [2001:db8::1]:443 -s wlc -p 300\n"
    );
}
