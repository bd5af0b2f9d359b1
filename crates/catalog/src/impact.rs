//! What the impact search reads: the packages an SBOM lists and the findings a scan reports
//! (indexed as terms of the document's facts document, `crate::facts`), joined to the
//! artifacts they describe at query time (`pkg:`, `cve:`, `license:`, `fixable:`,
//! `version <`). [`Predicate`] tells which facts of a document a query is about (what an impact
//! page shows as the evidence); `Catalog::describing` finds the documents that describe given
//! artifacts, with those facts.

use serde::{Deserialize, Serialize};

use crate::query::{Expr, Field, Op, parse_query};

/// Most packages kept of one SBOM, and findings of one scan.
pub const MAX_FACTS: usize = 20_000;

/// One package an SBOM lists. Short field names: an SBOM keeps hundreds of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFact {
    /// Its name.
    #[serde(rename = "n")]
    pub name: String,
    /// Its version, when the SBOM says.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Its ecosystem: the purl type (`deb`, `npm`, `pypi`, …), when known.
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    pub ecosystem: Option<String>,
    /// Its purl without version, qualifiers or subpath (`pkg:deb/debian/openssl`).
    #[serde(rename = "p", default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The licences it names (SPDX ids out of its expression).
    #[serde(rename = "l", default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
}

/// One finding of a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingFact {
    /// The advisory (`CVE-2024-3094`, `GHSA-…`).
    #[serde(rename = "i")]
    pub id: String,
    /// The affected package.
    #[serde(rename = "n")]
    pub package: String,
    /// The version installed.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    /// The version that fixes it, when there is one.
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// `critical`, `high`, `medium`, `low` or `unknown`.
    #[serde(rename = "s")]
    pub severity: String,
    /// Other ids of the same advisory (GHSA, distribution advisories).
    #[serde(rename = "a", default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

/// `pkg:type/namespace/name` of a purl: no version, qualifiers or subpath, lowercased (what a
/// `pkg:"pkg:…"` clause matches).
pub fn versionless_purl(purl: &str) -> Option<String> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let rest = rest.split(['#', '?']).next().unwrap_or(rest);
    let rest = match rest.rfind('@') {
        Some(at) => &rest[..at],
        None => rest,
    };
    (rest.contains('/')).then(|| format!("pkg:{}", rest.trim_end_matches('/').to_ascii_lowercase()))
}

/// The purl's type (`deb` of `pkg:deb/debian/openssl@3.0.11`), lowercased.
pub fn purl_type(purl: &str) -> Option<String> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let kind = rest.split('/').next()?;
    (!kind.is_empty() && kind.len() < 32).then(|| kind.to_ascii_lowercase())
}

/// The licence ids of an SPDX expression (`MIT OR (Apache-2.0 WITH LLVM-exception)` → `MIT`,
/// `Apache-2.0`, `LLVM-exception`), without the operators.
pub fn license_ids(expression: &str) -> Vec<String> {
    let mut ids: Vec<String> = expression
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter(|word| !word.is_empty())
        .filter(|word| !["AND", "OR", "WITH"].contains(&word.to_ascii_uppercase().as_str()))
        .filter(|word| !["NOASSERTION", "NONE"].contains(word))
        .map(str::to_owned)
        .collect();
    ids.sort();
    ids.dedup();
    ids
}

/// `value` against a lowercase `pattern` where `*` stands for any characters.
fn glob_matches(pattern: &str, value: &str) -> bool {
    let value = value.to_lowercase();
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = value.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    for (index, part) in parts.iter().enumerate() {
        if index + 1 == parts.len() {
            return rest.ends_with(part);
        }
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.is_empty()
}

/// Which facts of an SBOM or scan a query's impact clauses are about (its positive clauses;
/// what `NOT` leaves out is not evidence of anything).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Predicate {
    packages: Vec<String>,
    versions: Vec<(Op, String)>,
    licenses: Vec<String>,
    advisories: Vec<String>,
    fixable: Option<bool>,
}

impl Predicate {
    /// The predicate of `query` (none when it does not parse or holds no impact clause).
    pub fn of(query: &str) -> Predicate {
        let mut predicate = Predicate::default();
        if let Ok(expr) = parse_query(query) {
            predicate.collect(&expr);
        }
        predicate
    }

    fn collect(&mut self, expr: &Expr) {
        match expr {
            Expr::And(parts) | Expr::Or(parts) => parts.iter().for_each(|part| self.collect(part)),
            Expr::Clause { field, op, value, .. } => match field {
                Field::Package => self.packages.push(value.to_lowercase()),
                Field::Version => self.versions.push((*op, value.clone())),
                Field::License => self.licenses.push(value.to_lowercase()),
                Field::Advisory => self.advisories.push(value.to_lowercase()),
                Field::Fixable => self.fixable = Some(matches!(value.to_ascii_lowercase().as_str(), "true" | "yes")),
                _ => {}
            },
            Expr::Not(_) | Expr::Text(_) | Expr::Keys(_) => {}
        }
    }

