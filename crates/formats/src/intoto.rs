//! in-toto attestations: a DSSE envelope (`payloadType`, base64 `payload`, `signatures`)
//! unwrapped to its in-toto Statement (`_type` v0.1 or v1, `subject`, `predicateType`,
//! `predicate`), or a bare statement as buildx stores them. Statements whose predicate is an
//! SBOM or a vulnerability scan are shown as those (see [`crate::read`]); every other one is an
//! [`Attestation`].

use std::borrow::Cow;

use serde_json::Value;

use crate::FormatError;
use crate::text::{self, MAX_SMALL_LIST, array_at, str_at, text_at};

/// The media type of a DSSE envelope layer.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";
/// The DSSE payload type (and layer media type) of an in-toto statement.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// The prefix every in-toto statement `_type` starts with.
pub const STATEMENT_TYPE_PREFIX: &str = "https://in-toto.io/Statement/";

/// An in-toto statement as the UI shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Attestation {
    /// `predicateType`, e.g. `https://slsa.dev/provenance/v0.2`.
    pub predicate_type: String,
    /// `_type`, e.g. `https://in-toto.io/Statement/v1`.
    pub statement_type: String,
    /// What the statement is about.
    pub subjects: Vec<AttestedSubject>,
    /// The predicate as pretty JSON, cut at 64 KiB.
    pub predicate: String,
    /// How many signatures the envelope carries (0 for a bare statement).
    pub signatures: usize,
    /// Whether the statement came in a DSSE envelope.
    pub envelope: bool,
}

/// One subject of a statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AttestedSubject {
    /// `name` (often an image reference or a file name).
    pub name: String,
    /// `algorithm:hex`, sha256 when given, else the first digest listed.
    pub digest: String,
}

/// A statement and how it arrived.
#[derive(Debug, Clone)]
pub(crate) struct Unwrapped<'a> {
    pub(crate) statement: Cow<'a, Value>,
    pub(crate) signatures: usize,
    pub(crate) envelope: bool,
}

impl Unwrapped<'_> {
    /// `predicateType`, empty when missing.
    pub(crate) fn predicate_type(&self) -> &str {
        str_at(&self.statement, "predicateType").unwrap_or_default()
    }

    /// `predicate`, when present.
    pub(crate) fn predicate(&self) -> Option<&Value> {
        self.statement.get("predicate").filter(|predicate| !predicate.is_null())
    }

    /// How the statement was wrapped, for the views' `wrapped_in`.
    pub(crate) fn wrapped_in(&self) -> &'static str {
        if self.envelope { "in-toto statement in a DSSE envelope" } else { "in-toto statement" }
    }

    /// The statement's subjects.
    pub(crate) fn subjects(&self) -> Vec<AttestedSubject> {
        subjects(&self.statement)
    }
}

/// Whether `value` looks like a DSSE envelope.
pub(crate) fn is_envelope(value: &Value) -> bool {
    str_at(value, "payloadType").is_some() && str_at(value, "payload").is_some()
}

/// Whether `value` looks like an in-toto statement.
pub(crate) fn is_statement(value: &Value) -> bool {
    let typed = str_at(value, "_type").is_some_and(|kind| kind.starts_with(STATEMENT_TYPE_PREFIX));
    typed || str_at(value, "predicateType").is_some()
}

/// Decodes a DSSE envelope's payload.
pub(crate) fn envelope_payload(envelope: &Value) -> Result<Vec<u8>, FormatError> {
    text::base64_decode(str_at(envelope, "payload").unwrap_or_default(), "dsse payload")
}

/// The statement in `value` (an envelope or a bare statement); `None` for other documents.
pub(crate) fn unwrap(value: &Value) -> Result<Option<Unwrapped<'_>>, FormatError> {
    if is_envelope(value) {
        let payload = envelope_payload(value)?;
        let statement: Value = serde_json::from_slice(&payload)
            .map_err(|error| FormatError::NotJson(format!("dsse payload: {}", text::describe(error))))?;
        if !is_statement(&statement) {
            let payload_type = text::clip(str_at(value, "payloadType").unwrap_or_default());
            return Err(FormatError::Unsupported(format!(
                "dsse envelope whose payload ({payload_type}) is not an in-toto statement"
            )));
        }
        let signatures = array_at(value, "signatures").len();
        return Ok(Some(Unwrapped { statement: Cow::Owned(statement), signatures, envelope: true }));
    }
    if is_statement(value) {
        return Ok(Some(Unwrapped { statement: Cow::Borrowed(value), signatures: 0, envelope: false }));
    }
    Ok(None)
}

