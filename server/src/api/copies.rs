//! Copying over the JSON API: `POST /api/v1/copies` (a plan: every manifest and blob that will
//! be written, what the destination holds, tags that would move), `POST …/{id}/execute` (runs
//! it as shown) and `GET …/{id}`. Session requests carry `X-CSRF-Token`; API tokens need none.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use ocicat_access::Principal;
use ocicat_service::model::{CopyExecution, CopyRequest, CopyView};
use ocicat_service::{AppError, Service};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(make_copy)).routes(routes!(show_copy)).routes(routes!(execute_copy))
}

/// Reads a JSON body of at most 1 MiB as `T`, saying what the body should be when it is not.
async fn body<T: serde::de::DeserializeOwned>(body: axum::body::Body, shape: &str) -> Result<T, AppError> {
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|error| AppError::BadRequest(format!("cannot read the body: {error}")))?;
    serde_json::from_slice(&bytes).map_err(|error| AppError::BadRequest(format!("{shape}: {error}")))
}

/// Plans a copy of an artifact with everything attached to it: the manifests in the order they
/// are written, each blob with its size, what the destination holds already, the fallback
/// index entries (a destination without the referrers API), tags that would move, totals.
/// Needs Read on the source and Write (maintainers) on the destination.
#[utoipa::path(post, path = "/api/v1/copies", tag = "copying", request_body = CopyRequest,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 201, body = CopyView), (status = 400, body = AppError), (status = 403, body = AppError),
        (status = 404, body = AppError), (status = 502, description = "The destination failed", body = AppError)))]
async fn make_copy(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<CopyView>), ApiError> {
    let (parts, raw) = request.into_parts();
    super::check_csrf(&parts.extensions, &parts.headers)?;
    let request: CopyRequest = body(
        raw,
        "a copy request is {\"source\": {\"registry\", \"repository\"}, \"digest\" or \"query\", \"destination\": \
         {\"registry\", \"repository\"}, \"tags\", \"exclude_artifact_types\"}",
    )
    .await?;
    Ok((StatusCode::CREATED, Json(service.plan_copy(&who, request).await?)))
}

/// A copy plan and, once run, how each step went.
#[utoipa::path(get, path = "/api/v1/copies/{id}", tag = "copying",
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, body = CopyView), (status = 404, body = AppError)))]
async fn show_copy(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<CopyView>, ApiError> {
    Ok(Json(service.copy_plan(&who, &id).await?))
}

/// Runs a copy plan as shown (its fingerprint back): blobs, manifests with their original
/// bytes, fallback index entries, tags last; moving destination tags needs `move_tags`. Answers
/// 202 at once (`GET …/copies/{id}` shows the steps so far while `running`), or with
/// `"wait": true` 200 when it ended, with every step.
#[utoipa::path(post, path = "/api/v1/copies/{id}/execute", tag = "copying", request_body = CopyExecution,
    params(("id" = String, Path, description = "The plan's id"),
        ("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 200, description = "It ran (`wait`)", body = CopyView),
        (status = 202, description = "It runs", body = CopyView), (status = 403, body = AppError),
        (status = 404, body = AppError),
        (status = 409, description = "The plan changed, it would move tags unconfirmed, or it runs already", body = AppError)))]
async fn execute_copy(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<CopyView>), ApiError> {
    let (parts, raw) = request.into_parts();
    super::check_csrf(&parts.extensions, &parts.headers)?;
    let wanted: CopyExecution = body(raw, "an execution is {\"fingerprint\", \"move_tags\", \"wait\"}").await?;
    let view = service.execute_copy(&who, &id, &wanted.fingerprint, wanted.move_tags, wanted.wait).await?;
    let status = if wanted.wait { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(view)))
}
