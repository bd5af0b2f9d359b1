//! Software bills of materials: SPDX 2.2/2.3 JSON ([`spdx`]) and CycloneDX 1.4–1.6 JSON
//! ([`cyclonedx`]) read into one [`Sbom`] view: packages, dependency relations with names
//! resolved, and a license breakdown.

pub(crate) mod cyclonedx;
pub(crate) mod spdx;

use std::collections::HashMap;

use serde_json::Value;

use crate::FormatError;
use crate::text;

/// An SBOM as the UI shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Sbom {
    /// The format and version, e.g. "SPDX 2.3", "CycloneDX 1.6".
    pub format: String,
    /// The document's name (SPDX `name`, CycloneDX `metadata.component.name`).
    pub name: Option<String>,
    /// When it was made, as the document writes it.
    pub created: Option<String>,
    /// The tools (and people) that made it.
    pub generators: Vec<String>,
    /// The packages, in document order (nested CycloneDX components depth-first; at most
    /// 100,000).
    pub packages: Vec<Package>,
    /// Relations between packages (at most 100,000).
    pub dependencies: Vec<Relation>,
    /// License → number of packages, most packages first; packages without a license count as
    /// "unknown".
    pub licenses: Vec<(String, u64)>,
    /// Whether packages or relations were dropped at a cap (count or nesting depth).
    pub truncated: bool,
    /// The envelope the SBOM came in, e.g. "in-toto statement in a DSSE envelope".
    pub wrapped_in: Option<String>,
}

/// One package (SPDX package, CycloneDX component).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Package {
    /// SPDX `SPDXID` or CycloneDX `bom-ref`; what relations point at.
    pub id: String,
    /// The name (CycloneDX `group/name` when it has a group).
    pub name: String,
    /// The version.
    pub version: Option<String>,
    /// CycloneDX `type`; SPDX `primaryPackagePurpose` (lowercase), else the purl type.
    pub kind: Option<String>,
    /// The license (SPDX concluded, else declared; CycloneDX expression or ids).
    pub license: Option<String>,
    /// Who supplies it, without SPDX's "Organization: " / "Person: " prefixes.
    pub supplier: Option<String>,
    /// The package URL.
    pub purl: Option<String>,
    /// The project's home page.
    pub homepage: Option<String>,
}

/// `from` relates to `to` (e.g. `DEPENDS_ON`, `CONTAINS`, `DESCRIBES`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Relation {
    /// The id of the element the relation starts from.
    pub from: String,
    /// The id of the element it points to.
    pub to: String,
    /// The relationship type, SPDX-style upper case (CycloneDX `dependsOn` is `DEPENDS_ON`).
    pub kind: String,
    /// The name of `from`, when it names a known package (or the SPDX document).
    pub from_name: Option<String>,
    /// The name of `to`, when it names a known package (or the SPDX document).
    pub to_name: Option<String>,
}

/// Reads an SBOM (SPDX or CycloneDX JSON) from bytes.
pub fn parse(bytes: &[u8]) -> Result<Sbom, FormatError> {
    let document: Value = serde_json::from_slice(bytes).map_err(|error| FormatError::NotJson(text::describe(error)))?;
    from_value(&document)
}

/// Reads an SBOM, SPDX or CycloneDX as the content says.
pub fn from_value(document: &Value) -> Result<Sbom, FormatError> {
    if spdx::is_spdx(document) {
        return spdx::read(document);
    }
    if cyclonedx::is_cyclonedx(document) {
        return cyclonedx::read(document);
    }
    Err(FormatError::Unrecognised("not an spdx or cyclonedx json document".into()))
}

/// The license breakdown: license → package count, most packages first, then by name.
pub(crate) fn license_breakdown(packages: &[Package]) -> Vec<(String, u64)> {
    let mut counts: HashMap<&str, u64> = HashMap::new();
    for package in packages {
        *counts.entry(package.license.as_deref().unwrap_or("unknown")).or_default() += 1;
    }
    let mut breakdown: Vec<(String, u64)> =
        counts.into_iter().map(|(license, count)| (license.to_owned(), count)).collect();
    breakdown.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    breakdown
}

/// Fills in `from_name` / `to_name` from the package names (and any `extra` names, such as the
/// SPDX document's own).
pub(crate) fn resolve_names(relations: &mut [Relation], packages: &[Package], extra: &[(String, String)]) {
    let mut names: HashMap<&str, &str> =
        packages.iter().map(|package| (package.id.as_str(), package.name.as_str())).collect();
    for (id, name) in extra {
        names.entry(id.as_str()).or_insert(name.as_str());
    }
    for relation in relations {
        relation.from_name = names.get(relation.from.as_str()).map(|name| (*name).to_owned());
        relation.to_name = names.get(relation.to.as_str()).map(|name| (*name).to_owned());
    }
}

/// A value that asserts something: `None` for SPDX's NOASSERTION / NONE and empty strings.
pub(crate) fn asserted(text: &str) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() || trimmed.eq_ignore_ascii_case("NOASSERTION") || trimmed.eq_ignore_ascii_case("NONE") {
        return None;
    }
    Some(text::clip(trimmed))
}

/// A supplier or creator without its SPDX "Organization: " / "Person: " / "Tool: " prefix;
/// `None` for NOASSERTION.
pub(crate) fn actor(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let stripped = ["Organization:", "Person:", "Tool:"]
        .iter()
        .find_map(|prefix| trimmed.strip_prefix(prefix))
        .unwrap_or(trimmed)
        .trim();
    if stripped.is_empty() || stripped.eq_ignore_ascii_case("NOASSERTION") {
        return None;
    }
    Some(text::clip(stripped))
}

/// The type of a package URL (`pkg:TYPE/…`).
pub(crate) fn purl_type(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:")?;
    let kind = rest.split('/').next()?.trim();
    (!kind.is_empty()).then(|| text::clip(&kind.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(id: &str, license: Option<&str>) -> Package {
        Package {
            id: id.into(),
            name: format!("name of {id}"),
            version: None,
            kind: None,
            license: license.map(Into::into),
            supplier: None,
            purl: None,
            homepage: None,
        }
    }

    #[test]
    fn licenses_are_counted_most_packages_first() {
        let packages = [
            package("a", Some("MIT")),
            package("b", None),
            package("c", Some("MIT")),
            package("d", Some("Apache-2.0")),
        ];
        assert_eq!(
            license_breakdown(&packages),
            [("MIT".to_owned(), 2), ("Apache-2.0".to_owned(), 1), ("unknown".to_owned(), 1)]
        );
    }

    #[test]
    fn actors_lose_their_prefix_and_noassertion() {
        assert_eq!(actor("Organization: Debian (x@y)").as_deref(), Some("Debian (x@y)"));
        assert_eq!(actor("Person: Kenneth Reitz").as_deref(), Some("Kenneth Reitz"));
        assert_eq!(actor("NOASSERTION"), None);
        assert_eq!(asserted("NONE"), None);
        assert_eq!(purl_type("pkg:deb/debian/zlib1g@1").as_deref(), Some("deb"));
        assert_eq!(purl_type("cpe:2.3"), None);
    }

    #[test]
    fn relation_names_resolve_from_packages_and_extras() {
        let packages = [package("a", None)];
        let mut relations =
            [Relation { from: "DOC".into(), to: "a".into(), kind: "DESCRIBES".into(), from_name: None, to_name: None }];
        resolve_names(&mut relations, &packages, &[("DOC".into(), "the document".into())]);
        assert_eq!(relations[0].from_name.as_deref(), Some("the document"));
        assert_eq!(relations[0].to_name.as_deref(), Some("name of a"));
    }
}
