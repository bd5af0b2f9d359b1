//! One transparency log entry of a sigstore bundle: the log is one the trusted root names, the
//! log promised (signed entry timestamp) or proved (inclusion proof under a signed checkpoint)
//! that it holds the entry, and the entry's body records this very content, signature and
//! signer — for each kind sigstore clients log: `hashedrekord` 0.0.1 and 0.0.2, `dsse` 0.0.1 and
//! 0.0.2, `intoto` 0.0.1 and 0.0.2.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::parse::{Content, Entry, Version, digest};
use crate::keys::{Hash, pem_body};
use crate::root::{TransparencyLog, TrustedRoot};

/// How far in the future a logged time may be (clock skew).
const MAX_SKEW_SECONDS: i64 = 300;

/// Who made the signature, as a log entry records it.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Signer<'a> {
    /// A certificate (DER).
    Certificate(&'a [u8]),
    /// A public key (DER SubjectPublicKeyInfo).
    Key(&'a [u8]),
}

/// A checked entry: the log and, when the log signed it, when it recorded the entry.
pub(crate) struct Checked<'a> {
    pub(crate) log: &'a TransparencyLog,
    pub(crate) integrated_time: Option<i64>,
    pub(crate) log_index: i64,
}

/// Checks `entry` of a bundle of `version` against `root`, for `content` signed by `signer`;
/// `now` in seconds since the epoch.
pub(crate) fn check<'a>(
    entry: &Entry,
    version: Version,
    content: &Content,
    signer: Signer<'_>,
    root: &'a TrustedRoot,
    now: i64,
) -> Result<Checked<'a>, String> {
    if entry.log_index < 0 {
        return Err(format!("the log entry's index {} is negative", entry.log_index));
    }
    let Some(log) = root.logs.iter().find(|log| log.log_id == entry.log_id) else {
        return Err("the signature was logged in a transparency log the trusted root does not name".into());
    };
    if version == Version::V01 && entry.promise.is_none() {
        return Err("the v0.1 bundle's log entry carries no inclusion promise".into());
    }
    if version >= Version::V02 && entry.proof.is_none() {
        return Err("the bundle's log entry carries no inclusion proof".into());
    }
    let mut integrated_time = None;
    if let Some(promise) = &entry.promise {
        let Some(time) = entry.integrated_time else {
            return Err("the log entry's inclusion promise has no integrated time".into());
        };
        crate::rekor::check_promise(&entry.body_base64, time, entry.log_index, &entry.log_id, promise, root)?;
        if time > now + MAX_SKEW_SECONDS {
            return Err("the log entry's integrated time is in the future".into());
        }
        integrated_time = Some(time);
    }
    match &entry.proof {
        // A v0.1 bundle stands on its promise; some carry a proof without the checkpoint that
        // would make it checkable offline (CPython's releases), which proves nothing either way.
        Some(proof) if version == Version::V01 && proof.checkpoint.is_empty() => {}
        Some(proof) => proof.check(&entry.body, log)?,
        None => {}
    }
    records(&entry.body, Some((&entry.kind, &entry.version)), content, signer)?;
    Ok(Checked { log, integrated_time, log_index: entry.log_index })
}

/// Whether `text` (base64) decodes to `bytes`.
fn same_base64(text: Option<&str>, bytes: &[u8]) -> bool {
    text.and_then(|text| STANDARD.decode(text.trim()).ok()).is_some_and(|decoded| decoded == bytes)
}

/// Whether `text` (base64 of a PEM certificate or key) is `signer`.
fn same_pem(text: Option<&str>, signer: Signer<'_>) -> bool {
    let Some(pem) = text.and_then(|text| STANDARD.decode(text.trim()).ok()) else { return false };
    let pem = String::from_utf8_lossy(&pem);
    match signer {
        Signer::Certificate(der) => pem_body(&pem, "CERTIFICATE").is_some_and(|found| found == der),
        Signer::Key(der) => pem_body(&pem, "PUBLIC KEY").is_some_and(|found| found == der),
    }
}

/// Whether a v0.0.2 `verifier` (`x509Certificate` or `publicKey`, raw DER) is `signer`.
fn same_verifier(verifier: Option<&Value>, signer: Signer<'_>) -> bool {
    let raw = |pointer: &str| verifier.and_then(|value| value.pointer(pointer)).and_then(Value::as_str);
    match signer {
        Signer::Certificate(der) => same_base64(raw("/x509Certificate/rawBytes"), der),
        Signer::Key(der) => same_base64(raw("/publicKey/rawBytes"), der),
    }
}

/// What the content's log entry must name as the signed data: the message digest, or for a
/// DSSE envelope in a `hashedrekord` (Rekor v2) the digest of its pre-authentication encoding.
fn signed_digest(content: &Content) -> (Hash, &'static str, Vec<u8>) {
    match content {
        Content::Message { hash, algorithm, digest, .. } => (*hash, algorithm, digest.clone()),
        Content::Dsse { payload_type, payload, .. } => {
            (Hash::Sha256, "sha256", digest(Hash::Sha256, &Content::pae(payload_type, payload)))
        }
    }
}

