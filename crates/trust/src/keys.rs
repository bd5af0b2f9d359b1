//! Public keys a policy trusts (PEM `PUBLIC KEY`, as `cosign generate-key-pair` writes them):
//! ECDSA P-256 and P-384, Ed25519 and RSA of 2048 bits or more, and how each checks a
//! signature the way cosign makes one (ASN.1 DER ECDSA over SHA-256, or the curve's own hash;
//! pure Ed25519; RSA PKCS#1 v1.5 or PSS over SHA-256).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use p256::pkcs8::DecodePublicKey as _;
use rsa::traits::PublicKeyParts as _;
use sha2::{Digest as _, Sha256, Sha384};

use crate::TrustError;

/// A public key of a trust policy (or of a signing certificate).
#[derive(Debug, Clone)]
pub struct PublicKey {
    algorithm: Algorithm,
    /// SHA-256 of the key's DER SubjectPublicKeyInfo, lowercase hex.
    fingerprint: String,
    /// The DER SubjectPublicKeyInfo.
    spki: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Algorithm {
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    Ed25519(ed25519_dalek::VerifyingKey),
    Rsa(rsa::RsaPublicKey),
}

/// Smallest RSA modulus accepted, in bits.
const MIN_RSA_BITS: usize = 2048;

impl PublicKey {
    /// Reads a PEM `PUBLIC KEY` (SubjectPublicKeyInfo).
    pub fn from_pem(text: &str) -> Result<PublicKey, TrustError> {
        let der = pem_body(text, "PUBLIC KEY")
            .ok_or_else(|| TrustError::Key("not a PEM public key (-----BEGIN PUBLIC KEY-----)".into()))?;
        PublicKey::from_spki_der(&der)
    }

    /// Reads a DER SubjectPublicKeyInfo.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey, TrustError> {
        let fingerprint = hex::encode(Sha256::digest(der));
        let algorithm = if let Ok(key) = p256::ecdsa::VerifyingKey::from_public_key_der(der) {
            Algorithm::P256(key)
        } else if let Ok(key) = p384::ecdsa::VerifyingKey::from_public_key_der(der) {
            Algorithm::P384(key)
        } else if let Ok(key) = ed25519_dalek::VerifyingKey::from_public_key_der(der) {
            Algorithm::Ed25519(key)
        } else if let Ok(key) = rsa::RsaPublicKey::from_public_key_der(der) {
            let bits = key.n().bits();
            if bits < MIN_RSA_BITS {
                return Err(TrustError::Key(format!("rsa key of {bits} bits is too weak (at least {MIN_RSA_BITS})")));
            }
            Algorithm::Rsa(key)
        } else {
            return Err(TrustError::Key(
                "unsupported public key (ecdsa p-256 or p-384, ed25519, or rsa of 2048 bits or more)".into(),
            ));
        };
        Ok(PublicKey { algorithm, fingerprint, spki: der.to_vec() })
    }

    /// What the key is, for verdicts: `ecdsa p-256 key sha256:1a2b3c4d…`.
    pub fn describe(&self) -> String {
        let kind = match &self.algorithm {
            Algorithm::P256(_) => "ecdsa p-256".to_owned(),
            Algorithm::P384(_) => "ecdsa p-384".to_owned(),
            Algorithm::Ed25519(_) => "ed25519".to_owned(),
            Algorithm::Rsa(key) => format!("rsa-{}", key.n().bits()),
        };
        format!("{kind} key sha256:{}…", &self.fingerprint[..16])
    }

    /// SHA-256 of the DER SubjectPublicKeyInfo, lowercase hex.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The DER SubjectPublicKeyInfo.
    pub(crate) fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// Whether `signature` is this key's signature over `message` as cosign makes them: ECDSA
    /// over SHA-256 (P-384 also over its own SHA-384, as other sigstore clients sign), pure
    /// Ed25519, RSA PKCS#1 v1.5 or PSS over SHA-256.
    pub fn verifies(&self, message: &[u8], signature: &[u8]) -> bool {
        match &self.algorithm {
            Algorithm::P384(_) => {
                self.verifies_with(Hash::Sha384, message, signature)
                    || self.verifies_with(Hash::Sha256, message, signature)
            }
            Algorithm::Rsa(key) => {
                use p256::ecdsa::signature::Verifier as _;
                self.verifies_with(Hash::Sha256, message, signature)
                    || rsa::pss::Signature::try_from(signature).is_ok_and(|signature| {
                        rsa::pss::VerifyingKey::<Sha256>::new(key.clone()).verify(message, &signature).is_ok()
                    })
            }
            _ => self.verifies_with(Hash::Sha256, message, signature),
        }
    }
}

/// The hash a signature algorithm names (`None` for Ed25519, which hashes by itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
    None,
}

