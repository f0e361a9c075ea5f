use super::fixtures::{dest, fwmark, service as svc, with_protocol};
use super::*;
use ipvs::{DaemonState, Family, Protocol, Stats, SyncDaemon, TunnelFlags, TunnelType};

struct LongNames;
impl Names for LongNames {
    fn host(&self, _: &IpAddr) -> Option<Vec<u8>> {
        Some(b"a-rather-long-host-name.in.a.deeply.nested.example.domain".to_vec())
    }
    fn service(&self, _: u16, _: u16) -> Option<Vec<u8>> {
        Some(b"http".to_vec())
    }
}

/// Numeric listings and numeric rules, the formats most tests compare.
const LIST: Format = Format {
    numeric: true,
    rule: false,
    stats: false,
    rate: false,
    thresholds: false,
    persistent_conn: false,
    nosort: false,
    exact: false,
    tun_info: false,
};
const RULES: Format = Format { rule: true, ..LIST };

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
        stats: true,
        ..LIST
    };
    let mut out = Vec::new();
    service_entry(&mut out, &s, &[d.clone()], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        "TCP  10.0.0.1:80                         5        0        0    1500M        0\n  -> 10.0.0.2:80                         0        0        0        0        0\n"
    );
    let f = Format { rate: true, ..LIST };
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
    d.forward = Forward::Tunnel;
    d.tunnel.kind = TunnelType::Gue;
    d.tunnel.port = 6080;
    d.tunnel.flags = TunnelFlags::REMCSUM;
    let f = Format {
        tun_info: true,
        ..LIST
    };
    let mut out = Vec::new();
    service_entry(&mut out, &svc("10.0.0.1", 80), &[d.clone()], &f, &NoNames);
    assert!(String::from_utf8(out).expect("utf8").ends_with(
        "  -> 10.0.0.2:80                  Tunnel  gue:6080:r+c  1      0          0         \n"
    ));
    let f = RULES;
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
    let order: Vec<String> = v.iter().map(|s| key_fields(&s.key).2.to_string()).collect();
    assert_eq!(order, ["192.168.0.1", "1.2.3.4", "10.0.0.1"]);
    let mut v = vec![svc("10.0.0.1", 81), svc("10.0.0.1", 80)];
    sort_services(&mut v);
    assert_eq!(key_fields(&v[0].key).3, 80);
}

#[test]
fn fwmarks_above_2_31_print_unsigned() {
    let s = fwmark(Family::Inet, 4_294_967_295);
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
    let d = SyncDaemon {
        state: DaemonState::Backup,
        interface: b"eth1".to_vec(),
        sync_id: 3,
        max_len: 1472,
        group: Some("224.0.0.81".parse().expect("literal")),
        port: 8848,
        ttl: 1,
    };
    assert_eq!(
        daemons(std::slice::from_ref(&d)),
        b"backup sync daemon (mcast=eth1, syncid=3, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n"
    );
    // Interface names may hold any byte but `/`, `:`, blanks and NUL; they
    // are printed as the kernel has them.
    let d = SyncDaemon {
        state: DaemonState::Master,
        interface: b"v\xe9th.15-bytes!!".to_vec(),
        sync_id: 255,
        max_len: 0,
        group: None,
        port: 0,
        ttl: 0,
    };
    assert_eq!(
        daemons(&[d]),
        b"master sync daemon (mcast=v\xe9th.15-bytes!!, syncid=255)\n"
    );
}

/// One service line in the given format.
fn service_line(se: &Service, f: &Format) -> String {
    let mut out = Vec::new();
    service_entry(&mut out, se, &[], f, &NoNames);
    String::from_utf8(out).expect("utf8")
}

#[test]
fn sched_flags_are_named_per_scheduler() {
    let mut s = svc("10.0.0.1", 80);
    s.scheduler = "sh".into();
    s.flags = ServiceFlags::SCHED_MASK;
    assert_eq!(
        service_line(&s, &LIST),
        "TCP  10.0.0.1:80 sh (sh-fallback,sh-port)\n"
    );
    assert_eq!(
        service_line(&s, &RULES),
        "-A -t 10.0.0.1:80 -s sh -b sh-fallback,sh-port\n"
    );
    s.scheduler = "rr".into();
    assert_eq!(
        service_line(&s, &RULES),
        "-A -t 10.0.0.1:80 -s rr -b flag-1,flag-2,flag-3\n"
    );
    // ipvsadm has no name for the third flag of sh and mh and prints an empty
    // list; the comparison suite pins that output, so it is kept.
    s.scheduler = "mh".into();
    s.flags = ServiceFlags::SCHED_3;
    assert_eq!(service_line(&s, &LIST), "TCP  10.0.0.1:80 mh ()\n");
    assert_eq!(service_line(&s, &RULES), "-A -t 10.0.0.1:80 -s mh -b \n");
}

