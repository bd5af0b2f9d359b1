//! The content proxy's core. A download is addressed by what the catalog knows — an indexed
//! artifact and one of its parts (the manifest, the config, a layer) — never by a URL; it is
//! fetched with the server's own client for that registry, capped at the size the manifest
//! announced and verified against the digest while it streams ([`ocicat_oci::BlobStream`]).
//! The viewers read attached documents (SBOMs, scans, signatures, attestations) through the
//! same path, unpacked under caps and parsed by `ocicat-formats`, cached by digest.
//!
//! The raw manifest and config of an artifact are read here too, from the registry, when a page
//! or the API asks for them (the catalog keeps only what it parsed of them).
//!
//! Callers decide who may read what (the catalog lookup they pass in is already authorised).

mod documents;
mod target;

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use ocicat_oci::{BlobStream, Client, OciError};

pub use documents::{LayerDocument, MAX_DOCUMENT_BYTES, MAX_DOCUMENT_LAYERS};
pub use target::{Part, Target, TargetKind, file_name};

/// Why content could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The part asked for is not the manifest, config or a layer of the artifact.
    #[error("{0} is not part of this artifact")]
    NotPart(String),
    /// The artifact names a registry this server has no client for.
    #[error("registry {0:?} is not configured")]
    UnknownRegistry(String),
    /// The indexed document names something that is not a digest (a catalog written by
    /// another version).
    #[error("the indexed document of {digest} cannot be read: {reason}")]
    StoredDocument {
        /// The artifact.
        digest: String,
        /// What is wrong.
        reason: String,
    },
    /// The registry failed, refused or lied.
    #[error("registry: {0}")]
    Registry(#[from] OciError),
}

impl ContentError {
    /// A message for the user that names what went wrong without the registry's URLs or
    /// response bodies (those stay in the log).
    pub fn public_message(&self) -> String {
        match self {
            ContentError::Registry(error) => match error {
                OciError::NotFound { .. } => "the registry no longer has it".to_owned(),
                OciError::DigestMismatch { .. } => {
                    "the registry sent bytes that do not match the digest; nothing was kept".to_owned()
                }
                OciError::TooLarge { cap, .. } => format!("it is larger than the {cap} bytes allowed"),
                OciError::RateLimited { .. } => "the registry is rate limiting; try again later".to_owned(),
                OciError::CircuitOpen { .. } | OciError::Unreachable { .. } => {
                    "the registry cannot be reached".to_owned()
                }
                OciError::Unauthorized { .. } | OciError::Denied { .. } => {
                    "the registry refused ocicat's credentials".to_owned()
                }
                _ => "the registry failed to deliver it".to_owned(),
            },
            other => other.to_string(),
        }
    }

    /// True when the registry no longer has the content (the index is behind).
    pub fn is_gone(&self) -> bool {
        matches!(self, ContentError::Registry(OciError::NotFound { .. }))
    }
}

/// A digest the indexed document of `artifact` names, parsed (a catalog written by another
/// version may hold one that is not).
pub(crate) fn stored_digest(
    artifact: &ocicat_catalog::ArtifactDoc,
    digest: &str,
) -> Result<ocicat_oci::Digest, ContentError> {
    digest.parse().map_err(|_| ContentError::StoredDocument {
        digest: artifact.digest.clone(),
        reason: format!("{digest:?} is not a digest"),
    })
}

/// A raw document of an artifact: what the catalog keeps parsed, served as the registry has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Raw {
    /// The manifest (or index).
    Manifest,
    /// Its config blob.
    Config,
}

/// Largest config read whole to be shown as raw JSON (configs are small; a larger one is
/// downloaded instead).
pub const MAX_RAW_CONFIG_BYTES: u64 = 4 << 20;

/// What a download yields: a manifest (small, read whole and verified) or a verified stream.
#[derive(Debug)]
pub enum Download {
    /// The exact manifest bytes.
    Manifest(Bytes),
    /// A blob, streamed; its last item is an error when the registry lied.
    Blob(BlobStream),
}

