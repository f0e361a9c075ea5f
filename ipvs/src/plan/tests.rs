//! The planner: examples of each kind of difference, and properties over
//! generated pairs of tables that share some services and destinations.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use proptest::prelude::*;

use super::*;
use crate::{Netmask, Scheduler, Tunnel, TunnelType};

fn sip_service() -> Service {
    let mut s = Service::new(ServiceKey::udp("10.0.0.1:5060".parse().expect("literal")));
    s.scheduler = Scheduler::RoundRobin;
    s.flags = ServiceFlags::PERSISTENT | ServiceFlags::ONE_PACKET;
    s.timeout = 60;
    s.netmask = Netmask::Ipv4(Ipv4Addr::UNSPECIFIED);
    s.pe_name = Some("sip".into());
    s
}

fn server(last: u8) -> Destination {
    let mut d = Destination::new(SocketAddr::new(IpAddr::from([10, 0, 1, last]), 5060));
    d.forward = Forward::Masq;
    d
}

/// The README's SIP service with three servers.
fn sip_table() -> Table {
    let mut t = Table::new();
    let s = sip_service();
    let key = s.key;
    t.add_service(s).expect("new");
    for i in 1..=3 {
        t.add_destination(&key, server(i)).expect("new");
    }
    t
}

#[test]
fn the_same_table_needs_no_change() {
    assert!(plan(&sip_table(), &sip_table()).is_empty());
    assert!(plan(&Table::new(), &Table::new()).is_empty());
}

#[test]
fn what_the_kernel_keeps_itself_is_no_difference() {
    let key = sip_service().key;
    let mut listed = sip_table();
    let s = listed.service_mut(&key).expect("there");
    s.flags |= ServiceFlags::HASHED;
    s.stats.conns = 7;
    let d = listed.destination_mut(&key, server(1).addr).expect("there");
    d.active_conns = 3;
    d.persistent_conns = 9;
    d.stats.inpkts = 100;
    // A server on a local address is listed as Local whatever it was given.
    listed
        .destination_mut(&key, server(2).addr)
        .expect("there")
        .forward = Forward::Local;
    assert!(plan(&listed, &sip_table()).is_empty());
}

#[test]
fn timeout_and_netmask_count_only_with_persistence() {
    let mut a = Table::new();
    let mut s = Service::new(ServiceKey::tcp("10.0.0.1:80".parse().expect("literal")));
    a.add_service(s.clone()).expect("new");
    s.timeout = 300;
    s.netmask = Netmask::Ipv4(Ipv4Addr::new(255, 255, 0, 0));
    let mut b = Table::new();
    b.add_service(s.clone()).expect("new");
    assert!(plan(&a, &b).is_empty());
    s.flags = ServiceFlags::PERSISTENT;
    let mut c = Table::new();
    c.add_service(s).expect("new");
    assert_eq!(plan(&a, &c).len(), 1);
}

#[test]
fn one_weight_is_one_edit() {
    let key = sip_service().key;
    let mut want = sip_table();
    want.destination_mut(&key, server(2).addr)
        .expect("there")
        .weight = 5;
    let mut expected = server(2);
    expected.weight = 5;
    assert_eq!(
        plan(&sip_table(), &want),
        vec![Change::EditDestination(key, expected)]
    );
}

#[test]
fn scheduler_persistence_and_engine_are_edits() {
    let key = sip_service().key;
    for change in [
        |s: &mut Service| s.scheduler = Scheduler::WeightedRoundRobin,
        |s: &mut Service| s.timeout = 120,
        |s: &mut Service| s.netmask = Netmask::Ipv4(Ipv4Addr::new(255, 255, 255, 0)),
        |s: &mut Service| s.pe_name = None,
        |s: &mut Service| s.flags = ServiceFlags::PERSISTENT,
    ] {
        let mut want = sip_table();
        change(want.service_mut(&key).expect("there"));
        let changes = plan(&sip_table(), &want);
        assert!(
            matches!(changes.as_slice(), [Change::EditService(_)]),
            "{changes:?}"
        );
    }
}

#[test]
fn forwarding_method_and_thresholds_are_edits() {
    let key = sip_service().key;
    for change in [
        |d: &mut Destination| d.forward = Forward::Route,
        |d: &mut Destination| d.upper_threshold = 100,
        |d: &mut Destination| d.lower_threshold = 10,
        |d: &mut Destination| {
            d.forward = Forward::Tunnel;
            d.tunnel = Tunnel {
                kind: TunnelType::Gue,
                port: 6080,
                flags: Default::default(),
            };
        },
    ] {
        let mut want = sip_table();
        change(want.destination_mut(&key, server(3).addr).expect("there"));
        let changes = plan(&sip_table(), &want);
        assert!(
            matches!(changes.as_slice(), [Change::EditDestination(..)]),
            "{changes:?}"
        );
    }
}

