//! Notary Project COSE envelopes (notaryproject/specifications `signature-envelope-cose.md`): a
//! CBOR `COSE_Sign1` (tag 18) `[protected, unprotected, payload, signature]`. The protected
//! header (itself CBOR in a byte string) has `alg` (1), `crit` (2), the content type (3),
//! `io.cncf.notary.signingScheme`, `io.cncf.notary.signingTime` or `…authenticSigningTime` and
//! `io.cncf.notary.expiry` (epoch times, tag 1); the unprotected header has the certificate chain
//! `x5chain` (33) and `io.cncf.notary.signingAgent`; the payload is the same JSON
//! `{targetArtifact}` as in the JWS envelope. Read with `ciborium`.

use ciborium::value::Value as Cbor;
use serde_json::Value;

use super::{Details, Signature, SignatureKind, cert};
use crate::FormatError;
use crate::text::{self, describe};

/// Deepest CBOR nesting read (a notation envelope needs four levels).
const MAX_CBOR_DEPTH: usize = 32;
const COSE_SIGN1_TAG: u64 = 18;
const EPOCH_TIME_TAG: u64 = 1;
const LABEL_ALGORITHM: i64 = 1;
const LABEL_CONTENT_TYPE: i64 = 3;
const LABEL_X5CHAIN: i64 = 33;

/// Reads a notation COSE envelope.
pub(super) fn read(bytes: &[u8]) -> Result<Signature, FormatError> {
    let parts = match decode(bytes, "cose envelope")? {
        Cbor::Tag(COSE_SIGN1_TAG, inner) => *inner,
        other => other,
    };
    let Cbor::Array(parts) = parts else {
        return Err(malformed("cose envelope is not a COSE_Sign1 array"));
    };
    let Ok([protected, unprotected, payload, _signature]) = <[Cbor; 4]>::try_from(parts) else {
        return Err(malformed("cose envelope is not a COSE_Sign1 array of four parts"));
    };
    let protected = match protected.as_bytes() {
        Some(encoded) if encoded.is_empty() => Vec::new(),
        Some(encoded) => decode(encoded, "cose protected header")?.into_map().map_err(|_| not_a_map("protected"))?,
        None => return Err(not_a_map("protected")),
    };
    let unprotected = unprotected.into_map().map_err(|_| not_a_map("unprotected"))?;
    let payload = payload.into_bytes().map_err(|_| malformed("cose payload is not a byte string"))?;
    let payload: Value = serde_json::from_slice(&payload)
        .map_err(|error| FormatError::NotJson(format!("cose payload: {}", describe(error))))?;

    let mut details = Details::default();
    if let Some(scheme) = text_label(&protected, "io.cncf.notary.signingScheme") {
        details.add("signing scheme", scheme);
    }
    if let Some(expiry) = time_label(&protected, "io.cncf.notary.expiry") {
        details.add("expiry", expiry);
    }
    if let Some(algorithm) = int_label(&protected, LABEL_ALGORITHM).and_then(|value| value.as_integer()) {
        details.add("algorithm", algorithm_name(i128::from(algorithm)));
    }
    if let Some(content_type) = int_label(&protected, LABEL_CONTENT_TYPE).and_then(Cbor::as_text) {
        details.add("content type", content_type);
    }
    if let Some(agent) = text_label(&unprotected, "io.cncf.notary.signingAgent") {
        details.add("signing agent", agent);
    }
    let chain: Vec<&Vec<u8>> = match int_label(&unprotected, LABEL_X5CHAIN) {
        Some(Cbor::Array(certificates)) => certificates.iter().filter_map(Cbor::as_bytes).collect(),
        Some(Cbor::Bytes(certificate)) => vec![certificate],
        _ => Vec::new(),
    };
    if chain.len() > 1 {
        details.add("certificate chain", format!("{} certificates", chain.len()));
    }
    let signer = match chain.first() {
        Some(leaf) => match cert::signer_from_der(leaf) {
            Ok(signer) => Some(signer),
            Err(error) => {
                details.add("certificate", format!("unreadable: {error}"));
                None
            }
        },
        None => {
            details.add("certificate", "missing (no x5chain)");
            None
        }
    };
    let signed_at = time_label(&protected, "io.cncf.notary.signingTime")
        .or_else(|| time_label(&protected, "io.cncf.notary.authenticSigningTime"));
    Ok(Signature {
        kind: SignatureKind::Notation,
        signer,
        signed_at,
        signed_digest: text::text_pointer(&payload, "/targetArtifact/digest"),
        reference: None,
        payload: text::pretty(&payload),
        predicate_type: None,
        details: details.into_vec(),
    })
}

fn decode(bytes: &[u8], what: &str) -> Result<Cbor, FormatError> {
    ciborium::de::from_reader_with_recursion_limit(bytes, MAX_CBOR_DEPTH)
        .map_err(|error| malformed(&format!("{what} is not cbor: {}", describe(error))))
}

fn malformed(message: &str) -> FormatError {
    FormatError::Malformed(message.to_owned())
}

fn not_a_map(which: &str) -> FormatError {
    malformed(&format!("cose {which} header is not a map"))
}

fn int_label(map: &[(Cbor, Cbor)], label: i64) -> Option<&Cbor> {
    map.iter()
        .find(|(key, _)| key.as_integer().and_then(|key| i64::try_from(key).ok()) == Some(label))
        .map(|(_, value)| value)
}

fn text_label<'a>(map: &'a [(Cbor, Cbor)], label: &str) -> Option<&'a str> {
    map.iter().find(|(key, _)| key.as_text() == Some(label)).and_then(|(_, value)| value.as_text())
}

/// An epoch time (tag 1 over an integer, or a bare integer) as RFC 3339, or a text date as
/// written.
fn time_label(map: &[(Cbor, Cbor)], label: &str) -> Option<String> {
    let value = map.iter().find(|(key, _)| key.as_text() == Some(label)).map(|(_, value)| value)?;
    let value = match value {
        Cbor::Tag(EPOCH_TIME_TAG, inner) => inner.as_ref(),
        other => other,
    };
    match value {
        Cbor::Integer(seconds) => i64::try_from(*seconds).ok().and_then(text::rfc3339_from_unix),
        Cbor::Text(date) => text::non_empty(date),
        _ => None,
    }
}

/// The JOSE name of a COSE algorithm (RFC 9053, the ones notation allows).
fn algorithm_name(algorithm: i128) -> String {
    match algorithm {
        -7 => "ES256".into(),
        -35 => "ES384".into(),
        -36 => "ES512".into(),
        -37 => "PS256".into(),
        -38 => "PS384".into(),
        -39 => "PS512".into(),
        other => format!("cose algorithm {other}"),
    }
}
