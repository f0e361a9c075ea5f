//! The media parser (`src/media/`) on whole SIP messages: realistic offers and answers,
//! compact headers, multipart bodies, IPv6, RTCP attributes; hostile inputs; and
//! properties: no panic and a bounded answer on any bytes, and a generated well-formed
//! message parsed back to the endpoints it was generated from.

use ipvs_pe_sip::media::{
    message, Addr, Endpoint, Flow, MediaError, MediaSet, Message, Method, StartLine, MAX_ENDPOINTS,
    MAX_MEDIA,
};
use proptest::prelude::*;
use proptest::sample::select;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

// ---- Helpers ----------------------------------------------------------------------------

const CLIENT: Addr = Addr::V4([192, 0, 2, 10]);

/// A message: `start`, the headers (each without its line end), a `Content-Length` of the
/// body if `length`, the empty line and the body, all with CRLF line ends.
fn sip<S: AsRef<str>>(start: &str, headers: &[S], length: bool, body: &str) -> Vec<u8> {
    let mut m = format!("{start}\r\n");
    for h in headers {
        write!(m, "{}\r\n", h.as_ref()).unwrap();
    }
    if length {
        write!(m, "Content-Length: {}\r\n", body.len()).unwrap();
    }
    m.push_str("\r\n");
    m.push_str(body);
    m.into_bytes()
}

/// SDP text written one line an item, with CRLF line ends.
fn sdp(lines: &[&str]) -> String {
    lines.iter().map(|l| format!("{l}\r\n")).collect()
}

const INVITE: &str = "INVITE sip:carol@pbx.example.net SIP/2.0";
const OK: &str = "SIP/2.0 200 OK";

/// The headers of an INVITE from the client, before its body's.
const INVITE_HEADERS: [&str; 7] = [
    "Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-6a1c",
    "Max-Forwards: 70",
    "From: \"Alice\" <sip:alice@example.com>;tag=41f2",
    "To: <sip:carol@pbx.example.net>",
    "Call-ID: 7c1e0a93@192.0.2.10",
    "CSeq: 1 INVITE",
    "Contact: <sip:alice@192.0.2.10:5060>",
];

/// The endpoints of `payload`, or why there are none.
fn media(payload: &[u8]) -> Result<(Vec<Endpoint>, bool), MediaError> {
    let msg = message(payload)?;
    let mut set = MediaSet::new();
    msg.media(&mut set)?;
    Ok((set.endpoints().to_vec(), set.is_truncated()))
}

fn ep(addr: Addr, port: u16, flow: Flow) -> Endpoint {
    Endpoint { addr, port, flow }
}

fn rtp_pair(addr: Addr, port: u16) -> [Endpoint; 2] {
    [ep(addr, port, Flow::Rtp), ep(addr, port + 1, Flow::Rtcp)]
}

fn v6(s: &str) -> Addr {
    Addr::V6(s.parse::<Ipv6Addr>().unwrap().octets())
}

/// [`INVITE_HEADERS`] and `extra`.
fn with_headers(extra: &[&str]) -> Vec<String> {
    INVITE_HEADERS
        .iter()
        .chain(extra)
        .map(ToString::to_string)
        .collect()
}

/// An INVITE whose body `body` is SDP (`Content-Type: application/sdp`), with a
/// `Content-Length` if `length`.
fn sdp_invite(length: bool, body: &str) -> Vec<u8> {
    sip(
        INVITE,
        &with_headers(&["Content-Type: application/sdp"]),
        length,
        body,
    )
}

// ---- Realistic messages -----------------------------------------------------------------

/// An audio offer: one RTP stream, RTCP on the next port.
const OFFER: &[&str] = &[
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 192.0.2.10",
    "s=-",
    "c=IN IP4 192.0.2.10",
    "t=0 0",
    "m=audio 16384 RTP/AVP 0 8 101",
    "a=rtpmap:0 PCMU/8000",
    "a=rtpmap:8 PCMA/8000",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=ptime:20",
    "a=sendrecv",
];

#[test]
fn invite_with_an_offer() {
    let m = sdp_invite(true, &sdp(OFFER));
    let msg = message(&m).unwrap();
    assert_eq!(msg.start, StartLine::Request(Method::Invite));
    assert_eq!(msg.cseq, Some(Method::Invite));
    assert!(!msg.ends_call());
    assert_eq!(msg.body().unwrap(), sdp(OFFER).as_bytes());
    assert_eq!(media(&m), Ok((rtp_pair(CLIENT, 16384).to_vec(), false)));
}

#[test]
fn answer_in_a_200_with_compact_headers() {
    let answer = sdp(&[
        "v=0",
        "o=pbx 1 1 IN IP4 198.51.100.7",
        "s=call",
        "c=IN IP4 198.51.100.7",
        "t=0 0",
        "m=audio 20000 RTP/AVP 0",
        "a=rtpmap:0 PCMU/8000",
    ]);
    let m = sip(
        OK,
        &[
            "v: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-6a1c",
            "f: <sip:alice@example.com>;tag=41f2",
            "t: <sip:carol@pbx.example.net>;tag=99",
            "i: 7c1e0a93@192.0.2.10",
            "CSeq: 1 INVITE",
            "m: <sip:carol@198.51.100.7>",
            "c: application/sdp",
            &format!("l: {}", answer.len()),
        ],
        false,
        &answer,
    );
    let msg = message(&m).unwrap();
    assert_eq!(msg.start, StartLine::Response(200));
    assert_eq!(msg.cseq, Some(Method::Invite));
    let server = Addr::V4([198, 51, 100, 7]);
    assert_eq!(media(&m), Ok((rtp_pair(server, 20000).to_vec(), false)));
}

#[test]
fn header_names_in_any_case_and_folded_values() {
    for ct in [
        "content-type: APPLICATION/SDP",
        "CONTENT-TYPE:application/sdp",
        "C : application/sdp",
        "Content-Type\t:\tapplication/sdp;charset=UTF-8",
        // Folded: the name's colon after one continuation line (as callid.rs allows), the
        // value over several.
        "Content-Type\r\n :application/sdp",
        "Content-Type:\r\n application\r\n\t/\r\n sdp",
        "Content-Type: application/sdp;\r\n charset=\"utf-8\"",
    ] {
        let m = sip(INVITE, &with_headers(&[ct]), true, &sdp(OFFER));
        assert_eq!(
            media(&m),
            Ok((rtp_pair(CLIENT, 16384).to_vec(), false)),
            "{ct:?}"
        );
    }
    // Two continuation lines before the colon: not a header (as for the Call-ID).
    let m = sip(
        INVITE,
        &with_headers(&["Content-Type\r\n \r\n :application/sdp"]),
        true,
        &sdp(OFFER),
    );
    assert_eq!(media(&m), Err(MediaError::NoSdp));
    // A name that only starts like it.
    let m = sip(
        INVITE,
        &with_headers(&["Content-Typex: application/sdp", "cc: application/sdp"]),
        true,
        &sdp(OFFER),
    );
    assert_eq!(media(&m), Err(MediaError::NoSdp));
}

