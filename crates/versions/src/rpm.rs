//! [`Scheme::Rpm`](crate::Scheme::Rpm): RPM's version order, as librpm's `rpmverCmp`
//! (rpmio/rpmver.c) has it: `[epoch:]version[-release]` split like its `parseEVR` (the epoch is
//! the leading digits before `:`, the release follows the last `-`), then the epochs (missing is
//! 0), the versions and the releases (a missing release before any release, so `1.0 < 1.0-1`),
//! each by `rpmvercmp` (rpmio/rpmvercmp.c) as the `rpm-version` crate implements it:
//! alphanumeric segments, other characters only separating them, `~` before everything (even
//! the end), `^` after its base but before anything longer, numeric segments by value and newer
//! than alphabetic ones.
//!
//! A version parses when its version and release (if there is a `-`) are non-empty and made of
//! the characters `rpmbuild` allows there: ASCII letters and digits and `._+~^`.

use std::cmp::Ordering;

use rpm_version::Evr;

/// `epoch`, `version`, `release` of an EVR string.
struct Parts<'a> {
    epoch: &'a str,
    version: &'a str,
    release: Option<&'a str>,
}

pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    let (a, b) = (parse(a)?, parse(b)?);
    let ordering = Evr::new(a.epoch, a.version, "").cmp(&Evr::new(b.epoch, b.version, ""));
    Some(ordering.then_with(|| match (a.release, b.release) {
        (Some(ra), Some(rb)) => vercmp(ra, rb),
        (ra, rb) => ra.is_some().cmp(&rb.is_some()),
    }))
}

/// `rpmvercmp` of two strings, through `rpm-version` (which only exposes it on whole EVRs).
fn vercmp(a: &str, b: &str) -> Ordering {
    Evr::new("0", a, "").cmp(&Evr::new("0", b, ""))
}

pub(crate) fn parses(version: &str) -> bool {
    parse(version).is_some()
}

fn parse(evr: &str) -> Option<Parts<'_>> {
    let digits = evr.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = match evr[digits..].strip_prefix(':') {
        Some(rest) if digits > 0 => (&evr[..digits], rest),
        Some(rest) => ("0", rest),
        None => ("0", evr),
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((version, release)) => (version, Some(release)),
        None => (rest, None),
    };
    let valid = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_alphanumeric() || b"._+~^".contains(&c));
    (valid(version) && release.is_none_or(valid)).then_some(Parts { epoch, version, release })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_parse_evr() {
        let parts = parse("2:1.0.1-3.el9_2").unwrap();
        assert_eq!((parts.epoch, parts.version, parts.release), ("2", "1.0.1", Some("3.el9_2")));
        let parts = parse(":1.0").unwrap();
        assert_eq!((parts.epoch, parts.version, parts.release), ("0", "1.0", None));
        for bad in ["", "-1", "1.0-", "1-2-3", "a:1.0", "1.0 beta", "1:2:3", "1.0%{dist}"] {
            assert!(parse(bad).is_none(), "{bad}");
        }
    }
}
