//! `GET /api/v1/search` (the query language, with facets) and `GET /api/v1/recent` (the newest
//! tagged builds, as on the home page).

use axum::Json;
use axum::extract::{Extension, Query, State};
use ocicat_access::Principal;
use ocicat_service::Service;
use ocicat_service::model::{SearchHit, SearchPage};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search)).routes(routes!(recent))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct SearchParams {
    /// The query, e.g. `kind:sbom repo:demo/*` or `eol < today` (see the README's table).
    #[serde(default)]
    q: String,
    /// `newest`, `oldest`, `name`, `relevance` or `size`.
    #[serde(default)]
    sort: String,
    /// The zero-based page of 25.
    #[serde(default)]
    page: usize,
}

/// Search results with facet counts over every match the caller may read; a query error is a
/// 400 with the column of the mistake.
#[utoipa::path(get, path = "/api/v1/search", tag = "search", params(SearchParams),
    responses((status = 200, body = SearchPage), (status = 400, body = ocicat_service::AppError),
        (status = 401, body = ocicat_service::AppError)))]
async fn search(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<SearchParams>,
) -> Result<Json<SearchPage>, ApiError> {
    Ok(Json(service.search(&who, wanted.q, wanted.sort, wanted.page).await?))
}

/// The newest artifacts with a version tag in every registry the caller may read, newest build
/// first (the home page's "Recently built").
#[utoipa::path(get, path = "/api/v1/recent", tag = "search",
    responses((status = 200, body = Vec<SearchHit>), (status = 401, body = ocicat_service::AppError)))]
async fn recent(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<SearchHit>>, ApiError> {
    Ok(Json(service.list_recent(&who).await?))
}
