//! The codec against neli's framing: round trips of every object, the
//! byte layout ipvsadm sends, and replies that are short, odd or random.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use neli::consts::nl::NlmF;
use neli::genl::{Genlmsghdr, GenlmsghdrBuilder};
use neli::nl::{NlPayload, Nlmsghdr, NlmsghdrBuilder};
use neli::types::{Buffer, GenlBuffer, NlBuffer};
use neli::{FromBytesWithInput, ToBytes};
use proptest::prelude::*;

use super::*;

/// Top-level attributes written by neli and read back by neli, as they
/// travel to and from the kernel.
fn through_neli(top: &Attrs) -> GenlBuffer<u16, Buffer> {
    let bytes = to_bytes(top);
    GenlBuffer::from_bytes_with_input(&mut Cursor::new(&bytes), bytes.len()).expect("parse")
}

/// The bytes of attributes as neli writes them.
fn to_bytes(attrs: &Attrs) -> Vec<u8> {
    let mut c = Cursor::new(Vec::new());
    attrs
        .build()
        .expect("build")
        .to_bytes(&mut c)
        .expect("serialise");
    c.into_inner()
}

/// Parses attribute bytes and hands the reader to `f`; malformed framing
/// is an error of its own, never a panic.
fn read<T>(bytes: &[u8], f: impl FnOnce(&Reader<'_>) -> T) -> Option<T> {
    let buf: GenlBuffer<u16, Buffer> =
        GenlBuffer::from_bytes_with_input(&mut Cursor::new(bytes), bytes.len()).ok()?;
    Some(f(&Reader::new(buf.get_attr_handle())))
}

/// One attribute as the kernel lays it out: length, type, payload, padding.
fn tlv(ty: u16, payload: &[u8]) -> Vec<u8> {
    let mut v = ((payload.len() + 4) as u16).to_ne_bytes().to_vec();
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(payload);
    v.resize(v.len().next_multiple_of(4), 0);
    v
}

/// The bytes nested in the only top-level attribute of `top`.
fn inner(top: &Attrs) -> Vec<u8> {
    let built = top.build().expect("build");
    assert_eq!(built.len(), 1);
    built
        .iter()
        .next()
        .map(|a| a.nla_payload().as_ref().to_vec())
        .unwrap_or_default()
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("literal")
}

#[test]
fn service_requests_are_laid_out_like_ipvsadms() {
    let mut s = Service::new(ServiceKey::udp(SocketAddr::new(ip("10.0.0.1"), 65535)));
    s.scheduler = Scheduler::RoundRobin;
    s.pe_name = Some("sip".into());
    s.flags = ServiceFlags::PERSISTENT;
    s.timeout = 60;
    s.netmask = Netmask::Ipv4(Ipv4Addr::UNSPECIFIED);
    let mut addr = [0u8; 16];
    addr[..4].copy_from_slice(&[10, 0, 0, 1]);
    let mut flags = 1u32.to_ne_bytes().to_vec();
    flags.extend_from_slice(&u32::MAX.to_ne_bytes());
    let expected = [
        tlv(svc::AF, &(libc::AF_INET as u16).to_ne_bytes()),
        tlv(svc::PROTOCOL, &(libc::IPPROTO_UDP as u16).to_ne_bytes()),
        tlv(svc::ADDR, &addr),
        tlv(svc::PORT, &[0xff, 0xff]),
        tlv(svc::SCHED_NAME, b"rr\0"),
        tlv(svc::PE_NAME, b"sip\0"),
        tlv(svc::FLAGS, &flags),
        tlv(svc::TIMEOUT, &60u32.to_ne_bytes()),
        tlv(svc::NETMASK, &0u32.to_ne_bytes()),
    ]
    .concat();
    let (command, top) = change(&Change::AddService(s));
    assert_eq!(command, cmd::NEW_SERVICE);
    assert_eq!(inner(&top), expected);
    // A fwmark service is identified by its mark alone.
    let k = ServiceKey::Fwmark {
        family: Family::Inet6,
        mark: u32::MAX,
    };
    let (command, top) = change(&Change::DeleteService(k));
    assert_eq!(command, cmd::DEL_SERVICE);
    assert_eq!(
        inner(&top),
        [
            tlv(svc::AF, &(libc::AF_INET6 as u16).to_ne_bytes()),
            tlv(svc::FWMARK, &u32::MAX.to_ne_bytes()),
        ]
        .concat()
    );
}

#[test]
fn daemon_interface_names_keep_their_bytes() {
    let d = SyncDaemon {
        sync_id: 255,
        ..SyncDaemon::new(DaemonState::Backup, b"v\xe9th0".to_vec())
    };
    let (command, top) = change(&Change::StopDaemon(d.clone()));
    assert_eq!(command, cmd::DEL_DAEMON);
    let expected = [
        tlv(daemon::STATE, &2u32.to_ne_bytes()),
        tlv(daemon::MCAST_IFN, b"v\xe9th0\0"),
        tlv(daemon::SYNC_ID, &255u32.to_ne_bytes()),
    ]
    .concat();
    assert_eq!(inner(&top), expected);
    // And back, as the kernel answers a daemon dump.
    let reply = tlv(attr::DAEMON, &expected);
    assert_eq!(read(&reply, read_daemon), Some(Ok(d)));
}

/// A batch serialised as one neli buffer holds the same bytes as each
/// message serialised on its own, one after the other.
#[test]
fn batched_messages_are_laid_out_one_after_the_other() {
    let key = ServiceKey::udp(SocketAddr::new(ip("10.0.0.1"), 5060));
    let mut s = Service::new(key);
    s.flags = ServiceFlags::PERSISTENT | ServiceFlags::ONE_PACKET;
    s.pe_name = Some("sip".into());
    let mut d = Destination::new(SocketAddr::new(ip("192.168.0.1"), 5060));
    d.forward = Forward::Masq;
    let changes = [
        Change::AddService(s),
        Change::AddDestination(key, d.clone()),
        Change::Flush,
        Change::StartDaemon(SyncDaemon::new(DaemonState::Master, "eth10")),
        Change::SetTimeouts(Timeouts::default()),
        Change::DeleteDestination(key, d.addr),
    ];
    let mut batch = NlBuffer::new();
    let mut separate = Vec::new();
    for (seq, c) in (1..).zip(&changes) {
        let (command, attrs) = change(c);
        let genl: Genlmsghdr<u8, u16> = GenlmsghdrBuilder::default()
            .cmd(command)
            .version(ids::VERSION)
            .attrs(attrs.build().expect("build"))
            .build()
            .expect("genl");
        let msg: Nlmsghdr<u16, _> = NlmsghdrBuilder::default()
            .nl_type(0x20u16)
            .nl_flags(NlmF::REQUEST | NlmF::ACK)
            .nl_seq(seq)
            .nl_payload(NlPayload::Payload(genl))
            .build()
            .expect("message");
        let mut own = Cursor::new(Vec::new());
        msg.to_bytes(&mut own).expect("serialise");
        separate.extend_from_slice(own.get_ref());
        batch.push(msg);
    }
    let mut all = Cursor::new(Vec::new());
    batch.to_bytes(&mut all).expect("serialise");
    assert_eq!(all.into_inner(), separate);
}

#[test]
fn replies_that_are_short_or_odd_are_errors_not_panics() {
    // Truncated headers, lengths past the end, and lengths below the
    // header size are framing errors.
    for bytes in [
        &[8, 0][..],
        &[200, 0, 1, 0, 1, 2, 3, 4][..],
        &[2, 0, 1, 0, 9, 9, 9, 9][..],
    ] {
        assert!(read(bytes, |_| ()).is_none(), "{bytes:?}");
    }
    // Attributes too short for their type read as absent.
    let p = [tlv(svc::AF, &[2]), tlv(svc::FLAGS, &[1, 0, 0, 0])].concat();
    assert_eq!(read(&p, |r| r.u16(svc::AF)), Some(None));
    assert!(matches!(
        read(&tlv(attr::SERVICE, &p), read_service),
        Some(Err(_))
    ));
    let d = tlv(attr::DEST, &tlv(dest::ADDR, &[1, 2]));
    assert!(matches!(
        read(&d, |r| read_destination(r, Family::Inet)),
        Some(Err(_))
    ));
    let g = tlv(attr::DAEMON, &tlv(daemon::MCAST_GROUP6, &[0xff; 8]));
    assert!(matches!(read(&g, read_daemon), Some(Err(_))));
    // Counters of odd widths are ignored; 64-bit ones are read whole.
    let st = [
        tlv(stats::CONNS, &[1, 2, 3]),
        tlv(4, &u64::MAX.to_ne_bytes()),
        tlv(6, &7u32.to_ne_bytes()),
    ]
    .concat();
    let s = read(&st, read_stats).expect("framing");
    assert_eq!((s.conns, s.inbytes, s.cps), (0, u64::MAX, 7));
}

#[test]
fn unknown_values_are_kept() {
    let mut s = Service::new(ServiceKey::Inet {
        protocol: Protocol::Other(253),
        addr: SocketAddr::new(ip("10.0.0.1"), 1),
    });
    s.scheduler = Scheduler::from("future");
    s.flags = ServiceFlags::from_bits(0x8000_0001);
    let top = Attrs::default().nested(attr::SERVICE, service(&s, Part::Listing));
    let back = read_service(&Reader::new(through_neli(&top).get_attr_handle()));
    assert_eq!(back, Ok(s));
}

fn ip_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(IpAddr::from),
        any::<[u8; 16]>().prop_map(IpAddr::from),
    ]
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    (ip_addr(), any::<u16>()).prop_map(|(a, p)| SocketAddr::new(a, p))
}

