//! Gives one signature its verdict under the policies that cover its repository. Offline: only
//! the evidence, the subject's digest and the policies' keys are used.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value;

use crate::bundle::Content;
use crate::keys::Hash;
use crate::keys::pem_body;
use crate::{Evidence, Policy, PublicKey, Status, Verdict};

/// The `critical.type` of a cosign signature over a container image.
const COSIGN_SIGNATURE_TYPE: &str = "cosign container image signature";

/// The verdict on the signature `evidence`, attached to the artifact `subject` (its digest),
/// under `policies` (those covering the artifact's repository).
pub fn verify(evidence: &Evidence, subject: &str, policies: &[&Policy]) -> Verdict {
    match evidence {
        Evidence::CosignSimpleSigning { payload, signature, certificate, bundle, .. } => {
            let attached = Attached { certificate: certificate.as_deref(), bundle: bundle.as_deref() };
            cosign(payload, signature.as_deref(), attached, subject, policies)
        }
        Evidence::SigstoreBundle { bundle } => crate::bundle::verify(bundle, subject, policies),
        Evidence::Dsse { envelope, certificate, bundle } => {
            let attached = Attached { certificate: certificate.as_deref(), bundle: bundle.as_deref() };
            dsse(envelope, attached, subject, policies)
        }
        Evidence::Notation { media_type, envelope } => crate::notation::verify(media_type, envelope, subject, policies),
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

/// What cosign attaches next to a signature: the signing certificate (PEM) and the Rekor bundle.
struct Attached<'a> {
    certificate: Option<&'a str>,
    bundle: Option<&'a str>,
}

/// A cosign simple signing signature: the payload names `subject`, and a policy's key (or a
/// Fulcio certificate of a signer the policy names, logged in Rekor) made the signature over the
/// payload's exact bytes.
fn cosign(
    payload: &str,
    signature: Option<&str>,
    attached: Attached<'_>,
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
    let made_by = |key: &PublicKey| key.verifies(&payload, &signature);
    let logged = Content::Message {
        hash: Hash::Sha256,
        algorithm: "sha256",
        digest: crate::bundle::digest(Hash::Sha256, &payload),
        signature: signature.clone(),
    };
    attached_signature(&made_by, &logged, attached, policies)
}

/// A DSSE envelope as cosign attaches attestations (`.att`): the in-toto statement names
/// `subject`, and a policy's key or a logged Fulcio certificate made its signature.
fn dsse(envelope: &str, attached: Attached<'_>, subject: &str, policies: &[&Policy]) -> Verdict {
    let content = match serde_json::from_str::<Value>(envelope)
        .map_err(|_| "the DSSE envelope is not json".to_owned())
        .and_then(|value| crate::bundle::dsse_content(&value))
    {
        Ok(content) => content,
        Err(reason) => return Verdict::new(Status::Invalid, reason),
    };
    if let Err(reason) = crate::bundle::binds(&content, subject) {
        return Verdict::new(Status::Invalid, reason);
    }
    let Content::Dsse { payload_type, payload, signature } = &content else { unreachable!("a DSSE envelope") };
    let signed = Content::pae(payload_type, payload);
    let made_by = |key: &PublicKey| key.verifies(&signed, signature);
    attached_signature(&made_by, &content, attached, policies)
}

/// A signature with the certificate and Rekor bundle cosign attaches beside it: verified when a
/// covering policy's key made it (`made_by`), else judged by its certificate (keyless), else
/// untrusted without a covering policy, invalid when the covering policies hold keys and none
/// made it. `logged` is what its Rekor entry must record.
fn attached_signature(
    made_by: &dyn Fn(&PublicKey) -> bool,
    logged: &Content,
    attached: Attached<'_>,
    policies: &[&Policy],
) -> Verdict {
    for policy in policies {
        if let Some(key) = policy.keys.iter().find(|key| made_by(key)) {
            return Verdict {
                status: Status::Verified,
                policy: Some(policy.name.clone()),
                identity: Some(key.describe()),
                issuer: None,
                reason: format!("signed with {} of policy {}", key.describe(), policy.name),
            };
        }
    }
    if let Some(pem) = attached.certificate {
        return keyless(pem, attached.bundle, made_by, logged, policies);
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

/// A keyless (or self-managed certificate) signature: the certificate's key made it; when a
/// covering policy names keyless signers, the Rekor entry is the log's, records this signature
/// and certificate, the certificate chains to the policy's trusted root at the logged time, and
/// its identity and issuer are ones the policy names.
fn keyless(
    pem: &str,
    bundle: Option<&str>,
    made_by: &dyn Fn(&PublicKey) -> bool,
    logged: &Content,
    policies: &[&Policy],
) -> Verdict {
    let Some(der) = pem_body(pem, "CERTIFICATE") else {
        return Verdict::new(Status::Invalid, "the attached certificate is not PEM");
    };
    let (key, identity) = match certificate_key(&der) {
        Ok(found) => found,
        Err(reason) => return Verdict::new(Status::Invalid, reason),
    };
    if !made_by(&key) {
        return Verdict::new(Status::Invalid, "the signature does not match its certificate").with_identity(identity);
    }
    let keyless = match keyless_policies(policies, &identity) {
        Ok(keyless) => keyless,
        Err(verdict) => return verdict,
    };
    let named = identity.as_deref().unwrap_or("without an identity");
    let Some(bundle) = bundle else {
        let reason = format!("signed by certificate {named} with no transparency log entry to check it offline");
        return Verdict::new(Status::Unverifiable, reason).with_identity(identity);
    };
    keyless_verdict(identity, &keyless, |policy| {
        let entry =
            crate::rekor::check_cosign_bundle(bundle, &policy.root).map_err(|reason| (Status::Invalid, reason))?;
        crate::bundle::records(&entry.body, None, logged, crate::bundle::Signer::Certificate(&der))
            .map_err(|reason| (Status::Invalid, reason))?;
        let signer = crate::fulcio::check_leaf(&der, &policy.root, entry.integrated_time)
            .map_err(|reason| (Status::Invalid, reason))?;
        Ok(Witnessed {
            signer,
            how: format!("logged in Rekor at {} (index {})", rfc3339(entry.integrated_time), entry.log_index),
        })
    })
}

/// A keyless signer whose certificate checked out, and how its signing time is known.
pub(crate) struct Witnessed {
    pub(crate) signer: crate::fulcio::KeylessSigner,
    /// "logged in Rekor at … (index …)", "timestamped at … by …".
    pub(crate) how: String,
}

/// The verdict on a keyless signature whose certificate names `identity`, under the covering
/// policies that trust keyless signers (`keyless`, not empty); `check` checks the signature's
/// log entries and certificate under one policy's trusted root. Verified when a policy's
/// checks pass and it names the signer; untrusted when they pass and no policy names it;
/// otherwise the first failure.
pub(crate) fn keyless_verdict(
    identity: Option<String>,
    keyless: &[&Policy],
    check: impl Fn(&Policy) -> Result<Witnessed, (Status, String)>,
) -> Verdict {
    let mut refused = None;
    let mut broken = None;
    for policy in keyless {
        match check(policy) {
            Ok(Witnessed { signer, how }) => {
                if policy.keyless.iter().any(|allowed| allowed.matches(&signer.identity, signer.issuer.as_deref())) {
                    return Verdict {
                        status: Status::Verified,
                        policy: Some(policy.name.clone()),
                        reason: format!(
                            "keyless: {} (issuer {}), {how}, allowed by policy {}",
                            clip(&signer.identity),
                            clip(signer.issuer.as_deref().unwrap_or("unknown")),
                            policy.name
                        ),
                        identity: Some(clip(&signer.identity)),
                        issuer: signer.issuer.as_deref().map(clip),
                    };
                }
                refused.get_or_insert((signer, policy.name.clone()));
            }
            Err(failure) => {
                broken.get_or_insert(failure);
            }
        }
    }
    match (refused, broken) {
        (Some((signer, name)), _) => Verdict {
            status: Status::Untrusted,
            policy: None,
            reason: format!(
                "identity {} (issuer {}) is not allowed by policy {name}",
                clip(&signer.identity),
                clip(signer.issuer.as_deref().unwrap_or("unknown"))
            ),
            identity: Some(clip(&signer.identity)),
            issuer: signer.issuer.as_deref().map(clip),
        },
        (None, Some((status, reason))) => Verdict::new(status, reason).with_identity(identity),
        (None, None) => Verdict::new(Status::Unverifiable, "no policy could check it").with_identity(identity),
    }
}

/// An RFC 3339 time of seconds since the epoch.
pub(crate) fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0).map(|time| time.to_rfc3339()).unwrap_or_default()
}

/// The public key and identity (SAN email or URI, else the subject) of a DER certificate.
pub(crate) fn certificate_key(der: &[u8]) -> Result<(PublicKey, Option<String>), String> {
    let (_, certificate) = x509_parser::parse_x509_certificate(der)
        .map_err(|_| "the signing certificate is not an x.509 certificate".to_owned())?;
    let key = PublicKey::from_spki_der(certificate.public_key().raw)
        .map_err(|error| format!("the signing certificate's key: {error}"))?;
    let san = crate::fulcio::signer_of(&certificate).map(|signer| signer.identity);
    let identity = san.or_else(|| Some(certificate.subject().to_string())).map(|text| clip(&text));
    Ok((key, identity))
}

/// The covering policies that trust keyless signers, or the untrusted verdict on a signature by
/// the certificate naming `identity` when none does.
pub(crate) fn keyless_policies<'a>(
    policies: &[&'a Policy],
    identity: &Option<String>,
) -> Result<Vec<&'a Policy>, Verdict> {
    let keyless: Vec<&Policy> = policies.iter().copied().filter(|policy| !policy.keyless.is_empty()).collect();
    if keyless.is_empty() {
        let named = identity.as_deref().unwrap_or("without an identity");
        let reason =
            format!("signed by certificate {named}; no policy covering this repository trusts keyless signers");
        return Err(Verdict::new(Status::Untrusted, reason).with_identity(identity.clone()));
    }
    Ok(keyless)
}

/// `sha256:0123456789ab…` for a digest in a sentence.
pub(crate) fn short(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) if hex.len() > 12 => format!("{algorithm}:{}…", clip(&hex[..12])),
        _ => clip(digest),
    }
}

/// A registry string cut to 200 characters for a reason.
pub(crate) fn clip(text: &str) -> String {
    text.chars().take(200).collect()
}
