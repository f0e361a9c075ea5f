//! The SIP side of a message: its start line, the header fields the media parser needs
//! (`CSeq`, `Content-Type`, `Content-Length`) and where its body starts.
//!
//! Header names are matched as in `callid.rs`: any case, the compact form where SIP has
//! one, optional whitespace with at most one continuation line before the colon. A header
//! field is its first line and every continuation line after it (a line that starts with
//! SP/HTAB), so a folded value is read whole; the header section ends at the first empty
//! line, and the body starts after it.

use super::addr::decimal;
use super::lines::{
    before, is_line_end, is_lws, is_wsp, skip_sws, skip_while, split_at, split_line,
    starts_with_ignore_case, trim_lws,
};
use super::{Method, StartLine};

/// The protocol of every SIP message, ASCII case ignored.
const SIP_VERSION: &[u8] = b"SIP/2.0";

/// The start line of a message; `None` if it is neither a request line
/// (`METHOD SP Request-URI SP SIP/2.0`) nor a status line (`SIP/2.0 SP 3DIGIT [SP reason]`,
/// a code from 100 to 699).
pub(super) fn start_line(line: &[u8]) -> Option<StartLine> {
    if let Some(after) = strip_prefix_ignore_case(line, SIP_VERSION) {
        let after = after.strip_prefix(b" ")?;
        let (code, reason) = split_at(after, 3)?;
        if !(reason.is_empty() || reason.first() == Some(&b' ')) {
            return None;
        }
        let code = u16::try_from(decimal(code)?).ok()?;
        return (100..=699)
            .contains(&code)
            .then_some(StartLine::Response(code));
    }
    let method_len = line.iter().take_while(|&&b| is_token_char(b)).count();
    let (method, rest) = split_at(line, method_len)?;
    if method.is_empty() {
        return None;
    }
    // SP Request-URI SP SIP-Version: the URI has no spaces and is not empty.
    let uri_and_version = rest.strip_prefix(b" ")?;
    let uri_len = uri_and_version.iter().take_while(|&&b| b != b' ').count();
    let (uri, version) = split_at(uri_and_version, uri_len)?;
    let version = version.strip_prefix(b" ")?;
    (!uri.is_empty() && version.eq_ignore_ascii_case(SIP_VERSION))
        .then_some(StartLine::Request(Method::from_token(method)))
}

/// A method token of RFC 3261: alphanumerics and `- . ! % * _ + ' ~` and the backtick.
const fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
        )
}

/// `s` without `prefix`, ASCII case ignored; `None` if it does not start with it.
fn strip_prefix_ignore_case<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    if starts_with_ignore_case(s, prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// The method of a `CSeq` value (`1*DIGIT LWS Method`); `None` if it is not one.
pub(super) fn cseq_method(value: &[u8]) -> Option<Method> {
    let value = trim_lws(value);
    let digits = value.iter().take_while(|b| b.is_ascii_digit()).count();
    let (number, rest) = split_at(value, digits)?;
    // RFC 3261: the sequence number is below 2**31.
    if decimal(number)? >= 1 << 31 {
        return None;
    }
    let method = skip_while(rest, is_lws);
    if method.len() == rest.len() || method.is_empty() || !method.iter().all(|&b| is_token_char(b))
    {
        return None;
    }
    Some(Method::from_token(method))
}

/// The value of a `Content-Length` header: the body's length in bytes, saturated at
/// `usize::MAX` (any such length is past the end of a datagram); `None` if the value is not
/// a decimal number.
pub(super) fn content_length(value: &[u8]) -> Option<usize> {
    let value = trim_lws(value);
    if value.is_empty() {
        return None;
    }
    value.iter().try_fold(0usize, |n, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        Some(n.saturating_mul(10).saturating_add(usize::from(d)))
    })
}

/// The header fields of a header section, each with its continuation lines, up to the
/// empty line that ends the section; after the iteration, [`Fields::body`] says where the
/// body starts.
pub(super) struct Fields<'a> {
    /// The first line of the next field, `None` once the section has ended.
    rest: Option<&'a [u8]>,
    /// The bytes after the empty line, once it has been seen.
    body: Option<&'a [u8]>,
}

/// One header field: the name as written and the raw value after the colon (with its
/// continuation lines and line ends: read it with the LWS-tolerant helpers).
pub(super) struct Field<'a> {
    pub(super) name: &'a [u8],
    pub(super) value: &'a [u8],
}

impl Field<'_> {
    /// Whether the field is `full` or its compact form `compact`, ASCII case ignored.
    pub(super) fn is(&self, full: &[u8], compact: Option<u8>) -> bool {
        self.name.eq_ignore_ascii_case(full)
            || matches!((self.name, compact), ([c], Some(k)) if c.eq_ignore_ascii_case(&k))
    }
}

impl<'a> Fields<'a> {
    /// The fields of the header section that starts at `s`; `None` if there is none (the
    /// start line was the whole message).
    pub(super) const fn new(s: Option<&'a [u8]>) -> Self {
        Self {
            rest: s,
            body: None,
        }
    }

