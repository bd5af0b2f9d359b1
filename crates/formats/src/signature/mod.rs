//! Signatures attached to artifacts: cosign simple signing payloads (certificate and Rekor bundle
//! from the layer annotations), sigstore bundles (DSSE or message signature), and notation JWS
//! and COSE envelopes. Nothing is verified here: the view says what the signature claims (who, when,
//! over what), for the UI to show next to the verification status it gets elsewhere.

pub mod cert;
mod cose;
mod cosign;
mod notation;
mod sigstore;

use serde_json::Value;

use crate::text::{self, MAX_SMALL_LIST};
use crate::{FormatError, Hint};

pub use cert::{signer_from_der, signer_from_pem};

/// The layer media type of a cosign simple signing payload.
pub const COSIGN_SIMPLESIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// The media type prefix of sigstore bundles.
pub const SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
/// The layer media type of a notation JWS envelope.
pub const JWS_MEDIA_TYPE: &str = "application/jose+json";
/// The layer media type of a notation COSE envelope.
pub const COSE_MEDIA_TYPE: &str = "application/cose";

/// A signature as the UI shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Signature {
    /// What wrote it.
    pub kind: SignatureKind,
    /// Who signed, from the certificate, when there is one.
    pub signer: Option<Signer>,
    /// When, as the signature or its transparency log entry says (RFC 3339).
    pub signed_at: Option<String>,
    /// The digest of what it signs.
    pub signed_digest: Option<String>,
    /// The image reference it names (cosign's `docker-reference`).
    pub reference: Option<String>,
    /// The signed payload as pretty JSON, cut at 64 KiB.
    pub payload: String,
    /// The in-toto predicate type, for signed statements.
    pub predicate_type: Option<String>,
    /// Further facts as (label, value), e.g. ("signing scheme", "notary.x509").
    pub details: Vec<(String, String)>,
}

/// The kind of signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    /// cosign's legacy simple signing payload.
    CosignSimpleSigning,
    /// A sigstore bundle (cosign v3 and other sigstore clients).
    SigstoreBundle,
    /// A Notary Project (notation) envelope.
    Notation,
}

impl SignatureKind {
    /// A short name for the UI: "cosign", "sigstore bundle", "notation".
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureKind::CosignSimpleSigning => "cosign",
            SignatureKind::SigstoreBundle => "sigstore bundle",
            SignatureKind::Notation => "notation",
        }
    }
}

impl std::fmt::Display for SignatureKind {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The signer a certificate names.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
pub struct Signer {
    /// The subject's distinguished name.
    pub subject: Option<String>,
    /// The issuer's distinguished name.
    pub issuer: Option<String>,
    /// The SAN email or URI (a Fulcio certificate's identity).
    pub identity: Option<String>,
    /// The OIDC issuer of a Fulcio certificate.
    pub oidc_issuer: Option<String>,
    /// Start of validity (RFC 3339).
    pub not_before: Option<String>,
    /// End of validity (RFC 3339).
    pub not_after: Option<String>,
    /// SHA-256 of the DER certificate, lowercase hex.
    pub fingerprint_sha256: Option<String>,
}

/// Reads a signature from bytes, told apart by content (the hint's media type picks COSE and
/// simple signing payloads that lack their `critical.type`).
pub fn parse(bytes: &[u8], hint: &Hint) -> Result<Signature, FormatError> {
    if is_cose(bytes, hint) {
        return cose::read(bytes);
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|error| FormatError::NotJson(text::describe(error)))?;
    from_value(&value, hint)
}

/// Reads a signature from a JSON document.
pub fn from_value(value: &Value, hint: &Hint) -> Result<Signature, FormatError> {
    if is_sigstore_bundle(value) {
        return sigstore::read(value);
    }
    if is_jws(value) {
        return notation::read_jws(value);
    }
    if is_simple_signing(value, hint) {
        return cosign::read(value, hint);
    }
    Err(FormatError::Unrecognised("not a cosign payload, sigstore bundle or notation envelope".into()))
}

/// Whether the bytes are a COSE envelope: the media type says so, or they open with the CBOR
/// tag of COSE_Sign1 (18), which no JSON document does.
pub(crate) fn is_cose(bytes: &[u8], hint: &Hint) -> bool {
    hint.media_type.eq_ignore_ascii_case(COSE_MEDIA_TYPE) || bytes.first() == Some(&0xd2)
}

/// Whether `value` is a sigstore bundle.
pub(crate) fn is_sigstore_bundle(value: &Value) -> bool {
    let typed =
        text::str_at(value, "mediaType").is_some_and(|kind| kind.starts_with(SIGSTORE_BUNDLE_MEDIA_TYPE_PREFIX));
    typed
        || (value.get("verificationMaterial").is_some_and(Value::is_object)
            && (value.get("dsseEnvelope").is_some() || value.get("messageSignature").is_some()))
}

/// Whether `value` is a JWS in JSON serialization (flattened).
pub(crate) fn is_jws(value: &Value) -> bool {
    ["payload", "protected", "signature"].iter().all(|key| text::str_at(value, key).is_some())
}

/// Whether `value` is a cosign simple signing payload.
pub(crate) fn is_simple_signing(value: &Value, hint: &Hint) -> bool {
    value.pointer("/critical/type").is_some_and(Value::is_string)
        || (hint.media_type.eq_ignore_ascii_case(COSIGN_SIMPLESIGNING_MEDIA_TYPE) && value.is_object())
}

/// Collects (label, value) facts, clipping both and keeping at most a thousand.
#[derive(Debug, Default)]
pub(crate) struct Details(Vec<(String, String)>);

impl Details {
    pub(crate) fn add(&mut self, label: &str, value: impl AsRef<str>) {
        let value = value.as_ref().trim();
        if !value.is_empty() && self.0.len() < MAX_SMALL_LIST {
            self.0.push((text::clip(label), text::clip(value)));
        }
    }

    pub(crate) fn into_vec(self) -> Vec<(String, String)> {
        self.0
    }
}

/// "rekor index N at T" for a transparency log entry.
pub(crate) fn transparency_log(index: Option<i64>, integrated: Option<&str>) -> Option<String> {
    match (index, integrated) {
        (Some(index), Some(time)) => Some(format!("rekor index {index} at {time}")),
        (Some(index), None) => Some(format!("rekor index {index}")),
        (None, Some(time)) => Some(format!("rekor entry at {time}")),
        (None, None) => None,
    }
}
