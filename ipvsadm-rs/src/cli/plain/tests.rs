use clap::Arg;

use super::super::definition::{command, events, matches};
use super::super::parse;
use super::super::tests::parse_by_clap;
use super::*;

/// Every spelling clap knows of argument `a`.
fn clap_spellings(a: &Arg) -> Vec<String> {
    let shorts = a
        .get_short()
        .into_iter()
        .chain(a.get_all_short_aliases().unwrap_or_default());
    let longs = a
        .get_long()
        .into_iter()
        .chain(a.get_all_aliases().unwrap_or_default());
    shorts
        .map(|c| format!("-{c}"))
        .chain(longs.map(|l| format!("--{l}")))
        .collect()
}

fn args(s: &str) -> Vec<String> {
    std::iter::once("ipvsadm".to_string())
        .chain(s.split_whitespace().map(String::from))
        .collect()
}

/// Every option of ipvsadm's grammar is read by [`plain_events`], under
/// every spelling clap knows and as clap takes its value, so the fast path
/// covers all plainly written lines.
#[test]
fn plain_options_are_all_the_options() {
    let mut def = command();
    def.build();
    let mut written = 0;
    for a in def.get_arguments() {
        let id = a.get_id().as_str();
        if a.is_positional() || !defs::by_long(id).is_some_and(Def::replayed) {
            continue;
        }
        for word in clap_spellings(a) {
            let Some(found) = plain_options().get(&word) else {
                panic!("{word} is not read plainly");
            };
            assert_eq!(found.long, id, "{word}");
            let values = a.get_num_args().expect("built").max_values();
            let optional = a.get_num_args().expect("built").min_values() == 0;
            let takes_like_clap = match found.takes {
                Takes::Nothing => values == 0,
                Takes::Value(_) => values == 1 && !optional && a.is_allow_hyphen_values_set(),
                Takes::MaybeValue(_) => values == 1 && optional,
            };
            assert!(takes_like_clap, "{word}");
            written += 1;
        }
    }
    assert_eq!(plain_options().len(), written);
    for line in [
        "-A -u 10.0.0.1:5060 -s rr -p 60 -M 0.0.0.0 -o --pe sip",
        "-a -u 10.0.0.1:5060 -r 192.168.0.1:5060 -m -w 1",
    ] {
        assert!(plain_events(&args(line)).is_some(), "{line}");
    }
}

/// A small deterministic generator (xorshift64*), to need no crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len())]
    }
}

/// The values a generated line gives an option: names only where no host
/// name is read (so no lookup leaves the machine), hyphens only where clap
/// takes them as values.
fn generated_value(rng: &mut Rng, id: &str) -> String {
    let hosts = [
        "10.0.0.1:5060",
        "10.0.0.1",
        "0.0.0.0",
        "192.168.0.2:5060",
        "[::1]:80",
        "::1",
        "[fe80::1]:5060",
        "12345",
        "1.2.3.4:",
        "1.2.3.4:65536",
        "0x7f000001:0",
        "[",
        "[::1",
        "[::1]",
        "",
    ];
    let masks = ["0.0.0.0", "255.255.255.0", "24", "128", "1.2.3.4:", ""];
    let numbers = [
        "0",
        "1",
        "60",
        "255",
        "65535",
        "65536",
        "4294967296",
        "-1",
        "+5",
        " 7",
        "x",
        "",
        "\0",
        "-m",
        "--",
    ];
    let names: &[&str] = match id {
        "tcp-service" | "udp-service" | "sctp-service" | "real-server" => &hosts,
        "netmask" => &masks,
        "scheduler" => &["rr", "wlc", "sh", "mh", "ssssssssssssssssss", "-s", ""],
        "pe" => &["sip", "none", "é", "pppppppppppppppppp"],
        "start-daemon" | "stop-daemon" => &["master", "backup", "other", "-n"],
        "tun-type" => &["ipip", "gue", "gre", "x"],
        "sched-flags" => &["flag-1", "sh-port", "sh-fallback,mh-port", ",", ""],
        "mcast-interface" => &["eth0", "eth1", "iiiiiiiiiiiiiiiiiiii"],
        "mcast-group" => &["224.0.0.81", "ff02::1", "10.0.0.1", "x"],
        _ => &numbers,
    };
    rng.pick(names).to_string()
}