#[test]
fn line_ends_lf_and_cr() {
    let crlf = sdp_invite(false, &sdp(OFFER));
    let text = String::from_utf8(crlf).unwrap();
    for end in ["\n", "\r"] {
        let m = text.replace("\r\n", end);
        assert_eq!(
            media(m.as_bytes()),
            Ok((rtp_pair(CLIENT, 16384).to_vec(), false)),
            "{end:?}"
        );
    }
    // Line ends before the start line are skipped.
    let m = format!("\r\n\r\n{text}");
    assert!(media(m.as_bytes()).is_ok());
}

#[test]
fn content_length_is_respected() {
    let body = sdp(OFFER);
    let base = with_headers(&["Content-Type: application/sdp"]);
    // Bytes past Content-Length are not the body.
    let mut m = sip(INVITE, &base, true, &body);
    m.extend_from_slice(b"m=audio 30000 RTP/AVP 0\r\n");
    assert_eq!(media(&m), Ok((rtp_pair(CLIENT, 16384).to_vec(), false)));
    // A body shorter than Content-Length: cut off.
    let mut h = base.clone();
    h.push(format!("Content-Length: {}", body.len() + 1));
    let m = sip(INVITE, &h, false, &body);
    assert_eq!(media(&m), Err(MediaError::BodyCutOff));
    let mut h = base.clone();
    h.push("l: 99999999999999999999999999".into());
    assert_eq!(
        media(&sip(INVITE, &h, false, &body)),
        Err(MediaError::BodyCutOff)
    );
    // Not a number.
    for bad in ["Content-Length: 12a", "l:", "Content-Length: -1"] {
        let mut h = base.clone();
        h.push(bad.into());
        assert_eq!(
            media(&sip(INVITE, &h, false, &body)),
            Err(MediaError::BadContentLength),
            "{bad}"
        );
    }
    // Zero: no body, whatever follows.
    let mut h = base.clone();
    h.push("Content-Length: 0".into());
    assert_eq!(
        media(&sip(INVITE, &h, false, &body)),
        Err(MediaError::NoBody)
    );
    // Without Content-Length the body is the rest of the datagram.
    assert!(media(&sip(INVITE, &base, false, &body)).is_ok());
    // The first Content-Length counts.
    let mut h = base.clone();
    h.push(format!("Content-Length: {}", body.len()));
    h.push("Content-Length: 3".into());
    assert!(media(&sip(INVITE, &h, false, &body)).is_ok());
}

#[test]
fn no_body() {
    // No empty line.
    let m = b"INVITE sip:b@example.net SIP/2.0\r\nContent-Type: application/sdp\r\n";
    assert_eq!(media(m), Err(MediaError::NoBody));
    // Nothing after it.
    let m = sip(INVITE, &["Content-Type: application/sdp"], false, "");
    assert_eq!(media(&m), Err(MediaError::NoBody));
    // Just a start line.
    assert_eq!(media(b"SIP/2.0 100 Trying"), Err(MediaError::NoBody));
}

#[test]
fn other_bodies_have_no_sdp() {
    for ct in [
        None,
        Some("Content-Type: application/isup;version=itu-t92+"),
        Some("Content-Type: text/plain"),
        Some("Content-Type: application/sdpx"),
    ] {
        let h = with_headers(&ct.into_iter().collect::<Vec<_>>());
        let m = sip(INVITE, &h, true, &sdp(OFFER));
        assert_eq!(media(&m), Err(MediaError::NoSdp), "{ct:?}");
    }
    let m = sip(
        INVITE,
        &with_headers(&["Content-Type: application"]),
        true,
        &sdp(OFFER),
    );
    assert_eq!(media(&m), Err(MediaError::BadContentType));
}

#[test]
fn requests_and_responses_that_end_a_call() {
    let bye = message(b"BYE sip:alice@192.0.2.10 SIP/2.0\r\nCSeq: 2 BYE\r\n\r\n").unwrap();
    assert_eq!(bye.start, StartLine::Request(Method::Bye));
    assert!(bye.ends_call());
    let cancel = message(b"CANCEL sip:carol@pbx.example.net SIP/2.0\r\nCSeq: 1 CANCEL\r\n\r\n");
    assert!(cancel.unwrap().ends_call());
    let ok_bye = message(b"SIP/2.0 200 OK\r\nCSeq:\r\n 2\r\n BYE\r\n\r\n").unwrap();
    assert_eq!(ok_bye.cseq, Some(Method::Bye));
    assert!(ok_bye.ends_call());
    let ok_cancel = message(b"SIP/2.0 200 OK\r\nCSeq: 1 CANCEL\r\n\r\n").unwrap();
    assert!(ok_cancel.ends_call());
    let terminated = message(b"SIP/2.0 487 Request Terminated\r\nCSeq: 1 INVITE\r\n\r\n").unwrap();
    assert_eq!(terminated.start, StartLine::Response(487));
    assert!(!terminated.ends_call());
    let ack = message(b"ACK sip:carol@pbx.example.net SIP/2.0\r\nCSeq: 1 ACK\r\n\r\n").unwrap();
    assert_eq!(ack.start, StartLine::Request(Method::Ack));
    assert!(!ack.ends_call());
    // The first CSeq counts, even a malformed one.
    let two = message(b"SIP/2.0 200 OK\r\nCSeq: x\r\nCSeq: 2 BYE\r\n\r\n").unwrap();
    assert_eq!(two.cseq, None);
    assert!(!two.ends_call());
    let update = message(b"UPDATE sip:a SIP/2.0\r\n\r\n").unwrap();
    assert_eq!(update.start, StartLine::Request(Method::Update));
    assert_eq!(update.cseq, None);
    assert!(!update.ends_call());
}

