//! `--pe-stats --format prometheus`: the engine's counters in the
//! Prometheus text exposition format, version 0.0.4, as node_exporter's
//! textfile collector reads it (no timestamps: that collector refuses them).
//!
//! The metric names are an interface (dashboards and alerts name them), so
//! they are fixed here once, and listed in `docs/ipvsadm-rs.md`:
//!
//! - `ipvs_pe_sip_datagrams_examined_total`: `examined`;
//! - `ipvs_pe_sip_datagrams_total{outcome="..."}`: the eight outcomes, one
//!   sample each, so that summing the family gives `examined` and nothing is
//!   counted twice (`examined` is the sum of the outcomes, so it is not one
//!   of them);
//! - `ipvs_pe_sip_dropped_total`, `ipvs_pe_sip_fwmark_no_callid_total` and
//!   the media table's `ipvs_pe_sip_media_*_total`: not outcomes (a datagram
//!   they count is counted by its outcome too, an endpoint or entry is no
//!   datagram), so each is a family of its own;
//! - `ipvs_pe_sip_unknown_counter_total{counter="..."}`: a counter this
//!   program does not know (a newer module), exported rather than dropped,
//!   under its own name as a label value: whether it is an outcome is not
//!   known, so it is kept out of the outcomes' sum.
//!
//! And for each real server of a persistent service (`servers.rs`), two
//! gauges labelled as node_exporter's `ipvs` collector labels its
//! `node_ipvs_backend_*` series (`local_address`, `local_port`,
//! `remote_address`, `remote_port`, `proto`, `local_mark`), so that the two
//! join on the server:
//!
//! - `ipvs_backend_persistence_templates`: the templates pointing at it
//!   (IPVS's count, calls and fallback templates alike);
//! - `ipvs_pe_sip_backend_calls`: for a `--pe sip` service, the calls it
//!   holds (its templates with a Call-ID).

use std::fmt::Write as _;

use ipvs::ServiceKey;

use super::{Held, PeStats};
use crate::sys;

/// The outcomes, each datagram ending in exactly one (`docs/engine.md`,
/// "Counters"), in the module's order.
const OUTCOMES: [&str; 8] = [
    "found",
    "not_udp",
    "fragment",
    "no_payload",
    "no_callid",
    "too_long",
    "bad_terminator",
    "alloc_failed",
];

/// A family with one sample, from the counter of that name.
struct Single {
    counter: &'static str,
    metric: &'static str,
    help: &'static str,
}

/// The counters that are a family of their own, in the order they are
/// written: `examined` first, the families that are no outcome after the
/// outcomes.
const EXAMINED: Single = Single {
    counter: "examined",
    metric: "ipvs_pe_sip_datagrams_examined_total",
    help: "Datagrams the SIP persistence engine examined (the sum of ipvs_pe_sip_datagrams_total).",
};
const NOT_OUTCOMES: [Single; 8] = [
    Single {
        counter: "dropped",
        metric: "ipvs_pe_sip_dropped_total",
        help: "Datagrams dropped because of drop_without_callid (also counted by their outcome).",
    },
    Single {
        counter: "fwmark_no_callid",
        metric: "ipvs_pe_sip_fwmark_no_callid_total",
        help: "Datagrams without a usable Call-ID on a firewall-mark service (also counted by \
               their outcome).",
    },    Single {
        counter: "media_learnt",
        metric: "ipvs_pe_sip_media_learnt_total",
        help: "Media endpoints learnt from a client's SDP on a firewall-mark or port-zero service (added or renewed).",
    },
    Single {
        counter: "media_foreign",
        metric: "ipvs_pe_sip_media_foreign_total",
        help: "Media endpoints of a client's SDP not learnt: their address is not the datagram's source.",
    },
    Single {
        counter: "media_refused",
        metric: "ipvs_pe_sip_media_refused_total",
        help: "Media endpoints not learnt: a bound (per client or per namespace) reached, or no memory.",
    },
    Single {
        counter: "media_ended",
        metric: "ipvs_pe_sip_media_ended_total",
        help: "Media entries removed by their call's BYE or CANCEL.",
    },
    Single {
        counter: "media_matched",
        metric: "ipvs_pe_sip_media_matched_total",
        help: "Datagrams without a Call-ID given their call's by the media table (also counted by their outcome).",
    },
    Single {
        counter: "media_unmatched",
        metric: "ipvs_pe_sip_media_unmatched_total",
        help: "Datagrams without a Call-ID on a firewall-mark or port-zero service that the media table did not know (also counted by their outcome).",
    },
];

/// The family of the outcomes and its label.
const OUTCOME_METRIC: &str = "ipvs_pe_sip_datagrams_total";
const OUTCOME_HELP: &str =
    "Datagrams the SIP persistence engine examined, by outcome (each in exactly one).";
const OUTCOME_LABEL: &str = "outcome";

/// The family of the counters this program does not know, and its label.
const UNKNOWN_METRIC: &str = "ipvs_pe_sip_unknown_counter_total";
const UNKNOWN_HELP: &str = "A counter of /proc/net/ip_vs_pe_sip_stats that this ipvsadm-rs \
                            does not know (a newer module), by its name; not to be summed.";
const UNKNOWN_LABEL: &str = "counter";

