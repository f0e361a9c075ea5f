//! The rules `call_id()` shares with the C engine, each checked against both
//! `call_id()` and the C model.

mod common;

use common::*;
use ipvs_pe_sip::c_model::{c_call_id, iswordc};
use ipvs_pe_sip::{call_id, PEDATA_MAXLEN};

#[test]
fn full_name() {
    assert_both(
        &request("Call-ID: a84b4c76e66710\r\n"),
        val("a84b4c76e66710"),
    );
}

#[test]
fn compact_name() {
    assert_both(&request("i: a84b4c76e66710\r\n"), val("a84b4c76e66710"));
}

#[test]
fn names_are_case_insensitive() {
    for name in ["call-id", "CALL-ID", "cAlL-iD", "Call-Id", "I"] {
        assert_both(&request(&format!("{name}: x1\r\n")), val("x1"));
    }
}

#[test]
fn other_headers_are_skipped() {
    let m = request(
        "Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
         Call-Info: <http://wwww.example.com/alice/photo.jpg>;purpose=icon\r\n\
         Identity: \"ZYNBbHC00VMZr2kZt6VmCvPonWJMGvQTBDqghoWeLxJfzB2a1pxAr3VgrB0SsSAa\"\r\n\
         In-Reply-To: 70710@saturn.bell-tel.com\r\n\
         Content-Type: application/sdp\r\n\
         Call-ID: a84b4c76e66710@pc33.example.com\r\n",
    );
    assert_both(&m, val("a84b4c76e66710@pc33.example.com"));
}

#[test]
fn first_call_id_header_wins() {
    assert_both(&request("i: first\r\nCall-ID: second\r\n"), val("first"));
    assert_both(&request("Call-ID: first\r\ni: second\r\n"), val("first"));
}

#[test]
fn whitespace_before_colon() {
    assert_both(&request("Call-ID \t : x2\r\n"), val("x2"));
    assert_both(&request("i\t: x3\r\n"), val("x3"));
}

#[test]
fn whitespace_after_colon() {
    assert_both(&request("Call-ID:\t  x4\r\n"), val("x4"));
    assert_both(&request("Call-ID:x5\r\n"), val("x5"));
}

#[test]
fn continuation_line_before_colon() {
    assert_both(&request("Call-ID\r\n : x6\r\n"), val("x6"));
    assert_both(&request("Call-ID \t\r\n\t  : x7\r\n"), val("x7"));
    assert_both(&request("i\n : x8\r\n"), val("x8"));
    assert_both(&request("i\r\t: x9\r\n"), val("x9"));
}

#[test]
fn continuation_line_after_colon() {
    assert_both(&request("Call-ID:\r\n x10\r\n"), val("x10"));
    assert_both(&request("Call-ID: \t\n\t x11\r\n"), val("x11"));
    assert_both(&request("i:\r x12\r\n"), val("x12"));
}

#[test]
fn continuation_lines_on_both_sides() {
    assert_both(&request("Call-ID\r\n :\r\n x13\r\n"), val("x13"));
}

/// Whitespace around the colon spans at most one continuation line, as in
/// C: after a second one the value would start at a line end.
#[test]
fn at_most_one_continuation_line() {
    assert_both(&request("Call-ID:\r\n \r\n x14\r\n"), Err(NotFound));
    assert_both(&request("Call-ID:\r\n \r\n x14\r\ni: x15\r\n"), val("x15"));
}

/// A continuation line is part of the previous header, never a header.
#[test]
fn continuation_line_is_not_a_header() {
    assert_both(
        &request("Subject: lunch\r\n Call-ID: x16\r\n"),
        Err(NotFound),
    );
    assert_both(
        &request("Subject: lunch\r\n\tCall-ID: x16\r\ni: x17\r\n"),
        val("x17"),
    );
}

#[test]
fn line_ends_crlf_cr_lf() {
    for end in ["\r\n", "\r", "\n"] {
        let m = format!("OPTIONS sip:carol@chicago.example.com SIP/2.0{end}Via: v{end}Call-ID: x18{end}CSeq: 1 OPTIONS{end}{end}");
        assert_both(m.as_bytes(), val("x18"));
    }
}

#[test]
fn mixed_line_ends() {
    assert_both(
        b"BYE sip:a@b SIP/2.0\nVia: v\rTo: t\r\ni: x19\rCSeq: 2 BYE\n\r\n",
        val("x19"),
    );
}