    /// The package names, globs and purls it names (lowercased).
    pub(crate) fn package_names(&self) -> &[String] {
        &self.packages
    }

    /// The licence ids and globs it names (lowercased).
    pub(crate) fn licenses(&self) -> &[String] {
        &self.licenses
    }

    /// The advisory ids and globs it names (lowercased).
    pub(crate) fn advisories(&self) -> &[String] {
        &self.advisories
    }

    /// True when the query names packages (or licences): the evidence is packages.
    pub fn about_packages(&self) -> bool {
        !self.packages.is_empty() || !self.licenses.is_empty()
    }

    /// True when the query names advisories (or fixes): the evidence is findings.
    pub fn about_findings(&self) -> bool {
        !self.advisories.is_empty() || self.fixable.is_some()
    }

    /// True when `package` is one the query is about.
    pub fn matches_package(&self, package: &PackageFact) -> bool {
        let named = self.packages.is_empty()
            || self.packages.iter().any(|wanted| match wanted.strip_prefix("pkg:") {
                Some(_) => {
                    package.purl.as_deref().is_some_and(|purl| Some(purl.to_owned()) == versionless_purl(wanted))
                }
                None => glob_matches(wanted, &package.name),
            });
        let versioned = self.versions.iter().all(|(op, wanted)| {
            let Some(version) = &package.version else { return false };
            let scheme = ocicat_versions::Scheme::for_purl_type(package.ecosystem.as_deref().unwrap_or_default());
            op.holds(ocicat_versions::compare(scheme, version, wanted).ordering)
        });
        let licensed = self.licenses.is_empty()
            || self.licenses.iter().any(|wanted| package.licenses.iter().any(|id| glob_matches(wanted, id)));
        named && versioned && licensed
    }

    /// True when `finding` is one the query is about.
    pub fn matches_finding(&self, finding: &FindingFact) -> bool {
        let named = self.advisories.is_empty()
            || self
                .advisories
                .iter()
                .any(|wanted| std::iter::once(&finding.id).chain(&finding.aliases).any(|id| glob_matches(wanted, id)));
        named && self.fixable.is_none_or(|fixable| finding.fixed.is_some() == fixable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_lose_version_qualifiers_and_subpath() {
        assert_eq!(
            versionless_purl("pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12").as_deref(),
            Some("pkg:deb/debian/openssl")
        );
        assert_eq!(versionless_purl("pkg:npm/%40babel/core@7.0.0#lib").as_deref(), Some("pkg:npm/%40babel/core"));
        assert_eq!(
            versionless_purl("pkg:golang/github.com/Foo/bar@v1.2.3").as_deref(),
            Some("pkg:golang/github.com/foo/bar")
        );
        assert_eq!(versionless_purl("not a purl"), None);
        assert_eq!(purl_type("pkg:PyPI/requests@2.0").as_deref(), Some("pypi"));
    }

    #[test]
    fn predicates_pick_the_facts_a_query_is_about() {
        let openssl = PackageFact {
            name: "OpenSSL".into(),
            version: Some("3.0.11-1~deb12u2".into()),
            ecosystem: Some("deb".into()),
            purl: Some("pkg:deb/debian/openssl".into()),
            licenses: vec!["Apache-2.0".into()],
        };
        assert!(Predicate::of("pkg:openssl version < 3.0.13").matches_package(&openssl));
        assert!(!Predicate::of("pkg:openssl version < 3.0.11").matches_package(&openssl));
        assert!(Predicate::of("pkg:open* license:apache*").matches_package(&openssl));
        assert!(Predicate::of("pkg:\"pkg:deb/debian/openssl\"").matches_package(&openssl));
        assert!(!Predicate::of("pkg:zlib").matches_package(&openssl));
        let xz = FindingFact {
            id: "CVE-2024-3094".into(),
            package: "xz-utils".into(),
            installed: Some("5.6.0".into()),
            fixed: None,
            severity: "critical".into(),
            aliases: vec!["GHSA-rxwq-x6h5-x525".into()],
        };
        assert!(Predicate::of("cve:ghsa-rxwq-*").matches_finding(&xz), "an alias names it too");
        assert!(Predicate::of("cve:cve-2024-*").matches_finding(&xz));
        assert!(!Predicate::of("cve:CVE-2024-3094 fixable:true").matches_finding(&xz));
        assert!(Predicate::of("fixable:false").about_findings() && !Predicate::of("fixable:false").about_packages());
        assert!(glob_matches("a*c", "abc") && !glob_matches("a*c", "abd") && glob_matches("*", "x"));
    }

    #[test]
    fn licence_expressions_split_into_ids() {
        assert_eq!(license_ids("MIT OR (Apache-2.0 WITH LLVM-exception)"), ["Apache-2.0", "LLVM-exception", "MIT"]);
        assert_eq!(license_ids("GPL-3.0-or-later and NOASSERTION"), ["GPL-3.0-or-later"]);
    }
}
