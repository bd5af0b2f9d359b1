//! Reads a sigstore bundle (protobuf-specs `Bundle` in JSON, v0.1–v0.3) into what verification
//! needs: the version, the signed content (a message signature over a digest, or a DSSE
//! envelope), the verification material (a certificate or a key hint), the transparency log
//! entries and the RFC 3161 timestamps. Anything malformed is refused with the reason.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use sha2::{Digest as _, Sha256, Sha384, Sha512};

use crate::keys::Hash;
use crate::tlog::InclusionProof;

/// Most log entries and timestamps read from one bundle.
const MAX_ENTRIES: usize = 8;

/// The bundle format's version; the rules differ (v0.1 needs inclusion promises, later ones
/// inclusion proofs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    V01,
    V02,
    V03,
}

/// What was signed.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// A signature over an artifact's digest.
    Message { hash: Hash, algorithm: &'static str, digest: Vec<u8>, signature: Vec<u8> },
    /// A DSSE envelope (an in-toto statement) with its one signature.
    Dsse { payload_type: String, payload: Vec<u8>, signature: Vec<u8> },
}

/// Who signed: a certificate (DER, the leaf) or a key the verifier must bring.
#[derive(Debug, Clone)]
pub(crate) enum Material {
    Certificate(Vec<u8>),
    Key { hint: Option<String> },
}

/// One transparency log entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) log_index: i64,
    pub(crate) log_id: Vec<u8>,
    pub(crate) kind: String,
    pub(crate) version: String,
    pub(crate) integrated_time: Option<i64>,
    pub(crate) promise: Option<Vec<u8>>,
    pub(crate) proof: Option<InclusionProof>,
    /// The canonical body, base64 as logged (the promise signs this text).
    pub(crate) body_base64: String,
    pub(crate) body: Vec<u8>,
}

/// A bundle as verification reads it.
#[derive(Debug, Clone)]
pub(crate) struct Bundle {
    pub(crate) version: Version,
    pub(crate) content: Content,
    pub(crate) material: Material,
    pub(crate) entries: Vec<Entry>,
    /// DER RFC 3161 timestamp responses (`signedTimestamp`).
    pub(crate) timestamps: Vec<Vec<u8>>,
}

/// Why a bundle cannot be read: malformed (invalid) or of a version ocicat does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    Malformed(String),
    UnknownVersion(String),
}

fn malformed(reason: impl Into<String>) -> Unreadable {
    Unreadable::Malformed(reason.into())
}

fn base64_at(value: &Value, pointer: &str, what: &str) -> Result<Vec<u8>, Unreadable> {
    let text =
        value.pointer(pointer).and_then(Value::as_str).ok_or_else(|| malformed(format!("the bundle has no {what}")))?;
    // Encoders may wrap long base64 lines (protobuf's JSON readers skip the whitespace too).
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD.decode(compact).map_err(|_| malformed(format!("the bundle's {what} is not base64")))
}

/// A protobuf int64 (a JSON string, or a number).
fn int64(value: Option<&Value>) -> Option<i64> {
    match value? {
        Value::String(text) => text.parse().ok(),
        Value::Number(number) => number.as_i64(),
        _ => None,
    }
}

fn version(media_type: &str) -> Result<Version, Unreadable> {
    match media_type {
        "application/vnd.dev.sigstore.bundle+json;version=0.1" => Ok(Version::V01),
        "application/vnd.dev.sigstore.bundle+json;version=0.2" => Ok(Version::V02),
        "application/vnd.dev.sigstore.bundle+json;version=0.3" | "application/vnd.dev.sigstore.bundle.v0.3+json" => {
            Ok(Version::V03)
        }
        other => Err(Unreadable::UnknownVersion(format!(
            "sigstore bundle of media type {:?} is a version ocicat does not know",
            other.chars().take(100).collect::<String>()
        ))),
    }
}

