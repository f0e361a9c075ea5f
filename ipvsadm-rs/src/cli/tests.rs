use std::net::{IpAddr, Ipv4Addr};

use super::definition::{command, matches};
use super::*;
use crate::render::key_fields;
use ipvs::{
    DaemonState, Destination, Family, Forward, Netmask, Protocol, Service, ServiceKey, Timeouts,
};

/// The service of an add, the parts of the key ipvsadm's structure has.
fn add(s: &str) -> Service {
    match ok(s).command {
        Command::Change(Change::AddService(s)) => s,
        other => panic!("not an add: {other:?}"),
    }
}

fn add_dest(s: &str) -> (ServiceKey, Destination) {
    match ok(s).command {
        Command::Change(Change::AddDestination(k, d)) => (k, d),
        other => panic!("not an add-server: {other:?}"),
    }
}

fn start_daemon(s: &str) -> ipvs::SyncDaemon {
    match ok(s).command {
        Command::Change(Change::StartDaemon(d)) => d,
        other => panic!("not a start-daemon: {other:?}"),
    }
}

/// (family, protocol, address, port, fwmark) of a key.
fn fields(k: &ServiceKey) -> (Family, Protocol, IpAddr, u16, u32) {
    let (af, p, a, port, mark) = key_fields(k);
    (Family::from_raw(af), Protocol::from_raw(p), a, port, mark)
}

fn args(s: &str) -> Vec<String> {
    std::iter::once("ipvsadm".to_string())
        .chain(s.split_whitespace().map(String::from))
        .collect()
}

fn ok(s: &str) -> Request {
    match parse(&args(s), false) {
        Ok(r) => r,
        Err(e) => panic!("{s}: unexpected exit {} {}", e.code, e.stderr),
    }
}

fn err(s: &str) -> Exit {
    match parse(&args(s), false) {
        Ok(r) => panic!("{s}: unexpectedly accepted: {r:?}"),
        Err(e) => e,
    }
}

#[test]
fn add_service_defaults() {
    let s = add("-A -t 10.0.0.1:80");
    let (af, protocol, _, port, _) = fields(&s.key);
    assert_eq!((af, protocol, port), (Family::Inet, Protocol::Tcp, 80));
    assert_eq!(s.scheduler.name(), "wlc");
    assert_eq!(s.netmask, Netmask::Ipv4(Ipv4Addr::BROADCAST));
    assert_eq!(s.pe_name, None);
}

#[test]
fn persistent_with_and_without_timeout() {
    let s = add("-A -u 10.0.0.1:5060 -p 60 -M 0.0.0.0 -o --pe sip");
    assert_eq!(s.timeout, 60);
    assert_eq!(s.netmask, Netmask::Ipv4(Ipv4Addr::UNSPECIFIED));
    assert_eq!(
        s.flags,
        ipvs::ServiceFlags::PERSISTENT | ipvs::ServiceFlags::ONE_PACKET
    );
    assert_eq!(s.pe_name.as_deref(), Some("sip"));
    assert_eq!(add("-A -t 10.0.0.1:0 -p").timeout, 360);
    let s = add("-A -t 10.0.0.1:0 -p -s rr");
    assert_eq!((s.timeout, s.scheduler.name()), (360, "rr"));
    assert_eq!(err("-A -t 10.0.0.1:80 -p 0").code, 2);
}

#[test]
fn combined_short_options() {
    let r = ok("-Ln");
    assert!(r.format.numeric);
    assert_eq!(r.command, Command::List(ListWhat::All));
    let r = ok("-Lnc");
    assert_eq!(r.command, Command::List(ListWhat::Connections));
    let r = ok("-Lt10.0.0.1:80");
    assert!(matches!(r.command, Command::List(ListWhat::Service(_))));
}

#[test]
fn command_must_come_first() {
    let e = err("-n -L");
    assert_eq!(e.code, 255);
    assert!(e.stderr.starts_with("Try `ipvsadm -h'"));
    assert_eq!(err("").code, 255);
    assert_eq!(err("foo").code, 255);
}

#[test]
fn popt_errors_exit_255() {
    assert_eq!(err("-L --bogus").code, 255);
    assert_eq!(err("-A -t").code, 255);
}

