//! The JSON API (`/api/v1`): the same data the pages show, for automation.

use axum::extract::{Extension, Path, Query, State};
use axum::http::header;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use app::error::AppError;
use app::model::{ArtifactView, ContentQuery, RawDocument, RegistryCard, RepositoryList, RepositoryView, SearchPage};
use app::ssr::{
    UiState, find_artifact, find_contents, find_document, find_recent, find_referrers, find_registries,
    find_repositories, find_repository, find_search, find_signatures, find_tags, registry_visible,
};
use ocicat_access::{Principal, Right};
use ocicat_catalog::ReferrerQuery;

use crate::error::ApiError;
use crate::state::AppState;

/// The API routes, merged into the main router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/registries", get(list_registries))
        .route("/api/v1/registries/{registry}/repositories", get(list_repositories))
        .route("/api/v1/registries/{registry}/refresh", post(refresh_registry))
        .route("/api/v1/registries/{registry}/status", get(registry_status))
        .route("/api/v1/registries/{registry}/repositories/{*rest}", get(find_repository_or_artifact))
        .route("/api/v1/search", get(search))
        .route("/api/v1/recent", get(recent))
        .merge(crate::api_tokens::router())
        .merge(crate::lifecycle::router())
}

async fn list_registries(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<RegistryCard>>, ApiError> {
    Ok(Json(find_registries(&ui, &who).await?))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: usize,
}

async fn list_repositories(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(registry): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<RepositoryList>, ApiError> {
    Ok(Json(find_repositories(&ui, &who, registry, query.q, query.sort, query.page).await?))
}

#[derive(Debug, Deserialize, Default)]
struct LookupQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    sort: String,
    #[serde(default)]
    page: usize,
    /// Referrers: only this artifact type at the top level.
    #[serde(default, rename = "artifactType")]
    artifact_type: Option<String>,
    /// Referrers: `oldest` for created ascending (newest first otherwise).
    #[serde(default)]
    order: String,
    /// Referrers: keep the first N top-level referrers.
    #[serde(default)]
    top: usize,
    /// Contents: which content layer.
    #[serde(default)]
    layer: usize,
    /// Contents: only findings of this severity.
    #[serde(default)]
    severity: String,
    /// Contents: only findings with a fix (`1` or `true`).
    #[serde(default)]
    fixed: String,
    /// Contents: compare the scan with this other scan of the same artifact.
    #[serde(default)]
    compare: String,
}

/// Under `…/repositories/`: `<repo>` the repository, `<repo>/-/tags` its tags (paged, sorted,
/// filtered), `<repo>/@<digest>` one artifact, `<repo>/@<digest>/referrers` its referrers tree,
/// `<repo>/manifests/<digest>` the stored manifest and `<repo>/manifests/<digest>/config` its
/// config, as stored.
async fn find_repository_or_artifact(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path((registry, rest)): Path<(String, String)>,
    Query(query): Query<LookupQuery>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse as _;
    let rest = rest.trim_end_matches('/');
    if let Some(repository) = rest.strip_suffix("/-/tags") {
        let tags = find_tags(&ui, &who, registry, repository.to_owned(), query.q, query.sort, query.page).await?;
        return Ok(Json(tags).into_response());
    }
    if let Some((repository, digest, document)) = raw_document_path(rest) {
        let stored = find_document(&ui, &who, registry, repository.to_owned(), digest.to_owned(), document).await?;
        return Ok(([(header::CONTENT_TYPE, "application/json")], stored).into_response());
    }
    match rest.split_once("/@") {
        Some((repository, target)) if target.ends_with("/contents") => {
            let digest = target.trim_end_matches("/contents").to_owned();
            let request = ContentQuery {
                layer: query.layer,
                q: query.q,
                sort: query.sort,
                page: query.page,
                severity: query.severity,
                fixed: matches!(query.fixed.as_str(), "1" | "true" | "on"),
                compare: query.compare,
            };
            let contents = find_contents(&ui, &who, registry, repository.to_owned(), digest, request).await?;
            Ok(Json(contents).into_response())
        }
        Some((repository, target)) if target.ends_with("/signatures") => {
            let digest = target.trim_end_matches("/signatures").to_owned();
            Ok(Json(find_signatures(&ui, &who, registry, repository.to_owned(), digest).await?).into_response())
        }
        Some((repository, target)) => match target.strip_suffix("/referrers") {
            Some(digest) => {
                let request = ReferrerQuery {
                    artifact_type: query.artifact_type.filter(|wanted| !wanted.is_empty()),
                    oldest_first: query.order == "oldest",
                    limit: query.top,
                };
                let tree =
                    find_referrers(&ui, &who, registry, repository.to_owned(), digest.to_owned(), request).await?;
                Ok(Json(tree).into_response())
            }
            None => {
                let artifact: ArtifactView =
                    find_artifact(&ui, &who, registry, repository.to_owned(), target.to_owned()).await?;
                Ok(Json(artifact).into_response())
            }
        },
        None => {
            let repository: RepositoryView = find_repository(&ui, &who, registry, rest.to_owned()).await?;
            Ok(Json(repository).into_response())
        }
    }
}

/// Splits `<repo>/manifests/<digest>[/config]`. Repository names hold neither `@` nor `:`, and
/// digests always hold a `:`, so a repository with a `manifests` component still reads as one.
fn raw_document_path(rest: &str) -> Option<(&str, &str, RawDocument)> {
    if rest.contains("/@") {
        return None;
    }
    let (repository, target) = rest.rsplit_once("/manifests/")?;
    let (digest, document) = match target.strip_suffix("/config") {
        Some(digest) => (digest, RawDocument::Config),
        None => (target, RawDocument::Manifest),
    };
    digest.contains(':').then_some((repository, digest, document))
}

/// `GET /api/v1/registries/{registry}/status`: crawl progress and health (counters, rates,
/// last error, the registry's announced rate limit).
async fn registry_status(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(registry): Path<String>,
) -> Result<Json<ocicat_crawler::RegistryStatus>, ApiError> {
    let status = registry_visible(&ui, &who, &registry)?;
    if !who.can_somewhere(Right::Administer, &registry) {
        return Err(AppError::Forbidden(format!("the crawl status of {registry:?} needs the admin role")).into());
    }
    Ok(Json(status))
}

#[derive(Debug, Deserialize)]
struct RefreshQuery {
    /// Refresh only this repository (and so every artifact in it) instead of a full crawl.
    repository: Option<String>,
}

/// `POST /api/v1/registries/{registry}/refresh[?repository=<path>]`: a full crawl now, or a
/// targeted re-walk of one repository (what registry notifications trigger). Needs the admin
/// role on the whole registry, or on the repository.
async fn refresh_registry(
    State(state): State<AppState>,
    Extension(who): Extension<Principal>,
    Path(registry): Path<String>,
    Query(query): Query<RefreshQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    registry_visible(&state.ui, &who, &registry)?;
    match query.repository {
        Some(repository) => {
            if !ocicat_oci::is_valid_repository(&repository) {
                return Err(AppError::BadRequest(format!("{repository:?} is not a repository name")).into());
            }
            if !who.can(Right::Read, &registry, &repository) {
                return Err(AppError::NotFound(format!("repository {repository:?}")).into());
            }
            if !who.can(Right::Administer, &registry, &repository) {
                return Err(AppError::Forbidden(format!("refreshing {repository:?} needs the admin role")).into());
            }
            if !state.crawler.refresh_repository(&registry, &repository) {
                return Err(AppError::Busy("too many refreshes are queued; try again shortly".into()).into());
            }
            Ok(Json(serde_json::json!({ "registry": registry, "repository": repository, "refresh": "scheduled" })))
        }
        None => {
            if !who.can_whole_registry(Right::Administer, &registry) {
                return Err(
                    AppError::Forbidden(format!("starting a crawl of {registry:?} needs the admin role")).into()
                );
            }
            if !state.crawler.trigger(&registry) {
                return Err(AppError::NotFound(format!("registry {registry:?}")).into());
            }
            Ok(Json(serde_json::json!({ "registry": registry, "refresh": "scheduled" })))
        }
    }
}

/// `GET /api/v1/search?q=&sort=newest|oldest|name&page=`: a query error is a 400 with its position.
async fn search(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Query(query): Query<ListQuery>,
) -> Result<Json<SearchPage>, ApiError> {
    Ok(Json(find_search(&ui, &who, query.q, query.sort, query.page).await?))
}

/// `GET /api/v1/recent`: the newest tagged artifacts of every registry (the home page's list).
async fn recent(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<app::model::SearchHit>>, ApiError> {
    Ok(Json(find_recent(&ui, &who).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_document_paths_are_told_from_repositories_and_artifacts() {
        let digest = "sha256:0123";
        assert_eq!(
            raw_document_path("demo/app/manifests/sha256:0123"),
            Some(("demo/app", digest, RawDocument::Manifest))
        );
        assert_eq!(
            raw_document_path("demo/app/manifests/sha256:0123/config"),
            Some(("demo/app", digest, RawDocument::Config))
        );
        assert_eq!(
            raw_document_path("a/manifests/b/manifests/sha256:0123"),
            Some(("a/manifests/b", digest, RawDocument::Manifest)),
            "the last `manifests` before a digest counts"
        );
        assert_eq!(raw_document_path("a/manifests/b"), None, "a repository named like the route");
        assert_eq!(raw_document_path("a/manifests/b/@sha256:0123"), None, "an artifact in such a repository");
        assert_eq!(raw_document_path("demo/app"), None);
    }
}
