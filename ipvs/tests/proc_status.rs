//! `ipvs::proc::status` against text in the format of 7.x's `ip_vs_status_show()`: a known
//! text, round trips of generated ones, errors that name the line, no panic on any input,
//! and this machine's own file where it has one.

use std::io::Cursor;
use std::os::fd::AsFd;

use ipvs::proc::status::{self, Chains, Share, Status, Table, LENGTHS};
use ipvs::proc::{conn, ProcError};
use proptest::prelude::*;

const KNOWN: &str = "Conns:\t3
Conn buckets:\t256 (8 bits, lfactor -4)
Conn buckets empty:\t253 (98%)
Conn buckets len-1:\t2 (66%)
Conn buckets len-7:\t1 (33%)
Services:\t1
Service buckets:\t16 (4 bits, lfactor -4)
Service buckets empty:\t15 (93%)
Service buckets len-1:\t1 (100%)
Stats thread slots:\t1 (max 16)
Stats chain max len:\t20
Stats thread ests:\t960
";

fn share(count: u64, percent: u64) -> Share {
    Share { count, percent }
}

#[test]
fn the_known_text() {
    let s = Status::parse(Cursor::new(KNOWN)).unwrap();
    let mut conn_lengths = [Share::default(); LENGTHS];
    conn_lengths[0] = share(2, 66);
    conn_lengths[6] = share(1, 33);
    let mut svc_lengths = [Share::default(); LENGTHS];
    svc_lengths[0] = share(1, 100);
    let expected = Status {
        conns: 3,
        conn_table: Table {
            buckets: 256,
            bits: 8,
            lfactor: -4,
            chains: Some(Chains {
                empty: share(253, 98),
                lengths: conn_lengths,
            }),
        },
        services: 1,
        service_table: Table {
            buckets: 16,
            bits: 4,
            lfactor: -4,
            chains: Some(Chains {
                empty: share(15, 93),
                lengths: svc_lengths,
            }),
        },
        stats_threads: 1,
        stats_threads_max: 16,
        stats_chain_max_len: 20,
        stats_thread_ests: 960,
        other: vec![],
    };
    assert_eq!(s, expected);
    assert_eq!(s.to_text(), KNOWN);
}

#[test]
fn an_empty_namespace_has_no_bucket_lines() {
    // No table allocated yet: sizes 0, and no walk of the buckets.
    let text = "Conns:\t0\nConn buckets:\t0 (0 bits, lfactor 0)\nServices:\t0\n\
                Service buckets:\t0 (0 bits, lfactor 0)\nStats thread slots:\t0 (max 4)\n\
                Stats chain max len:\t0\nStats thread ests:\t0\n";
    let s = Status::parse(Cursor::new(text)).unwrap();
    assert!(s.conn_table.chains.is_none() && s.service_table.chains.is_none());
    assert_eq!(s.stats_threads_max, 4);
    assert_eq!(s.to_text(), text);
}

#[test]
fn unknown_lines_are_kept() {
    let text = format!("{KNOWN}Future counter:\t7 (of 9)\n");
    let s = Status::parse(Cursor::new(&text)).unwrap();
    assert_eq!(
        s.other,
        vec![("Future counter".to_owned(), "7 (of 9)".to_owned())]
    );
    assert_eq!(s.to_text(), text);
}

#[test]
fn errors_name_the_line_and_the_field() {
    let cases = [
        (KNOWN.replace("Conns:\t3", "Conns:\tthree"), 1, "Conns"),
        (KNOWN.replace("(8 bits", "(8 bytes"), 2, "table size"),
        (KNOWN.replace("253 (98%)", "253 98%"), 3, "bucket count"),
        (
            KNOWN.replace("Services:\t1\n", "Services 1\n"),
            6,
            "line (no \"name:<tab>value\")",
        ),
        (KNOWN.replace("(max 16)", "(max)"), 10, "Stats thread slots"),
        // A missing line is named, after the last line.
        (KNOWN.replace("Services:\t1\n", ""), 12, "Services"),
    ];
    for (text, line, field) in cases {
        match Status::parse(Cursor::new(&text)) {
            Err(e @ ProcError::Line { .. }) => {
                let ProcError::Line {
                    line: l, field: f, ..
                } = &e
                else {
                    unreachable!()
                };
                assert_eq!((*l, *f), (line, field), "{text}");
                assert!(e
                    .to_string()
                    .starts_with(&format!("/proc/net/ip_vs_status line {line}: bad {field}")));
            }
            other => panic!("{text}: {other:?}"),
        }
    }
}

