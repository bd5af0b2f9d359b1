//! Vulnerability scan reports: Trivy JSON (SchemaVersion 2), SARIF 2.1.0 (Trivy's and other
//! scanners'), CycloneDX vulnerabilities, and cosign vulnerability attestations (an in-toto
//! statement, bare or in a DSSE envelope, whose predicate carries the scanner's report). Each is
//! read into one [`Report`] of [`Finding`]s; [`findings`] counts them by severity.

mod cosign;
mod cyclonedx;
mod sarif;
mod trivy;

use serde_json::Value;

use crate::FormatError;
use crate::{intoto, text};

pub use cyclonedx::from_cyclonedx;

/// The predicate type of `cosign attest --type vuln`.
pub const COSIGN_VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

/// A scan report as the UI shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The format read, e.g. "Trivy JSON", "SARIF 2.1.0",
    /// "cosign vulnerability attestation (Trivy JSON)".
    pub format: String,
    /// The scanner's name (SARIF `tool.driver.name`, "Trivy", the attestation's scanner URI).
    pub scanner: Option<String>,
    /// The scanner's version.
    pub scanner_version: Option<String>,
    /// The vulnerability database used, when the report says (cosign attestations do).
    pub database: Option<String>,
    /// When the scan ran, as the report writes it.
    pub scanned_at: Option<String>,
    /// What was scanned (an image reference, a path).
    pub artifact: Option<String>,
    /// The findings, in document order (at most 100,000).
    pub findings: Vec<Finding>,
    /// Whether findings were dropped at the cap.
    pub truncated: bool,
    /// The envelope the report came in, e.g. "in-toto statement in a DSSE envelope".
    pub wrapped_in: Option<String>,
}

/// One vulnerability in one package.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The advisory, e.g. `CVE-2023-45853`.
    pub id: String,
    /// The affected package ("—" when the report names none).
    pub package: String,
    /// The installed version.
    pub installed: Option<String>,
    /// The version that fixes it, when there is one.
    pub fixed: Option<String>,
    /// How bad it is.
    pub severity: Severity,
    /// A one-line title.
    pub title: Option<String>,
    /// Where to read more.
    pub url: Option<String>,
    /// Where in the artifact (Trivy's target, a SARIF location).
    pub target: Option<String>,
    /// Other ids of the same advisory (GHSA, distribution advisories), as the report lists
    /// them: Trivy's `VendorIDs`, CycloneDX `references` (at most 32).
    pub aliases: Vec<String>,
}

/// A finding's severity, most severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Critical.
    Critical,
    /// High.
    High,
    /// Medium.
    Medium,
    /// Low.
    Low,
    /// No usable rating.
    Unknown,
}

