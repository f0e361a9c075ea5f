//! The fast path for lines written plainly, as `-R` input is: such a line
//! is split into option occurrences without clap, whose matching costs more
//! than everything else a restored line does.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::OnceLock;

use super::defs::{self, Def, Takes};
use super::Event;

/// Every spelling (`-u`, `--udp-service`, aliases too) of ipvsadm's options
/// (the replayed ones), with the option. Lines with any other word go to
/// clap.
pub(crate) fn plain_options() -> &'static HashMap<String, &'static Def> {
    static OPTIONS: OnceLock<HashMap<String, &'static Def>> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut map = HashMap::new();
        for &d in defs::ALL.iter().filter(|d| d.replayed()) {
            for spelling in spellings(d) {
                map.insert(spelling, d);
            }
        }
        map
    })
}

/// Every way to write option `d` on a command line: `-x` and `--long`, with
/// the short alias.
pub(crate) fn spellings(d: &Def) -> impl Iterator<Item = String> + '_ {
    d.short
        .into_iter()
        .chain(d.short_alias)
        .map(|c| format!("-{c}"))
        .chain(std::iter::once(format!("--{}", d.long)))
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
        let &def = options.get(word)?;
        let value = match def.takes {
            Takes::Nothing => None,
            Takes::Value(_) => Some(words.next().filter(|v| plain_value(v))?),
            Takes::MaybeValue(_) => match words.peek().copied() {
                Some(v) if v.starts_with('-') => None,
                Some(v) if plain_value(v) => words.next(),
                Some(_) => return None,
                None => None,
            },
        };
        out.push(Event {
            index: out.len(),
            def,
            value: value.map(Cow::Borrowed),
        });
    }
    Some(out)
}

#[cfg(test)]
mod tests;
