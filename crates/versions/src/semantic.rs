//! [`Scheme::Semver`](crate::Scheme::Semver): Semantic Versioning 2.0 precedence
//! (<https://semver.org/#spec-item-11>) read loosely, on top of the `semver` crate.
//!
//! A strict semver string is parsed by `semver::Version::parse`. Anything else is tried as
//! `[v]N(.N)*[(-PRE)|(.PRE)][+BUILD]`: one or more numeric release parts (leading zeros
//! allowed), then a pre-release after `-` or starting at the first dotted part that begins with
//! a letter (RubyGems' `1.0.0.rc1`), whose identifiers must still be valid semver ones (checked
//! by `semver::Prerelease::new`). Release parts compare by value with missing parts as zero, so
//! `1.2` = `1.2.0` and `1.2.3.4` > `1.2.3`; pre-releases compare by semver's rules (through
//! `semver::Prerelease`'s `Ord`) and sort before their release; build metadata is ignored, as
//! the spec says, so Go's `+incompatible` changes nothing.
//!
//! Not modelled: NuGet compares pre-release labels case-insensitively (here `1.0-Beta` <
//! `1.0-alpha`, as semver says), RubyGems splits `rc10` into `rc`, 10 (here `rc10` < `rc2`, as
//! semver says), and Composer's own ordering of `dev-*` branches (those do not parse).

use std::cmp::Ordering;

use semver::Prerelease;

/// What the order looks at.
struct Key {
    release: Vec<u64>,
    pre: Prerelease,
}

pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    Some(cmp_release(&a.release, &b.release).then_with(|| cmp_pre(&a.pre, &b.pre)))
}

pub(crate) fn parses(version: &str) -> bool {
    parse(version).is_some()
}

fn parse(version: &str) -> Option<Key> {
    let version = match version.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => version,
    };
    if let Ok(strict) = semver::Version::parse(version) {
        return Some(Key { release: vec![strict.major, strict.minor, strict.patch], pre: strict.pre });
    }
    parse_loose(version)
}

fn parse_loose(version: &str) -> Option<Key> {
    let (main, build) = match version.split_once('+') {
        Some((main, build)) => (main, Some(build)),
        None => (version, None),
    };
    if let Some(build) = build {
        let valid = |id: &str| !id.is_empty() && id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-');
        if !build.split('.').all(valid) {
            return None;
        }
    }
    let (core, dashed_pre) = match main.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (main, None),
    };
    let mut release = Vec::new();
    let mut dotted_pre = None;
    let mut offset = 0;
    for part in core.split('.') {
        if offset > 0 && part.starts_with(|c: char| c.is_ascii_alphabetic()) {
            // From this part on, the core is a RubyGems-style pre-release.
            dotted_pre = Some(&core[offset..]);
            break;
        }
        if part.is_empty() || !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        release.push(part.parse::<u64>().ok()?);
        offset += part.len() + 1;
    }
    let pre = match (dotted_pre, dashed_pre) {
        (Some(_), Some(_)) => return None,
        (Some(pre), None) | (None, Some(pre)) => Prerelease::new(pre).ok().filter(|p| !p.is_empty())?,
        (None, None) => Prerelease::EMPTY,
    };
    Some(Key { release, pre })
}

/// Part by part, a missing part counting as zero.
fn cmp_release(a: &[u64], b: &[u64]) -> Ordering {
    let len = a.len().max(b.len());
    let part = |parts: &[u64], i: usize| parts.get(i).copied().unwrap_or(0);
    (0..len).map(|i| part(a, i).cmp(&part(b, i))).find(|o| o.is_ne()).unwrap_or(Ordering::Equal)
}

/// A release (no pre-release) after any pre-release of it.
fn cmp_pre(a: &Prerelease, b: &Prerelease) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Greater,
        (false, true) => Ordering::Less,
        (false, false) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loose_forms_parse() {
        for ok in ["1", "1.2", "01.2.3", "1.2.3.4", "v1.2.3", "1.0.0.rc1", "1.0.0.pre.2", "1.x", "1.2.3.4-beta.1+x"] {
            assert!(parses(ok), "{ok}");
        }
        for bad in [
            "",
            "v",
            "1..2",
            "1.2.3-",
            "1.2.3-a..b",
            "1.2.3+",
            "x.1",
            "1.2a",
            "rc1",
            "1.0.rc1-beta",
            "99999999999999999999",
        ] {
            assert!(!parses(bad), "{bad}");
        }
    }

    #[test]
    fn dotted_pre_release_is_the_rest_of_the_core() {
        let key = parse("1.0.0.pre.2").unwrap();
        assert_eq!(key.release, [1, 0, 0]);
        assert_eq!(key.pre.as_str(), "pre.2");
    }
}