#[test]
fn option_checks_exit_2() {
    let e = err("-A -t 10.0.0.1:80 -r 10.0.0.2");
    assert_eq!(e.code, 2);
    assert_eq!(
        e.stderr,
        "Illegal 'real-server' option with the 'add-service' command\n"
    );
    let e = err("-a -t 10.0.0.1:80");
    assert_eq!(
        e.stderr,
        "You need to supply the 'real-server' option for the 'add-server' command\n"
    );
    let e = err("-L -c --timeout");
    assert_eq!(
        e.stderr,
        "The option 'timeout' conflicts with the 'connection' option in the 'list' command\n"
    );
    assert_eq!(
        err("-L -n -n").stderr,
        "multiple 'numeric' options specified\n"
    );
    assert_eq!(err("-L -A").code, 2);
    assert_eq!(
        err("-L --stats --timeout").stderr,
        "options conflicts in the list command\n"
    );
    assert_eq!(
        err("-A -t 10.0.0.1").stderr,
        "Zero port specified for non-persistent service\n"
    );
    assert_eq!(
        err("-A -t 10.0.0.1:80 -o").stderr,
        "One-Packet Scheduling is only for UDP virtual services\n"
    );
    assert_eq!(err("-A -6 -f 1").stderr, "-6 used before -f\n\n");
    assert_eq!(err("-L foo").stderr, "unexpected argument foo\n");
}

#[test]
fn real_server_port_follows_order() {
    let (k, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -m");
    assert_eq!(
        (fields(&k).3, d.addr.port(), d.forward),
        (80, 80, Forward::Masq)
    );
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -m -w 0");
    assert_eq!((d.addr.port(), d.weight), (8080, 0));
    // Direct routing and tunnels always use the service port.
    let (_, d) = add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2:8080 -g");
    assert_eq!(d.addr.port(), 80);
    // -r before -t copies the port the service had then: none.
    let (_, d) = add_dest("-a -r 10.0.0.2 -t 10.0.0.1:80 -m");
    assert_eq!(d.addr.port(), 0);
}

#[test]
fn ipv6_services_and_servers() {
    let (k, d) = add_dest("-a -t [2001:db8::1]:80 -r [2001:db8::2]:8080 -m");
    assert_eq!(k.family(), Family::Inet6);
    assert_eq!((d.addr.is_ipv6(), d.addr.port()), (true, 8080));
    assert_eq!(add("-A -t [2001:db8::1]:80").netmask, Netmask::Ipv6(128));
    let e = err("-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -m");
    assert_eq!(
        e.stderr,
        "Different address family is allowed only for tunneling servers\n"
    );
    assert!(
        ok("-a -t 10.0.0.1:80 -r [2001:db8::2]:80 -i").command != Command::Change(Change::Flush)
    );
    let s = add("-A -f 7 -6 -M 64");
    assert_eq!(
        (s.key, s.netmask),
        (
            ServiceKey::Fwmark {
                family: Family::Inet6,
                mark: 7
            },
            Netmask::Ipv6(64)
        )
    );
    assert_eq!(
        err("-A -f 7 -6 -M 129").stderr,
        "illegal ipv6 netmask specified\n"
    );
}

#[test]
fn tunnel_options() {
    let (_, d) =
        add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue --tun-port 6080 --tun-csum");
    assert_eq!(
        (d.tunnel.kind, d.tunnel.port, d.tunnel.flags),
        (ipvs::TunnelType::Gue, 6080, ipvs::TunnelFlags::CSUM)
    );
    assert_eq!(
        err("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gue").stderr,
        "You need to supply the 'tun-port' option for the 'gue' tunnel type\n"
    );
    assert_eq!(
        err("-a -t 10.0.0.1:80 -r 10.0.0.2 -m --tun-type gre").stderr,
        "Tunnel options conflict with forward method\n"
    );
    assert_eq!(
        err("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type gre --tun-csum --tun-nocsum").stderr,
        "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gre' tunnel type\n"
    );
    assert_eq!(
        err("-a -t 10.0.0.1:80 -r 10.0.0.2 -i --tun-type ipip --tun-port 5").stderr,
        "Illegal 'tun-port' option with the 'ipip' tunnel type\n"
    );
}

#[test]
fn sched_flags() {
    let s = add("-A -t 10.0.0.1:80 -s sh -b sh-port,sh-fallback");
    assert_eq!(
        s.flags.bits() & ipvs::ServiceFlags::SCHED_MASK.bits(),
        (ipvs::ServiceFlags::SCHED_1 | ipvs::ServiceFlags::SCHED_2).bits()
    );
    assert_eq!(
        err("-A -t 10.0.0.1:80 -b sh-port").stderr,
        "incompatible scheduler flag `sh-port'\n"
    );
    assert_eq!(
        err("-A -t 10.0.0.1:80 -b nope").stderr,
        "invalid scheduler flag `nope'\n"
    );
}

#[test]
fn set_and_daemons() {
    assert_eq!(
        ok("--set 900 120 300").command,
        Command::Change(Change::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300
        }))
    );
    assert_eq!(
        err("--set 1 2").stderr,
        "--set option requires 3 timeout values\n"
    );
    assert_eq!(
        err("--set 1 2 x").stderr,
        "invalid timeout value `x' specified\n"
    );
    let d =
        start_daemon("--start-daemon master --syncid 7 --mcast-group 239.1.2.3 --mcast-port 9000");
    assert_eq!(d.state, DaemonState::Master);
    assert_eq!(d.interface, b"eth0");
    assert_eq!(d.sync_id, 7);
    assert_eq!(d.port, 9000);
    assert_eq!(
        err("--start-daemon master --mcast-group 10.0.0.1").stderr,
        "invalid IPv4 mcast-group `10.0.0.1'\n"
    );
    assert_eq!(
        err("--start-daemon bogus").stderr,
        "illegal start-daemon parameter specified\n"
    );
}

