//! cosign simple signing payloads (sigstore/cosign `specs/SIGNATURE_SPEC.md`):
//! `critical{identity{docker-reference}, image{docker-manifest-digest}, type}` and `optional`,
//! with the signing certificate in the layer annotation `dev.sigstore.cosign/certificate` (or
//! `dev.cosignproject.cosign/certificate`), its chain in `…/chain`, and the Rekor entry in
//! `dev.sigstore.cosign/bundle` (`Payload.integratedTime`, `Payload.logIndex`).

use serde_json::Value;

use super::{Details, Signature, SignatureKind, cert, transparency_log};
use crate::text::{self, MAX_SMALL_LIST, integer, scalar, text_pointer};
use crate::{FormatError, Hint};

const CERTIFICATE_KEYS: [&str; 2] = ["dev.sigstore.cosign/certificate", "dev.cosignproject.cosign/certificate"];
const CHAIN_KEYS: [&str; 2] = ["dev.sigstore.cosign/chain", "dev.cosignproject.cosign/chain"];
const BUNDLE_KEY: &str = "dev.sigstore.cosign/bundle";
const TIMESTAMP_KEY: &str = "dev.sigstore.cosign/rfc3161timestamp";
const SIGNATURE_KEY: &str = "dev.cosignproject.cosign/signature";

/// Reads a simple signing payload and what the layer annotations say about it.
pub(super) fn read(payload: &Value, hint: &Hint) -> Result<Signature, FormatError> {
    if !payload.is_object() {
        return Err(FormatError::Malformed("cosign payload is not a json object".into()));
    }
    let annotation = |keys: &[&str]| keys.iter().find_map(|key| hint.annotations.get(*key)).map(String::as_str);
    let mut details = Details::default();
    if let Some(kind) = text_pointer(payload, "/critical/type") {
        details.add("signature type", kind);
    }

    let signer = match annotation(&CERTIFICATE_KEYS) {
        Some(pem) => match cert::signer_from_pem(pem) {
            Ok(signer) => Some(signer),
            Err(error) => {
                details.add("certificate", format!("unreadable: {error}"));
                None
            }
        },
        None => {
            details.add("key", "signed with a key; no certificate attached");
            None
        }
    };
    if let Some(chain) = annotation(&CHAIN_KEYS) {
        details.add("certificate chain", format!("{} certificates", cert::pem_certificates(chain).count()));
    }

    let mut signed_at = None;
    if let Some(bundle) = annotation(&[BUNDLE_KEY]) {
        match serde_json::from_str::<Value>(bundle) {
            Ok(bundle) => {
                let entry = bundle.get("Payload").unwrap_or(&Value::Null);
                signed_at = entry.get("integratedTime").and_then(integer).and_then(text::rfc3339_from_unix);
                let index = entry.get("logIndex").and_then(integer);
                if let Some(log) = transparency_log(index, signed_at.as_deref()) {
                    details.add("transparency log", log);
                }
                if let Some(log_id) = entry.get("logID").and_then(scalar) {
                    details.add("log id", log_id);
                }
            }
            Err(error) => details.add("transparency log", format!("unreadable bundle: {}", text::describe(error))),
        }
    }
    if annotation(&[TIMESTAMP_KEY]).is_some() {
        details.add("rfc 3161 timestamp", "attached");
    }
    if annotation(&[SIGNATURE_KEY]).is_none_or(|signature| signature.trim().is_empty()) {
        details.add("signature", "missing from the layer annotations");
    }

    let optional = payload.get("optional").and_then(Value::as_object);
    for (key, value) in optional.into_iter().flatten().take(MAX_SMALL_LIST) {
        let value = scalar(value).unwrap_or_else(|| text::clip(&value.to_string()));
        details.add(&format!("optional {key}"), value);
    }
    if signed_at.is_none() {
        signed_at = payload.pointer("/optional/timestamp").and_then(integer).and_then(text::rfc3339_from_unix);
    }

    Ok(Signature {
        kind: SignatureKind::CosignSimpleSigning,
        signer,
        signed_at,
        signed_digest: text_pointer(payload, "/critical/image/docker-manifest-digest"),
        reference: text_pointer(payload, "/critical/identity/docker-reference"),
        payload: text::pretty(payload),
        predicate_type: None,
        details: details.into_vec(),
    })
}
