//! The `--pe-stats` command line: formats, `--json`, `--output`, refusals.

use super::*;

fn line(words: &str) -> Vec<String> {
    std::iter::once("ipvsadm-rs")
        .chain(words.split_whitespace())
        .map(String::from)
        .collect()
}

/// The `--pe-stats` run of a line (`None`: another run, or a line clap
/// refuses).
fn request(words: &str) -> Option<Result<PeStatsRequest, Exit>> {
    match crate::cli::recognise(&line(words)) {
        Ok(crate::cli::Run::PeStats(r)) => Some(Ok(r)),
        Err(e) if e.code != 255 => Some(Err(e)),
        _ => None,
    }
}

fn ok(format: PeStatsFormat, output: Option<&str>) -> Option<Result<PeStatsRequest, Exit>> {
    Some(Ok(PeStatsRequest {
        format,
        output: output.map(PathBuf::from),
    }))
}

#[test]
fn other_lines_are_not_pe_stats() {
    assert_eq!(request("-Ln"), None);
    assert_eq!(request("-L --json"), None);
}

#[test]
fn the_format_is_table_unless_told() {
    use PeStatsFormat::*;
    assert_eq!(request("--pe-stats"), ok(Table, None));
    assert_eq!(request("--pe-stats --format table"), ok(Table, None));
    assert_eq!(request("--pe-stats --format=json"), ok(Json, None));
    assert_eq!(
        request("--format prometheus --pe-stats"),
        ok(Prometheus, None)
    );
    assert_eq!(
        request("--pe-stats --format prometheus --output /var/lib/x/ipvs_pe_sip.prom"),
        ok(Prometheus, Some("/var/lib/x/ipvs_pe_sip.prom"))
    );
    assert_eq!(
        request("--pe-stats --output=t.txt"),
        ok(Table, Some("t.txt"))
    );
}

/// `--json` is `--format json`, so the two agree and together say it once.
#[test]
fn json_is_an_alias_of_format_json() {
    use PeStatsFormat::*;
    assert_eq!(request("--pe-stats --json"), ok(Json, None));
    assert_eq!(request("--json --pe-stats"), ok(Json, None));
    assert_eq!(request("--pe-stats --json --format json"), ok(Json, None));
}

/// Refused with status 2, before anything is read (the request is the
/// refusal: `offline.rs` reads the file only for an `Ok`).
#[test]
fn json_with_another_format_is_refused() {
    for (words, other) in [
        ("--pe-stats --json --format table", "table"),
        ("--pe-stats --format prometheus --json", "prometheus"),
    ] {
        let Some(Err(e)) = request(words) else {
            panic!("{words}: not refused");
        };
        assert_eq!(e.code, 2, "{words}");
        assert!(e.stdout.is_empty());
        assert_eq!(
            e.stderr,
            format!("--json means --format json: it cannot come with --format {other}\n")
        );
    }
}

#[test]
fn other_options_with_pe_stats_are_refused() {
    for words in [
        "--pe-stats -n",
        "--pe-stats --format json -L",
        "--pe-stats --output f -Z",
    ] {
        let Some(Err(e)) = request(words) else {
            panic!("{words}: not refused");
        };
        assert_eq!(e.code, 2, "{words}");
        assert!(
            e.stderr.starts_with("--pe-stats takes no other option"),
            "{words}"
        );
    }
}

/// clap's own refusals: these are no `--pe-stats` request; the line is
/// refused as a whole (status 255, clap's wording).
#[test]
fn malformed_pe_stats_lines_go_to_the_parser() {
    for words in [
        "--pe-stats --format xml",
        "--pe-stats --format",
        "--pe-stats --format json --format table",
        "--pe-stats --output a --output b",
        "-L --format json",
        "--output f -L",
    ] {
        assert_eq!(request(words), None, "{words}");
        let e = crate::cli::recognise(&line(words)).expect_err(words);
        assert_eq!(e.code, 255, "{words}");
    }
}
