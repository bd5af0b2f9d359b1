//! Deletes: manifests by digest (idempotent), tags where the registry allows it, and the
//! fallback referrers index kept in step when a referrer goes on a registry without the API.

use bytes::Bytes;
use oci_spec::image::ImageIndex;
use reqwest::Method;

use crate::client::Client;
use crate::digest::Digest;
use crate::error::{OciError, Result};
use crate::manifest::{ManifestBody, media_types};
use crate::names::{validate_reference, validate_repository};
use crate::status::check_status;

/// The artifact type of the manifests that remove a tag (seen only for a moment).
const THROWAWAY_ARTIFACT_TYPE: &str = "application/vnd.ocicat.tag-removal.v1";
/// The annotation that makes each such manifest unique.
const THROWAWAY_ANNOTATION: &str = "vnd.ocicat.tag-removal";

/// What a delete found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    /// The registry accepted the delete.
    Deleted,
    /// It was already gone (404): deleting is idempotent.
    AlreadyGone,
}

fn delete_scope(repository: &str) -> String {
    format!("repository:{repository}:delete")
}

impl Client {
    /// Deletes a manifest by digest; on distribution this removes every tag pointing at it.
    pub async fn delete_manifest(&self, repository: &str, digest: &Digest) -> Result<DeleteOutcome> {
        validate_repository(repository)?;
        let url = self.url(&format!("/v2/{repository}/manifests/{digest}"))?;
        let response =
            self.execute(Method::DELETE, url.clone(), &[delete_scope(repository)], |request| request).await?;
        match check_status(response).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(OciError::NotFound { .. }) => Ok(DeleteOutcome::AlreadyGone),
            Err(OciError::Unsupported { .. }) => Err(OciError::Unsupported {
                url: url.to_string(),
                what: "deleting manifests (deletion is disabled)".into(),
            }),
            Err(error) => Err(error),
        }
    }

    /// Deletes only a tag. Registries that cannot (distribution 2.8 answers 400 or 405) give
    /// [`OciError::Unsupported`]: deleting the digest instead removes every tag on it.
    pub async fn delete_tag(&self, repository: &str, tag: &str) -> Result<DeleteOutcome> {
        validate_repository(repository)?;
        if validate_reference(tag)?.is_some() {
            return Err(OciError::InvalidReference(format!("{tag} is a digest, not a tag")));
        }
        let url = self.url(&format!("/v2/{repository}/manifests/{tag}"))?;
        let response =
            self.execute(Method::DELETE, url.clone(), &[delete_scope(repository)], |request| request).await?;
        let unsupported = || OciError::Unsupported {
            url: url.to_string(),
            what: "deleting a tag alone (delete its digest instead, which removes every tag on it)".into(),
        };
        match check_status(response).await {
            Ok(_) => Ok(DeleteOutcome::Deleted),
            Err(OciError::NotFound { .. }) => Ok(DeleteOutcome::AlreadyGone),
            Err(OciError::Unsupported { .. }) => Err(unsupported()),
            Err(OciError::Status { status: 400, .. }) => Err(unsupported()),
            Err(error) => Err(error),
        }
    }

    /// Removes `tag` alone where the registry cannot delete a tag (distribution 2.8, ferro), as
    /// regclient does: points it at a manifest made for this and nothing else (the 2-byte empty
    /// blob as config and layer, an annotation that makes it unique), then deletes that manifest
    /// by digest — which takes the tag with it while the image and its other tags stay. Answers
    /// the throwaway's digest.
    pub async fn remove_tag_by_throwaway(&self, repository: &str, tag: &str) -> Result<Digest> {
        validate_repository(repository)?;
        if validate_reference(tag)?.is_some() {
            return Err(OciError::InvalidReference(format!("{tag} is a digest, not a tag")));
        }
        let empty = self.push_blob(repository, Bytes::from_static(b"{}")).await?;
        let unique = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
        let descriptor = serde_json::json!({"mediaType": crate::manifest::media_types::OCI_EMPTY, "digest": empty.to_string(), "size": 2});
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media_types::OCI_MANIFEST,
            "artifactType": THROWAWAY_ARTIFACT_TYPE,
            "config": descriptor,
            "layers": [descriptor],
            "annotations": {THROWAWAY_ANNOTATION: format!("{tag} {unique:x}")},
        });
        let raw = Bytes::from(serde_json::to_vec(&manifest).unwrap_or_default());
        let throwaway = self.push_manifest(repository, tag, media_types::OCI_MANIFEST, raw).await?;
        self.delete_manifest(repository, &throwaway).await?;
        Ok(throwaway)
    }

    /// Removes `referrer` from the `<alg>-<hex>` fallback index of `subject` and pushes the
    /// index back. An emptied index is pushed empty, never deleted: its digest may be shared by
    /// another tag (identical fallback indexes have identical bytes). Returns whether it changed.
    pub async fn remove_from_fallback_index(
        &self,
        repository: &str,
        subject: &Digest,
        referrer: &Digest,
    ) -> Result<bool> {
        let tag = subject.fallback_tag();
        let manifest = match self.get_manifest(repository, &tag).await {
            Ok(manifest) => manifest,
            Err(OciError::NotFound { .. }) => return Ok(false),
            Err(error) => return Err(error),
        };
        let ManifestBody::Index(index) = manifest.body else { return Ok(false) };
        let kept: Vec<_> =
            index.manifests().iter().filter(|d| d.digest().to_string() != referrer.to_string()).cloned().collect();
        if kept.len() == index.manifests().len() {
            return Ok(false);
        }
        let mut updated: ImageIndex = (*index).clone();
        updated.set_manifests(kept);
        let raw = serde_json::to_vec(&updated).map_err(|error| OciError::InvalidDocument {
            url: tag.clone(),
            reason: format!("cannot encode index: {error}"),
        })?;
        self.push_manifest(repository, &tag, media_types::OCI_INDEX, Bytes::from(raw)).await?;
        Ok(true)
    }
}
