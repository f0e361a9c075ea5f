//! The kernel's `jhash()` (Bob Jenkins' lookup2-style hash of `include/linux/jhash.h`), in
//! Rust.
//!
//! The persistence engine hashes a template's Call-ID with it (`hashkey_raw`), as the C
//! engine does, so that both put the same template in the same bucket of IPVS's connection
//! table. Written here rather than called through a C wrapper because a call out of the
//! module costs more than the hash of a short Call-ID; compiled into the kernel module as a
//! module of its crate (`#[path]`), like `callid.rs`, so it uses `core` only.

/// The kernel's `JHASH_INITVAL`.
const INITVAL: u32 = 0xdead_beef;

/// `jhash(key, key.len(), initval)` of the kernel on a little-endian machine.
///
/// Keys longer than `u32::MAX` bytes are hashed as if their length were taken modulo 2^32
/// in the initial state, as C's `u32 length` would; the engine's keys are at most 255 bytes.
#[inline]
#[must_use]
pub fn jhash(key: &[u8], initval: u32) -> u32 {
    // C's `u32 length`: only its low 32 bits enter the state.
    let len = key.len() as u32;
    let mut a = INITVAL.wrapping_add(len).wrapping_add(initval);
    let mut b = a;
    let mut c = a;

    // Every 12-byte block but the last is mixed in; the last (1 to 12 bytes) is finished.
    let mut rest = key;
    while rest.len() > 12 {
        let Some((block, tail)) = rest.split_first_chunk::<12>() else {
            break;
        };
        // C's `__get_unaligned_cpu32`: native-endian words.
        let [b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11] = *block;
        a = a.wrapping_add(u32::from_ne_bytes([b0, b1, b2, b3]));
        b = b.wrapping_add(u32::from_ne_bytes([b4, b5, b6, b7]));
        c = c.wrapping_add(u32::from_ne_bytes([b8, b9, b10, b11]));
        (a, b, c) = mix(a, b, c);
        rest = tail;
    }
    if rest.is_empty() {
        return c;
    }
    // C adds the last bytes one by one, byte `i` shifted left by `8 * (i % 4)` into word
    // `i / 4` of (a, b, c): the block zero-padded to 12 bytes, read as little-endian words.
    a = a.wrapping_add(le_word(rest));
    b = b.wrapping_add(le_word(rest.get(4..).unwrap_or_default()));
    c = c.wrapping_add(le_word(rest.get(8..).unwrap_or_default()));
    final_mix(a, b, c)
}

/// The first 4 bytes of `s`, zero-padded if it has fewer, as a little-endian word.
#[inline]
fn le_word(s: &[u8]) -> u32 {
    match *s {
        [] => 0,
        [b0] => u32::from(b0),
        [b0, b1] => u32::from_le_bytes([b0, b1, 0, 0]),
        [b0, b1, b2] => u32::from_le_bytes([b0, b1, b2, 0]),
        [b0, b1, b2, b3, ..] => u32::from_le_bytes([b0, b1, b2, b3]),
    }
}

/// `__jhash_mix`: mixes three words reversibly.
#[inline]
fn mix(mut a: u32, mut b: u32, mut c: u32) -> (u32, u32, u32) {
    a = a.wrapping_sub(c) ^ c.rotate_left(4);
    c = c.wrapping_add(b);
    b = b.wrapping_sub(a) ^ a.rotate_left(6);
    a = a.wrapping_add(c);
    c = c.wrapping_sub(b) ^ b.rotate_left(8);
    b = b.wrapping_add(a);
    a = a.wrapping_sub(c) ^ c.rotate_left(16);
    c = c.wrapping_add(b);
    b = b.wrapping_sub(a) ^ a.rotate_left(19);
    a = a.wrapping_add(c);
    c = c.wrapping_sub(b) ^ b.rotate_left(4);
    b = b.wrapping_add(a);
    (a, b, c)
}

/// `__jhash_final`: the last mixing of three words into `c`.
#[inline]
fn final_mix(mut a: u32, mut b: u32, mut c: u32) -> u32 {
    c = (c ^ b).wrapping_sub(b.rotate_left(14));
    a = (a ^ c).wrapping_sub(c.rotate_left(11));
    b = (b ^ a).wrapping_sub(a.rotate_left(25));
    c = (c ^ b).wrapping_sub(b.rotate_left(16));
    a = (a ^ c).wrapping_sub(c.rotate_left(4));
    b = (b ^ a).wrapping_sub(a.rotate_left(14));
    (c ^ b).wrapping_sub(b.rotate_left(24))
}
