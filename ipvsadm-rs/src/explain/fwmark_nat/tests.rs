//! Which services and changes the warning is about, from command lines
//! parsed as ipvsadm-rs parses them; no IPVS.

use super::*;
use crate::cli::{self, Command};

/// The change a command line asks for.
fn change(line: &str) -> Change {
    let argv: Vec<&str> = std::iter::once("ipvsadm")
        .chain(line.split_whitespace())
        .collect();
    match cli::parse(&argv, false).map(|r| r.command) {
        Ok(Command::Change(c)) => c,
        other => panic!("{line}: not a change: {other:?}"),
    }
}

/// The service an `-A` line adds, with the servers its `-a` lines add.
fn table(service: &str, servers: &[&str]) -> (Service, Vec<Destination>) {
    let Change::AddService(s) = change(service) else {
        panic!("{service}: not -A");
    };
    let dests = servers
        .iter()
        .map(|l| match change(l) {
            Change::AddDestination(k, d) if k == s.key => d,
            other => panic!("{l}: not -a on the service: {other:?}"),
        })
        .collect();
    (s, dests)
}

/// The servers [`unnated`] names, as text.
fn unnated_of(service: &str, servers: &[&str]) -> Vec<String> {
    let (s, d) = table(service, servers);
    unnated(&s, &d).iter().map(ToString::to_string).collect()
}

#[test]
fn fwmark_one_packet_masquerading_servers_are_named() {
    let dr_and_nat = [
        "-a -f 1 -r 10.1.1.1 -m",
        "-a -f 1 -r 10.1.1.2 -g",
        "-a -f 1 -r 10.1.1.3:5060 -m",
        "-a -f 1 -r 10.1.1.4 -i",
    ];
    assert_eq!(
        unnated_of("-A -f 1 -s rr -o", &dr_and_nat),
        ["10.1.1.1:0", "10.1.1.3:5060"]
    );
    // With persistence and the SIP engine: its conn_out cannot help either.
    assert_eq!(
        unnated_of("-A -f 1 -s rr -p 60 -M 0.0.0.0 -o --pe sip", &dr_and_nat),
        ["10.1.1.1:0", "10.1.1.3:5060"]
    );
    assert_eq!(
        unnated_of("-A -f 7 -6 -o", &["-a -f 7 -6 -r [2001:db8::10]:5060 -m"]),
        ["[2001:db8::10]:5060"]
    );
}

#[test]
fn other_combinations_are_not_warned_about() {
    let nat = ["-a -f 1 -r 10.1.1.1 -m", "-a -f 1 -r 10.1.1.2 -m"];
    // A firewall-mark service without -o: its connections are hashed.
    assert!(unnated_of("-A -f 1 -s rr", &nat).is_empty());
    assert!(unnated_of("-A -f 1 -s rr -p 60", &nat).is_empty());
    // -o, but no masquerading server: the servers answer from the VIP.
    let dr = ["-a -f 1 -r 10.1.1.1 -g", "-a -f 1 -r 10.1.1.2 -i"];
    assert!(unnated_of("-A -f 1 -o", &dr).is_empty());
    assert!(unnated_of("-A -f 1 -o", &[]).is_empty());
    // A service on VIP:port with -o and NAT: the README's recipe.
    let vip = "-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip";
    assert!(unnated_of(vip, &["-a -u 10.0.0.1:5060 -r 10.0.1.1:5060 -m"]).is_empty());
    let v6 = "-A -u [2001:db8::1]:5060 -o";
    assert!(unnated_of(v6, &["-a -u [2001:db8::1]:5060 -r [2001:db8::2]:5060 -m"]).is_empty());
    // A server the kernel made local (a masquerading one on this host's
    // address) answers through the local stack.
    let (s, mut d) = table("-A -f 1 -o", &["-a -f 1 -r 10.1.1.1 -m"]);
    d[0].forward = Forward::Local;
    assert!(unnated(&s, &d).is_empty());
    assert_eq!(warning(&s, &d), None);
}

#[test]
fn the_changes_that_may_set_it_up_are_checked() {
    let checked = |line: &str| concerns(&change(line)).map(|k| service_option(&k));
    // A masquerading server added to or edited on a firewall-mark service:
    // whether that service has -o is the kernel's to say.
    assert_eq!(checked("-a -f 1 -r 10.1.1.1 -m").as_deref(), Some("-f 1"));
    assert_eq!(
        checked("-e -f 2 -6 -r [2001:db8::1]:80 -m -w 2").as_deref(),
        Some("-f 2 -6")
    );
    // A firewall-mark service edited to -o: whether it has masquerading
    // servers is the kernel's to say.
    assert_eq!(checked("-E -f 1 -s rr -o").as_deref(), Some("-f 1"));
    for line in [
        // Added now, so without servers yet.
        "-A -f 1 -s rr -o",
        "-E -f 1 -s rr",
        "-a -f 1 -r 10.1.1.1 -g",
        "-a -f 1 -r 10.1.1.1 -i",
        "-e -f 1 -r 10.1.1.1",
        "-d -f 1 -r 10.1.1.1",
        "-D -f 1",
        // VIP:port services, with or without -o.
        "-E -u 10.0.0.1:5060 -p 60 -M 0.0.0.0 -o --pe sip",
        "-a -u 10.0.0.1:5060 -r 10.0.1.1 -m",
        "-e -t 10.0.0.1:80 -r 10.0.1.1 -m",
        "-C",
    ] {
        assert_eq!(checked(line), None, "{line}");
    }
}

/// The wording, whole: what happens, why, and what to use instead.
#[test]
fn the_warning_says_what_happens_and_what_to_use() {
    let (s, d) = table(
        "-A -f 1 -s rr -p 60 -M 0.0.0.0 -o --pe sip",
        &["-a -f 1 -r 10.1.1.1 -m", "-a -f 1 -r 10.1.1.2 -m"],
    );
    assert_eq!(
        warning(&s, &d).as_deref(),
        Some(
            "Warning: service -f 1 has one-packet scheduling (-o) and masquerading (-m) real \
             servers (10.1.1.1:0, 10.1.1.2:0): IPVS cannot NAT their replies\n  \
             the replies leave this director un-NATed, with the real server's own address as \
             their source: a one-packet connection is not kept for replies to find, and for a \
             firewall-mark service IPVS makes none when they come (ip_vs_new_conn_out() \
             refuses such services)\n  \
             instead, use a service on VIP:PORT (-u VIP:PORT ... -o --pe sip: the SIP engine \
             NATs the replies), or direct routing (-g) or tunnelling (-i), whose real servers \
             answer from the VIP themselves; or no -o, if datagrams need not be scheduled one \
             by one\n"
        )
    );
}

/// docs/ipvsadm-rs.md quotes the warning whole (as an indented block): it
/// must be what is printed.
#[test]
fn the_docs_quote_the_warning_as_printed() {
    const DOC: &str = include_str!("../../../../docs/ipvsadm-rs.md");
    let (s, d) = table(
        "-A -f 1 -s rr -o",
        &["-a -f 1 -r 10.1.1.1 -m", "-a -f 1 -r 10.1.1.2 -m"],
    );
    let quoted: String = warning(&s, &d)
        .expect("a warning")
        .lines()
        .map(|l| format!("    {l}\n"))
        .collect();
    assert!(
        DOC.contains(&quoted),
        "docs/ipvsadm-rs.md should quote:\n{quoted}"
    );
}