#[test]
fn messages_that_negotiate_media() {
    let negotiates = |m: &[u8]| message(m).unwrap().negotiates_media();
    // Requests that may carry an offer or an answer (RFC 3261, 3262, 3311).
    for method in ["INVITE", "ACK", "UPDATE", "PRACK"] {
        let m = format!("{method} sip:a SIP/2.0\r\nCSeq: 3 {method}\r\n\r\n");
        assert!(negotiates(m.as_bytes()), "{method}");
    }
    // Provisional and successful responses to them, by CSeq (ACK has none).
    for (status, method) in [
        (183, "INVITE"),
        (200, "INVITE"),
        (200, "UPDATE"),
        (200, "PRACK"),
    ] {
        let m = format!("SIP/2.0 {status} X\r\nCSeq: 3 {method}\r\n\r\n");
        assert!(negotiates(m.as_bytes()), "{status} {method}");
    }
    // Other requests, responses to them or without a CSeq, and failures do not: an OPTIONS'
    // 200, or a 488, may list capabilities, ports with no call behind them.
    for m in [
        &b"OPTIONS sip:a SIP/2.0\r\nCSeq: 3 OPTIONS\r\n\r\n"[..],
        b"MESSAGE sip:a SIP/2.0\r\n\r\n",
        b"BYE sip:a SIP/2.0\r\nCSeq: 3 BYE\r\n\r\n",
        b"update sip:a SIP/2.0\r\n\r\n",
        b"SIP/2.0 200 OK\r\nCSeq: 3 OPTIONS\r\n\r\n",
        b"SIP/2.0 200 OK\r\nCSeq: 3 BYE\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"SIP/2.0 488 Not Acceptable Here\r\nCSeq: 3 UPDATE\r\n\r\n",
        b"SIP/2.0 606 Not Acceptable\r\nCSeq: 1 INVITE\r\n\r\n",
        b"SIP/2.0 300 Multiple Choices\r\nCSeq: 1 INVITE\r\n\r\n",
    ] {
        assert!(!negotiates(m), "{}", String::from_utf8_lossy(m));
    }
}

#[test]
fn not_sip() {
    for m in [
        &b""[..],
        b"\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"\x80\x00\x12\x34 RTP-ish bytes",
        b"SIP/2.0 OK\r\n\r\n",
        b"INVITE sip:b@example.net\r\n\r\n",
    ] {
        assert_eq!(message(m).err(), Some(MediaError::NotSip), "{m:?}");
    }
}

#[test]
fn several_streams_and_disabled_ones() {
    let body = sdp(&[
        "v=0",
        "o=- 1 1 IN IP4 192.0.2.10",
        "s=-",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "m=audio 16384 RTP/AVP 0",
        "m=video 0 RTP/AVP 31",
        "a=rtcp:9999",
        "m=video 16390 RTP/AVPF 96",
        "a=rtpmap:96 H264/90000",
        "m=message 2855 TCP/MSRP *",
        "m=image 16400 udptl t38",
    ]);
    let m = sdp_invite(true, &body);
    let mut want = rtp_pair(CLIENT, 16384).to_vec();
    want.extend(rtp_pair(CLIENT, 16390));
    want.push(ep(CLIENT, 16400, Flow::Udp));
    assert_eq!(media(&m), Ok((want, false)));
    // All disabled: an empty set, not an error.
    let body = sdp(&["v=0", "c=IN IP4 192.0.2.10", "m=audio 0 RTP/AVP 0"]);
    let m = sip(OK, &["c: application/sdp"], true, &body);
    assert_eq!(media(&m), Ok((vec![], false)));
    // No stream at all.
    let m = sip(OK, &["c: application/sdp"], true, "v=0\r\ns=-\r\n");
    assert_eq!(media(&m), Ok((vec![], false)));
}

#[test]
fn media_level_connection_overrides_the_session() {
    let other = Addr::V4([192, 0, 2, 99]);
    let body = sdp(&[
        "v=0",
        "c=IN IP4 192.0.2.10",
        "t=0 0",
        "m=audio 16384 RTP/AVP 0",
        "c=IN IP4 192.0.2.99",
        "m=video 16386 RTP/AVP 31",
    ]);
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), true, &body);
    let mut want = rtp_pair(other, 16384).to_vec();
    want.extend(rtp_pair(CLIENT, 16386));
    assert_eq!(media(&m), Ok((want, false)));
    // Only at media level, no session address.
    let body = sdp(&["v=0", "m=audio 16384 RTP/AVP 0", "c=IN IP4 192.0.2.10"]);
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), true, &body);
    assert_eq!(media(&m), Ok((rtp_pair(CLIENT, 16384).to_vec(), false)));
    // A stream with none.
    let body = sdp(&[
        "v=0",
        "m=audio 16384 RTP/AVP 0",
        "c=IN IP4 192.0.2.10",
        "m=video 16386 RTP/AVP 31",
    ]);
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), true, &body);
    assert_eq!(media(&m), Err(MediaError::NoConnection));
}

#[test]
fn ipv6() {
    let client = v6("2001:db8::10");
    let body = sdp(&[
        "v=0",
        "o=alice 1 1 IN IP6 2001:db8::10",
        "s=-",
        "c=IN IP6 2001:db8::10",
        "t=0 0",
        "m=audio 16384 RTP/AVP 0",
        "m=video 16386 RTP/AVP 31",
        "c=IN IP6 2001:DB8:0:0:0:0:0:10",
        "a=rtcp:16500 IN IP6 2001:db8::11",
    ]);
    let m = sip(
        "INVITE sip:carol@[2001:db8::5060] SIP/2.0",
        &["Content-Type: application/sdp"],
        true,
        &body,
    );
    let mut want = rtp_pair(client, 16384).to_vec();
    want.push(ep(client, 16386, Flow::Rtp));
    want.push(ep(v6("2001:db8::11"), 16500, Flow::Rtcp));
    assert_eq!(media(&m), Ok((want, false)));
    assert_eq!(client.octets().len(), 16);
    assert_eq!(CLIENT.octets(), [192, 0, 2, 10]);
}

#[test]
fn ipv6_on_an_ipv4_call_is_parsed_and_left_to_the_caller() {
    // The parser reports what the SDP says; the engine keeps an endpoint only if its
    // address is the datagram's source.
    let body = sdp(&["v=0", "c=IN IP6 2001:db8::10", "m=audio 16384 RTP/AVP 0"]);
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), true, &body);
    let (endpoints, _) = media(&m).unwrap();
    assert!(endpoints.iter().all(|e| e.addr != CLIENT));
    assert_eq!(endpoints.len(), 2);
}

