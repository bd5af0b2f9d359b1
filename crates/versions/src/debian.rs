//! [`Scheme::Debian`](crate::Scheme::Debian): dpkg's version order
//! (<https://www.debian.org/doc/debian-policy/ch-controlfields.html#version>), by the
//! `debversion` crate: `[epoch:]upstream[-revision]`, compared epoch first (as a number), then
//! upstream and revision by dpkg's `verrevcmp` (non-digit runs by character, letters before
//! other symbols, `~` before everything including the end; digit runs by value). A missing
//! epoch is 0 and a missing revision equals `0`.
//!
//! Strings Debian Policy allows are parsed strictly; failing that, `debversion`'s lenient parse
//! also takes `_` (seen in real packages, and accepted by dpkg with a warning).

use std::cmp::Ordering;

use debversion::Version;

pub(crate) fn compare(a: &str, b: &str) -> Option<Ordering> {
    Some(parse(a)?.cmp(&parse(b)?))
}

pub(crate) fn parses(version: &str) -> bool {
    parse(version).is_some()
}

fn parse(version: &str) -> Option<Version> {
    version.parse::<Version>().or_else(|_| Version::parse_lenient(version)).ok()
}