#[test]
fn value_may_end_with_cr_or_lf() {
    assert_both(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x20\r", val("x20"));
    assert_both(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x21\n", val("x21"));
}

#[test]
fn value_at_end_of_data_is_rejected() {
    assert_both(b"BYE sip:a@b SIP/2.0\r\nCall-ID: x22", Err(BadTerminator));
}

#[test]
fn value_followed_by_other_characters_is_rejected() {
    for tail in [
        ";tag=1", ",x", " x", "\tx", "=", "#", "@x@y", "\x00", "\x7f", "\u{e9}",
    ] {
        let m = request(&format!("Call-ID: x23{tail}\r\n"));
        assert_both(&m, Err(BadTerminator));
    }
}

/// A continuation line after the value is ignored, as in C.
#[test]
fn continuation_line_after_value_is_ignored() {
    assert_both(&request("Call-ID: x24\r\n more\r\n"), val("x24"));
}

#[test]
fn word_characters_are_rfc3261s() {
    let rfc3261: Vec<u8> = (b'a'..=b'z')
        .chain(b'A'..=b'Z')
        .chain(b'0'..=b'9')
        .chain(*b"-.!%*_+`'~()<>:\\\"/[]?{}")
        .collect();
    let value = String::from_utf8(rfc3261.clone()).unwrap();
    assert_both(&request(&format!("Call-ID: {value}\r\n")), val(&value));
    for c in 0..0x80u8 {
        assert_eq!(iswordc(c), rfc3261.contains(&c), "byte {c:#04x}");
    }
}

/// Latin-1 letters are word characters in C (the kernel's `isalnum()`), and
/// so they are here; other high bytes are not.
#[test]
fn latin1_letters_are_word_characters() {
    for c in 0x80..=0xffu8 {
        let letter = c >= 0xc0 && c != 0xd7 && c != 0xf7;
        assert_eq!(iswordc(c), letter, "byte {c:#04x}");
        let mut m = request("");
        m.truncate(START.len());
        m.extend_from_slice(b"Call-ID: x");
        m.push(c);
        m.extend_from_slice(b"\r\n\r\n");
        let expected: &[u8] = &m[START.len() + 9..START.len() + 11];
        if letter {
            assert_both(&m, Ok(expected));
        } else {
            assert_both(&m, Err(BadTerminator));
        }
    }
}

/// Every byte after a one-letter value: a word character extends it, SP and
/// HTAB are trailing whitespace (a documented difference), line ends end
/// it, and anything else is a bad terminator; C agrees but for SP/HTAB.
#[test]
fn every_byte_after_a_value() {
    for c in 0..=0xffu8 {
        let mut m = START.as_bytes().to_vec();
        m.extend_from_slice(b"i: a");
        m.push(c);
        m.extend_from_slice(b"\r\n\r\n");
        let expected: Result<&[u8], _> = match c {
            _ if iswordc(c) => Ok(&m[START.len() + 3..START.len() + 5]),
            b'\r' | b'\n' => Ok(b"a"),
            b' ' | b'\t' => {
                assert_eq!(c_call_id(&m), Err(BadTerminator));
                assert_eq!(call_id(&m), Ok(&b"a"[..]));
                continue;
            }
            _ if c == b'@' => Err(NotFound),
            _ => Err(BadTerminator),
        };
        assert_both(&m, expected);
    }
}

/// `iswordc()` read with a signed `char` (as on x86 without the kernel's
/// `-funsigned-char`): high bytes are negative and fail every range test, so
/// it admits exactly the same bytes.
#[test]
#[allow(clippy::manual_range_contains)]
fn char_signedness_does_not_change_word_characters() {
    fn signed_iswordc(c: u8) -> bool {
        let s = c as i8;
        let ch = |b: u8| b as i8;
        let alnum = c.is_ascii_alphanumeric() || (c >= 0xc0 && c != 0xd7 && c != 0xf7);
        alnum
            || [
                b'!', b'"', b'%', b':', b'<', b'>', b'?', b'_', b'`', b'{', b'}', b'~', b'\'',
            ]
            .iter()
            .any(|&x| s == ch(x))
            || (s >= ch(b'(') && s <= ch(b'+'))
            || (s >= ch(b'[') && s <= ch(b']'))
            || (s >= ch(b'-') && s <= ch(b'/'))
    }
    for c in 0..=0xffu8 {
        assert_eq!(iswordc(c), signed_iswordc(c), "byte {c:#04x}");
    }
}

#[test]
fn at_sign_joins_two_words() {
    assert_both(
        &request("Call-ID: x25@host.example\r\n"),
        val("x25@host.example"),
    );
    assert_both(
        &request("Call-ID: x26@[2001:db8::1]:5060\r\n"),
        val("x26@[2001:db8::1]:5060"),
    );
}

#[test]
fn at_sign_needs_a_word_on_both_sides() {
    // Malformed values: the header is skipped.
    assert_both(&request("Call-ID: @x27\r\n"), Err(NotFound));
    assert_both(&request("Call-ID: x28@\r\n"), Err(NotFound));
    assert_both(&request("Call-ID: x29@ host\r\n"), Err(NotFound));
    assert_both(&request("Call-ID: x30@@host\r\n"), Err(NotFound));
    assert_both(&request("Call-ID: x28@\r\ni: x31\r\n"), val("x31"));
}

#[test]
fn second_at_sign_is_a_bad_terminator() {
    assert_both(&request("Call-ID: x32@a@b\r\n"), Err(BadTerminator));
}

#[test]
fn value_starting_with_a_non_word_character_is_malformed() {
    assert_both(&request("Call-ID: ;x33\r\n"), Err(NotFound));
    assert_both(&request("Call-ID: ;x33\r\ni: x34\r\n"), val("x34"));
}

#[test]
fn longest_value_is_255_bytes() {
    assert_eq!(PEDATA_MAXLEN, 255);
    let v = "x".repeat(255);
    assert_both(&request(&format!("Call-ID: {v}\r\n")), val(&v));
    let v = format!("{}@{}", "a".repeat(127), "b".repeat(127));
    assert_both(&request(&format!("Call-ID: {v}\r\n")), val(&v));
}

#[test]
fn value_of_256_bytes_is_too_long() {
    let v = "x".repeat(256);
    assert_both(&request(&format!("Call-ID: {v}\r\n")), Err(TooLong));
    let v = format!("{}@{}", "a".repeat(128), "b".repeat(127));
    assert_both(&request(&format!("Call-ID: {v}\r\n")), Err(TooLong));
    // Length is checked before the terminator.
    let v = "x".repeat(300);
    assert_both(&request(&format!("Call-ID: {v};x\r\n")), Err(TooLong));
}

/// The first well-formed Call-ID decides, even when it cannot be used: as
/// in C, the search does not go on to a later one.
#[test]
fn unusable_value_ends_the_search() {
    let long = "x".repeat(256);
    assert_both(
        &request(&format!("Call-ID: {long}\r\ni: x35\r\n")),
        Err(TooLong),
    );
    assert_both(&request("Call-ID: x36;a\r\ni: x37\r\n"), Err(BadTerminator));
}

#[test]
fn first_line_is_never_a_header() {
    assert_both(b"Call-ID: x38\r\nVia: v\r\n\r\n", Err(NotFound));
    assert_both(b"Call-ID: x38\r\ni: x39\r\n\r\n", val("x39"));
    assert_both(b"i: x40\r\n", Err(NotFound));
    assert_both(b"i: x40", Err(NotFound));
}

/// Line ends before the start line are skipped (RFC 3261 7.5), so a
/// message after them is parsed as usual, as C does.
#[test]
fn line_ends_before_start_line() {
    let mut m = b"\r\n\r\n".to_vec();
    m.extend_from_slice(&request("Call-ID: x41\r\n"));
    assert_both(&m, val("x41"));
    let mut m = b"\n".to_vec();
    m.extend_from_slice(&request("i: x42\r\n"));
    assert_both(&m, val("x42"));
}

#[test]
fn nothing_found() {
    assert_both(b"", Err(NotFound));
    assert_both(b"\r\n\r\n", Err(NotFound));
    assert_both(&request("Via: v\r\nTo: t\r\n"), Err(NotFound));
    assert_both(&request("Call-ID: \x00x43\r\n"), Err(NotFound));
    assert_both(&request("Call-ID\x00: x44\r\n"), Err(NotFound));
    assert_both(b"INVITE sip:a@b SIP/2.0\r\nCall-ID:", Err(NotFound));
}

#[test]
fn error_names_are_stable() {
    assert_eq!(NotFound.name(), "no_callid");
    assert_eq!(TooLong.name(), "too_long");
    assert_eq!(BadTerminator.name(), "bad_terminator");
}

/// SDP `i=` lines are harmless: the headers come first.
#[test]
fn sdp_information_line_in_body() {
    let m = request(
        "Call-ID: x45@pc33.example.com\r\nContent-Type: application/sdp\r\nContent-Length: 30\r\n",
    );
    let mut m = m;
    m.extend_from_slice(b"v=0\r\ns=-\r\ni=A Seminar\r\nc=IN IP4 192.0.2.1\r\n");
    assert_both(&m, val("x45@pc33.example.com"));
}

#[test]
fn answer_is_a_sub_slice() {
    let m = request("Call-ID: x46\r\n");
    let v = call_id(&m).unwrap();
    assert_sub_slice(&m, v);
    assert_eq!(v.as_ptr(), m[START.len() + 9..].as_ptr());
}
