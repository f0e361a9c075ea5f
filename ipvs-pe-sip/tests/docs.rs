//! `docs/c-engine-differences.md` stays true to the code: every quirk of the
//! C model has a row, and every test a row names exists.

use ipvs_pe_sip::c_model::Quirk;

const DOC: &str = include_str!("../../docs/c-engine-differences.md");

fn source(file: &str) -> &'static str {
    match file {
        "quirks" => include_str!("quirks.rs"),
        "rules" => include_str!("rules.rs"),
        other => panic!("no test file {other}"),
    }
}

/// The data rows of the document's tables, as cells.
fn rows() -> impl Iterator<Item = Vec<&'static str>> {
    DOC.lines()
        .filter(|l| l.starts_with('|') && !l.starts_with("| ---") && !l.contains("| Test"))
        .map(|l| l.trim_matches('|').split(" | ").map(str::trim).collect())
}

#[test]
fn every_quirk_has_a_row() {
    for quirk in Quirk::ALL {
        let cell = format!("`{}`", quirk.name());
        assert!(
            rows().any(|r| r.first() == Some(&cell.as_str())),
            "no row for {cell}"
        );
    }
}

#[test]
fn every_named_test_exists() {
    let mut named = 0;
    for row in rows() {
        let tests = row.last().copied().unwrap_or_default();
        for name in tests.split('`').skip(1).step_by(2) {
            // A path names a test script or source file of the repository.
            if name.contains('/') {
                let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("..")
                    .join(name);
                assert!(path.is_file(), "{name} named in the doc does not exist");
                named += 1;
                continue;
            }
            let (file, function) = name.split_once("::").unwrap_or(("quirks", name));
            assert!(
                source(file).contains(&format!("fn {function}(")),
                "{name} named in the doc does not exist"
            );
            named += 1;
        }
    }
    assert!(named >= 20, "only {named} tests named");
}
