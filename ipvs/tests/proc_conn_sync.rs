//! `ipvs::proc::conn_sync` against lines in the kernel's format
//! (`ip_vs_conn_sync_seq_show()`, the same in 6.12 and 7.3): known lines, round trips, the
//! columns it shares with `/proc/net/ip_vs_conn` printed alike, errors that name the field,
//! no panic on any input.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::proc::conn::Conn;
use ipvs::proc::conn_sync::{self, Origin, SyncConn, HEADING};
use ipvs::proc::ProcError;
use ipvs::Protocol;
use proptest::prelude::*;

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn known() -> Vec<(&'static str, SyncConn)> {
    vec![
        (
            "UDP 00000000 0000 0A0403C0 13C4 0A04040B 13C4 NONE        SYNC        58",
            SyncConn {
                protocol: Protocol::Udp,
                client: sa("0.0.0.0:0"),
                virtual_addr: sa("10.4.3.192:5060"),
                dest: sa("10.4.4.11:5060"),
                state: "NONE".into(),
                origin: Origin::Sync,
                expires: 58,
            },
        ),
        (
            "UDP 0A040364 13C4 0A0403C0 13C4 0A04040B 13C4 UDP         LOCAL      119",
            SyncConn {
                protocol: Protocol::Udp,
                client: sa("10.4.3.100:5060"),
                virtual_addr: sa("10.4.3.192:5060"),
                dest: sa("10.4.4.11:5060"),
                state: "UDP".into(),
                origin: Origin::Local,
                expires: 119,
            },
        ),
    ]
}

#[test]
fn known_lines_read_and_print_back() {
    let mut text = format!("{HEADING}\n");
    for (line, entry) in known() {
        assert_eq!(SyncConn::parse_line(line.as_bytes(), 1).unwrap(), entry);
        assert_eq!(entry.to_line(), line);
        text.push_str(line);
        text.push('\n');
    }
    let read: Vec<SyncConn> = conn_sync::read(Cursor::new(text))
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        read,
        known().into_iter().map(|(_, e)| e).collect::<Vec<_>>()
    );
}

#[test]
fn errors_name_the_field() {
    let base = known()[1].0;
    let cases = [
        (base.replace("LOCAL", "OTHER"), "origin"),
        (base.replace("      119", ""), "expiry"),
        (format!("{base} sip x"), "end of line"),
        (base.replace("0A04040B", "0A04040"), "destination address"),
    ];
    for (line, field) in cases {
        match SyncConn::parse_line(line.as_bytes(), 9) {
            Err(e @ ProcError::Line { line: 9, .. }) => {
                assert!(
                    e.to_string()
                        .starts_with(&format!("/proc/net/ip_vs_conn_sync line 9: bad {field}")),
                    "{e}"
                );
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

fn endpoint() -> impl Strategy<Value = SocketAddr> {
    let ip = prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ];
    (ip, any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn entry() -> impl Strategy<Value = SyncConn> {
    (
        (0u16..256).prop_map(Protocol::from_raw),
        (endpoint(), endpoint(), endpoint()),
        "[A-Z_!?-]{1,11}",
        prop_oneof![Just(Origin::Local), Just(Origin::Sync)],
        any::<u32>(),
    )
        .prop_map(
            |(protocol, (client, virtual_addr, dest), state, origin, expires)| SyncConn {
                protocol,
                client,
                virtual_addr,
                dest,
                state,
                origin,
                expires,
            },
        )
}

proptest! {
    #[test]
    fn entries_round_trip(e in entry()) {
        prop_assert_eq!(SyncConn::parse_line(e.to_line().as_bytes(), 1).unwrap(), e);
    }

    #[test]
    fn shared_columns_print_as_in_ip_vs_conn(e in entry()) {
        // The same entry in the other file: the same text up to and including the state.
        let c = Conn {
            protocol: e.protocol,
            client: e.client,
            virtual_addr: e.virtual_addr,
            dest: e.dest,
            state: e.state.clone(),
            expires: e.expires,
            engine: None,
        };
        let (sync, conn) = (e.to_line(), c.to_line());
        let expiry = format!(" {:>7}", e.expires).len();
        let head = conn.len() - expiry;
        prop_assert_eq!(sync.len(), head + " LOCAL ".len() + expiry);
        prop_assert_eq!(&sync.as_bytes()[..head], &conn[..head]);
    }

    #[test]
    fn any_bytes_read_without_panic(text in proptest::collection::vec(any::<u8>(), 0..600)) {
        for r in conn_sync::read(Cursor::new(&text)) {
            if let Err(e) = r {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }
}
