//! IPv4 and IPv6 addresses in text, as SDP writes them (`c=` lines, `a=rtcp`).

use super::lines::split_at;

/// The IPv4 address `s` is, in dotted decimal (four numbers of one to three digits, each at
/// most 255, leading zeros allowed); `None` if it is anything else.
pub(super) fn ipv4(s: &[u8]) -> Option<[u8; 4]> {
    let mut out = [0u8; 4];
    let mut rest = s;
    for (i, octet) in out.iter_mut().enumerate() {
        if i > 0 {
            rest = rest.strip_prefix(b".")?;
        }
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if !(1..=3).contains(&digits) {
            return None;
        }
        let (number, after) = split_at(rest, digits)?;
        *octet = u8::try_from(decimal(number)?).ok()?;
        rest = after;
    }
    rest.is_empty().then_some(out)
}

/// The IPv6 address `s` is, in any of RFC 4291's text forms: eight groups of one to four
/// hex digits, `::` for one or more zero groups (once), and the last 32 bits in dotted
/// decimal; `None` if it is anything else (a zone, a prefix length, brackets).
pub(super) fn ipv6(s: &[u8]) -> Option<[u8; 16]> {
    // The groups before the `::` and after it.
    let mut head = Groups::default();
    let mut tail = Groups::default();
    let mut gap = false;
    let mut rest = s;
    if let Some(after) = rest.strip_prefix(b"::") {
        gap = true;
        rest = after;
    }
    // Each turn takes one group (or the dotted IPv4 end), so at most 8 turns reach the end
    // or fail: a group past the eighth is refused.
    while !rest.is_empty() {
        let side = if gap { &mut tail } else { &mut head };
        let piece_len = rest.iter().take_while(|&&b| b != b':').count();
        let (piece, after) = split_at(rest, piece_len)?;
        if piece.contains(&b'.') {
            // The dotted IPv4 end: the last piece, two groups.
            if !after.is_empty() {
                return None;
            }
            let [a, b, c, d] = ipv4(piece)?;
            side.push(u16::from_be_bytes([a, b]))?;
            side.push(u16::from_be_bytes([c, d]))?;
        } else {
            if !(1..=4).contains(&piece.len()) {
                return None;
            }
            let mut group = 0u16;
            for &b in piece {
                // Four hex digits at most: the shift never loses a digit.
                group = (group << 4) | u16::from(hex_digit(b)?);
            }
            side.push(group)?;
        }
        rest = match after {
            [] => after,
            [b':', b':', more @ ..] if !gap => {
                gap = true;
                more
            }
            // A single colon must be followed by another group.
            [b':', more @ ..] if !more.is_empty() && more.first() != Some(&b':') => more,
            _ => return None,
        };
        if head.len.saturating_add(tail.len) > 8 {
            return None;
        }
    }
    let groups = head.len.checked_add(tail.len)?;
    // `::` stands for at least one zero group; without it there must be eight.
    if (gap && groups > 7) || (!gap && groups != 8) {
        return None;
    }
    let mut all = [0u16; 8];
    for (slot, group) in all.iter_mut().zip(head.groups()) {
        *slot = group;
    }
    let zeros = 8usize.checked_sub(groups)?;
    let tail_start = head.len.checked_add(zeros)?;
    for (slot, group) in all.iter_mut().skip(tail_start).zip(tail.groups()) {
        *slot = group;
    }
    let mut out = [0u8; 16];
    for (pair, group) in out.chunks_exact_mut(2).zip(all) {
        pair.copy_from_slice(&group.to_be_bytes());
    }
    Some(out)
}

/// Up to eight 16-bit groups of an IPv6 address.
#[derive(Default)]
struct Groups {
    groups: [u16; 8],
    len: usize,
}

impl Groups {
    /// Appends `group`; `None` if there are eight already.
    fn push(&mut self, group: u16) -> Option<()> {
        *self.groups.get_mut(self.len)? = group;
        self.len = self.len.checked_add(1)?;
        Some(())
    }

