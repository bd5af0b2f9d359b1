//! Orders package versions the way their ecosystem does, for queries such as
//! `pkg:openssl version < 3.0.13` over packages read from SBOMs and scan reports.
//!
//! A [`Scheme`] names one ordering: [`Scheme::for_purl_type`] picks it from a package URL's type
//! and [`Scheme::for_ecosystem`] from the names scanners use (Trivy's `Class`/`Type`, OSV's
//! ecosystems). [`compare`] orders two versions under a scheme; when either side does not parse
//! under it, both are compared as text in a natural order (digit runs by value, so `1.10` >
//! `1.9`) and [`Comparison::exact`] says so.
//!
//! Every function is total: no input panics, and [`compare`] is antisymmetric for every scheme
//! (`compare(s, a, b).ordering == compare(s, b, a).ordering.reverse()`). Surrounding whitespace
//! is ignored; inputs longer than [`MAX_VERSION_LEN`] bytes are never parsed (real versions are
//! far shorter, and the cap bounds the work and the nesting of the Maven item tree).

mod apk;
mod debian;
mod maven;
mod python;
mod rpm;
mod scheme;
mod semantic;
mod text;

use std::cmp::Ordering;

pub use scheme::Scheme;

/// Longest version, in bytes after trimming whitespace, that is parsed under a scheme; longer
/// ones always compare as text.
pub const MAX_VERSION_LEN: usize = 512;

/// The outcome of [`compare`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Comparison {
    /// How the first version stands against the second.
    pub ordering: Ordering,
    /// True when both sides parsed under the scheme and were ordered by its rules; false when
    /// the order is the natural text order (either side did not parse, or the scheme is
    /// [`Scheme::Text`]), which callers should present as a guess.
    pub exact: bool,
}

/// Orders `a` against `b` under `scheme`, falling back to the natural text order (with
/// [`Comparison::exact`] false) when either does not parse under it.
///
/// Versions the scheme holds equal give [`Ordering::Equal`] even when their text differs
/// (`1.0` and `1.0.0` under semver or Maven, `1.0` and `0:1.0-0` under Debian). The text order
/// only calls two strings equal when they are the same after trimming.
///
/// Within one scheme the order is total over versions that parse, and the text order is total
/// over any strings, but a mix of both is not: `a < b` by the scheme and `b < c`, `c < a` by text
/// can all hold. It is meant for testing versions against a bound; to sort a list that may hold
/// unparsable versions, partition it by [`parses`] first (`sort_by` may panic on an inconsistent
/// order).
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Comparison {
    let (a, b) = (a.trim(), b.trim());
    let ordered = if a.len() > MAX_VERSION_LEN || b.len() > MAX_VERSION_LEN {
        None
    } else {
        match scheme {
            Scheme::Semver => semantic::compare(a, b),
            Scheme::Pep440 => python::compare(a, b),
            Scheme::Debian => debian::compare(a, b),
            Scheme::Rpm => rpm::compare(a, b),
            Scheme::Apk => apk::compare(a, b),
            Scheme::Maven => maven::compare(a, b),
            Scheme::Text => None,
        }
    };
    match ordered {
        Some(ordering) => Comparison { ordering, exact: true },
        None => Comparison { ordering: text::compare(a, b), exact: false },
    }
}

/// Whether `version` parses under `scheme`, i.e. whether a [`compare`] against another version
/// that parses would be exact. Always false for [`Scheme::Text`], which has no grammar.
pub fn parses(scheme: Scheme, version: &str) -> bool {
    let version = version.trim();
    if version.len() > MAX_VERSION_LEN {
        return false;
    }
    match scheme {
        Scheme::Semver => semantic::parses(version),
        Scheme::Pep440 => python::parses(version),
        Scheme::Debian => debian::parses(version),
        Scheme::Rpm => rpm::parses(version),
        Scheme::Apk => apk::parses(version),
        Scheme::Maven => maven::parses(version),
        Scheme::Text => false,
    }
}
