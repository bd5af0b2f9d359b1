//! CycloneDX vulnerabilities (1.4+, as Trivy's `--format cyclonedx` and VEX documents write
//! them): `vulnerabilities[]{id, source, ratings[{severity, score}], description, advisories,
//! affects[{ref, versions[{version, status}]}]}`, with `affects[].ref` resolved through the BOM's
//! components (`bom-ref`) or, failing that, read as a package URL.

use std::collections::HashMap;

use serde_json::Value;

use super::{Finding, Report, Severity, severity_of};
use crate::sbom::cyclonedx::{self as bom, purl_name_version};
use crate::text::{self, Bounded, MAX_ITEMS, array_at, str_at, text_at, text_pointer};

/// The vulnerabilities of a CycloneDX BOM as a report; `None` when it has no `vulnerabilities`
/// array.
pub fn from_cyclonedx(document: &Value) -> Option<Report> {
    let vulnerabilities = document.get("vulnerabilities")?.as_array()?;
    let components = component_versions(document);
    let mut found = Bounded::new(MAX_ITEMS);
    'vulnerabilities: for vulnerability in vulnerabilities {
        if !vulnerability.is_object() {
            continue;
        }
        let affects = array_at(vulnerability, "affects");
        if affects.is_empty() {
            if !found.push(finding(vulnerability, None, &components)) {
                break;
            }
            continue;
        }
        for affected in affects {
            if !found.push(finding(vulnerability, Some(affected), &components)) {
                break 'vulnerabilities;
            }
        }
    }
    let spec_version = bom::spec_version(document).unwrap_or_else(|| "1.x".into());
    let mut report = Report::empty(text::clip(&format!("CycloneDX {spec_version} vulnerabilities")));
    let tool = bom::tools(document).into_iter().next();
    report.scanner = tool.as_ref().map(|(name, _)| name.clone());
    report.scanner_version = tool.and_then(|(_, version)| version);
    report.scanned_at = text_pointer(document, "/metadata/timestamp");
    report.artifact = text_pointer(document, "/metadata/component/name");
    report.findings = found.items;
    report.truncated = found.truncated;
    Some(report)
}

/// `bom-ref` → (name, version) of every component, nested ones included.
fn component_versions(document: &Value) -> HashMap<String, (String, Option<String>)> {
    let mut by_ref = HashMap::new();
    for component in bom::flatten(document).0 {
        if let Some(reference) = text_at(component, "bom-ref") {
            let name = text_at(component, "name").unwrap_or_else(|| reference.clone());
            by_ref.insert(reference, (name, text_at(component, "version")));
        }
    }
    by_ref
}

fn finding(
    vulnerability: &Value,
    affected: Option<&Value>,
    components: &HashMap<String, (String, Option<String>)>,
) -> Finding {
    let reference = affected.and_then(|affected| str_at(affected, "ref")).unwrap_or_default();
    let (package, mut installed) = match components.get(reference) {
        Some((name, version)) => (name.clone(), version.clone()),
        None => match purl_name_version(reference) {
            Some((name, version)) => (name, version),
            None => (text::non_empty(reference).unwrap_or_else(|| "—".into()), None),
        },
    };
    let versions = affected.map(|affected| array_at(affected, "versions")).unwrap_or_default();
    let version_with = |status: &str| {
        versions
            .iter()
            .find(|entry| str_at(entry, "status") == Some(status))
            .and_then(|entry| text_at(entry, "version"))
    };
    if installed.is_none() {
        installed = version_with("affected");
    }
    let ratings = array_at(vulnerability, "ratings");
    let severity = ratings
        .iter()
        .map(|rating| severity_of(str_at(rating, "severity"), rating.get("score").and_then(Value::as_f64)))
        .min()
        .unwrap_or(Severity::Unknown);
    let url = text_pointer(vulnerability, "/source/url")
        .or_else(|| array_at(vulnerability, "advisories").iter().find_map(|advisory| text_at(advisory, "url")));
    let title = text_at(vulnerability, "description").or_else(|| text_at(vulnerability, "detail"));
    Finding {
        id: text_at(vulnerability, "id").unwrap_or_else(|| "—".into()),
        package,
        installed,
        fixed: version_with("unaffected"),
        severity,
        title: title.and_then(|title| text::non_empty(title.lines().next().unwrap_or_default())),
        url,
        target: None,
        aliases: array_at(vulnerability, "references")
            .iter()
            .filter_map(|reference| text_at(reference, "id"))
            .take(32)
            .collect(),
    }
}
