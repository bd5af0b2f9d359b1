//! `/api/v1/registries`: every registry with its health, a registry's repositories, its crawl
//! status, and "refresh now" for a registry or one repository.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use ocicat_access::Principal;
use ocicat_crawler::RegistryStatus;
use ocicat_service::Service;
use ocicat_service::model::{RegistryCard, RepositoryList};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_registries))
        .routes(routes!(list_repositories))
        .routes(routes!(registry_status))
        .routes(routes!(refresh_registry))
}

/// Every registry the caller may read something in, with its health, counts and (for
/// administrators of the whole registry) crawl progress, speed and rate limit.
#[utoipa::path(get, path = "/api/v1/registries", tag = "registries",
    responses((status = 200, body = Vec<RegistryCard>), (status = 401, description = "Sign in first", body = ocicat_service::AppError)))]
async fn list_registries(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<RegistryCard>>, ApiError> {
    Ok(Json(service.list_registries(&who).await?))
}

/// A filter, a sort and a page of a list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct ListQuery {
    /// Only names containing this.
    #[serde(default)]
    pub(super) q: String,
    /// The order: `name`, `pushed` or `tags`.
    #[serde(default)]
    pub(super) sort: String,
    /// The zero-based page.
    #[serde(default)]
    pub(super) page: usize,
}

/// One page of a registry's repositories, filtered and sorted.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories", tag = "registries",
    params(("registry" = String, Path, description = "The configured registry name"), ListQuery),
    responses((status = 200, body = RepositoryList), (status = 400, body = ocicat_service::AppError),
        (status = 404, description = "No such registry, or nothing in it the caller may read", body = ocicat_service::AppError)))]
async fn list_repositories(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(registry): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<RepositoryList>, ApiError> {
    Ok(Json(service.list_repositories(&who, registry, query.q, query.sort, query.page).await?))
}

/// The crawl status: repositories and manifests seen, done, failed and resumed; rates; the last
/// error; the rate limit. For administrators of the whole registry.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/status", tag = "registries",
    params(("registry" = String, Path, description = "The configured registry name")),
    responses((status = 200, body = RegistryStatus), (status = 403, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn registry_status(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(registry): Path<String>,
) -> Result<Json<RegistryStatus>, ApiError> {
    Ok(Json(service.crawl_status(&who, &registry)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct RefreshQuery {
    /// Re-walk only this repository instead of crawling the whole registry.
    repository: Option<String>,
}

/// What was scheduled.
#[derive(Debug, Serialize, ToSchema)]
struct Scheduled {
    /// The registry.
    registry: String,
    /// The repository, for a refresh of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    /// Always `scheduled`: the crawl runs in the background.
    refresh: &'static str,
}

/// A crawl of the whole registry now (admin role on the whole registry), or a re-walk of one
/// repository (admin role on it), in the background.
#[utoipa::path(post, path = "/api/v1/registries/{registry}/refresh", tag = "registries",
    params(("registry" = String, Path, description = "The configured registry name"), RefreshQuery),
    responses((status = 200, body = Scheduled), (status = 400, body = ocicat_service::AppError),
        (status = 403, body = ocicat_service::AppError), (status = 404, body = ocicat_service::AppError),
        (status = 503, description = "Too many refreshes queued", body = ocicat_service::AppError)),
    security(("api_token" = []), ("session" = [])))]
async fn refresh_registry(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(registry): Path<String>,
    Query(query): Query<RefreshQuery>,
) -> Result<Json<Scheduled>, ApiError> {
    match &query.repository {
        Some(repository) => service.refresh_repository(&who, &registry, repository)?,
        None => service.refresh_registry(&who, &registry)?,
    }
    Ok(Json(Scheduled { registry, repository: query.repository, refresh: "scheduled" }))
}
