//! The exposition of the counters: names, families, escaping.

use super::*;
use crate::pe_stats::parse;

/// Every counter of `kmod/stats-names.txt`, as the module writes them.
const FILE: &str = "examined 8\nfound 5\nnot_udp 1\nfragment 0\nno_payload 1\nno_callid 1\n\
too_long 0\nbad_terminator 0\nalloc_failed 0\ndropped 1\nfwmark_no_callid 0\n\
media_learnt 0\nmedia_foreign 0\nmedia_refused 0\nmedia_ended 0\nmedia_matched 0\n\
media_unmatched 0\n";

/// The whole exposition of `FILE`: the interface, byte for byte (the same
/// text is in docs/ipvsadm-rs.md).
const EXPOSITION: &str = "\
# HELP ipvs_pe_sip_datagrams_examined_total Datagrams the SIP persistence engine examined (the sum of ipvs_pe_sip_datagrams_total).
# TYPE ipvs_pe_sip_datagrams_examined_total counter
ipvs_pe_sip_datagrams_examined_total 8
# HELP ipvs_pe_sip_datagrams_total Datagrams the SIP persistence engine examined, by outcome (each in exactly one).
# TYPE ipvs_pe_sip_datagrams_total counter
ipvs_pe_sip_datagrams_total{outcome=\"found\"} 5
ipvs_pe_sip_datagrams_total{outcome=\"not_udp\"} 1
ipvs_pe_sip_datagrams_total{outcome=\"fragment\"} 0
ipvs_pe_sip_datagrams_total{outcome=\"no_payload\"} 1
ipvs_pe_sip_datagrams_total{outcome=\"no_callid\"} 1
ipvs_pe_sip_datagrams_total{outcome=\"too_long\"} 0
ipvs_pe_sip_datagrams_total{outcome=\"bad_terminator\"} 0
ipvs_pe_sip_datagrams_total{outcome=\"alloc_failed\"} 0
# HELP ipvs_pe_sip_dropped_total Datagrams dropped because of drop_without_callid (also counted by their outcome).
# TYPE ipvs_pe_sip_dropped_total counter
ipvs_pe_sip_dropped_total 1
# HELP ipvs_pe_sip_fwmark_no_callid_total Datagrams without a usable Call-ID on a firewall-mark service (also counted by their outcome).
# TYPE ipvs_pe_sip_fwmark_no_callid_total counter
ipvs_pe_sip_fwmark_no_callid_total 0
# HELP ipvs_pe_sip_media_learnt_total Media endpoints learnt from a client's SDP on a firewall-mark or port-zero service (added or renewed).
# TYPE ipvs_pe_sip_media_learnt_total counter
ipvs_pe_sip_media_learnt_total 0
# HELP ipvs_pe_sip_media_foreign_total Media endpoints of a client's SDP not learnt: their address is not the datagram's source.
# TYPE ipvs_pe_sip_media_foreign_total counter
ipvs_pe_sip_media_foreign_total 0
# HELP ipvs_pe_sip_media_refused_total Media endpoints not learnt: a bound (per client or per namespace) reached, or no memory.
# TYPE ipvs_pe_sip_media_refused_total counter
ipvs_pe_sip_media_refused_total 0
# HELP ipvs_pe_sip_media_ended_total Media entries removed by their call's BYE or CANCEL.
# TYPE ipvs_pe_sip_media_ended_total counter
ipvs_pe_sip_media_ended_total 0
# HELP ipvs_pe_sip_media_matched_total Datagrams without a Call-ID given their call's by the media table (also counted by their outcome).
# TYPE ipvs_pe_sip_media_matched_total counter
ipvs_pe_sip_media_matched_total 0
# HELP ipvs_pe_sip_media_unmatched_total Datagrams without a Call-ID on a firewall-mark or port-zero service that the media table did not know (also counted by their outcome).
# TYPE ipvs_pe_sip_media_unmatched_total counter
ipvs_pe_sip_media_unmatched_total 0
";

fn exposition(file: &str) -> String {
    render(&parse(file).expect("parses"))
}

#[test]
fn the_modules_counters_are_exposed_by_these_names() {
    assert_eq!(exposition(FILE), EXPOSITION);
}

/// docs/ipvsadm-rs.md shows the same exposition, and the one line of a
/// counter this program does not know.
#[test]
fn the_documented_exposition_is_the_programs() {
    let doc = include_str!("../../../../docs/ipvsadm-rs.md");
    assert!(doc.contains(&format!("```text\n{EXPOSITION}```\n")));
    let unknown = exposition("new_thing 2\n");
    assert!(
        doc.contains(&format!("```text\n{unknown}```\n")),
        "{unknown}"
    );
}

/// The list this program knows is the module's (kmod/stats-names.txt), so
/// that no counter of today's module falls in the unknown family.
#[test]
fn every_counter_of_the_module_has_a_family_of_its_own() {
    let names = include_str!("../../../../kmod/stats-names.txt");
    let known: Vec<&str> = std::iter::once(EXAMINED.counter)
        .chain(OUTCOMES)
        .chain(NOT_OUTCOMES.iter().map(|s| s.counter))
        .collect();
    assert_eq!(names.lines().collect::<Vec<_>>(), known);
    assert!(!exposition(FILE).contains(UNKNOWN_METRIC));
}

/// The outcomes' family sums to `examined`, which is not in it, and the
/// counters that are no outcome are not in it either.
#[test]
fn the_outcomes_sum_to_examined_and_nothing_is_counted_twice() {
    let text = exposition(FILE);
    let sum: u64 = text
        .lines()
        .filter(|l| l.starts_with("ipvs_pe_sip_datagrams_total{"))
        .map(|l| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .expect("a count")
        })
        .sum();
    assert_eq!(sum, 8);
    for l in text.lines().filter(|l| l.starts_with(OUTCOME_METRIC)) {
        assert!(
            !l.contains("examined") && !l.contains("dropped") && !l.contains("fwmark"),
            "{l}"
        );
    }
}

/// Prometheus's conventions: counters end in `_total`, no `node_` prefix,
/// names of the allowed characters, `# HELP` and `# TYPE` once each before
/// a family's samples, every line ended by a line feed, no timestamp.
#[test]
fn names_and_lines_follow_the_formats_rules() {
    let text = exposition(&format!("{FILE}new_thing 3\n"));
    assert!(text.ends_with('\n'));
    let mut typed: Vec<&str> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("name and type");
            assert_eq!(kind, "counter");
            assert!(!typed.contains(&name), "{name} typed twice");
            typed.push(name);
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        // NAME[{LABEL="VALUE"}] COUNT: no timestamp after the count.
        let (series, count) = line.rsplit_once(' ').expect("a series and its count");
        assert!(count.parse::<u64>().is_ok(), "{line}");
        let name = match series.split_once('{') {
            Some((name, labels)) => {
                assert!(labels.ends_with("\"}") && labels.contains("=\""), "{line}");
                name
            }
            None => series,
        };
        assert_eq!(Some(&name), typed.last(), "{line}: a sample after its TYPE");
        assert!(
            name.starts_with("ipvs_pe_sip_") && name.ends_with("_total"),
            "{name}"
        );
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{name}"
        );
    }
    assert_eq!(typed.len(), 11);
}

#[test]
fn counters_unknown_to_this_program_are_exported_by_name() {
    let text = exposition("examined 4\nfound 4\nnew_thing 2\nother 7\n");
    assert!(text.contains(
        "# HELP ipvs_pe_sip_unknown_counter_total A counter of /proc/net/ip_vs_pe_sip_stats"
    ));
    assert!(text.contains("# TYPE ipvs_pe_sip_unknown_counter_total counter\n"));
    assert!(
        text.ends_with(
            "ipvs_pe_sip_unknown_counter_total{counter=\"new_thing\"} 2\n\
         ipvs_pe_sip_unknown_counter_total{counter=\"other\"} 7\n"
        ),
        "{text}"
    );
    // Not an outcome: the outcomes still sum to examined.
    assert!(!text.contains("outcome=\"new_thing\""));
}

#[test]
fn label_values_are_escaped_by_the_formats_rules() {
    assert_eq!(escape_label_value(r#"a\b"c"#), r#"a\\b\"c"#);
    assert_eq!(escape_label_value("a\nb"), "a\\nb");
    assert_eq!(escape_label_value("caf\u{e9}_\t"), "caf\u{e9}_\t");
    let text = exposition("examined 1\nfound 1\nodd\\\"name 1\n");
    assert!(text.contains("{counter=\"odd\\\\\\\"name\"} 1\n"), "{text}");
}

#[test]
fn help_text_is_escaped_by_the_formats_rules() {
    assert_eq!(escape_help("a\\b\nc \"d\""), "a\\\\b\\nc \"d\"");
}

/// An older module without some counters: their families are left out, not
/// written without samples.
#[test]
fn missing_counters_leave_their_family_out() {
    let text = exposition("examined 2\nfound 2\n");
    assert_eq!(
        text,
        "# HELP ipvs_pe_sip_datagrams_examined_total Datagrams the SIP persistence engine \
         examined (the sum of ipvs_pe_sip_datagrams_total).\n\
         # TYPE ipvs_pe_sip_datagrams_examined_total counter\n\
         ipvs_pe_sip_datagrams_examined_total 2\n\
         # HELP ipvs_pe_sip_datagrams_total Datagrams the SIP persistence engine examined, by \
         outcome (each in exactly one).\n\
         # TYPE ipvs_pe_sip_datagrams_total counter\n\
         ipvs_pe_sip_datagrams_total{outcome=\"found\"} 2\n"
    );
}

#[test]
fn counts_are_exact_up_to_u64_max() {
    let text = exposition(&format!("examined {}\n", u64::MAX));
    assert!(text.ends_with(&format!(
        "ipvs_pe_sip_datagrams_examined_total {}\n",
        u64::MAX
    )));
}

/// Their exposition, byte for byte (the same text is in docs/ipvsadm-rs.md).
const SERVERS_EXPOSITION: &str = "\
# HELP ipvs_backend_persistence_templates Persistence templates pointing at a real server of a persistent IPVS service (IPVS's count: call and fallback templates alike).
# TYPE ipvs_backend_persistence_templates gauge
ipvs_backend_persistence_templates{local_address=\"10.4.3.192\",local_port=\"5060\",remote_address=\"10.4.4.11\",remote_port=\"5060\",proto=\"UDP\",local_mark=\"\"} 41
ipvs_backend_persistence_templates{local_address=\"10.4.3.192\",local_port=\"5060\",remote_address=\"10.4.4.12\",remote_port=\"5060\",proto=\"UDP\",local_mark=\"\"} 38
ipvs_backend_persistence_templates{local_address=\"10.4.3.193\",local_port=\"5060\",remote_address=\"10.4.4.13\",remote_port=\"5060\",proto=\"UDP\",local_mark=\"\"} 7
# HELP ipvs_pe_sip_backend_calls Calls held on a real server of a --pe sip service: its persistence templates with a Call-ID.
# TYPE ipvs_pe_sip_backend_calls gauge
ipvs_pe_sip_backend_calls{local_address=\"10.4.3.192\",local_port=\"5060\",remote_address=\"10.4.4.11\",remote_port=\"5060\",proto=\"UDP\",local_mark=\"\"} 40
ipvs_pe_sip_backend_calls{local_address=\"10.4.3.192\",local_port=\"5060\",remote_address=\"10.4.4.12\",remote_port=\"5060\",proto=\"UDP\",local_mark=\"\"} 38
";

#[test]
fn the_servers_are_exposed_by_these_names_and_labels() {
    assert_eq!(render_servers(&Held::documented()), SERVERS_EXPOSITION);
    assert_eq!(render_servers(&[]), "");
    let doc = include_str!("../../../../docs/ipvsadm-rs.md");
    assert!(doc.contains(&format!("```text\n{SERVERS_EXPOSITION}```\n")));
}

/// A firewall-mark service's servers: no address, port 0, `FWM` and the
/// mark, as node_exporter labels them; an IPv6 address as `inet_ntop`
/// writes it.
#[test]
fn firewall_mark_and_ipv6_servers() {
    let fwm = Held {
        service: ServiceKey::Fwmark {
            family: ipvs::Family::Inet,
            mark: 12,
        },
        server: "10.4.4.11:0".parse().expect("literal"),
        templates: 1,
        calls: Some(1),
    };
    assert!(render_servers(&[fwm]).contains(
        "{local_address=\"\",local_port=\"0\",remote_address=\"10.4.4.11\",remote_port=\"0\",\
         proto=\"FWM\",local_mark=\"12\"} 1\n"
    ));
    let v6 = Held {
        service: ServiceKey::Inet {
            protocol: ipvs::Protocol::Udp,
            addr: "[2001:db8::1]:5060".parse().expect("literal"),
        },
        server: "[2001:db8:0:0:1::11]:5060".parse().expect("literal"),
        templates: 0,
        calls: None,
    };
    assert!(render_servers(&[v6]).contains(
        "{local_address=\"2001:db8::1\",local_port=\"5060\",remote_address=\"2001:db8::1:0:0:11\""
    ));
}
