//! The `--drain` command line: what it accepts, and each refusal, made
//! before anything reaches the kernel.

use std::net::{IpAddr, Ipv6Addr};

use ipvs::{Family, Protocol, ServiceKey as Key};

use super::*;

fn line(words: &str) -> Vec<String> {
    std::iter::once("ipvsadm-rs")
        .chain(words.split_whitespace())
        .map(String::from)
        .collect()
}

/// The drain a line asks for (`None`: another run).
fn request(words: &str) -> Option<Result<DrainRequest, Exit>> {
    match crate::cli::recognise(&line(words)) {
        Ok(crate::cli::Run::Drain(r)) => Some(Ok(r)),
        Ok(_) => None,
        Err(e) if e.code == 2 => Some(Err(e)),
        Err(_) => None,
    }
}

fn ok(words: &str) -> DrainRequest {
    match request(words) {
        Some(Ok(r)) => r,
        other => panic!("{words}: {other:?}"),
    }
}

/// The line is refused with status 2 and a message containing `why`.
fn refused(words: &str, why: &str) {
    match request(words) {
        Some(Err(e)) => {
            assert_eq!(e.code, 2, "{words}: {e:?}");
            assert!(e.stdout.is_empty(), "{words}: {e:?}");
            assert!(
                e.stderr.contains(why),
                "{words}: {:?} lacks {why:?}",
                e.stderr
            );
            assert!(e.stderr.ends_with('\n'), "{words}: {e:?}");
        }
        other => panic!("{words}: not refused: {other:?}"),
    }
}

fn udp(addr: &str) -> Key {
    Key::Inet {
        protocol: Protocol::Udp,
        addr: addr.parse().unwrap(),
    }
}

#[test]
fn other_lines_are_not_drains() {
    for words in [
        "-Ln",
        "-d -u 10.0.0.1:5060 -r 10.0.0.2",
        "--pe-stats",
        "-L --timeout",
    ] {
        assert_eq!(request(words), None, "{words}");
    }
}

#[test]
fn a_drain_names_a_service_and_a_server() {
    assert_eq!(
        ok("--drain -u 10.0.0.1:5060 -r 10.0.0.2:5060"),
        DrainRequest {
            service: udp("10.0.0.1:5060"),
            server: "10.0.0.2:5060".parse().unwrap(),
            timeout: None,
            force_delete: false,
        }
    );
    // In any order, in any spelling popt reads.
    assert_eq!(
        ok("-r10.0.0.2:5060 --udp-service=10.0.0.1:5060 --drain --timeout=600"),
        DrainRequest {
            service: udp("10.0.0.1:5060"),
            server: "10.0.0.2:5060".parse().unwrap(),
            timeout: Some(Duration::from_secs(600)),
            force_delete: false,
        }
    );
    let r = ok("--drain -t 10.0.0.1:80 -r 10.0.0.2:8080 --timeout 30 --force-delete");
    assert_eq!(r.service.to_string(), "tcp 10.0.0.1:80");
    assert_eq!(r.server, "10.0.0.2:8080".parse().unwrap());
    assert_eq!(
        (r.timeout, r.force_delete),
        (Some(Duration::from_secs(30)), true)
    );
    let r = ok("--drain --sctp-service 10.0.0.1:9 -r 10.0.0.2");
    assert_eq!(r.service.to_string(), "sctp 10.0.0.1:9");
}

#[test]
fn the_server_takes_the_services_port_unless_given() {
    assert_eq!(
        ok("--drain -u 10.0.0.1:5060 -r 10.0.0.2").server.port(),
        5060
    );
    assert_eq!(
        ok("--drain -u 10.0.0.1:5060 -r 10.0.0.2:5070")
            .server
            .port(),
        5070
    );
    assert_eq!(
        ok("--drain -u [fd00::1]:5060 -r [fd00::2]:5061")
            .server
            .port(),
        5061
    );
    // A firewall-mark service has no port: its servers' is 0 unless given.
    assert_eq!(ok("--drain -f 7 -r 10.0.0.2").server.port(), 0);
}