/// The hash named by a protobuf `HashAlgorithm`.
fn hash_algorithm(name: &str) -> Option<(Hash, &'static str)> {
    match name {
        "SHA2_256" => Some((Hash::Sha256, "sha256")),
        "SHA2_384" => Some((Hash::Sha384, "sha384")),
        "SHA2_512" => Some((Hash::Sha512, "sha512")),
        _ => None,
    }
}

/// The digest of `bytes` with `hash`.
pub(crate) fn digest(hash: Hash, bytes: &[u8]) -> Vec<u8> {
    match hash {
        Hash::Sha384 => Sha384::digest(bytes).to_vec(),
        Hash::Sha512 => Sha512::digest(bytes).to_vec(),
        _ => Sha256::digest(bytes).to_vec(),
    }
}

impl Content {
    /// DSSE's pre-authentication encoding of the envelope: what its signature covers.
    pub(crate) fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
        let mut bytes = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
        bytes.extend_from_slice(payload);
        bytes
    }

    /// The signature over the content.
    pub(crate) fn signature(&self) -> &[u8] {
        match self {
            Content::Message { signature, .. } | Content::Dsse { signature, .. } => signature,
        }
    }
}

/// The content of a DSSE envelope (JSON) with exactly one signature.
pub(crate) fn dsse_content(envelope: &Value) -> Result<Content, String> {
    let reason = |error: Unreadable| match error {
        Unreadable::Malformed(reason) | Unreadable::UnknownVersion(reason) => reason,
    };
    let payload_type = envelope
        .get("payloadType")
        .and_then(Value::as_str)
        .ok_or_else(|| "the DSSE envelope has no payload type".to_owned())?
        .to_owned();
    let payload = base64_at(envelope, "/payload", "DSSE payload").map_err(reason)?;
    let signatures = envelope.get("signatures").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let [one] = signatures else {
        return Err(format!(
            "the DSSE envelope carries {} signatures; ocicat checks envelopes with one",
            signatures.len()
        ));
    };
    let signature = base64_at(one, "/sig", "DSSE signature").map_err(reason)?;
    Ok(Content::Dsse { payload_type, payload, signature })
}

fn content(bundle: &Value) -> Result<Content, Unreadable> {
    if let Some(envelope) = bundle.get("dsseEnvelope").filter(|value| value.is_object()) {
        return dsse_content(envelope).map_err(Unreadable::Malformed);
    }
    if let Some(message) = bundle.get("messageSignature").filter(|value| value.is_object()) {
        let name = message.pointer("/messageDigest/algorithm").and_then(Value::as_str).unwrap_or("SHA2_256");
        let (hash, algorithm) = hash_algorithm(name)
            .ok_or_else(|| malformed(format!("the message digest's algorithm {name:?} is unknown")))?;
        let digest = base64_at(message, "/messageDigest/digest", "message digest")?;
        let signature = base64_at(message, "/signature", "signature")?;
        return Ok(Content::Message { hash, algorithm, digest, signature });
    }
    Err(malformed("the bundle holds neither a DSSE envelope nor a message signature"))
}

fn material(material: &Value) -> Result<Material, Unreadable> {
    if let Some(certificate) = material.get("certificate").filter(|value| value.is_object()) {
        return Ok(Material::Certificate(base64_at(certificate, "/rawBytes", "certificate")?));
    }
    if let Some(chain) = material.get("x509CertificateChain").filter(|value| value.is_object()) {
        let certificates = chain.get("certificates").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let Some((leaf, rest)) = certificates.split_first() else {
            return Err(malformed("the bundle's certificate chain is empty"));
        };
        // The chain may carry intermediates, never a root: trust comes from the trusted root.
        for certificate in rest {
            let der = base64_at(certificate, "/rawBytes", "chain certificate")?;
            let (_, parsed) = x509_parser::parse_x509_certificate(&der)
                .map_err(|_| malformed("a certificate of the bundle's chain is not x.509"))?;
            let self_issued = parsed.issuer() == parsed.subject();
            if self_issued {
                return Err(malformed("the bundle's certificate chain carries a root certificate"));
            }
        }
        return Ok(Material::Certificate(base64_at(leaf, "/rawBytes", "certificate")?));
    }
    if let Some(key) = material.get("publicKey").filter(|value| value.is_object()) {
        let hint = key.get("hint").and_then(Value::as_str).map(|hint| hint.chars().take(100).collect());
        return Ok(Material::Key { hint });
    }
    Err(malformed("the bundle has no certificate and no public key"))
}