impl PublicKey {
    /// Whether `signature` is this key's signature over `message` hashed with `hash` (X.509
    /// certificates and transparency logs name their hash).
    pub(crate) fn verifies_with(&self, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        let digest = match hash {
            Hash::Sha256 => Sha256::digest(message).to_vec(),
            Hash::Sha384 => Sha384::digest(message).to_vec(),
            Hash::Sha512 => sha2::Sha512::digest(message).to_vec(),
            Hash::None => Vec::new(),
        };
        match (&self.algorithm, hash) {
            (Algorithm::Ed25519(key), _) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok()),
            (_, Hash::None) => false,
            (Algorithm::P256(key), _) => {
                p256_signature(signature).is_some_and(|signature| key.verify_prehash(&digest, &signature).is_ok())
            }
            (Algorithm::P384(key), _) => {
                p384_signature(signature).is_some_and(|signature| key.verify_prehash(&digest, &signature).is_ok())
            }
            (Algorithm::Rsa(key), hash) => {
                let Ok(signature) = rsa::pkcs1v15::Signature::try_from(signature) else { return false };
                match hash {
                    Hash::Sha256 => rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key.clone()).verify(message, &signature),
                    Hash::Sha384 => rsa::pkcs1v15::VerifyingKey::<Sha384>::new(key.clone()).verify(message, &signature),
                    _ => rsa::pkcs1v15::VerifyingKey::<sha2::Sha512>::new(key.clone()).verify(message, &signature),
                }
                .is_ok()
            }
        }
    }
}

impl PublicKey {
    /// Whether `signature` is this key's signature over a message whose `hash` is `digest`
    /// (sigstore bundles sign an artifact's digest, not its bytes). Ed25519 cannot sign a digest.
    pub(crate) fn verifies_prehashed(&self, hash: Hash, digest: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::hazmat::PrehashVerifier as _;
        match (&self.algorithm, hash) {
            (Algorithm::Ed25519(_), _) | (_, Hash::None) => false,
            (Algorithm::P256(key), _) => {
                p256_signature(signature).is_some_and(|signature| key.verify_prehash(digest, &signature).is_ok())
            }
            (Algorithm::P384(key), _) => {
                p384_signature(signature).is_some_and(|signature| key.verify_prehash(digest, &signature).is_ok())
            }
            (Algorithm::Rsa(key), hash) => {
                let scheme = match hash {
                    Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
                    Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
                    _ => rsa::Pkcs1v15Sign::new::<sha2::Sha512>(),
                };
                let pss = match hash {
                    Hash::Sha256 => rsa::Pss::new::<Sha256>(),
                    Hash::Sha384 => rsa::Pss::new::<Sha384>(),
                    _ => rsa::Pss::new::<sha2::Sha512>(),
                };
                key.verify(scheme, digest, signature).is_ok() || key.verify(pss, digest, signature).is_ok()
            }
        }
    }
}

impl PublicKey {
    /// Whether `signature` is this RSA key's PSS signature over `message` hashed with `hash`
    /// (JWS `PS256`…, COSE `-37`…); false for other keys.
    pub(crate) fn verifies_pss(&self, hash: Hash, message: &[u8], signature: &[u8]) -> bool {
        use p256::ecdsa::signature::Verifier as _;
        let Algorithm::Rsa(key) = &self.algorithm else { return false };
        let Ok(signature) = rsa::pss::Signature::try_from(signature) else { return false };
        match hash {
            Hash::Sha256 => rsa::pss::VerifyingKey::<Sha256>::new(key.clone()).verify(message, &signature).is_ok(),
            Hash::Sha384 => rsa::pss::VerifyingKey::<Sha384>::new(key.clone()).verify(message, &signature).is_ok(),
            Hash::Sha512 => {
                rsa::pss::VerifyingKey::<sha2::Sha512>::new(key.clone()).verify(message, &signature).is_ok()
            }
            Hash::None => false,
        }
    }

    /// Whether this is an ECDSA key (JWS `ES*` and COSE `-7`… need one).
    pub(crate) fn is_ecdsa(&self) -> bool {
        matches!(self.algorithm, Algorithm::P256(_) | Algorithm::P384(_))
    }
}

/// A P-256 signature in ASN.1 DER (what cosign writes) or fixed `r || s`.
fn p256_signature(bytes: &[u8]) -> Option<p256::ecdsa::Signature> {
    p256::ecdsa::Signature::from_der(bytes).or_else(|_| p256::ecdsa::Signature::from_slice(bytes)).ok()
}

/// A P-384 signature in ASN.1 DER or fixed `r || s`.
fn p384_signature(bytes: &[u8]) -> Option<p384::ecdsa::Signature> {
    p384::ecdsa::Signature::from_der(bytes).or_else(|_| p384::ecdsa::Signature::from_slice(bytes)).ok()
}

/// The bytes of the first PEM block labelled `label` in `text`.
pub(crate) fn pem_body(text: &str, label: &str) -> Option<Vec<u8>> {
    pem_bodies(text, label).next()
}

/// The bytes of every PEM block labelled `label` in `text`, in order (unreadable ones skipped).
pub(crate) fn pem_bodies<'a>(text: &'a str, label: &'a str) -> impl Iterator<Item = Vec<u8>> + 'a {
    let begin = format!("-----BEGIN {label}-----");
    let end = format!("-----END {label}-----");
    let mut rest = text;
    std::iter::from_fn(move || {
        loop {
            let start = rest.find(&begin)? + begin.len();
            let stop = start + rest[start..].find(&end)?;
            let body: String = rest[start..stop].chars().filter(|c| !c.is_ascii_whitespace()).collect();
            rest = &rest[stop + end.len()..];
            if let Ok(bytes) = STANDARD.decode(body) {
                return Some(bytes);
            }
        }
    })
}