#[test]
fn rtcp_attributes_and_mux() {
    let run = |lines: &[&str]| {
        let mut all = vec!["v=0", "c=IN IP4 192.0.2.10", "t=0 0"];
        all.extend(lines);
        media(&sip(
            INVITE,
            &with_headers(&["c: application/sdp"]),
            true,
            &sdp(&all),
        ))
    };
    // a=rtcp: its port instead of port + 1.
    assert_eq!(
        run(&["m=audio 16384 RTP/AVP 0", "a=rtcp:16999"]),
        Ok((
            vec![ep(CLIENT, 16384, Flow::Rtp), ep(CLIENT, 16999, Flow::Rtcp)],
            false
        ))
    );
    // a=rtcp with an address of its own.
    let elsewhere = Addr::V4([203, 0, 113, 5]);
    assert_eq!(
        run(&["m=audio 16384 RTP/AVP 0", "a=rtcp:53020 IN IP4 203.0.113.5"]),
        Ok((
            vec![
                ep(CLIENT, 16384, Flow::Rtp),
                ep(elsewhere, 53020, Flow::Rtcp)
            ],
            false
        ))
    );
    // rtcp-mux: RTCP on the RTP port, no second endpoint (also with a=rtcp naming it).
    for extra in [&["a=rtcp-mux"][..], &["a=rtcp:16384", "a=rtcp-mux"][..]] {
        let mut lines = vec!["m=audio 16384 RTP/SAVPF 111"];
        lines.extend(extra);
        assert_eq!(
            run(&lines),
            Ok((vec![ep(CLIENT, 16384, Flow::Rtp)], false)),
            "{extra:?}"
        );
    }
    // Attributes of one stream do not leak into the next, nor do session-level ones count.
    assert_eq!(
        run(&[
            "a=rtcp-mux",
            "a=rtcp:1",
            "m=audio 16384 RTP/AVP 0",
            "a=rtcp-mux",
            "m=video 16386 RTP/AVP 31",
        ]),
        Ok((
            vec![
                ep(CLIENT, 16384, Flow::Rtp),
                ep(CLIENT, 16386, Flow::Rtp),
                ep(CLIENT, 16387, Flow::Rtcp)
            ],
            false
        ))
    );
    // Other attributes that start alike are not these.
    assert_eq!(
        run(&[
            "m=audio 16384 RTP/AVP 0",
            "a=rtcp-mux-only",
            "a=rtcp-fb:* nack",
            "a=rtcpx:5"
        ]),
        Ok((rtp_pair(CLIENT, 16384).to_vec(), false))
    );
    // A range: each RTP port with the next one; a=rtcp does not apply.
    assert_eq!(
        run(&["m=video 16384/2 RTP/AVP 31", "a=rtcp:9000"]),
        Ok((
            [rtp_pair(CLIENT, 16384), rtp_pair(CLIENT, 16386)].concat(),
            false
        ))
    );
    // Malformed.
    for bad in [
        "a=rtcp:0",
        "a=rtcp:x",
        "a=rtcp:70000",
        "a=rtcp:9 IN IP4 1.2.3",
        "a=rtcp:9 IN",
    ] {
        assert_eq!(
            run(&["m=audio 16384 RTP/AVP 0", bad]),
            Err(MediaError::BadRtcp),
            "{bad}"
        );
    }
}

#[test]
fn an_endpoint_is_listed_once() {
    // Two streams on one port (BUNDLE), and an RTCP port that is another stream's RTP port.
    let body = sdp(&[
        "v=0",
        "c=IN IP4 192.0.2.10",
        "m=audio 16384 RTP/AVP 0",
        "a=rtcp-mux",
        "m=video 16384 RTP/AVP 31",
        "a=rtcp-mux",
        "m=audio 16386 RTP/AVP 0",
        "a=rtcp:16384",
    ]);
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), true, &body);
    assert_eq!(
        media(&m),
        Ok((
            vec![ep(CLIENT, 16384, Flow::Rtp), ep(CLIENT, 16386, Flow::Rtp)],
            false
        ))
    );
}

// ---- Multipart bodies --------------------------------------------------------------------

/// A multipart body of `parts` (each its headers and body) with `boundary`.
fn multipart(boundary: &str, parts: &[(&str, &str)]) -> String {
    let mut b = String::from("This is a preamble.\r\n");
    for (headers, body) in parts {
        write!(b, "--{boundary}\r\n{headers}\r\n\r\n{body}\r\n").unwrap();
    }
    write!(b, "--{boundary}--\r\nAn epilogue.\r\n").unwrap();
    b
}

const ISUP: (&str, &str) = (
    "Content-Type: application/isup;version=itu-t92+\r\nContent-Disposition: signal;handling=optional",
    "\x01\x00\x49\x00\x00\x03\x02\x00\x07\x04\x10\x00\x33\x63\x21\x43\x00\x00\x03",
);

#[test]
fn sdp_in_multipart_mixed() {
    let offer = sdp(OFFER);
    for (ct, boundary) in [
        (
            "Content-Type: multipart/mixed;boundary=unique-boundary-1",
            "unique-boundary-1",
        ),
        ("Content-Type: multipart/mixed; boundary=\"b 1:x\"", "b 1:x"),
        ("c: Multipart/Mixed ;\r\n Boundary = \"=_part\"", "=_part"),
        (
            "Content-Type: multipart/related;type=\"application/sdp\";boundary=rel",
            "rel",
        ),
    ] {
        let body = multipart(
            boundary,
            &[
                ISUP,
                ("Content-Type: application/sdp", offer.as_str()),
                (
                    "Content-Type: application/sdp",
                    "v=0\r\nc=IN IP4 192.0.2.77\r\nm=audio 5 RTP/AVP 0\r\n",
                ),
            ],
        );
        let m = sip(INVITE, &with_headers(&[ct]), true, &body);
        // The first SDP part.
        assert_eq!(
            media(&m),
            Ok((rtp_pair(CLIENT, 16384).to_vec(), false)),
            "{ct}"
        );
    }
}

#[test]
fn sdp_in_multipart_alternative_and_nested() {
    let offer = sdp(OFFER);
    let alternative = multipart(
        "alt",
        &[
            ("Content-Type: text/plain", "an audio call"),
            ("content-type: application/SDP", offer.as_str()),
        ],
    );
    let m = sip(
        INVITE,
        &with_headers(&["Content-Type: multipart/alternative; boundary=alt"]),
        true,
        &alternative,
    );
    assert_eq!(media(&m), Ok((rtp_pair(CLIENT, 16384).to_vec(), false)));
    // Alternative inside mixed, after a part without headers (text/plain).
    let mixed = multipart(
        "outer",
        &[
            ("", "no headers: text/plain"),
            ISUP,
            (
                "Content-Type: multipart/alternative;boundary=alt",
                alternative.as_str(),
            ),
        ],
    );
    let m = sip(
        INVITE,
        &with_headers(&["Content-Type: multipart/mixed;boundary=outer"]),
        true,
        &mixed,
    );
    assert_eq!(media(&m), Ok((rtp_pair(CLIENT, 16384).to_vec(), false)));
    // One level deeper is refused.
    let deeper = multipart(
        "deep",
        &[(
            "Content-Type: multipart/mixed;boundary=outer",
            mixed.as_str(),
        )],
    );
    let m = sip(
        INVITE,
        &with_headers(&["Content-Type: multipart/mixed;boundary=deep"]),
        true,
        &deeper,
    );
    assert_eq!(media(&m), Err(MediaError::BadMultipart));
}

