//! The content proxy (`GET /content/{registry}/{repository}/@{digest}[/blobs/{digest}]`): an
//! indexed artifact's manifest, config or layer, for users who may read its repository. The
//! address only ever names the catalog knows (never a URL); the bytes come from the
//! registry with the server's credentials, streamed, capped at the announced size and verified
//! while they pass — a lying registry makes the download fail, never complete.
//!
//! Delivery is always a download: `application/octet-stream` (never the registry's type),
//! `Content-Disposition: attachment`, `nosniff`, and a sandboxing CSP, so an SBOM that is really
//! HTML or SVG cannot run in ocicat's origin (S13). The digest is the ETag; content is immutable.

use axum::body::Body;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt as _;

use ocicat_access::Principal;
use ocicat_content::{Download, Part, Target};
use ocicat_service::{AppError, Service};
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

/// The proxy's wildcard route (repository names hold slashes); its paths are documented in
/// [`ContentRoutes`].
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().route("/content/{registry}/{*rest}", get(proxy))
}

/// The documented paths of the proxy.
#[derive(utoipa::OpenApi)]
#[openapi(paths(manifest_download, blob_download))]
pub(crate) struct ContentRoutes;

/// An indexed artifact's manifest, verified, as a download (`application/octet-stream`,
/// attachment, `nosniff`, sandbox CSP, the digest as ETag; `If-None-Match` answers 304).
#[utoipa::path(get, path = "/content/{registry}/{repository}/@{digest}", tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The manifest digest")),
    responses((status = 200, description = "The manifest bytes", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified"), (status = 400, body = AppError), (status = 404, body = AppError),
        (status = 502, description = "The registry failed, refused or lied", body = AppError)))]
#[expect(dead_code, reason = "documents a path of the `proxy` wildcard handler")]
fn manifest_download() {}

/// The config or a layer of an indexed artifact, streamed from the registry, capped at its
/// announced size and verified while it passes (a lying registry breaks the download off).
#[utoipa::path(get, path = "/content/{registry}/{repository}/@{digest}/blobs/{blob}", tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The manifest digest"),
        ("blob" = String, Path, description = "The config's or a layer's digest")),
    responses((status = 200, description = "The blob bytes", content_type = "application/octet-stream"),
        (status = 304, description = "Not modified"), (status = 400, body = AppError), (status = 404, body = AppError),
        (status = 502, description = "The registry failed, refused or lied", body = AppError)))]
#[expect(dead_code, reason = "documents a path of the `proxy` wildcard handler")]
fn blob_download() {}

/// What a proxy path names: repository, artifact digest and the part of it.
fn parse_path(rest: &str) -> Option<(&str, &str, Part)> {
    let (repository, target) = rest.rsplit_once("/@")?;
    match target.split_once("/blobs/") {
        Some((digest, blob)) => Some((repository, digest, Part::Blob(blob.to_owned()))),
        None => Some((repository, target, Part::Manifest)),
    }
}

async fn proxy(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path((registry, rest)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (repository, digest, part) = parse_path(&rest)
        .ok_or_else(|| AppError::BadRequest("expected <repository>/@<digest>[/blobs/<digest>]".into()))?;
    let target = service.content_target(&who, &registry, repository, digest, &part).await?;
    let etag = format!("\"{}\"", target.digest);
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|candidate| candidate.trim().trim_start_matches("W/") == etag))
    {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        delivery_headers(response.headers_mut(), &target, &etag);
        return Ok(response);
    }
    let download = service.download(&target).await?;
    let (body, length) = match download {
        Download::Manifest(bytes) => {
            let length = bytes.len() as u64;
            (Body::from(bytes), length)
        }
        Download::Blob(stream) => {
            let span = tracing::Span::current();
            let (registry, digest) = (target.registry.clone(), target.digest.to_string());
            let logged = stream.map(move |item| {
                if let Err(error) = &item {
                    let _entered = span.enter();
                    tracing::warn!(%registry, %digest, %error, "content stream aborted");
                }
                item
            });
            (Body::from_stream(logged), target.size)
        }
    };
    let mut response = Response::new(body);
    delivery_headers(response.headers_mut(), &target, &etag);
    response.headers_mut().insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    Ok(response)
}

/// The headers of every proxied answer (also on 304).
fn delivery_headers(headers: &mut HeaderMap, target: &Target, etag: &str) {
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set(header::CONTENT_TYPE, "application/octet-stream");
    set(header::CONTENT_DISPOSITION, &format!("attachment; filename=\"{}\"", target.file_name));
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'");
    set(header::ETAG, etag);
    set(header::CACHE_CONTROL, "private, max-age=31536000, immutable");
    set(header::HeaderName::from_static("docker-content-digest"), &target.digest.to_string());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proxy_paths_name_repository_digest_and_part() {
        let digest = "sha256:00";
        assert_eq!(parse_path("demo/app/@sha256:00"), Some(("demo/app", digest, Part::Manifest)));
        assert_eq!(
            parse_path("demo/app/@sha256:00/blobs/sha256:11"),
            Some(("demo/app", digest, Part::Blob("sha256:11".into())))
        );
        assert_eq!(parse_path("demo/app"), None);
        assert_eq!(parse_path("https://evil.example/x"), None);
    }
}
