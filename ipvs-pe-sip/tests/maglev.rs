//! The Maglev table's promises: the same table whatever the order of the servers, shares in
//! proportion to weights, few calls moved when a server comes or goes, weight 0 handled as
//! `mh` does, a fallback that every director agrees on, and no panic on odd input.

use ipvs_pe_sip::maglev::{
    call_id_hash, choose, fallback, lookup, populate, source_hash, Backend, BackendId,
    PopulateError, Scratch, DEFAULT_KEY_BYTES, EMPTY, MAX_BACKENDS, TABLE_SIZE,
};
use ipvs_pe_sip::siphash::SipKey;
use proptest::prelude::*;

const KEY: SipKey = SipKey::from_bytes(DEFAULT_KEY_BYTES);

/// The `i`-th server of a test platform: 10.4.(i / 200).(i % 200 + 11):5060, or an IPv6
/// one for every third.
fn server(i: usize) -> BackendId {
    if i % 3 == 2 {
        let mut a = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        a[14..].copy_from_slice(&(i as u16).to_be_bytes());
        BackendId::v6(a, 5060)
    } else {
        BackendId::v4([10, 4, (i / 200) as u8, (i % 200 + 11) as u8], 5060)
    }
}

fn equal(n: usize) -> Vec<Backend> {
    (0..n)
        .map(|i| Backend {
            id: server(i),
            weight: 1,
        })
        .collect()
}

/// The table of `backends`, or why not.
fn try_table(key: &SipKey, backends: &[Backend]) -> Result<Vec<u16>, PopulateError> {
    let mut scratch = vec![Scratch::default(); backends.len()];
    let mut table = vec![0; TABLE_SIZE];
    populate(key, backends, &mut scratch, &mut table).map(|()| table)
}

fn table(backends: &[Backend]) -> Vec<u16> {
    try_table(&KEY, backends).unwrap()
}

/// Each slot's server (`None` for an empty slot): what must not depend on the order.
fn ids(table: &[u16], backends: &[Backend]) -> Vec<Option<BackendId>> {
    table
        .iter()
        .map(|&e| (e != EMPTY).then(|| backends[usize::from(e)].id))
        .collect()
}

/// Slots held by each backend.
fn counts(table: &[u16], n: usize) -> Vec<usize> {
    let mut c = vec![0; n];
    for &e in table.iter().filter(|&&e| e != EMPTY) {
        c[usize::from(e)] += 1;
    }
    c
}

/// 10,000 Call-IDs of the form an endpoint makes.
fn call_ids() -> Vec<Vec<u8>> {
    (0..10_000u32)
        .map(|i| {
            format!(
                "{:08x}-{}@192.0.2.{}",
                i.wrapping_mul(2_654_435_761),
                i,
                i % 250
            )
            .into_bytes()
        })
        .collect()
}

/// The server of each Call-ID.
fn servers_of(backends: &[Backend], calls: &[Vec<u8>]) -> Vec<BackendId> {
    let t = table(backends);
    calls
        .iter()
        .map(|c| backends[usize::from(lookup(&t, call_id_hash(&KEY, c)).unwrap())].id)
        .collect()
}

/// Share of calls whose server differs.
fn moved(a: &[BackendId], b: &[BackendId]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 / a.len() as f64
}

/// What `hash % n` would move from `n` servers to `n + 1`.
fn modulo_moved(calls: &[Vec<u8>], n: u64) -> f64 {
    let changed = calls
        .iter()
        .map(|c| call_id_hash(&KEY, c))
        .filter(|h| h % n != h % (n + 1))
        .count();
    changed as f64 / calls.len() as f64
}