    fn groups(&self) -> impl Iterator<Item = u16> + '_ {
        self.groups.iter().copied().take(self.len)
    }
}

/// The value of a hex digit.
fn hex_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => b.checked_sub(b'0'),
        b'a'..=b'f' => b.checked_sub(b'a' - 10),
        b'A'..=b'F' => b.checked_sub(b'A' - 10),
        _ => None,
    }
}

/// The value of a run of decimal digits, `None` if it is empty, has anything else, or
/// exceeds `u32`.
pub(super) fn decimal(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u32, |n, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        n.checked_mul(10)?.checked_add(u32::from(d))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::string::{String, ToString};

    extern crate std;

    #[test]
    fn ipv4_forms() {
        assert_eq!(ipv4(b"192.0.2.1"), Some([192, 0, 2, 1]));
        assert_eq!(ipv4(b"0.0.0.0"), Some([0; 4]));
        assert_eq!(ipv4(b"255.255.255.255"), Some([255; 4]));
        assert_eq!(ipv4(b"010.0.0.1"), Some([10, 0, 0, 1]));
        for bad in [
            &b""[..],
            b"1.2.3",
            b"1.2.3.4.",
            b"1.2.3.4.5",
            b"256.1.1.1",
            b"1..2.3",
            b"1.2.3.0004",
            b"a.b.c.d",
            b" 1.2.3.4",
            b"1.2.3.4 ",
            b"-1.2.3.4",
        ] {
            assert_eq!(ipv4(bad), None, "{:?}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn ipv6_forms() {
        let v6 = |s: &str| s.parse::<Ipv6Addr>().unwrap().octets();
        for good in [
            "::",
            "::1",
            "1::",
            "2001:db8::1",
            "2001:DB8:0:0:8:800:200C:417A",
            "ff15::101",
            "::ffff:192.0.2.1",
            "64:ff9b::192.0.2.33",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:1.2.3.4",
            "1::8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
        ] {
            assert_eq!(ipv6(good.as_bytes()), Some(v6(good)), "{good}");
        }
        for bad in [
            "",
            ":",
            ":::",
            "1:::2",
            "1::2::3",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "1:2:3:4:5:6:7:8::",
            "::1:2:3:4:5:6:7:8",
            ":1::",
            "1::2:",
            "12345::",
            "g::",
            "1.2.3.4",
            "::1.2.3.4:5",
            "1:2:3:4:5:6:7:1.2.3.4",
            "fe80::1%eth0",
            "[::1]",
            "2001:db8::/32",
        ] {
            assert_eq!(ipv6(bad.as_bytes()), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn ipv4_as_std_prints_it(a in any::<[u8; 4]>()) {
            let text = Ipv4Addr::from(a).to_string();
            prop_assert_eq!(ipv4(text.as_bytes()), Some(a));
        }

        #[test]
        fn ipv6_as_std_prints_it(a in any::<[u8; 16]>(), zeros in 0usize..8, at in 0usize..8) {
            // Runs of zero groups, so that `::` and the IPv4 forms come up.
            let mut a = a;
            for b in a.iter_mut().skip(at * 2).take(zeros * 2) {
                *b = 0;
            }
            let addr = Ipv6Addr::from(a);
            prop_assert_eq!(ipv6(addr.to_string().as_bytes()), Some(a));
            // The long form, all eight groups.
            let long = addr.segments().map(|g| std::format!("{g:X}")).join(":");
            prop_assert_eq!(ipv6(long.as_bytes()), Some(a));
        }

        #[test]
        fn ipv6_agrees_with_std(s in "[0-9a-fA-F:.]{0,45}") {
            let ours = ipv6(s.as_bytes());
            let std = s.parse::<Ipv6Addr>().ok().map(|a| a.octets());
            prop_assert_eq!(ours, std, "{}", s);
        }
    }
}
