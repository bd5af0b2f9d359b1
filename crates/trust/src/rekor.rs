//! Rekor transparency log entries as cosign attaches them (`dev.sigstore.cosign/bundle`): the
//! log's signed entry timestamp over the canonical entry, checked with the trusted root's key
//! for that log; what the entry's body must record is checked by `bundle::records`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::Value;

use crate::keys::Hash;
use crate::root::TrustedRoot;

/// A verified log entry.
#[derive(Debug, Clone)]
pub(crate) struct LogEntry {
    /// When the log recorded it (seconds since the epoch).
    pub(crate) integrated_time: i64,
    /// Its index in the log.
    pub(crate) log_index: i64,
    /// The entry's body (JSON).
    pub(crate) body: Vec<u8>,
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
    let signature = STANDARD
        .decode(bundle.signed_entry_timestamp.trim())
        .map_err(|_| "the signed entry timestamp is not base64".to_owned())?;
    check_promise(&body, integrated_time, log_index, &id, &signature, root)?;
    let body = STANDARD.decode(body).map_err(|_| "the log entry's body is not base64".to_owned())?;
    Ok(LogEntry { integrated_time, log_index, body })
}

/// Checks a signed entry timestamp (the log's promise to include an entry): the log `log_id`
/// is the root's and valid at `integrated_time`, and its key signed the RFC 8785 form of
/// `{body, integratedTime, logID, logIndex}`.
pub(crate) fn check_promise(
    body: &str,
    integrated_time: i64,
    log_index: i64,
    log_id: &[u8],
    signature: &[u8],
    root: &TrustedRoot,
) -> Result<(), String> {
    let log = root
        .log(log_id, integrated_time)
        .ok_or_else(|| "the signature was logged in a transparency log the trusted root does not name".to_owned())?;
    // RFC 8785: keys in order, no spaces; the strings hold only base64 and hex.
    let canonical = format!(
        "{{\"body\":{},\"integratedTime\":{integrated_time},\"logID\":{},\"logIndex\":{log_index}}}",
        Value::String(body.to_owned()),
        Value::String(hex::encode(log_id)),
    );
    if !log.key.verifies_with(Hash::Sha256, canonical.as_bytes(), signature) {
        return Err("the transparency log's signature over the entry does not verify".into());
    }
    Ok(())
}
