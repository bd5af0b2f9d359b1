//! The demo signing identity: a committed P-256 test key and its self-signed code-signing
//! certificate (CN=ocicat demo signer, valid 2024-01-01 to 2034-01-01). It signs cosign payloads,
//! DSSE envelopes and notation JWS envelopes for real, deterministically (RFC 6979). It protects
//! nothing: the private key is public in this repository.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey as _;
use sha2::{Digest as _, Sha256};

const KEY_PKCS8_DER: &[u8] = include_bytes!("../fixtures/demo-signer.key.der");
const CERTIFICATE_DER: &[u8] = include_bytes!("../fixtures/demo-signer.crt.der");

/// The demo signer.
#[derive(Debug, Clone)]
pub(crate) struct Signer {
    key: SigningKey,
}

impl Signer {
    /// Loads the committed test key.
    pub(crate) fn demo() -> Signer {
        let key = SigningKey::from_pkcs8_der(KEY_PKCS8_DER).expect("the committed demo key is valid pkcs8");
        Signer { key }
    }

    fn sign(&self, message: &[u8]) -> Signature {
        self.key.sign(message)
    }

    /// An ECDSA-SHA256 signature in ASN.1 DER, base64 (cosign's `dev.cosignproject.cosign/signature`
    /// and DSSE `sig`).
    pub(crate) fn sign_der_base64(&self, message: &[u8]) -> String {
        STANDARD.encode(self.sign(message).to_der().as_bytes())
    }

    /// A JWS ES256 signature (`r || s`), base64url without padding.
    pub(crate) fn sign_jws_es256(&self, signing_input: &[u8]) -> String {
        URL_SAFE_NO_PAD.encode(self.sign(signing_input).to_bytes())
    }

    /// The public key, to check signatures in tests.
    #[cfg(test)]
    pub(crate) fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        *self.key.verifying_key()
    }

    /// The certificate, DER.
    pub(crate) fn certificate_der(&self) -> &'static [u8] {
        CERTIFICATE_DER
    }

    /// The certificate as PEM (cosign's `dev.sigstore.cosign/certificate`).
    pub(crate) fn certificate_pem(&self) -> String {
        let body = STANDARD.encode(CERTIFICATE_DER);
        let lines: Vec<&str> =
            body.as_bytes().chunks(64).map(|chunk| std::str::from_utf8(chunk).unwrap_or_default()).collect();
        format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", lines.join("\n"))
    }

    /// The SHA-256 thumbprint of the certificate, lowercase hex (notation's x509 chain thumbprint).
    pub(crate) fn certificate_thumbprint(&self) -> String {
        hex::encode(Sha256::digest(CERTIFICATE_DER))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::VerifyingKey;
    use p256::ecdsa::signature::Verifier as _;

    #[test]
    fn signatures_are_deterministic_and_verify() {
        let signer = Signer::demo();
        let first = signer.sign_der_base64(b"payload");
        assert_eq!(first, signer.sign_der_base64(b"payload"));
        let der = STANDARD.decode(first).unwrap();
        let signature = Signature::from_der(&der).unwrap();
        VerifyingKey::from(&signer.key).verify(b"payload", &signature).unwrap();
    }

    #[test]
    fn certificate_is_pem_armoured_der() {
        let signer = Signer::demo();
        let pem = signer.certificate_pem();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n") && pem.ends_with("-----END CERTIFICATE-----\n"));
        assert_eq!(signer.certificate_thumbprint().len(), 64);
        assert_eq!(signer.certificate_der()[0], 0x30, "a DER certificate is a SEQUENCE");
    }
}
