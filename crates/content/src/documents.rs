//! Attached documents read for the viewers: each content layer of an SBOM, scan, signature or
//! attestation artifact is fetched (verified, at most [`MAX_DOCUMENT_BYTES`]), unpacked under
//! `ocicat-formats`' caps and parsed off the async runtime. Results are cached by manifest
//! digest: the content is immutable, and a parse error is as final as a parse.

use std::collections::BTreeMap;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use lru::LruCache;
use ocicat_catalog::{ArtifactDoc, LayerRef};
use ocicat_formats::{Document, Hint};
use tracing::Instrument as _;

use crate::{Content, ContentError};

/// The largest layer read for display (the registry client's whole-blob cap); bigger ones are
/// offered as a download only.
pub const MAX_DOCUMENT_BYTES: u64 = 16 << 20;
/// At most this many layers of one artifact are read.
pub const MAX_DOCUMENT_LAYERS: usize = 16;
/// Artifacts whose documents stay cached.
const CACHED_ARTIFACTS: usize = 32;
/// Documents read from more bytes than this are not cached (a big SBOM is big in memory too).
const CACHED_BYTES: u64 = 4 << 20;
/// The empty descriptor's media type: a placeholder, never content.
const EMPTY: &str = ocicat_oci::media_types::OCI_EMPTY;

/// One content layer and what it turned out to be.
#[derive(Debug, Clone)]
pub struct LayerDocument {
    /// The layer's digest.
    pub digest: String,
    /// Its media type, as the manifest gave it.
    pub media_type: String,
    /// Its announced size.
    pub size: u64,
    /// Its `org.opencontainers.image.title`.
    pub title: Option<String>,
    /// The parsed document, or why it cannot be shown (the page offers the download instead).
    pub document: Result<Document, String>,
}

/// The read documents of recently viewed artifacts.
#[derive(Clone)]
pub(crate) struct Cache(Arc<Mutex<LruCache<String, Arc<Vec<LayerDocument>>>>>);

impl Default for Cache {
    fn default() -> Self {
        Cache(Arc::new(Mutex::new(LruCache::new(NonZeroUsize::new(CACHED_ARTIFACTS).unwrap_or(NonZeroUsize::MIN)))))
    }
}

impl Cache {
    fn get(&self, digest: &str) -> Option<Arc<Vec<LayerDocument>>> {
        self.0.lock().ok()?.get(digest).cloned()
    }

    fn put(&self, digest: &str, documents: Arc<Vec<LayerDocument>>) {
        if let Ok(mut cache) = self.0.lock() {
            cache.put(digest.to_owned(), documents);
        }
    }
}

impl Content {
    /// Reads and parses the content layers of `artifact` (an SBOM, scan, signature or
    /// attestation). A registry failure is an error (not cached: it may pass); a layer that is
    /// too large or not readable is a per-layer message.
    pub async fn documents(&self, artifact: &ArtifactDoc) -> Result<Arc<Vec<LayerDocument>>, ContentError> {
        if let Some(hit) = self.cache.get(&artifact.digest) {
            return Ok(hit);
        }
        let client = self.client(&artifact.registry)?;
        let span = tracing::info_span!("content.documents", registry = %artifact.registry,
            repository = %artifact.repository, digest = %artifact.digest);
        async move {
            let mut read = Vec::new();
            let mut total = 0;
            let layers = artifact.layers.iter().filter(|layer| is_content(layer)).take(MAX_DOCUMENT_LAYERS);
            for layer in layers {
                let document = if layer.size > MAX_DOCUMENT_BYTES {
                    Err(format!(
                        "it is {} MiB, more than the {} MiB shown here; download it instead",
                        layer.size >> 20,
                        MAX_DOCUMENT_BYTES >> 20
                    ))
                } else {
                    let digest = crate::stored_digest(artifact, &layer.digest)?;
                    let bytes = client.get_blob(&artifact.repository, &digest).await?;
                    total += bytes.len() as u64;
                    parse(bytes, layer.media_type.clone(), hint_annotations(layer), artifact.artifact_type.clone())
                        .await
                };
                read.push(LayerDocument {
                    digest: layer.digest.clone(),
                    media_type: layer.media_type.clone(),
                    size: layer.size,
                    title: layer.title.clone(),
                    document,
                });
            }
            let read = Arc::new(read);
            if total <= CACHED_BYTES {
                self.cache.put(&artifact.digest, read.clone());
            }
            Ok(read)
        }
        .instrument(span)
        .await
    }
}

/// Unpacks and parses one layer on a blocking thread.
async fn parse(
    bytes: bytes::Bytes,
    media_type: String,
    annotations: BTreeMap<String, String>,
    artifact_type: Option<String>,
) -> Result<Document, String> {
    let work = move || {
        let unpacked = ocicat_formats::unpack::unpack(&bytes, &media_type).map_err(|error| error.to_string())?;
        let hint = Hint { media_type: &media_type, annotations: &annotations, artifact_type: artifact_type.as_deref() };
        ocicat_formats::read(&unpacked, &hint).map_err(|error| error.to_string())
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(outcome) => outcome,
        Err(error) => {
            tracing::error!(%error, "document parser task failed");
            Err("the document could not be read".to_owned())
        }
    }
}

/// A layer descriptor's annotations, its title among them, as the format readers take them.
fn hint_annotations(layer: &LayerRef) -> BTreeMap<String, String> {
    let mut annotations = layer.annotations.clone();
    if let Some(title) = &layer.title {
        annotations.insert("org.opencontainers.image.title".to_owned(), title.clone());
    }
    annotations
}

/// True for layers a viewer reads.
pub(crate) fn is_content(layer: &LayerRef) -> bool {
    layer.media_type != EMPTY
}
