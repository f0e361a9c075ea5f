use super::*;
use crate::render::key_fields;
use ipvs::{DaemonState, Destination, Family, Forward, Netmask, Protocol, Service, ServiceKey};

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
fn tables_have_one_column_per_option() {
    for row in COMMANDS_V_OPTIONS {
        assert_eq!(row.len(), NUMBER_OF_OPT, "{row}");
    }
    assert_eq!(TUNNEL_TYPES_V_OPTIONS.len(), TUN_NAMES.len());
    for row in TUNNEL_TYPES_V_OPTIONS {
        assert_eq!(row.len(), TUN_OPTS.len(), "{row}");
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
fn numbers_follow_strtol() {
    assert_eq!(string_to_number(" 5", 0, 10), Some(5));
    assert_eq!(string_to_number("+5", 0, 10), Some(5));
    assert_eq!(string_to_number("5 ", 0, 10), None);
    assert_eq!(string_to_number("", 0, 10), None);
    assert_eq!(string_to_number("99999999999999999999", 0, 10), None);
    assert_eq!(atoi("64abc"), 64);
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

/// Every option but the generators is read by [`plain_events`], under every
/// spelling clap knows, so the fast path covers all plainly written lines.
#[test]
fn plain_options_are_all_the_options() {
    let def = command();
    let mut written = 0;
    for a in def.get_arguments() {
        let id = a.get_id().as_str();
        if a.is_positional() || NOT_OPTIONS.contains(&id) {
            continue;
        }
        for word in spellings(a) {
            let Some((found, takes)) = plain_options().get(&word) else {
                panic!("{word} is not read plainly");
            };
            assert_eq!(found, id, "{word}");
            let expected = match id {
                "persistent" => Takes::MaybeValue,
                _ if a.get_value_names().is_some() => Takes::Value,
                _ => Takes::Nothing,
            };
            assert_eq!(*takes, expected, "{word}");
            written += 1;
        }
    }
    assert_eq!(plain_options().len(), written);
    for line in [
        "-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip",
        "-a -u 10.0.0.1:5060 -r 192.168.0.1:5060 -m -w 1",
    ] {
        assert!(plain_events(&args(line)).is_some(), "{line}");
    }
}

/// A small deterministic generator (xorshift64*), to need no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// The values a generated line gives an option: names only where no host
/// name is read (so no lookup leaves the machine), hyphens only where clap
/// takes them as values.
fn generated_value(rng: &mut Rng, id: &str) -> String {
    let hosts = [
        "10.0.0.1:5060",
        "10.0.0.1",
        "0.0.0.0",
        "192.168.0.2:5060",
        "[::1]:80",
        "::1",
        "[fe80::1]:5060",
        "12345",
        "1.2.3.4:",
        "1.2.3.4:65536",
        "0x7f000001:0",
        "[",
        "[::1",
        "[::1]",
        "",
    ];
    let masks = ["0.0.0.0", "255.255.255.0", "24", "128", "1.2.3.4:", ""];
    let numbers = [
        "0",
        "1",
        "60",
        "255",
        "65535",
        "65536",
        "4294967296",
        "-1",
        "+5",
        " 7",
        "x",
        "",
        "\0",
        "-m",
        "--",
    ];
    let names: &[&str] = match id {
        "tcp-service" | "udp-service" | "sctp-service" | "real-server" => &hosts,
        "netmask" => &masks,
        "scheduler" => &["rr", "wlc", "sh", "mh", "ssssssssssssssssss", "-s", ""],
        "pe" => &["sip", "none", "é", "pppppppppppppppppp"],
        "start-daemon" | "stop-daemon" => &["master", "backup", "other", "-n"],
        "tun-type" => &["ipip", "gue", "gre", "x"],
        "sched-flags" => &["flag-1", "sh-port", "sh-fallback,mh-port", ",", ""],
        "mcast-interface" => &["eth0", "eth1", "iiiiiiiiiiiiiiiiiiii"],
        "mcast-group" => &["224.0.0.81", "ff02::1", "10.0.0.1", "x"],
        _ => &numbers,
    };
    rng.pick(names).to_string()
}

/// [`parse`] reads plainly written lines without clap: over many generated
/// lines, valid and not, written plainly or not, it must give exactly what
/// clap's matching gives, and every line it reads plainly must be one clap
/// accepts with the same option occurrences, in the same order.
#[test]
fn plain_lines_parse_as_clap_parses_them() {
    let def = command();
    let options: Vec<(String, String)> = def
        .get_arguments()
        .filter(|a| !a.is_positional())
        .flat_map(|a| {
            let id = a.get_id().to_string();
            spellings(a)
                .map(move |w| (w, id.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    // Words that are no option, or not plainly one; none of them is read as
    // a host name wherever it lands.
    let strays = [
        "0",
        "1",
        "60",
        "3",
        "10.0.0.1:5060",
        "0.0.0.0",
        "12345",
        "1.2.3.4:",
        "",
        "-",
        "--",
        "---",
        "-mo",
        "-Lnc",
        "-w1",
        "-p60",
        "-p-1",
        "-6",
        "-5",
        "-q",
        "--bogus",
        "--udp",
        "--pe=sip",
        "--persistent=60",
        "--json=1",
        "-u10.0.0.1:80",
        "-M0.0.0.0",
        "--tcp-service=10.0.0.1:80",
        "\0",
        "a\0b",
        "-\0",
        "bash",
    ];
    let programs = ["ipvsadm", "/usr/sbin/ipvsadm-rs", ""];
    let pairs = |evs: &[Event<'_>]| -> Vec<(String, Option<String>)> {
        evs.iter()
            .map(|e| (e.id.to_string(), e.value.as_ref().map(ToString::to_string)))
            .collect()
    };
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut plain, mut not_plain, mut accepted) = (0, 0, 0);
    for _ in 0..20_000 {
        let mut argv = vec![rng.pick(&programs).to_string()];
        // Half the lines start as a rule would, so that many are accepted.
        if rng.below(2) == 0 {
            let cmd = rng.pick(&["-A", "-E", "-D", "-a", "-e", "-d", "-L", "-Z", "-S"]);
            argv.push(cmd.to_string());
            let (svc, addr) = match rng.below(4) {
                0 => ("-t", "10.0.0.1:80"),
                1 => ("--udp-service", "10.0.0.1:5060"),
                2 => ("-u", "[fe80::1]:5060"),
                _ => ("-f", "1"),
            };
            argv.extend([svc, addr].map(String::from));
            if ["-a", "-e", "-d"].contains(&cmd) {
                let rs = rng.pick(&["192.168.0.1:5060", "192.168.0.1", "[::2]:5060"]);
                argv.extend(["-r", rs].map(String::from));
            }
        }
        let items = rng.below(6);
        for item in 0..items {
            if rng.below(5) == 0 {
                argv.push(rng.pick(&strays).to_string());
                continue;
            }
            let (word, id) = &options[rng.below(options.len())];
            argv.push(word.clone());
            let takes = def
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(Arg::get_num_args)
                .map_or(0, |n| n.max_values());
            let last = item + 1 == items;
            // A value-taking option goes without one only at the end, where
            // no following word can be taken for a host name.
            if id == "persistent" {
                if rng.below(2) == 0 {
                    argv.push(generated_value(&mut rng, id));
                }
            } else if id == "completions" {
                if !last || rng.below(10) != 0 {
                    argv.push(rng.pick(&["bash", "zsh", "nosuch"]).to_string());
                }
            } else if takes == 1 && (!last || rng.below(10) != 0) {
                argv.push(generated_value(&mut rng, id));
            }
        }
        match plain_events(&argv) {
            Some(evs) => {
                plain += 1;
                let m = match matches(&argv) {
                    Ok(m) => m,
                    Err(e) => panic!("{argv:?} read plainly, but clap says {e}"),
                };
                assert_eq!(m.get_many::<String>("args").map(Iterator::count), None);
                assert_eq!(pairs(&evs), pairs(&events(&m)), "{argv:?}");
                accepted += usize::from(parse(&argv, false).is_ok());
            }
            None => not_plain += 1,
        }
        for reading_stdin in [false, true] {
            assert_eq!(
                parse(&argv, reading_stdin),
                interpret(&argv, matches(&argv), reading_stdin),
                "{argv:?}"
            );
        }
    }
    // Both ways are well exercised, and so are accepted plain lines.
    assert!(
        plain > 5_000 && not_plain > 5_000,
        "{plain} plain, {not_plain} not"
    );
    assert!(accepted > 1_000, "{accepted} plain lines accepted");
}