fn stats_strategy() -> impl Strategy<Value = Stats> {
    any::<[u64; 10]>().prop_map(stats_from)
}

fn family() -> impl Strategy<Value = Family> {
    any::<u16>().prop_map(Family::from_raw)
}

fn service_key_strategy() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (any::<u16>(), socket_addr()).prop_map(|(p, addr)| ServiceKey::Inet {
            protocol: Protocol::from_raw(p),
            addr,
        }),
        (family(), any::<u32>()).prop_map(|(family, mark)| ServiceKey::Fwmark { family, mark }),
    ]
}

fn service_strategy() -> impl Strategy<Value = Service> {
    (
        service_key_strategy(),
        "[a-z]{1,15}",
        any::<u32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::option::of("[a-z]{1,15}"),
        stats_strategy(),
    )
        .prop_map(
            |(key, sched, flags, timeout, mask, pe_name, stats)| Service {
                scheduler: Scheduler::from(sched.as_str()),
                flags: ServiceFlags::from_bits(flags),
                timeout,
                netmask: Netmask::from_raw(key.family(), mask),
                pe_name,
                stats,
                key,
            },
        )
}

fn destination_strategy() -> impl Strategy<Value = Destination> {
    (
        socket_addr(),
        0u32..8,
        any::<[u32; 6]>(),
        (any::<u8>(), any::<u16>(), any::<u16>()),
        stats_strategy(),
    )
        .prop_map(|(addr, fwd, n, (kind, port, flags), stats)| Destination {
            addr,
            forward: Forward::from_raw(fwd),
            weight: n[0],
            upper_threshold: n[1],
            lower_threshold: n[2],
            tunnel: Tunnel {
                kind: TunnelType::from_raw(kind),
                port,
                flags: TunnelFlags::from_bits(flags),
            },
            active_conns: n[3],
            inactive_conns: n[4],
            persistent_conns: n[5],
            stats,
        })
}

