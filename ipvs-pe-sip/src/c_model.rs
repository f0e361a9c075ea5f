//! A model of the C engine, the oracle the tests compare [`call_id`] with.
//!
//! It follows `get_callid()` of `ip_vs_pe_sip.c` and the SIP conntrack
//! helper's `ct_sip_get_header()` for `Call-Id`/`i` step by step, pointer
//! arithmetic turned into indices, so it gives exactly what C gives, quirks
//! included. Each quirk that [`call_id`] fixes can be switched off
//! ([`Quirks`]); with all of them off the model must agree with [`call_id`]
//! on every input, which is what lets [`explain`] name the quirks behind
//! each disagreement with C.
//!
//! The model indexes like C does: C guards every read with a length check,
//! so a panic here (an index out of bounds, an overflow) means the C code
//! would read out of bounds, and the fuzz target looks for that too.
#![allow(
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::manual_range_contains
)]

use crate::{call_id, CallIdError, PEDATA_MAXLEN};
use core::fmt;

/// A behaviour of the C engine that [`call_id`] deliberately does not share.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Quirk {
    /// A line that starts with `Call-Id` or `i` (not followed by a letter)
    /// but has no colon after the name and its whitespace, such as
    /// `Call-IDx:`, `i-foo:`, `i1:` or `Call-ID x`, ends the whole search.
    PrefixName,
    /// A Call-ID header with nothing but whitespace after its colon on its
    /// line (and no continuation line) ends the whole search.
    EmptyValue,
    /// After a Call-ID header with a malformed value, the search restarts at
    /// `dataoff + matchoff` although `matchoff` is already absolute: the
    /// second and later retries jump too far.
    RetryOffset,
    /// SP/HTAB between the value and its line end makes the value rejected.
    TrailingWhitespace,
    /// The search does not stop at the empty line that ends the header
    /// section: lines of the body (SDP `i=`, a `message/sipfrag` body) are
    /// taken for headers.
    Body,
    /// Line ends before the start line are not skipped: the first of them
    /// ends the "start line", so the start line itself is searched as a
    /// header.
    LeadingLineEnds,
}

impl Quirk {
    /// Every quirk, in the order [`explain`] fixes them.
    pub const ALL: [Self; 6] = [
        Self::PrefixName,
        Self::EmptyValue,
        Self::RetryOffset,
        Self::TrailingWhitespace,
        Self::LeadingLineEnds,
        Self::Body,
    ];

    /// Short stable name, for test reports and the corpus labels.
    pub const fn name(self) -> &'static str {
        match self {
            Self::PrefixName => "prefix_name",
            Self::EmptyValue => "empty_value",
            Self::RetryOffset => "retry_offset",
            Self::TrailingWhitespace => "trailing_whitespace",
            Self::Body => "body",
            Self::LeadingLineEnds => "leading_line_ends",
        }
    }

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`Quirk`]s.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Quirks(u8);

impl Quirks {
    /// No quirk: the model then behaves like [`call_id`].
    pub const NONE: Self = Self(0);
    /// Every quirk: the model then behaves like the C engine.
    pub const C: Self = Self(
        Quirk::PrefixName.bit()
            | Quirk::EmptyValue.bit()
            | Quirk::RetryOffset.bit()
            | Quirk::TrailingWhitespace.bit()
            | Quirk::Body.bit()
            | Quirk::LeadingLineEnds.bit(),
    );

    /// Whether `quirk` is in the set.
    pub const fn contains(self, quirk: Quirk) -> bool {
        self.0 & quirk.bit() != 0
    }

    /// The set with `quirk` added.
    pub const fn with(self, quirk: Quirk) -> Self {
        Self(self.0 | quirk.bit())
    }

    /// The set with `quirk` removed.
    pub const fn without(self, quirk: Quirk) -> Self {
        Self(self.0 & !quirk.bit())
    }

