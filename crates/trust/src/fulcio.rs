//! Fulcio certificates of keyless signers: issued by a certificate authority of the trusted
//! root that was valid at the time the transparency log recorded the signature, valid then
//! themselves, for code signing; their identity is the subject alternative name (an email or a
//! URI) and the OIDC issuer Fulcio records in its own extension.

use x509_parser::prelude::{FromDer as _, GeneralName, X509Certificate};

use crate::PublicKey;
use crate::keys::Hash;
use crate::root::TrustedRoot;

/// The OIDC issuer extension, version 1 (the raw string) and version 2 (a DER UTF8String).
const OIDC_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const OIDC_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";

/// Who a Fulcio certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeylessSigner {
    /// The SAN: an email or a URI (a CI workflow).
    pub(crate) identity: String,
    /// The OIDC issuer that vouched for the identity.
    pub(crate) issuer: Option<String>,
}

/// The identity and OIDC issuer a certificate names, checked or not.
pub(crate) fn signer_of(certificate: &X509Certificate<'_>) -> Option<KeylessSigner> {
    let identity = certificate.subject_alternative_name().ok().flatten().and_then(|extension| {
        extension.value.general_names.iter().find_map(|name| match name {
            GeneralName::RFC822Name(email) => Some((*email).to_owned()),
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            _ => None,
        })
    })?;
    let extension = |oid: &str| {
        certificate
            .extensions()
            .iter()
            .find(|extension| extension.oid.to_id_string() == oid)
            .map(|extension| extension.value)
    };
    let issuer = extension(OIDC_ISSUER_V2)
        .and_then(ocicat_formats::signature::cert::der_utf8_str)
        .map(str::to_owned)
        .or_else(|| extension(OIDC_ISSUER_V1).and_then(|value| std::str::from_utf8(value).ok().map(str::to_owned)));
    Some(KeylessSigner { identity, issuer })
}

/// Checks the Fulcio certificate `leaf` (DER) against `root` at `at` (seconds since the epoch,
/// the log's integrated time) and answers who it names.
pub(crate) fn check_leaf(leaf: &[u8], root: &TrustedRoot, at: i64) -> Result<KeylessSigner, String> {
    let (_, certificate) = X509Certificate::from_der(leaf)
        .map_err(|_| "the signing certificate is not an x.509 certificate".to_owned())?;
    let validity = certificate.validity();
    if at < validity.not_before.timestamp() || at > validity.not_after.timestamp() {
        return Err(format!(
            "the signing certificate was not valid when it signed ({} to {}; the log or timestamp says {})",
            validity.not_before,
            validity.not_after,
            chrono::DateTime::from_timestamp(at, 0).map(|time| time.to_rfc3339()).unwrap_or_default()
        ));
    }
    let code_signing = certificate.extended_key_usage().ok().flatten().is_some_and(|usage| usage.value.code_signing);
    if !code_signing {
        return Err("the signing certificate is not for code signing".into());
    }
    let chained = root
        .authorities
        .iter()
        .filter(|authority| authority.start <= at && authority.end.is_none_or(|end| at <= end))
        .any(|authority| chains_to(&certificate, &authority.chain, at));
    if !chained {
        return Err("the signing certificate does not chain to a Fulcio authority of the trusted root".into());
    }
    signer_of(&certificate).ok_or_else(|| "the signing certificate names no identity".into())
}

/// Whether `leaf` was signed by the first certificate of `chain`, each one by the next, the
/// last by itself, every one a CA valid at `at`.
pub(crate) fn chains_to(leaf: &X509Certificate<'_>, chain: &[Vec<u8>], at: i64) -> bool {
    let Ok(parsed) = chain
        .iter()
        .map(|der| X509Certificate::from_der(der).map(|(_, certificate)| certificate))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    let Some(root) = parsed.last() else { return false };
    let authorities_valid = parsed.iter().all(|authority| {
        let validity = authority.validity();
        let is_ca = authority.basic_constraints().ok().flatten().is_some_and(|constraints| constraints.value.ca);
        is_ca && validity.not_before.timestamp() <= at && at <= validity.not_after.timestamp()
    });
    let mut child = leaf;
    for parent in &parsed {
        if !signed_by(child, parent) {
            return false;
        }
        child = parent;
    }
    authorities_valid && signed_by(root, root)
}

/// Whether `parent`'s key made `child`'s signature.
pub(crate) fn signed_by(child: &X509Certificate<'_>, parent: &X509Certificate<'_>) -> bool {
    if child.issuer() != parent.subject() {
        return false;
    }
    let hash = match child.signature_algorithm.algorithm.to_id_string().as_str() {
        "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => Hash::Sha256,
        "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => Hash::Sha384,
        "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => Hash::Sha512,
        "1.3.101.112" => Hash::None,
        _ => return false,
    };
    let Ok(key) = PublicKey::from_spki_der(parent.public_key().raw) else { return false };
    key.verifies_with(hash, child.tbs_certificate.as_ref(), &child.signature_value.data)
}