/// Reads a DSSE envelope or a bare statement from JSON bytes.
pub fn parse(bytes: &[u8]) -> Result<Attestation, FormatError> {
    let value: Value = serde_json::from_slice(bytes).map_err(|error| FormatError::NotJson(text::describe(error)))?;
    from_value(&value)
}

/// Reads a DSSE envelope or a bare statement, whatever its predicate.
pub fn from_value(value: &Value) -> Result<Attestation, FormatError> {
    match unwrap(value)? {
        Some(unwrapped) => Ok(attestation(&unwrapped)),
        None => Err(FormatError::Unrecognised("not a dsse envelope or an in-toto statement".into())),
    }
}

/// The generic view of a statement.
pub(crate) fn attestation(unwrapped: &Unwrapped<'_>) -> Attestation {
    Attestation {
        predicate_type: text::clip(unwrapped.predicate_type()),
        statement_type: text_at(&unwrapped.statement, "_type").unwrap_or_default(),
        subjects: unwrapped.subjects(),
        predicate: text::pretty(unwrapped.predicate().unwrap_or(&Value::Null)),
        signatures: unwrapped.signatures,
        envelope: unwrapped.envelope,
    }
}

/// `subject[]` of a statement, entries without a usable digest or name skipped.
pub(crate) fn subjects(statement: &Value) -> Vec<AttestedSubject> {
    array_at(statement, "subject")
        .iter()
        .filter_map(|subject| {
            let name = text_at(subject, "name").unwrap_or_default();
            let digest = preferred_digest(subject.get("digest")?)?;
            Some(AttestedSubject { name, digest })
        })
        .take(MAX_SMALL_LIST)
        .collect()
}

/// `algorithm:hex` from an in-toto digest set, sha256 first.
pub(crate) fn preferred_digest(digests: &Value) -> Option<String> {
    let digests = digests.as_object()?;
    let (algorithm, value) =
        digests.get_key_value("sha256").or_else(|| digests.iter().find(|(_, value)| value.is_string()))?;
    let value = value.as_str()?.trim();
    (!value.is_empty()).then(|| text::clip(&format!("{algorithm}:{value}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use serde_json::json;

    fn provenance() -> Value {
        json!({"_type": "https://in-toto.io/Statement/v0.1", "predicateType": "https://slsa.dev/provenance/v0.2",
            "subject": [{"name": "127.0.0.1:5000/demo/app", "digest": {"sha256": "ab12"}}, {"name": "no digest"}],
            "predicate": {"builder": {"id": "https://ci.example/builder"}}})
    }

    #[test]
    fn a_bare_statement_is_read() {
        let attestation = from_value(&provenance()).unwrap();
        assert_eq!(attestation.predicate_type, "https://slsa.dev/provenance/v0.2");
        assert_eq!(attestation.statement_type, "https://in-toto.io/Statement/v0.1");
        assert_eq!(
            attestation.subjects,
            [AttestedSubject { name: "127.0.0.1:5000/demo/app".into(), digest: "sha256:ab12".into() }]
        );
        assert!(attestation.predicate.contains("\"id\": \"https://ci.example/builder\""));
        assert!(!attestation.envelope);
        assert_eq!(attestation.signatures, 0);
    }

    #[test]
    fn an_envelope_is_unwrapped_and_its_signatures_counted() {
        let payload = base64::engine::general_purpose::STANDARD.encode(provenance().to_string());
        let envelope = json!({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": payload,
            "signatures": [{"keyid": "", "sig": "MEUCIQ=="}, {"keyid": "k2", "sig": "AA=="}]});
        let attestation = from_value(&envelope).unwrap();
        assert!(attestation.envelope);
        assert_eq!(attestation.signatures, 2);
        assert_eq!(attestation.subjects.len(), 1);
    }

    #[test]
    fn broken_envelopes_are_errors() {
        let bad_base64 = json!({"payloadType": IN_TOTO_PAYLOAD_TYPE, "payload": "%%%"});
        assert!(matches!(from_value(&bad_base64), Err(FormatError::Malformed(_))));
        let not_json = json!({"payloadType": "x", "payload": "aGVsbG8="});
        assert!(matches!(from_value(&not_json), Err(FormatError::NotJson(_))));
        let not_statement = json!({"payloadType": "text/plain", "payload": "e30="});
        let error = from_value(&not_statement).unwrap_err();
        assert_eq!(error.to_string(), "dsse envelope whose payload (text/plain) is not an in-toto statement");
        assert!(matches!(from_value(&json!({"a": 1})), Err(FormatError::Unrecognised(_))));
    }
}