#[test]
fn zero_all_or_one() {
    assert_eq!(ok("-Z").command, Command::Change(Change::Zero(None)));
    assert!(matches!(
        ok("-Z -f 3").command,
        Command::Change(Change::Zero(Some(_)))
    ));
}

#[test]
fn help_and_version_go_to_stdout() {
    let e = err("-h");
    assert_eq!(e.code, 0);
    assert!(String::from_utf8_lossy(&e.stdout).starts_with(VERSION_LINE));
    let e = err("-v");
    assert_eq!(e.stdout, format!("{VERSION_LINE}\n").into_bytes());
    assert_eq!(err("-L -h").code, 2);
}

#[test]
fn json_only_with_list() {
    assert!(ok("-L --json").json);
    assert_eq!(err("-C --json").code, 2);
}

#[test]
fn restore_cannot_nest() {
    assert_eq!(
        parse(&args("-R"), true).map(|_| ()).map_err(|e| e.code),
        Err(255)
    );
    assert_eq!(ok("-R").command, Command::Restore);
}

#[test]
fn ports_at_both_ends() {
    assert_eq!(fields(&add("-A -t 10.0.0.1:65535").key).3, 65535);
    assert_eq!(
        err("-A -t 10.0.0.1:65536").stderr,
        "illegal virtual server address[:port] specified\n"
    );
    assert_eq!(
        err("-A -t 10.0.0.1:0").stderr,
        "Zero port specified for non-persistent service\n"
    );
    assert_eq!(fields(&add("-A -t 10.0.0.1:0 -p").key).3, 0);
    let (_, d) = add_dest("-a -t 10.0.0.1:0 -r 10.0.0.2:65535 -m");
    assert_eq!(d.addr.port(), 65535);
    let v6 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let (af, _, addr, port, _) = fields(&add(&format!("-A -u [{v6}]:65535")).key);
    assert_eq!((af, port), (Family::Inet6, 65535));
    assert_eq!(addr, v6.parse::<IpAddr>().expect("literal"));
}

#[test]
fn largest_fwmark_weight_and_thresholds() {
    assert_eq!(fields(&add("-A -f 4294967295").key).4, u32::MAX);
    assert_eq!(
        err("-A -f 4294967296").stderr,
        "invalid fwmark value `4294967296' specified\n"
    );
    let (_, d) =
        add_dest("-a -t 10.0.0.1:80 -r 10.0.0.2 -w 2147483647 -x 2147483647 -y 2147483647");
    let max = i32::MAX as u32;
    assert_eq!(
        (d.weight, d.upper_threshold, d.lower_threshold),
        (max, max, max)
    );
    for (opt, what) in [
        ("-w", "weight"),
        ("-x", "u_threshold"),
        ("-y", "l_threshold"),
    ] {
        assert_eq!(
            err(&format!("-a -t 10.0.0.1:80 -r 10.0.0.2 {opt} 2147483648")).stderr,
            format!("illegal {what} specified\n")
        );
    }
}

#[test]
fn names_cut_to_the_kernels_buffers() {
    let s = add(&format!(
        "-A -u 10.0.0.1:5060 -s {} --pe {}",
        "s".repeat(15),
        "p".repeat(16)
    ));
    assert_eq!(s.scheduler.name(), "s".repeat(15));
    assert_eq!(s.pe_name, Some("p".repeat(16)));
    // One byte more is cut, as ipvsadm's strncpy cuts it.
    let s = add(&format!(
        "-A -u 10.0.0.1:5060 -s {} --pe {}",
        "s".repeat(16),
        "p".repeat(17)
    ));
    assert_eq!(s.scheduler.name(), "s".repeat(15));
    assert_eq!(s.pe_name, Some("p".repeat(16)));
    let d = start_daemon(&format!(
        "--start-daemon master --mcast-interface {}",
        "i".repeat(16)
    ));
    assert_eq!(d.interface, "i".repeat(15).into_bytes());
}

