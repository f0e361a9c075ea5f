//! Fuzzes the media parser (`media::message`, `Message::media`) on arbitrary datagrams,
//! beside `call_id()`, which the engine runs on the same datagram: the answer is bounded,
//! each endpoint listed once, nothing left behind on an error, and the two parsers agree on
//! where the header section ends.
#![no_main]

use ipvs_pe_sip::call_id;
use ipvs_pe_sip::media::{message, MediaSet, MAX_ENDPOINTS};
use libfuzzer_sys::fuzz_target;

/// `inner` lies inside `outer`.
fn is_sub_slice(outer: &[u8], inner: &[u8]) -> bool {
    let outer = outer.as_ptr_range();
    let inner = inner.as_ptr_range();
    outer.start <= inner.start && inner.end <= outer.end
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = message(data) else {
        return;
    };
    // A call's end is never read for its media.
    assert!(!(msg.ends_call() && msg.negotiates_media()));
    if let Ok(body) = msg.body() {
        assert!(is_sub_slice(data, body), "body is not a sub-slice");
        // The Call-ID is a header's: it ends before the body starts.
        if let Ok(id) = call_id(data) {
            assert!(
                id.as_ptr_range().end <= body.as_ptr(),
                "Call-ID {id:?} inside the body"
            );
        }
    }
    // Start from a full, truncated set: an answer must not keep any of it.
    let mut set = MediaSet::new();
    let filler = b"SIP/2.0 200 OK\r\nc: application/sdp\r\n\r\nv=0\r\nc=IN IP4 192.0.2.1\r\nm=x 2/9 udp 0\r\n";
    let filled = message(filler).and_then(|m| m.media(&mut set));
    assert!(filled.is_ok() && set.is_truncated());

    let result = msg.media(&mut set);
    let endpoints = set.endpoints();
    assert!(endpoints.len() <= MAX_ENDPOINTS);
    assert!(!set.is_truncated() || endpoints.len() == MAX_ENDPOINTS);
    match result {
        Ok(()) => assert!(msg.body().is_ok(), "endpoints without a body"),
        Err(e) => assert!(
            endpoints.is_empty() && !set.is_truncated(),
            "{e:?} left {endpoints:?}"
        ),
    }
    for (i, e) in endpoints.iter().enumerate() {
        assert!(e.port != 0, "port 0 in {endpoints:?}");
        let later = endpoints.get(i + 1..).unwrap_or_default();
        assert!(
            !later.iter().any(|l| l.addr == e.addr && l.port == e.port),
            "{e:?} twice"
        );
    }
    // The same bytes, the same answer.
    let mut again = MediaSet::new();
    assert_eq!(msg.media(&mut again), result);
    assert_eq!(again.endpoints(), endpoints);
});
