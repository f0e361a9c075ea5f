//! The engine's counters are named in one list, `kmod/stats-names.txt`: the module does not
//! build when `kmod/stats.rs` names other lines, and the boot tests read it. Here: the list
//! is what both of those expect, and `docs/engine.md`'s table of the counters names the same
//! lines in the same order.

const NAMES: &str = include_str!("../../kmod/stats-names.txt");
const DOC: &str = include_str!("../../docs/engine.md");

/// The first cells of the table in the doc's section `## Counters`.
fn documented() -> Vec<&'static str> {
    let section = DOC
        .split("\n## Counters\n")
        .nth(1)
        .expect("docs/engine.md has a section ## Counters");
    let section = section.split("\n## ").next().unwrap_or(section);
    section
        .lines()
        .skip_while(|l| !l.starts_with("| line |"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cell = l
                .trim_start_matches('|')
                .split('|')
                .next()
                .unwrap_or_default();
            cell.trim().trim_matches('`')
        })
        .collect()
}

#[test]
fn the_list_is_one_name_a_line() {
    // What the module's compile-time comparison and ipvslab's `split()` both read.
    assert!(NAMES.ends_with('\n'), "the last name ends with a line end");
    let names: Vec<&str> = NAMES.lines().collect();
    assert!(names.len() >= 10, "only {} names", names.len());
    assert_eq!(names.first(), Some(&"examined"), "examined comes first");
    for name in &names {
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
            "{name:?} is not a plain name"
        );
    }
    for (i, name) in names.iter().enumerate() {
        assert!(!names[..i].contains(name), "{name} is listed twice");
    }
}

#[test]
fn the_docs_table_names_every_counter_in_order() {
    let names: Vec<&str> = NAMES.lines().collect();
    assert_eq!(
        documented(),
        names,
        "docs/engine.md's table of the counters"
    );
}
