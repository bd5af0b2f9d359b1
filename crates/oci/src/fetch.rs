//! Reading manifests (conditional GET, HEAD) and small blobs, with every digest verified on
//! the raw bytes: against the requested digest and against `Docker-Content-Digest`.

use bytes::Bytes;
use reqwest::{Method, Response, StatusCode, header};

use crate::body::read_capped;
use crate::client::{Client, pull_scope};
use crate::digest::{Algorithm, Digest};
use crate::error::{OciError, Result};
use crate::manifest::{Manifest, ManifestBody, media_types, parse_manifest};
use crate::names::{validate_reference, validate_repository};
use crate::status::check_status;

/// The answer to a conditional manifest request.
#[derive(Debug, Clone)]
pub enum Conditional {
    /// The ETag still matches: nothing changed.
    NotModified,
    /// A (new) manifest, with the ETag to send next time.
    Modified {
        /// The verified manifest.
        manifest: Manifest,
        /// Its ETag, when the registry sent one.
        etag: Option<String>,
    },
}

/// The digest of a fetched manifest, after every check: the requested digest must match the
/// bytes; a `Docker-Content-Digest` must match the bytes too (schema 1 is hashed over its JWS
/// payload, so there the header must equal the requested digest instead).
fn verified_digest(
    url: &str,
    raw: &[u8],
    requested: Option<Digest>,
    header: Option<Digest>,
    schema1: bool,
) -> Result<Digest> {
    let mismatch =
        |expected: Digest, actual: Digest| OciError::DigestMismatch { url: url.to_owned(), expected, actual };
    if schema1 {
        // Signed schema 1 is hashed over its JWS payload, not the served bytes.
        let payload = schema1_payload(raw);
        let verifies = |digest: &Digest| {
            digest.verifies(raw) || payload.as_deref().is_some_and(|payload| digest.verifies(payload))
        };
        return match (requested, header) {
            (Some(requested), _) if !verifies(&requested) => {
                let actual = Digest::compute(requested.algorithm(), payload.as_deref().unwrap_or(raw));
                Err(mismatch(requested, actual))
            }
            (Some(requested), _) => Ok(requested),
            (None, Some(header)) if verifies(&header) => Ok(header),
            (None, Some(header)) => Err(mismatch(header, Digest::sha256(payload.as_deref().unwrap_or(raw)))),
            (None, None) => Ok(Digest::sha256(payload.as_deref().unwrap_or(raw))),
        };
    }
    let algorithm = requested.as_ref().map_or(Algorithm::Sha256, Digest::algorithm);
    let computed = Digest::compute(algorithm, raw);
    if let Some(expected) = requested {
        if expected != computed {
            return Err(mismatch(expected, computed));
        }
    }
    if let Some(header) = header {
        if !header.verifies(raw) {
            let actual = Digest::compute(header.algorithm(), raw);
            return Err(mismatch(header, actual));
        }
    }
    Ok(computed)
}

