//! Finding the SDP in a body: its `Content-Type`, and the parts of a multipart body.
//!
//! A `multipart/*` body (RFC 2046; SIP uses `mixed`, `alternative` and `related`, and an
//! unknown subtype reads as `mixed`) is cut at its delimiter lines: a line that starts with
//! `--` and the boundary, then `--` on the closing one, then only whitespace. Each part is
//! a MIME header section, an empty line and the part's body; a part without a
//! `Content-Type` is `text/plain`. The first `application/sdp` part, depth first, is the
//! message's SDP. Multipart bodies nest at most [`MAX_MULTIPART_DEPTH`] deep.
//!
//! Work: a level of nesting reads each line of its body once to find the delimiters, and
//! once more as a part's headers or SDP; comparing a line with the boundary stops at its
//! first difference, which is inside the line (a boundary has no line ends). So each byte
//! is read a few times per level, at most [`MAX_MULTIPART_DEPTH`] levels: linear in the
//! body's length.

use super::lines::{
    before, is_lws, skip_while, skip_wsp, split_at, split_line, strip_final_line_end, trim_lws,
};
use super::sdp;
use super::sip::Fields;
use super::{MediaError, MediaSet, MAX_BOUNDARY_LEN, MAX_MULTIPART_DEPTH};

/// A parsed `Content-Type` value: `type "/" subtype *(";" parameter)`, with linear
/// whitespace (folding included) allowed around every separator.
pub(super) struct ContentType<'a> {
    kind: &'a [u8],
    subtype: &'a [u8],
    /// The parameters, from the first `;`.
    params: &'a [u8],
}

impl<'a> ContentType<'a> {
    /// Parses a header's raw value; `None` if it is not a media type.
    pub(super) fn parse(value: &'a [u8]) -> Option<Self> {
        let value = trim_lws(value);
        let (kind, rest) = token(value);
        let rest = skip_while(rest, is_lws).strip_prefix(b"/")?;
        let (subtype, params) = token(skip_while(rest, is_lws));
        let params = skip_while(params, is_lws);
        let ct = Self {
            kind,
            subtype,
            params,
        };
        // The parameters must be well formed too; `boundary` reads them again.
        let ok = !kind.is_empty()
            && !subtype.is_empty()
            && (params.is_empty() || params.first() == Some(&b';'))
            && ct.param(b"").is_ok();
        ok.then_some(ct)
    }

    /// Whether this is `kind/subtype`, ASCII case ignored.
    pub(super) fn is(&self, kind: &[u8], subtype: &[u8]) -> bool {
        self.kind.eq_ignore_ascii_case(kind) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// The value of the first parameter called `name` (ASCII case ignored), unquoted;
    /// `Ok(None)` if there is none, `Err` if the parameters are malformed (`Err(())` carries
    /// no reason: there is one, the caller's). A quoted value keeps its backslashes:
    /// no boundary has one, and the caller refuses them.
    fn param(&self, name: &[u8]) -> Result<Option<&'a [u8]>, ()> {
        let mut rest = self.params;
        let mut found = None;
        // Each turn consumes at least the `;`: linear in the parameters' length.
        while let [b';', after @ ..] = rest {
            let after = skip_while(after, is_lws);
            let (attribute, after) = token(after);
            let after = skip_while(after, is_lws);
            let after = after.strip_prefix(b"=").ok_or(())?;
            let after = skip_while(after, is_lws);
            let (value, after) = match after {
                [b'"', quoted @ ..] => quoted_string(quoted).ok_or(())?,
                _ => match value_token(after) {
                    ([], _) => return Err(()),
                    value_and_after => value_and_after,
                },
            };
            if attribute.is_empty() {
                return Err(());
            }
            if found.is_none() && !name.is_empty() && attribute.eq_ignore_ascii_case(name) {
                found = Some(value);
            }
            rest = skip_while(after, is_lws);
        }
        if rest.is_empty() {
            Ok(found)
        } else {
            Err(())
        }
    }
}

/// The run of token bytes at the front of `s` (anything visible but the separators this
/// grammar uses: `/ ; = "`), and what follows it.
fn token(s: &[u8]) -> (&[u8], &[u8]) {
    let len = s
        .iter()
        .take_while(|&&b| b.is_ascii_graphic() && !matches!(b, b'/' | b';' | b'=' | b'"'))
        .count();
    split_at(s, len).unwrap_or((&[], s))
}

