//! An SBOM for its viewer: packages filtered, sorted and paged here, so a 100,000-package SBOM
//! never rides in the HTML, and the license breakdown.

use std::collections::BTreeMap;

use ocicat_formats::sbom::Sbom;

use crate::model::{ContentQuery, LicenseShare, PackageRow, SbomView, is_http_link};
use crate::viewer::page_of;

/// Licenses shown by name in the breakdown; the rest are summed as "other".
const LICENSES_SHOWN: usize = 8;

/// Filters, sorts and pages an SBOM's packages.
pub(crate) fn sbom_view(sbom: &Sbom, query: &ContentQuery) -> SbomView {
    let names: BTreeMap<&str, &str> =
        sbom.packages.iter().map(|package| (package.id.as_str(), package.name.as_str())).collect();
    let mut depends: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for relation in &sbom.dependencies {
        let target = names.get(relation.to.as_str()).copied().unwrap_or(relation.to.as_str());
        depends.entry(relation.from.as_str()).or_default().push(target.to_owned());
    }
    let needle = query.q.trim().to_lowercase();
    let mut matching: Vec<_> = sbom
        .packages
        .iter()
        .filter(|package| {
            needle.is_empty()
                || [Some(&package.name), package.purl.as_ref(), package.license.as_ref(), package.supplier.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|field| field.to_lowercase().contains(&needle))
        })
        .collect();
    let key = |package: &&ocicat_formats::sbom::Package| -> (String, String) {
        let field = match query.sort.as_str() {
            "version" => package.version.clone(),
            "type" => package.kind.clone(),
            "license" => package.license.clone(),
            "supplier" => package.supplier.clone(),
            _ => None,
        };
        // Rows without the sort field go last: "\u{10FFFF}" sorts after any text.
        (field.map(|text| text.to_lowercase()).unwrap_or_else(|| "\u{10FFFF}".into()), package.name.to_lowercase())
    };
    matching.sort_by_cached_key(key);
    let (page, pages, rows) = page_of(&matching, query.page);
    let packages = rows
        .iter()
        .map(|package| PackageRow {
            name: package.name.clone(),
            version: package.version.clone(),
            kind: package.kind.clone(),
            license: package.license.clone(),
            supplier: package.supplier.clone(),
            purl: package.purl.clone(),
            homepage: package.homepage.clone().filter(|link| is_http_link(link)),
            depends_on: depends
                .get(package.id.as_str())
                .map(|list| list.iter().take(8).cloned().collect())
                .unwrap_or_default(),
        })
        .collect();
    SbomView {
        format: sbom.format.clone(),
        name: sbom.name.clone(),
        created: sbom.created.clone(),
        generators: sbom.generators.clone(),
        wrapped_in: sbom.wrapped_in.clone(),
        package_total: sbom.packages.len(),
        licenses: license_shares(&sbom.licenses, sbom.packages.len()),
        matching: matching.len(),
        packages,
        page,
        pages,
        relation_total: sbom.dependencies.len(),
        truncated: sbom.truncated,
    }
}

fn license_shares(licenses: &[(String, u64)], total: usize) -> Vec<LicenseShare> {
    let total = total.max(1) as f64;
    let share = |license: String, count: u64| LicenseShare {
        percent: ((count as f64 * 100.0 / total).round() as u64).min(100) as u8,
        license,
        count,
    };
    let mut shares: Vec<LicenseShare> =
        licenses.iter().take(LICENSES_SHOWN).map(|(license, count)| share(license.clone(), *count)).collect();
    let rest: u64 = licenses.iter().skip(LICENSES_SHOWN).map(|(_, count)| count).sum();
    if rest > 0 {
        shares.push(share("other".into(), rest));
    }
    shares
}