/// Every option after every command, and with odd values after the commands
/// that take most options: each line is parsed or refused, never a panic.
/// Options that take a host get only values refused before a name lookup,
/// to stay off the network.
#[test]
fn no_command_line_panics() {
    let long = "x".repeat(5000);
    let wide = "é".repeat(40);
    let host_safe = [
        "",
        "12345",
        "1.2.3.4:",
        "1.2.3.4:65536",
        "0x7f000001:0",
        "[",
        "[::1",
        "[::1]",
        "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
    ];
    let odd = [
        "-1",
        " 7",
        "4294967296",
        "99999999999999999999999",
        ",",
        "sh-port,,flag-3",
        "ff02::1",
        "ÿ",
        &wide,
        &long,
    ];
    let hosts = [
        "tcp-service",
        "udp-service",
        "sctp-service",
        "real-server",
        "netmask",
    ];
    let def = command();
    let longs: Vec<&str> = def
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !["completions", "man"].contains(l))
        .collect();
    let line = |words: &[&str]| -> Vec<String> {
        std::iter::once("ipvsadm")
            .chain(words.iter().copied())
            .map(String::from)
            .collect()
    };
    for opt in &longs {
        let opt = format!("--{opt}");
        for cmd in [
            "-A", "-E", "-D", "-C", "-L", "-a", "-e", "-d", "-Z", "--set", "-R", "-S", "-h", "-v",
        ] {
            let _ = parse(&line(&[cmd, &opt]), cmd == "-R");
        }
        let values: Vec<&str> = if hosts.contains(&&opt[2..]) {
            host_safe.to_vec()
        } else {
            host_safe.iter().chain(odd.iter()).copied().collect()
        };
        for v in values {
            for cmd in [&["-a"][..], &["-L"], &["--start-daemon", "master"]] {
                let _ = parse(&line(&[cmd, &[&opt, v]].concat()), false);
            }
        }
    }
}

/// The definition `parse` reuses must give every line what a fresh one
/// gives, whatever lines (accepted, refused by clap or by ipvsadm's checks,
/// help, generators) and program names came before it.
#[test]
fn reused_definition_parses_like_a_fresh_one() {
    let lines = [
        "-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip",
        "-a -u 10.0.0.1:5060 -r 192.168.0.1:5060 -m -w 1",
        "-L --bogus",
        "-A -t",
        "-a -u 10.0.0.1:5060 -r 192.168.0.2 -m -w 1 -x 10 -y 5",
        "-A -t 10.0.0.1:80 -r 10.0.0.2",
        "-A -t 10.0.0.1:80 -s rr -s wlc",
        "-A -t 10.0.0.1:0 -p",
        "-Lnc",
        "-L -n --stats --exact --nosort",
        "--set 1 2 3",
        "--set 1 2",
        "--start-daemon master --mcast-interface eth1 --syncid 7",
        "--stop-daemon",
        "-R",
        "-S -n",
        "-h",
        "-v",
        "-n -L",
        "foo",
        "",
        "--completions bash",
        "--completions nosuchshell",
        "--man",
        "-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip --json",
        "-Lt10.0.0.1:80 --json",
        "-a -t 10.0.0.1:80 -r 10.0.1.1 -i --tun-type gue --tun-port 6080 --tun-csum",
        "-D -t 10.0.0.1:80 --tun-type",
    ];
    let programs = ["ipvsadm", "/usr/sbin/ipvsadm-rs", "", "./other", "ipvsadm"];
    // Twice over, so that every line also follows every other.
    for round in 0..2 {
        for (i, line) in lines.iter().enumerate() {
            let program = programs[(i + round) % programs.len()];
            let argv: Vec<String> = std::iter::once(program)
                .chain(line.split_whitespace())
                .map(String::from)
                .collect();
            let fresh = || command().try_get_matches_from(&argv);
            match (matches(&argv), fresh()) {
                (Ok(reused), Ok(fresh)) => assert_eq!(reused, fresh, "{argv:?}"),
                (Err(reused), Err(fresh)) => {
                    assert_eq!(reused.kind(), fresh.kind(), "{argv:?}");
                    assert_eq!(
                        reused.render().to_string(),
                        fresh.render().to_string(),
                        "{argv:?}"
                    );
                }
                (reused, fresh) => panic!("{argv:?}: {reused:?} but fresh {fresh:?}"),
            }
            for reading_stdin in [false, true] {
                assert_eq!(
                    parse(&argv, reading_stdin),
                    interpret(&argv, fresh(), reading_stdin),
                    "{argv:?}"
                );
            }
        }
    }
}