/// The run of bytes of an unquoted parameter value at the front of `s`: anything visible
/// but `;` and `"`, so that values MIME would have quoted (`boundary==_1`,
/// `type=application/sdp`) are read as their senders meant; and what follows it.
fn value_token(s: &[u8]) -> (&[u8], &[u8]) {
    let len = s
        .iter()
        .take_while(|&&b| b.is_ascii_graphic() && b != b';' && b != b'"')
        .count();
    split_at(s, len).unwrap_or((&[], s))
}

/// The inside of a quoted string whose opening quote has been read, and what follows the
/// closing quote; `None` if it does not close. A backslash escapes the next byte.
fn quoted_string(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut escaped = false;
    let end = s.iter().position(|&b| {
        let close = b == b'"' && !escaped;
        escaped = b == b'\\' && !escaped;
        close
    })?;
    let (inside, quote_and_rest) = split_at(s, end)?;
    Some((inside, quote_and_rest.get(1..)?))
}

/// Finds the SDP in `body`, whose `Content-Type` header has the raw value `content_type`
/// (`None`: there was none), `depth` levels of multipart down, and parses it into `set`.
pub(super) fn find_sdp(
    content_type: Option<&[u8]>,
    body: &[u8],
    depth: usize,
    set: &mut MediaSet,
) -> Result<(), MediaError> {
    let ct = ContentType::parse(content_type.ok_or(MediaError::NoSdp)?)
        .ok_or(MediaError::BadContentType)?;
    if ct.is(b"application", b"sdp") {
        return sdp::parse(body, set);
    }
    if !ct.kind.eq_ignore_ascii_case(b"multipart") {
        return Err(MediaError::NoSdp);
    }
    if depth >= MAX_MULTIPART_DEPTH {
        return Err(MediaError::BadMultipart);
    }
    let boundary = match ct.param(b"boundary") {
        Ok(Some(b)) if is_boundary(b) => b,
        _ => return Err(MediaError::BadMultipart),
    };
    let next_depth = depth.checked_add(1).ok_or(MediaError::BadMultipart)?;
    let mut parts = Parts::new(body, boundary)?;
    while let Some(part) = parts.next_part()? {
        let mut fields = Fields::new(Some(part));
        let part_type = fields
            .by_ref()
            .find(|f| f.is(b"Content-Type", Some(b'c')))
            .map(|f| f.value);
        // The header section's end, found by reading on.
        fields.by_ref().for_each(drop);
        let Some(part_body) = fields.body() else {
            continue;
        };
        match find_sdp(part_type, part_body, next_depth, set) {
            Err(MediaError::NoSdp) => continue,
            other => return other,
        }
    }
    Err(MediaError::NoSdp)
}

/// RFC 2046's boundary: 1 to 70 characters, none of them a control character, a quote or a
/// backslash, not ending with a space.
fn is_boundary(b: &[u8]) -> bool {
    (1..=MAX_BOUNDARY_LEN).contains(&b.len())
        && b.iter()
            .all(|&c| (c == b' ' || c.is_ascii_graphic()) && c != b'"' && c != b'\\')
        && b.last() != Some(&b' ')
}

/// What a line of a multipart body is.
#[derive(PartialEq)]
enum Delimiter {
    /// Not a delimiter: part of a part.
    No,
    /// `--boundary`: a part follows.
    Next,
    /// `--boundary--`: the last part has ended.
    Close,
}

/// Whether `line` (without its line end) is a delimiter line of `boundary`.
fn delimiter(line: &[u8], boundary: &[u8]) -> Delimiter {
    let Some(after) = line
        .strip_prefix(b"--")
        .and_then(|l| l.strip_prefix(boundary))
    else {
        return Delimiter::No;
    };
    match after.strip_prefix(b"--") {
        Some(padding) if skip_wsp(padding).is_empty() => Delimiter::Close,
        None if skip_wsp(after).is_empty() => Delimiter::Next,
        _ => Delimiter::No,
    }
}

/// The parts of a multipart body, in order.
struct Parts<'a> {
    boundary: &'a [u8],
    /// The first line of the next part; `None` after the closing delimiter.
    rest: Option<&'a [u8]>,
}

impl<'a> Parts<'a> {
    /// Skips the preamble up to the first delimiter.
    fn new(body: &'a [u8], boundary: &'a [u8]) -> Result<Self, MediaError> {
        let mut s = body;
        loop {
            let (line, after) = split_line(s);
            match delimiter(line, boundary) {
                Delimiter::Next => {
                    return Ok(Self {
                        boundary,
                        rest: Some(after.unwrap_or_default()),
                    })
                }
                Delimiter::Close => return Err(MediaError::BadMultipart),
                Delimiter::No => s = after.ok_or(MediaError::BadMultipart)?,
            }
        }
    }

