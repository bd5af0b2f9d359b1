//! Notary Project (notation) signatures, verified as `notation verify` does at its strict level:
//! integrity (the leaf certificate's key made the signature over the envelope), the signed
//! descriptor is this artifact, the signature has not expired, the signing time lies within
//! every certificate's validity and the chain is valid now (there is no timestamp to say
//! otherwise), the chain leads to a root of the policy's trust store (`notation_roots`), and
//! the leaf's subject is one the policy names (`notation_identities`).

mod envelope;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use crate::verify::{clip, short};
use crate::{Policy, PublicKey, Status, Verdict};
use envelope::{Algorithm, Envelope, Unreadable};

const JWS: &str = "application/jose+json";
const COSE: &str = "application/cose";
const IDENTITY_PREFIX: &str = "x509.subject:";

/// The short names of the subject attributes identities may name, by OID.
const ATTRIBUTES: [(&str, &str); 8] = [
    ("2.5.4.6", "C"),
    ("2.5.4.8", "ST"),
    ("2.5.4.7", "L"),
    ("2.5.4.10", "O"),
    ("2.5.4.11", "OU"),
    ("2.5.4.3", "CN"),
    ("2.5.4.5", "SERIALNUMBER"),
    ("1.2.840.113549.1.9.1", "E"),
];

/// A trusted identity: `*` (anyone under the roots) or the attributes a leaf's subject must
/// hold, as `(short name, value)`.
pub(crate) fn parse_identity(text: &str) -> Result<Option<Vec<(String, String)>>, String> {
    let text = text.trim();
    if text == "*" {
        return Ok(None);
    }
    let Some(name) = text.strip_prefix(IDENTITY_PREFIX) else {
        return Err(format!("must be \"*\" or start with {IDENTITY_PREFIX:?}"));
    };
    if name.contains('\\') || name.contains('+') {
        return Err("escaped or multi-valued names are not supported".into());
    }
    let mut attributes = Vec::new();
    for part in name.split(',') {
        let Some((key, value)) = part.split_once('=') else {
            return Err(format!("{:?} is not KEY=value", part.trim()));
        };
        let key = key.trim().to_ascii_uppercase();
        if !ATTRIBUTES.iter().any(|(_, short)| *short == key) {
            return Err(format!(
                "{key:?} is not a subject attribute ocicat knows (C, ST, L, O, OU, CN, SERIALNUMBER, E)"
            ));
        }
        attributes.push((key, value.trim().to_owned()));
    }
    if attributes.is_empty() {
        return Err("names no attribute".into());
    }
    Ok(Some(attributes))
}

/// The subject attributes of `certificate` as `(short name, value)`.
fn subject_attributes(certificate: &X509Certificate<'_>) -> Vec<(String, String)> {
    certificate
        .subject()
        .iter_attributes()
        .filter_map(|attribute| {
            let oid = attribute.attr_type().to_id_string();
            let short = ATTRIBUTES.iter().find(|(id, _)| *id == oid)?.1;
            Some((short.to_owned(), attribute.as_str().ok()?.to_owned()))
        })
        .collect()
}

/// Whether the leaf whose subject is `subject` is one of `identities`.
fn allowed(identities: &[String], subject: &[(String, String)]) -> bool {
    identities.iter().any(|identity| match parse_identity(identity) {
        Ok(None) => true,
        Ok(Some(wanted)) => wanted.iter().all(|pair| subject.contains(pair)),
        Err(_) => false,
    })
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, String> {
    X509Certificate::from_der(der)
        .map(|(_, certificate)| certificate)
        .map_err(|_| "a certificate of the signature's chain is not x.509".to_owned())
}

/// Whether `child` was issued and signed by `parent`.
fn issued_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    crate::fulcio::signed_by(child, parent)
}

/// Whether `certificate` was valid at `at` (seconds since the epoch).
fn valid_at(certificate: &X509Certificate<'_>, at: i64) -> bool {
    let validity = certificate.validity();
    validity.not_before.timestamp() <= at && at <= validity.not_after.timestamp()
}

/// The verdict on the notation envelope (`media_type`, base64 `envelope`) attached to `subject`.
pub(crate) fn verify(media_type: &str, envelope: &str, subject: &str, policies: &[&Policy]) -> Verdict {
    let Ok(bytes) = STANDARD.decode(envelope) else {
        return Verdict::new(Status::Unverifiable, "the stored envelope is damaged");
    };
    let read = match media_type {
        JWS => envelope::jws(&bytes),
        COSE => envelope::cose(&bytes),
        other => Err(Unreadable::Unsupported(format!("{:?} is not a notation envelope", clip(other)))),
    };
    let envelope = match read {
        Ok(envelope) => envelope,
        Err(Unreadable::Malformed(reason)) => return Verdict::new(Status::Invalid, reason),
        Err(Unreadable::Unsupported(reason)) => return Verdict::new(Status::Unverifiable, reason),
    };
    match check(&envelope, subject, chrono::Utc::now().timestamp()) {
        Ok((identity, subject_attributes)) => judge(&envelope, identity, &subject_attributes, policies),
        Err((reason, identity)) => Verdict::new(Status::Invalid, reason).with_identity(identity),
    }
}

