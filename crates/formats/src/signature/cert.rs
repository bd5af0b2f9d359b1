//! The signer named by an X.509 certificate (DER or PEM), read with `x509-parser`: subject,
//! issuer, the SAN email or URI (a Fulcio certificate's identity), the OIDC issuer from Fulcio's
//! extensions, validity and the SHA-256 fingerprint. Nothing is verified: this names who the
//! certificate says signed, for display.

use sha2::{Digest as _, Sha256};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer as _, X509Certificate};

use super::Signer;
use crate::FormatError;
use crate::text::{self, non_empty};

/// Fulcio's OIDC issuer extension (v2, a DER UTF8String).
const OID_FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
/// Fulcio's deprecated OIDC issuer extension (raw bytes).
const OID_FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// Reads the signer from a DER certificate.
pub fn signer_from_der(der: &[u8]) -> Result<Signer, FormatError> {
    let (_, certificate) = X509Certificate::from_der(der)
        .map_err(|error| FormatError::Malformed(format!("certificate is not x.509 der: {}", text::describe(error))))?;
    let name = |name: String| non_empty(&name);
    let identity = certificate.subject_alternative_name().ok().flatten().and_then(|names| {
        let names = &names.value.general_names;
        let email = names.iter().find_map(|name| match name {
            GeneralName::RFC822Name(email) => non_empty(email),
            _ => None,
        });
        email.or_else(|| {
            names.iter().find_map(|name| match name {
                GeneralName::URI(uri) => non_empty(uri),
                _ => None,
            })
        })
    });
    let extension = |oid: &str| {
        certificate.extensions().iter().find(|extension| extension.oid.to_id_string() == oid).map(|ext| ext.value)
    };
    let oidc_issuer = extension(OID_FULCIO_ISSUER_V2)
        .and_then(der_utf8_string)
        .or_else(|| extension(OID_FULCIO_ISSUER_V1).and_then(|raw| non_empty(&String::from_utf8_lossy(raw))));
    let validity = certificate.validity();
    Ok(Signer {
        subject: name(certificate.subject().to_string()),
        issuer: name(certificate.issuer().to_string()),
        identity,
        oidc_issuer,
        not_before: text::rfc3339_from_unix(validity.not_before.timestamp()),
        not_after: text::rfc3339_from_unix(validity.not_after.timestamp()),
        fingerprint_sha256: Some(hex::encode(Sha256::digest(der))),
    })
}

/// Reads the signer from the first certificate of a PEM text.
pub fn signer_from_pem(pem: &str) -> Result<Signer, FormatError> {
    let der =
        pem_certificates(pem).next().ok_or_else(|| FormatError::Malformed("no pem certificate found".into()))??;
    signer_from_der(&der)
}

/// Decodes the base64 (standard alphabet) DER of a certificate, as `x5c` and sigstore bundles
/// carry it, and reads its signer.
pub(crate) fn signer_from_base64(encoded: &str, what: &str) -> Result<Signer, FormatError> {
    signer_from_der(&text::base64_decode(encoded, what)?)
}

/// The DER of each `CERTIFICATE` block of a PEM text.
pub(crate) fn pem_certificates(pem: &str) -> impl Iterator<Item = Result<Vec<u8>, FormatError>> + '_ {
    pem.split(PEM_BEGIN).skip(1).map(|block| {
        let body = block
            .split(PEM_END)
            .next()
            .filter(|_| block.contains(PEM_END))
            .ok_or_else(|| FormatError::Malformed("pem certificate without its end line".into()))?;
        let body: String = body.chars().filter(|char| !char.is_whitespace()).collect();
        text::base64_decode(&body, "pem certificate")
    })
}

/// The text of a DER UTF8String (tag 12), short or long length form, trimmed and clipped for
/// display.
fn der_utf8_string(der: &[u8]) -> Option<String> {
    non_empty(der_utf8_str(der)?)
}

/// The exact text of a DER UTF8String (tag 12), short or long length form (what verification
/// compares).
pub fn der_utf8_str(der: &[u8]) -> Option<&str> {
    let (&tag, rest) = der.split_first()?;
    if tag != 0x0c {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (length, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let length = rest[..count].iter().fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
        (length, &rest[count..])
    };
    std::str::from_utf8(rest.get(..length)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn der_strings_of_both_length_forms_are_read() {
        assert_eq!(der_utf8_string(b"\x0c\x03abc").as_deref(), Some("abc"));
        let mut long = vec![0x0c, 0x81, 0x80];
        long.extend_from_slice(&[b'a'; 128]);
        assert_eq!(der_utf8_string(&long).map(|text| text.len()), Some(128));
        assert_eq!(der_utf8_string(b"\x0c\x05ab"), None);
        assert_eq!(der_utf8_string(b"\x04\x01a"), None);
        assert_eq!(der_utf8_string(b""), None);
    }

    #[test]
    fn broken_pem_and_der_are_errors() {
        assert!(signer_from_pem("nothing here").is_err());
        assert!(signer_from_pem("-----BEGIN CERTIFICATE-----\nAAAA").is_err());
        assert!(signer_from_pem("-----BEGIN CERTIFICATE-----\n!!\n-----END CERTIFICATE-----").is_err());
        let error = signer_from_der(b"\x30\x03\x02\x01\x01").unwrap_err();
        assert!(error.to_string().starts_with("malformed document: certificate is not x.509 der"), "{error}");
    }
}
