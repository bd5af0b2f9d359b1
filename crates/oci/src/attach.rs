//! Attaching to an artifact without changing it, as `oras attach` does: a new manifest whose
//! `subject` names the artifact, with an artifact type, annotations and files as layers (or the
//! empty blob when there are none). Registries with the referrers API index it themselves; for
//! those without, the `sha256-<hex>` fallback index of the subject gains it (merged, never
//! truncated).

use std::collections::BTreeMap;

use bytes::Bytes;
use serde_json::{Value, json};

use crate::client::Client;
use crate::digest::Digest;
use crate::error::{OciError, Result};
use crate::manifest::media_types;

/// `org.opencontainers.image.created`, set on every attachment.
const CREATED: &str = "org.opencontainers.image.created";
/// The annotation naming who attached a referrer (set by ocicat; read back by the crawler).
pub const ATTACHED_BY: &str = "vnd.ocicat.attached-by";
/// `org.opencontainers.image.title`, a file's name.
const TITLE: &str = "org.opencontainers.image.title";

/// A file attached as a layer.
#[derive(Debug, Clone)]
pub struct AttachedFile {
    /// Its media type.
    pub media_type: String,
    /// Its name, if any (`org.opencontainers.image.title`).
    pub name: Option<String>,
    /// Its bytes.
    pub bytes: Bytes,
}

/// What to attach.
#[derive(Debug, Clone)]
pub struct Attachment {
    /// The referrer's artifact type.
    pub artifact_type: String,
    /// Its annotations (`org.opencontainers.image.created` is added).
    pub annotations: BTreeMap<String, String>,
    /// Its files (none: the empty blob stands in as the one layer).
    pub files: Vec<AttachedFile>,
}

/// The referrer an attachment became.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// Its digest.
    pub digest: Digest,
    /// Its manifest's size in bytes.
    pub size: u64,
    /// Whether the subject's fallback index gained it (a registry without the referrers API).
    pub fallback: bool,
}

impl Client {
    /// Pushes `attachment` as a referrer of `subject` in `repository`, created `now` (RFC 3339).
    pub async fn attach(
        &self,
        repository: &str,
        subject: &Digest,
        attachment: &Attachment,
        now: &str,
    ) -> Result<Attached> {
        let subject_manifest = self.get_manifest(repository, &subject.to_string()).await?;
        let empty = self.push_blob(repository, Bytes::from_static(b"{}")).await?;
        let empty_descriptor = json!({"mediaType": media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2});
        let mut layers: Vec<Value> = Vec::new();
        for file in &attachment.files {
            let digest = self.push_blob(repository, file.bytes.clone()).await?;
            let mut layer =
                json!({"mediaType": file.media_type, "digest": digest.to_string(), "size": file.bytes.len()});
            if let Some(name) = &file.name {
                layer["annotations"] = json!({ TITLE: name });
            }
            layers.push(layer);
        }
        if layers.is_empty() {
            layers.push(empty_descriptor.clone());
        }
        let mut annotations = attachment.annotations.clone();
        annotations.insert(CREATED.to_owned(), now.to_owned());
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "artifactType": attachment.artifact_type,
            "config": empty_descriptor,
            "layers": layers,
            "subject": {
                "mediaType": subject_manifest.media_type,
                "digest": subject.to_string(),
                "size": subject_manifest.raw.len(),
            },
            "annotations": annotations,
        });
        let raw =
            Bytes::from(serde_json::to_vec(&manifest).map_err(|error| OciError::InvalidDocument {
                url: repository.to_owned(),
                reason: error.to_string(),
            })?);
        let size = raw.len() as u64;
        let digest = Digest::sha256(&raw);
        self.push_manifest(repository, &digest.to_string(), media_types::OCI_MANIFEST, raw).await?;
        let fallback = self.referrers_api(repository, subject, None).await?.is_none();
        if fallback {
            let descriptor = json!({
                "mediaType": media_types::OCI_MANIFEST,
                "digest": digest.to_string(),
                "size": size,
                "artifactType": attachment.artifact_type,
                "annotations": annotations,
            });
            let descriptor = serde_json::from_value(descriptor)
                .map_err(|error| OciError::InvalidDocument { url: repository.to_owned(), reason: error.to_string() })?;
            self.add_to_fallback_index(repository, subject, vec![descriptor]).await?;
        }
        Ok(Attached { digest, size, fallback })
    }
}
