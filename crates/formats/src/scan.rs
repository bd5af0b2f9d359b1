//! Vulnerability findings by severity from scan reports: Trivy JSON (SchemaVersion 2), SARIF
//! 2.1.0 (Trivy's and other scanners'), and cosign vulnerability attestations (an in-toto
//! statement, bare or in a DSSE envelope, whose predicate carries the scanner's report).

use base64::Engine as _;
use serde_json::Value;

use crate::FormatError;

/// The predicate type of `cosign attest --type vuln`.
pub const COSIGN_VULN_PREDICATE: &str = "https://cosign.sigstore.dev/attestation/vuln/v1";

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
    fn add(&mut self, severity: &str) {
        match severity.to_ascii_uppercase().as_str() {
            "CRITICAL" => self.critical += 1,
            "HIGH" | "ERROR" => self.high += 1,
            "MEDIUM" | "MODERATE" | "WARNING" => self.medium += 1,
            "LOW" | "NEGLIGIBLE" | "NOTE" => self.low += 1,
            _ => self.unknown += 1,
        }
    }

    /// Every finding.
    pub fn total(&self) -> u64 {
        self.critical + self.high + self.medium + self.low + self.unknown
    }
}

/// Counts the findings of a scan report in any of the supported formats (told apart by content;
/// the registry's media type is not trusted).
pub fn findings(bytes: &[u8]) -> Result<Findings, FormatError> {
    let document: Value = serde_json::from_slice(bytes).map_err(|error| FormatError::NotJson(error.to_string()))?;
    findings_of(&document, 0)
}

fn findings_of(document: &Value, depth: u8) -> Result<Findings, FormatError> {
    if depth > 3 {
        return Err(FormatError::Unrecognised("envelopes nested too deeply".into()));
    }
    if document.get("SchemaVersion").is_some() && document.get("ArtifactName").is_some() {
        return Ok(trivy(document));
    }
    if document.get("runs").is_some_and(Value::is_array) {
        return Ok(sarif(document));
    }
    if let (Some(payload), Some(_)) = (document.get("payload"), document.get("payloadType")) {
        let encoded = payload.as_str().unwrap_or_default();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|error| FormatError::Unrecognised(format!("dsse payload is not base64: {error}")))?;
        let statement: Value =
            serde_json::from_slice(&decoded).map_err(|error| FormatError::NotJson(error.to_string()))?;
        return findings_of(&statement, depth + 1);
    }
    if document.get("predicateType").and_then(Value::as_str) == Some(COSIGN_VULN_PREDICATE) {
        let result = document.pointer("/predicate/scanner/result").ok_or_else(|| {
            FormatError::Unrecognised("vulnerability attestation without predicate.scanner.result".into())
        })?;
        return findings_of(result, depth + 1);
    }
    Err(FormatError::Unrecognised("not a trivy report, sarif log or vulnerability attestation".into()))
}

/// Trivy JSON: `Results[].Vulnerabilities[].Severity`.
fn trivy(document: &Value) -> Findings {
    let mut found = Findings::default();
    let results = document.get("Results").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for result in results {
        let vulnerabilities = result.get("Vulnerabilities").and_then(Value::as_array);
        for vulnerability in vulnerabilities.map(Vec::as_slice).unwrap_or_default() {
            found.add(vulnerability.get("Severity").and_then(Value::as_str).unwrap_or_default());
        }
    }
    found
}

/// SARIF 2.1.0: each result rated by its rule's severity tag (Trivy), else the rule's
/// `security-severity` score (CVSS bands), else the result's or rule's `level`.
fn sarif(document: &Value) -> Findings {
    let mut found = Findings::default();
    let runs = document.get("runs").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    for run in runs {
        let rules = run.pointer("/tool/driver/rules").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let results = run.get("results").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        for result in results {
            let rule = rule_of(result, rules);
            found.add(&sarif_severity(result, rule));
        }
    }
    found
}

fn rule_of<'a>(result: &Value, rules: &'a [Value]) -> Option<&'a Value> {
    if let Some(index) = result.get("ruleIndex").and_then(Value::as_u64) {
        if let Some(rule) = usize::try_from(index).ok().and_then(|index| rules.get(index)) {
            return Some(rule);
        }
    }
    let id = result.get("ruleId").and_then(Value::as_str)?;
    rules.iter().find(|rule| rule.get("id").and_then(Value::as_str) == Some(id))
}

fn sarif_severity(result: &Value, rule: Option<&Value>) -> String {
    const NAMED: [&str; 5] = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"];
    let properties = rule.and_then(|rule| rule.get("properties"));
    let tags = properties.and_then(|p| p.get("tags")).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if let Some(tag) =
        tags.iter().filter_map(Value::as_str).find(|tag| NAMED.contains(&tag.to_ascii_uppercase().as_str()))
    {
        return tag.to_owned();
    }
    let score = properties.and_then(|p| p.get("security-severity")).and_then(|value| match value {
        Value::String(text) => text.trim().parse::<f64>().ok(),
        other => other.as_f64(),
    });
    if let Some(score) = score.filter(|score| score.is_finite()) {
        return match score {
            s if s >= 9.0 => "CRITICAL",
            s if s >= 7.0 => "HIGH",
            s if s >= 4.0 => "MEDIUM",
            s if s > 0.0 => "LOW",
            _ => "UNKNOWN",
        }
        .to_owned();
    }
    let level = result
        .get("level")
        .or_else(|| rule.and_then(|rule| rule.pointer("/defaultConfiguration/level")))
        .and_then(Value::as_str);
    level.unwrap_or("warning").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
