use super::*;
use crate::render::fixtures;
use ipvs::{Tunnel, TunnelFlags};

fn entry(sched: &str, flags: ServiceFlags) -> Service {
    Service {
        scheduler: sched.into(),
        flags,
        ..fixtures::service("10.0.0.1", 80)
    }
}

#[test]
fn sched_flags_by_their_option_names() {
    let all = ServiceFlags::SCHED_MASK;
    let names = |sched| sched_flag_names(&entry(sched, all));
    assert_eq!(names("sh"), ["sh-fallback", "sh-port", "flag-3"]);
    assert_eq!(names("mh"), ["mh-fallback", "mh-port", "flag-3"]);
    assert_eq!(names("rr"), ["flag-1", "flag-2", "flag-3"]);
    assert!(sched_flag_names(&entry("sh", ServiceFlags::empty())).is_empty());
}

#[test]
fn tunnels_and_masks() {
    let mut se = entry("rr", ServiceFlags::empty());
    se.netmask = Netmask::Ipv4([255, 255, 255, 0].into());
    let d = Destination {
        forward: Forward::Tunnel,
        tunnel: Tunnel {
            kind: TunnelType::Gue,
            port: 65535,
            flags: TunnelFlags::from_bits(TunnelFlags::CSUM.bits() | TunnelFlags::REMCSUM.bits()),
        },
        ..fixtures::dest("10.0.0.2", 80)
    };
    let v = serde_json::to_value(service(&se, &[d])).expect("json");
    assert_eq!(v["netmask"], "255.255.255.0");
    let t = &v["destinations"][0]["tunnel"];
    assert_eq!(
        (&t["type"], &t["port"], &t["checksum"]),
        (&"gue".into(), &65535.into(), &"remote".into())
    );
}

/// Connections are written one by one, in the document `-Lc --json` has
/// always printed: the keys of each entry in order, two-space indents.
#[test]
fn connections_stream_into_the_same_document() {
    let text = b"Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n\
        UDP 0A000002 13C4 0A000001 13C4 0A000003 13C4 NONE             59 sip abc@host\n\
        TCP 0A000004 0050 0A000001 0050 0A000003 0050 ESTABLISHED     100\n";
    let conns = || {
        crate::conn::entries(&text[..])
            .expect("read")
            .expect("heading")
    };
    let mut streamed = Vec::new();
    write_connections(&mut streamed, conns()).expect("in memory");
    let whole: Vec<serde_json::Value> = conns()
        .map(|c| serde_json::to_value(connection(&c)).expect("json"))
        .collect();
    let mut expected =
        serde_json::to_vec_pretty(&serde_json::json!({ "connections": whole })).expect("json");
    expected.push(b'\n');
    assert_eq!(
        String::from_utf8_lossy(&streamed),
        String::from_utf8_lossy(&expected)
    );
    let mut empty = Vec::new();
    write_connections(&mut empty, std::iter::empty()).expect("in memory");
    assert_eq!(empty, b"{\n  \"connections\": []\n}\n");
}
