//! What the crawler keeps of a signature so it can be verified (and verified again when the
//! policies change) without asking the registry: the signed bytes, the signature and the
//! material around it, read from a signature manifest's layers and their annotations.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest signature layer (payload, bundle, envelope) or annotation value kept.
pub const MAX_EVIDENCE_BYTES: u64 = 256 << 10;
/// Most signatures read from one manifest (a cosign `.sig` manifest holds one per layer).
pub const MAX_SIGNATURES_PER_MANIFEST: usize = 16;

const SIMPLE_SIGNING: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
const BUNDLE_PREFIX: &str = "application/vnd.dev.sigstore.bundle";
const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
const JWS: &str = "application/jose+json";
const COSE: &str = "application/cose";
const SIGNATURE_KEY: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE_KEYS: [&str; 2] = ["dev.sigstore.cosign/certificate", "dev.cosignproject.cosign/certificate"];
const CHAIN_KEYS: [&str; 2] = ["dev.sigstore.cosign/chain", "dev.cosignproject.cosign/chain"];
const BUNDLE_KEY: &str = "dev.sigstore.cosign/bundle";

/// One signature as the crawler found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// A cosign simple signing payload and its layer annotations.
    CosignSimpleSigning {
        /// The payload layer's bytes, base64.
        payload: String,
        /// `dev.cosignproject.cosign/signature`: the signature over the payload, base64.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
        /// The signing certificate (PEM), for keyless signatures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<String>,
        /// The certificate's chain (PEM).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        chain: Option<String>,
        /// The Rekor bundle (JSON).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bundle: Option<String>,
    },
    /// A sigstore bundle (JSON).
    SigstoreBundle {
        /// The bundle as stored.
        bundle: String,
    },
    /// A DSSE envelope (cosign's attestations) and the layer annotations beside it.
    Dsse {
        /// The envelope (JSON).
        envelope: String,
        /// The signing certificate (PEM), for keyless signatures.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<String>,
        /// The Rekor bundle (JSON).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        bundle: Option<String>,
    },
    /// A Notary Project envelope (JWS or COSE).
    Notation {
        /// `application/jose+json` or `application/cose`.
        media_type: String,
        /// The envelope's bytes, base64.
        envelope: String,
    },
    /// A signature layer that could not be kept (too large, or the registry did not serve it).
    Unreadable {
        /// Why.
        reason: String,
    },
}

/// Whether a layer of `media_type` holds a signature ocicat keeps as evidence.
pub fn is_signature_media_type(media_type: &str) -> bool {
    media_type == SIMPLE_SIGNING
        || media_type.starts_with(BUNDLE_PREFIX)
        || media_type == DSSE
        || media_type == JWS
        || media_type == COSE
}

/// A layer of a signature manifest that holds a signature: what the crawler must fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    /// The layer's digest.
    pub digest: String,
    /// Its size as the manifest says.
    pub size: u64,
    /// Its media type.
    pub media_type: String,
    /// Its annotations (where cosign keeps the signature and certificate).
    pub annotations: BTreeMap<String, String>,
}

impl SignatureLayer {
    /// The signature layers of `manifest` (an image manifest's `layers`), at most
    /// [`MAX_SIGNATURES_PER_MANIFEST`].
    pub fn of_manifest(manifest: &Value) -> Vec<SignatureLayer> {
        let Some(layers) = manifest.get("layers").and_then(Value::as_array) else { return Vec::new() };
        layers
            .iter()
            .filter_map(|layer| {
                let media_type = layer.get("mediaType")?.as_str()?.to_owned();
                let wanted = is_signature_media_type(&media_type);
                let annotations = layer
                    .get("annotations")
                    .and_then(Value::as_object)
                    .map(|map| {
                        map.iter().filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned()))).collect()
                    })
                    .unwrap_or_default();
                let digest = layer.get("digest")?.as_str()?.to_owned();
                let size = layer.get("size")?.as_u64()?;
                wanted.then_some(SignatureLayer { digest, size, media_type, annotations })
            })
            .take(MAX_SIGNATURES_PER_MANIFEST)
            .collect()
    }

    /// Whether the layer is small enough to keep.
    pub fn within_bounds(&self) -> bool {
        self.size <= MAX_EVIDENCE_BYTES
    }
}

/// The evidence of one signature layer whose (digest-verified) bytes are `bytes`.
pub fn evidence_of(layer: &SignatureLayer, bytes: &[u8]) -> Evidence {
    if bytes.len() as u64 > MAX_EVIDENCE_BYTES {
        return Evidence::Unreadable {
            reason: format!("signature layer of {} bytes is too large to verify", bytes.len()),
        };
    }
    let annotation = |keys: &[&str]| {
        keys.iter()
            .find_map(|key| layer.annotations.get(*key))
            .filter(|value| value.len() as u64 <= MAX_EVIDENCE_BYTES)
            .cloned()
    };
    if layer.media_type == SIMPLE_SIGNING {
        Evidence::CosignSimpleSigning {
            payload: STANDARD.encode(bytes),
            signature: annotation(&[SIGNATURE_KEY]),
            certificate: annotation(&CERTIFICATE_KEYS),
            chain: annotation(&CHAIN_KEYS),
            bundle: annotation(&[BUNDLE_KEY]),
        }
    } else if layer.media_type.starts_with(BUNDLE_PREFIX) {
        match std::str::from_utf8(bytes) {
            Ok(text) => Evidence::SigstoreBundle { bundle: text.to_owned() },
            Err(_) => Evidence::Unreadable { reason: "the sigstore bundle is not utf-8 json".into() },
        }
    } else if layer.media_type == DSSE {
        match std::str::from_utf8(bytes) {
            Ok(text) => Evidence::Dsse {
                envelope: text.to_owned(),
                certificate: annotation(&CERTIFICATE_KEYS),
                bundle: annotation(&[BUNDLE_KEY]),
            },
            Err(_) => Evidence::Unreadable { reason: "the DSSE envelope is not utf-8 json".into() },
        }
    } else {
        Evidence::Notation { media_type: layer.media_type.clone(), envelope: STANDARD.encode(bytes) }
    }
}
