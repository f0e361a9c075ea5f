//! The fast path for lines written plainly, as `-R` input is: such a line
//! is split into option occurrences without clap, whose matching costs more
//! than everything else a restored line does.

use std::any::TypeId;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use clap::builder::ValueRange;
use clap::{Arg, ArgAction, Command as ClapCommand};

use super::definition::COMMAND;
use super::flag::Flag;
use super::Event;

/// How an option of the definition takes its value, for [`plain_events`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Takes {
    /// None (`-m`).
    Nothing,
    /// Always the next word (`-u VIP`).
    Value,
    /// The next word unless it starts with `-` or there is none (`-p [60]`).
    MaybeValue,
}

/// Every spelling (`-u`, `--udp-service`, aliases too) of the options that
/// [`plain_events`] reads, with the option and what it takes. Taken from the
/// built definition, so the two cannot disagree on names; options of any
/// other kind are left out, and lines using them go to clap.
pub(crate) fn plain_options() -> &'static HashMap<String, (Flag, Takes)> {
    static OPTIONS: OnceLock<HashMap<String, (Flag, Takes)>> = OnceLock::new();
    OPTIONS.get_or_init(|| COMMAND.with_borrow(plain_options_of))
}

fn plain_options_of(cmd: &ClapCommand) -> HashMap<String, (Flag, Takes)> {
    let mut map = HashMap::new();
    for a in cmd.get_arguments() {
        let Some(flag) = Flag::from_id(a.get_id().as_str()) else {
            continue;
        };
        let takes = match a.get_num_args() {
            Some(n) if n == ValueRange::EMPTY => Takes::Nothing,
            Some(n) if n == ValueRange::SINGLE && a.is_allow_hyphen_values_set() => Takes::Value,
            Some(n) if n == ValueRange::new(0..=1) && !a.is_allow_hyphen_values_set() => {
                Takes::MaybeValue
            }
            _ => continue,
        };
        let plain = !a.is_positional()
            && matches!(a.get_action(), ArgAction::Append)
            && a.get_value_parser().type_id() == TypeId::of::<String>();
        if !plain {
            continue;
        }
        for spelling in spellings(a) {
            map.insert(spelling, (flag, takes));
        }
    }
    map
}

/// Every way to write option `a` on a command line: `-x` and `--long`, with their aliases.
pub(crate) fn spellings(a: &Arg) -> impl Iterator<Item = String> + '_ {
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
}

/// Whether `word`, after an option that takes a value, is one clap takes as
/// nothing but that value and the clap path reports unchanged: not empty, no
/// NUL (which could be `NO_VALUE`) and no `-` in front (after `-p` clap
/// reads such a word as an option, `--` or `-`; such lines go to clap).
fn plain_value(word: &str) -> bool {
    !word.is_empty() && !word.starts_with('-') && !word.contains('\0')
}

/// The option occurrences of a command line written plainly, without clap:
/// every word after `argv[0]` is one whole option spelled as in
/// [`plain_options`] (no `-mo` bundles, no `--pe=sip`, no positional
/// words), each followed by its value if it takes one, and every value is
/// [`plain_value`]. Such a line is one clap accepts, with exactly these
/// events and no `--set` values; for any other line this gives `None` and
/// clap decides.
pub(crate) fn plain_events<S: AsRef<str>>(argv: &[S]) -> Option<Vec<Event<'_>>> {
    let options = plain_options();
    let mut words = argv.get(1..)?.iter().map(AsRef::as_ref).peekable();
    let mut out = Vec::with_capacity(argv.len() - 1);
    while let Some(word) = words.next() {
        let &(flag, takes) = options.get(word)?;
        let value = match takes {
            Takes::Nothing => None,
            Takes::Value => Some(words.next().filter(|v| plain_value(v))?),
            Takes::MaybeValue => match words.peek().copied() {
                Some(v) if v.starts_with('-') => None,
                Some(v) if plain_value(v) => words.next(),
                Some(_) => return None,
                None => None,
            },
        };
        out.push(Event {
            index: out.len(),
            flag,
            value: value.map(Cow::Borrowed),
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests;
