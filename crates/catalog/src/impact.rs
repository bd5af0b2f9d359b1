//! What the impact search reads: the packages an SBOM lists and the findings a scan reports,
//! kept on the SBOM's or scan's own document (so every rewrite of it keeps them), indexed there
//! as terms, and joined to the artifacts they describe at query time (`pkg:`, `cve:`,
//! `license:`, `fixable:`, `version <`).

use serde::{Deserialize, Serialize};

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

/// The key a package is indexed under for version ranges: `name\0ecosystem\0version`
/// (lowercased name and ecosystem).
pub(crate) fn package_version_key(name: &str, ecosystem: Option<&str>, version: &str) -> String {
    format!("{}\u{0}{}\u{0}{version}", name.to_lowercase(), ecosystem.unwrap_or_default().to_ascii_lowercase())
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
    fn licence_expressions_split_into_ids() {
        assert_eq!(license_ids("MIT OR (Apache-2.0 WITH LLVM-exception)"), ["Apache-2.0", "LLVM-exception", "MIT"]);
        assert_eq!(license_ids("GPL-3.0-or-later and NOASSERTION"), ["GPL-3.0-or-later"]);
    }
}
