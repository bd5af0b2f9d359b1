//! A Sigstore trusted root (`application/vnd.dev.sigstore.trustedroot+json`): the Fulcio
//! certificate authorities and the Rekor transparency logs, each with the time it was valid.
//! The public-good root ships with ocicat (`data/sigstore-trusted-root.json`, from the PyPI
//! `sigstore` wheel, see `data/README.md`); a policy may name another file.

use std::sync::{Arc, LazyLock};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use crate::{PublicKey, TrustError};

/// A certificate authority: its chain (DER, the issuing certificate first, the root last) and
/// the time it was valid, in seconds since the epoch.
#[derive(Debug, Clone)]
pub(crate) struct CertificateAuthority {
    /// The authority's URI, for verdicts.
    pub(crate) uri: String,
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) start: i64,
    pub(crate) end: Option<i64>,
}

/// A transparency log: its key and id (SHA-256 of the key's DER), valid from `start`.
#[derive(Debug, Clone)]
pub(crate) struct TransparencyLog {
    pub(crate) key: PublicKey,
    pub(crate) log_id: Vec<u8>,
    pub(crate) start: i64,
    pub(crate) end: Option<i64>,
}

/// The roots keyless signatures chain to.
#[derive(Clone)]
pub struct TrustedRoot {
    pub(crate) authorities: Vec<CertificateAuthority>,
    /// RFC 3161 timestamp authorities (their chains start with the signing certificate).
    pub(crate) timestamp_authorities: Vec<CertificateAuthority>,
    pub(crate) logs: Vec<TransparencyLog>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RootFile {
    #[serde(default)]
    tlogs: Vec<LogEntry>,
    #[serde(default)]
    certificate_authorities: Vec<AuthorityEntry>,
    #[serde(default)]
    timestamp_authorities: Vec<AuthorityEntry>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogEntry {
    public_key: KeyEntry,
    log_id: LogId,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KeyEntry {
    raw_bytes: String,
    valid_for: Option<Validity>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthorityEntry {
    #[serde(default)]
    uri: String,
    cert_chain: CertChain,
    valid_for: Option<Validity>,
}

#[derive(Deserialize)]
struct CertChain {
    certificates: Vec<RawBytes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawBytes {
    raw_bytes: String,
}

#[derive(Deserialize)]
struct Validity {
    start: Option<String>,
    end: Option<String>,
}

impl std::fmt::Debug for TrustedRoot {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TrustedRoot")
            .field("authorities", &self.authorities.len())
            .field("logs", &self.logs.len())
            .finish()
    }
}

/// Seconds since the epoch of an RFC 3339 time.
pub(crate) fn unix_seconds(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|time| time.timestamp())
}

/// The validity of a key or authority; its start is required (an open start would trust a key
/// before it existed).
fn span(validity: Option<&Validity>, what: &str) -> Result<(i64, Option<i64>), TrustError> {
    let bad = |text: &str| TrustError::Policy(format!("trusted root: {text:?} is not an RFC 3339 time"));
    let start = match validity.and_then(|validity| validity.start.as_deref()) {
        Some(text) => unix_seconds(text).ok_or_else(|| bad(text))?,
        None => return Err(TrustError::Policy(format!("trusted root: {what} has no validity start"))),
    };
    let end = match validity.and_then(|validity| validity.end.as_deref()) {
        Some(text) => Some(unix_seconds(text).ok_or_else(|| bad(text))?),
        None => None,
    };
    Ok((start, end))
}

fn base64(text: &str, what: &str) -> Result<Vec<u8>, TrustError> {
    STANDARD.decode(text).map_err(|_| TrustError::Policy(format!("trusted root: {what} is not base64")))
}

fn read_authorities(entries: &[AuthorityEntry], what: &str) -> Result<Vec<CertificateAuthority>, TrustError> {
    let mut authorities = Vec::new();
    for authority in entries {
        let (start, end) = span(authority.valid_for.as_ref(), what)?;
        let chain = authority
            .cert_chain
            .certificates
            .iter()
            .map(|certificate| base64(&certificate.raw_bytes, "a certificate"))
            .collect::<Result<Vec<_>, _>>()?;
        if chain.is_empty() {
            return Err(TrustError::Policy(format!("trusted root: {what} has no certificates")));
        }
        authorities.push(CertificateAuthority { uri: authority.uri.clone(), chain, start, end });
    }
    Ok(authorities)
}

impl TrustedRoot {
    /// Reads a trusted root JSON document.
    pub fn from_json(text: &str) -> Result<TrustedRoot, TrustError> {
        let file: RootFile = serde_json::from_str(text)
            .map_err(|error| TrustError::Policy(format!("trusted root is not a sigstore trusted root: {error}")))?;
        let mut logs = Vec::new();
        for log in &file.tlogs {
            let (start, end) = span(log.public_key.valid_for.as_ref(), "a transparency log key")?;
            let key = PublicKey::from_spki_der(&base64(&log.public_key.raw_bytes, "a log key")?)
                .map_err(|error| TrustError::Policy(format!("trusted root: a log key: {error}")))?;
            logs.push(TransparencyLog { key, log_id: base64(&log.log_id.key_id, "a log id")?, start, end });
        }
        let authorities = read_authorities(&file.certificate_authorities, "a certificate authority")?;
        let timestamp_authorities = read_authorities(&file.timestamp_authorities, "a timestamp authority")?;
        if authorities.is_empty() || logs.is_empty() {
            return Err(TrustError::Policy(
                "trusted root names no certificate authority or no transparency log".into(),
            ));
        }
        Ok(TrustedRoot { authorities, timestamp_authorities, logs })
    }

    /// The Sigstore public-good root that ships with ocicat.
    pub fn public_good() -> Arc<TrustedRoot> {
        static ROOT: LazyLock<Arc<TrustedRoot>> = LazyLock::new(|| {
            Arc::new(
                TrustedRoot::from_json(include_str!("../data/sigstore-trusted-root.json"))
                    .expect("the shipped trusted root reads"),
            )
        });
        ROOT.clone()
    }

    /// The transparency log with id `log_id`, valid at `at`.
    pub(crate) fn log(&self, log_id: &[u8], at: i64) -> Option<&TransparencyLog> {
        self.logs.iter().find(|log| log.log_id == log_id && log.start <= at && log.end.is_none_or(|end| at <= end))
    }
}
