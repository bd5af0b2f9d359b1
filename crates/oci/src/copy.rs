//! Copying blobs between repositories and registries, the protocol half of promotion: a HEAD
//! to skip what the destination holds, a cross-repository mount within one registry (`POST
//! …/blobs/uploads/?mount=&from=`, an upload when the registry refuses), otherwise the source's
//! verified stream sent on in chunks (`PATCH` with `Content-Range`, then `PUT ?digest=`), so a
//! blob is never held whole in memory and a lying source never completes an upload.

use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use reqwest::{Method, StatusCode, Url, header};

use crate::client::{Client, pull_scope, push_scope};
use crate::digest::Digest;
use crate::error::{OciError, Result};
use crate::names::validate_repository;
use crate::status::check_status;

/// Largest chunk sent in one `PATCH` (and so the most of a blob held in memory; a copy sends
/// four blobs at once).
pub const COPY_CHUNK_BYTES: usize = 4 << 20;

/// How a blob reached the destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobCopy {
    /// The destination already held it.
    Present,
    /// Mounted from another repository of the same registry.
    Mounted,
    /// Streamed from the source: this many bytes.
    Uploaded(u64),
}

/// What a mount request answered.
enum Mount {
    /// The blob is in the destination now.
    Mounted,
    /// The registry refused the mount and opened an upload session at this URL instead.
    Upload(Url),
}

impl Client {
    /// Whether `repository` holds the blob `digest`.
    pub async fn has_blob(&self, repository: &str, digest: &Digest) -> Result<bool> {
        validate_repository(repository)?;
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"))?;
        let response = self.execute(Method::HEAD, url, &[pull_scope(repository)], |request| request).await?;
        match response.status() {
            status if status.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => check_status(response).await.map(|_| false),
        }
    }

    /// Opens an upload session in `repository`, asking to mount `digest` from `from` (same
    /// registry) when given.
    async fn start_upload(&self, repository: &str, mount: Option<(&Digest, &str)>) -> Result<Mount> {
        let mut url = self.url(&format!("/v2/{repository}/blobs/uploads/"))?;
        let mut scopes = vec![push_scope(repository)];
        if let Some((digest, from)) = mount {
            validate_repository(from)?;
            url.query_pairs_mut().append_pair("mount", &digest.to_string()).append_pair("from", from);
            scopes.push(pull_scope(from));
        }
        let response = check_status(self.execute(Method::POST, url.clone(), &scopes, |request| request).await?).await?;
        if response.status() == StatusCode::CREATED && mount.is_some() {
            return Ok(Mount::Mounted);
        }
        Ok(Mount::Upload(upload_location(&url, &response)?))
    }

    /// Sends `stream` (the verified bytes of `digest`) into the upload session at `session`, in
    /// chunks of at most [`COPY_CHUNK_BYTES`], and closes it with the digest.
    async fn upload_chunks(
        &self,
        repository: &str,
        digest: &Digest,
        mut session: Url,
        mut stream: crate::BlobStream,
    ) -> Result<u64> {
        let scopes = [push_scope(repository)];
        let mut sent: u64 = 0;
        let mut buffer = BytesMut::new();
        let mut finished = false;
        while !finished {
            match stream.next().await {
                Some(chunk) => buffer.extend_from_slice(&chunk?),
                None => finished = true,
            }
            if buffer.len() < COPY_CHUNK_BYTES && !finished {
                continue;
            }
            if buffer.is_empty() {
                break;
            }
            let chunk: Bytes = buffer.split().freeze();
            let range = format!("{sent}-{}", sent + chunk.len() as u64 - 1);
            let response = self
                .execute(Method::PATCH, session.clone(), &scopes, |request| {
                    request
                        .header(header::CONTENT_TYPE, "application/octet-stream")
                        .header(header::CONTENT_RANGE, range.clone())
                        .body(chunk.clone())
                })
                .await?;
            let response = check_status(response).await?;
            session = upload_location(&session, &response)?;
            sent += chunk.len() as u64;
        }
        session.query_pairs_mut().append_pair("digest", &digest.to_string());
        let response = self.execute(Method::PUT, session, &scopes, |request| request).await?;
        check_status(response).await?;
        Ok(sent)
    }
}

