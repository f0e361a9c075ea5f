//! `siphash` against an independent SipHash-2-4 (the `siphasher` crate): the paper's test
//! key and messages, arbitrary keys and messages written in arbitrary pieces, and the hex
//! form of keys that the module parameter `hash_key` takes.

use ipvs_pe_sip::siphash::{siphash, Hasher, SipKey};
use proptest::prelude::*;
use siphasher::sip::SipHasher24;

/// What the independent implementation says.
fn reference(key: [u8; 16], data: &[u8]) -> u64 {
    SipHasher24::new_with_key(&key).hash(data)
}

/// The paper's test key, bytes 00 to 0f.
const PAPER_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

#[test]
fn the_papers_messages_under_its_key() {
    // Messages 00, 00 01, ...: every length of the last word, several words before it.
    let key = SipKey::from_bytes(PAPER_KEY);
    for len in 0..=64u8 {
        let msg: Vec<u8> = (0..len).collect();
        assert_eq!(
            siphash(&key, &msg),
            reference(PAPER_KEY, &msg),
            "length {len}"
        );
    }
}

#[test]
fn the_papers_worked_example() {
    // The paper's appendix hashes 00..0e under its key: the one answer printed in it, which
    // also shows that the comparison crate reads the key in the same byte order.
    let msg: Vec<u8> = (0..15).collect();
    assert_eq!(
        siphash(&SipKey::from_bytes(PAPER_KEY), &msg),
        0xa129_ca61_49be_45e5
    );
}

#[test]
fn hasher_goes_on_after_finish() {
    let key = SipKey::from_bytes(PAPER_KEY);
    let mut h = Hasher::new(&key);
    h.write(b"Call-ID");
    let first = h.finish();
    h.write(b": a84b4c76e66710");
    assert_eq!(first, siphash(&key, b"Call-ID"));
    assert_eq!(h.finish(), siphash(&key, b"Call-ID: a84b4c76e66710"));
}

#[test]
fn hex_keys() {
    let key = SipKey::from_hex(b"000102030405060708090a0b0c0D0E0F").unwrap();
    assert_eq!(key, SipKey::from_bytes(PAPER_KEY));
    for bad in [
        &b""[..],
        b"000102030405060708090a0b0c0d0e0",    // 31 digits
        b"000102030405060708090a0b0c0d0e0f0",  // 33
        b"000102030405060708090a0b0c0d0e0f\n", // the newline of `echo KEY >`
        b"000102030405060708090a0b0c0d0e0g",
        b"0x0102030405060708090a0b0c0d0e0f",
        b" 00102030405060708090a0b0c0d0e0f",
    ] {
        assert_eq!(
            SipKey::from_hex(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

proptest! {
    #[test]
    fn any_key_any_message(key in any::<[u8; 16]>(), data in proptest::collection::vec(any::<u8>(), 0..300)) {
        prop_assert_eq!(siphash(&SipKey::from_bytes(key), &data), reference(key, &data));
    }

    #[test]
    fn pieces_hash_as_the_whole(
        key in any::<[u8; 16]>(),
        data in proptest::collection::vec(any::<u8>(), 0..100),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let key = SipKey::from_bytes(key);
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(data.len() + 1)).collect();
        cuts.sort_unstable();
        let mut h = Hasher::new(&key);
        let mut from = 0;
        for cut in cuts.into_iter().chain([data.len()]) {
            h.write(&data[from..cut]);
            from = cut;
        }
        prop_assert_eq!(h.finish(), siphash(&key, &data));
    }

    #[test]
    fn hex_round_trip(bytes in any::<[u8; 16]>(), upper in any::<bool>()) {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let hex = if upper { hex.to_uppercase() } else { hex };
        let key = SipKey::from_hex(hex.as_bytes());
        prop_assert_eq!(key, Some(SipKey::from_bytes(bytes)));
        prop_assert_eq!(key.map(SipKey::to_bytes), Some(bytes));
    }

    #[test]
    fn hex_accepts_exactly_32_hex_digits(s in proptest::collection::vec(any::<u8>(), 0..40)) {
        let valid = s.len() == 32 && s.iter().all(u8::is_ascii_hexdigit);
        prop_assert_eq!(SipKey::from_hex(&s).is_some(), valid);
    }

    #[test]
    fn hex_accepts_exactly_32_hex_digits_of_hex(s in "[0-9a-fA-F]{0,40}") {
        prop_assert_eq!(SipKey::from_hex(s.as_bytes()).is_some(), s.len() == 32);
    }
}
