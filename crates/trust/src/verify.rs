//! Gives one signature its verdict under the policies that cover its repository. Offline: only
//! the evidence, the subject's digest and the policies' keys are used.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::keys::pem_body;
use crate::{Evidence, Policy, PublicKey, Status, Verdict};

/// The `critical.type` of a cosign signature over a container image.
const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// The verdict on the signature `evidence`, attached to the artifact `subject` (its digest),
/// under `policies` (those covering the artifact's repository).
pub fn verify(evidence: &Evidence, subject: &str, policies: &[&Policy]) -> Verdict {
    match evidence {
        Evidence::CosignSimpleSigning { payload, signature, certificate, .. } => {
            cosign(payload, signature.as_deref(), certificate.as_deref(), subject, policies)
        }
        Evidence::SigstoreBundle { .. } => {
            Verdict::new(Status::Unverifiable, "sigstore bundles are not verified by this version of ocicat")
        }
        Evidence::Notation { .. } => {
            Verdict::new(Status::Unverifiable, "notation signatures are not verified by this version of ocicat")
        }
        Evidence::Unreadable { reason } => Verdict::new(Status::Unverifiable, reason.clone()),
    }
}

/// The verdicts on every signature a signature artifact holds (`evidence`, in order), attached to
/// `subject`; one unverifiable verdict when it holds none ocicat can read.
pub fn verify_all(evidence: &[Evidence], subject: &str, policies: &[&Policy]) -> Vec<Verdict> {
    if evidence.is_empty() {
        return vec![Verdict::new(Status::Unverifiable, "it holds no signature ocicat can read")];
    }
    evidence.iter().map(|one| verify(one, subject, policies)).collect()
}

/// A cosign simple signing signature: the payload names `subject`, and a policy's key (or the
/// attached certificate) made the signature over the payload's exact bytes.
fn cosign(
    payload: &str,
    signature: Option<&str>,
    certificate: Option<&str>,
    subject: &str,
    policies: &[&Policy],
) -> Verdict {
    let Ok(payload) = STANDARD.decode(payload) else {
        return Verdict::new(Status::Unverifiable, "the stored payload is damaged");
    };
    let Some(signature) = signature else {
        return Verdict::new(Status::Invalid, "the layer carries no signature (dev.cosignproject.cosign/signature)");
    };
    let Ok(signature) = STANDARD.decode(signature.trim()) else {
        return Verdict::new(Status::Invalid, "the signature annotation is not base64");
    };
    if let Err(reason) = names_subject(&payload, subject) {
        return Verdict::new(Status::Invalid, reason);
    }
    for policy in policies {
        if let Some(key) = policy.keys.iter().find(|key| key.verifies(&payload, &signature)) {
            return Verdict {
                status: Status::Verified,
                policy: Some(policy.name.clone()),
                identity: Some(key.describe()),
                issuer: None,
                reason: format!("signed with {} of policy {}", key.describe(), policy.name),
            };
        }
    }
    if let Some(pem) = certificate {
        return match certificate_key(pem) {
            Ok((key, identity)) if key.verifies(&payload, &signature) => Verdict::new(
                Status::Untrusted,
                format!(
                    "signed by certificate {}; keyless signers are not verified by this version of ocicat",
                    identity.as_deref().unwrap_or("without an identity")
                ),
            )
            .with_identity(identity),
            Ok((_, identity)) => {
                Verdict::new(Status::Invalid, "the signature does not match its certificate").with_identity(identity)
            }
            Err(reason) => Verdict::new(Status::Invalid, reason),
        };
    }
    if policies.is_empty() {
        return Verdict::new(Status::Untrusted, "no trust policy covers this repository");
    }
    // The policies that cover the repository name the keys its signatures must come from: a
    // signature none of them made (another key, or a payload changed after signing) is refused.
    let names: Vec<&str> = policies.iter().map(|policy| policy.name.as_str()).collect();
    Verdict::new(
        Status::Invalid,
        format!("not made by a key of policy {} (another key, or a changed payload)", names.join(", ")),
    )
}

/// Whether the simple signing `payload` is a container image signature over `subject`.
fn names_subject(payload: &[u8], subject: &str) -> Result<(), String> {
    let value: Value = serde_json::from_slice(payload).map_err(|_| "the signed payload is not json".to_owned())?;
    let kind = value.pointer("/critical/type").and_then(Value::as_str).unwrap_or_default();
    if !kind.eq_ignore_ascii_case(COSIGN_SIGNATURE_TYPE) {
        return Err(format!("the payload's type {:?} is not a cosign container image signature", clip(kind)));
    }
    let Some(signed) = value.pointer("/critical/image/docker-manifest-digest").and_then(Value::as_str) else {
        return Err("the payload names no image digest".to_owned());
    };
    if signed != subject {
        return Err(format!("signs {}, not this artifact ({})", short(signed), short(subject)));
    }
    Ok(())
}

/// The public key and identity (SAN email or URI, else the subject) of a PEM certificate.
fn certificate_key(pem: &str) -> Result<(PublicKey, Option<String>), String> {
    let der = pem_body(pem, "CERTIFICATE").ok_or_else(|| "the attached certificate is not PEM".to_owned())?;
    let (_, certificate) = x509_parser::parse_x509_certificate(&der)
        .map_err(|_| "the attached certificate is not an x.509 certificate".to_owned())?;
    let key = PublicKey::from_spki_der(certificate.public_key().raw)
        .map_err(|error| format!("the attached certificate's key: {error}"))?;
    let san = certificate.subject_alternative_name().ok().flatten().and_then(|extension| {
        extension.value.general_names.iter().find_map(|name| match name {
            x509_parser::extensions::GeneralName::RFC822Name(email) => Some((*email).to_owned()),
            x509_parser::extensions::GeneralName::URI(uri) => Some((*uri).to_owned()),
            _ => None,
        })
    });
    Ok((key, san.or_else(|| Some(certificate.subject().to_string())).map(|text| clip(&text))))
}

/// `sha256:0123456789ab…` for a digest in a sentence.
fn short(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) if hex.len() > 12 => format!("{algorithm}:{}…", clip(&hex[..12])),
        _ => clip(digest),
    }
}

/// A registry string cut to 200 characters for a reason.
fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}