#[test]
fn this_machines_files_read() {
    // Where the kernel has them (7.x, IPVS loaded); elsewhere, no status and no error.
    let s = status::read().unwrap();
    if let Some(s) = &s {
        assert_eq!(&Status::parse(Cursor::new(s.to_text())).unwrap(), s);
    }
    if let Ok(conns) = conn::open() {
        for c in conns {
            c.unwrap();
        }
    }
    // The same namespace entered by a helper thread (which needs CAP_SYS_ADMIN).
    let own = std::fs::File::open("/proc/thread-self/ns/net").unwrap();
    match status::read_in_netns(own.as_fd()) {
        Ok(other) => assert_eq!(other.is_some(), s.is_some()),
        Err(ProcError::Io { source, .. }) if source.raw_os_error() == Some(libc_eperm()) => {}
        Err(e) => panic!("{e}"),
    }
}

/// `EPERM`, without a dependency for one number.
fn libc_eperm() -> i32 {
    1
}

fn share_strategy() -> impl Strategy<Value = Share> {
    (any::<u32>(), 0u64..=100).prop_map(|(c, percent)| share(c.into(), percent))
}

fn table() -> impl Strategy<Value = Table> {
    let chains = proptest::option::of(
        (
            share_strategy(),
            proptest::array::uniform7(prop_oneof![Just(Share::default()), share_strategy()]),
        )
            .prop_map(|(empty, lengths)| Chains { empty, lengths }),
    );
    (any::<u32>(), 0u32..32, -8i32..=8, chains).prop_map(|(buckets, bits, lfactor, chains)| Table {
        buckets: buckets.into(),
        bits,
        lfactor,
        chains,
    })
}

fn status_strategy() -> impl Strategy<Value = Status> {
    (
        (any::<u32>(), table(), any::<u32>(), table()),
        (any::<u32>(), any::<u64>(), any::<u32>(), any::<u32>()),
        proptest::collection::vec(("Future [a-z]{1,8}", "[ -~]{0,20}"), 0..3),
    )
        .prop_map(
            |((conns, conn_table, services, service_table), (t, max, len, ests), other)| Status {
                conns: conns.into(),
                conn_table,
                services: services.into(),
                service_table,
                stats_threads: t.into(),
                stats_threads_max: max,
                stats_chain_max_len: len.into(),
                stats_thread_ests: ests.into(),
                other,
            },
        )
}

proptest! {
    #[test]
    fn texts_round_trip(s in status_strategy()) {
        // A length whose count is 0 is not printed, so it reads back as 0 whatever its
        // percentage: generate it as the kernel would.
        let mut s = s;
        for t in [&mut s.conn_table, &mut s.service_table] {
            if let Some(c) = &mut t.chains {
                for l in &mut c.lengths {
                    if l.count == 0 {
                        *l = Share::default();
                    }
                }
            }
        }
        prop_assert_eq!(Status::parse(Cursor::new(s.to_text())).unwrap(), s);
    }

    #[test]
    fn any_bytes_read_without_panic(text in proptest::collection::vec(any::<u8>(), 0..400)) {
        if let Err(e) = Status::parse(Cursor::new(text)) {
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn any_lines_of_its_words_read_without_panic(lines in proptest::collection::vec(
        "(Conn|Service|Conns|Services|Stats thread slots) ?(buckets)? ?(empty|len-[0-9]{1,2})?:\t[0-9 ()%a-z,-]{0,20}",
        0..12,
    )) {
        let _ = Status::parse(Cursor::new(lines.join("\n")));
    }
}