    /// The next part (its header section, empty line and body, without the line end
    /// before the delimiter); `Ok(None)` after the last; an error if the body ends before
    /// a delimiter does (the closing one included).
    fn next_part(&mut self) -> Result<Option<&'a [u8]>, MediaError> {
        let Some(start) = self.rest else {
            return Ok(None);
        };
        let mut s = start;
        loop {
            let (line, after) = split_line(s);
            let kind = delimiter(line, self.boundary);
            if kind != Delimiter::No {
                self.rest = match kind {
                    Delimiter::Close => None,
                    _ => Some(after.unwrap_or_default()),
                };
                let part = before(start, s).ok_or(MediaError::BadMultipart)?;
                return Ok(Some(strip_final_line_end(part)));
            }
            s = after.ok_or(MediaError::BadMultipart)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types() {
        let ct = ContentType::parse(b" application/sdp\r\n").unwrap();
        assert!(ct.is(b"application", b"sdp"));
        let ct = ContentType::parse(b"Application / SDP ; charset = utf-8").unwrap();
        assert!(ct.is(b"application", b"sdp"));
        let ct = ContentType::parse(b"multipart/mixed;boundary=unique-boundary-1").unwrap();
        assert_eq!(ct.param(b"boundary"), Ok(Some(&b"unique-boundary-1"[..])));
        let ct = ContentType::parse(b"multipart/alternative ;\r\n BOUNDARY = \"a b;c=d\" ; x=y")
            .unwrap();
        assert_eq!(ct.param(b"boundary"), Ok(Some(&b"a b;c=d"[..])));
        assert_eq!(ct.param(b"x"), Ok(Some(&b"y"[..])));
        assert_eq!(ct.param(b"z"), Ok(None));
        let ct = ContentType::parse(b"multipart/mixed; a=\"q\\\"\"; boundary=b").unwrap();
        assert_eq!(ct.param(b"boundary"), Ok(Some(&b"b"[..])));
        let ct =
            ContentType::parse(b"multipart/related;type=application/sdp;boundary==_1").unwrap();
        assert_eq!(ct.param(b"type"), Ok(Some(&b"application/sdp"[..])));
        assert_eq!(ct.param(b"boundary"), Ok(Some(&b"=_1"[..])));
        for bad in [
            &b""[..],
            b"application",
            b"application/",
            b"/sdp",
            b"application/sdp x",
            b"application/sdp;",
            b"application/sdp; =x",
            b"application/sdp; a",
            b"application/sdp; a=\"open",
            b"application/sdp; a=b c",
        ] {
            assert!(ContentType::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn delimiters() {
        assert!(delimiter(b"--b1", b"b1") == Delimiter::Next);
        assert!(delimiter(b"--b1 \t", b"b1") == Delimiter::Next);
        assert!(delimiter(b"--b1--", b"b1") == Delimiter::Close);
        assert!(delimiter(b"--b1-- ", b"b1") == Delimiter::Close);
        assert!(delimiter(b"--b1x", b"b1") == Delimiter::No);
        assert!(delimiter(b"--b", b"b1") == Delimiter::No);
        assert!(delimiter(b"b1", b"b1") == Delimiter::No);
        assert!(delimiter(b" --b1", b"b1") == Delimiter::No);
        assert!(is_boundary(b"simple boundary"));
        assert!(!is_boundary(b""));
        assert!(!is_boundary(b"trailing "));
        assert!(!is_boundary(&[b'x'; 71]));
        assert!(is_boundary(&[b'x'; 70]));
    }

    #[test]
    fn parts() {
        let body = b"preamble\r\n--b\r\nA\r\n--b\n\nB\r\n\r\n--b--\r\nepilogue";
        let mut parts = Parts::new(body, b"b").unwrap();
        assert_eq!(parts.next_part(), Ok(Some(&b"A"[..])));
        assert_eq!(parts.next_part(), Ok(Some(&b"\nB\r\n"[..])));
        assert_eq!(parts.next_part(), Ok(None));
        let mut parts = Parts::new(b"--b\r\nA\r\n--b\r\n", b"b").unwrap();
        assert_eq!(parts.next_part(), Ok(Some(&b"A"[..])));
        assert_eq!(parts.next_part(), Err(MediaError::BadMultipart));
        assert!(Parts::new(b"no delimiter\r\n", b"b").is_err());
        assert!(Parts::new(b"--b--\r\n", b"b").is_err());
    }
}