impl Client {
    /// Adds `referrers` (their descriptors as a referrers list names them: media type, digest,
    /// size, artifact type, annotations) to the `<alg>-<hex>` fallback index of `subject` in
    /// `repository` in one update, creating the index when there is none and keeping every entry
    /// it has. Returns how many it added. (A registry without the referrers API lists referrers
    /// so.)
    pub async fn add_to_fallback_index(
        &self,
        repository: &str,
        subject: &Digest,
        referrers: Vec<oci_spec::image::Descriptor>,
    ) -> Result<usize> {
        let tag = subject.fallback_tag();
        let mut index = match self.get_manifest(repository, &tag).await {
            Ok(manifest) => match manifest.body {
                crate::ManifestBody::Index(index) => (*index).clone(),
                _ => {
                    return Err(OciError::InvalidDocument {
                        url: tag,
                        reason: "the fallback tag names something other than an index".into(),
                    });
                }
            },
            Err(OciError::NotFound { .. }) => oci_spec::image::ImageIndexBuilder::default()
                .schema_version(2u32)
                .media_type(oci_spec::image::MediaType::ImageIndex)
                .manifests(Vec::new())
                .build()
                .map_err(|error| OciError::InvalidDocument { url: tag.clone(), reason: error.to_string() })?,
            Err(error) => return Err(error),
        };
        let mut manifests = index.manifests().clone();
        let before = manifests.len();
        for referrer in referrers {
            if !manifests.iter().any(|known| known.digest() == referrer.digest()) {
                manifests.push(referrer);
            }
        }
        let added = manifests.len() - before;
        if added == 0 {
            return Ok(0);
        }
        index.set_manifests(manifests);
        let raw = serde_json::to_vec(&index).map_err(|error| OciError::InvalidDocument {
            url: tag.clone(),
            reason: format!("cannot encode index: {error}"),
        })?;
        self.push_manifest(repository, &tag, crate::media_types::OCI_INDEX, Bytes::from(raw)).await?;
        Ok(added)
    }
}

/// The upload session's next URL (`Location`, resolved against `current`, same origin only).
fn upload_location(current: &Url, response: &reqwest::Response) -> Result<Url> {
    let location = response.headers().get(header::LOCATION).and_then(|value| value.to_str().ok()).ok_or_else(|| {
        OciError::InvalidDocument { url: current.to_string(), reason: "upload session without a location".into() }
    })?;
    crate::paging::resolve_same_origin(current, location)
}

/// Copies the blob `digest` (`size` bytes as its descriptor says) from `source`'s
/// `source_repository` to `destination`'s `destination_repository`: skipped when present,
/// mounted within one registry, else streamed and verified on the fly (at most `size` bytes).
pub async fn copy_blob(
    source: &Client,
    source_repository: &str,
    destination: &Client,
    destination_repository: &str,
    digest: &Digest,
    size: u64,
) -> Result<BlobCopy> {
    validate_repository(destination_repository)?;
    if destination.has_blob(destination_repository, digest).await? {
        return Ok(BlobCopy::Present);
    }
    let same_registry = source.base_url() == destination.base_url() && source_repository != destination_repository;
    let mount = same_registry.then_some((digest, source_repository));
    let session = match destination.start_upload(destination_repository, mount).await? {
        Mount::Mounted => return Ok(BlobCopy::Mounted),
        Mount::Upload(session) => session,
    };
    let stream = source.blob_stream(source_repository, digest, size).await?;
    let sent = destination.upload_chunks(destination_repository, digest, session, stream).await?;
    Ok(BlobCopy::Uploaded(sent))
}
