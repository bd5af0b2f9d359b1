//! [`Scheme::Pep440`](crate::Scheme::Pep440): Python's version order, PEP 440
//! (<https://packaging.python.org/en/latest/specifications/version-specifiers/>), by the
//! `pep440_rs` crate (uv's implementation): epochs, pre/post/dev releases, local versions
//! (`1.0+local` > `1.0`) and the spec's normalisation (`v1.0`, `1.0-alpha1`, `1.0.post-1`).

use std::cmp::Ordering;
use std::str::FromStr;

use pep440_rs::Version;

pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    let a = Version::from_str(a).ok()?;
    let b = Version::from_str(b).ok()?;
    Some(a.cmp(&b))
}

pub(crate) fn parses(version: &str) -> bool {
    Version::from_str(version).is_ok()
}
