//! The usage text printed by `-h`: ipvsadm's, word for word and line for
//! line (scripts read it), then a section of the options ipvsadm-rs adds,
//! made from their definitions (`defs/ours.rs`, `defs/listing.rs`'s
//! `--json`), so that they can be found where a user looks first.

use super::defs::{self, ours, Def, Takes};
use super::{DEF_SCHED, VERSION_LINE};

/// The heading of the added section: a script that stops at it reads
/// ipvsadm's text alone.
pub(crate) const OURS_HEADING: &str = "ipvsadm-rs adds (not in ipvsadm 1.31):";

/// Where the description column starts, as in ipvsadm's option lists.
const DESCRIPTION_COLUMN: usize = 38;
/// The widest line the added section writes.
const WIDTH: usize = 79;

/// The text of `-h`: ipvsadm's, then what ipvsadm-rs adds.
pub(crate) fn usage(program: &str) -> String {
    let mut text = ipvsadm_usage(program);
    text.push('\n');
    text.push_str(&ours_usage(program));
    text
}

/// The options of ipvsadm-rs, in the order of the section: the
/// definitions' order, with `--drain`'s `--timeout` after `--drain`.
fn ours_in_order() -> Vec<&'static Def> {
    let mut list = Vec::new();
    for &d in defs::ALL.iter().filter(|d| d.ours) {
        list.push(d);
        if d.long == ours::DRAIN.long {
            list.push(&ours::DRAIN_TIMEOUT);
        }
    }
    list
}

/// One option's line (or lines), in the layout of ipvsadm's "Daemon
/// Options": the option and its value (named as in the man page), then the
/// help from column 38, starting in lower case as ipvsadm's, wrapped within
/// [`WIDTH`].
fn option_lines(d: &Def) -> String {
    let mut head = format!("  --{}", d.long);
    if let Some(c) = d.short {
        head.push_str(&format!(" -{c}"));
    }
    if let Takes::Value(v) | Takes::MaybeValue(v) = d.takes {
        head.push(' ');
        head.push_str(v);
    }
    let mut help: String = d
        .help
        .chars()
        .take(1)
        .flat_map(char::to_lowercase)
        .collect();
    help.extend(d.help.chars().skip(1));

    let mut out = String::new();
    let mut line = head;
    for word in help.split(' ') {
        let start = line.len() < DESCRIPTION_COLUMN;
        if start {
            line.push_str(&" ".repeat(DESCRIPTION_COLUMN - line.len()));
        } else if line.len() + 1 + word.len() > WIDTH {
            out.push_str(&line);
            out.push('\n');
            line = " ".repeat(DESCRIPTION_COLUMN);
        } else {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The section after ipvsadm's text: how each run of ipvsadm-rs's own is
/// written, then its options.
fn ours_usage(program: &str) -> String {
    let p = program;
    let mut s = format!(
        "{OURS_HEADING}
  {p} -L|l [virtual-service] [options] --json
  {p} --apply FILE [--dry-run]
  {p} --pe-stats [--format table|json|prometheus] [--output FILE]
  {p} --drain virtual-service -r server-address [--timeout SECONDS [--force-delete]]
  {p} --which-server virtual-service [--hash-key HEX] [--last-weight SERVER-ADDRESS=WEIGHT]... CALL-ID...|-
  {p} --completions SHELL
  {p} --man
Options:
"
    );
    for d in ours_in_order() {
        s.push_str(&option_lines(d));
    }
    s
}

/// ipvsadm 1.31's usage text, word for word.
fn ipvsadm_usage(program: &str) -> String {
    let p = program;
    format!(
        "{VERSION_LINE}
Usage:
  {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]
  {p} -D virtual-service
  {p} -C
  {p} -R
  {p} -S [-n]
  {p} -a|e virtual-service -r server-address [options]
  {p} -d virtual-service -r server-address
  {p} -L|l [virtual-service] [options]
  {p} -Z [virtual-service]
  {p} --set tcp tcpfin udp
  {p} --start-daemon {{master|backup}} [daemon-options]
  {p} --stop-daemon {{master|backup}}
  {p} -h

Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --sctp-service    service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero

Options:
  --ipv6         -6                   fwmark entry uses IPv6
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                      the default scheduler is {DEF_SCHED}.
  --pe            engine              alternate persistence engine may be sip,
                                      not set by default.
  --persistent   -p [timeout]         persistent service
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=255)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync
  --mcast-group address               IPv4/IPv6 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ipvsadm's text comes first, whole and unchanged; the section follows
    /// it after a blank line.
    #[test]
    fn ipvsadms_text_comes_first() {
        let text = usage("ipvsadm");
        let ipvsadm = ipvsadm_usage("ipvsadm");
        assert!(text.starts_with(&ipvsadm));
        assert!(text[ipvsadm.len()..].starts_with(&format!("\n{OURS_HEADING}\n")));
        assert_eq!(
            ipvsadm.lines().count(),
            82,
            "ipvsadm 1.31's text has 82 lines"
        );
    }

    /// Every option ipvsadm-rs adds is in the section, with its value, and
    /// no line of its option list is wider than [`WIDTH`]; each run of its
    /// own has a line of how it is written.
    #[test]
    fn the_section_lists_every_option_of_ours() {
        let section = ours_usage("ipvsadm-rs");
        for d in ours_in_order() {
            let mut spelled = format!("  --{}", d.long);
            if let Takes::Value(v) = d.takes {
                spelled = format!("{spelled} {v}");
            }
            assert!(
                section
                    .lines()
                    .any(|l| l.starts_with(&format!("{spelled} "))),
                "{spelled} in {section}"
            );
        }
        let options = section
            .split("\nOptions:\n")
            .nth(1)
            .expect("an option list");
        for line in options.lines() {
            assert!(line.len() <= WIDTH, "{line:?}");
        }
        assert!(options.contains("  --timeout SECONDS "));
        for run in [
            "--apply",
            "--pe-stats",
            "--drain",
            "--which-server",
            "--completions",
            "--man",
        ] {
            assert!(
                section.contains(&format!("\n  ipvsadm-rs {run}")),
                "a line of how {run} is written"
            );
        }
        assert_eq!(
            ours_in_order().len(),
            defs::ALL.iter().filter(|d| d.ours).count() + 1
        );
    }

    /// A long help wraps under its column.
    #[test]
    fn long_help_wraps_under_the_column() {
        let lines = option_lines(&ours::APPLY);
        let mut it = lines.lines();
        assert!(it
            .next()
            .is_some_and(|l| l.starts_with("  --apply FILE ") && l.len() <= WIDTH));
        for more in it {
            assert!(
                more.starts_with(&" ".repeat(DESCRIPTION_COLUMN)),
                "{more:?}"
            );
            assert!(more.len() <= WIDTH, "{more:?}");
        }
    }
}
