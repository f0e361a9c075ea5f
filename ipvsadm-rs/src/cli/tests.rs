//! What holds for every line, whatever its options: each option's own tests
//! are beside its definition (`defs/`).

use super::definition::{command, events, matches, rest};
use super::defs::testing::{args, err};
use super::*;

/// `parse` with clap alone (no plain path), as the line's meaning would be
/// if clap read every line.
pub(crate) fn parse_by_clap<S: AsRef<str>>(
    argv: &[S],
    reading_stdin: bool,
) -> Result<Request, Exit> {
    let m = matches(argv).map_err(clap_refusal)?;
    replay::meaning(program_name(argv), &events(&m), rest(&m), reading_stdin)
}

#[test]
fn command_must_come_first() {
    let e = err("-n -L");
    assert_eq!(e.code, 255);
    assert!(e.stderr.starts_with("Try `ipvsadm -h'"));
    assert_eq!(err("").code, 255);
    assert_eq!(err("foo").code, 255);
    assert_eq!(err("-L -A").code, 2);
}

#[test]
fn popt_errors_exit_255() {
    assert_eq!(err("-L --bogus").code, 255);
    assert_eq!(err("-A -t").code, 255);
}

/// A line that names no program still names one in its messages.
#[test]
fn the_program_is_ipvsadm_rs_by_default() {
    let none: [&str; 0] = [];
    assert_eq!(program_name(&none), "ipvsadm-rs");
    let e = parse(&none, false).expect_err("no command");
    assert!(e.stderr.contains("ipvsadm-rs -h"), "{}", e.stderr);
    let _ = args("");
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
                    parse_by_clap(&argv, reading_stdin),
                    "{argv:?}"
                );
            }
        }
    }
}