fn entry(entry: &Value) -> Result<Entry, Unreadable> {
    let log_index = int64(entry.get("logIndex")).ok_or_else(|| malformed("a log entry has no index"))?;
    let log_id = base64_at(entry, "/logId/keyId", "log id")?;
    let text = |pointer: &str| entry.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
    let integrated_time = int64(entry.get("integratedTime")).filter(|time| *time != 0);
    let promise = match entry.pointer("/inclusionPromise/signedEntryTimestamp") {
        Some(_) => Some(base64_at(entry, "/inclusionPromise/signedEntryTimestamp", "signed entry timestamp")?),
        None => None,
    };
    let proof = match entry.get("inclusionProof").filter(|value| value.is_object()) {
        Some(proof) => {
            let number = |key: &str| {
                int64(proof.get(key))
                    .and_then(|value| u64::try_from(value).ok())
                    .ok_or_else(|| malformed(format!("the inclusion proof's {key} is not a count")))
            };
            let hashes = proof
                .get("hashes")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
                .iter()
                .take(65)
                .map(|hash| {
                    hash.as_str()
                        .and_then(|text| STANDARD.decode(text).ok())
                        .ok_or_else(|| malformed("an inclusion proof hash is not base64"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(InclusionProof {
                index: number("logIndex")?,
                tree_size: number("treeSize")?,
                root_hash: base64_at(proof, "/rootHash", "inclusion proof's root hash")?,
                hashes,
                checkpoint: proof
                    .pointer("/checkpoint/envelope")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
            })
        }
        None => None,
    };
    let body_base64 = text("/canonicalizedBody");
    let body = STANDARD.decode(&body_base64).map_err(|_| malformed("a log entry's body is not base64"))?;
    Ok(Entry {
        log_index,
        log_id,
        kind: text("/kindVersion/kind"),
        version: text("/kindVersion/version"),
        integrated_time,
        promise,
        proof,
        body_base64,
        body,
    })
}

/// Reads the bundle `text`.
pub(crate) fn parse(text: &str) -> Result<Bundle, Unreadable> {
    let value: Value =
        serde_json::from_str(text).map_err(|error| malformed(format!("the bundle is not json: {error}")))?;
    let version = version(value.get("mediaType").and_then(Value::as_str).unwrap_or_default())?;
    let verification = value.get("verificationMaterial").unwrap_or(&Value::Null);
    let entries = verification.get("tlogEntries").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    if entries.len() > MAX_ENTRIES {
        return Err(malformed(format!("the bundle carries {} log entries (at most {MAX_ENTRIES})", entries.len())));
    }
    let timestamps = verification
        .pointer("/timestampVerificationData/rfc3161Timestamps")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    if timestamps.len() > MAX_ENTRIES {
        return Err(malformed(format!("the bundle carries {} timestamps (at most {MAX_ENTRIES})", timestamps.len())));
    }
    Ok(Bundle {
        version,
        content: content(&value)?,
        material: material(verification)?,
        entries: entries.iter().map(entry).collect::<Result<_, _>>()?,
        timestamps: timestamps
            .iter()
            .map(|timestamp| base64_at(timestamp, "/signedTimestamp", "timestamp"))
            .collect::<Result<_, _>>()?,
    })
}