#[test]
fn malformed_multipart() {
    let offer = sdp(OFFER);
    let good = multipart("b", &[("Content-Type: application/sdp", offer.as_str())]);
    let run = |ct: &str, body: &str| media(&sip(INVITE, &with_headers(&[ct]), true, body));
    assert!(run("Content-Type: multipart/mixed;boundary=b", &good).is_ok());
    // No boundary, an empty one, one too long, one with a backslash.
    for ct in [
        "Content-Type: multipart/mixed",
        "Content-Type: multipart/mixed;boundary=\"\"",
        format!("Content-Type: multipart/mixed;boundary={}", "b".repeat(71)).as_str(),
        "Content-Type: multipart/mixed;boundary=\"a\\\"b\"",
    ] {
        assert_eq!(run(ct, &good), Err(MediaError::BadMultipart), "{ct}");
    }
    // Another boundary than the body's: no delimiter.
    assert_eq!(
        run("Content-Type: multipart/mixed;boundary=c", &good),
        Err(MediaError::BadMultipart)
    );
    // Cut before the closing delimiter, or before the SDP part ends.
    let cut = good.split("--b--").next().unwrap();
    assert_eq!(
        run("Content-Type: multipart/mixed;boundary=b", cut),
        Err(MediaError::BadMultipart)
    );
    // No SDP part.
    let none = multipart("b", &[ISUP]);
    assert_eq!(
        run("Content-Type: multipart/mixed;boundary=b", &none),
        Err(MediaError::NoSdp)
    );
    // A part's bad Content-Type is an error, not skipped.
    let bad = multipart("b", &[("Content-Type: application/", "x")]);
    assert_eq!(
        run("Content-Type: multipart/mixed;boundary=b", &bad),
        Err(MediaError::BadContentType)
    );
    // A line that starts with the delimiter but goes on is content.
    let tricky = multipart(
        "b",
        &[
            ("Content-Type: text/plain", "--bx\r\n--b-"),
            ("Content-Type: application/sdp", offer.as_str()),
        ],
    );
    assert!(run("Content-Type: multipart/mixed;boundary=b", &tricky).is_ok());
}

// ---- Bounds and hostile inputs -------------------------------------------------------------

#[test]
fn too_many_endpoints_are_truncated() {
    let mut lines = vec!["v=0".to_string(), "c=IN IP4 192.0.2.10".to_string()];
    for i in 0..6 {
        lines.push(format!("m=audio {} RTP/AVP 0", 20000 + 2 * i));
    }
    let refs: Vec<&str> = lines.iter().map(String::as_str).collect();
    let m = sip(
        INVITE,
        &with_headers(&["c: application/sdp"]),
        true,
        &sdp(&refs),
    );
    let (endpoints, truncated) = media(&m).unwrap();
    assert!(truncated);
    assert_eq!(endpoints.len(), MAX_ENDPOINTS);
    let want: Vec<Endpoint> = (0..4)
        .flat_map(|i| rtp_pair(CLIENT, 20000 + 2 * i))
        .collect();
    assert_eq!(endpoints, want);
}

#[test]
fn a_client_that_announces_thousands_of_ports() {
    let run = |m_line: &str| {
        let body = sdp(&["v=0", "c=IN IP4 192.0.2.10", m_line]);
        media(&sip(
            INVITE,
            &with_headers(&["c: application/sdp"]),
            true,
            &body,
        ))
    };
    // Ranges up to the top of the port space: the set fills and says so.
    for m_line in [
        "m=audio 2/32767 RTP/AVP 0",
        "m=audio 10000/27768 RTP/AVP 0",
        "m=audio 1/65535 udp 0",
        "m=audio 10000/55536 udp 0",
    ] {
        let (endpoints, truncated) = run(m_line).unwrap();
        assert!(truncated && endpoints.len() == MAX_ENDPOINTS, "{m_line}");
        assert_eq!(
            endpoints[0].port,
            if m_line.contains("/32767") || m_line.contains("/65535") {
                2 - u16::from(m_line.contains("udp"))
            } else {
                10000
            }
        );
    }
    // Past it.
    for m_line in [
        "m=audio 10000/27769 RTP/AVP 0",
        "m=audio 10000/55537 udp 0",
        "m=audio 10000/65536 udp 0",
    ] {
        assert_eq!(run(m_line), Err(MediaError::BadMedia), "{m_line}");
    }
}

#[test]
fn many_m_lines() {
    let mut body = String::from("v=0\r\nc=IN IP4 192.0.2.10\r\n");
    for i in 0..MAX_MEDIA {
        write!(
            body,
            "m=audio {} RTP/AVP 0\r\n",
            if i == 0 { 4000 } else { 0 }
        )
        .unwrap();
    }
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), false, &body);
    assert_eq!(media(&m), Ok((rtp_pair(CLIENT, 4000).to_vec(), false)));
    body.push_str("m=audio 0 RTP/AVP 0\r\n");
    let m = sip(INVITE, &with_headers(&["c: application/sdp"]), false, &body);
    assert_eq!(media(&m), Err(MediaError::TooManyMedia));
    // And the set is left empty on an error.
    let msg = message(&m).unwrap();
    let mut set = MediaSet::new();
    msg.media(&mut set).unwrap_err();
    assert!(set.endpoints().is_empty() && !set.is_truncated());
}