    /// The quirks of `self` that are not in `other`.
    pub const fn minus(self, other: Self) -> Self {
        Self(self.0 & !other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The quirks in the set, in [`Quirk::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Quirk> {
        Quirk::ALL.into_iter().filter(move |&q| self.contains(q))
    }
}

impl fmt::Debug for Quirks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl fmt::Display for Quirks {
    /// The quirk names joined with `+`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("none");
        }
        for (i, quirk) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(quirk.name())?;
        }
        Ok(())
    }
}

/// What the C engine answers for `payload`.
pub fn c_call_id(payload: &[u8]) -> Result<&[u8], CallIdError> {
    model(payload, Quirks::C)
}

/// What the C engine would answer for `payload` with only the given quirks.
///
/// C cannot tell its failures apart (all are `-EINVAL`); the model names
/// them like [`call_id`] does: `ct_sip_get_header()` finding nothing is
/// [`CallIdError::NotFound`], and the two checks of `get_callid()` are
/// [`CallIdError::TooLong`] and [`CallIdError::BadTerminator`].
pub fn model(payload: &[u8], quirks: Quirks) -> Result<&[u8], CallIdError> {
    // ip_vs_sip_fill_param() gives up on an empty payload before parsing.
    if payload.is_empty() {
        return Err(CallIdError::NotFound);
    }
    let data = if quirks.contains(Quirk::LeadingLineEnds) {
        payload
    } else {
        let leading = payload
            .iter()
            .take_while(|&&c| c == b'\r' || c == b'\n')
            .count();
        &payload[leading..]
    };
    let (off, len) = get_callid(data, quirks)?;
    Ok(&data[off..off + len])
}

/// Which quirks of the C engine explain that [`call_id`] answers `payload`
/// differently: [`Quirks::NONE`] where the two agree, `None` where no set of
/// quirks does (a bug in one of the two).
///
/// A single quirk whose fix alone makes the model agree with [`call_id`] is
/// the answer, the first in [`Quirk::ALL`] order if several do. Otherwise the
/// quirks are fixed one after another until the model agrees, and then each
/// fix that is not needed for the agreement is undone, so the answer is a
/// minimal set.
pub fn explain(payload: &[u8]) -> Option<Quirks> {
    let ours = call_id(payload);
    let agrees = |fixed: Quirks| model(payload, Quirks::C.minus(fixed)) == ours;
    if agrees(Quirks::NONE) {
        return Some(Quirks::NONE);
    }
    if let Some(quirk) = Quirk::ALL
        .into_iter()
        .find(|&q| agrees(Quirks::NONE.with(q)))
    {
        return Some(Quirks::NONE.with(quirk));
    }
    let mut fixed = Quirks::NONE;
    for quirk in Quirk::ALL {
        fixed = fixed.with(quirk);
        if agrees(fixed) {
            break;
        }
    }
    if !agrees(fixed) {
        return None;
    }
    for quirk in fixed.iter() {
        if agrees(fixed.without(quirk)) {
            fixed = fixed.without(quirk);
        }
    }
    Some(fixed)
}

// ---- include/linux/ctype.h and lib/ctype.c -------------------------------
//
// The kernel's ctype covers Latin-1: 0xc0..=0xde but 0xd7 are upper case
// letters, 0xdf..=0xff but 0xf7 lower case ones.

fn isupper(c: u8) -> bool {
    c.is_ascii_uppercase() || (0xc0..=0xde).contains(&c) && c != 0xd7
}

fn islower(c: u8) -> bool {
    c.is_ascii_lowercase() || (0xdf..=0xff).contains(&c) && c != 0xf7
}

fn isalpha(c: u8) -> bool {
    isupper(c) || islower(c)
}

fn isalnum(c: u8) -> bool {
    isalpha(c) || c.is_ascii_digit()
}

fn tolower(c: u8) -> u8 {
    if isupper(c) {
        c + (b'a' - b'A')
    } else {
        c
    }
}

/// `strncasecmp()` of lib/string.c: `s2` is a C string, `s1` is read for at
/// most `len` bytes.
fn strncasecmp(s1: &[u8], s2: &[u8], len: usize) -> i32 {
    let (mut c1, mut c2) = (0u8, 0u8);
    // C reads `len` bytes of `s1` whatever they are: slicing panics where C
    // would read out of bounds.
    for (i, &b1) in s1[..len].iter().enumerate() {
        c1 = b1;
        c2 = s2.get(i).copied().unwrap_or(0);
        if c1 == 0 || c2 == 0 {
            break;
        }
        if c1 == c2 {
            continue;
        }
        c1 = tolower(c1);
        c2 = tolower(c2);
        if c1 != c2 {
            break;
        }
    }
    i32::from(c1) - i32::from(c2)
}

// ---- net/netfilter/nf_conntrack_sip.c ------------------------------------

/// `iswordc()`. The kernel builds with `-funsigned-char`, so the range
/// comparisons see bytes >= 0x80 as large and never admit them; with a
/// signed `char` they would be negative and fail the ranges as well
/// (`tests/rules.rs` checks both readings agree). Either way only
/// `isalnum()`, that is the Latin-1 letters, lets high bytes in.
pub fn iswordc(c: u8) -> bool {
    isalnum(c)
        || c == b'!'
        || c == b'"'
        || c == b'%'
        || (c >= b'(' && c <= b'+')
        || c == b':'
        || c == b'<'
        || c == b'>'
        || c == b'?'
        || (c >= b'[' && c <= b']')
        || c == b'_'
        || c == b'`'
        || c == b'{'
        || c == b'}'
        || c == b'~'
        || (c >= b'-' && c <= b'/')
        || c == b'\''
}

fn word_len(data: &[u8], mut dptr: usize, limit: usize) -> usize {
    let mut len = 0;
    while dptr < limit && iswordc(data[dptr]) {
        dptr += 1;
        len += 1;
    }
    len
}

fn callid_len(data: &[u8], mut dptr: usize, limit: usize) -> usize {
    let mut len = word_len(data, dptr, limit);
    dptr += len;
    if len == 0 || dptr == limit || data[dptr] != b'@' {
        return len;
    }
    dptr += 1;
    len += 1;
    let domain_len = word_len(data, dptr, limit);
    if domain_len == 0 {
        return 0;
    }
    len + domain_len
}

fn sip_follow_continuation(data: &[u8], mut dptr: usize, limit: usize) -> Option<usize> {
    // Walk past newline.
    dptr += 1;
    if dptr >= limit {
        return None;
    }
    // Skip '\n' in CR LF.
    if data[dptr - 1] == b'\r' && data[dptr] == b'\n' {
        dptr += 1;
        if dptr >= limit {
            return None;
        }
    }
    // Continuation line?
    if data[dptr] != b' ' && data[dptr] != b'\t' {
        return None;
    }
    while dptr < limit && (data[dptr] == b' ' || data[dptr] == b'\t') {
        dptr += 1;
    }
    Some(dptr)
}

fn sip_skip_whitespace(data: &[u8], mut dptr: usize, limit: usize) -> Option<usize> {
    while dptr < limit {
        let c = data[dptr];
        if c == b' ' || c == b'\t' {
            dptr += 1;
            continue;
        }
        if c != b'\r' && c != b'\n' {
            break;
        }
        dptr = sip_follow_continuation(data, dptr, limit)?;
        break;
    }
    (dptr < limit).then_some(dptr)
}

/// The answer of `ct_sip_get_header()`.
enum Header {
    /// 0: no Call-ID header.
    None,
    /// -1: a Call-ID header whose value is not a `callid`; `*matchoff` is
    /// where the value starts.
    Malformed { matchoff: usize },
    /// 1: the value at `matchoff`, `matchlen` bytes long.
    Found { matchoff: usize, matchlen: usize },
}

/// `ct_sip_get_header(ct, dptr, dataoff, datalen, SIP_HDR_CALL_ID, ...)`.
fn ct_sip_get_header(data: &[u8], dataoff: usize, quirks: Quirks) -> Header {
    const NAME: &[u8] = b"Call-Id";
    const CNAME: &[u8] = b"i";
    let limit = data.len();
    let mut dptr = dataoff;
    // for (dptr += dataoff; dptr < limit; dptr++): `break 'next` is C's
    // `continue`.
    while dptr < limit {
        'next: {
            // Find beginning of line.
            if data[dptr] != b'\r' && data[dptr] != b'\n' {
                break 'next;
            }
            dptr += 1;
            if dptr >= limit {
                return Header::None;
            }
            if data[dptr - 1] == b'\r' && data[dptr] == b'\n' {
                dptr += 1;
                if dptr >= limit {
                    return Header::None;
                }
            }
            if !quirks.contains(Quirk::Body) && (data[dptr] == b'\r' || data[dptr] == b'\n') {
                // Fixed: an empty line ends the header section.
                return Header::None;
            }
            // Skip continuation lines.
            if data[dptr] == b' ' || data[dptr] == b'\t' {
                break 'next;
            }
            // Find header. Compact headers must be followed by a
            // non-alphabetic character to avoid mismatches.
            if limit - dptr >= NAME.len() && strncasecmp(&data[dptr..], NAME, NAME.len()) == 0 {
                dptr += NAME.len();
            } else if limit - dptr > CNAME.len() // C: `>= hdr->clen + 1`
                && strncasecmp(&data[dptr..], CNAME, CNAME.len()) == 0
                && !isalpha(data[dptr + CNAME.len()])
            {
                dptr += CNAME.len();
            } else {
                break 'next;
            }
            let name_end = dptr;
            // Find and skip colon.
            let colon = match sip_skip_whitespace(data, dptr, limit) {
                Some(p) if data[p] == b':' => p,
                _ if quirks.contains(Quirk::PrefixName) => return Header::None,
                _ => {
                    // Fixed: not this header, go on after its name.
                    dptr = name_end - 1;
                    break 'next;
                }
            };
            dptr = colon + 1;
            if dptr >= limit {
                return Header::None;
            }
            // Skip whitespace after colon.
            dptr = match sip_skip_whitespace(data, dptr, limit) {
                Some(p) => p,
                None if quirks.contains(Quirk::EmptyValue) => return Header::None,
                None => {
                    // Fixed: no value, go on after the colon.
                    dptr = colon;
                    break 'next;
                }
            };
            let matchoff = dptr;
            let matchlen = callid_len(data, dptr, limit);
            if matchlen == 0 {
                return Header::Malformed { matchoff };
            }
            return Header::Found { matchoff, matchlen };
        }
        dptr += 1;
    }
    Header::None
}

/// `get_callid(dptr, 0, datalen, &matchoff, &matchlen)`.
fn get_callid(data: &[u8], quirks: Quirks) -> Result<(usize, usize), CallIdError> {
    let datalen = data.len();
    let mut dataoff = 0;
    let (matchoff, matchlen) = loop {
        match ct_sip_get_header(data, dataoff, quirks) {
            Header::Found { matchoff, matchlen } => break (matchoff, matchlen),
            Header::None => return Err(CallIdError::NotFound),
            Header::Malformed { matchoff } => {
                if quirks.contains(Quirk::RetryOffset) {
                    dataoff += matchoff;
                } else {
                    dataoff = matchoff;
                }
            }
        }
    };
    // Too large is useless.
    if matchlen > PEDATA_MAXLEN {
        return Err(CallIdError::TooLong);
    }
    let mut end = matchoff + matchlen;
    if !quirks.contains(Quirk::TrailingWhitespace) {
        while end < datalen && (data[end] == b' ' || data[end] == b'\t') {
            end += 1;
        }
    }
    // SIP headers are always followed by a line terminator.
    if end == datalen {
        return Err(CallIdError::BadTerminator);
    }
    if data[end] != b'\r' && data[end] != b'\n' {
        return Err(CallIdError::BadTerminator);
    }
    Ok((matchoff, matchlen))
}
