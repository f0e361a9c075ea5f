//! SipHash-2-4 (Aumasson and Bernstein), the keyed hash of the `sipmh` scheduler.
//!
//! A keyed hash, so that a client who does not know the key cannot choose Call-IDs that all
//! land on one server; SipHash because the kernel has the same function (`lib/siphash.c`)
//! and it is fast on short inputs. Compiled into the kernel module as a module of its crate
//! (`#[path]`), like `callid.rs`, so it uses `core` only and cannot panic.

/// A SipHash key: two 64-bit words, as the kernel's `siphash_key_t` holds them.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct SipKey {
    k0: u64,
    k1: u64,
}

impl SipKey {
    /// The key whose bytes are `b`: two little-endian words, as the reference code reads them.
    #[must_use]
    pub const fn from_bytes(b: [u8; 16]) -> Self {
        let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = b;
        Self {
            k0: u64::from_le_bytes([a0, a1, a2, a3, a4, a5, a6, a7]),
            k1: u64::from_le_bytes([b0, b1, b2, b3, b4, b5, b6, b7]),
        }
    }

    /// The key written as exactly 32 hex digits (either case), its bytes in order, as the
    /// module parameter `hash_key` takes it; `None` for anything else (a trailing newline
    /// included: the caller trims what it allows).
    #[must_use]
    pub fn from_hex(s: &[u8]) -> Option<Self> {
        if s.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (byte, pair) in bytes.iter_mut().zip(s.chunks_exact(2)) {
            let &[hi, lo] = pair else {
                return None;
            };
            *byte = (hex_digit(hi)? << 4) | hex_digit(lo)?;
        }
        Some(Self::from_bytes(bytes))
    }

    /// The key's 16 bytes, the inverse of [`SipKey::from_bytes`].
    #[must_use]
    pub const fn to_bytes(self) -> [u8; 16] {
        let [a0, a1, a2, a3, a4, a5, a6, a7] = self.k0.to_le_bytes();
        let [b0, b1, b2, b3, b4, b5, b6, b7] = self.k1.to_le_bytes();
        [
            a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7,
        ]
    }
}

/// The value of one hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(c.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(c.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// SipHash-2-4 of `data` under `key`.
#[must_use]
pub fn siphash(key: &SipKey, data: &[u8]) -> u64 {
    let mut h = Hasher::new(key);
    h.write(data);
    h.finish()
}

/// SipHash-2-4 of several pieces taken as one message, without a buffer: the scheduler
/// reads a Call-ID out of a packet in pieces, and the table hashes a tag with a server's id.
#[derive(Clone, Debug)]
pub struct Hasher {
    v: [u64; 4],
    /// The bytes of an incomplete word, in its low bytes.
    tail: u64,
    /// Bytes written so far; only its low byte enters the hash, as the algorithm says.
    len: usize,
}

impl Hasher {
    /// A hasher that has seen nothing.
    #[must_use]
    pub const fn new(key: &SipKey) -> Self {
        Self {
            // "somepseudorandomlygeneratedbytes", the algorithm's constants.
            v: [
                key.k0 ^ 0x736f_6d65_7073_6575,
                key.k1 ^ 0x646f_7261_6e64_6f6d,
                key.k0 ^ 0x6c79_6765_6e65_7261,
                key.k1 ^ 0x7465_6462_7974_6573,
            ],
            tail: 0,
            len: 0,
        }
    }

    /// Appends `data` to the message.
    pub fn write(&mut self, data: &[u8]) {
        let mut rest = data;
        // Complete a word left incomplete by the previous write, byte by byte.
        while self.len & 7 != 0 {
            let Some((&b, more)) = rest.split_first() else {
                return;
            };
            self.push_byte(b);
            rest = more;
        }
        while let Some((word, more)) = rest.split_first_chunk::<8>() {
            self.compress(u64::from_le_bytes(*word));
            self.len = self.len.wrapping_add(8);
            rest = more;
        }
        for &b in rest {
            self.push_byte(b);
        }
    }

    /// The hash of everything written; the hasher can go on being written to.
    #[must_use]
    pub fn finish(&self) -> u64 {
        let mut s = self.clone();
        // The last word: the remaining bytes, and the message length's low byte on top.
        let last = s.tail | (u64::from(s.len as u8) << 56);
        s.compress(last);
        let [_, _, v2, _] = &mut s.v;
        *v2 ^= 0xff;
        for _ in 0..4 {
            sip_round(&mut s.v);
        }
        let [v0, v1, v2, v3] = s.v;
        v0 ^ v1 ^ v2 ^ v3
    }

    /// Adds one byte to the incomplete word, compressing it once it is full.
    fn push_byte(&mut self, b: u8) {
        let shift = ((self.len & 7) as u32) << 3;
        self.tail |= u64::from(b) << shift;
        self.len = self.len.wrapping_add(1);
        if self.len & 7 == 0 {
            let word = core::mem::take(&mut self.tail);
            self.compress(word);
        }
    }

    /// Mixes one message word into the state: two rounds (the "2" of SipHash-2-4).
    fn compress(&mut self, m: u64) {
        let [_, _, _, v3] = &mut self.v;
        *v3 ^= m;
        sip_round(&mut self.v);
        sip_round(&mut self.v);
        let [v0, _, _, _] = &mut self.v;
        *v0 ^= m;
    }
}

/// One SipRound: additions, rotations and exclusive ors over the four state words.
#[inline]
fn sip_round(v: &mut [u64; 4]) {
    let [v0, v1, v2, v3] = v;
    *v0 = v0.wrapping_add(*v1);
    *v1 = v1.rotate_left(13) ^ *v0;
    *v0 = v0.rotate_left(32);
    *v2 = v2.wrapping_add(*v3);
    *v3 = v3.rotate_left(16) ^ *v2;
    *v0 = v0.wrapping_add(*v3);
    *v3 = v3.rotate_left(21) ^ *v0;
    *v2 = v2.wrapping_add(*v1);
    *v1 = v1.rotate_left(17) ^ *v2;
    *v2 = v2.rotate_left(32);
}
