//! Notary Project JWS envelopes (notaryproject/specifications `signature-envelope-jws.md`): the
//! flattened JSON serialization `{payload, protected, header{x5c[], io.cncf.notary.signingAgent},
//! signature}`. `protected` is base64url JSON (`alg`, `cty`, `crit`,
//! `io.cncf.notary.signingScheme`, `io.cncf.notary.signingTime` or `…authenticSigningTime`,
//! `io.cncf.notary.expiry`); `payload` is base64url JSON `{targetArtifact{mediaType, digest,
//! size}}`; the signer is `x5c[0]` (standard base64 DER).

use serde_json::Value;

use super::{Details, Signature, SignatureKind, cert};
use crate::FormatError;
use crate::text::{self, array_at, scalar, str_at, text_at, text_pointer};

/// Reads a notation JWS envelope.
pub(super) fn read_jws(envelope: &Value) -> Result<Signature, FormatError> {
    let protected = decode_json(str_at(envelope, "protected").unwrap_or_default(), "jws protected header")?;
    let payload = decode_json(str_at(envelope, "payload").unwrap_or_default(), "jws payload")?;
    let mut details = Details::default();
    for (label, key) in [
        ("signing scheme", "io.cncf.notary.signingScheme"),
        ("expiry", "io.cncf.notary.expiry"),
        ("algorithm", "alg"),
        ("content type", "cty"),
    ] {
        if let Some(value) = protected.get(key).and_then(scalar) {
            details.add(label, value);
        }
    }
    let header = envelope.get("header").unwrap_or(&Value::Null);
    if let Some(agent) = text_at(header, "io.cncf.notary.signingAgent") {
        details.add("signing agent", agent);
    }
    let target = payload.get("targetArtifact").unwrap_or(&Value::Null);
    if let Some(media_type) = text_at(target, "mediaType") {
        details.add("target media type", media_type);
    }
    if let Some(size) = target.get("size").and_then(scalar) {
        details.add("target size", size);
    }

    let chain = array_at(header, "x5c");
    if chain.len() > 1 {
        details.add("certificate chain", format!("{} certificates", chain.len()));
    }
    let signer = match chain.first().and_then(Value::as_str) {
        Some(leaf) => match cert::signer_from_base64(leaf, "x5c certificate") {
            Ok(signer) => Some(signer),
            Err(error) => {
                details.add("certificate", format!("unreadable: {error}"));
                None
            }
        },
        None => {
            details.add("certificate", "missing (no x5c chain)");
            None
        }
    };

    let signed_at = text_at(&protected, "io.cncf.notary.signingTime")
        .or_else(|| text_at(&protected, "io.cncf.notary.authenticSigningTime"));
    Ok(Signature {
        kind: SignatureKind::Notation,
        signer,
        signed_at,
        signed_digest: text_pointer(&payload, "/targetArtifact/digest"),
        reference: None,
        payload: text::pretty(&payload),
        predicate_type: None,
        details: details.into_vec(),
    })
}

/// Decodes one base64url part of the JWS into JSON.
fn decode_json(encoded: &str, what: &str) -> Result<Value, FormatError> {
    let bytes = text::base64_decode(encoded, what)?;
    serde_json::from_slice(&bytes).map_err(|error| FormatError::NotJson(format!("{what}: {}", text::describe(error))))
}