#[test]
fn persistence_in_listings_and_rules() {
    let mut s = with_protocol(svc("10.0.0.1", 5060), Protocol::Udp);
    s.flags = ServiceFlags::PERSISTENT | ServiceFlags::ONE_PACKET;
    s.timeout = 60;
    s.netmask = Netmask::Ipv4(Ipv4Addr::UNSPECIFIED);
    s.pe_name = Some("sip".into());
    assert_eq!(
        service_line(&s, &LIST),
        "UDP  10.0.0.1:5060 wlc persistent 60 mask 0.0.0.0 pe sip ops\n"
    );
    assert_eq!(
        service_line(&s, &RULES),
        "-A -u 10.0.0.1:5060 -s wlc -p 60 -M 0.0.0.0 --pe sip -o\n"
    );
    let mut s = svc("2001:db8::1", 443);
    s.flags = ServiceFlags::PERSISTENT;
    s.timeout = 300;
    s.netmask = Netmask::Ipv6(64);
    assert_eq!(
        service_line(&s, &LIST),
        "TCP  [2001:db8::1]:443 wlc persistent 300 mask 64\n"
    );
    assert_eq!(
        service_line(&s, &RULES),
        "-A -t [2001:db8::1]:443 -s wlc -p 300 -M 64\n"
    );
    // A single-address granularity is not shown.
    s.netmask = Netmask::Ipv6(128);
    assert_eq!(
        service_line(&s, &RULES),
        "-A -t [2001:db8::1]:443 -s wlc -p 300\n"
    );
}

fn render_all(se: &Service, dests: &[Destination], f: &Format, names: &dyn Names) -> Vec<u8> {
    let mut out = Vec::new();
    service_entry(&mut out, se, dests, f, names);
    out
}

#[test]
fn longest_names_are_cut_by_bytes_in_listings_and_kept_in_rules() {
    // A 253-byte DNS name whose bytes are not all UTF-8, and a long service
    // name: listings cut at ipvsadm's byte offsets even inside a character.
    let mut host = vec![b'h'; 26];
    host.extend_from_slice("é".as_bytes());
    host.push(0xff);
    host.resize(253, b'x');
    let names = FixedNames {
        host: host.clone(),
        service: b"a-very-long-service-name-from-etc-services".to_vec(),
    };
    let out = render_all(
        &svc("10.0.0.1", 80),
        &[dest("10.0.0.2", 80)],
        &Format::default(),
        &names,
    );
    let mut expected = b"TCP  ".to_vec();
    expected.extend_from_slice(&host[..28]);
    expected.extend_from_slice(b" wlc\n  -> ");
    expected.extend_from_slice(&host[..28]);
    expected.extend_from_slice(b" Masq    1      0          0         \n");
    assert_eq!(out, expected);
    // IPv6 names are cut only at ipvsadm's 59-byte buffer, bracket included.
    let out = render_all(
        &svc("2001:db8::1", 80),
        &[dest("2001:db8::2", 80)],
        &Format::default(),
        &names,
    );
    let mut expected = b"TCP  [".to_vec();
    expected.extend_from_slice(&host[..58]);
    expected.extend_from_slice(b" wlc\n  -> [");
    expected.extend_from_slice(&host[..58]);
    expected.extend_from_slice(b" Masq    1      0          0         \n");
    assert_eq!(out, expected);
    // Rules keep the whole name, so they can be restored.
    let rule = Format {
        rule: true,
        ..Format::default()
    };
    let out = render_all(&svc("10.0.0.1", 80), &[], &rule, &names);
    let mut expected = b"-A -t ".to_vec();
    expected.extend_from_slice(&host);
    expected.extend_from_slice(b":a-very-long-service-name-from-etc-services -s wlc\n");
    assert_eq!(out, expected);
}

#[test]
fn widest_addresses_and_ports() {
    let v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let s = svc(v6, 65535);
    let mut d = dest(v6, 65535);
    d.weight = 0;
    let d0 = dest("255.255.255.255", 0);
    let f = LIST;
    let out = render_all(&s, &[d.clone(), d0.clone()], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        format!(
            "TCP  [{v6}]:65535 wlc\n  \
             -> [{v6}]:65535 Masq    0      0          0         \n  \
             -> 255.255.255.255:0            Masq    1      0          0         \n"
        )
    );
    let f = Format {
        stats: true,
        ..LIST
    };
    let out = render_all(&s, &[d.clone()], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        format!(
            "TCP  [{v6}]:65535        0        0        0        0        0\n  \
             -> [{v6}]:65535        0        0        0        0        0\n"
        )
    );
    let f = RULES;
    let out = render_all(&s, &[d], &f, &NoNames);
    assert_eq!(
        String::from_utf8(out).expect("utf8"),
        format!("-A -t [{v6}]:65535 -s wlc\n-a -t [{v6}]:65535 -r [{v6}]:65535 -m -w 0\n")
    );
}

