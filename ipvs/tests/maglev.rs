//! The model of the `sipmh` scheduler: directors that list the same servers in different
//! orders agree on every call; weight 0 moves only the calls of that server; the key reads
//! as the module parameter takes it and as sysfs shows it.

use std::net::SocketAddr;

use ipvs::maglev::{
    backend_id, key_hex, parse_key, MaglevError, Server, SipKey, DEFAULT_KEY, MAX_BACKENDS,
    TABLE_SIZE,
};
use ipvs::{Destination, Maglev};
use proptest::prelude::*;

/// The `i`-th SIP server of a test platform, IPv6 for every fourth.
fn addr(i: u16) -> SocketAddr {
    if i % 4 == 3 {
        format!("[2001:db8::{:x}]:5060", i + 1).parse().unwrap()
    } else {
        format!("10.4.{}.{}:5060", i / 200, i % 200 + 11)
            .parse()
            .unwrap()
    }
}

fn destination(i: u16, weight: u32) -> Destination {
    Destination {
        weight,
        ..Destination::new(addr(i))
    }
}

fn call_ids(n: u32) -> Vec<String> {
    (0..n)
        .map(|i| format!("{i:x}-{}@client.example", i.wrapping_mul(40_503)))
        .collect()
}

/// The server each Call-ID goes to.
fn routes(m: &Maglev, calls: &[String]) -> Vec<Option<SocketAddr>> {
    calls
        .iter()
        .map(|c| m.choose(c.as_bytes()).server.map(|s| s.addr))
        .collect()
}

/// Servers with (last weight, weight now), and the same in another order.
fn two_directors() -> impl Strategy<Value = (Vec<Server>, Vec<Server>)> {
    proptest::collection::btree_map(
        0u16..500,
        (1u32..100, prop_oneof![3 => Just(true), 1 => Just(false)]),
        1..25,
    )
    .prop_map(|m| {
        m.into_iter()
            .map(|(i, (last_weight, up))| Server {
                addr: addr(i),
                last_weight,
                weight: if up { last_weight } else { 0 },
            })
            .collect::<Vec<_>>()
    })
    .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn directors_agree_whatever_the_order((a, b) in two_directors(), key in any::<[u8; 16]>()) {
        let key = SipKey::from_bytes(key);
        let (ma, mb) = (Maglev::new(key, a.clone()).unwrap(), Maglev::new(key, b).unwrap());
        let calls = call_ids(500);
        prop_assert_eq!(routes(&ma, &calls), routes(&mb, &calls));
        for c in &calls {
            let (x, y) = (ma.choose(c.as_bytes()), mb.choose(c.as_bytes()));
            prop_assert_eq!(x.primary, y.primary);
            // Never a server of weight 0; none only when every server is at 0.
            match x.server {
                Some(s) => prop_assert!(s.weight > 0),
                None => prop_assert!(a.iter().all(|s| s.weight == 0)),
            }
        }
        let source: SocketAddr = "192.0.2.7:5060".parse().unwrap();
        prop_assert_eq!(ma.choose_source(source).server, mb.choose_source(source).server);
    }

    #[test]
    fn weight_zero_moves_only_that_servers_calls(n in 2u16..20, drained in any::<prop::sample::Index>()) {
        let up: Vec<Server> = (0..n).map(|i| Server::from(&destination(i, 10))).collect();
        let drained = drained.index(up.len());
        let mut down = up.clone();
        down[drained].weight = 0;
        let calls = call_ids(2_000);
        let (before, after) = (Maglev::new(DEFAULT_KEY, up.clone()).unwrap(), Maglev::new(DEFAULT_KEY, down).unwrap());
        for c in &calls {
            let (b, a) = (before.choose(c.as_bytes()), after.choose(c.as_bytes()));
            prop_assert_eq!(b.primary.map(|s| s.addr), a.primary.map(|s| s.addr), "the table stays");
            let was = b.server.unwrap().addr;
            let now = a.server.unwrap().addr;
            prop_assert_ne!(now, up[drained].addr);
            if was != up[drained].addr {
                prop_assert_eq!(now, was);
                prop_assert!(!a.fell_back());
            } else {
                prop_assert!(a.fell_back());
            }
        }
    }

    #[test]
    fn keys_read_back(bytes in any::<[u8; 16]>()) {
        let key = SipKey::from_bytes(bytes);
        let hex = key_hex(&key);
        prop_assert_eq!(hex.len(), 32);
        prop_assert_eq!(parse_key(&hex), Ok(key));
        prop_assert_eq!(parse_key(&format!("{}\n", hex.to_uppercase())), Ok(key));
    }
}

