//! `GET /api/v1/impact`: which artifacts contain a package or carry an advisory, according to
//! every attached SBOM and scan, grouped by repository, as JSON or CSV; `GET /api/v1/diff`: what
//! changed between two artifacts' SBOMs and scans.

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use ocicat_access::Principal;
use ocicat_service::Service;
use ocicat_service::model::{DiffView, ImpactView};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(impact)).routes(routes!(diff))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImpactParams {
    /// The query: `pkg:openssl version < 3.0.13`, `cve:CVE-2024-3094`, `license:GPL-3.0*`,
    /// `fixable:true`, with any other clause beside (`repo:prod/* NOT eol < today`).
    #[serde(default)]
    q: String,
    /// Only the newest tagged build of each repository.
    #[serde(default)]
    latest: bool,
    /// The order of the repositories: `repository` (A to Z, default), `newest` (newest affected
    /// build first) or `affected` (most affected artifacts first).
    #[serde(default)]
    sort: String,
    /// The zero-based page of 25 repositories (JSON).
    #[serde(default)]
    page: usize,
    /// `json` (default) or `csv` (every page, one line per artifact and match).
    #[serde(default)]
    format: Option<String>,
}

/// The artifacts the caller may read that the query finds, grouped by registry and repository:
/// tags, build date, each matching package or advisory with its installed and fixed version,
/// every SBOM or scan that says so (producer, date), signature verdict and end of life; counts
/// over every repository. CSV cells never start a formula.
#[utoipa::path(get, path = "/api/v1/impact", tag = "search", params(ImpactParams),
    responses((status = 200, body = ImpactView, description = "JSON, or text/csv with format=csv"),
        (status = 400, body = ocicat_service::AppError), (status = 401, body = ocicat_service::AppError)))]
async fn impact(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<ImpactParams>,
) -> Result<Response, ApiError> {
    if wanted.format.as_deref() == Some("csv") {
        let csv = service.impact_csv(&who, wanted.q, wanted.latest, &wanted.sort).await?;
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, "attachment; filename=\"impact.csv\""),
        ];
        return Ok((headers, csv).into_response());
    }
    Ok(Json(service.impact(&who, wanted.q, wanted.latest, &wanted.sort, wanted.page).await?).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct DiffParams {
    /// The first artifact, `registry/repository@sha256:…` or `registry/repository:tag`; empty:
    /// the tagged build before `b` in its repository.
    #[serde(default)]
    a: String,
    /// The second artifact.
    b: String,
}

/// What changed from `a` to `b` according to their SBOMs (packages added, removed, up- and
/// downgraded in each ecosystem's order, relicensed) and scans (findings fixed, introduced).
#[utoipa::path(get, path = "/api/v1/diff", tag = "search", params(DiffParams),
    responses((status = 200, body = DiffView), (status = 400, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn diff(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<DiffParams>,
) -> Result<Json<DiffView>, ApiError> {
    Ok(Json(service.diff(&who, wanted.a, wanted.b).await?))
}
