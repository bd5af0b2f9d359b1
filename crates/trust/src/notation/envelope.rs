//! Notary Project signature envelopes (notaryproject/specifications `signature-envelope-jws.md`
//! and `signature-envelope-cose.md`) read into what verification needs: the algorithm, the
//! signed bytes (the JWS signing input, or COSE's `Sig_structure`), the signature, the
//! certificate chain (leaf first), the payload and the signed attributes.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ciborium::Value as Cbor;
use serde_json::Value;

use crate::keys::Hash;

/// The payload's content type both envelopes sign.
const PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
const SIGNING_SCHEME: &str = "io.cncf.notary.signingScheme";
const SIGNING_TIME: &str = "io.cncf.notary.signingTime";
const AUTHENTIC_SIGNING_TIME: &str = "io.cncf.notary.authenticSigningTime";
const EXPIRY: &str = "io.cncf.notary.expiry";
/// Critical attributes ocicat understands (a verification plugin, for one, it does not run).
const UNDERSTOOD: [&str; 4] = [SIGNING_SCHEME, SIGNING_TIME, AUTHENTIC_SIGNING_TIME, EXPIRY];
/// Most certificates read from a chain.
const MAX_CHAIN: usize = 8;

/// How the signature was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    /// RSASSA-PSS.
    Pss(Hash),
    /// ECDSA (P-256 with SHA-256, P-384 with SHA-384).
    Ecdsa(Hash),
}

/// A notation envelope, read.
#[derive(Debug, Clone)]
pub(crate) struct Envelope {
    pub(crate) algorithm: Algorithm,
    pub(crate) signed: Vec<u8>,
    pub(crate) signature: Vec<u8>,
    pub(crate) chain: Vec<Vec<u8>>,
    pub(crate) payload: Vec<u8>,
    pub(crate) scheme: String,
    pub(crate) signing_time: Option<i64>,
    pub(crate) authentic_signing_time: Option<i64>,
    pub(crate) expiry: Option<i64>,
}

/// Why an envelope cannot be checked: it is malformed, or asks for what ocicat does not do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Unreadable {
    Malformed(String),
    Unsupported(String),
}

fn malformed(reason: impl Into<String>) -> Unreadable {
    Unreadable::Malformed(reason.into())
}

fn algorithm(name: &str) -> Result<Algorithm, Unreadable> {
    match name {
        "PS256" => Ok(Algorithm::Pss(Hash::Sha256)),
        "PS384" => Ok(Algorithm::Pss(Hash::Sha384)),
        "PS512" => Ok(Algorithm::Pss(Hash::Sha512)),
        "ES256" => Ok(Algorithm::Ecdsa(Hash::Sha256)),
        "ES384" => Ok(Algorithm::Ecdsa(Hash::Sha384)),
        other => Err(Unreadable::Unsupported(format!(
            "signature algorithm {:?} is not one ocicat checks",
            other.chars().take(20).collect::<String>()
        ))),
    }
}

fn check_critical(critical: &[String]) -> Result<(), Unreadable> {
    match critical.iter().find(|name| !UNDERSTOOD.contains(&name.as_str())) {
        Some(name) => Err(Unreadable::Unsupported(format!(
            "the envelope requires {:?}, which ocicat does not check",
            name.chars().take(80).collect::<String>()
        ))),
        None if !critical.iter().any(|name| name == SIGNING_SCHEME) => {
            Err(malformed("the envelope does not mark its signing scheme critical"))
        }
        None => Ok(()),
    }
}

/// Reads a JWS envelope (`application/jose+json`, JSON serialization).
pub(crate) fn jws(bytes: &[u8]) -> Result<Envelope, Unreadable> {
    let envelope: Value = serde_json::from_slice(bytes).map_err(|_| malformed("the JWS envelope is not json"))?;
    let text = |key: &str| envelope.get(key).and_then(Value::as_str);
    let (Some(protected), Some(payload), Some(signature)) = (text("protected"), text("payload"), text("signature"))
    else {
        return Err(malformed("the JWS envelope lacks its protected header, payload or signature"));
    };
    let url = |value: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(value.trim_end_matches('='))
            .map_err(|_| malformed(format!("the JWS {what} is not base64url")))
    };
    let header: Value = serde_json::from_slice(&url(protected, "protected header")?)
        .map_err(|_| malformed("the JWS protected header is not json"))?;
    let field = |key: &str| header.get(key).and_then(Value::as_str);
    if field("cty") != Some(PAYLOAD_TYPE) {
        return Err(malformed("the JWS payload is not a notation payload"));
    }
    let critical: Vec<String> = header
        .get("crit")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    check_critical(&critical)?;
    let time = |key: &str| {
        field(key)
            .map(|text| {
                crate::root::unix_seconds(text).ok_or_else(|| malformed(format!("{key} is not an RFC 3339 time")))
            })
            .transpose()
    };
    let chain = envelope
        .pointer("/header/x5c")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .take(MAX_CHAIN)
        .map(|certificate| {
            certificate
                .as_str()
                .and_then(|text| STANDARD.decode(text).ok())
                .ok_or_else(|| malformed("a certificate of the JWS x5c is not base64"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Envelope {
        algorithm: algorithm(field("alg").unwrap_or_default())?,
        signed: format!("{protected}.{payload}").into_bytes(),
        signature: url(signature, "signature")?,
        chain,
        payload: url(payload, "payload")?,
        scheme: field(SIGNING_SCHEME).unwrap_or_default().to_owned(),
        signing_time: time(SIGNING_TIME)?,
        authentic_signing_time: time(AUTHENTIC_SIGNING_TIME)?,
        expiry: time(EXPIRY)?,
    })
}

/// The value under `key` (a text label) or `label` (an integer label) of a CBOR map.
fn entry<'a>(map: &'a [(Cbor, Cbor)], key: Option<&str>, label: Option<i64>) -> Option<&'a Cbor> {
    map.iter().find_map(|(name, value)| {
        let hit = match name {
            Cbor::Text(text) => key == Some(text.as_str()),
            Cbor::Integer(number) => label.is_some_and(|label| i128::from(*number) == i128::from(label)),
            _ => false,
        };
        hit.then_some(value)
    })
}

