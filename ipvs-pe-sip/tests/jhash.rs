//! `jhash` against the kernel's: known answers computed by the kernel's own
//! `include/linux/jhash.h` (linux-source-6.12, compiled for x86_64 with a shim for
//! `rol32` and `__get_unaligned_cpu32`), for every path through it: the empty key, each
//! length of the last block (1 to 12), one and several full blocks before it, and the
//! longest Call-ID (255 bytes), each with three initial values.

use ipvs_pe_sip::jhash;

/// The key bytes the answers were computed on: `key[i] = i * 37 + 11 (mod 256)`.
fn key(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 37 + 11) as u8).collect()
}

/// `(length, initval, jhash(key(length), length, initval))` from the kernel's code.
const KERNEL: &[(usize, u32, u32)] = &[
    (0, 0x00000000, 0xdeadbeef),
    (0, 0x00000001, 0xdeadbef0),
    (0, 0x9e3779b9, 0x7ce538a8),
    (1, 0x00000000, 0xb9c0f036),
    (1, 0x00000001, 0x1dba4c54),
    (1, 0x9e3779b9, 0x5c8a8633),
    (2, 0x00000000, 0x76ccdd71),
    (2, 0x00000001, 0x237b1407),
    (2, 0x9e3779b9, 0x60d5e7c9),
    (3, 0x00000000, 0xa71025c3),
    (3, 0x00000001, 0x320724ed),
    (3, 0x9e3779b9, 0x57335406),
    (4, 0x00000000, 0x44e1a72e),
    (4, 0x00000001, 0xe9902b09),
    (4, 0x9e3779b9, 0x5373fd14),
    (5, 0x00000000, 0xcd53084d),
    (5, 0x00000001, 0x7f32a56c),
    (5, 0x9e3779b9, 0x55bf47ef),
    (8, 0x00000000, 0x39c60a25),
    (8, 0x00000001, 0x7e2d8083),
    (8, 0x9e3779b9, 0xd8178bf2),
    (11, 0x00000000, 0x37d9d710),
    (11, 0x00000001, 0xbb03edcd),
    (11, 0x9e3779b9, 0x045a1a23),
    (12, 0x00000000, 0x387958f9),
    (12, 0x00000001, 0xbf61348c),
    (12, 0x9e3779b9, 0xec8fb5d2),
    (13, 0x00000000, 0x0d543670),
    (13, 0x00000001, 0x89017ca5),
    (13, 0x9e3779b9, 0x4b7e2e89),
    (23, 0x00000000, 0x63d5873f),
    (23, 0x00000001, 0x7bdd9b63),
    (23, 0x9e3779b9, 0x70c3c536),
    (24, 0x00000000, 0x2d9723a7),
    (24, 0x00000001, 0x161146cc),
    (24, 0x9e3779b9, 0x94e5e69e),
    (25, 0x00000000, 0x43bd1aa6),
    (25, 0x00000001, 0xe559abd0),
    (25, 0x9e3779b9, 0x893909ae),
    (36, 0x00000000, 0xb1bfaf9f),
    (36, 0x00000001, 0x352538a1),
    (36, 0x9e3779b9, 0xba063d99),
    (37, 0x00000000, 0x8ed39ebc),
    (37, 0x00000001, 0xf11bff85),
    (37, 0x9e3779b9, 0x30a68df7),
    (100, 0x00000000, 0x4c5a8703),
    (100, 0x00000001, 0x4514defd),
    (100, 0x9e3779b9, 0xd8ac50f6),
    (255, 0x00000000, 0x0d997c5d),
    (255, 0x00000001, 0x870260b7),
    (255, 0x9e3779b9, 0xa5840916),
];

#[test]
fn same_as_the_kernel() {
    for &(len, initval, want) in KERNEL {
        assert_eq!(
            jhash(&key(len), initval),
            want,
            "length {len}, initval {initval:#x}"
        );
    }
}

#[test]
fn a_call_id_as_the_kernel_hashes_it() {
    assert_eq!(
        jhash(b"a84b4c76e66710@pc33.atlanta.example.com", 0),
        0x7209_c83d
    );
}

#[test]
fn every_byte_of_the_key_counts() {
    // Flipping any bit of a 255-byte key changes the hash (not guaranteed for a hash in
    // general, but true of these keys: a lost byte would show here).
    let base = key(255);
    let h = jhash(&base, 0);
    for i in 0..base.len() {
        let mut k = base.clone();
        k[i] ^= 1;
        assert_ne!(jhash(&k, 0), h, "byte {i}");
    }
}
