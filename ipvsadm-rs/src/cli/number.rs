//! Numbers read as ipvsadm's C reads them (`strtol` with range checks,
//! `atoi`), and strings cut as its fixed buffers cut them: the same input
//! must be accepted or refused, and to the same value.

use super::Exit;

/// Longest persistence (and `--set`) timeout ipvsadm accepts: 31 days.
pub(crate) const MAX_TIMEOUT: u32 = 86400 * 31;

/// Persistence timeout used when `-p` has no value.
const DEF_PERSISTENT_TIMEOUT: u32 = 360;

/// What C's `strtol`/`atoi` skip and read before the digits: leading blanks
/// and one sign. Returns whether the number is negative, and the rest.
fn c_sign(s: &str) -> (bool, &str) {
    let t = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    }
}

/// `strtol(s, &end, 10)` accepting only a fully numeric string in range.
pub(crate) fn string_to_number(s: &str, min: i64, max: i64) -> Option<i64> {
    let (neg, digits) = c_sign(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut n: i64 = 0;
    for b in digits.bytes() {
        n = n.checked_mul(10)?.checked_add(i64::from(b - b'0'))?;
    }
    let n = if neg { -n } else { n };
    (min..=max).contains(&n).then_some(n)
}

/// [`string_to_number`] into the type the value is kept in.
pub(crate) fn number<T: TryFrom<i64>>(s: &str, min: i64, max: i64) -> Option<T> {
    string_to_number(s, min, max).and_then(|n| T::try_from(n).ok())
}

/// [`number`], failing with ipvsadm's message.
pub(crate) fn number_range<T: TryFrom<i64>>(
    s: &str,
    min: i64,
    max: i64,
    msg: &str,
) -> Result<T, Exit> {
    number(s, min, max).ok_or_else(|| Exit::fail(msg))
}

/// A non-negative [`number_range`] kept in a `u32`.
pub(crate) fn number_u32(s: &str, max: i64, msg: &str) -> Result<u32, Exit> {
    number_range(s, 0, max, msg)
}

/// A timeout in seconds; `None` (`-p` without a value) is ipvsadm's default.
pub(crate) fn parse_timeout(v: Option<&str>, min: u32, max: u32) -> Result<u32, Exit> {
    match v {
        None => Ok(DEF_PERSISTENT_TIMEOUT),
        Some(s) => number_range(
            s,
            min.into(),
            max.into(),
            &format!("invalid timeout value `{s}' specified"),
        ),
    }
}

/// A firewall mark: any `u32` but 0.
pub(crate) fn parse_fwmark(s: &str) -> Result<u32, Exit> {
    number_range(
        s,
        1,
        u32::MAX.into(),
        &format!("invalid fwmark value `{s}' specified"),
    )
}

/// C `atoi`: leading blanks, optional sign, digits; anything else stops it.
pub(crate) fn atoi(s: &str) -> i64 {
    let (neg, digits) = c_sign(s);
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// Truncates like `strncpy` into a fixed C buffer of `max` bytes.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    let mut end = s.len().min(max);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_strtol() {
        assert_eq!(string_to_number(" 5", 0, 10), Some(5));
        assert_eq!(string_to_number("+5", 0, 10), Some(5));
        assert_eq!(string_to_number("5 ", 0, 10), None);
        assert_eq!(string_to_number("", 0, 10), None);
        assert_eq!(string_to_number("99999999999999999999", 0, 10), None);
        assert_eq!(atoi("64abc"), 64);
    }
}