/// Checks that the log entry `body` (JSON) records `content`, its signature and `signer`; when
/// the entry names its kind and version (`named`), the body must be of that kind.
pub(crate) fn records(
    body: &[u8],
    named: Option<(&str, &str)>,
    content: &Content,
    signer: Signer<'_>,
) -> Result<(), String> {
    let body: Value = serde_json::from_slice(body).map_err(|_| "the log entry's body is not json".to_owned())?;
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
    let kind = (text("/kind").unwrap_or_default(), text("/apiVersion").unwrap_or_default());
    if named.is_some_and(|named| named != kind) {
        return Err("the log entry's kind is not the one its body records".into());
    }
    let signature = content.signature();
    let (data_ok, signature_ok, signer_ok) = match kind {
        ("hashedrekord", "0.0.1") => {
            let (_, algorithm, digest) = signed_digest(content);
            let data = text("/spec/data/hash/algorithm") == Some(algorithm)
                && text("/spec/data/hash/value").is_some_and(|value| value.eq_ignore_ascii_case(&hex::encode(&digest)));
            let dsse = matches!(content, Content::Dsse { .. });
            (
                data && !dsse,
                same_base64(text("/spec/signature/content"), signature),
                same_pem(text("/spec/signature/publicKey/content"), signer),
            )
        }
        ("hashedrekord", "0.0.2") => {
            let (_, algorithm, digest) = signed_digest(content);
            let named = text("/spec/hashedRekordV002/data/algorithm")
                .is_some_and(|name| name.replace("SHA2_", "sha").eq_ignore_ascii_case(algorithm));
            (
                named && same_base64(text("/spec/hashedRekordV002/data/digest"), &digest),
                same_base64(text("/spec/hashedRekordV002/signature/content"), signature),
                same_verifier(body.pointer("/spec/hashedRekordV002/signature/verifier"), signer),
            )
        }
        ("dsse", "0.0.1") => {
            let Content::Dsse { payload, .. } = content else {
                return Err("a message signature logged as a DSSE entry".into());
            };
            let [one] =
                body.pointer("/spec/signatures").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
            else {
                return Err("the log entry records another number of signatures than the envelope's one".into());
            };
            (
                text("/spec/payloadHash/algorithm") == Some("sha256")
                    && text("/spec/payloadHash/value")
                        .is_some_and(|value| value.eq_ignore_ascii_case(&hex::encode(Sha256::digest(payload)))),
                same_base64(one.get("signature").and_then(Value::as_str), signature),
                same_pem(one.get("verifier").and_then(Value::as_str), signer),
            )
        }
        ("dsse", "0.0.2") => {
            let Content::Dsse { payload, .. } = content else {
                return Err("a message signature logged as a DSSE entry".into());
            };
            let [one] = body
                .pointer("/spec/dsseV002/signatures")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            else {
                return Err("the log entry records another number of signatures than the envelope's one".into());
            };
            (
                same_base64(text("/spec/dsseV002/payloadHash/digest"), &Sha256::digest(payload)),
                same_base64(one.get("content").and_then(Value::as_str), signature),
                same_verifier(one.get("verifier"), signer),
            )
        }
        ("intoto", "0.0.1") => {
            // cosign's older attestations: the payload's hash and the signer; the signature
            // itself is only in the hash of the envelope as submitted, and is checked against
            // the signer's key instead.
            let Content::Dsse { payload, .. } = content else {
                return Err("a message signature logged as an in-toto entry".into());
            };
            (
                text("/spec/content/payloadHash/algorithm") == Some("sha256")
                    && text("/spec/content/payloadHash/value")
                        .is_some_and(|value| value.eq_ignore_ascii_case(&hex::encode(Sha256::digest(payload)))),
                true,
                same_pem(text("/spec/publicKey"), signer),
            )
        }
        ("intoto", "0.0.2") => {
            let Content::Dsse { payload_type, payload, .. } = content else {
                return Err("a message signature logged as an in-toto entry".into());
            };
            let envelope = |pointer: &str| text(&format!("/spec/content/envelope{pointer}"));
            // This kind stores the envelope's base64 fields base64-encoded once more.
            let twice = |value: Option<&str>| {
                value
                    .and_then(|value| STANDARD.decode(value.trim()).ok())
                    .and_then(|inner| STANDARD.decode(String::from_utf8_lossy(&inner).trim()).ok())
            };
            let [one] = body
                .pointer("/spec/content/envelope/signatures")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            else {
                return Err("the log entry records another number of signatures than the envelope's one".into());
            };
            // Rekor drops the payload itself from the stored entry; when present it must match.
            let payload_matches =
                envelope("/payload").is_none_or(|_| twice(envelope("/payload")).as_deref() == Some(payload.as_slice()));
            (
                envelope("/payloadType") == Some(payload_type.as_str())
                    && payload_matches
                    && text("/spec/content/payloadHash/value")
                        .is_some_and(|value| value.eq_ignore_ascii_case(&hex::encode(Sha256::digest(payload)))),
                twice(one.get("sig").and_then(Value::as_str)).as_deref() == Some(signature),
                same_pem(one.get("publicKey").and_then(Value::as_str), signer),
            )
        }
        (kind, version) => {
            return Err(format!(
                "the log entry is of kind {:?} {:?}, which ocicat does not check",
                kind.chars().take(40).collect::<String>(),
                version.chars().take(20).collect::<String>()
            ));
        }
    };
    if !data_ok {
        return Err("the log entry records other content than the bundle's".into());
    }
    if !signature_ok {
        return Err("the log entry records another signature".into());
    }
    if !signer_ok {
        return Err("the log entry records another signer".into());
    }
    Ok(())
}