impl Severity {
    /// Reads a severity name as scanners write them, in any case: CRITICAL, HIGH (important),
    /// MEDIUM (moderate), LOW (negligible, minor, info); anything else is unknown.
    pub fn parse(name: &str) -> Severity {
        match name.trim().to_ascii_lowercase().as_str() {
            "critical" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "minor" | "info" | "informational" => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    /// The band of a CVSS score: ≥9 critical, ≥7 high, ≥4 medium, >0 low.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if !s.is_finite() => Severity::Unknown,
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// Findings counted by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Findings {
    /// Critical.
    pub critical: u64,
    /// High.
    pub high: u64,
    /// Medium.
    pub medium: u64,
    /// Low.
    pub low: u64,
    /// No usable rating (Trivy's `UNKNOWN`, SARIF without one).
    pub unknown: u64,
}

impl Findings {
    fn add(&mut self, severity: Severity) {
        let count = match severity {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Unknown => &mut self.unknown,
        };
        *count += 1;
    }

    /// Every finding.
    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}

impl Report {
    /// The findings counted by severity.
    pub fn counts(&self) -> Findings {
        let mut counts = Findings::default();
        for finding in &self.findings {
            counts.add(finding.severity);
        }
        counts
    }

    /// An empty report of `format`.
    pub(crate) fn empty(format: String) -> Report {
        Report {
            format,
            scanner: None,
            scanner_version: None,
            database: None,
            scanned_at: None,
            artifact: None,
            findings: Vec::new(),
            truncated: false,
            wrapped_in: None,
        }
    }
}

/// Counts the findings of a scan report in any of the supported formats (told apart by content;
/// the registry's media type is not trusted).
pub fn findings(bytes: &[u8]) -> Result<Findings, FormatError> {
    Ok(parse(bytes)?.counts())
}

/// Reads a scan report in any of the supported formats from JSON bytes.
pub fn parse(bytes: &[u8]) -> Result<Report, FormatError> {
    let document: Value = serde_json::from_slice(bytes).map_err(|error| FormatError::NotJson(text::describe(error)))?;
    from_value(&document)
}

/// Reads a scan report: Trivy JSON, SARIF, a CycloneDX BOM with vulnerabilities, or a cosign
/// vulnerability attestation (bare statement or DSSE envelope).
pub fn from_value(document: &Value) -> Result<Report, FormatError> {
    if let Some(unwrapped) = intoto::unwrap(document)? {
        let predicate_type = unwrapped.predicate_type();
        if predicate_type != COSIGN_VULN_PREDICATE {
            return Err(FormatError::Unrecognised(format!(
                "an in-toto statement of type {} is not a scan report",
                text::clip(predicate_type)
            )));
        }
        return from_statement(&unwrapped);
    }
    direct(document).unwrap_or_else(|| {
        Err(FormatError::Unrecognised("not a trivy report, sarif log or vulnerability attestation".into()))
    })
}

/// The report in a cosign vulnerability attestation.
pub(crate) fn from_statement(unwrapped: &intoto::Unwrapped<'_>) -> Result<Report, FormatError> {
    cosign::report(unwrapped)
}

/// A report that is not wrapped in an attestation; `None` when `document` is no report at all.
pub(crate) fn direct(document: &Value) -> Option<Result<Report, FormatError>> {
    if trivy::is_trivy(document) {
        return Some(Ok(trivy::report(document)));
    }
    if sarif::is_sarif(document) {
        return Some(Ok(sarif::report(document)));
    }
    if document.get("vulnerabilities").is_some_and(Value::is_array) {
        return from_cyclonedx(document).map(Ok);
    }
    None
}

/// The severity of a finding from a rating list's first usable `severity`, else its `score`.
pub(crate) fn severity_of(severity: Option<&str>, score: Option<f64>) -> Severity {
    let named = severity.map(Severity::parse).filter(|severity| *severity != Severity::Unknown);
    named.or_else(|| score.map(Severity::from_score)).unwrap_or(Severity::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    #[test]
    fn trivy_findings_are_counted_by_severity() {
        let report = json!({"SchemaVersion": 2, "ArtifactName": "x", "Results": [
            {"Target": "os", "Vulnerabilities": [{"Severity": "CRITICAL"}, {"Severity": "HIGH"}, {"Severity": "HIGH"}]},
            {"Target": "python", "Vulnerabilities": [{"Severity": "LOW"}, {"Severity": "UNKNOWN"}, {}]},
            {"Target": "clean"}
        ]});
        let found = findings(report.to_string().as_bytes()).unwrap();
        assert_eq!(found, Findings { critical: 1, high: 2, medium: 0, low: 1, unknown: 2 });
    }

    #[test]
    fn sarif_results_take_the_rule_tag_then_the_score_then_the_level() {
        let log = json!({"version": "2.1.0", "runs": [{
            "tool": {"driver": {"rules": [
                {"id": "A", "properties": {"tags": ["vulnerability", "CRITICAL"], "security-severity": "5.0"}},
                {"id": "B", "properties": {"security-severity": "7.5"}},
                {"id": "C"}
            ]}},
            "results": [{"ruleId": "A"}, {"ruleId": "B"}, {"ruleId": "C", "level": "note"}, {"ruleIndex": 1}, {"ruleId": "missing"}]
        }]});
        let found = findings(log.to_string().as_bytes()).unwrap();
        assert_eq!(found, Findings { critical: 1, high: 2, medium: 1, low: 1, unknown: 0 });
    }

    #[test]
    fn a_cosign_vulnerability_attestation_in_dsse_is_unwrapped_to_its_report() {
        let statement = json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": COSIGN_VULN_PREDICATE,
            "predicate": {"scanner": {"uri": "pkg:github/aquasecurity/trivy", "result":
                {"SchemaVersion": 2, "ArtifactName": "x", "Results": [{"Vulnerabilities": [{"Severity": "MEDIUM"}]}]}}}});
        let payload = base64::engine::general_purpose::STANDARD.encode(statement.to_string());
        let envelope = json!({"payloadType": "application/vnd.in-toto+json", "payload": payload, "signatures": []});
        let found = findings(envelope.to_string().as_bytes()).unwrap();
        assert_eq!(found.medium, 1);
        assert_eq!(found.total(), 1);
    }

    #[test]
    fn other_documents_are_clear_errors_not_zero_findings() {
        assert!(matches!(findings(b"<html>"), Err(FormatError::NotJson(_))));
        assert!(matches!(findings(br#"{"spdxVersion": "SPDX-2.3"}"#), Err(FormatError::Unrecognised(_))));
        let deep = "[".repeat(10_000);
        assert!(matches!(findings(deep.as_bytes()), Err(FormatError::NotJson(_))));
        let provenance = json!({"payloadType": "x", "payload": base64::engine::general_purpose::STANDARD.encode(r#"{"predicateType":"https://slsa.dev/provenance/v0.2"}"#)});
        assert!(matches!(findings(provenance.to_string().as_bytes()), Err(FormatError::Unrecognised(_))));
    }

    #[test]
    fn severities_parse_order_and_serialize_lowercase() {
        assert_eq!(Severity::parse("CRITICAL"), Severity::Critical);
        assert_eq!(Severity::parse("Moderate"), Severity::Medium);
        assert_eq!(Severity::parse("whatever"), Severity::Unknown);
        assert_eq!(Severity::from_score(9.8), Severity::Critical);
        assert_eq!(Severity::from_score(7.0), Severity::High);
        assert_eq!(Severity::from_score(4.0), Severity::Medium);
        assert_eq!(Severity::from_score(0.1), Severity::Low);
        assert_eq!(Severity::from_score(0.0), Severity::Unknown);
        assert_eq!(Severity::from_score(f64::NAN), Severity::Unknown);
        let mut severities = vec![Severity::Unknown, Severity::Low, Severity::Critical, Severity::High];
        severities.sort();
        assert_eq!(severities, [Severity::Critical, Severity::High, Severity::Low, Severity::Unknown]);
        assert_eq!(serde_json::to_string(&Severity::High).unwrap(), "\"high\"");
        assert_eq!(Severity::Critical.to_string(), "critical");
    }
}