#[test]
fn absurd_ports_and_bad_lines() {
    let run = |lines: &[&str]| {
        let mut all = vec!["v=0", "c=IN IP4 192.0.2.10"];
        all.extend(lines);
        media(&sip(
            INVITE,
            &with_headers(&["c: application/sdp"]),
            true,
            &sdp(&all),
        ))
    };
    for bad in [
        "m=audio 65536 RTP/AVP 0",
        "m=audio 99999999999999999999 RTP/AVP 0",
        "m=audio -1 RTP/AVP 0",
        "m=audio 1/0 RTP/AVP 0",
        "m=audio",
        "m=audio 5000",
        "m=",
    ] {
        assert_eq!(run(&[bad]), Err(MediaError::BadMedia), "{bad}");
    }
    for bad in [
        "c=IN IP4 999.1.1.1",
        "c=IN IP4 host.example.com",
        "c=IN IP4",
        "c=",
        "c=IN IP6 ::ffff:1.2.3.4.5",
    ] {
        assert_eq!(
            run(&["m=audio 5000 RTP/AVP 0", bad]),
            Err(MediaError::BadConnection),
            "{bad}"
        );
    }
    // SDP without c=.
    let m = sip(
        OK,
        &["c: application/sdp"],
        true,
        "v=0\r\nm=audio 5000 RTP/AVP 0\r\n",
    );
    assert_eq!(media(&m), Err(MediaError::NoConnection));
    // Not SDP at all.
    let m = sip(OK, &["c: application/sdp"], true, "hello\r\n");
    assert_eq!(media(&m), Err(MediaError::BadSdp));
}

#[test]
fn truncated_bodies() {
    // Every prefix of an offer: no panic, and what it gives is what the prefix says.
    let whole = sdp_invite(true, &sdp(OFFER));
    for len in 0..whole.len() {
        let r = media(&whole[..len]);
        if let Ok((endpoints, _)) = &r {
            assert!(endpoints.len() <= 2);
        }
        // The Content-Length is longer than any prefix's body.
        assert!(r.is_err(), "prefix {len}: {r:?}");
    }
    let no_length = sdp_invite(false, &sdp(OFFER));
    assert!(media(&no_length).is_ok());
    for len in 0..no_length.len() {
        check_invariants(&no_length[..len]).unwrap();
    }
}

