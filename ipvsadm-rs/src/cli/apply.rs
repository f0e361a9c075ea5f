//! `--apply FILE [--dry-run]` (an ipvsadm-rs extension): what a line that
//! asks for it asks, checked. Its options are defined in `defs/ours.rs`;
//! what it does is in `crate::apply`.

use clap::ArgMatches;

use super::definition::{events, rest};
use super::defs::ours::{APPLY, DRY_RUN};
use super::Exit;

/// What `--apply` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApplyRequest {
    /// The file describing the table, `-` for standard input.
    pub(crate) file: String,
    /// `--dry-run`: print the plan only.
    pub(crate) dry_run: bool,
}

/// The `--apply` run a matched line asks for (it names `--apply` or
/// `--dry-run`); refused, status 2, with anything else but the two.
pub(crate) fn request(m: &ArgMatches) -> Result<ApplyRequest, Exit> {
    let Some(file) = m.get_one::<String>(APPLY.long) else {
        return Err(Exit::fail("--dry-run goes with --apply FILE"));
    };
    if !events(m).is_empty() || !rest(m).is_empty() {
        return Err(Exit::fail(
            "--apply FILE takes no other option but --dry-run",
        ));
    }
    Ok(ApplyRequest {
        file: file.clone(),
        dry_run: m.get_flag(DRY_RUN.long),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(words: &str) -> Vec<String> {
        std::iter::once("ipvsadm-rs")
            .chain(words.split_whitespace())
            .map(String::from)
            .collect()
    }

    fn apply_request(argv: &[String]) -> Option<Result<ApplyRequest, Exit>> {
        match crate::cli::recognise(argv) {
            Ok(crate::cli::Run::Apply(r)) => Some(Ok(r)),
            Ok(_) => None,
            Err(e) => Some(Err(e)),
        }
    }

    #[test]
    fn apply_lines_are_recognised() {
        assert_eq!(apply_request(&line("-Ln")), None);
        assert_eq!(
            apply_request(&line("--apply rules")),
            Some(Ok(ApplyRequest {
                file: "rules".into(),
                dry_run: false
            }))
        );
        assert_eq!(
            apply_request(&line("--dry-run --apply=-")),
            Some(Ok(ApplyRequest {
                file: "-".into(),
                dry_run: true
            }))
        );
    }

    #[test]
    fn apply_takes_no_ipvsadm_option() {
        for bad in [
            "--apply rules -A -u 10.0.0.1:5060",
            "-L --dry-run",
            "--dry-run",
            "--apply",
            "--apply rules extra",
        ] {
            let r = apply_request(&line(bad));
            assert!(matches!(r, Some(Err(ref e)) if e.code != 0), "{bad}: {r:?}");
        }
    }
}