/// The clients of every configured registry and the cache of read documents. Cheap to clone.
#[derive(Clone, Default)]
pub struct Content {
    clients: Arc<HashMap<String, Client>>,
    cache: documents::Cache,
}

impl std::fmt::Debug for Content {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Content").field("registries", &self.clients.keys().collect::<Vec<_>>()).finish_non_exhaustive()
    }
}

impl Content {
    /// Content from these registries (name → the client the crawler uses too).
    pub fn new(clients: impl IntoIterator<Item = (String, Client)>) -> Content {
        Content { clients: Arc::new(clients.into_iter().collect()), cache: documents::Cache::default() }
    }

    fn client(&self, registry: &str) -> Result<&Client, ContentError> {
        self.clients.get(registry).ok_or_else(|| ContentError::UnknownRegistry(registry.to_owned()))
    }

    /// The whole bytes of one layer of `artifact` (a chart package, a WebAssembly module),
    /// verified against its digest; refused before any request when the manifest announces more
    /// than `max` bytes, and capped by the client's blob limit while it is read.
    pub async fn layer_bytes(
        &self,
        artifact: &ocicat_catalog::ArtifactDoc,
        layer: &ocicat_catalog::LayerRef,
        max: u64,
    ) -> Result<Bytes, ContentError> {
        use tracing::Instrument as _;
        if layer.size > max {
            return Err(ContentError::Registry(OciError::TooLarge { url: layer.digest.clone(), cap: max }));
        }
        let digest = stored_digest(artifact, &layer.digest)?;
        let client = self.client(&artifact.registry)?;
        let span = tracing::info_span!("content.layer", registry = %artifact.registry,
            repository = %artifact.repository, digest = %layer.digest, size = layer.size);
        async move { Ok(client.get_blob(&artifact.repository, &digest).await?) }.instrument(span).await
    }

    /// The manifest or config of `artifact` exactly as the registry serves it, verified against
    /// its digest (the manifest capped by the client, the config refused before any request
    /// when it announces more than [`MAX_RAW_CONFIG_BYTES`]). `NotPart` for the config of an
    /// artifact that has none (an index).
    pub async fn raw_document(&self, artifact: &ocicat_catalog::ArtifactDoc, raw: Raw) -> Result<Bytes, ContentError> {
        use tracing::Instrument as _;
        match raw {
            Raw::Manifest => {
                let digest = stored_digest(artifact, &artifact.digest)?;
                let client = self.client(&artifact.registry)?;
                let span = tracing::info_span!("content.manifest", registry = %artifact.registry,
                    repository = %artifact.repository, digest = %artifact.digest);
                async move { Ok(client.get_manifest(&artifact.repository, &digest.to_string()).await?.raw) }
                    .instrument(span)
                    .await
            }
            Raw::Config => {
                let config = artifact.config.as_ref().ok_or_else(|| ContentError::NotPart("a config".to_owned()))?;
                self.layer_bytes(artifact, config, MAX_RAW_CONFIG_BYTES).await
            }
        }
    }

    /// Starts the download of `target`: a manifest is fetched whole (capped by the client,
    /// verified), a blob streams with its announced size as the cap.
    pub async fn download(&self, target: &Target) -> Result<Download, ContentError> {
        use tracing::Instrument as _;
        let client = self.client(&target.registry)?;
        let span = tracing::info_span!("content.download", registry = %target.registry,
            repository = %target.repository, digest = %target.digest, size = target.size);
        async move {
            match target.kind {
                TargetKind::Manifest => {
                    let manifest = client.get_manifest(&target.repository, &target.digest.to_string()).await?;
                    Ok(Download::Manifest(manifest.raw))
                }
                TargetKind::Blob => {
                    let stream = client.blob_stream(&target.repository, &target.digest, target.size).await?;
                    Ok(Download::Blob(stream))
                }
            }
        }
        .instrument(span)
        .await
    }
}
