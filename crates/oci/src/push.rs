//! Pushing blobs and manifests (the seeder; promotion copies through `copy.rs`).

use bytes::Bytes;
use reqwest::{Method, header};

use crate::client::{Client, push_scope};
use crate::digest::Digest;
use crate::error::{OciError, Result};
use crate::names::{validate_reference, validate_repository};
use crate::status::check_status;

impl Client {
    /// Uploads a blob (monolithic POST then PUT) unless the registry already has it.
    pub async fn push_blob(&self, repository: &str, bytes: Bytes) -> Result<Digest> {
        validate_repository(repository)?;
        let digest = Digest::sha256(&bytes);
        let scopes = [push_scope(repository)];
        let head_url = self.url(&format!("/v2/{repository}/blobs/{digest}"))?;
        let existing = self.execute(Method::HEAD, head_url, &scopes, |request| request).await?;
        if existing.status().is_success() {
            return Ok(digest);
        }
        let start_url = self.url(&format!("/v2/{repository}/blobs/uploads/"))?;
        let started =
            check_status(self.execute(Method::POST, start_url.clone(), &scopes, |request| request).await?).await?;
        let location =
            started.headers().get(header::LOCATION).and_then(|value| value.to_str().ok()).ok_or_else(|| {
                OciError::InvalidDocument { url: start_url.to_string(), reason: "upload without location".into() }
            })?;
        let mut upload_url = crate::paging::resolve_same_origin(&start_url, location)?;
        upload_url.query_pairs_mut().append_pair("digest", &digest.to_string());
        let response = self
            .execute(Method::PUT, upload_url, &scopes, |request| {
                request.header(header::CONTENT_TYPE, "application/octet-stream").body(bytes.clone())
            })
            .await?;
        check_status(response).await?;
        Ok(digest)
    }

    /// Uploads a manifest under `reference` (a tag or its digest) with `media_type`.
    pub async fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        raw: Bytes,
    ) -> Result<Digest> {
        validate_repository(repository)?;
        validate_reference(reference)?;
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let media_type = media_type.to_owned();
        let response = self
            .execute(Method::PUT, url, &[push_scope(repository)], |request| {
                request.header(header::CONTENT_TYPE, media_type.clone()).body(raw.clone())
            })
            .await?;
        check_status(response).await?;
        Ok(Digest::sha256(&raw))
    }
}
