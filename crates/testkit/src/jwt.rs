//! ES256 JSON web tokens as distribution 2.8 verifies them: libtrust key ids, scopes, signing.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::{DecodePrivateKey as _, EncodePublicKey as _};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use anyhow::Context as _;

/// One entry of a token's `access` claim, also the parsed form of a scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceAccess {
    /// Resource type, e.g. `repository` or `registry`.
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Optional resource class, the `plugin` of `repository(plugin)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Resource name, e.g. `demo/app`, `127.0.0.1:5000/demo/app` or `catalog`.
    pub name: String,
    /// Granted or requested actions, e.g. `pull`, `push`, `delete`, `*`.
    pub actions: Vec<String>,
}

/// Parses one scope `type[(class)]:name:action[,action]*`.
///
/// The type ends at the first `:` and the actions start after the last `:`, so
/// names that contain a `host:port` survive. Returns `None` for malformed scopes.
pub fn parse_scope(scope: &str) -> Option<ResourceAccess> {
    let (type_and_class, name_and_actions) = scope.split_once(':')?;
    let (name, actions) = name_and_actions.rsplit_once(':')?;
    if type_and_class.is_empty() || name.is_empty() {
        return None;
    }
    let (resource_type, class) = match type_and_class.strip_suffix(')') {
        Some(without_paren) => {
            let (resource_type, class) = without_paren.split_once('(')?;
            (resource_type, Some(class.to_owned()))
        }
        None => (type_and_class, None),
    };
    let mut unique_actions: Vec<String> = Vec::new();
    for action in actions.split(',').map(str::trim).filter(|action| !action.is_empty()) {
        if !unique_actions.iter().any(|known| known == action) {
            unique_actions.push(action.to_owned());
        }
    }
    Some(ResourceAccess {
        resource_type: resource_type.to_owned(),
        class,
        name: name.to_owned(),
        actions: unique_actions,
    })
}

/// Computes the libtrust key id of a public key given as DER SubjectPublicKeyInfo.
///
/// That is SHA-256 of the DER, truncated to 240 bits, base32 without padding and
/// split into 12 groups of 4 characters joined by `:` (the `kid` distribution 2.8
/// looks up among the keys of its `rootcertbundle`).
pub fn libtrust_key_id(subject_public_key_info_der: &[u8]) -> String {
    let hash = Sha256::digest(subject_public_key_info_der);
    let encoded = base32_no_padding(&hash[..30]);
    let groups: Vec<&str> =
        (0..encoded.len()).step_by(4).map(|start| &encoded[start..(start + 4).min(encoded.len())]).collect();
    groups.join(":")
}

/// Encodes bytes as RFC 4648 base32 without padding.
fn base32_no_padding(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut encoded = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let mut buffer: u32 = 0;
    let mut buffered_bits: u32 = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        buffered_bits += 8;
        while buffered_bits >= 5 {
            buffered_bits -= 5;
            let index = (buffer >> buffered_bits) & 0x1f;
            encoded.push(char::from(ALPHABET[index as usize]));
        }
    }
    if buffered_bits > 0 {
        let index = (buffer << (5 - buffered_bits)) & 0x1f;
        encoded.push(char::from(ALPHABET[index as usize]));
    }
    encoded
}

/// A P-256 key with its self-signed certificate, able to sign ES256 tokens.
pub(crate) struct TokenSigner {
    signing_key: SigningKey,
    key_id: String,
    certificate_pem: String,
}

impl TokenSigner {
    /// Generates a fresh P-256 key and a self-signed certificate for it.
    pub(crate) fn generate(common_name: &str) -> anyhow::Result<Self> {
        let key_pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
            .context("failed to generate a p-256 key pair")?;
        let mut params = rcgen::CertificateParams::new(vec![common_name.to_owned()])
            .context("failed to build certificate parameters")?;
        params.distinguished_name.push(rcgen::DnType::CommonName, common_name);
        let certificate = params.self_signed(&key_pair).context("failed to self-sign the token certificate")?;
        let signing_key = SigningKey::from_pkcs8_der(&key_pair.serialize_der())
            .context("failed to load the rcgen pkcs#8 key into p256")?;
        let public_key_der = signing_key
            .verifying_key()
            .to_public_key_der()
            .context("failed to encode the public key as subjectpublickeyinfo")?;
        Ok(Self { key_id: libtrust_key_id(public_key_der.as_bytes()), signing_key, certificate_pem: certificate.pem() })
    }

    /// Returns the libtrust key id placed in the `kid` header.
    pub(crate) fn key_id(&self) -> &str {
        &self.key_id
    }

    /// Returns the self-signed certificate as PEM, for `rootcertbundle`.
    pub(crate) fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// Signs the claims as a compact JWS with `alg: ES256`.
    pub(crate) fn sign(&self, claims: &serde_json::Value) -> anyhow::Result<String> {
        let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "kid": self.key_id});
        let header_json = serde_json::to_vec(&header).context("failed to encode jwt header")?;
        let claims_json = serde_json::to_vec(claims).context("failed to encode jwt claims")?;
        let signing_input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header_json), URL_SAFE_NO_PAD.encode(claims_json));
        // JWS wants the fixed-size r||s form, not DER.
        let signature: Signature = self.signing_key.sign(signing_input.as_bytes());
        Ok(format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
    }

    /// Returns the verifying half of the key, for tests.
    #[cfg(test)]
    fn verifying_key(&self) -> p256::ecdsa::VerifyingKey {
        *self.signing_key.verifying_key()
    }
}

#[cfg(test)]
mod tests {
    use p256::ecdsa::signature::Verifier as _;

    use super::*;

    #[test]
    fn base32_matches_rfc4648_vectors() {
        assert_eq!(base32_no_padding(b""), "");
        assert_eq!(base32_no_padding(b"f"), "MY");
        assert_eq!(base32_no_padding(b"fo"), "MZXQ");
        assert_eq!(base32_no_padding(b"foo"), "MZXW6");
        assert_eq!(base32_no_padding(b"foob"), "MZXW6YQ");
        assert_eq!(base32_no_padding(b"fooba"), "MZXW6YTB");
        assert_eq!(base32_no_padding(b"foobar"), "MZXW6YTBOI");
    }

    #[test]
    fn key_id_has_twelve_groups_of_four() {
        let key_id = libtrust_key_id(b"any der bytes");
        let groups: Vec<&str> = key_id.split(':').collect();
        assert_eq!(groups.len(), 12, "{key_id}");
        assert!(groups.iter().all(|group| group.len() == 4), "{key_id}");
    }

    #[test]
    fn scope_with_host_port_name_splits_at_first_and_last_colon() {
        let access = parse_scope("repository:127.0.0.1:5000/demo/app:pull,push,pull").unwrap();
        assert_eq!(access.resource_type, "repository");
        assert_eq!(access.class, None);
        assert_eq!(access.name, "127.0.0.1:5000/demo/app");
        assert_eq!(access.actions, vec!["pull", "push"]);
    }

    #[test]
    fn scope_with_class_and_catalog_scope_parse() {
        let plugin = parse_scope("repository(plugin):demo/app:pull").unwrap();
        assert_eq!(plugin.resource_type, "repository");
        assert_eq!(plugin.class.as_deref(), Some("plugin"));
        let catalog = parse_scope("registry:catalog:*").unwrap();
        assert_eq!((catalog.name.as_str(), catalog.actions.as_slice()), ("catalog", &["*".to_owned()][..]));
        assert_eq!(parse_scope("repository"), None);
        assert_eq!(parse_scope("repository:pull"), None);
    }

    #[test]
    fn signed_token_verifies_with_the_public_key() {
        let signer = TokenSigner::generate("ocicat-testkit").unwrap();
        let token = signer.sign(&serde_json::json!({"sub": "alice"})).unwrap();
        let (signing_input, signature_b64) = token.rsplit_once('.').unwrap();
        let signature_bytes = URL_SAFE_NO_PAD.decode(signature_b64).unwrap();
        assert_eq!(signature_bytes.len(), 64);
        let signature = Signature::from_slice(&signature_bytes).unwrap();
        signer.verifying_key().verify(signing_input.as_bytes(), &signature).unwrap();
        let header_b64 = signing_input.split('.').next().unwrap();
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header_b64).unwrap()).unwrap();
        assert_eq!(header["kid"], signer.key_id());
        assert!(signer.certificate_pem().starts_with("-----BEGIN CERTIFICATE-----"));
    }
}