#[test]
fn firewall_mark_services_and_their_family() {
    assert_eq!(
        ok("--drain -f 7 -r 10.0.0.2:5060").service,
        Key::Fwmark {
            family: Family::Inet,
            mark: 7
        }
    );
    let r = ok("--drain -f 7 -6 -r [fd00::2]:5060");
    assert_eq!(
        r.service,
        Key::Fwmark {
            family: Family::Inet6,
            mark: 7
        }
    );
    assert_eq!(
        r.server.ip(),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2))
    );
}

#[test]
fn bad_lines_say_what_is_wrong() {
    // What is missing.
    refused("--drain -r 10.0.0.2", "--tcp-service");
    refused("--drain -u 10.0.0.1:5060", "--real-server");
    // Two services, or an option given twice.
    refused(
        "--drain -u 10.0.0.1:5060 -t 10.0.0.1:80 -r 10.0.0.2",
        "cannot be used with",
    );
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 -r 10.0.0.3",
        "cannot be used multiple times",
    );
    refused(
        "--drain --drain -u 10.0.0.1:5060 -r 10.0.0.2",
        "cannot be used multiple times",
    );
    // What a drain does not take.
    refused("--drain -u 10.0.0.1:5060 -r 10.0.0.2 -w 0", "-w");
    refused("--drain -u 10.0.0.1:5060 -r 10.0.0.2 -m", "-m");
    refused("-d --drain -u 10.0.0.1:5060 -r 10.0.0.2", "-d");
    refused("--drain -u 10.0.0.1:5060 -r 10.0.0.2 extra", "extra");
    refused("--drain=yes -u 10.0.0.1:5060 -r 10.0.0.2", "--drain");
    // Values.
    refused(
        "--drain -u 10.0.0.1:99999 -r 10.0.0.2",
        "illegal virtual server",
    );
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2:0x",
        "illegal real server",
    );
    refused("--drain -f 0 -r 10.0.0.2", "invalid fwmark value");
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout soon",
        "--timeout",
    );
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout -5",
        "--timeout",
    );
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout",
        "--timeout",
    );
    // A timeout shorter than the idle time a delete needs could never end
    // with a delete.
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout 1",
        "at least",
    );
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout 0",
        "at least",
    );
    assert!(request("--drain -u 10.0.0.1:5060 -r 10.0.0.2 --timeout 2").is_some_and(|r| r.is_ok()));
    // Combinations.
    refused(
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2 --force-delete",
        "--timeout",
    );
    refused("--drain -u 10.0.0.1:5060 -6 -r 10.0.0.2", "-6 goes with -f");
}

/// ipvsadm's own parser refuses what only a drain takes, rather than
/// ignoring it: a `-R` line cannot drain, and `--force-delete` alone is no
/// command.
#[test]
fn ipvsadms_parser_refuses_drain_options() {
    for words in [
        "--force-delete",
        "-d -u 10.0.0.1:5060 -r 10.0.0.2 --force-delete",
        "--drain -u 10.0.0.1:5060 -r 10.0.0.2",
    ] {
        let r = crate::cli::parse(&line(words), true);
        assert!(matches!(r, Err(ref e) if e.code != 0), "{words}: {r:?}");
    }
}

/// The definition the man page and completions are generated from shows
/// both options.
#[test]
fn the_man_page_has_the_drain_options() {
    let cmd = crate::cli::command();
    for id in [DRAIN.long, FORCE_DELETE.long] {
        let a = cmd
            .get_arguments()
            .find(|a| a.get_id() == id)
            .unwrap_or_else(|| panic!("--{id} in the definition"));
        assert!(!a.is_hide_set(), "--{id} is shown");
    }
    let long = cmd
        .get_arguments()
        .find(|a| a.get_id() == DRAIN.long)
        .and_then(|a| a.get_long_help())
        .map(ToString::to_string)
        .unwrap_or_default();
    for status in [
        "\n  0    deleted",
        "\n  3    timed out",
        "\n  4    timed out",
        "\n  5    refused",
        "\n  128+N  stopped",
    ] {
        assert!(
            long.contains(status),
            "the exit status {status:?} in {long:?}"
        );
    }
}