/// Distinct servers with weights (some 0), in an arbitrary order, and that order shuffled.
fn two_orders() -> impl Strategy<Value = (Vec<Backend>, Vec<Backend>)> {
    proptest::collection::btree_set(0usize..2_000, 0..40)
        .prop_flat_map(|set| {
            let n = set.len();
            (
                Just(set),
                proptest::collection::vec(prop_oneof![Just(0u32), 1u32..1_000, Just(u32::MAX)], n),
            )
        })
        .prop_map(|(set, weights)| {
            set.into_iter()
                .zip(weights)
                .map(|(i, weight)| Backend {
                    id: server(i),
                    weight,
                })
                .collect::<Vec<_>>()
        })
        .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn same_table_in_any_order((a, b) in two_orders(), key in any::<[u8; 16]>()) {
        let key = SipKey::from_bytes(key);
        let (ta, tb) = (try_table(&key, &a).unwrap(), try_table(&key, &b).unwrap());
        prop_assert!(ids(&ta, &a) == ids(&tb, &b));
    }

    #[test]
    fn shares_are_the_weights_to_a_slot(weights in proptest::collection::vec(0u32..=1_000, 3..=50)) {
        let backends: Vec<Backend> = weights
            .iter()
            .enumerate()
            .map(|(i, &weight)| Backend { id: server(i), weight })
            .collect();
        let t = table(&backends);
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let got = counts(&t, backends.len());
        for (i, (&w, &c)) in weights.iter().zip(&got).enumerate() {
            if total == 0 {
                prop_assert_eq!(c, 0);
                continue;
            }
            let exact = TABLE_SIZE as f64 * f64::from(w) / total as f64;
            prop_assert!((c as f64 - exact).abs() <= 1.0, "backend {i} of weight {w}: {c} slots for {exact:.1}");
            if w == 0 {
                prop_assert_eq!(c, 0);
            }
        }
        let empty = t.iter().filter(|&&e| e == EMPTY).count();
        prop_assert_eq!(empty, if total == 0 { TABLE_SIZE } else { 0 });
    }

    #[test]
    fn fallback_is_available_and_agreed((a, b) in two_orders(), hash in any::<u64>(), down in any::<u64>()) {
        // The same servers are down on every director, whatever its order: those whose id
        // has a bit set in `down`.
        let up = |v: &[Backend], i: usize| down >> (v[i].id.as_bytes()[4] % 64) & 1 == 0;
        let fa = fallback(&KEY, hash, &a, |i| up(&a, i));
        let fb = fallback(&KEY, hash, &b, |i| up(&b, i));
        prop_assert_eq!(fa.map(|i| a[i].id), fb.map(|i| b[i].id));
        match fa {
            Some(i) => prop_assert!(up(&a, i)),
            None => prop_assert!((0..a.len()).all(|i| !up(&a, i))),
        }
    }

    #[test]
    fn fallback_moves_only_the_calls_of_the_server_that_left(n in 2usize..30, gone in any::<prop::sample::Index>()) {
        let backends = equal(n);
        let gone = gone.index(n);
        for h in 0..2_000u64 {
            let hash = h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            let before = fallback(&KEY, hash, &backends, |_| true).unwrap();
            let after = fallback(&KEY, hash, &backends, |i| i != gone).unwrap();
            prop_assert_ne!(after, gone);
            if before != gone {
                prop_assert_eq!(after, before);
            }
        }
    }

    #[test]
    fn no_panic_on_any_input(
        weights in proptest::collection::vec(any::<u32>(), 0..12),
        ids in proptest::collection::vec(0usize..4, 12),
        scratch_len in 0usize..14,
        table_len in prop_oneof![Just(TABLE_SIZE), 0usize..10, Just(TABLE_SIZE + 1)],
        hash in any::<u64>(),
    ) {
        // Duplicate ids, any weights, any sizes of scratch and table.
        let backends: Vec<Backend> =
            weights.iter().zip(&ids).map(|(&weight, &i)| Backend { id: server(i), weight }).collect();
        let mut scratch = vec![Scratch::default(); scratch_len];
        let mut table = vec![7; table_len];
        let r = populate(&KEY, &backends, &mut scratch, &mut table);
        if table_len != TABLE_SIZE {
            prop_assert_eq!(r, Err(PopulateError::TableSize));
            prop_assert!(table.iter().all(|&e| e == 7), "left as it was");
        } else if scratch_len < backends.len() {
            prop_assert_eq!(r, Err(PopulateError::ScratchSize));
        } else {
            prop_assert_eq!(r, Ok(()));
            prop_assert!(table.iter().all(|&e| e == EMPTY || usize::from(e) < backends.len()));
        }
        let _ = lookup(&table, hash);
        let _ = choose(&KEY, &table, hash, &backends, |i| i % 2 == 0);
    }
}

#[test]
fn adding_a_server_moves_about_its_share() {
    let calls = call_ids();
    for n in [3, 4, 7, 10, 20, 50] {
        let before = servers_of(&equal(n), &calls);
        let grown = equal(n + 1);
        let after = servers_of(&grown, &calls);
        let share = moved(&before, &after);
        let ideal = 1.0 / (n + 1) as f64;
        println!(
            "{n} -> {} servers: {:.2} % of calls moved (ideal {:.2} %, hash % n: {:.2} %)",
            n + 1,
            share * 100.0,
            ideal * 100.0,
            modulo_moved(&calls, n as u64) * 100.0,
        );
        assert!(share < 2.0 * ideal, "{share} moved, {ideal} ideal");
        // Most of what moved went to the new server.
        let to_new = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| b != a && **a == grown[n].id)
            .count();
        let to_new = to_new as f64 / calls.len() as f64;
        assert!(
            to_new > 0.8 * ideal && to_new < 1.2 * ideal,
            "{to_new} to the new server"
        );
    }
}

#[test]
fn removing_a_server_moves_its_calls_and_few_others() {
    let calls = call_ids();
    for n in [4, 5, 8, 11, 21, 51] {
        let full = equal(n);
        let before = servers_of(&full, &calls);
        let gone = full[n / 2].id;
        let rest: Vec<Backend> = full.iter().copied().filter(|b| b.id != gone).collect();
        let after = servers_of(&rest, &calls);
        assert!(after.iter().all(|&s| s != gone));
        let others = before.iter().filter(|&&s| s != gone).count();
        let others_moved = before
            .iter()
            .zip(&after)
            .filter(|(b, a)| **b != gone && b != a)
            .count();
        let share = others_moved as f64 / others as f64;
        println!(
            "{n} -> {} servers: {:.2} % of the remaining servers' calls moved, besides the removed one's {:.2} %",
            n - 1,
            share * 100.0,
            (calls.len() - others) as f64 / calls.len() as f64 * 100.0,
        );
        assert!(share < 1.0 / n as f64, "{share} of the others' calls moved");
    }
}