/// `text` as a label value: backslash, double quote and line feed escaped
/// (`\\`, `\"`, `\n`), as the format requires.
pub(crate) fn escape_label_value(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// `text` as the docstring of a `# HELP` line: backslash and line feed
/// escaped (a double quote is left as it is there).
pub(crate) fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Writes one family's `# HELP` and `# TYPE counter` lines and its samples
/// (`(label value, count)`, or one sample without labels), nothing when
/// it has none.
fn family(
    out: &mut String,
    metric: &str,
    help: &str,
    label: Option<&str>,
    samples: &[(&str, u64)],
) {
    if samples.is_empty() {
        return;
    }
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {metric} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {metric} counter");
    for (value, count) in samples {
        match label {
            Some(l) => {
                let _ = writeln!(
                    out,
                    "{metric}{{{l}=\"{}\"}} {count}",
                    escape_label_value(value)
                );
            }
            None => {
                let _ = writeln!(out, "{metric} {count}");
            }
        }
    }
}

/// The exposition of `stats`: every counter of the file, each in exactly
/// one family, families in a fixed order, samples in the module's order.
pub(crate) fn render(stats: &PeStats) -> String {
    let count = |name: &'static str| {
        stats
            .counters
            .iter()
            .find(|c| c.name == name)
            .map(|c| (name, c.count))
    };
    let known = |name: &str| {
        name == EXAMINED.counter
            || OUTCOMES.contains(&name)
            || NOT_OUTCOMES.iter().any(|s| s.counter == name)
    };
    let mut out = String::new();
    let single = |out: &mut String, s: &Single| {
        let samples: Vec<(&str, u64)> = count(s.counter).into_iter().collect();
        family(out, s.metric, s.help, None, &samples);
    };
    single(&mut out, &EXAMINED);
    let outcomes: Vec<(&str, u64)> = stats
        .counters
        .iter()
        .filter(|c| OUTCOMES.contains(&c.name.as_str()))
        .map(|c| (c.name.as_str(), c.count))
        .collect();
    family(
        &mut out,
        OUTCOME_METRIC,
        OUTCOME_HELP,
        Some(OUTCOME_LABEL),
        &outcomes,
    );
    for s in &NOT_OUTCOMES {
        single(&mut out, s);
    }
    let unknown: Vec<(&str, u64)> = stats
        .counters
        .iter()
        .filter(|c| !known(&c.name))
        .map(|c| (c.name.as_str(), c.count))
        .collect();
    family(
        &mut out,
        UNKNOWN_METRIC,
        UNKNOWN_HELP,
        Some(UNKNOWN_LABEL),
        &unknown,
    );
    out
}

/// The family of the servers' template counts.
const TEMPLATES_METRIC: &str = "ipvs_backend_persistence_templates";
const TEMPLATES_HELP: &str = "Persistence templates pointing at a real server of a persistent \
                              IPVS service (IPVS's count: call and fallback templates alike).";
/// The family of the servers' calls.
const CALLS_METRIC: &str = "ipvs_pe_sip_backend_calls";
const CALLS_HELP: &str = "Calls held on a real server of a --pe sip service: its persistence \
                          templates with a Call-ID.";

/// A server's labels, named and valued as node_exporter's `ipvs` collector
/// gives them for the same server: a firewall-mark service has no address,
/// port 0, protocol `FWM` and its mark.
fn server_labels(h: &Held) -> String {
    let (proto, local_address, local_port, mark) = match h.service {
        ServiceKey::Inet { protocol, addr } => (
            protocol.name().unwrap_or("unknown").to_uppercase(),
            sys::ntop(&addr.ip()),
            addr.port(),
            String::new(),
        ),
        ServiceKey::Fwmark { mark, .. } => ("FWM".to_string(), String::new(), 0, mark.to_string()),
    };
    format!(
        "local_address=\"{}\",local_port=\"{local_port}\",remote_address=\"{}\",\
         remote_port=\"{}\",proto=\"{proto}\",local_mark=\"{mark}\"",
        escape_label_value(&local_address),
        escape_label_value(&sys::ntop(&h.server.ip())),
        h.server.port(),
    )
}

/// Writes a gauge family: `# HELP`, `# TYPE gauge`, one sample per server
/// that has a value; nothing when none has.
fn gauges(out: &mut String, metric: &str, help: &str, samples: &[(String, u32)]) {
    if samples.is_empty() {
        return;
    }
    // Writing to a String cannot fail.
    let _ = writeln!(out, "# HELP {metric} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {metric} gauge");
    for (labels, value) in samples {
        let _ = writeln!(out, "{metric}{{{labels}}} {value}");
    }
}

/// The exposition of the real servers' templates and calls, after the
/// counters': nothing when there is no persistent service.
pub(crate) fn render_servers(held: &[Held]) -> String {
    let mut out = String::new();
    let templates: Vec<(String, u32)> = held
        .iter()
        .map(|h| (server_labels(h), h.templates))
        .collect();
    gauges(&mut out, TEMPLATES_METRIC, TEMPLATES_HELP, &templates);
    let calls: Vec<(String, u32)> = held
        .iter()
        .filter_map(|h| h.calls.map(|n| (server_labels(h), n)))
        .collect();
    gauges(&mut out, CALLS_METRIC, CALLS_HELP, &calls);
    out
}

#[cfg(test)]
mod tests;
