//! Helpers shared by the integration tests.
#![allow(dead_code, unused_imports)]

use ipvs_pe_sip::c_model::{c_call_id, explain, Quirk, Quirks};
use ipvs_pe_sip::{call_id, CallIdError};

pub use CallIdError::{BadTerminator, NotFound, TooLong};

/// A request line, so that the headers under test are not on the first line.
pub const START: &str = "INVITE sip:bob@biloxi.example.com SIP/2.0\r\n";

/// A request: [`START`], `headers` as given (they carry their own line ends),
/// and the empty line that ends the header section.
pub fn request(headers: &str) -> Vec<u8> {
    let mut m = START.as_bytes().to_vec();
    m.extend_from_slice(headers.as_bytes());
    m.extend_from_slice(b"\r\n");
    m
}

/// The answer `call_id()` should give: a value.
pub fn val(s: &str) -> Result<&[u8], CallIdError> {
    Ok(s.as_bytes())
}

/// Readable form of an answer for assertion messages.
pub fn show(r: Result<&[u8], CallIdError>) -> String {
    match r {
        Ok(v) => format!("Ok({:?})", String::from_utf8_lossy(v)),
        Err(e) => format!("Err({e:?})"),
    }
}

/// `value` lies inside `payload` (the answer borrows, never copies).
pub fn assert_sub_slice(payload: &[u8], value: &[u8]) {
    let outer = payload.as_ptr_range();
    let inner = value.as_ptr_range();
    assert!(
        outer.start <= inner.start && inner.end <= outer.end,
        "answer is not a sub-slice of the payload"
    );
}

/// Both `call_id()` and the C model answer `expected`.
#[track_caller]
pub fn assert_both(payload: &[u8], expected: Result<&[u8], CallIdError>) {
    let ours = call_id(payload);
    let c = c_call_id(payload);
    assert_eq!(
        show(ours),
        show(expected),
        "call_id() on {:?}",
        String::from_utf8_lossy(payload)
    );
    assert_eq!(
        show(c),
        show(expected),
        "C model on {:?}",
        String::from_utf8_lossy(payload)
    );
    if let Ok(v) = ours {
        assert_sub_slice(payload, v);
    }
}

/// The C model answers `c`, `call_id()` answers `ours`, and the difference is
/// explained by exactly the quirks `quirks`.
#[track_caller]
pub fn assert_differs(
    payload: &[u8],
    c: Result<&[u8], CallIdError>,
    ours: Result<&[u8], CallIdError>,
    quirks: &[Quirk],
) {
    let text = String::from_utf8_lossy(payload);
    assert_eq!(show(call_id(payload)), show(ours), "call_id() on {text:?}");
    assert_eq!(show(c_call_id(payload)), show(c), "C model on {text:?}");
    let expected = quirks.iter().fold(Quirks::NONE, |s, &q| s.with(q));
    assert_eq!(explain(payload), Some(expected), "quirks on {text:?}");
}