/// Everything that does not depend on a policy: integrity, the signed descriptor, expiry, the
/// chain's links and validity. Answers the leaf's subject (as text and as attributes).
#[allow(clippy::type_complexity)]
fn check(
    envelope: &Envelope,
    subject: &str,
    now: i64,
) -> Result<(String, Vec<(String, String)>), (String, Option<String>)> {
    let Some(leaf_der) = envelope.chain.first() else {
        return Err(("the envelope carries no signing certificate".into(), None));
    };
    let leaf = parse(leaf_der).map_err(|reason| (reason, None))?;
    let identity = clip(&leaf.subject().to_string());
    let fail = |reason: String| (reason, Some(identity.clone()));
    let key = PublicKey::from_spki_der(leaf.public_key().raw)
        .map_err(|error| fail(format!("the signing certificate's key: {error}")))?;
    let intact = match envelope.algorithm {
        Algorithm::Pss(hash) => key.verifies_pss(hash, &envelope.signed, &envelope.signature),
        Algorithm::Ecdsa(hash) => key.is_ecdsa() && key.verifies_with(hash, &envelope.signed, &envelope.signature),
    };
    if !intact {
        return Err(fail("the signature does not match its certificate".into()));
    }
    let payload: Value =
        serde_json::from_slice(&envelope.payload).map_err(|_| fail("the signed payload is not json".into()))?;
    let Some(signed) = payload.pointer("/targetArtifact/digest").and_then(Value::as_str) else {
        return Err(fail("the signed payload names no artifact".into()));
    };
    if signed != subject {
        return Err(fail(format!("signs {}, not this artifact ({})", short(signed), short(subject))));
    }
    if let Some(expiry) = envelope.expiry.filter(|expiry| *expiry < now) {
        return Err(fail(format!("the signature expired at {}", crate::verify::rfc3339(expiry))));
    }
    let signing_time = match envelope.scheme.as_str() {
        "notary.x509" => envelope.signing_time,
        "notary.x509.signingAuthority" => envelope.authentic_signing_time,
        other => return Err(fail(format!("signing scheme {:?} is not notation's", clip(other)))),
    }
    .ok_or_else(|| fail("the envelope has no signing time".into()))?;
    let chain = envelope.chain.iter().map(|der| parse(der)).collect::<Result<Vec<_>, _>>().map_err(fail)?;
    for certificate in &chain {
        if !valid_at(certificate, signing_time) {
            return Err(fail(format!(
                "certificate {} was not valid when it signed ({})",
                clip(&certificate.subject().to_string()),
                crate::verify::rfc3339(signing_time)
            )));
        }
        // Without a timestamp countersignature the signing time is the signer's word, so the
        // chain must still be valid now.
        if !valid_at(certificate, now) {
            return Err(fail(format!("certificate {} has expired", clip(&certificate.subject().to_string()))));
        }
    }
    if chain.windows(2).any(|pair| !issued_by(&pair[0], &pair[1])) {
        return Err(fail("the signature's certificate chain is broken".into()));
    }
    Ok((identity, subject_attributes(&leaf)))
}

/// The policy part: the chain leads to a root of a covering policy that names the signer.
fn judge(envelope: &Envelope, identity: String, subject: &[(String, String)], policies: &[&Policy]) -> Verdict {
    let notation: Vec<&Policy> = policies.iter().copied().filter(|policy| !policy.notation_roots.is_empty()).collect();
    if notation.is_empty() {
        let reason =
            format!("signed by certificate {identity}; no policy covering this repository trusts notation signers");
        return Verdict::new(Status::Untrusted, reason).with_identity(Some(identity));
    }
    let Some(top) = envelope.chain.last().and_then(|der| parse(der).ok()) else {
        return Verdict::new(Status::Invalid, "the signature's certificate chain is unreadable");
    };
    let mut refused = None;
    for policy in &notation {
        let anchored = policy.notation_roots.iter().any(|root| {
            envelope.chain.last().is_some_and(|last| last == root)
                || parse(root).is_ok_and(|root| issued_by(&top, &root))
        });
        if !anchored {
            continue;
        }
        if allowed(&policy.notation_identities, subject) {
            return Verdict {
                status: Status::Verified,
                policy: Some(policy.name.clone()),
                identity: Some(identity.clone()),
                issuer: None,
                reason: format!(
                    "notation: signed by certificate {identity}, chained to a root of policy {}",
                    policy.name
                ),
            };
        }
        refused.get_or_insert(policy.name.clone());
    }
    let names: Vec<&str> = notation.iter().map(|policy| policy.name.as_str()).collect();
    let reason = match refused {
        Some(name) => format!("signer {identity} is not among the identities of policy {name}"),
        None => format!("the certificate chain of {identity} leads to no root of policy {}", names.join(", ")),
    };
    Verdict::new(Status::Untrusted, reason).with_identity(Some(identity))
}
