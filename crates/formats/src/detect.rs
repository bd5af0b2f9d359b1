//! What a layer's bytes are, decided by content: an in-toto statement (in a DSSE envelope or
//! bare) is shown by its predicate type, then signatures, SBOMs and scan reports are told apart
//! by their own marker fields. The hint's media type only breaks ties (COSE, simple signing
//! payloads without `critical.type`) and names formats that are known but not read.

use serde_json::Value;

use crate::intoto::{self, Unwrapped};
use crate::scan::{self, COSIGN_VULN_PREDICATE};
use crate::text::{self, describe};
use crate::{Document, FormatError, Hint, MAX_DOCUMENT_BYTES, sbom, signature, unpack};

/// The in-toto predicate type prefix of SPDX documents.
const SPDX_PREDICATE_PREFIX: &str = "https://spdx.dev/Document";
/// The in-toto predicate type prefix of CycloneDX BOMs.
const CYCLONEDX_PREDICATE_PREFIX: &str = "https://cyclonedx.org/bom";

pub(crate) fn read(bytes: &[u8], hint: &Hint) -> Result<Document, FormatError> {
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(FormatError::TooLarge(format!(
            "the document has {} bytes, more than the {} MiB cap",
            bytes.len(),
            MAX_DOCUMENT_BYTES >> 20
        )));
    }
    let bytes = unpack::sniffed(bytes)?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FormatError::NotJson("the document is empty".into()));
    }
    if signature::is_cose(&bytes, hint) {
        return signature::parse(&bytes, hint).map(Document::Signature);
    }
    let value: Value = match serde_json::from_slice(&bytes) {
        Ok(value) => value,
        Err(error) => return Err(not_json(&bytes, hint, &describe(error))),
    };
    classify(&value, hint)
}

/// Names a known non-JSON format, else says the bytes are not JSON.
fn not_json(bytes: &[u8], hint: &Hint, reason: &str) -> FormatError {
    let start = bytes.iter().position(|byte| !byte.is_ascii_whitespace()).map_or(&[][..], |at| &bytes[at..]);
    let media_type = hint.media_type.to_ascii_lowercase();
    if start.starts_with(b"SPDXVersion:") || media_type == "text/spdx" {
        return FormatError::Unsupported("spdx tag-value documents are not read yet".into());
    }
    if start.starts_with(b"<") && media_type.contains("xml") {
        return FormatError::Unsupported("xml documents are not read yet".into());
    }
    FormatError::NotJson(reason.to_owned())
}

fn classify(value: &Value, hint: &Hint) -> Result<Document, FormatError> {
    if !value.is_object() {
        return Err(FormatError::Unrecognised("the document is not a json object".into()));
    }
    if signature::is_sigstore_bundle(value) || signature::is_jws(value) || signature::is_simple_signing(value, hint) {
        return signature::from_value(value, hint).map(Document::Signature);
    }
    if let Some(unwrapped) = intoto::unwrap(value)? {
        return Ok(statement(&unwrapped));
    }
    if sbom::spdx::is_spdx(value) {
        return sbom::spdx::read(value).map(Document::Sbom);
    }
    if sbom::cyclonedx::is_cyclonedx(value) {
        return cyclonedx(value);
    }
    if let Some(report) = scan::direct(value) {
        return report.map(Document::Scan);
    }
    Err(FormatError::Unrecognised(
        "not an sbom, scan report, signature or attestation this viewer knows (spdx, cyclonedx, trivy, sarif, \
         cosign, sigstore, notation, in-toto)"
            .into(),
    ))
}

/// A CycloneDX BOM is an SBOM, unless it lists vulnerabilities and no components (then it is a
/// scan report or VEX document).
fn cyclonedx(value: &Value) -> Result<Document, FormatError> {
    let has_components = !text::array_at(value, "components").is_empty();
    if !has_components && let Some(report) = scan::from_cyclonedx(value) {
        return Ok(Document::Scan(report));
    }
    sbom::cyclonedx::read(value).map(Document::Sbom)
}

/// A statement shown by its predicate: SBOM and vulnerability predicates as SBOMs and reports
/// when they read as such, anything else (or a predicate that does not read) as an attestation.
fn statement(unwrapped: &Unwrapped<'_>) -> Document {
    let predicate_type = unwrapped.predicate_type();
    let wrapped_in = Some(unwrapped.wrapped_in().to_owned());
    let predicate = unwrapped.predicate();
    let is_sbom =
        predicate_type.starts_with(SPDX_PREDICATE_PREFIX) || predicate_type.starts_with(CYCLONEDX_PREDICATE_PREFIX);
    if is_sbom && let Some(Ok(mut sbom)) = predicate.map(sbom::from_value) {
        sbom.wrapped_in = wrapped_in;
        return Document::Sbom(sbom);
    }
    if predicate_type == COSIGN_VULN_PREDICATE
        && let Ok(report) = scan::from_statement(unwrapped)
    {
        return Document::Scan(report);
    }
    Document::Attestation(intoto::attestation(unwrapped))
}
