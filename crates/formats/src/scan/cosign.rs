//! cosign vulnerability attestations (sigstore/cosign `specs/COSIGN_VULN_ATTESTATION_SPEC.md`):
//! `predicate.scanner{uri, version, db{uri, version}, result}` where `result` is the scanner's own
//! report (Trivy JSON or SARIF here), and `predicate.metadata{scanStartedOn, scanFinishedOn}`.

use serde_json::Value;

use super::{Report, direct};
use crate::FormatError;
use crate::intoto::Unwrapped;
use crate::text::{self, text_at, text_pointer};

/// The report inside a vulnerability attestation.
pub(super) fn report(unwrapped: &Unwrapped<'_>) -> Result<Report, FormatError> {
    let predicate = unwrapped.predicate().unwrap_or(&Value::Null);
    let result = predicate.pointer("/scanner/result").ok_or_else(|| {
        FormatError::Unrecognised("vulnerability attestation without predicate.scanner.result".into())
    })?;
    let mut report = direct(result).unwrap_or_else(|| {
        Err(FormatError::Unsupported(
            "the vulnerability attestation's result is not a trivy report, sarif log or cyclonedx bom".into(),
        ))
    })?;
    report.format = text::clip(&format!("cosign vulnerability attestation ({})", report.format));
    let scanner = predicate.get("scanner").unwrap_or(&Value::Null);
    report.scanner = report.scanner.or_else(|| text_at(scanner, "uri"));
    report.scanner_version = text_at(scanner, "version").or(report.scanner_version);
    let database = [text_pointer(scanner, "/db/uri"), text_pointer(scanner, "/db/version")];
    let database: Vec<String> = database.into_iter().flatten().collect();
    if !database.is_empty() {
        report.database = Some(text::clip(&database.join(" ")));
    }
    report.scanned_at = text_pointer(predicate, "/metadata/scanFinishedOn")
        .or_else(|| text_pointer(predicate, "/metadata/scanStartedOn"))
        .or(report.scanned_at);
    if report.artifact.is_none() {
        report.artifact = unwrapped.subjects().into_iter().next().map(|subject| subject.name);
    }
    report.wrapped_in = Some(unwrapped.wrapped_in().into());
    Ok(report)
}
