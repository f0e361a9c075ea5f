//! The `--which-server` command line: what it accepts, and each refusal, made before
//! anything reaches the kernel.

use ipvs::ServiceKey as Key;

use super::*;

fn line(words: &str) -> Vec<String> {
    std::iter::once("ipvsadm-rs")
        .chain(words.split_whitespace())
        .map(String::from)
        .collect()
}

/// The question a line asks (`None`: another run).
fn request(words: &str) -> Option<Result<WhichServerRequest, Exit>> {
    match crate::cli::recognise(&line(words)) {
        Ok(crate::cli::Run::WhichServer(r)) => Some(Ok(r)),
        Ok(_) => None,
        Err(e) if e.code == 2 => Some(Err(e)),
        Err(_) => None,
    }
}

fn ok(words: &str) -> WhichServerRequest {
    match request(words) {
        Some(Ok(r)) => r,
        other => panic!("{words}: {other:?}"),
    }
}

fn refused(words: &str) -> String {
    match request(words) {
        Some(Err(e)) => e.stderr,
        other => panic!("{words}: accepted: {other:?}"),
    }
}

#[test]
fn a_service_and_call_ids() {
    let r = ok("--which-server -u 10.0.1.100:5060 a@x b@y");
    assert_eq!(r.service, Key::udp("10.0.1.100:5060".parse().unwrap()));
    assert_eq!(r.call_ids, ["a@x", "b@y"]);
    assert_eq!((r.hash_key, r.last_weights.len()), (None, 0));
    assert_eq!(ok("--which-server -u 10.0.1.100:5060 -").call_ids, ["-"]);
}

#[test]
fn a_key_and_last_weights() {
    let r = ok(
        "--which-server -u 10.0.1.100:5060 --hash-key 00112233445566778899aabbccddeeff \
                --last-weight 10.0.2.12=3 --last-weight 10.0.2.13:5070=2 a@x",
    );
    assert_eq!(
        r.hash_key,
        parse_key("00112233445566778899aabbccddeeff").ok()
    );
    assert_eq!(
        r.last_weights,
        [
            ("10.0.2.12:5060".parse().unwrap(), 3),
            ("10.0.2.13:5070".parse().unwrap(), 2)
        ]
    );
}

#[test]
fn refusals_say_what_is_wrong() {
    assert!(refused("--which-server -u 10.0.1.100:5060").contains("CALL-ID"));
    assert!(refused("--which-server a@x").contains("required"));
    assert!(refused("--which-server -u 10.0.1.100:5060 --hash-key 0011 a@x").contains("32 hex"));
    assert!(
        refused("--which-server -u 10.0.1.100:5060 --last-weight 10.0.2.12 a@x")
            .contains("SERVER-ADDRESS=WEIGHT")
    );
    assert!(
        refused("--which-server -u 10.0.1.100:5060 --last-weight 10.0.2.12=x a@x")
            .contains("SERVER-ADDRESS=WEIGHT")
    );
    assert!(refused("--which-server -u nonsense:5060 a@x").contains("illegal virtual server"));
}
