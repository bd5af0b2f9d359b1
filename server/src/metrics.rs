//! `GET /metrics`: the Prometheus text exposition the service renders for the caller (the
//! registries they administer whole), and `GET /healthz`.

use axum::extract::{Extension, State};
use axum::http::header;
use axum::response::IntoResponse;
use ocicat_access::Principal;
use ocicat_service::Service;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// The metrics and health routes.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(render_metrics)).routes(routes!(healthz))
}

/// Crawl health and index size per registry the caller administers whole (Prometheus sends an
/// admin's API token as a bearer token).
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, description = "Prometheus text exposition 0.0.4", content_type = "text/plain"),
        (status = 401, body = ocicat_service::AppError),
        (status = 404, description = "The caller administers no whole registry", body = ocicat_service::AppError)),
    security(("api_token" = [])))]
async fn render_metrics(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<impl IntoResponse, ApiError> {
    let text = service.metrics(&who).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text))
}

/// Answers `ok` while the server is up.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`ok`", content_type = "text/plain")))]
async fn healthz() -> &'static str {
    "ok"
}
