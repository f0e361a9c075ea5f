//! Where `call_id()` deliberately answers differently from the C engine:
//! one test per row of `docs/c-engine-differences.md`, each checking the C
//! model's answer, ours, and that the difference is explained by exactly the
//! quirk the row names.

mod common;

use common::*;
use ipvs_pe_sip::c_model::{c_call_id, explain, model, Quirk, Quirks};
use ipvs_pe_sip::call_id;
use Quirk::*;

// ---- PrefixName ----------------------------------------------------------

#[test]
fn prefix_name_call_idx_ends_c_search() {
    assert_differs(
        &request("Call-IDx: other\r\nCall-ID: p1\r\n"),
        Err(NotFound),
        val("p1"),
        &[PrefixName],
    );
}

#[test]
fn prefix_name_i_dash_ends_c_search() {
    assert_differs(
        &request("i-foo: bar\r\ni: p2\r\n"),
        Err(NotFound),
        val("p2"),
        &[PrefixName],
    );
}

#[test]
fn prefix_name_i_digit_ends_c_search() {
    assert_differs(
        &request("i1: bar\r\nCall-ID: p3\r\n"),
        Err(NotFound),
        val("p3"),
        &[PrefixName],
    );
}

#[test]
fn prefix_name_without_colon_ends_c_search() {
    assert_differs(
        &request("Call-ID p4\r\nCall-ID: p5\r\n"),
        Err(NotFound),
        val("p5"),
        &[PrefixName],
    );
    assert_differs(
        &request("i\r\ni: p6\r\n"),
        Err(NotFound),
        val("p6"),
        &[PrefixName],
    );
}

/// A name followed by a letter is not the compact form, in C as here.
#[test]
fn compact_name_followed_by_a_letter_is_skipped_by_both() {
    assert_both(&request("Ix: bar\r\ni: p7\r\n"), val("p7"));
    assert_both(&request("i\u{e9}: bar\r\ni: p8\r\n"), val("p8"));
}

// ---- EmptyValue -----------------------------------------------------------

#[test]
fn empty_value_ends_c_search() {
    assert_differs(
        &request("Call-ID:\r\ni: e1\r\n"),
        Err(NotFound),
        val("e1"),
        &[EmptyValue],
    );
    assert_differs(
        &request("i: \t\r\nCall-ID: e2\r\n"),
        Err(NotFound),
        val("e2"),
        &[EmptyValue],
    );
}

/// Without another Call-ID both fall back.
#[test]
fn empty_value_alone_falls_back_in_both() {
    assert_both(&request("Call-ID:\r\nVia: v\r\n"), Err(NotFound));
}

// ---- RetryOffset ----------------------------------------------------------

/// After the second malformed Call-ID header C restarts at the sum of two
/// offsets, beyond the good header, and misses it.
#[test]
fn retry_offset_misses_the_call_id() {
    assert_differs(
        &request("i: ;a\r\ni: ;b\r\nCall-ID: r1\r\n"),
        Err(NotFound),
        val("r1"),
        &[RetryOffset],
    );
}

/// ... or picks a later one that is not the message's Call-ID.
#[test]
fn retry_offset_picks_a_later_value() {
    let m = request(
        "i: ;a\r\ni: ;b\r\nCall-ID: r2\r\n\
         Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bKnashds8\r\n\
         i: r3\r\n",
    );
    assert_differs(&m, val("r3"), val("r2"), &[RetryOffset]);
}

/// One malformed header is retried correctly by C too.
#[test]
fn single_malformed_header_is_skipped_by_both() {
    assert_both(&request("i: ;a\r\nCall-ID: r4\r\n"), val("r4"));
}

// ---- TrailingWhitespace ---------------------------------------------------

#[test]
fn trailing_whitespace_is_rejected_by_c() {
    assert_differs(
        &request("Call-ID: t1 \r\n"),
        Err(BadTerminator),
        val("t1"),
        &[TrailingWhitespace],
    );
    assert_differs(
        &request("i: t2@host \t \n"),
        Err(BadTerminator),
        val("t2@host"),
        &[TrailingWhitespace],
    );
}

/// Whitespace followed by anything but a line end is still rejected.
#[test]
fn whitespace_then_more_text_is_rejected_by_both() {
    assert_both(&request("Call-ID: t3 t4\r\n"), Err(BadTerminator));
    assert_both(b"BYE sip:a@b SIP/2.0\r\nCall-ID: t5 ", Err(BadTerminator));
}