/// [`parse`](crate::cli::parse) reads plainly written lines without clap: over many generated
/// lines, valid and not, written plainly or not, it must give exactly what
/// clap's matching gives, and every line it reads plainly must be one clap
/// accepts with the same option occurrences, in the same order.
#[test]
fn plain_lines_parse_as_clap_parses_them() {
    let mut def = command();
    def.build();
    let options: Vec<(String, String)> = def
        .get_arguments()
        .filter(|a| !a.is_positional())
        .flat_map(|a| {
            let id = a.get_id().to_string();
            clap_spellings(a)
                .into_iter()
                .map(move |w| (w, id.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    // Words that are no option, or not plainly one; none of them is read as
    // a host name wherever it lands.
    let strays = [
        "0",
        "1",
        "60",
        "3",
        "10.0.0.1:5060",
        "0.0.0.0",
        "12345",
        "1.2.3.4:",
        "",
        "-",
        "--",
        "---",
        "-mo",
        "-Lnc",
        "-w1",
        "-p60",
        "-p-1",
        "-6",
        "-5",
        "-q",
        "--bogus",
        "--udp",
        "--pe=sip",
        "--persistent=60",
        "--json=1",
        "-u10.0.0.1:80",
        "-M0.0.0.0",
        "--tcp-service=10.0.0.1:80",
        "\0",
        "a\0b",
        "-\0",
        "bash",
    ];
    let programs = ["ipvsadm", "/usr/sbin/ipvsadm-rs", ""];
    let pairs = |evs: &[Event<'_>]| -> Vec<(String, Option<String>)> {
        evs.iter()
            .map(|e| {
                (
                    e.def.long.to_string(),
                    e.value.as_ref().map(ToString::to_string),
                )
            })
            .collect()
    };
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let (mut plain, mut not_plain, mut accepted) = (0, 0, 0);
    for _ in 0..20_000 {
        let mut argv = vec![rng.pick(&programs).to_string()];
        // Half the lines start as a rule would, so that many are accepted.
        if rng.below(2) == 0 {
            let cmd = rng.pick(&["-A", "-E", "-D", "-a", "-e", "-d", "-L", "-Z", "-S"]);
            argv.push(cmd.to_string());
            let (svc, addr) = match rng.below(4) {
                0 => ("-t", "10.0.0.1:80"),
                1 => ("--udp-service", "10.0.0.1:5060"),
                2 => ("-u", "[fe80::1]:5060"),
                _ => ("-f", "1"),
            };
            argv.extend([svc, addr].map(String::from));
            if ["-a", "-e", "-d"].contains(&cmd) {
                let rs = rng.pick(&["192.168.0.1:5060", "192.168.0.1", "[::2]:5060"]);
                argv.extend(["-r", rs].map(String::from));
            }
        }
        let items = rng.below(6);
        for item in 0..items {
            if rng.below(5) == 0 {
                argv.push(rng.pick(&strays).to_string());
                continue;
            }
            let (word, id) = &options[rng.below(options.len())];
            argv.push(word.clone());
            let takes = def
                .get_arguments()
                .find(|a| a.get_id() == id)
                .and_then(Arg::get_num_args)
                .map_or(0, |n| n.max_values());
            let last = item + 1 == items;
            // A value-taking option goes without one only at the end, where
            // no following word can be taken for a host name.
            if id == "persistent" {
                if rng.below(2) == 0 {
                    argv.push(generated_value(&mut rng, id));
                }
            } else if id == "completions" {
                if !last || rng.below(10) != 0 {
                    argv.push(rng.pick(&["bash", "zsh", "nosuch"]).to_string());
                }
            } else if takes == 1 && (!last || rng.below(10) != 0) {
                argv.push(generated_value(&mut rng, id));
            }
        }
        match plain_events(&argv) {
            Some(evs) => {
                plain += 1;
                let m = match matches(&argv) {
                    Ok(m) => m,
                    Err(e) => panic!("{argv:?} read plainly, but clap says {e}"),
                };
                assert_eq!(m.get_many::<String>("args").map(Iterator::count), None);
                assert_eq!(pairs(&evs), pairs(&events(&m)), "{argv:?}");
                accepted += usize::from(parse(&argv, false).is_ok());
            }
            None => not_plain += 1,
        }
        for reading_stdin in [false, true] {
            assert_eq!(
                parse(&argv, reading_stdin),
                parse_by_clap(&argv, reading_stdin),
                "{argv:?}"
            );
        }
    }
    // Both ways are well exercised, and so are accepted plain lines.
    assert!(
        plain > 5_000 && not_plain > 5_000,
        "{plain} plain, {not_plain} not"
    );
    assert!(accepted > 1_000, "{accepted} plain lines accepted");
}