/// A COSE time: `tag 1` around seconds since the epoch (or the bare integer).
fn cose_time(value: Option<&Cbor>, what: &str) -> Result<Option<i64>, Unreadable> {
    let Some(value) = value else { return Ok(None) };
    let inner = match value {
        Cbor::Tag(1, inner) => inner.as_ref(),
        other => other,
    };
    match inner {
        Cbor::Integer(number) => {
            i64::try_from(i128::from(*number)).map(Some).map_err(|_| malformed(format!("{what} is out of range")))
        }
        _ => Err(malformed(format!("{what} is not a time"))),
    }
}

/// Reads a COSE_Sign1 envelope (`application/cose`).
pub(crate) fn cose(bytes: &[u8]) -> Result<Envelope, Unreadable> {
    let value: Cbor = ciborium::from_reader(bytes).map_err(|_| malformed("the COSE envelope is not CBOR"))?;
    let value = match value {
        Cbor::Tag(18, inner) => *inner,
        other => other,
    };
    let Cbor::Array(parts) = value else { return Err(malformed("the COSE envelope is not a COSE_Sign1")) };
    let [Cbor::Bytes(protected), Cbor::Map(unprotected), Cbor::Bytes(payload), Cbor::Bytes(signature)] =
        parts.as_slice()
    else {
        return Err(malformed("the COSE envelope is not a COSE_Sign1"));
    };
    let header: Cbor =
        ciborium::from_reader(protected.as_slice()).map_err(|_| malformed("the COSE protected header is not CBOR"))?;
    let Cbor::Map(header) = header else { return Err(malformed("the COSE protected header is not a map")) };
    let content_type = entry(&header, None, Some(3)).and_then(Cbor::as_text);
    if content_type != Some(PAYLOAD_TYPE) {
        return Err(malformed("the COSE payload is not a notation payload"));
    }
    let critical: Vec<String> = entry(&header, None, Some(2))
        .and_then(Cbor::as_array)
        .map(|names| names.iter().filter_map(Cbor::as_text).map(str::to_owned).collect())
        .unwrap_or_default();
    check_critical(&critical)?;
    let algorithm = match entry(&header, None, Some(1)).and_then(Cbor::as_integer).map(i128::from) {
        Some(-37) => Algorithm::Pss(Hash::Sha256),
        Some(-38) => Algorithm::Pss(Hash::Sha384),
        Some(-39) => Algorithm::Pss(Hash::Sha512),
        Some(-7) => Algorithm::Ecdsa(Hash::Sha256),
        Some(-35) => Algorithm::Ecdsa(Hash::Sha384),
        other => {
            return Err(Unreadable::Unsupported(format!("COSE algorithm {other:?} is not one ocicat checks")));
        }
    };
    let chain = match entry(unprotected, None, Some(33)) {
        Some(Cbor::Bytes(one)) => vec![one.clone()],
        Some(Cbor::Array(many)) => many
            .iter()
            .take(MAX_CHAIN)
            .map(|certificate| {
                certificate.as_bytes().cloned().ok_or_else(|| malformed("a COSE x5chain entry is not bytes"))
            })
            .collect::<Result<_, _>>()?,
        _ => Vec::new(),
    };
    let mut signed = Vec::new();
    let structure = Cbor::Array(vec![
        Cbor::Text("Signature1".into()),
        Cbor::Bytes(protected.clone()),
        Cbor::Bytes(Vec::new()),
        Cbor::Bytes(payload.clone()),
    ]);
    ciborium::into_writer(&structure, &mut signed)
        .map_err(|_| malformed("the COSE signed structure cannot be encoded"))?;
    Ok(Envelope {
        algorithm,
        signed,
        signature: signature.clone(),
        chain,
        payload: payload.clone(),
        scheme: entry(&header, Some(SIGNING_SCHEME), None).and_then(Cbor::as_text).unwrap_or_default().to_owned(),
        signing_time: cose_time(entry(&header, Some(SIGNING_TIME), None), SIGNING_TIME)?,
        authentic_signing_time: cose_time(entry(&header, Some(AUTHENTIC_SIGNING_TIME), None), AUTHENTIC_SIGNING_TIME)?,
        expiry: cose_time(entry(&header, Some(EXPIRY), None), EXPIRY)?,
    })
}
