//! `ipvs::proc::conn` against lines in the kernel's format (`ip_vs_conn_seq_show()`, the
//! same in 6.12 and 7.3): known lines of each shape, round trips of generated entries (IPv4,
//! IPv6, mixed families, 255-byte Call-IDs of any bytes, lines longer than ipvsadm 1.31's
//! 256-byte reads), and no panic on any input, with errors that name the line and field.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::proc::conn::{self, Conn, EngineData, HEADING};
use ipvs::proc::{ProcError, MAX_LINE};
use ipvs::Protocol;
use proptest::prelude::*;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Lines as the kernel's `seq_printf` formats print them, and what they say.
fn known() -> Vec<(&'static str, Conn)> {
    let udp = |client: &str, dest: &str, state: &str, expires, engine: Option<&str>| Conn {
        protocol: Protocol::Udp,
        client: sa(client),
        virtual_addr: sa("10.4.3.192:5060"),
        dest: sa(dest),
        state: state.into(),
        expires,
        engine: engine.map(|d| EngineData {
            name: "sip".into(),
            data: d.into(),
        }),
    };
    vec![
        (
            "UDP 00000000 0000 0A0403C0 13C4 0A04040B 13C4 NONE             58 sip a84b4c76e66710@pc33.atlanta.example.com",
            udp("0.0.0.0:0", "10.4.4.11:5060", "NONE", 58, Some("a84b4c76e66710@pc33.atlanta.example.com")),
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP             119",
            udp("10.4.3.100:5060", "10.4.4.11:5060", "UDP", 119, None),
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 2001:0db8:0000:0000:0000:0000:0001:000b 13C4 UDP               3",
            udp("10.4.3.100:5060", "[2001:db8::1:b]:5060", "UDP", 3, None),
        ),
        (
            "TCP 2001:0db8:0000:0000:0000:0000:0000:0064 C350 2001:0db8:0000:0000:0000:0000:0000:00c0 0050 2001:0db8:0000:0000:0000:0000:0001:000b 0050 ESTABLISHED     899",
            Conn {
                protocol: Protocol::Tcp,
                client: sa("[2001:db8::64]:50000"),
                virtual_addr: sa("[2001:db8::c0]:80"),
                dest: sa("[2001:db8::1:b]:80"),
                state: "ESTABLISHED".into(),
                expires: 899,
                engine: None,
            },
        ),
        (
            // A firewall-mark template: protocol IP, the mark as the virtual address.
            "IP  0A040364 0000 00000001 0000 0A04040B 0000 NONE            300",
            Conn {
                protocol: Protocol::Other(0),
                client: sa("10.4.3.100:0"),
                virtual_addr: sa("0.0.0.1:0"),
                dest: sa("10.4.4.11:0"),
                state: "NONE".into(),
                expires: 300,
                engine: None,
            },
        ),
        (
            "SCTP 0A040364 8E3C 0A0403C0 8E3C 0A04040B 8E3C C-ECHOED          0",
            Conn {
                protocol: Protocol::Sctp,
                client: sa("10.4.3.100:36412"),
                virtual_addr: sa("10.4.3.192:36412"),
                dest: sa("10.4.4.11:36412"),
                state: "C-ECHOED".into(),
                expires: 0,
                engine: None,
            },
        ),
    ]
}

#[test]
fn known_lines_read_and_print_back() {
    for (line, conn) in known() {
        assert_eq!(
            Conn::parse_line(line.as_bytes(), 1).unwrap(),
            conn,
            "{line}"
        );
        assert_eq!(String::from_utf8(conn.to_line()).unwrap(), line);
    }
}

#[test]
fn a_whole_file_streams_with_its_heading() {
    let mut text = format!("{HEADING}\n");
    for (line, _) in known() {
        text.push_str(line);
        text.push('\n');
    }
    let read: Vec<Conn> = conn::read(Cursor::new(text)).map(Result::unwrap).collect();
    let expected: Vec<Conn> = known().into_iter().map(|(_, c)| c).collect();
    assert_eq!(read, expected);
    assert_eq!(
        read[0].call_id(),
        Some(&b"a84b4c76e66710@pc33.atlanta.example.com"[..])
    );
    assert_eq!(read[1].call_id(), None);
}

#[test]
fn engine_data_is_kept_as_written() {
    // Blanks inside and around the datum, an empty datum, bytes that are not UTF-8.
    for data in [&b" two  words "[..], b"", b"\xff\xfe@x", b"\t"] {
        let mut line = known()[1].0.as_bytes().to_vec();
        line.extend_from_slice(b" sip ");
        line.extend_from_slice(data);
        let c = Conn::parse_line(&line, 1).unwrap();
        assert_eq!(c.call_id(), Some(data));
        assert_eq!(c.to_line(), line);
    }
}

