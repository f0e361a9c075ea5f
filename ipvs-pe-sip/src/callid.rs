//! Call-ID extraction from the UDP payload of a SIP message.
//!
//! IPVS keeps every message of a call on one real server by keying its
//! connection templates on the Call-ID, so this parser runs on every
//! datagram of a SIP virtual service, in softirq context, on untrusted
//! bytes. It therefore never panics, allocates nothing and borrows the
//! answer from the payload.
//!
//! The kernel module compiles this very file as a module of its own crate
//! (`#[path = ".../callid.rs"] pub mod callid;`), so it uses `core` only,
//! carries no crate-level attributes and uses nothing newer than the
//! kernel's minimum rustc (1.78, checked by `kernel-lints.sh`). Every `pub`
//! item is part of the interface the module calls and must be exported by
//! the including crate.
//!
//! The grammar is the one the C engine (`ip_vs_pe_sip.c` on top of the SIP
//! conntrack helper's header parser) accepts, with the fixes listed in
//! `docs/c-engine-differences.md`:
//!
//! * the first non-empty line is the request or status line, never a header;
//! * the header section ends at the first empty line: bodies are not searched;
//! * a header is `Call-ID` or its compact form `i` (any case), optional
//!   whitespace, `:`, optional whitespace, where whitespace is SP/HTAB with at
//!   most one continuation line (a line end followed by SP/HTAB);
//! * lines end with CRLF, CR or LF;
//! * the value is `word ["@" word]` (RFC 3261 `callid`), where word characters
//!   are RFC 3261's plus the Latin-1 letters, as the kernel's `isalnum()` says;
//! * the value is at most [`PEDATA_MAXLEN`] bytes and is followed by optional
//!   SP/HTAB and a line end;
//! * a `Call-ID` header whose value is not a `callid` is skipped, and so is a
//!   header whose name merely starts with `Call-ID` or `i`.

/// Longest Call-ID an IPVS connection template can store
/// (`IP_VS_PEDATA_MAXLEN`); a longer one cannot be kept whole.
pub const PEDATA_MAXLEN: usize = 255;

/// Why a datagram carries no usable Call-ID (the kernel falls back to normal
/// persistence).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallIdError {
    /// The header section has no `Call-ID` header with a well-formed value.
    NotFound,
    /// The Call-ID is longer than [`PEDATA_MAXLEN`] bytes.
    TooLong,
    /// The Call-ID is followed by something other than the end of its line,
    /// so it is only the beginning of some value we do not understand.
    BadTerminator,
}

impl CallIdError {
    /// Short stable lowercase name of the reason, used by the kernel module
    /// to label its statistics; these strings are an interface, never rename
    /// them.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NotFound => "no_callid",
            Self::TooLong => "too_long",
            Self::BadTerminator => "bad_terminator",
        }
    }
}

/// The Call-ID value of a SIP message: a sub-slice of `payload`.
///
/// `payload` is the UDP payload of one datagram. The first `Call-ID` (or
/// `i`) header of the header section with a well-formed value decides the
/// answer.
///
/// # Errors
///
/// [`CallIdError::TooLong`] or [`CallIdError::BadTerminator`] if that value
/// cannot be used, [`CallIdError::NotFound`] if there is no such header.
#[inline]
pub fn call_id(payload: &[u8]) -> Result<&[u8], CallIdError> {
    match HeaderLines::new(payload).find_map(call_id_field) {
        None => Err(CallIdError::NotFound),
        Some((value, _)) if value.len() > PEDATA_MAXLEN => Err(CallIdError::TooLong),
        Some((value, after)) => match skip_wsp(after) {
            [b'\r' | b'\n', ..] => Ok(value),
            _ => Err(CallIdError::BadTerminator),
        },
    }
}

/// The full header name; the compact form is `i`.
const NAME: &[u8] = b"Call-ID";

/// Iterator over the header lines of a message, each given as the rest of
/// the message from the line's first byte.
///
/// Continuation lines are yielded too: they start with SP/HTAB, so they
/// never look like a header name.
struct HeaderLines<'a> {
    rest: Option<&'a [u8]>,
}