/// Inputs of a megabyte or more that a quadratic parser would not finish (each is linear
/// here: the test takes milliseconds).
#[test]
fn hostile_megabytes_finish() {
    const MB: usize = 1 << 20;
    let mut cases: Vec<Vec<u8>> = Vec::new();
    // Lines that almost match a long boundary.
    let boundary = "b".repeat(70);
    let almost = format!("--{}x\r\n", &boundary[..69]).repeat(MB / 72);
    cases.push(sip(
        INVITE,
        &[&format!(
            "Content-Type: multipart/mixed;boundary={boundary}"
        )],
        false,
        &format!("--{boundary}\r\n{almost}"),
    ));
    // Empty lines, bare CRs, in the headers and the body.
    cases.push(sip(
        INVITE,
        &["c: application/sdp"],
        false,
        &format!("v=0\r\n{}", "\r".repeat(MB)),
    ));
    let mut headers = b"INVITE sip:b SIP/2.0\r\n".to_vec();
    headers.extend(b"X: y\r\n \r\n".repeat(MB / 10));
    cases.push(headers);
    // A header folded a million times.
    let mut folded = b"INVITE sip:b SIP/2.0\r\nContent-Type: application/sdp".to_vec();
    folded.extend(b"\r\n ;a=b".repeat(MB / 7));
    folded.extend(b"\r\n\r\nv=0\r\n");
    cases.push(folded);
    // Parameters without end.
    cases.push(sip(
        INVITE,
        &[&format!("c: multipart/mixed{}", ";a=b".repeat(MB / 4))],
        false,
        "x",
    ));
    // A million m= lines after the set is full, and a million a=rtcp lines.
    let mut sdp_many = String::from("v=0\r\nc=IN IP4 192.0.2.10\r\n");
    sdp_many.push_str(&"a=rtcp:5 IN IP6 ::\r\n".repeat(MB / 20));
    sdp_many.push_str(&"m=audio 5000/65000 udp 0\r\n".repeat(MB / 26));
    cases.push(sip(INVITE, &["c: application/sdp"], false, &sdp_many));
    // Nested multiparts, each level's delimiters everywhere.
    let inner = "--i\r\n\r\n".repeat(MB / 7);
    cases.push(sip(
        INVITE,
        &["c: multipart/mixed;boundary=o"],
        false,
        &format!(
            "--o\r\nContent-Type: multipart/mixed;boundary=i\r\n\r\n{inner}--i--\r\n--o--\r\n"
        ),
    ));
    let started = std::time::Instant::now();
    for case in &cases {
        let _ = media(case);
    }
    // Generous: a quadratic pass over any of these would take hours.
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

#[test]
fn error_names_are_distinct_and_stable() {
    let names: HashSet<&str> = MediaError::ALL.iter().map(|e| e.name()).collect();
    assert_eq!(names.len(), MediaError::ALL.len());
    assert_eq!(MediaError::NotSip.name(), "not_sip");
    assert_eq!(MediaError::TooManyMedia.name(), "too_many_media");
    assert!(names
        .iter()
        .all(|n| n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')));
}

// ---- Properties -----------------------------------------------------------------------------

/// The invariants of any answer: bounded, unique, no port 0, empty on an error, truncated
/// only when full, and the body a part of the datagram.
fn check_invariants(payload: &[u8]) -> Result<(), TestCaseError> {
    let Ok(msg) = message(payload) else {
        return Ok(());
    };
    if let Ok(body) = msg.body() {
        let outer = payload.as_ptr_range();
        let inner = body.as_ptr_range();
        prop_assert!(outer.start <= inner.start && inner.end <= outer.end);
    }
    let mut set = MediaSet::new();
    // Stale contents must not survive.
    let _ = message(
        b"SIP/2.0 200 OK\r\nc:application/sdp\r\n\r\nv=0\r\nc=IN IP4 1.2.3.4\r\nm=a 2/9 udp 0\r\n",
    )
    .unwrap()
    .media(&mut set);
    let result = msg.media(&mut set);
    let endpoints = set.endpoints();
    prop_assert!(endpoints.len() <= MAX_ENDPOINTS);
    prop_assert!(!set.is_truncated() || endpoints.len() == MAX_ENDPOINTS);
    if result.is_err() {
        prop_assert!(endpoints.is_empty() && !set.is_truncated());
        prop_assert!(result != Err(MediaError::NotSip));
    }
    let unique: HashSet<(Addr, u16)> = endpoints.iter().map(|e| (e.addr, e.port)).collect();
    prop_assert_eq!(unique.len(), endpoints.len());
    prop_assert!(endpoints.iter().all(|e| e.port != 0));
    Ok(())
}

/// Bytes that make the parser take its paths: SIP and SDP tokens, line ends, digits.
fn soup() -> impl Strategy<Value = Vec<u8>> {
    let tokens: &[&[u8]] = &[
        b"INVITE sip:b SIP/2.0\r\n",
        b"SIP/2.0 200 OK\r\n",
        b"Content-Type: application/sdp\r\n",
        b"c: multipart/mixed;boundary=b\r\n",
        b"l: 40\r\n",
        b"CSeq: 1 BYE\r\n",
        b"\r\n",
        b"\n",
        b"\r",
        b" ",
        b"--b\r\n",
        b"--b--\r\n",
        b"v=0\r\n",
        b"c=IN IP4 192.0.2.1\r\n",
        b"c=IN IP6 2001:db8::1\r\n",
        b"m=audio 5000 RTP/AVP 0\r\n",
        b"m=video 0/3 udp 0\r\n",
        b"a=rtcp:5001\r\n",
        b"a=rtcp-mux\r\n",
        b"65535",
        b"/",
        b":",
        b";",
        b"\"",
    ];
    proptest::collection::vec(
        prop_oneof![
            3 => select(tokens).prop_map(<[u8]>::to_vec),
            1 => proptest::collection::vec(any::<u8>(), 1..8),
        ],
        0..40,
    )
    .prop_map(|pieces| pieces.concat())
}

/// One stream of a generated SDP.
#[derive(Clone, Debug)]
struct GenStream {
    port: u16,
    count: u16,
    proto: &'static str,
    addr: Option<IpAddr>,
    rtcp: Option<(u16, Option<IpAddr>)>,
    mux: bool,
}

fn ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<[u8; 4]>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        (any::<[u16; 8]>(), 0usize..8, 0usize..8).prop_map(|(mut g, at, zeros)| {
            for x in g.iter_mut().skip(at).take(zeros) {
                *x = 0;
            }
            IpAddr::V6(Ipv6Addr::from(g))
        }),
    ]
}

fn to_addr(ip: IpAddr) -> Addr {
    match ip {
        IpAddr::V4(a) => Addr::V4(a.octets()),
        IpAddr::V6(a) => Addr::V6(a.octets()),
    }
}

/// An address as an SDP writes it: `IN IP4 a.b.c.d`, IPv6 in its short or its long form.
fn address_text(ip: IpAddr, long: bool) -> String {
    match ip {
        IpAddr::V4(a) => format!("IN IP4 {a}"),
        IpAddr::V6(a) if long => {
            let groups: Vec<String> = a.segments().iter().map(|g| format!("{g:x}")).collect();
            format!("IN IP6 {}", groups.join(":"))
        }
        IpAddr::V6(a) => format!("IN IP6 {a}"),
    }
}

fn gen_stream() -> impl Strategy<Value = GenStream> {
    (
        prop_oneof![1 => Just(0u16), 8 => 1u16..60000],
        prop_oneof![5 => Just(1u16), 2 => 1u16..10],
        select(
            &[
                "RTP/AVP",
                "RTP/SAVPF",
                "UDP/TLS/RTP/SAVPF",
                "udptl",
                "udp",
                "TCP/MSRP",
            ][..],
        ),
        proptest::option::of(ip()),
        proptest::option::of((1u16..=65535, proptest::option::of(ip()))),
        any::<bool>(),
    )
        .prop_map(|(port, count, proto, addr, rtcp, mux)| GenStream {
            port,
            count,
            proto,
            addr,
            rtcp,
            mux,
        })
}

/// The endpoints a description of streams stands for, by the rules written out plainly:
/// every endpoint in order, the first of each (address, port), the first MAX_ENDPOINTS.
fn model(session: Option<IpAddr>, streams: &[GenStream]) -> (Vec<Endpoint>, bool) {
    let mut all = Vec::new();
    for s in streams {
        if s.port == 0 || s.proto.starts_with("TCP") {
            continue;
        }
        let addr = to_addr(s.addr.or(session).unwrap());
        let rtp = s.proto.contains("RTP");
        for i in 0..s.count {
            let port = if rtp { s.port + 2 * i } else { s.port + i };
            all.push(ep(addr, port, if rtp { Flow::Rtp } else { Flow::Udp }));
            if rtp && !s.mux {
                match s.rtcp {
                    Some((p, a)) if s.count == 1 => {
                        all.push(ep(a.map_or(addr, to_addr), p, Flow::Rtcp));
                    }
                    _ => all.push(ep(addr, port + 1, Flow::Rtcp)),
                }
            }
        }
    }
    let mut seen = HashSet::new();
    let distinct: Vec<Endpoint> = all
        .into_iter()
        .filter(|e| seen.insert((e.addr, e.port)))
        .collect();
    let truncated = distinct.len() > MAX_ENDPOINTS;
    (
        distinct.into_iter().take(MAX_ENDPOINTS).collect(),
        truncated,
    )
}

/// How the SDP is carried.
#[derive(Clone, Debug)]
enum Wrap {
    Direct,
    Mixed { quoted: bool },
    Alternative,
}

#[derive(Clone, Debug)]
struct Generated {
    payload: Vec<u8>,
    want: (Vec<Endpoint>, bool),
}

prop_compose! {
    fn generated()(
        session in proptest::option::of(ip()),
        streams in proptest::collection::vec(gen_stream(), 0..6),
        long_v6 in any::<bool>(),
        end in select(&["\r\n", "\n"][..]),
        response in any::<bool>(),
        compact in any::<bool>(),
        fold in any::<bool>(),
        length in any::<bool>(),
        wrap in prop_oneof![Just(Wrap::Direct), any::<bool>().prop_map(|quoted| Wrap::Mixed { quoted }), Just(Wrap::Alternative)],
    ) -> Generated {
        // Every enabled stream has an address: its own, or the session's.
        let mut streams = streams;
        let fallback = "192.0.2.200".parse().unwrap();
        for s in &mut streams {
            if s.addr.is_none() && session.is_none() {
                s.addr = Some(fallback);
            }
        }
        let mut body = String::new();
        let mut line = |s: &str| { body.push_str(s); body.push_str(end); };
        line("v=0");
        line("o=- 20518 0 IN IP4 203.0.113.1");
        line("s=-");
        if let Some(a) = session { line(&format!("c={}", address_text(a, long_v6))); }
        line("t=0 0");
        for s in &streams {
            line(&format!("m=audio {}{} {} 0 8", s.port,
                if s.count > 1 { format!("/{}", s.count) } else { String::new() }, s.proto));
            if let Some(a) = s.addr { line(&format!("c={}", address_text(a, !long_v6))); }
            line("a=rtpmap:0 PCMU/8000");
            if let Some((p, a)) = s.rtcp {
                match a {
                    Some(a) => line(&format!("a=rtcp:{p} {}", address_text(a, long_v6))),
                    None => line(&format!("a=rtcp:{p}")),
                }
            }
            if s.mux { line("a=rtcp-mux"); }
            line("a=sendrecv");
        }
        let (content_type, body) = match wrap {
            Wrap::Direct => ("application/sdp".to_string(), body),
            Wrap::Mixed { quoted } => {
                let b = "=_mixed 1";
                let ct = if quoted { format!("multipart/mixed; boundary=\"{b}\"") } else { "multipart/mixed;boundary=mx".to_string() };
                let b = if quoted { b } else { "mx" };
                (ct, multipart(b, &[ISUP, ("Content-Type: application/sdp", body.as_str())]))
            }
            Wrap::Alternative => (
                "multipart/alternative;boundary=alt".to_string(),
                multipart("alt", &[("Content-Type: text/plain", "hi"), ("Content-Type: application/sdp", body.as_str())]),
            ),
        };
        let mut headers = vec![
            "Via: SIP/2.0/UDP 203.0.113.1;branch=z9hG4bK-1".to_string(),
            "Call-ID: a84b4c76e66710@203.0.113.1".to_string(),
            "CSeq: 314159 INVITE".to_string(),
        ];
        let ct_name = if compact { "c" } else { "Content-Type" };
        let ct_sep = if fold { ":\r\n " } else { ": " };
        headers.insert(1, format!("{ct_name}{ct_sep}{content_type}"));
        if length {
            headers.push(format!("{}: {}", if compact { "l" } else { "Content-Length" }, body.len()));
        }
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        let payload = sip(if response { OK } else { INVITE }, &refs, false, &body);
        let want = model(session, &streams);
        Generated { payload, want }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn well_formed_sdp_gives_back_its_endpoints(g in generated()) {
        let text = String::from_utf8_lossy(&g.payload).into_owned();
        prop_assert_eq!(media(&g.payload), Ok(g.want.clone()), "{}", text);
        check_invariants(&g.payload)?;
    }

    #[test]
    fn no_panic_and_bounded_on_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..512)) {
        check_invariants(&data)?;
    }

    #[test]
    fn no_panic_and_bounded_on_token_soup(data in soup()) {
        check_invariants(&data)?;
    }

    #[test]
    fn no_panic_and_bounded_on_damaged_messages(
        g in generated(),
        cuts in proptest::collection::vec((any::<proptest::sample::Index>(), any::<u8>()), 1..6),
        keep in any::<proptest::sample::Index>(),
    ) {
        let mut data = g.payload.clone();
        for (at, byte) in cuts {
            if !data.is_empty() {
                let i = at.index(data.len());
                data[i] = byte;
            }
        }
        data.truncate(keep.index(data.len() + 1));
        check_invariants(&data)?;
    }
}