    /// The bytes after the empty line that ended the header section; `None` if it has not
    /// been reached (or the message has no such line: then it has no body).
    pub(super) const fn body(&self) -> Option<&'a [u8]> {
        self.body
    }

    /// The next field as one slice: its first line and its continuation lines, up to the
    /// first line of the next field.
    fn next_raw(&mut self) -> Option<&'a [u8]> {
        let s = self.rest?;
        match s.first() {
            // The end of the message: no empty line, no body.
            None => {
                self.rest = None;
                None
            }
            Some(&b) if is_line_end(b) => {
                self.body = split_line(s).1;
                self.rest = None;
                None
            }
            Some(_) => {
                // Each turn moves past one line: the field's lines are read once.
                let mut line = s;
                let next = loop {
                    match split_line(line).1 {
                        Some(more @ [first, ..]) if is_wsp(*first) => line = more,
                        other => break other,
                    }
                };
                self.rest = next;
                before(s, next.unwrap_or_default())
            }
        }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Field<'a>;

    fn next(&mut self) -> Option<Field<'a>> {
        // A field without a name and a colon (a continuation line where no header was, or
        // garbage) is skipped, as the Call-ID parser skips such lines.
        loop {
            let raw = self.next_raw()?;
            let name_len = raw.iter().take_while(|&&b| !is_lws(b) && b != b':').count();
            let Some((name, after)) = split_at(raw, name_len) else {
                continue;
            };
            if let (false, [b':', value @ ..]) = (name.is_empty(), skip_sws(after)) {
                return Some(Field { name, value });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_lines() {
        use Method::*;
        let req = |m| Some(StartLine::Request(m));
        assert_eq!(
            start_line(b"INVITE sip:bob@example.com SIP/2.0"),
            req(Invite)
        );
        assert_eq!(start_line(b"ACK sip:bob@example.com sip/2.0"), req(Ack));
        assert_eq!(start_line(b"BYE sip:b SIP/2.0"), req(Bye));
        assert_eq!(start_line(b"CANCEL sip:b SIP/2.0"), req(Cancel));
        assert_eq!(start_line(b"UPDATE sip:b SIP/2.0"), req(Update));
        assert_eq!(start_line(b"PRACK sip:b SIP/2.0"), req(Prack));
        assert_eq!(start_line(b"OPTIONS sip:b SIP/2.0"), req(Other));
        // Methods are case-sensitive.
        assert_eq!(start_line(b"invite sip:b SIP/2.0"), req(Other));
        assert_eq!(start_line(b"INVITEX sip:b SIP/2.0"), req(Other));
        assert_eq!(
            start_line(b"SIP/2.0 200 OK"),
            Some(StartLine::Response(200))
        );
        assert_eq!(start_line(b"SIP/2.0 183"), Some(StartLine::Response(183)));
        for bad in [
            &b""[..],
            b"INVITE",
            b"INVITE sip:b",
            b"INVITE  SIP/2.0",
            b"INVITE sip:b SIP/2.0 ",
            b"INVITE sip:b HTTP/1.1",
            b" INVITE sip:b SIP/2.0",
            b"SIP/2.0 99 x",
            b"SIP/2.0 700 x",
            b"SIP/2.0 2000 x",
            b"SIP/2.0 20",
            b"SIP/2.0 +20 x",
            b"SIP/2.0200 OK",
            b"HTTP/1.1 200 OK",
        ] {
            assert_eq!(start_line(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn cseq() {
        assert_eq!(cseq_method(b" 1 INVITE"), Some(Method::Invite));
        assert_eq!(cseq_method(b"4711\r\n BYE \r\n"), Some(Method::Bye));
        assert_eq!(cseq_method(b"2 CANCEL"), Some(Method::Cancel));
        assert_eq!(cseq_method(b"2 OPTIONS"), Some(Method::Other));
        for bad in [
            &b""[..],
            b"INVITE",
            b"1INVITE",
            b"1",
            b"x 1 INVITE",
            b"2147483648 BYE",
            b"1 BY E",
        ] {
            assert_eq!(cseq_method(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn lengths() {
        assert_eq!(content_length(b" 0"), Some(0));
        assert_eq!(content_length(b" 142 \r\n"), Some(142));
        assert_eq!(
            content_length(b"99999999999999999999999999"),
            Some(usize::MAX)
        );
        assert_eq!(content_length(b""), None);
        assert_eq!(content_length(b"1 2"), None);
        assert_eq!(content_length(b"-1"), None);
    }

    #[test]
    fn fields_and_body() {
        let msg = b"Via: x\r\nSubject: a\r\n  b\r\n\tc\r\nc :\r\n application/sdp\r\n \r\n: no name\r\nl:\r\n 3\r\n\r\nbody";
        let mut fields = Fields::new(Some(msg));
        let got: [(&[u8], &[u8]); 4] = [
            (b"Via", b" x\r\n"),
            (b"Subject", b" a\r\n  b\r\n\tc\r\n"),
            (b"c", b"\r\n application/sdp\r\n \r\n"),
            (b"l", b"\r\n 3\r\n"),
        ];
        for (name, value) in got {
            let f = fields.next().unwrap();
            assert_eq!((f.name, f.value), (name, value));
        }
        assert!(fields.next().is_none());
        assert_eq!(fields.body(), Some(&b"body"[..]));
        // No empty line: no body.
        let mut fields = Fields::new(Some(b"Via: x\r\n"));
        assert!(fields.next().is_some() && fields.next().is_none());
        assert_eq!(fields.body(), None);
        // Two continuation lines between the name and the colon: not a field.
        assert!(Fields::new(Some(b"c\r\n \r\n :x\r\n\r\n")).next().is_none());
        let f = Fields::new(Some(b"C : x\r\n\r\n")).next().unwrap();
        assert!(f.is(b"Content-Type", Some(b'c')));
        assert!(!f.is(b"Content-Type", None));
    }
}