#[test]
fn counters_near_2_64() {
    let max = Stats {
        conns: u64::MAX,
        inpkts: u64::MAX - 1,
        outpkts: 99_999_999_999_999,
        inbytes: 100_000_000_000_000,
        outbytes: 999_999_999,
        cps: u64::MAX,
        inpps: u64::MAX,
        outpps: u64::MAX,
        inbps: u64::MAX,
        outbps: 100_000_000,
    };
    let mut s = svc("10.0.0.1", 80);
    s.stats = max;
    let mut d = dest("10.0.0.2", 80);
    d.stats = max;
    let fmt = |stats: bool, exact: bool| Format {
        numeric: true,
        stats,
        rate: !stats,
        exact,
        ..Format::default()
    };
    let text = |f: Format| {
        String::from_utf8(render_all(&s, std::slice::from_ref(&d), &f, &NoNames)).expect("utf8")
    };
    assert_eq!(
        text(fmt(true, false)),
        "TCP  10.0.0.1:80                 18446744T18446744T   99999G     100T  999999K\n  \
         -> 10.0.0.2:80                 18446744T18446744T   99999G     100T  999999K\n"
    );
    assert_eq!(
        text(fmt(true, true)),
        "TCP  10.0.0.1:80                  18446744073709551615 18446744073709551614 99999999999999 100000000000000 999999999\n  \
         -> 10.0.0.2:80                  18446744073709551615 18446744073709551614 99999999999999 100000000000000 999999999\n"
    );
    // Servers' first three rates are printed unscaled, as in ipvsadm.
    assert_eq!(
        text(fmt(false, false)),
        "TCP  10.0.0.1:80                 18446744T18446744T18446744T18446744T  100000K\n  \
         -> 10.0.0.2:80                  18446744073709551615 18446744073709551615 1844674407370955161518446744T  100000K\n"
    );
}

#[test]
fn weights_and_thresholds_at_their_maximum() {
    let mut d = dest("10.0.0.2", 80);
    d.weight = i32::MAX as u32;
    d.upper_threshold = u32::MAX;
    d.lower_threshold = u32::MAX;
    d.active_conns = u32::MAX;
    d.inactive_conns = u32::MAX;
    d.persistent_conns = u32::MAX;
    let s = svc("10.0.0.1", 80);
    let text = |f: Format| {
        String::from_utf8(render_all(&s, std::slice::from_ref(&d), &f, &NoNames)).expect("utf8")
    };
    let numeric = LIST;
    assert!(text(numeric)
        .ends_with("  -> 10.0.0.2:80                  Masq    2147483647 4294967295 4294967295\n"));
    assert!(text(Format {
        thresholds: true,
        ..numeric
    })
    .ends_with("  -> 10.0.0.2:80                  4294967295 4294967295 4294967295 4294967295\n"));
    assert!(text(Format {
        persistent_conn: true,
        ..numeric
    })
    .ends_with("  -> 10.0.0.2:80                  2147483647 4294967295  4294967295 4294967295\n"));
    assert!(text(Format {
        rule: true,
        ..numeric
    })
    .ends_with("-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 2147483647\n"));
}

#[test]
fn longest_scheduler_and_engine_names() {
    let mut s = with_protocol(svc("10.0.0.1", 5060), Protocol::Udp);
    s.scheduler = "s".repeat(15).as_str().into();
    s.pe_name = Some("p".repeat(16));
    s.flags = ServiceFlags::PERSISTENT;
    s.timeout = 2_678_400;
    let f = LIST;
    assert_eq!(
        service_line(&s, &f),
        format!(
            "UDP  10.0.0.1:5060 {} persistent 2678400 pe {}\n",
            "s".repeat(15),
            "p".repeat(16)
        )
    );
    let f = Format { rule: true, ..f };
    assert_eq!(
        service_line(&s, &f),
        format!(
            "-A -u 10.0.0.1:5060 -s {} -p 2678400 --pe {}\n",
            "s".repeat(15),
            "p".repeat(16)
        )
    );
}

#[test]
fn largest_fwmarks_list_and_sort() {
    let mark = |m: u32| fwmark(Family::Inet, m);
    let f = LIST;
    let v6 = fwmark(Family::Inet6, u32::MAX);
    assert_eq!(service_line(&mark(u32::MAX), &f), "FWM  4294967295 wlc\n");
    assert_eq!(service_line(&v6, &f), "FWM  4294967295 IPv6 wlc\n");
    // ipvsadm subtracts marks into an int: 2^32-1 - 1 is -2, so the largest
    // mark sorts first.
    let mut v = vec![mark(1), mark(u32::MAX), mark(2)];
    sort_services(&mut v);
    let order: Vec<u32> = v.iter().map(|s| key_fields(&s.key).4).collect();
    assert_eq!(order, [u32::MAX, 1, 2]);
}