// ---- Body -----------------------------------------------------------------

const SIPFRAG_HEADERS: &str =
    "Event: refer\r\nContent-Type: message/sipfrag\r\nContent-Length: 45\r\n";

/// A NOTIFY without Call-ID carrying a sipfrag with one: C takes the
/// sipfrag's, which belongs to another dialog.
#[test]
fn body_call_id_is_taken_by_c() {
    let mut m = request(SIPFRAG_HEADERS);
    m.extend_from_slice(b"SIP/2.0 200 OK\r\nCall-ID: b1@other.example\r\n");
    assert_differs(&m, val("b1@other.example"), Err(NotFound), &[Body]);
}

/// A malformed Call-ID header makes C search on into the body.
#[test]
fn body_after_malformed_header() {
    let mut m = request("Call-ID: @b2\r\n");
    m.extend_from_slice(b"SIP/2.0 180 Ringing\r\ni: b3\r\n");
    assert_differs(&m, val("b3"), Err(NotFound), &[Body]);
}

/// With a Call-ID in the headers, C never reaches the body either.
#[test]
fn body_is_not_reached_when_headers_have_call_id() {
    let mut m = request("Call-ID: b4\r\n");
    m.extend_from_slice(b"SIP/2.0 200 OK\r\nCall-ID: b5\r\n");
    assert_both(&m, val("b4"));
}

/// After an empty line of LF LF (or CR CR) C does not even look at the next
/// line: it takes the empty line's terminator for the first byte of a line
/// and skips it. The model does the same.
#[test]
fn c_skips_the_line_after_lf_lf() {
    let m = b"NOTIFY sip:a@b SIP/2.0\nEvent: refer\n\nCall-ID: b6\nCall-ID: b7\n";
    assert_differs(m, val("b7"), Err(NotFound), &[Body]);
    let m = b"NOTIFY sip:a@b SIP/2.0\r\nEvent: refer\r\n\r\nCall-ID: b8\r\n";
    assert_differs(m, val("b8"), Err(NotFound), &[Body]);
}

// ---- LeadingLineEnds -------------------------------------------------------

/// C takes the first line end for the end of an (empty) start line, so the
/// line after it is searched; here it is a start line, never a header.
#[test]
fn leading_line_ends_make_c_search_the_start_line() {
    assert_differs(
        b"\r\nCall-ID: l1\r\nVia: v\r\n\r\n",
        val("l1"),
        Err(NotFound),
        &[LeadingLineEnds],
    );
    assert_differs(
        b"\r\n\r\ni: l2\r\nVia: v\r\n\r\n",
        val("l2"),
        Err(NotFound),
        &[LeadingLineEnds],
    );
}

// ---- Matched quirks -------------------------------------------------------

/// Kept from C: Latin-1 letters are word characters.
#[test]
fn latin1_value_matches_c() {
    assert_both(&request("Call-ID: caf\u{e9}\r\n"), Err(BadTerminator));
    let mut m = START.as_bytes().to_vec();
    m.extend_from_slice(b"Call-ID: caf\xe9\r\n\r\n");
    assert_both(&m, Ok(&b"caf\xe9"[..]));
}

// ---- The model and explain() themselves -----------------------------------

#[test]
fn explain_is_empty_when_both_agree() {
    assert_eq!(explain(&request("Call-ID: m1\r\n")), Some(Quirks::NONE));
}

#[test]
fn model_without_quirks_is_call_id() {
    let m = request("i-foo: x\r\nCall-ID:\r\ni: ;a\r\ni: ;b\r\nCall-ID: m2 \r\n");
    assert_eq!(model(&m, Quirks::NONE), call_id(&m));
    assert_eq!(c_call_id(&m), Err(NotFound));
    // Each quirk in turn would have stopped C before the Call-ID.
    assert_eq!(
        explain(&m),
        Some(
            Quirks::NONE
                .with(PrefixName)
                .with(EmptyValue)
                .with(RetryOffset)
                .with(TrailingWhitespace)
        )
    );
}

#[test]
fn quirk_names_are_distinct() {
    let mut names: Vec<_> = Quirk::ALL.iter().map(|q| q.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Quirk::ALL.len());
    assert_eq!(Quirks::C.iter().count(), Quirk::ALL.len());
    assert_eq!(
        Quirks::NONE.with(Body).with(PrefixName).to_string(),
        "prefix_name+body"
    );
}
