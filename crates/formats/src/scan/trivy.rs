//! Trivy's JSON report (SchemaVersion 2, aquasecurity/trivy `pkg/types/report.go`):
//! `Results[].Vulnerabilities[]` with `VulnerabilityID`, `PkgName`, `InstalledVersion`,
//! `FixedVersion`, `Severity`, `Title`, `PrimaryURL`; `ArtifactName`, `CreatedAt`, `Trivy.Version`.

use serde_json::Value;

use super::{Finding, Report, Severity};
use crate::text::{self, Bounded, MAX_ITEMS, array_at, text_at, text_pointer};

/// Whether `document` looks like a Trivy JSON report.
pub(super) fn is_trivy(document: &Value) -> bool {
    document.get("SchemaVersion").is_some()
        && (document.get("ArtifactName").is_some() || document.get("Results").is_some_and(Value::is_array))
}

/// Reads a Trivy JSON report; entries of the wrong shape are skipped.
pub(super) fn report(document: &Value) -> Report {
    let mut found = Bounded::new(MAX_ITEMS);
    'results: for result in array_at(document, "Results") {
        let target = text_at(result, "Target");
        for vulnerability in array_at(result, "Vulnerabilities") {
            if !vulnerability.is_object() {
                continue;
            }
            if !found.push(finding(vulnerability, target.as_ref())) {
                break 'results;
            }
        }
    }
    let mut report = Report::empty("Trivy JSON".into());
    report.scanner = Some("Trivy".into());
    report.scanner_version = text_pointer(document, "/Trivy/Version");
    report.scanned_at = text_at(document, "CreatedAt");
    report.artifact = text_at(document, "ArtifactName");
    report.findings = found.items;
    report.truncated = found.truncated;
    report
}

fn finding(vulnerability: &Value, target: Option<&String>) -> Finding {
    let title = text_at(vulnerability, "Title").or_else(|| {
        let description = vulnerability.get("Description").and_then(Value::as_str)?;
        text::non_empty(description.lines().next().unwrap_or_default())
    });
    Finding {
        id: text_at(vulnerability, "VulnerabilityID").unwrap_or_else(|| "—".into()),
        package: text_at(vulnerability, "PkgName")
            .or_else(|| text_at(vulnerability, "PkgID"))
            .unwrap_or_else(|| "—".into()),
        installed: text_at(vulnerability, "InstalledVersion"),
        fixed: text_at(vulnerability, "FixedVersion"),
        severity: Severity::parse(text::str_at(vulnerability, "Severity").unwrap_or_default()),
        title,
        url: text_at(vulnerability, "PrimaryURL"),
        target: target.cloned(),
        aliases: vulnerability
            .get("VendorIDs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|id| id.as_str().and_then(text::non_empty))
            .take(32)
            .collect(),
    }
}
