//! SPDX 2.2 and 2.3 JSON: `spdxVersion`, `name`, `creationInfo{created, creators[]}`,
//! `packages[]` (`SPDXID`, `name`, `versionInfo`, `primaryPackagePurpose`, `supplier`,
//! `licenseConcluded`/`licenseDeclared`, `homepage`, `externalRefs[]` with the purl under category
//! `PACKAGE-MANAGER` (spec text) or `PACKAGE_MANAGER` (2.3 JSON schema)), `relationships[]` and
//! the deprecated `documentDescribes[]` (read as `DESCRIBES` relations); `files[]` only name
//! the ends of relations.

use std::collections::HashSet;

use serde_json::Value;

use super::{Package, Relation, Sbom, actor, asserted, license_breakdown, purl_type, resolve_names};
use crate::FormatError;
use crate::text::{self, Bounded, MAX_ITEMS, MAX_SMALL_LIST, array_at, str_at, text_at, text_pointer};

/// Whether `document` looks like SPDX JSON.
pub(crate) fn is_spdx(document: &Value) -> bool {
    str_at(document, "spdxVersion").is_some()
}

/// Reads an SPDX JSON document; packages and relationships of the wrong shape are skipped.
pub(crate) fn read(document: &Value) -> Result<Sbom, FormatError> {
    let version = str_at(document, "spdxVersion")
        .ok_or_else(|| FormatError::Malformed("spdx document without a spdxVersion string".into()))?;
    let version = version.trim();
    let version = version.strip_prefix("SPDX-").unwrap_or(version);
    let document_id = text_at(document, "SPDXID").unwrap_or_else(|| "SPDXRef-DOCUMENT".into());
    let name = text_at(document, "name");

    let mut packages = Bounded::new(MAX_ITEMS);
    for entry in array_at(document, "packages") {
        let Some(package) = package(entry) else { continue };
        if !packages.push(package) {
            break;
        }
    }

    let mut relations = Bounded::new(MAX_ITEMS);
    let mut described = HashSet::new();
    for target in array_at(document, "documentDescribes").iter().filter_map(Value::as_str) {
        described.insert(target);
        if !relations.push(relation(&document_id, "DESCRIBES", target)) {
            break;
        }
    }
    for entry in array_at(document, "relationships") {
        let (Some(from), Some(kind), Some(to)) =
            (str_at(entry, "spdxElementId"), str_at(entry, "relationshipType"), str_at(entry, "relatedSpdxElement"))
        else {
            continue;
        };
        let duplicate = kind == "DESCRIBES" && from == document_id && described.contains(to);
        if !duplicate && !relations.push(relation(from, kind, to)) {
            break;
        }
    }
    let mut relations_list = relations.items;
    let files = array_at(document, "files")
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|file| Some((text_at(file, "SPDXID")?, text_at(file, "fileName")?)));
    let extra: Vec<(String, String)> =
        name.iter().map(|name| (document_id.clone(), name.clone())).chain(files).collect();
    resolve_names(&mut relations_list, &packages.items, &extra);

    Ok(Sbom {
        format: text::clip(&format!("SPDX {version}")),
        name,
        created: text_pointer(document, "/creationInfo/created"),
        generators: document
            .pointer("/creationInfo/creators")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(Value::as_str)
            .filter_map(actor)
            .take(MAX_SMALL_LIST)
            .collect(),
        licenses: license_breakdown(&packages.items),
        truncated: packages.truncated || relations.truncated,
        packages: packages.items,
        dependencies: relations_list,
        wrapped_in: None,
    })
}

fn relation(from: &str, kind: &str, to: &str) -> Relation {
    Relation { from: text::clip(from), to: text::clip(to), kind: text::clip(kind), from_name: None, to_name: None }
}

fn package(entry: &Value) -> Option<Package> {
    let id = text_at(entry, "SPDXID");
    let name = text_at(entry, "name");
    let (id, name) = match (id, name) {
        (Some(id), Some(name)) => (id, name),
        (Some(id), None) => (id.clone(), id),
        (None, Some(name)) => (name.clone(), name),
        (None, None) => return None,
    };
    let purl = array_at(entry, "externalRefs").iter().find_map(|reference| {
        let category = str_at(reference, "referenceCategory").unwrap_or_default();
        let is_package_manager =
            category.eq_ignore_ascii_case("PACKAGE-MANAGER") || category.eq_ignore_ascii_case("PACKAGE_MANAGER");
        (is_package_manager && str_at(reference, "referenceType") == Some("purl"))
            .then(|| text_at(reference, "referenceLocator"))
            .flatten()
    });
    let kind = str_at(entry, "primaryPackagePurpose")
        .and_then(text::non_empty)
        .map(|purpose| purpose.to_ascii_lowercase().replace('_', "-"))
        .or_else(|| purl.as_deref().and_then(purl_type));
    let license = ["licenseConcluded", "licenseDeclared"].iter().find_map(|key| asserted(str_at(entry, key)?));
    let supplier = ["supplier", "originator"].iter().find_map(|key| actor(str_at(entry, key)?));
    Some(Package {
        id,
        name,
        version: text_at(entry, "versionInfo"),
        kind,
        license,
        supplier,
        purl,
        homepage: str_at(entry, "homepage").and_then(asserted),
    })
}