/// The signed payload of a schema 1 manifest: the bytes up to the first signature's
/// `formatLength`, followed by its decoded `formatTail` (docker's libtrust JWS convention).
fn schema1_payload(raw: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine as _;
    #[derive(serde::Deserialize)]
    struct Signed {
        signatures: Vec<Signature>,
    }
    #[derive(serde::Deserialize)]
    struct Signature {
        protected: String,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Protected {
        format_length: usize,
        format_tail: String,
    }
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let signed: Signed = serde_json::from_slice(raw).ok()?;
    let protected = engine.decode(signed.signatures.first()?.protected.trim_end_matches('=')).ok()?;
    let protected: Protected = serde_json::from_slice(&protected).ok()?;
    let mut payload = raw.get(..protected.format_length)?.to_vec();
    payload.extend(engine.decode(protected.format_tail.trim_end_matches('=')).ok()?);
    Some(payload)
}

impl Client {
    /// Fetches a manifest by tag or digest, verifying its digest; see [`Manifest`].
    pub async fn get_manifest(&self, repository: &str, reference: &str) -> Result<Manifest> {
        match self.get_manifest_if_changed(repository, reference, None).await? {
            Conditional::Modified { manifest, .. } => Ok(manifest),
            Conditional::NotModified => Err(OciError::InvalidDocument {
                url: format!("/v2/{repository}/manifests/{reference}"),
                reason: "304 without a conditional request".into(),
            }),
        }
    }

    /// Fetches a manifest unless its `ETag` still equals `etag` (`If-None-Match` → 304), so an
    /// unchanged tag costs no body. The returned ETag goes into the next call.
    pub async fn get_manifest_if_changed(
        &self,
        repository: &str,
        reference: &str,
        etag: Option<&str>,
    ) -> Result<Conditional> {
        validate_repository(repository)?;
        let requested = validate_reference(reference)?;
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let response = self
            .execute(Method::GET, url.clone(), &[pull_scope(repository)], |request| {
                let request = request.header(header::ACCEPT, media_types::ACCEPT);
                match etag {
                    Some(etag) => request.header(header::IF_NONE_MATCH, etag),
                    None => request,
                }
            })
            .await?;
        let response = check_status(response).await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(Conditional::NotModified);
        }
        let header_digest = docker_content_digest(&response)?;
        let etag = response.headers().get(header::ETAG).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let content_type =
            response.headers().get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).map(str::to_owned);
        let raw = read_capped(response, self.limits().manifest_bytes).await?;
        let (media_type, body) = parse_manifest(url.as_str(), content_type.as_deref(), &raw)?;
        let digest =
            verified_digest(url.as_str(), &raw, requested, header_digest, matches!(body, ManifestBody::Schema1))?;
        Ok(Conditional::Modified { manifest: Manifest { digest, media_type, raw, body }, etag })
    }

    /// Asks for a manifest's digest without its body (`HEAD`); `None` when the registry sends no digest.
    pub async fn head_manifest(&self, repository: &str, reference: &str) -> Result<Option<Digest>> {
        validate_repository(repository)?;
        let requested = validate_reference(reference)?;
        let url = self.url(&format!("/v2/{repository}/manifests/{reference}"))?;
        let response = self
            .execute(Method::HEAD, url.clone(), &[pull_scope(repository)], |request| {
                request.header(header::ACCEPT, media_types::ACCEPT)
            })
            .await?;
        let response = check_status(response).await?;
        let header = docker_content_digest(&response)?;
        // By digest, the answer is the digest asked for; a header naming another is a lie.
        match (requested, header) {
            (Some(requested), Some(header)) if header.algorithm() == requested.algorithm() && header != requested => {
                Err(OciError::DigestMismatch { url: url.to_string(), expected: requested, actual: header })
            }
            (Some(requested), _) => Ok(Some(requested)),
            (None, header) => Ok(header),
        }
    }

    /// Reads a whole blob (at most `Limits::blob_bytes`) and verifies it against `digest`.
    pub async fn get_blob(&self, repository: &str, digest: &Digest) -> Result<Bytes> {
        validate_repository(repository)?;
        let url = self.url(&format!("/v2/{repository}/blobs/{digest}"))?;
        let response = self.execute(Method::GET, url.clone(), &[pull_scope(repository)], |request| request).await?;
        let response = check_status(response).await?;
        let bytes = read_capped(response, self.limits().blob_bytes).await?;
        if !digest.verifies(&bytes) {
            let actual = Digest::compute(digest.algorithm(), &bytes);
            return Err(OciError::DigestMismatch { url: url.to_string(), expected: digest.clone(), actual });
        }
        Ok(bytes)
    }
}

pub(crate) fn docker_content_digest(response: &Response) -> Result<Option<Digest>> {
    match response.headers().get("docker-content-digest").and_then(|value| value.to_str().ok()) {
        None => Ok(None),
        Some(text) => Ok(Some(text.trim().parse()?)),
    }
}
