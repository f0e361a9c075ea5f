//! Parsing and rendering of the engine's counters, from strings.

use std::fs;
use std::path::Path;

use super::textfile::tests::Scratch;
use super::*;

/// The file as the module writes it (kmod/stats.rs), after some traffic.
const FILE: &str = "examined 8\nfound 5\nnot_udp 1\nfragment 0\nno_payload 1\nno_callid 1\n\
too_long 0\nbad_terminator 0\nalloc_failed 0\ndropped 0\n";

fn counter(name: &str, count: u64) -> Counter {
    Counter {
        name: name.to_string(),
        count,
    }
}

#[test]
fn every_line_is_a_counter_in_the_modules_order() {
    let s = parse(FILE).expect("parses");
    let names: Vec<&str> = s.counters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "examined",
            "found",
            "not_udp",
            "fragment",
            "no_payload",
            "no_callid",
            "too_long",
            "bad_terminator",
            "alloc_failed",
            "dropped"
        ]
    );
    assert_eq!(s.counters[1], counter("found", 5));
}

#[test]
fn counters_unknown_to_this_program_are_kept() {
    let s = parse("examined 4\nfound 4\nsomething_new 2\n").expect("parses");
    assert_eq!(s.counters[2], counter("something_new", 2));
    assert!(render(&s).contains("something_new"));
}

#[test]
fn malformed_lines_are_refused_with_their_number() {
    for (text, line) in [
        ("examined 1\nfound\n", 2),
        ("examined x\n", 1),
        ("examined -1\n", 1),
        ("examined 1 2\n", 1),
        ("examined 1\nexamined 2\n", 2),
        ("examined 99999999999999999999999\n", 1),
    ] {
        let e = parse(text).expect_err(text);
        assert_eq!(e.line, line, "{text:?}");
        assert!(e.to_string().contains(PROC_FILE));
    }
    // Blank lines (a trailing one, say) are no counter and no error.
    assert_eq!(parse("\nexamined 1\n\n").expect("parses").counters.len(), 1);
}

#[test]
fn the_table_has_each_count_and_share_of_examined() {
    let text = render(&parse(FILE).expect("parses"));
    let expected = concat!(
        " outcome        | count | share of examined \n",
        "----------------+-------+-------------------\n",
        " examined       |     8 |           100.0 % \n",
        " found          |     5 |            62.5 % \n",
        " not_udp        |     1 |            12.5 % \n",
        " fragment       |     0 |             0.0 % \n",
        " no_payload     |     1 |            12.5 % \n",
        " no_callid      |     1 |            12.5 % \n",
        " too_long       |     0 |             0.0 % \n",
        " bad_terminator |     0 |             0.0 % \n",
        " alloc_failed   |     0 |             0.0 % \n",
        " dropped        |     0 |             0.0 % \n",
    );
    assert_eq!(text, expected);
}

#[test]
fn nothing_examined_shows_no_share() {
    let s = parse("examined 0\nfound 0\n").expect("parses");
    let text = render(&s);
    assert!(
        text.contains(" found    |     0 |                 - "),
        "{text}"
    );
    let j: serde_json::Value =
        serde_json::from_str(&to_json(&s, &[]).expect("json")).expect("valid");
    assert!(j["counters"][1]["share_of_examined"].is_null());
}

#[test]
fn json_lists_the_counters_in_order_with_their_share() {
    let s = parse(FILE).expect("parses");
    let j: serde_json::Value =
        serde_json::from_str(&to_json(&s, &[]).expect("json")).expect("valid");
    assert_eq!(j["source"], PROC_FILE);
    let c = j["counters"].as_array().expect("a list");
    assert_eq!(c.len(), 10);
    assert_eq!(c[0]["name"], "examined");
    assert_eq!(c[1]["name"], "found");
    assert_eq!(c[1]["count"], 5);
    assert_eq!(c[1]["share_of_examined"], 0.625);
    assert_eq!(c[0]["share_of_examined"], 1.0);
}

/// Runs `--pe-stats` on what reading the file gave; (status, stdout, stderr).
fn run_on(read: io::Result<String>, json: bool) -> (i32, String, String) {
    let format = if json {
        PeStatsFormat::Json
    } else {
        PeStatsFormat::Table
    };
    run_req(read, format, None)
}