impl<'a> HeaderLines<'a> {
    #[inline]
    fn new(payload: &'a [u8]) -> Self {
        // Line ends before the start line are ignored (RFC 3261 7.5), and the
        // start line itself is never a header.
        let start_line = skip_while(payload, is_line_end);
        Self {
            rest: next_line(start_line),
        }
    }
}

impl<'a> Iterator for HeaderLines<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        let line = self.rest?;
        match line.first() {
            // The end of the message or an empty line: no more headers.
            None | Some(b'\r' | b'\n') => {
                self.rest = None;
                None
            }
            Some(_) => {
                self.rest = next_line(line);
                Some(line)
            }
        }
    }
}

/// If `line` starts a `Call-ID` header with a well-formed value, that value
/// and the bytes after it.
#[inline]
fn call_id_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let after_name = match split_at(line, NAME.len()) {
        Some((name, rest)) if name.eq_ignore_ascii_case(NAME) => rest,
        _ => match line {
            [b'i' | b'I', rest @ ..] => rest,
            _ => return None,
        },
    };
    // Anything but whitespace and a colon after the name means a different
    // header (`Call-IDx`, `i-foo`) or not a header at all.
    match skip_sws(after_name) {
        [b':', value @ ..] => split_callid(skip_sws(value)),
        _ => None,
    }
}

/// Splits RFC 3261 `callid = word ["@" word]` off the front of `s`; `None`
/// if `s` does not start with one.
#[inline]
fn split_callid(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let local = word_len(s);
    if local == 0 {
        return None;
    }
    let len = match s.get(local) {
        Some(b'@') => {
            let host_start = local.checked_add(1)?;
            let host = word_len(s.get(host_start..)?);
            if host == 0 {
                return None;
            }
            host_start.checked_add(host)?
        }
        _ => local,
    };
    split_at(s, len)
}

/// `s` split at `mid`, or `None` if `mid` is past its end; `<[u8]>::split_at_checked` is
/// newer than the kernel's minimum Rust version (1.78).
fn split_at(s: &[u8], mid: usize) -> Option<(&[u8], &[u8])> {
    Some((s.get(..mid)?, s.get(mid..)?))
}

/// Length of the run of word characters at the front of `s`.
#[inline]
fn word_len(s: &[u8]) -> usize {
    s.iter()
        .take_while(|&&b| WORD_CHARS.get(usize::from(b)) == Some(&true))
        .count()
}

/// [`is_word_char`] for every byte: one load per character of a Call-ID, where the
/// `matches!` compiles to a jump table (an indirect jump for each punctuation character).
// Computed at compile time: an index out of bounds would fail the build, not panic.
#[allow(clippy::indexing_slicing)]
static WORD_CHARS: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < table.len() {
        table[b] = is_word_char(b as u8);
        b += 1;
    }
    table
};

/// A character of RFC 3261 `word`, or a Latin-1 letter: the kernel's
/// `isalnum()` counts those as letters, and accepting them as the C engine
/// does keeps calls with such Call-IDs on the server C would pick.
const fn is_word_char(b: u8) -> bool {
    matches!(
        b,
        b'a'..=b'z'
            | b'A'..=b'Z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'!'
            | b'%'
            | b'*'
            | b'_'
            | b'+'
            | b'`'
            | b'\''
            | b'~'
            | b'('
            | b')'
            | b'<'
            | b'>'
            | b':'
            | b'\\'
            | b'"'
            | b'/'
            | b'['
            | b']'
            | b'?'
            | b'{'
            | b'}'
            | 0xc0..=0xd6
            | 0xd8..=0xf6
            | 0xf8..=0xff
    )
}

const fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

const fn is_line_end(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

#[inline]
fn skip_while(mut s: &[u8], pred: fn(u8) -> bool) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !pred(*first) {
            break;
        }
        s = rest;
    }
    s
}

#[inline]
fn skip_wsp(s: &[u8]) -> &[u8] {
    skip_while(s, is_wsp)
}

