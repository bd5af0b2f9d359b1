//! `/api/v1/me` and `/api/v1/tokens`: who the caller is, and their own API tokens. A new
//! token's secret is in the answer to the POST and nowhere else.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use ocicat_access::{CsrfToken, Principal};
use ocicat_service::Service;
use ocicat_service::model::{NewToken, SessionView, TokenRow};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(me)).routes(routes!(list_tokens, create_token)).routes(routes!(revoke_token))
}

/// Who the caller is, whether they may delete, and (with a session cookie) the anti-CSRF token
/// that deletes sent with that cookie carry in `X-CSRF-Token`.
#[utoipa::path(get, path = "/api/v1/me", tag = "account", responses((status = 200, body = SessionView)))]
async fn me(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    token: Option<Extension<CsrfToken>>,
) -> Json<SessionView> {
    Json(service.session_view(&who, token.map(|Extension(token)| token.0).unwrap_or_default()))
}

/// The caller's API tokens, newest first (never their secrets).
#[utoipa::path(get, path = "/api/v1/tokens", tag = "account",
    responses((status = 200, body = Vec<TokenRow>), (status = 401, body = ocicat_service::AppError),
        (status = 404, description = "Access control is off", body = ocicat_service::AppError)))]
async fn list_tokens(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<TokenRow>>, ApiError> {
    Ok(Json(service.list_tokens(&who).await?))
}

/// A token to make.
#[derive(Debug, Deserialize, ToSchema)]
struct CreateToken {
    /// What the owner calls it (1 to 64 printable characters).
    name: String,
}

/// Makes an API token acting with the caller's roles (signed in: an API token cannot make
/// one); the answer holds its secret, once.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "account", request_body = CreateToken,
    responses((status = 201, body = NewToken), (status = 400, body = ocicat_service::AppError),
        (status = 403, description = "Sent with an API token", body = ocicat_service::AppError),
        (status = 401, body = ocicat_service::AppError), (status = 404, body = ocicat_service::AppError)))]
async fn create_token(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    bearer: Option<Extension<ocicat_access::BearerAuthenticated>>,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(service.create_token(&who, body.name, bearer.is_some()).await?)))
}

/// Revokes one of the caller's tokens (anyone else's is not found).
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "account",
    params(("id" = String, Path, description = "The token's id")),
    responses((status = 204, description = "Revoked"), (status = 401, body = ocicat_service::AppError),
        (status = 404, body = ocicat_service::AppError)))]
async fn revoke_token(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    service.revoke_token(&who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
