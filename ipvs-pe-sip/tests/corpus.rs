//! The differential corpus (`examples/corpus`) keeps the promises the
//! kernel test relies on.

#[path = "../examples/corpus/cases.rs"]
mod cases;

use ipvs_pe_sip::c_model::{c_call_id, explain, Quirk, Quirks};
use ipvs_pe_sip::call_id;
use std::collections::HashSet;

#[test]
fn corpus_is_large_and_small_enough() {
    let corpus = cases::corpus();
    assert!(corpus.len() >= 200, "only {} datagrams", corpus.len());
    for case in &corpus {
        assert!(!case.payload.is_empty(), "{}", case.label);
        assert!(
            case.payload.len() <= cases::MAX_DATAGRAM,
            "{}: {} bytes",
            case.label,
            case.payload.len()
        );
    }
}

#[test]
fn every_call_id_is_unique() {
    let mut seen = HashSet::new();
    for case in cases::corpus() {
        let answers: HashSet<&[u8]> = [c_call_id(&case.payload), call_id(&case.payload)]
            .into_iter()
            .flatten()
            .collect();
        for a in answers {
            assert!(
                seen.insert(a.to_ascii_lowercase()),
                "{}: {:?} again",
                case.label,
                String::from_utf8_lossy(a)
            );
        }
    }
}

#[test]
fn labels_are_unique_and_tell_the_truth() {
    let mut labels = HashSet::new();
    for case in cases::corpus() {
        assert!(labels.insert(case.label.clone()), "{} twice", case.label);
        assert!(!case.label.contains(['\t', '\n', '\r']));
        let quirks = explain(&case.payload).expect("explained");
        let family = case.label.split('/').next().unwrap_or_default();
        match family {
            // Clean input: exactly the C answer.
            "real" | "rule" => assert!(quirks.is_empty(), "{}: {quirks}", case.label),
            "quirk" => {
                // quirk/NAME/...: NAME is a quirk the case shows, or "combined" for a case
                // that shows several; any other NAME is a mistyped label.
                let name = case.label.split('/').nth(1).unwrap_or_default();
                if name == "combined" {
                    assert!(quirks.iter().count() >= 2, "{}: {quirks}", case.label);
                } else {
                    let q = Quirk::ALL.into_iter().find(|q| q.name() == name);
                    let q = q.unwrap_or_else(|| panic!("{}: no quirk named {name}", case.label));
                    assert!(quirks.contains(q), "{}: {quirks}", case.label);
                }
            }
            "malformed" | "mutated" => {}
            other => panic!("unknown family {other}"),
        }
        assert_eq!(
            case.label.contains("[differs: "),
            !quirks.is_empty(),
            "{}",
            case.label
        );
    }
}

#[test]
fn every_quirk_and_agreement_is_covered() {
    let corpus = cases::corpus();
    let seen = corpus
        .iter()
        .filter_map(|c| explain(&c.payload))
        .fold(Quirks::NONE, |acc, q| q.iter().fold(acc, Quirks::with));
    assert_eq!(seen, Quirks::C);
    let agree_with_value = corpus
        .iter()
        .filter(|c| call_id(&c.payload).is_ok() && c_call_id(&c.payload) == call_id(&c.payload))
        .count();
    assert!(agree_with_value >= 150, "only {agree_with_value}");
}

#[test]
fn written_index_matches_the_engines() {
    let dir = std::env::temp_dir().join(format!("ipvs-pe-sip-corpus-{}", std::process::id()));
    let n = cases::write(&dir).expect("write corpus");
    let index = std::fs::read_to_string(dir.join("index.tsv")).expect("index");
    let lines: Vec<&str> = index.lines().collect();
    assert_eq!(lines.len(), n);
    for (i, line) in lines.iter().enumerate() {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 4, "{line}");
        assert_eq!(fields[0], format!("{:04}", i + 1));
        let payload = std::fs::read(dir.join(format!("{}.sip", fields[0]))).expect("datagram");
        assert_eq!(fields[1], cases::answer(c_call_id(&payload)));
        assert_eq!(fields[2], cases::answer(call_id(&payload)));
        for answer in &fields[1..3] {
            assert!(
                *answer == "-"
                    || answer
                        .bytes()
                        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            );
        }
    }
    std::fs::remove_dir_all(&dir).expect("clean up");
}