#[test]
fn a_replaced_server_is_added_before_the_old_one_goes() {
    let key = sip_service().key;
    let mut want = Table::new();
    want.add_service(sip_service()).expect("new");
    want.add_destination(&key, server(4)).expect("new");
    assert_eq!(
        plan(&sip_table(), &want),
        vec![
            Change::AddDestination(key, server(4)),
            Change::DeleteDestination(key, server(1).addr),
            Change::DeleteDestination(key, server(2).addr),
            Change::DeleteDestination(key, server(3).addr),
        ]
    );
}

#[test]
fn a_new_service_comes_with_its_servers_and_an_old_one_goes_last() {
    let mut other = Service::new(ServiceKey::tcp("10.0.0.2:80".parse().expect("literal")));
    other.scheduler = Scheduler::LeastConnections;
    let mut want = Table::new();
    want.add_service(other.clone()).expect("new");
    want.add_destination(&other.key, server(9)).expect("new");
    assert_eq!(
        plan(&sip_table(), &want),
        vec![
            Change::AddService(other.clone()),
            Change::AddDestination(other.key, server(9)),
            Change::DeleteService(sip_service().key),
        ]
    );
}

#[test]
fn services_change_before_any_server() {
    let key = sip_service().key;
    let mut other = Service::new(ServiceKey::tcp("10.0.0.2:80".parse().expect("literal")));
    other.scheduler = Scheduler::LeastConnections;
    let mut want = sip_table();
    want.destination_mut(&key, server(1).addr)
        .expect("there")
        .weight = 2;
    want.add_service(other.clone()).expect("new");
    want.add_destination(&other.key, server(9)).expect("new");
    let mut expected = server(1);
    expected.weight = 2;
    assert_eq!(
        plan(&sip_table(), &want),
        vec![
            Change::AddService(other.clone()),
            Change::EditDestination(key, expected),
            Change::AddDestination(other.key, server(9)),
        ]
    );
}

#[test]
fn the_model_refuses_what_the_kernel_refuses() {
    let key = sip_service().key;
    let mut t = sip_table();
    assert_eq!(
        t.apply(&Change::AddService(sip_service())),
        Err(TableError::ServiceExists(key))
    );
    assert_eq!(
        t.apply(&Change::AddDestination(key, server(1))),
        Err(TableError::DestinationExists(key, server(1).addr))
    );
    assert_eq!(
        t.apply(&Change::EditDestination(key, server(8))),
        Err(TableError::NoDestination(key, server(8).addr))
    );
    let other = ServiceKey::tcp("10.0.0.2:80".parse().expect("literal"));
    assert_eq!(
        t.apply(&Change::AddDestination(other, server(1))),
        Err(TableError::NoService(other))
    );
    t.apply(&Change::DeleteService(key)).expect("there");
    assert!(t.is_empty());
}

// Generated tables draw services and servers from small pools, so that two
// tables share some of them and differ in others.

fn arb_key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (0u8..4).prop_map(|i| ServiceKey::udp(SocketAddr::new(IpAddr::from([10, 0, 0, i]), 5060))),
        (0u8..2).prop_map(|i| ServiceKey::tcp(SocketAddr::new(IpAddr::from([10, 0, 0, i]), 80))),
        (1u32..3).prop_map(|mark| ServiceKey::Fwmark {
            family: crate::Family::Inet,
            mark
        }),
    ]
}

fn arb_service() -> impl Strategy<Value = Service> {
    (
        arb_key(),
        prop::sample::select(vec!["rr", "wrr", "sh", "wlc"]),
        prop::bits::u32::masked(0x3f),
        0u32..3,
        prop::option::of(Just("sip".to_string())),
        prop::sample::select(vec![0u32, 0x00ff_ffff, u32::MAX]),
    )
        .prop_map(|(key, sched, flags, timeout, pe_name, mask)| Service {
            scheduler: Scheduler::from(sched),
            flags: ServiceFlags::from_bits(flags),
            timeout: timeout * 60,
            netmask: Netmask::from_raw(key.family(), mask),
            pe_name,
            ..Service::new(key)
        })
}

