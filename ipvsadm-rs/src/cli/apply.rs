//! `--apply FILE [--dry-run]` (an ipvsadm-rs extension): its clap
//! arguments, and the recognition of a command line that asks for it. What
//! it does is in `crate::apply`.

use clap::{Arg, ArgAction};

use super::definition::{events, matches, rest};
use super::flag::Flag;
use super::Exit;

/// The id and long name of `--apply FILE`.
const APPLY: &str = "apply";
/// The id and long name of `--dry-run`.
const DRY_RUN: &str = "dry-run";

/// The clap arguments of `--apply` and `--dry-run`. `--apply` conflicts with
/// every ipvsadm option, so that a line mixing them (on the command line or
/// in `-R` input) is rejected rather than half understood.
pub(crate) fn args() -> [Arg; 2] {
    [
        Arg::new(APPLY)
            .long(APPLY)
            .value_name("FILE")
            .help(
                "Change the table into the one FILE describes (in -S format; - reads standard \
                 input) with the fewest changes, editing what an edit can change, so that \
                 services that stay keep their connections and persistence templates; prints \
                 nothing if the table is already so (ipvsadm-rs extension)",
            )
            .num_args(1)
            .allow_hyphen_values(true)
            .action(ArgAction::Set)
            .conflicts_with_all(Flag::ALL.iter().map(|f| f.long())),
        Arg::new(DRY_RUN)
            .long(DRY_RUN)
            .help(
                "With --apply: print the changes as ipvsadm command lines, one per line, in \
                 the order they would be made, and change nothing (ipvsadm-rs extension)",
            )
            .action(ArgAction::SetTrue)
            .requires(APPLY),
    ]
}

/// What `--apply` was asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApplyRequest {
    /// The file describing the table, `-` for standard input.
    pub(crate) file: String,
    /// `--dry-run`: print the plan only.
    pub(crate) dry_run: bool,
}

/// Recognises a command line asking for `--apply` (or `--dry-run`):
/// `None` for any other line, which goes to ipvsadm's parser untouched.
pub(crate) fn apply_request(argv: &[String]) -> Option<Result<ApplyRequest, Exit>> {
    let ours = |w: &String| {
        let name = w.split('=').next().unwrap_or_default();
        name == "--apply" || name == "--dry-run"
    };
    if !argv.iter().skip(1).any(ours) {
        return None;
    }
    let m = match matches(argv) {
        Ok(m) => m,
        Err(e) => {
            let mut stderr = e.render().to_string();
            if !stderr.ends_with('\n') {
                stderr.push('\n');
            }
            return Some(Err(Exit::status(255, stderr)));
        }
    };
    let Some(file) = m.get_one::<String>(APPLY) else {
        return Some(Err(Exit::fail("--dry-run goes with --apply FILE")));
    };
    if !events(&m).is_empty() || !rest(&m).is_empty() {
        return Some(Err(Exit::fail(
            "--apply FILE takes no other option but --dry-run",
        )));
    }
    Some(Ok(ApplyRequest {
        file: file.clone(),
        dry_run: m.get_flag(DRY_RUN),
    }))
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
