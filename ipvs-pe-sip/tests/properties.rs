//! Property tests against the C model: on clean SIP messages `call_id()`
//! and C give the same answer; on anything else neither panics, and every
//! disagreement is explained by documented quirks.

mod common;

use common::*;
use ipvs_pe_sip::c_model::{c_call_id, explain, iswordc, Quirk, Quirks};
use ipvs_pe_sip::{call_id, CallIdError, PEDATA_MAXLEN};
use proptest::prelude::*;
use proptest::sample::select;

// ---- Clean messages --------------------------------------------------------

const START_LINES: &[&str] = &[
    "INVITE sip:bob@biloxi.example.com SIP/2.0",
    "ACK sip:bob@192.0.2.4 SIP/2.0",
    "BYE sip:alice@pc33.atlanta.example.com SIP/2.0",
    "OPTIONS sip:carol@chicago.example.com SIP/2.0",
    "REGISTER sip:registrar.biloxi.example.com SIP/2.0",
    "NOTIFY sip:alice@pc33.atlanta.example.com SIP/2.0",
    "SIP/2.0 200 OK",
    "SIP/2.0 180 Ringing",
    "SIP/2.0 486 Busy Here",
];

/// Names of other headers, among them some that start like `Call-ID` or `i`
/// but are not it (and that C skips as well).
const OTHER_NAMES: &[&str] = &[
    "Via",
    "v",
    "From",
    "f",
    "To",
    "t",
    "CSeq",
    "Contact",
    "m",
    "Max-Forwards",
    "Content-Type",
    "c",
    "Content-Length",
    "l",
    "User-Agent",
    "Allow",
    "Supported",
    "k",
    "Subject",
    "s",
    "Record-Route",
    "Call-Info",
    "Identity",
    "Identity-Info",
    "In-Reply-To",
    "Call",
    "Ca",
];

fn line_end() -> impl Strategy<Value = &'static str> {
    select(&["\r\n", "\r\n", "\r\n", "\n", "\r"][..])
}

/// Whitespace around a colon: SP/HTAB, maybe one continuation line.
fn sws() -> impl Strategy<Value = String> {
    (
        "[ \t]{0,3}",
        proptest::option::of((line_end(), "[ \t]{1,3}")),
    )
        .prop_map(|(ws, fold)| match fold {
            Some((end, ws2)) => format!("{ws}{end}{ws2}"),
            None => ws,
        })
}

/// Text of other header values: no line ends.
fn other_value() -> impl Strategy<Value = String> {
    "[ -~]{0,40}".prop_map(|s| s.trim_start().to_owned())
}

fn other_header() -> impl Strategy<Value = String> {
    (
        select(OTHER_NAMES),
        "[ \t]{0,2}",
        other_value(),
        proptest::option::of((line_end(), "[ \t]{1,2}", "[!-~]{1,20}")),
    )
        .prop_map(|(name, ws, value, cont)| {
            let mut h = format!("{name}{ws}: {value}");
            if let Some((end, ws, more)) = cont {
                h.push_str(&format!("{end}{ws}{more}"));
            }
            h
        })
}

/// A word: RFC 3261 characters, sometimes Latin-1 letters.
fn word(max: usize) -> impl Strategy<Value = Vec<u8>> {
    let chars: Vec<u8> = (0..=255u8).filter(|&c| iswordc(c)).collect();
    proptest::collection::vec(select(chars), 1..=max)
}

fn call_id_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => word(40),
        3 => (word(40), word(40)).prop_map(|(a, b)| [a, b"@".to_vec(), b].concat()),
        1 => (word(200), word(200)).prop_map(|(a, b)| [a, b"@".to_vec(), b].concat()),
        1 => word(300),
    ]
}

fn call_id_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[cC][aA][lL][lL]-[iI][dD]",
        select(&["i", "I"][..]).prop_map(str::to_owned),
    ]
}

#[derive(Debug, Clone)]
struct Clean {
    payload: Vec<u8>,
    /// The value of the first Call-ID header, if any.
    value: Option<Vec<u8>>,
}

prop_compose! {
    fn clean_message()(
        leading in select(&["", "", "", "\r\n", "\r\n\r\n"][..]),
        start in select(START_LINES),
        before in proptest::collection::vec(other_header(), 0..8),
        call_id in proptest::option::of((call_id_name(), sws(), sws(), call_id_value(),
            proptest::option::of(("[ \t]{1,2}", "[!-~]{1,10}")))),
        second in proptest::option::of((call_id_name(), call_id_value())),
        after in proptest::collection::vec(other_header(), 0..8),
        ends in proptest::collection::vec(line_end(), 20),
        body in proptest::option::of("[ -~]{0,40}(\r\n[ -~]{0,40}){0,5}"),
    ) -> Clean {
        let mut ends = ends.into_iter().cycle();
        let mut payload = leading.as_bytes().to_vec();
        payload.extend_from_slice(start.as_bytes());
        payload.extend_from_slice(ends.next().unwrap_or("\r\n").as_bytes());
        let mut line = |payload: &mut Vec<u8>, text: &[u8]| {
            payload.extend_from_slice(text);
            payload.extend_from_slice(ends.next().unwrap_or("\r\n").as_bytes());
        };
        for h in &before {
            line(&mut payload, h.as_bytes());
        }
        let mut value = None;
        if let Some((name, ws1, ws2, v, cont)) = &call_id {
            let mut h = format!("{name}{ws1}:{ws2}").into_bytes();
            h.extend_from_slice(v);
            line(&mut payload, &h);
            if let Some((ws, more)) = cont {
                line(&mut payload, format!("{ws}{more}").as_bytes());
            }
            value = Some(v.clone());
        }
        for h in &after {
            line(&mut payload, h.as_bytes());
        }
        if let Some((name, v)) = &second {
            let mut h = format!("{name}: ").into_bytes();
            h.extend_from_slice(v);
            line(&mut payload, &h);
            value.get_or_insert(v.clone());
        }
        line(&mut payload, b"");
        // A body only where the headers have a Call-ID: C would search it
        // otherwise.
        if let (Some(body), Some(_)) = (&body, &value) {
            payload.extend_from_slice(body.as_bytes());
        }
        Clean { payload, value }
    }
}