/// Runs `--pe-stats --format FORMAT [--output FILE]`; (status, stdout, stderr).
fn run_req(
    read: io::Result<String>,
    format: PeStatsFormat,
    output: Option<&Path>,
) -> (i32, String, String) {
    let req = PeStatsRequest {
        format,
        output: output.map(Path::to_path_buf),
    };
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = show_text(read, &mut || Ok(Vec::new()), &req, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

#[test]
fn no_engine_is_one_line_and_status_3() {
    let (code, out, err) = run_on(Err(io::ErrorKind::NotFound.into()), false);
    assert_eq!((code, out.as_str()), (EXIT_NOT_LOADED, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("modprobe ip_vs_pe_sip_rs"), "{err}");
    let (code, out, _) = run_on(Err(io::ErrorKind::NotFound.into()), true);
    assert_eq!((code, out.as_str()), (EXIT_NOT_LOADED, ""));
}

#[test]
fn other_failures_are_status_1() {
    let (code, out, err) = run_on(Err(io::ErrorKind::PermissionDenied.into()), false);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with("cannot read /proc/net/ip_vs_pe_sip_stats"),
        "{err}"
    );
    let (code, out, err) = run_on(Ok("examined many\n".into()), true);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(err.contains("unexpected line 1"), "{err}");
}

#[test]
fn a_good_file_is_status_0_on_stdout() {
    let (code, out, err) = run_on(Ok(FILE.into()), false);
    assert_eq!((code, err.as_str()), (0, ""));
    assert!(out.starts_with(" outcome "), "{out}");
    let (code, out, _) = run_on(Ok(FILE.into()), true);
    assert_eq!(code, 0);
    assert!(out.ends_with("}\n"), "{out}");
}

#[test]
fn an_empty_file_is_not_counting_yet_and_status_3() {
    for json in [false, true] {
        let (code, out, err) = run_on(Ok(String::new()), json);
        assert_eq!((code, out.as_str()), (EXIT_NOT_LOADED, ""));
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("not counting yet"), "{err}");
    }
}

/// The three formats on standard output; what "not loaded" and "not
/// counting yet" do is the same for each (status 3, nothing on stdout).
#[test]
fn every_format_behaves_alike_on_a_missing_or_empty_file() {
    use PeStatsFormat::*;
    for format in [Table, Json, Prometheus] {
        let (code, out, err) = run_req(Ok(FILE.into()), format, None);
        assert_eq!((code, err.as_str()), (0, ""), "{format:?}");
        assert!(!out.is_empty());
        let (code, out, err) = run_req(Err(io::ErrorKind::NotFound.into()), format, None);
        assert_eq!((code, out.as_str()), (EXIT_NOT_LOADED, ""), "{format:?}");
        assert!(err.contains("modprobe ip_vs_pe_sip_rs"), "{err}");
        let (code, out, err) = run_req(Ok(String::new()), format, None);
        assert_eq!((code, out.as_str()), (EXIT_NOT_LOADED, ""), "{format:?}");
        assert!(err.contains("not counting yet"), "{err}");
    }
}

#[test]
fn prometheus_on_stdout_is_the_exposition() {
    let (code, out, _) = run_req(Ok(FILE.into()), PeStatsFormat::Prometheus, None);
    assert_eq!(code, 0);
    assert!(
        out.starts_with("# HELP ipvs_pe_sip_datagrams_examined_total "),
        "{out}"
    );
    assert!(
        out.contains("\nipvs_pe_sip_datagrams_total{outcome=\"found\"} 5\n"),
        "{out}"
    );
}

/// `--output FILE`: the text goes to FILE, nothing to standard output.
#[test]
fn output_writes_the_file_and_not_stdout() {
    let d = Scratch::new("pe-stats-output");
    let f = d.0.join("ipvs_pe_sip.prom");
    let (code, out, err) = run_req(Ok(FILE.into()), PeStatsFormat::Prometheus, Some(&f));
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    let (_, shown, _) = run_req(Ok(FILE.into()), PeStatsFormat::Prometheus, None);
    assert_eq!(fs::read_to_string(&f).expect("written"), shown);
    assert_eq!(d.names(), ["ipvs_pe_sip.prom"]);
}

/// No engine, no counters yet, or a file not understood: the good file
/// written before stays whole, and no temporary file is left.
#[test]
fn output_keeps_the_last_good_file_when_there_is_nothing_to_write() {
    let d = Scratch::new("pe-stats-keep");
    let f = d.0.join("ipvs_pe_sip.prom");
    let (code, _, _) = run_req(Ok(FILE.into()), PeStatsFormat::Prometheus, Some(&f));
    assert_eq!(code, 0);
    let good = fs::read_to_string(&f).expect("written");
    for (read, status) in [
        (Err(io::ErrorKind::NotFound.into()), EXIT_NOT_LOADED),
        (Ok(String::new()), EXIT_NOT_LOADED),
        (Ok("examined many\n".to_string()), 1),
        (Err(io::ErrorKind::PermissionDenied.into()), 1),
    ] {
        let (code, out, err) = run_req(read, PeStatsFormat::Prometheus, Some(&f));
        assert_eq!((code, out.as_str()), (status, ""), "{err}");
        assert_eq!(fs::read_to_string(&f).expect("still there"), good);
        assert_eq!(d.names(), ["ipvs_pe_sip.prom"]);
    }
    // And no file is made where there was none.
    let g = d.0.join("new.prom");
    let (code, _, _) = run_req(Ok(String::new()), PeStatsFormat::Prometheus, Some(&g));
    assert_eq!(code, EXIT_NOT_LOADED);
    assert!(!g.exists());
}

/// A file that cannot be written: status 1, a message naming it, and
/// nothing left behind.
#[test]
fn output_that_cannot_be_written_is_status_1() {
    let d = Scratch::new("pe-stats-unwritable");
    let f = d.0.join("no-such-dir/ipvs_pe_sip.prom");
    let (code, out, err) = run_req(Ok(FILE.into()), PeStatsFormat::Prometheus, Some(&f));
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(
        err.starts_with(&format!("cannot write {}: ", f.display())),
        "{err}"
    );
    assert!(err.ends_with("(the file is left as it was)\n"), "{err}");
    assert_eq!(err.lines().count(), 1);
    assert!(d.names().is_empty());
}

/// Two servers of a SIP service and one of a plain persistent service.
fn held_servers() -> Vec<Held> {
    vec![
        Held::udp("10.0.0.1:5060", "10.0.1.11:5060", 4, Some(3)),
        Held::udp("10.0.0.1:5060", "10.0.1.12:5060", 2, Some(1)),
        Held::udp("10.0.0.2:5060", "10.0.1.11:5060", 1, None),
    ]
}

/// The servers follow the counters in every format; the table's rows have
/// four columns, so that a reader of the counters' three-column rows is not
/// misled.
#[test]
fn the_servers_follow_the_counters() {
    let req = |format| PeStatsRequest {
        format,
        output: None,
    };
    let show = |format| {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = show_text(
            Ok(FILE.into()),
            &mut || Ok(held_servers()),
            &req(format),
            &mut out,
            &mut err,
        );
        assert_eq!((code, err.as_slice()), (0, &b""[..]), "{format:?}");
        String::from_utf8(out).expect("text")
    };
    let table = show(PeStatsFormat::Table);
    assert!(
        table.starts_with(&render(&parse(FILE).expect("parses"))),
        "{table}"
    );
    let rows: Vec<Vec<&str>> = table
        .lines()
        .map(|l| l.split('|').map(str::trim).collect())
        .filter(|r: &Vec<&str>| r.len() == 4)
        .collect();
    assert_eq!(
        rows,
        [
            vec!["service", "real server", "templates", "calls"],
            vec!["-u 10.0.0.1:5060", "10.0.1.11:5060", "4", "3"],
            vec!["-u 10.0.0.1:5060", "10.0.1.12:5060", "2", "1"],
            vec!["-u 10.0.0.2:5060", "10.0.1.11:5060", "1", "-"],
        ]
    );

    let j: serde_json::Value = serde_json::from_str(&show(PeStatsFormat::Json)).expect("json");
    assert_eq!(j["counters"][0]["name"], "examined");
    assert_eq!(
        j["servers"][0],
        serde_json::json!({
            "service": {"family": "inet", "protocol": "udp", "address": "10.0.0.1", "port": 5060},
            "address": "10.0.1.11", "port": 5060, "persistence_templates": 4, "calls": 3
        })
    );
    assert_eq!(j["servers"][2]["calls"], serde_json::Value::Null);

    let text = show(PeStatsFormat::Prometheus);
    assert!(text.contains(
        "\nipvs_pe_sip_backend_calls{local_address=\"10.0.0.1\",local_port=\"5060\",\
         remote_address=\"10.0.1.12\",remote_port=\"5060\",proto=\"UDP\",local_mark=\"\"} 1\n"
    ));
}

/// Servers that cannot be read: status 1, nothing shown, the file left.
#[test]
fn servers_that_cannot_be_read_show_nothing() {
    let d = Scratch::new("pe-stats-servers");
    let f = d.0.join("ipvs_pe_sip.prom");
    fs::write(&f, "old\n").expect("written");
    for output in [None, Some(f.clone())] {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let req = PeStatsRequest {
            format: PeStatsFormat::Prometheus,
            output: output.clone(),
        };
        let code = show_text(
            Ok(FILE.into()),
            &mut || Err("Permission denied (you must be root)\n".into()),
            &req,
            &mut out,
            &mut err,
        );
        assert_eq!((code, out.as_slice()), (1, &b""[..]));
        assert_eq!(
            String::from_utf8_lossy(&err),
            "cannot read the real servers' templates: Permission denied (you must be root)\n"
        );
    }
    assert_eq!(fs::read_to_string(&f).expect("kept"), "old\n");
    // Without an engine, IPVS is not asked.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let req = PeStatsRequest {
        format: PeStatsFormat::Table,
        output: None,
    };
    let code = show_text(
        Err(io::ErrorKind::NotFound.into()),
        &mut || panic!("IPVS asked"),
        &req,
        &mut out,
        &mut err,
    );
    assert_eq!(code, EXIT_NOT_LOADED);
}

/// docs/ipvsadm-rs.md shows the servers' table as the program writes it.
#[test]
fn the_documented_servers_table_is_the_programs() {
    let table = render_servers(&Held::documented());
    let indented: String = table
        .trim_start_matches('\n')
        .lines()
        .map(|l| format!("    {}\n", l.trim_end()))
        .collect();
    let doc = include_str!("../../../docs/ipvsadm-rs.md");
    assert!(doc.contains(&indented), "{indented}");
}