fn daemon_strategy() -> impl Strategy<Value = SyncDaemon> {
    (
        any::<u32>(),
        proptest::collection::vec(1u8..=255, 0..16),
        (any::<u32>(), any::<u16>(), any::<u16>(), any::<u8>()),
        proptest::option::of(ip_addr()),
    )
        .prop_map(
            |(state, interface, (sync_id, max_len, port, ttl), group)| SyncDaemon {
                state: DaemonState::from_raw(state),
                interface,
                sync_id,
                max_len,
                group,
                port,
                ttl,
            },
        )
}

proptest! {
    #[test]
    fn services_round_trip(s in service_strategy()) {
        let top = Attrs::default().nested(attr::SERVICE, service(&s, Part::Listing));
        let back = read_service(&Reader::new(through_neli(&top).get_attr_handle()));
        prop_assert_eq!(back, Ok(s.clone()));
        // A request carries everything but the counters.
        let top = Attrs::default().nested(attr::SERVICE, service(&s, Part::Request));
        let back = read_service(&Reader::new(through_neli(&top).get_attr_handle()));
        prop_assert_eq!(back, Ok(Service { stats: Stats::default(), ..s }));
    }

    #[test]
    fn service_keys_round_trip(k in service_key_strategy()) {
        let top = Attrs::default().nested(attr::SERVICE, service_key(&k));
        let buf = through_neli(&top);
        let r = Reader::new(buf.get_attr_handle());
        let s = r.nested(attr::SERVICE).ok().flatten().expect("service");
        // The key as the kernel reads it: a fwmark if there is one, else protocol, address
        // and port, each of them as it was written.
        let family = s.u16(svc::AF).map(Family::from_raw);
        let read_back = match (family, s.u32(svc::FWMARK)) {
            (Some(family), Some(mark)) => Some(ServiceKey::Fwmark { family, mark }),
            (Some(family), None) => s
                .u16(svc::PROTOCOL)
                .zip(s.get(svc::ADDR))
                .zip(s.be16(svc::PORT))
                .map(|((p, a), port)| ServiceKey::Inet {
                    protocol: Protocol::from_raw(p),
                    addr: SocketAddr::new(addr_from_union(family, a), port),
                }),
            (None, _) => None,
        };
        prop_assert_eq!(read_back, Some(k));
        // And nothing else: family and mark, or family, protocol, address and port.
        let count = if matches!(k, ServiceKey::Fwmark { .. }) { 2 } else { 4 };
        prop_assert_eq!(service_key(&k).build().expect("build").len(), count);
    }

    #[test]
    fn destinations_round_trip(d in destination_strategy(), svc_family in family()) {
        let top = Attrs::default().nested(attr::DEST, destination(&d, Part::Listing));
        let back = read_destination(&Reader::new(through_neli(&top).get_attr_handle()), svc_family);
        prop_assert_eq!(back, Ok(d));
    }

    #[test]
    fn daemons_round_trip(d in daemon_strategy()) {
        let top = Attrs::default().nested(attr::DAEMON, sync_daemon(&d));
        let back = read_daemon(&Reader::new(through_neli(&top).get_attr_handle()));
        prop_assert_eq!(back, Ok(d));
    }

    #[test]
    fn timeouts_and_info_round_trip(t in any::<[u32; 3]>(), i in any::<[u32; 2]>()) {
        let t = Timeouts { tcp: t[0], tcp_fin: t[1], udp: t[2] };
        let back = read_timeouts(&Reader::new(through_neli(&timeouts(&t)).get_attr_handle()));
        prop_assert_eq!(back, t);
        let i = Info { version: Version(i[0]), conn_tab_size: i[1] };
        let back = read_info(&Reader::new(through_neli(&info_attrs(&i)).get_attr_handle()));
        prop_assert_eq!(back, Ok(i));
    }

    #[test]
    fn stats_round_trip(s in stats_strategy()) {
        let back = read_stats(&Reader::new(through_neli(&stats_attrs(&s)).get_attr_handle()));
        prop_assert_eq!(back, s);
    }

    /// Any datagram that passes the framing check is read by neli to
    /// messages or an error, never a panic.
    #[test]
    fn random_datagrams_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..96),
        len in 0u32..48,
        ty in prop_oneof![Just(2u16), Just(3u16), Just(0x20u16), any::<u16>()],
    ) {
        // Mostly a plausible header, so parsing gets past it.
        if bytes.len() >= 8 {
            let len = len.min(bytes.len() as u32);
            bytes[..4].copy_from_slice(&len.to_ne_bytes());
            bytes[4..6].copy_from_slice(&ty.to_ne_bytes());
        }
        if check_framing(&bytes).is_ok() {
            let _ = NlBuffer::<u16, Genlmsghdr<u8, u16>>::from_bytes_with_input(
                &mut Cursor::new(&bytes),
                bytes.len(),
            );
        }
    }

    /// Any bytes, as the top level of a reply or nested in each object's
    /// attribute, decode to a value or an error.
    #[test]
    fn random_replies_never_panic(
        mut bytes in proptest::collection::vec(any::<u8>(), 0..160),
        well_formed in any::<bool>(),
    ) {
        // Mostly well-formed lengths, so parsing gets past the headers.
        if well_formed && bytes.len() >= 4 {
            let n = bytes.len() as u16;
            bytes[..2].copy_from_slice(&n.to_ne_bytes());
            bytes[2] %= 16;
            bytes[3] = 0;
        }
        let _ = read(&bytes, |r| {
            let _ = (read_service(r), read_daemon(r), read_info(r), read_timeouts(r));
            let _ = (read_destination(r, Family::Inet6), read_stats(r));
        });
        for ty in [attr::SERVICE, attr::DEST, attr::DAEMON] {
            let top = tlv(ty, &bytes);
            let _ = read(&top, |r| {
                let _ = (read_service(r), read_daemon(r), read_destination(r, Family::Inet));
            });
        }
    }
}