fn arb_destination() -> impl Strategy<Value = Destination> {
    (
        0u8..5,
        prop::sample::select(vec![Forward::Masq, Forward::Route, Forward::Tunnel]),
        0u32..3,
        0u32..2,
        0u16..2,
    )
        .prop_map(|(i, forward, weight, threshold, tun_port)| Destination {
            forward,
            weight,
            upper_threshold: threshold * 100,
            lower_threshold: threshold * 10,
            tunnel: Tunnel {
                kind: TunnelType::from_raw(tun_port as u8),
                port: tun_port * 6080,
                flags: Default::default(),
            },
            ..Destination::new(SocketAddr::new(IpAddr::from([10, 0, 1, i]), 5060))
        })
}

fn arb_table() -> impl Strategy<Value = Table> {
    prop::collection::vec(
        (
            arb_service(),
            prop::collection::vec(arb_destination(), 0..5),
        ),
        0..5,
    )
    .prop_map(|entries| {
        let mut t = Table::new();
        for (s, dests) in entries {
            let key = s.key;
            // Duplicates drawn from the pools are skipped: a table holds
            // each once.
            if t.add_service(s).is_ok() {
                for d in dests {
                    let _ = t.add_destination(&key, d);
                }
            }
        }
        t
    })
}

/// Carries out `changes` on a copy of `t`, each one checked.
fn carried_out(t: &Table, changes: &[Change]) -> Result<Table, TestCaseError> {
    let mut t = t.clone();
    for c in changes {
        let before = t.clone();
        t.apply(c)
            .map_err(|e| TestCaseError::fail(format!("{c:?}: {e}")))?;
        // No change is wasted: each one changes the configuration.
        prop_assert!(!t.same_config(&before), "{c:?} changed nothing");
    }
    Ok(t)
}

proptest! {
    #[test]
    fn a_table_needs_no_change_to_become_itself(t in arb_table()) {
        prop_assert!(plan(&t, &t).is_empty());
    }

    /// The plan, carried out on the model change by change (each one
    /// accepted, as the kernel would accept it), gives the desired table.
    #[test]
    fn carrying_out_the_plan_gives_the_desired_table(a in arb_table(), b in arb_table()) {
        let changes = plan(&a, &b);
        let result = carried_out(&a, &changes)?;
        prop_assert!(result.same_config(&b), "{changes:?}");
        prop_assert!(plan(&result, &b).is_empty());
    }

    /// What the order promises: services are added and edited first, then
    /// servers; servers are deleted only after every addition and edit, and
    /// services last; a service that stays is never deleted, and nothing is
    /// both deleted and added.
    #[test]
    fn the_order_keeps_what_stays(a in arb_table(), b in arb_table()) {
        let changes = plan(&a, &b);
        let rank = |c: &Change| match c {
            Change::AddService(_) | Change::EditService(_) => 0,
            Change::AddDestination(..) | Change::EditDestination(..) => 1,
            Change::DeleteDestination(..) => 2,
            Change::DeleteService(_) => 3,
            _ => 4,
        };
        let ranks: Vec<u8> = changes.iter().map(rank).collect();
        prop_assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{changes:?}");
        prop_assert!(!ranks.contains(&4));
        for c in &changes {
            match c {
                Change::DeleteService(k) => prop_assert!(b.service(k).is_none()),
                Change::AddService(s) => prop_assert!(a.service(&s.key).is_none()),
                Change::DeleteDestination(k, addr) => {
                    prop_assert!(b.service(k).is_some_and(|(_, d)| d.iter().all(|d| d.addr != *addr)));
                    prop_assert!(!changes.iter().any(
                        |c| matches!(c, Change::AddDestination(k2, d) if k2 == k && d.addr == *addr)
                    ));
                }
                _ => {}
            }
        }
    }

    /// A change of one weight in any table is one edit.
    #[test]
    fn one_weight_change_is_one_edit(a in arb_table(), pick in any::<prop::sample::Index>()) {
        let servers: Vec<(ServiceKey, SocketAddr)> = a
            .services()
            .flat_map(|(s, d)| d.iter().map(move |d| (s.key, d.addr)))
            .collect();
        prop_assume!(!servers.is_empty());
        let (key, addr) = servers[pick.index(servers.len())];
        let mut b = a.clone();
        let d = b.destination_mut(&key, addr).expect("drawn from the table");
        d.weight += 1;
        let expected = d.clone();
        prop_assert_eq!(plan(&a, &b), vec![Change::EditDestination(key, expected)]);
    }
}
