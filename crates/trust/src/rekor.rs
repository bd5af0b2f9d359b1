//! Rekor transparency log entries as cosign attaches them (`dev.sigstore.cosign/bundle`): the
//! log's signed entry timestamp over the canonical entry, checked with the trusted root's key
//! for that log, and the entry's `hashedrekord` body, which must record this very signature,
//! payload and certificate.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::keys::{Hash, pem_body};
use crate::root::TrustedRoot;

/// A verified log entry.
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    /// When the log recorded it (seconds since the epoch).
    pub(crate) integrated_time: i64,
    /// Its index in the log.
    pub(crate) log_index: i64,
    /// The entry's body (JSON).
    body: Vec<u8>,
}

#[derive(Deserialize)]
struct CosignBundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: String,
    #[serde(rename = "Payload")]
    payload: Payload,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Payload {
    body: String,
    integrated_time: i64,
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// Checks cosign's Rekor bundle against `root`: the log it names is the root's, and the log's
/// key signed the entry as it stands.
pub(crate) fn check_cosign_bundle(bundle: &str, root: &TrustedRoot) -> Result<LogEntry, String> {
    let bundle: CosignBundle =
        serde_json::from_str(bundle).map_err(|_| "the transparency log bundle is not what cosign writes".to_owned())?;
    let Payload { body, integrated_time, log_index, log_id } = bundle.payload;
    let id = hex::decode(&log_id).map_err(|_| "the transparency log id is not hex".to_owned())?;
    let log = root
        .log(&id, integrated_time)
        .ok_or_else(|| "the signature was logged in a transparency log the trusted root does not name".to_owned())?;
    // RFC 8785: keys in order, no spaces; the strings hold only base64 and hex.
    let canonical = format!(
        "{{\"body\":{},\"integratedTime\":{integrated_time},\"logID\":{},\"logIndex\":{log_index}}}",
        Value::String(body.clone()),
        Value::String(log_id.clone()),
    );
    let signature = STANDARD
        .decode(bundle.signed_entry_timestamp.trim())
        .map_err(|_| "the signed entry timestamp is not base64".to_owned())?;
    if !log.key.verifies_with(Hash::Sha256, canonical.as_bytes(), &signature) {
        return Err("the transparency log's signature over the entry does not verify".into());
    }
    let body = STANDARD.decode(body).map_err(|_| "the log entry's body is not base64".to_owned())?;
    Ok(LogEntry { integrated_time, log_index, body })
}

impl LogEntry {
    /// Checks that the entry records `signature` over content whose SHA-256 is `content_sha256`,
    /// made by `certificate` (DER).
    pub(crate) fn records(&self, content_sha256: &[u8], signature: &[u8], certificate: &[u8]) -> Result<(), String> {
        let body: Value =
            serde_json::from_slice(&self.body).map_err(|_| "the log entry's body is not json".to_owned())?;
        let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
        if text("/kind") != Some("hashedrekord") {
            return Err(format!("the log entry is a {:?}, not a hashedrekord", text("/kind").unwrap_or_default()));
        }
        let hash_matches = text("/spec/data/hash/algorithm") == Some("sha256")
            && text("/spec/data/hash/value")
                .is_some_and(|value| value.eq_ignore_ascii_case(&hex::encode(content_sha256)));
        if !hash_matches {
            return Err("the log entry records other content than the signed payload".into());
        }
        let logged_signature = text("/spec/signature/content").and_then(|value| STANDARD.decode(value).ok());
        if logged_signature.as_deref() != Some(signature) {
            return Err("the log entry records another signature".into());
        }
        let logged_certificate = text("/spec/signature/publicKey/content")
            .and_then(|value| STANDARD.decode(value).ok())
            .and_then(|pem| pem_body(&String::from_utf8_lossy(&pem), "CERTIFICATE"));
        if logged_certificate.as_deref() != Some(certificate) {
            return Err("the log entry records another certificate".into());
        }
        Ok(())
    }
}

/// SHA-256 of `bytes`.
pub(crate) fn sha256(bytes: &[u8]) -> Vec<u8> {
    Sha256::digest(bytes).to_vec()
}