#[test]
fn errors_name_the_line_and_the_field() {
    let cases: [(&str, &str); 9] = [
        ("UDP", "client address"),
        (
            "XYZ 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP 1",
            "protocol",
        ),
        (
            "UDP 0A04036 13C4 0A0403C0 13C4 0A04040B 13C4 UDP 1",
            "client address",
        ),
        (
            "UDP 0A040364 13C4G 0A0403C0 13C4 0A04040B 13C4 UDP 1",
            "client port",
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 2001:db8 13C4 UDP 1",
            "destination address",
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP",
            "expiry",
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP 4294967296",
            "expiry",
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP 1 sip",
            "engine data",
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP 1\tsip x",
            "expiry",
        ),
    ];
    for (line, field) in cases {
        let text = format!("{HEADING}\n{}\n{line}\n", known()[1].0);
        let results: Vec<_> = conn::read(Cursor::new(text)).collect();
        assert!(results[0].is_ok());
        match &results[1] {
            Err(
                e @ ProcError::Line {
                    line: 3, field: f, ..
                },
            ) => {
                assert_eq!(*f, field, "{line}");
                assert!(
                    e.to_string()
                        .starts_with("/proc/net/ip_vs_conn line 3: bad "),
                    "{e}"
                );
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn a_line_too_long_is_skipped_and_reading_goes_on() {
    let long = "x".repeat(MAX_LINE + 10);
    let text = format!("{long}\n{}\n", known()[1].0);
    let results: Vec<_> = conn::read(Cursor::new(text)).collect();
    assert!(matches!(
        results[0],
        Err(ProcError::LineTooLong { line: 1, .. })
    ));
    assert_eq!(results[1].as_ref().unwrap(), &known()[1].1);
    assert_eq!(results.len(), 2);
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

fn endpoint() -> impl Strategy<Value = SocketAddr> {
    (ip(), any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Tcp),
        Just(Protocol::Udp),
        Just(Protocol::Sctp),
        (0u16..256).prop_map(Protocol::from_raw),
    ]
}

/// Every state name the kernel has (tables of TCP, UDP, SCTP, templates, and its fallbacks).
const STATES: &[&str] = &[
    "NONE",
    "ESTABLISHED",
    "SYN_SENT",
    "SYN_RECV",
    "FIN_WAIT",
    "TIME_WAIT",
    "CLOSE",
    "CLOSE_WAIT",
    "LAST_ACK",
    "LISTEN",
    "SYNACK",
    "UDP",
    "ASSURED",
    "INIT1",
    "C-SENT",
    "C-REPLIED",
    "C-ECHOED",
    "S-ACK-SENT",
    "REJECTED",
    "CLOSED",
    "ERR!",
    "BUG!",
    "?",
];

fn entry() -> impl Strategy<Value = Conn> {
    let engine = proptest::option::of(
        (
            "[a-z]{1,15}",
            // Up to the engine's 255 bytes of anything but a newline.
            proptest::collection::vec(any::<u8>().prop_filter("newline", |&b| b != b'\n'), 0..=255),
        )
            .prop_map(|(name, data)| EngineData { name, data }),
    );
    (
        protocol(),
        (endpoint(), endpoint(), endpoint()),
        prop::sample::select(STATES),
        any::<u32>(),
        engine,
    )
        .prop_map(
            |(protocol, (client, virtual_addr, dest), state, expires, engine)| Conn {
                protocol,
                client,
                virtual_addr,
                dest,
                state: state.into(),
                expires,
                engine,
            },
        )
}

proptest! {
    #[test]
    fn entries_round_trip(c in entry()) {
        let line = c.to_line();
        prop_assert!(line.len() < 450, "the kernel's names and buffers bound a line");
        prop_assert_eq!(Conn::parse_line(&line, 1).unwrap(), c);
    }

    #[test]
    fn files_round_trip(entries in proptest::collection::vec(entry(), 0..20)) {
        let mut text = format!("{HEADING}\n").into_bytes();
        for c in &entries {
            text.extend(c.to_line());
            text.push(b'\n');
        }
        let read: Result<Vec<Conn>, ProcError> = conn::read(Cursor::new(text)).collect();
        prop_assert_eq!(read.unwrap(), entries);
    }

    #[test]
    fn long_call_ids_make_lines_ipvsadm_cannot_read(id in "[!-~]{200,255}") {
        // Three IPv6 addresses and a long Call-ID: longer than ipvsadm 1.31's 256-byte reads.
        let c = Conn {
            protocol: Protocol::Udp,
            client: sa("[2001:db8::64]:5060"),
            virtual_addr: sa("[2001:db8::c0]:5060"),
            dest: sa("[2001:db8::1:b]:5060"),
            state: "NONE".into(),
            expires: 60,
            engine: Some(EngineData { name: "sip".into(), data: id.clone().into_bytes() }),
        };
        let line = c.to_line();
        prop_assert!(line.len() > 256);
        let read = Conn::parse_line(&line, 1).unwrap();
        prop_assert_eq!(read.call_id(), Some(id.as_bytes()));
    }

    #[test]
    fn any_bytes_read_without_panic(text in proptest::collection::vec(any::<u8>(), 0..600)) {
        let mut lines = 0;
        for r in conn::read(Cursor::new(&text)) {
            lines += 1;
            if let Err(e) = r {
                prop_assert!(!e.to_string().is_empty());
            }
        }
        prop_assert!(lines <= text.iter().filter(|&&b| b == b'\n').count() + 1);
    }

    #[test]
    fn any_words_read_without_panic(words in proptest::collection::vec("[0-9A-Fa-f:.IPUDTC_ -]{0,12}", 0..14)) {
        let _ = Conn::parse_line(words.join(" ").as_bytes(), 1);
    }
}
