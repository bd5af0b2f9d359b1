//! `GET /metrics`: the Prometheus text exposition the service renders for the caller (the
//! registries they administer whole), `GET /api/v1/replicas` (several replicas on one database)
//! and `GET /healthz`.

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
    OpenApiRouter::new().routes(routes!(render_metrics)).routes(routes!(replicas)).routes(routes!(healthz))
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

/// The replicas sharing this server's database: who leads, and how far each one's index has
/// applied the catalog's change log.
#[utoipa::path(get, path = "/api/v1/replicas", tag = "operations",
    responses((status = 200, body = ocicat_service::model::ReplicasView),
        (status = 404, description = "Not one replica of several, or the caller administers no whole registry", body = ocicat_service::AppError),
        (status = 503, description = "The cluster database does not answer", body = ocicat_service::AppError)),
    security(("api_token" = [])))]
async fn replicas(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<axum::Json<ocicat_service::model::ReplicasView>, ApiError> {
    Ok(axum::Json(service.replicas(&who).await?))
}

/// Answers `ok` while the server is up; a replica of several (`[cluster]`) answers 503 until its
/// index has applied the catalog's change log, so a load balancer sends requests elsewhere.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "`ok`", content_type = "text/plain"),
        (status = 503, description = "This replica's index is catching up with the catalog", content_type = "text/plain")))]
async fn healthz(State(cluster): State<Option<crate::cluster::Cluster>>) -> axum::response::Response {
    match cluster.map(|cluster| cluster.standing()) {
        Some(standing) if !standing.caught_up => (
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!("catching up: applied the catalog's change log through {}\n", standing.applied),
        )
            .into_response(),
        _ => "ok".into_response(),
    }
}