#[test]
fn weight_zero_keeps_no_slot_and_all_zero_empties_the_table() {
    let mut backends = equal(5);
    backends[2].weight = 0;
    let t = table(&backends);
    assert_eq!(counts(&t, 5)[2], 0);
    assert!(t.iter().all(|&e| e != EMPTY));

    for b in &mut backends {
        b.weight = 0;
    }
    let t = table(&backends);
    assert!(t.iter().all(|&e| e == EMPTY));
    assert_eq!(lookup(&t, 12_345), None);
    // With nothing in the table the fallback still answers from those available.
    assert_eq!(choose(&KEY, &t, 12_345, &backends, |i| i == 3), Some(3));
    assert_eq!(fallback(&KEY, 12_345, &backends, |_| false), None);
}

#[test]
fn choose_takes_the_table_unless_unavailable() {
    let backends = equal(6);
    let t = table(&backends);
    let calls = call_ids();
    let mut fell_back = 0;
    for c in &calls {
        let h = call_id_hash(&KEY, c);
        let primary = usize::from(lookup(&t, h).unwrap());
        assert_eq!(choose(&KEY, &t, h, &backends, |_| true), Some(primary));
        let chosen = choose(&KEY, &t, h, &backends, |i| i != 1).unwrap();
        assert_ne!(chosen, 1);
        if primary == 1 {
            fell_back += 1;
        } else {
            assert_eq!(
                chosen, primary,
                "a call not on the unavailable server stays"
            );
        }
    }
    // About a sixth of the calls were on server 1.
    assert!((1_300..2_000).contains(&fell_back), "{fell_back}");
}

#[test]
fn calls_spread_as_the_weights() {
    let weights = [1, 2, 3, 10];
    let backends: Vec<Backend> = weights
        .iter()
        .enumerate()
        .map(|(i, &weight)| Backend {
            id: server(i),
            weight,
        })
        .collect();
    let t = table(&backends);
    let mut hits = [0usize; 4];
    let calls = call_ids();
    for c in &calls {
        hits[usize::from(lookup(&t, call_id_hash(&KEY, c)).unwrap())] += 1;
    }
    for (&w, &h) in weights.iter().zip(&hits) {
        let expected = calls.len() as f64 * f64::from(w) / 16.0;
        assert!(
            (h as f64 - expected).abs() < 0.15 * expected + 40.0,
            "weight {w}: {h} calls, {expected} expected"
        );
    }
}

#[test]
fn the_key_changes_the_table() {
    let backends = equal(10);
    let other = SipKey::from_bytes(*b"another key 16 b");
    let differ = table(&backends)
        .iter()
        .zip(try_table(&other, &backends).unwrap())
        .filter(|(a, b)| **a != *b)
        .count();
    // Two unrelated tables of 10 servers agree on about a tenth of the slots.
    assert!(differ > TABLE_SIZE * 8 / 10, "{differ}");
    assert_ne!(call_id_hash(&KEY, b"abc"), call_id_hash(&other, b"abc"));
    assert_ne!(
        source_hash(&KEY, &server(1)),
        source_hash(&other, &server(1))
    );
}

#[test]
fn size_errors() {
    let backends = equal(MAX_BACKENDS + 1);
    assert_eq!(
        try_table(&KEY, &backends),
        Err(PopulateError::TooManyBackends)
    );
    let backends = equal(MAX_BACKENDS);
    let t = table(&backends);
    assert!(counts(&t, MAX_BACKENDS)
        .iter()
        .all(|&c| c == 100 || c == 101));
    let mut scratch = vec![Scratch::default(); 2];
    let mut table = vec![0; TABLE_SIZE];
    assert_eq!(
        populate(&KEY, &equal(3), &mut scratch, &mut table),
        Err(PopulateError::ScratchSize)
    );
    assert_eq!(lookup(&[], 5), None);
    assert!(try_table(&KEY, &[]).unwrap().iter().all(|&e| e == EMPTY));
}

#[test]
fn extreme_weights_fill_the_table_in_proportion() {
    let mut backends = equal(8);
    backends[0].weight = u32::MAX;
    backends[1].weight = u32::MAX - 1;
    backends[5].weight = 0;
    let t = table(&backends);
    let c = counts(&t, 8);
    assert_eq!(c.iter().sum::<usize>(), TABLE_SIZE);
    assert_eq!(c[5], 0);
    assert!(c[0].abs_diff(c[1]) <= 1);
    // Weight 1 against 2^32: no slot, or one from rounding.
    assert!(c[2] <= 1);
}