/// Skips the whitespace allowed around the colon: SP/HTAB, and at most one
/// continuation line. Stops at a line end that does not continue.
#[inline]
fn skip_sws(s: &[u8]) -> &[u8] {
    let s = skip_wsp(s);
    match strip_line_end(s) {
        Some(next @ [b' ' | b'\t', ..]) => skip_wsp(next),
        _ => s,
    }
}

/// The bytes after the line end that `s` starts with (CRLF, CR or LF).
#[inline]
fn strip_line_end(s: &[u8]) -> Option<&[u8]> {
    match s {
        // CRLF is one line end, not a CR line end and an empty LF line.
        [b'\r', b'\n', rest @ ..] => Some(rest),
        [b'\r' | b'\n', rest @ ..] => Some(rest),
        _ => None,
    }
}

/// The rest of the message after the end of the line `s` starts on; `None`
/// if that line has no end.
#[inline]
fn next_line(s: &[u8]) -> Option<&[u8]> {
    let end = find_line_end(s)?;
    strip_line_end(s.get(end..)?)
}

/// Index of the first CR or LF in `s`.
///
/// Finding line ends is most of the parser's work (every byte of every header before the
/// Call-ID), so this looks at 8 bytes per step: a byte of `x ^ CR` is zero where `x` has a
/// CR, and `(v - 0x01..) & !v & 0x80..` marks zero bytes of `v`. A mark can be wrong only
/// above a true one (a borrow out of a zero byte), so the lowest mark of the
/// little-endian word is the first line end.
#[inline]
fn find_line_end(s: &[u8]) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    const CR: u64 = u64::from_ne_bytes([b'\r'; 8]);
    const LF: u64 = u64::from_ne_bytes([b'\n'; 8]);
    let zero_bytes = |v: u64| v.wrapping_sub(ONES) & !v & HIGH;
    let mut chunks = s.chunks_exact(8);
    let mut offset = 0usize;
    for chunk in &mut chunks {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let x = u64::from_le_bytes(bytes);
        let marks = zero_bytes(x ^ CR) | zero_bytes(x ^ LF);
        if marks != 0 {
            // `trailing_zeros` of a non-zero u64 is below 64, so the index is below 8.
            return offset.checked_add((marks.trailing_zeros() / 8) as usize);
        }
        offset = offset.checked_add(8)?;
    }
    let tail = chunks.remainder().iter().position(|&b| is_line_end(b))?;
    offset.checked_add(tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn naive(s: &[u8]) -> Option<usize> {
        s.iter().position(|&b| is_line_end(b))
    }

    /// Bytes next to CR (0x0d) and LF (0x0a) in value, and with the high bit set, are the
    /// ones a word-at-a-time search could mistake for a line end.
    const TRICKY: [u8; 12] = [
        0x00, 0x01, 0x09, 0x0b, 0x0c, 0x0e, 0x7f, 0x80, 0x8a, 0x8d, 0xff, b'a',
    ];

    #[test]
    fn line_end_at_every_position_and_alignment() {
        for len in 0..=40 {
            for &fill in &TRICKY {
                let mut s = [fill; 40];
                let s = &mut s[..len];
                assert_eq!(find_line_end(s), None, "len {len} fill {fill:#x}");
                for pos in 0..len {
                    for end in [b'\r', b'\n'] {
                        s[pos] = end;
                        // A second line end later must not change the answer.
                        for later in pos..len {
                            let saved = s[later];
                            s[later] = b'\n';
                            assert_eq!(find_line_end(s), Some(pos), "{s:x?}");
                            s[later] = saved;
                        }
                        s[pos] = fill;
                    }
                }
            }
        }
    }

    proptest! {
        #[test]
        fn same_as_a_byte_by_byte_search(
            s in proptest::collection::vec(
                prop_oneof![proptest::sample::select(&TRICKY[..]), Just(b'\r'), Just(b'\n'), any::<u8>()],
                0..80,
            ),
            skip in 0usize..8,
        ) {
            // Every start alignment of the same bytes.
            let s = s.get(skip.min(s.len())..).unwrap_or_default();
            prop_assert_eq!(find_line_end(s), naive(s));
        }
    }
}
