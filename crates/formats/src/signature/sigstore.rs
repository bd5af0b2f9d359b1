//! Sigstore bundles (protobuf-specs `sigstore_bundle.proto` in JSON, v0.1–v0.3):
//! `verificationMaterial{certificate{rawBytes} | x509CertificateChain{certificates[{rawBytes}]} |
//! publicKey{hint}, tlogEntries[{logIndex, integratedTime, kindVersion}],
//! timestampVerificationData}` and either a `dsseEnvelope` (an in-toto statement) or a
//! `messageSignature{messageDigest{algorithm, digest}}`. 64-bit integers come as strings.

use serde_json::Value;

use super::{Details, Signature, SignatureKind, Signer, cert, transparency_log};
use crate::FormatError;
use crate::intoto;
use crate::text::{self, array_at, integer, str_at, text_at, text_pointer};

/// Reads a sigstore bundle.
pub(super) fn read(bundle: &Value) -> Result<Signature, FormatError> {
    let mut details = Details::default();
    if let Some(media_type) = text_at(bundle, "mediaType") {
        details.add("bundle", media_type);
    }
    let material = bundle.get("verificationMaterial").unwrap_or(&Value::Null);
    let signer = signer(material, &mut details);
    if let Some(hint) = text_pointer(material, "/publicKey/hint") {
        details.add("key id", hint);
    }

    let entry = array_at(material, "tlogEntries").first().unwrap_or(&Value::Null);
    let signed_at = entry.get("integratedTime").and_then(integer).and_then(text::rfc3339_from_unix);
    if let Some(log) = transparency_log(entry.get("logIndex").and_then(integer), signed_at.as_deref()) {
        details.add("transparency log", log);
    }
    if let (Some(kind), Some(version)) =
        (text_pointer(entry, "/kindVersion/kind"), text_pointer(entry, "/kindVersion/version"))
    {
        details.add("log entry kind", format!("{kind} {version}"));
    }
    let timestamps = material.pointer("/timestampVerificationData/rfc3161Timestamps").and_then(Value::as_array);
    if let Some(timestamps) = timestamps.filter(|timestamps| !timestamps.is_empty()) {
        details.add("rfc 3161 timestamps", timestamps.len().to_string());
    }

    let mut signature = Signature {
        kind: SignatureKind::SigstoreBundle,
        signer,
        signed_at,
        signed_digest: None,
        reference: None,
        payload: String::new(),
        predicate_type: None,
        details: Vec::new(),
    };
    if let Some(envelope) = bundle.get("dsseEnvelope").filter(|envelope| envelope.is_object()) {
        read_envelope(envelope, &mut signature, &mut details)?;
    } else if let Some(message) = bundle.get("messageSignature").filter(|message| message.is_object()) {
        let digest = message.get("messageDigest").unwrap_or(&Value::Null);
        let algorithm = str_at(digest, "algorithm").unwrap_or("SHA2_256");
        let hex = str_at(digest, "digest").and_then(text::base64_to_hex);
        signature.signed_digest = hex.map(|hex| text::clip(&format!("{}:{hex}", digest_algorithm(algorithm))));
        signature.payload = text::pretty(message);
    } else {
        return Err(FormatError::Malformed("sigstore bundle with neither dsseEnvelope nor messageSignature".into()));
    }
    signature.details = details.into_vec();
    Ok(signature)
}

/// The signer from the leaf certificate (v0.3 `certificate`, earlier `x509CertificateChain`).
fn signer(material: &Value, details: &mut Details) -> Option<Signer> {
    let chain = material.pointer("/x509CertificateChain/certificates").and_then(Value::as_array);
    if let Some(chain) = chain.filter(|chain| chain.len() > 1) {
        details.add("certificate chain", format!("{} certificates", chain.len()));
    }
    let leaf = material
        .pointer("/certificate/rawBytes")
        .or_else(|| chain?.first()?.get("rawBytes"))
        .and_then(Value::as_str)?;
    match cert::signer_from_base64(leaf, "bundle certificate") {
        Ok(signer) => Some(signer),
        Err(error) => {
            details.add("certificate", format!("unreadable: {error}"));
            None
        }
    }
}

/// Fills in what the bundle's DSSE envelope signs: its statement's subject and predicate type.
fn read_envelope(envelope: &Value, signature: &mut Signature, details: &mut Details) -> Result<(), FormatError> {
    if let Some(payload_type) = text_at(envelope, "payloadType") {
        details.add("payload type", payload_type);
    }
    details.add("signatures", array_at(envelope, "signatures").len().to_string());
    let payload = intoto::envelope_payload(envelope)?;
    let statement: Value = serde_json::from_slice(&payload)
        .map_err(|error| FormatError::NotJson(format!("bundle dsse payload: {}", text::describe(error))))?;
    let subject = intoto::subjects(&statement).into_iter().next();
    signature.signed_digest = subject.as_ref().map(|subject| subject.digest.clone());
    signature.reference = subject.map(|subject| subject.name).filter(|name| !name.is_empty());
    signature.predicate_type = text_at(&statement, "predicateType");
    signature.payload = text::pretty(&statement);
    Ok(())
}

/// The OCI digest algorithm name for a sigstore `HashAlgorithm`.
fn digest_algorithm(algorithm: &str) -> String {
    match algorithm {
        "SHA2_256" => "sha256".into(),
        "SHA2_384" => "sha384".into(),
        "SHA2_512" => "sha512".into(),
        other => other.to_ascii_lowercase(),
    }
}