/// The message type is all the kernel needs to hold a borrowed answer: it is `Copy`.
#[test]
fn message_is_copy() {
    fn copy<T: Copy>(_: T) {}
    let m: Message<'_> = message(b"SIP/2.0 180 Ringing\r\n\r\n").unwrap();
    copy(m);
    assert_eq!(m.start, StartLine::Response(180));
}

/// The generator reaches every path the round trip is meant to check, so that the property
/// cannot pass by testing nothing: floors on how many of 1,000 generated messages take each.
#[test]
fn generated_messages_cover_the_rules() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = generated();
    let mut counts = std::collections::BTreeMap::<&str, usize>::new();
    for _ in 0..1000 {
        let g = strategy.new_tree(&mut runner).unwrap().current();
        let text = String::from_utf8_lossy(&g.payload).into_owned();
        let (endpoints, truncated) = &g.want;
        let mut count = |what, yes: bool| *counts.entry(what).or_default() += usize::from(yes);
        count("endpoints", !endpoints.is_empty());
        count("none", endpoints.is_empty());
        count("truncated", *truncated);
        count(
            "ipv6",
            endpoints.iter().any(|e| matches!(e.addr, Addr::V6(_))),
        );
        count("rtcp", endpoints.iter().any(|e| e.flow == Flow::Rtcp));
        count("udp", endpoints.iter().any(|e| e.flow == Flow::Udp));
        count("a=rtcp", text.contains("a=rtcp:"));
        count("a=rtcp-mux", text.contains("a=rtcp-mux"));
        count("range", (2..10).any(|n| text.contains(&format!("/{n} "))));
        count("port 0", text.contains("m=audio 0 "));
        count("multipart", text.contains("multipart/"));
        count(
            "compact",
            text.contains("\r\nc: ") || text.contains("\r\nc:\r\n"),
        );
        count("lf", !text.contains("v=0\r\n"));
        count("response", text.starts_with("SIP/2.0"));
    }
    for (what, n) in &counts {
        assert!(*n >= 50, "only {n} of 1000 generated messages: {what}");
    }
    assert_eq!(counts.len(), 14);
}

/// The fuzz target's seeds (`fuzz/seeds/media/`) are what their names say.
#[test]
fn fuzz_seeds_are_what_their_names_say() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/seeds/media");
    // (name, endpoints, ends the call, may hold an offer or answer)
    let want: &[(&str, Result<usize, MediaError>, bool, bool)] = &[
        ("invite-offer", Ok(2), false, true),
        ("ok-compact", Ok(2), false, true),
        ("lf-only", Ok(2), false, true),
        ("ipv6-rtcp", Ok(4), false, true),
        ("mux-ranges", Ok(8), false, true),
        ("multipart-mixed", Ok(2), false, true),
        ("multipart-nested", Ok(2), false, true),
        ("folded", Ok(2), false, true),
        ("bye", Err(MediaError::NoBody), true, false),
        ("ok-cancel", Err(MediaError::NoBody), true, false),
        ("cut-off", Err(MediaError::BodyCutOff), false, true),
        ("many-m", Err(MediaError::TooManyMedia), false, true),
        ("update-offer", Ok(2), false, true),
        ("prack-answer", Ok(2), false, true),
    ];
    let files = std::fs::read_dir(dir).unwrap().count();
    assert_eq!(files, want.len(), "a seed without a row here");
    for (name, result, ends, negotiates) in want {
        let payload = std::fs::read(format!("{dir}/{name}.sip")).unwrap();
        let got = media(&payload).map(|(endpoints, _)| endpoints.len());
        assert_eq!(&got, result, "{name}");
        let msg = message(&payload).unwrap();
        assert_eq!(msg.ends_call(), *ends, "{name}");
        assert_eq!(msg.negotiates_media(), *negotiates, "{name}");
    }
}

/// The set lives on the caller's stack, in softirq: it stays small.
#[test]
fn a_media_set_is_small() {
    assert!(size_of::<MediaSet>() <= 192, "{}", size_of::<MediaSet>());
    assert!(size_of::<Endpoint>() <= 20);
}