#[test]
fn listed_destinations_build_the_table_of_their_weights() {
    let dests: Vec<Destination> = (0..4).map(|i| destination(i, u32::from(i) + 1)).collect();
    let m = Maglev::from_destinations(DEFAULT_KEY, &dests).unwrap();
    let slots = m.slots();
    assert_eq!(slots.iter().sum::<usize>(), TABLE_SIZE);
    for (d, n) in dests.iter().zip(&slots) {
        let exact = TABLE_SIZE as f64 * f64::from(d.weight) / 10.0;
        assert!((*n as f64 - exact).abs() <= 1.0, "{}: {n} slots", d.addr);
    }
}

#[test]
fn a_drained_server_needs_its_last_weight() {
    // Listed at weight 0, a server has no slots in a model that knows no better, so the
    // calls of the others' slots differ from the module's table, built from its last weight.
    let dests: Vec<Destination> = (0..5)
        .map(|i| destination(i, if i == 2 { 0 } else { 5 }))
        .collect();
    let naive = Maglev::from_destinations(DEFAULT_KEY, &dests).unwrap();
    assert_eq!(naive.slots()[2], 0);
    let told: Vec<Server> = dests
        .iter()
        .map(Server::from)
        .map(|s| {
            if s.weight == 0 {
                Server {
                    last_weight: 5,
                    ..s
                }
            } else {
                s
            }
        })
        .collect();
    let module = Maglev::new(DEFAULT_KEY, told).unwrap();
    assert!(module.slots()[2] > 0);
    let calls = call_ids(2_000);
    let differ = routes(&naive, &calls)
        .iter()
        .zip(routes(&module, &calls))
        .filter(|(a, b)| **a != *b)
        .count();
    assert!(differ > 0, "the naive model would predict every call right");
    // The module's choice falls back for the drained server's slots only.
    let fell = calls
        .iter()
        .filter(|c| module.choose(c.as_bytes()).fell_back())
        .count();
    assert!(
        (250..550).contains(&fell),
        "{fell} of 2000 on a fifth of the table"
    );
}

#[test]
fn overloaded_servers_are_the_callers_word() {
    let m = Maglev::new(
        DEFAULT_KEY,
        (0..3).map(|i| Server::from(&destination(i, 1))),
    )
    .unwrap();
    let busy = addr(1);
    for c in call_ids(300) {
        let ch = m.choose_with(c.as_bytes(), |s| s.addr != busy);
        assert_ne!(ch.server.unwrap().addr, busy);
        assert_eq!(ch.fell_back(), ch.primary.unwrap().addr == busy);
    }
    assert_eq!(m.choose_with(b"x", |_| false).server, None);
}

#[test]
fn the_default_key() {
    assert_eq!(DEFAULT_KEY, SipKey::from_bytes(*b"ipvs-pe-sip:mh:1"));
    assert_eq!(parse_key("(null)\n"), Ok(DEFAULT_KEY));
    assert_eq!(key_hex(&DEFAULT_KEY), "697076732d70652d7369703a6d683a31");
    for bad in [
        "",
        "697076732d70652d7369703a6d683a3",
        "0x97076732d70652d7369703a6d683a31",
        "null",
    ] {
        assert_eq!(parse_key(bad), Err(MaglevError::BadKey(bad.into())));
    }
}

#[test]
fn ids_are_family_address_port() {
    let v4 = backend_id("10.4.4.11:5060".parse().unwrap());
    assert_eq!(v4.as_bytes()[..5], [2, 10, 4, 4, 11]);
    assert_eq!(v4.as_bytes()[5..17], [0; 12]);
    assert_eq!(v4.as_bytes()[17..], 5060u16.to_be_bytes());
    // A v4-mapped IPv6 server is an IPv6 server, as the kernel's family says.
    let mapped = backend_id("[::ffff:10.4.4.11]:5060".parse().unwrap());
    assert_eq!(mapped.as_bytes()[0], 10);
    assert_ne!(mapped, v4);
}

#[test]
fn too_many_servers() {
    let n = MAX_BACKENDS as u16 + 1;
    let e = Maglev::new(
        DEFAULT_KEY,
        (0..n).map(|i| Server::from(&destination(i, 1))),
    )
    .unwrap_err();
    assert_eq!(e, MaglevError::TooManyServers(n.into()));
    assert!(e.to_string().contains("at most 655"));
}
