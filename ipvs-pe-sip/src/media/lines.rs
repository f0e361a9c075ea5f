//! Lines and whitespace, the way the SIP header section, MIME parts and SDP are cut here.
//!
//! A line ends with CRLF, CR or LF, as in `callid.rs`; whitespace is SP or HTAB. Every
//! function looks at each byte at most once and returns a sub-slice of its input.

/// SP or HTAB.
pub(super) const fn is_wsp(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// CR or LF.
pub(super) const fn is_line_end(b: u8) -> bool {
    b == b'\r' || b == b'\n'
}

/// Linear whitespace inside a header value: SP, HTAB, and the line ends of its
/// continuation lines (a header's raw value ends at a line end that is not followed by
/// whitespace, so any line end inside it folds).
pub(super) const fn is_lws(b: u8) -> bool {
    is_wsp(b) || is_line_end(b)
}

/// `s` without its leading bytes for which `pred` holds.
pub(super) fn skip_while(mut s: &[u8], pred: fn(u8) -> bool) -> &[u8] {
    while let [first, rest @ ..] = s {
        if !pred(*first) {
            break;
        }
        s = rest;
    }
    s
}

/// `s` without its trailing bytes for which `pred` holds.
pub(super) fn trim_end(mut s: &[u8], pred: fn(u8) -> bool) -> &[u8] {
    while let [rest @ .., last] = s {
        if !pred(*last) {
            break;
        }
        s = rest;
    }
    s
}

/// `s` without leading SP/HTAB.
pub(super) fn skip_wsp(s: &[u8]) -> &[u8] {
    skip_while(s, is_wsp)
}

/// `s` without leading or trailing linear whitespace.
pub(super) fn trim_lws(s: &[u8]) -> &[u8] {
    trim_end(skip_while(s, is_lws), is_lws)
}

/// The whitespace allowed between a header's name and its colon, as `callid.rs` has it:
/// SP/HTAB with at most one continuation line. Stops at a line end that does not continue.
pub(super) fn skip_sws(s: &[u8]) -> &[u8] {
    let s = skip_wsp(s);
    match strip_line_end(s) {
        Some(next @ [b' ' | b'\t', ..]) => skip_wsp(next),
        _ => s,
    }
}

/// The bytes after the line end that `s` starts with (CRLF, CR or LF).
pub(super) fn strip_line_end(s: &[u8]) -> Option<&[u8]> {
    match s {
        // CRLF is one line end, not a CR line end and an empty LF line.
        [b'\r', b'\n', rest @ ..] | [b'\r' | b'\n', rest @ ..] => Some(rest),
        _ => None,
    }
}

/// `s` without the one line end it ends with, if any.
pub(super) fn strip_final_line_end(s: &[u8]) -> &[u8] {
    match s {
        [rest @ .., b'\r', b'\n'] | [rest @ .., b'\r' | b'\n'] => rest,
        _ => s,
    }
}

/// The line at the front of `s` without its line end, and the bytes after that line end;
/// `None` for them if the line has no end (it is the last).
pub(super) fn split_line(s: &[u8]) -> (&[u8], Option<&[u8]>) {
    match s.iter().position(|&b| is_line_end(b)) {
        None => (s, None),
        Some(end) => match split_at(s, end) {
            Some((line, at_end)) => (line, strip_line_end(at_end)),
            None => (s, None),
        },
    }
}

/// `s` split at `mid`, or `None` if `mid` is past its end (`<[u8]>::split_at_checked` is
/// newer than the kernel's minimum Rust version, 1.78).
pub(super) fn split_at(s: &[u8], mid: usize) -> Option<(&[u8], &[u8])> {
    Some((s.get(..mid)?, s.get(mid..)?))
}

/// The part of `whole` before `rest`, where `rest` is a suffix of `whole` (a later
/// position of the same scan); `None` if it is not.
pub(super) fn before<'a>(whole: &'a [u8], rest: &[u8]) -> Option<&'a [u8]> {
    whole.get(..whole.len().checked_sub(rest.len())?)
}

/// The lines of a text, without their line ends; a last line without an end is one too.
pub(super) struct Lines<'a> {
    rest: &'a [u8],
}

impl<'a> Lines<'a> {
    /// The lines of `s`.
    pub(super) const fn new(s: &'a [u8]) -> Self {
        Self { rest: s }
    }
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.rest.is_empty() {
            return None;
        }
        let (line, after) = split_line(self.rest);
        self.rest = after.unwrap_or_default();
        Some(line)
    }
}

/// Whether `s` starts with `prefix`, ASCII case ignored.
pub(super) fn starts_with_ignore_case(s: &[u8], prefix: &[u8]) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends() {
        assert_eq!(split_line(b"a\r\nb"), (&b"a"[..], Some(&b"b"[..])));
        assert_eq!(split_line(b"a\n\nb"), (&b"a"[..], Some(&b"\nb"[..])));
        assert_eq!(split_line(b"a\rb"), (&b"a"[..], Some(&b"b"[..])));
        assert_eq!(split_line(b"a\r\r\nb"), (&b"a"[..], Some(&b"\r\nb"[..])));
        assert_eq!(split_line(b"ab"), (&b"ab"[..], None));
        assert_eq!(split_line(b""), (&b""[..], None));
        let lines: [&[u8]; 4] = [b"v=0", b"", b"m=x", b"last"];
        assert!(Lines::new(b"v=0\r\n\nm=x\rlast").eq(lines));
        assert!(Lines::new(b"v=0\r\n").eq([&b"v=0"[..]]));
        assert_eq!(Lines::new(b"").count(), 0);
    }

    #[test]
    fn whitespace() {
        assert_eq!(skip_sws(b" \r\n :x"), b":x");
        assert_eq!(skip_sws(b" \r\n \r\n :x"), b"\r\n :x");
        assert_eq!(skip_sws(b"\r\n:x"), b"\r\n:x");
        assert_eq!(trim_lws(b" \r\n\ta b\r\n "), b"a b");
        assert_eq!(strip_final_line_end(b"x\r\n"), b"x");
        assert_eq!(strip_final_line_end(b"x\n\n"), b"x\n");
        assert_eq!(before(b"abcd", b"cd"), Some(&b"ab"[..]));
        assert!(starts_with_ignore_case(b"Content-Type", b"content-"));
        assert!(!starts_with_ignore_case(b"Con", b"content-"));
    }
}
