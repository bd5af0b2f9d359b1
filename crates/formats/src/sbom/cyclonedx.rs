//! CycloneDX 1.4–1.6 JSON: `bomFormat`, `specVersion`, `metadata{timestamp, component, tools}`
//! (tools as an array before 1.5, `{components, services}` since), `components[]` nested and
//! flattened depth-first (at most 32 levels deep), `licenses[]` as `{license:{id|name}}` or
//! `{expression}`, `supplier.name`, `externalReferences[]` (`website` is the home page), and
//! `dependencies[{ref, dependsOn[], provides[]}]`.

use serde_json::Value;

use super::{Package, Relation, Sbom, license_breakdown, purl_type, resolve_names};
use crate::FormatError;
use crate::text::{self, Bounded, MAX_ITEMS, MAX_SMALL_LIST, array_at, scalar, str_at, text_at, text_pointer};

/// Deepest level of nested `components` read; deeper ones are dropped and flagged.
pub(crate) const MAX_NESTING: usize = 32;

/// Whether `document` looks like CycloneDX JSON.
pub(crate) fn is_cyclonedx(document: &Value) -> bool {
    str_at(document, "bomFormat").is_some_and(|format| format.eq_ignore_ascii_case("CycloneDX"))
        || str_at(document, "$schema").is_some_and(|schema| schema.to_ascii_lowercase().contains("cyclonedx"))
}

/// `specVersion` (a string, or a number in some hand-written BOMs).
pub(crate) fn spec_version(document: &Value) -> Option<String> {
    document.get("specVersion").and_then(scalar)
}

/// Reads a CycloneDX JSON BOM; components and dependencies of the wrong shape are skipped.
pub(crate) fn read(document: &Value) -> Result<Sbom, FormatError> {
    if !document.is_object() {
        return Err(FormatError::Malformed("cyclonedx bom is not a json object".into()));
    }
    let spec_version = spec_version(document).unwrap_or_else(|| "1.x".into());
    let (components, mut truncated) = flatten(document);
    let packages: Vec<Package> = components.into_iter().map(package).collect();

    let mut relations = Bounded::new(MAX_ITEMS);
    'dependencies: for dependency in array_at(document, "dependencies") {
        let Some(from) = text_at(dependency, "ref") else { continue };
        for (key, kind) in [("dependsOn", "DEPENDS_ON"), ("provides", "PROVIDES")] {
            for to in array_at(dependency, key).iter().filter_map(|to| text::non_empty(to.as_str()?)) {
                let relation = Relation { from: from.clone(), to, kind: kind.into(), from_name: None, to_name: None };
                if !relations.push(relation) {
                    break 'dependencies;
                }
            }
        }
    }
    truncated |= relations.truncated;
    let mut dependencies = relations.items;
    let subject = document.pointer("/metadata/component").unwrap_or(&Value::Null);
    let extra: Vec<(String, String)> = match (text_at(subject, "bom-ref"), text_at(subject, "name")) {
        (Some(reference), Some(name)) => vec![(reference, name)],
        _ => Vec::new(),
    };
    resolve_names(&mut dependencies, &packages, &extra);

    Ok(Sbom {
        format: text::clip(&format!("CycloneDX {spec_version}")),
        name: text_at(subject, "name"),
        created: text_pointer(document, "/metadata/timestamp"),
        generators: tools(document)
            .into_iter()
            .map(|(name, version)| match version {
                Some(version) => text::clip(&format!("{name} {version}")),
                None => name,
            })
            .collect(),
        licenses: license_breakdown(&packages),
        packages,
        dependencies,
        truncated,
        wrapped_in: None,
    })
}

