//! [`Scheme::Apk`](crate::Scheme::Apk): Alpine's version order, a port of apk-tools'
//! `src/version.c` (`apk_version_validate` and `apk_version_compare`, apk-tools 2.14/3.x; the
//! grammar is `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`).
//!
//! A version is a chain of tokens, each allowed only after certain others: the initial number,
//! `.`-numbers, one lowercase letter, `_suffix[number]` parts (suffixes `alpha < beta < pre <
//! rc <` (none) `< cvs < svn < git < hg < p`), one `~` commit hash (lowercase hex) and one
//! `-rN` revision. Two versions are compared token by token while the token kinds agree: numbers
//! by value, except that a `.`-number with a leading zero on either side compares as a string
//! (as Gentoo does); letters, suffixes and hashes by their order. When one side runs out or the
//! kinds differ, a pre-release suffix (`_alpha` … `_rc`) makes its side older; otherwise the side
//! whose next token comes later in the chain (the end being last) is older, so `1.2.3 <
//! 1.2.3-r1 < 1.2.3_p1 < 1.2.4` and `1.2.3_rc1 < 1.2.3`.
//!
//! Numbers compare by value at any length (apk-tools reads them into a wrapping 64-bit integer,
//! which only differs for absurd versions). Anything apk-tools would reject does not parse.

use std::cmp::Ordering;

use crate::text::cmp_digits;

/// A token kind, in the order apk-tools gives them (later kinds sort as older when compared
/// against an earlier kind at the same position).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
}

/// `Suffix` values: pre-release suffixes sort below `NONE`, post-release ones above.
const SUFFIXES: [(&str, u8); 9] =
    [("alpha", 1), ("beta", 2), ("pre", 3), ("rc", 4), ("cvs", 6), ("svn", 7), ("git", 8), ("hg", 9), ("p", 10)];
const SUFFIX_NONE: u8 = 5;

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    /// The token's text: digits, the letter, the suffix or the hash.
    text: &'a str,
    /// For `Suffix`, its value from [`SUFFIXES`].
    suffix: u8,
}

pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (tokens(a)?, tokens(b)?);
    let end = Token { kind: Kind::End, text: "", suffix: 0 };
    let mut index = 0;
    let (ta, tb) = loop {
        let ta = a.get(index).copied().unwrap_or(end);
        let tb = b.get(index).copied().unwrap_or(end);
        if ta.kind != tb.kind || ta.kind == Kind::End {
            break (ta, tb);
        }
        let ordering = cmp_token(&ta, &tb);
        if ordering != Ordering::Equal {
            return Some(ordering);
        }
        index += 1;
    };
    let pre_release = |t: &Token<'_>| t.kind == Kind::Suffix && t.suffix < SUFFIX_NONE;
    Some(if ta.kind == tb.kind {
        Ordering::Equal
    } else if pre_release(&ta) {
        Ordering::Less
    } else if pre_release(&tb) {
        Ordering::Greater
    } else {
        tb.kind.cmp(&ta.kind)
    })
}

pub(crate) fn parses(version: &str) -> bool {
    tokens(version).is_some()
}

/// Two tokens of the same kind.
fn cmp_token(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.starts_with('0') || b.text.starts_with('0') => a.text.cmp(b.text),
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo => cmp_digits(a.text, b.text),
        Kind::Suffix => a.suffix.cmp(&b.suffix),
        Kind::Letter | Kind::CommitHash | Kind::End => a.text.cmp(b.text),
    }
}

/// The version's tokens, or `None` where apk-tools' `apk_version_validate` would fail.
fn tokens(version: &str) -> Option<Vec<Token<'_>>> {
    let mut rest = version;
    let mut out = Vec::new();
    let (digits, tail) = split_while(rest, |c| c.is_ascii_digit());
    if digits.is_empty() {
        return None;
    }
    out.push(Token { kind: Kind::InitialDigit, text: digits, suffix: 0 });
    rest = tail;
    let mut last = Kind::InitialDigit;
    while let Some(first) = rest.bytes().next() {
        let token = match first {
            b'a'..=b'z' if last <= Kind::Digit => {
                let (letter, tail) = rest.split_at(1);
                rest = tail;
                Token { kind: Kind::Letter, text: letter, suffix: 0 }
            }
            b'.' if last <= Kind::Digit => {
                let (digits, tail) = split_while(&rest[1..], |c| c.is_ascii_digit());
                rest = tail;
                (!digits.is_empty()).then_some(Token { kind: Kind::Digit, text: digits, suffix: 0 })?
            }
            b'0'..=b'9' if last == Kind::Suffix => {
                let (digits, tail) = split_while(rest, |c| c.is_ascii_digit());
                rest = tail;
                Token { kind: Kind::SuffixNo, text: digits, suffix: 0 }
            }
            b'_' if last <= Kind::SuffixNo => {
                let (name, tail) = split_while(&rest[1..], |c| c.is_ascii_lowercase());
                rest = tail;
                let (_, suffix) = SUFFIXES.iter().find(|(known, _)| *known == name)?;
                Token { kind: Kind::Suffix, text: name, suffix: *suffix }
            }
            b'~' if last < Kind::CommitHash => {
                let (hash, tail) = split_while(&rest[1..], |c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
                rest = tail;
                (!hash.is_empty()).then_some(Token { kind: Kind::CommitHash, text: hash, suffix: 0 })?
            }
            b'-' if last < Kind::RevisionNo => {
                let (digits, tail) = split_while(rest.strip_prefix("-r")?, |c| c.is_ascii_digit());
                rest = tail;
                (!digits.is_empty()).then_some(Token { kind: Kind::RevisionNo, text: digits, suffix: 0 })?
            }
            _ => return None,
        };
        last = token.kind;
        out.push(token);
    }
    Some(out)
}

/// The longest prefix of `s` whose bytes all satisfy `keep`, and the rest.
fn split_while(s: &str, keep: impl Fn(u8) -> bool) -> (&str, &str) {
    let end = s.bytes().position(|c| !keep(c)).unwrap_or(s.len());
    s.split_at(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_like_apk_tools() {
        for ok in ["1.2", "0.1_pre2", "0.1_pre2~1234abcd", "0.1_p1_pre2", "0.1_git20240101_pre1", "2.3.0b-r1"] {
            assert!(parses(ok), "{ok}");
        }
        for bad in [
            "",
            "0.1bc",
            "0.1a1",
            "0.1a.1",
            "0.1_pre2~",
            "0.1_pre2~1234xbcd",
            "0.1_pre2~12ab_pre1",
            "0.1_foobar",
            "0.1-pre1",
            "0.1-r",
            "0.1-r2_pre1",
            "0.1-r2-r3",
            "0.1-r2.1",
            ".1",
            "a",
            "_pre1",
            "-r1",
            "0.1_",
            "0.1__alpha",
            "0.1_1_alpha",
            "1.0A",
        ] {
            assert!(!parses(bad), "{bad}");
        }
    }

    #[test]
    fn leading_zero_digits_compare_as_strings() {
        assert_eq!(compare("1.05", "1.1"), Some(Ordering::Less));
        assert_eq!(compare("1.010", "1.01"), Some(Ordering::Greater));
        assert_eq!(compare("01.1", "1.1"), Some(Ordering::Equal));
    }
}
