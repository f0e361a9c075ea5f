//! Fuzzes `call_id()` on arbitrary datagrams, with the C model as oracle.
#![no_main]

use ipvs_pe_sip::c_model::{c_call_id, explain, iswordc};
use ipvs_pe_sip::{call_id, CallIdError, PEDATA_MAXLEN};
use libfuzzer_sys::fuzz_target;

/// `value` lies inside `data`.
fn is_sub_slice(data: &[u8], value: &[u8]) -> bool {
    let outer = data.as_ptr_range();
    let inner = value.as_ptr_range();
    outer.start <= inner.start && inner.end <= outer.end
}

fuzz_target!(|data: &[u8]| {
    match call_id(data) {
        Ok(id) => {
            assert!(is_sub_slice(data, id), "answer is not a sub-slice");
            assert!(
                !id.is_empty() && id.len() <= PEDATA_MAXLEN,
                "bad length {}",
                id.len()
            );
            assert!(
                id.iter().all(|&c| c == b'@' || iswordc(c)),
                "non-word character in {id:?}"
            );
            assert!(
                id.iter().filter(|&&c| c == b'@').count() <= 1,
                "two @ in {id:?}"
            );
        }
        // Beyond "not found", a reason means a Call-ID header with a value was there.
        Err(CallIdError::NotFound) => {}
        Err(e @ CallIdError::BadTerminator) => assert!(data.contains(&b':'), "{e:?} without ':'"),
        Err(e @ CallIdError::TooLong) => assert!(
            data.contains(&b':') && data.len() > PEDATA_MAXLEN + "i:".len(),
            "{e:?} in {} bytes",
            data.len()
        ),
    }
    // The model indexes like C: a panic here is an out-of-bounds read in C.
    if let Ok(id) = c_call_id(data) {
        assert!(is_sub_slice(data, id) && id.len() <= PEDATA_MAXLEN);
    }
    assert!(
        explain(data).is_some(),
        "difference with C not explained by a documented quirk"
    );
});
