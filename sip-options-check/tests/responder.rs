//! The program against a SIP responder on 127.0.0.1 (loopback only), run as keepalived runs
//! it: its exit status and its line on stderr.

use std::net::UdpSocket;
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_sip-options-check");

/// What the responder sends back for each request it receives.
type Replies = fn(&[u8]) -> Vec<Vec<u8>>;

/// A responder on 127.0.0.1 answering each datagram with REPLIES; its port.
fn responder(replies: Replies) -> u16 {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind 127.0.0.1");
    let port = sock.local_addr().expect("local address").port();
    thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            for r in replies(&buf[..n]) {
                let _ = sock.send_to(&r, from);
            }
        }
    });
    port
}

fn header<'a>(req: &'a [u8], name: &str) -> &'a str {
    std::str::from_utf8(req)
        .unwrap_or("")
        .lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim())
        })
        .unwrap_or("")
}

fn response(req: &[u8], status: &str, call_id: Option<&str>, cseq: Option<&str>) -> Vec<u8> {
    format!(
        "SIP/2.0 {status}\r\nVia: {}\r\nFrom: {}\r\nTo: {};tag=r\r\nCall-ID: {}\r\n\
         CSeq: {}\r\nContent-Length: 0\r\n\r\n",
        header(req, "Via"),
        header(req, "From"),
        header(req, "To"),
        call_id.unwrap_or(header(req, "Call-ID")),
        cseq.unwrap_or(header(req, "CSeq")),
    )
    .into_bytes()
}

fn run(args: &[&str]) -> (Output, Duration) {
    let t0 = Instant::now();
    let out = Command::new(BIN)
        .args(args)
        .output()
        .expect("run the program");
    (out, t0.elapsed())
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn target(port: u16) -> String {
    format!("127.0.0.1:{port}")
}

#[test]
fn ok_200_is_alive() {
    let port = responder(|r| vec![response(r, "200 OK", None, None)]);
    let (o, _) = run(&["--verbose", "-t", "5", &target(port)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("127.0.0.1:{port}: SIP/2.0 200 OK")
    );
    assert!(o.stderr.is_empty());
}

#[test]
fn any_final_response_is_alive() {
    // 503: the server is up and says it is overloaded; it answered, which is what counts.
    let port = responder(|r| vec![response(r, "503 Service Unavailable", None, None)]);
    let (o, _) = run(&["-t", "5", &target(port)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let port = responder(|r| vec![response(r, "404 Not Found", None, None)]);
    let (o, _) = run(&["-t", "5", "--source", "127.0.0.1", &target(port)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn no_answer_fails_within_the_timeout() {
    let port = responder(|_| vec![]);
    let (o, took) = run(&["--timeout", "0.6", &target(port)]);
    assert_eq!(o.status.code(), Some(1));
    let e = stderr(&o);
    assert_eq!(e.lines().count(), 1, "{e}");
    // Sent at 0 and 0.5 s (a slow host may not reach the second before the deadline).
    assert!(
        e.contains("no final response within 0.6 s (OPTIONS sent "),
        "{e}"
    );
    assert!(took >= Duration::from_millis(600), "{took:?}");
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn no_retransmit_sends_once() {
    let port = responder(|_| vec![]);
    let (o, _) = run(&["--no-retransmit", "--timeout=0.7", &target(port)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("(OPTIONS sent 1 time)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unrelated_datagrams_are_ignored() {
    // Before the real answer: garbage, another call's response, another CSeq, a request,
    // a truncated status line, a provisional response.
    let port = responder(|r| {
        vec![
            b"\x00\xff garbage \r\n\r\n".to_vec(),
            Vec::new(),
            response(r, "200 OK", Some("someone-else"), None),
            response(r, "200 OK", None, Some("2 OPTIONS")),
            response(r, "200 OK", None, Some("1 INVITE")),
            b"OPTIONS sip:x SIP/2.0\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\n\r\n".to_vec(),
            b"SIP/2.0 2".to_vec(),
            response(r, "100 Trying", None, None),
            response(r, "486 Busy Here", None, None),
        ]
    });
    let (o, _) = run(&["-v", "-t", "5", &target(port)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("486 Busy Here"));
}

#[test]
fn only_unrelated_datagrams_is_dead() {
    let port = responder(|r| {
        vec![
            b"hello".to_vec(),
            response(r, "200 OK", Some("someone-else"), None),
        ]
    });
    let (o, _) = run(&["-t", "0.4", "--no-retransmit", &target(port)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("2 unrelated datagram(s) ignored"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn provisional_keeps_waiting() {
    let port = responder(|r| vec![response(r, "180 Ringing", None, None)]);
    let (o, _) = run(&["-t", "0.5", "--no-retransmit", &target(port)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("1 provisional response(s)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn closed_port_is_dead() {
    // A port nothing listens on: the kernel answers with ICMP port unreachable.
    let port = {
        let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
        s.local_addr().expect("local address").port()
    };
    let (o, took) = run(&["-t", "5", &target(port)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("port unreachable"), "{}", stderr(&o));
    assert!(took < Duration::from_secs(5), "{took:?}");
}

#[test]
fn bad_command_lines() {
    for args in [
        &[][..],
        &["--frobnicate", "127.0.0.1"][..],
        &["-t", "abc", "127.0.0.1"][..],
        &["-t", "0", "127.0.0.1"][..],
        &["-t"][..],
        &["--source", "not-an-address", "127.0.0.1"][..],
        &["127.0.0.1:99999"][..],
        &["127.0.0.1:0"][..],
        &["127.0.0.1", "127.0.0.2"][..],
        &["[::1"][..],
        &["--source", "::1", "127.0.0.1"][..],
    ] {
        let (o, _) = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        let e = stderr(&o);
        assert_eq!(e.lines().count(), 1, "{args:?}: {e}");
        assert!(e.starts_with("sip-options-check: "), "{args:?}: {e}");
    }
}

#[test]
fn help_and_version() {
    let (o, _) = run(&["--help"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("MISC_CHECK"));
    let (o, _) = run(&["-V"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("sip-options-check "));
}