/// Every component, nested ones depth-first after their parent, with whether some were dropped
/// (past [`MAX_ITEMS`] or nested deeper than [`MAX_NESTING`]).
pub(crate) fn flatten(document: &Value) -> (Vec<&Value>, bool) {
    let mut flat = Bounded::new(MAX_ITEMS);
    let mut too_deep = false;
    let mut stack: Vec<(std::slice::Iter<'_, Value>, usize)> = vec![(array_at(document, "components").iter(), 1)];
    while let Some((siblings, depth)) = stack.last_mut() {
        let depth = *depth;
        let Some(component) = siblings.next() else {
            stack.pop();
            continue;
        };
        if !component.is_object() {
            continue;
        }
        if !flat.push(component) {
            break;
        }
        let children = array_at(component, "components");
        if !children.is_empty() {
            if depth >= MAX_NESTING {
                too_deep = true;
            } else {
                stack.push((children.iter(), depth + 1));
            }
        }
    }
    (flat.items, flat.truncated || too_deep)
}

fn package(component: &Value) -> Package {
    let name = text_at(component, "name");
    let name = match (text_at(component, "group"), name) {
        (Some(group), Some(name)) => text::clip(&format!("{group}/{name}")),
        (None, Some(name)) => name,
        (_, None) => "—".into(),
    };
    let purl = text_at(component, "purl");
    let id = text_at(component, "bom-ref").or_else(|| purl.clone()).unwrap_or_else(|| name.clone());
    let homepage = array_at(component, "externalReferences")
        .iter()
        .find(|reference| str_at(reference, "type") == Some("website"))
        .and_then(|reference| text_at(reference, "url"));
    Package {
        id,
        name,
        version: text_at(component, "version"),
        kind: text_at(component, "type").or_else(|| purl.as_deref().and_then(purl_type)),
        license: license(component),
        supplier: text_pointer(component, "/supplier/name").or_else(|| text_at(component, "publisher")),
        purl,
        homepage,
    }
}

/// The license of a component: its expression(s) as given, else its SPDX ids, else its license
/// names (generators such as cyclonedx-py restate an id as a classifier name), several joined
/// with " AND ".
fn license(component: &Value) -> Option<String> {
    let (mut expressions, mut ids, mut names) = (Vec::new(), Vec::new(), Vec::new());
    for entry in array_at(component, "licenses") {
        if let Some(expression) = text_at(entry, "expression") {
            expressions.push(expression);
        } else if let Some(license) = entry.get("license") {
            if let Some(id) = text_at(license, "id") {
                ids.push(id);
            } else if let Some(name) = text_at(license, "name") {
                names.push(name);
            }
        }
    }
    let mut chosen = [expressions, ids, names].into_iter().find(|list| !list.is_empty())?;
    let mut seen = std::collections::HashSet::new();
    chosen.retain(|license| seen.insert(license.clone()));
    Some(text::clip(&chosen.join(" AND ")))
}

/// The tools that made the BOM as (name, version): `metadata.tools` as an array of
/// `{vendor, name, version}` (1.4) or as `{components, services}` (1.5+).
pub(crate) fn tools(document: &Value) -> Vec<(String, Option<String>)> {
    let Some(tools) = document.pointer("/metadata/tools") else { return Vec::new() };
    let listed: Vec<&Value> = match tools {
        Value::Array(tools) => tools.iter().collect(),
        Value::Object(_) => array_at(tools, "components").iter().chain(array_at(tools, "services")).collect(),
        _ => Vec::new(),
    };
    listed
        .into_iter()
        .filter_map(|tool| {
            let name = text_at(tool, "name")?;
            let owner = text_at(tool, "group")
                .or_else(|| text_at(tool, "vendor"))
                .or_else(|| text_pointer(tool, "/provider/name"));
            let name = match owner {
                Some(owner) => text::clip(&format!("{owner}/{name}")),
                None => name,
            };
            Some((name, text_at(tool, "version")))
        })
        .take(MAX_SMALL_LIST)
        .collect()
}

/// The name and version of a package URL (`pkg:type/namespace/name@version?qualifiers#subpath`),
/// percent-escapes left as they are.
pub(crate) fn purl_name_version(purl: &str) -> Option<(String, Option<String>)> {
    let rest = purl.trim().strip_prefix("pkg:")?;
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (path, version) = match rest.rsplit_once('@') {
        Some((path, version)) => (path, text::non_empty(version)),
        None => (rest, None),
    };
    let name = path.rsplit('/').next().filter(|name| !name.is_empty() && path.contains('/'))?;
    Some((text::clip(name), version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_give_name_and_version() {
        assert_eq!(
            purl_name_version("pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64"),
            Some(("zlib1g".into(), Some("1:1.2.13.dfsg-1".into())))
        );
        assert_eq!(purl_name_version("pkg:npm/%40scope/name"), Some(("name".into(), None)));
        assert_eq!(purl_name_version("pkg:nope"), None);
        assert_eq!(purl_name_version("not a purl"), None);
    }
}
