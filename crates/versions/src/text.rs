//! The natural text order every scheme falls back to: the strings are cut into runs of ASCII
//! digits and runs of anything else; digit runs compare by value (leading zeros ignored, any
//! length), other runs ASCII-case-insensitively, a digit run sorts before any other run, and a
//! string that is a prefix of another sorts first. Strings equal in that order are then ordered
//! by their bytes, so only identical strings compare equal and the order stays total.

use std::cmp::Ordering;

/// Natural order of `a` against `b`, ties broken by bytes.
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    natural(a.as_bytes(), b.as_bytes()).then_with(|| a.cmp(b))
}

/// Order of two digit strings by value, whatever their length.
pub(crate) fn cmp_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn natural(mut a: &[u8], mut b: &[u8]) -> Ordering {
    loop {
        let (ra, rb) = match (run(a), run(b)) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(ra), Some(rb)) => (ra, rb),
        };
        let (da, db) = (ra[0].is_ascii_digit(), rb[0].is_ascii_digit());
        let ordering = match (da, db) {
            (true, true) => cmp_digit_bytes(ra, rb),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => ra.iter().map(u8::to_ascii_lowercase).cmp(rb.iter().map(u8::to_ascii_lowercase)),
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
        a = &a[ra.len()..];
        b = &b[rb.len()..];
    }
}

/// The leading run of `s` (all digits or all non-digits), or `None` when `s` is empty.
fn run(s: &[u8]) -> Option<&[u8]> {
    let first = s.first()?.is_ascii_digit();
    let end = s.iter().position(|c| c.is_ascii_digit() != first).unwrap_or(s.len());
    Some(&s[..end])
}

fn cmp_digit_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let skip = |s: &[u8]| s.iter().position(|&c| c != b'0').unwrap_or(s.len());
    let (a, b) = (&a[skip(a)..], &b[skip(b)..]);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digit_runs_compare_by_value() {
        assert_eq!(compare("1.10", "1.9"), Ordering::Greater);
        assert_eq!(compare("1.009", "1.10"), Ordering::Less);
        assert_eq!(compare("99999999999999999999999", "100000000000000000000000"), Ordering::Less);
    }

    #[test]
    fn ties_are_broken_by_bytes() {
        assert_eq!(compare("1.01", "1.1"), Ordering::Less);
        assert_eq!(compare("1.1", "1.01"), Ordering::Greater);
        assert_eq!(compare("A", "a"), Ordering::Less);
        assert_eq!(compare("same", "same"), Ordering::Equal);
    }

    #[test]
    fn prefixes_and_mixed_runs() {
        assert_eq!(compare("", "1"), Ordering::Less);
        assert_eq!(compare("1.0", "1.0a"), Ordering::Less);
        assert_eq!(compare("1a", "1.0"), Ordering::Greater);
        assert_eq!(compare("a", "1"), Ordering::Greater);
        assert_eq!(compare("1.0-Beta", "1.0-alpha"), Ordering::Greater);
    }
}