// ---- Messy inputs -----------------------------------------------------------

/// Pieces of SIP-like text that trigger every rule and quirk when shuffled.
const TOKENS: &[&[u8]] = &[
    b"Call-ID",
    b"call-id",
    b"CALL-Id",
    b"Call-IDx",
    b"Call-Id-",
    b"i",
    b"I",
    b"i-foo",
    b"i1",
    b"ix",
    b"i=",
    b":",
    b": ",
    b" ",
    b"\t",
    b"\r",
    b"\n",
    b"\r\n",
    b"\r\n",
    b"\r\n ",
    b"\r\n\r\n",
    b"@",
    b";",
    b",",
    b"abc",
    b"x",
    b"a84b4c76e66710@pc33.example.com",
    b"\xe9",
    b"\xd7",
    b"\x00",
    b"INVITE sip:bob@biloxi.example.com SIP/2.0\r\n",
    b"SIP/2.0 200 OK\r\n",
    b"Via: SIP/2.0/UDP pc33.example.com\r\n",
    b"v=0\r\n",
    b"i=A Seminar\r\n",
    b"Call-ID: good\r\n",
    b"i: ;bad\r\n",
    b"i: @bad\r\n",
    b"Call-ID:\r\n",
];

fn token_soup() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(select(TOKENS), 0..40).prop_map(|t| t.concat())
}

/// A clean message with a few bytes changed, inserted or removed.
fn mutated_message() -> impl Strategy<Value = Vec<u8>> {
    (
        clean_message(),
        proptest::collection::vec((any::<prop::sample::Index>(), 0..3u8, select(TOKENS)), 1..5),
    )
        .prop_map(|(m, edits)| {
            let mut p = m.payload;
            for (at, kind, token) in edits {
                let i = at.index(p.len() + 1);
                match kind {
                    0 => {
                        p.splice(i..i, token.iter().copied());
                    }
                    1 => {
                        let end = (i + token.len()).min(p.len());
                        p.drain(i..end);
                    }
                    _ => {
                        let end = (i + token.len()).min(p.len());
                        p.splice(i..end, token.iter().copied());
                    }
                }
            }
            p
        })
}

// ---- Checks -----------------------------------------------------------------

/// What holds for every answer of `call_id()`, whatever the input.
fn check_answer(payload: &[u8]) {
    if let Ok(v) = call_id(payload) {
        assert_sub_slice(payload, v);
        assert!(!v.is_empty() && v.len() <= PEDATA_MAXLEN);
        assert!(v.iter().filter(|&&c| c == b'@').count() <= 1);
        assert!(v.iter().all(|&c| c == b'@' || iswordc(c)));
        assert!(v.first() != Some(&b'@') && v.last() != Some(&b'@'));
    }
}

/// Every disagreement with C is explained by documented quirks.
fn check_explained(payload: &[u8]) -> Quirks {
    check_answer(payload);
    match explain(payload) {
        Some(q) => q,
        None => panic!(
            "unexplained difference on {:?}: C {} ours {}",
            String::from_utf8_lossy(payload),
            show(c_call_id(payload)),
            show(call_id(payload)),
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn clean_messages_agree_with_c(m in clean_message()) {
        let expected: Result<&[u8], CallIdError> = match &m.value {
            None => Err(NotFound),
            Some(v) if v.len() > PEDATA_MAXLEN => Err(TooLong),
            Some(v) => Ok(v),
        };
        prop_assert_eq!(call_id(&m.payload), expected);
        prop_assert_eq!(c_call_id(&m.payload), expected);
        check_answer(&m.payload);
    }

    #[test]
    fn arbitrary_bytes_differ_only_by_quirks(p in proptest::collection::vec(any::<u8>(), 0..600)) {
        check_explained(&p);
    }

    #[test]
    fn token_soup_differs_only_by_quirks(p in token_soup()) {
        check_explained(&p);
    }

    #[test]
    fn mutated_messages_differ_only_by_quirks(p in mutated_message()) {
        check_explained(&p);
    }
}

/// The messy inputs do reach every quirk: a deterministic sweep (xorshift, no
/// proptest) must see each of them explain a difference.
#[test]
fn every_quirk_is_seen() {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut seen = Quirks::NONE;
    let mut differences = 0;
    for _ in 0..30_000 {
        let len = next() % 30;
        let mut p = Vec::new();
        for _ in 0..len {
            p.extend_from_slice(TOKENS[(next() % TOKENS.len() as u64) as usize]);
        }
        let q = check_explained(&p);
        if !q.is_empty() {
            differences += 1;
        }
        seen = q.iter().fold(seen, Quirks::with);
    }
    let missing: Vec<_> = Quirk::ALL
        .into_iter()
        .filter(|&q| !seen.contains(q))
        .collect();
    assert!(missing.is_empty(), "never seen: {missing:?}");
    assert!(differences > 100, "only {differences} differences");
}
