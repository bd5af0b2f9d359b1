//! `GET/POST /api/v1/tokens` and `DELETE /api/v1/tokens/{id}`: the caller's own API tokens,
//! as on the tokens page. A new token's secret is in the answer to the POST and nowhere else.

use app::model::{NewToken, TokenRow};
use app::ssr::{UiState, drop_token, find_tokens, make_token};
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use ocicat_access::Principal;
use serde::Deserialize;

use crate::error::ApiError;
use crate::state::AppState;

/// The token routes.
pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/tokens", get(list).post(create)).route("/api/v1/tokens/{id}", delete(revoke))
}

async fn list(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<Vec<TokenRow>>, ApiError> {
    Ok(Json(find_tokens(&ui, &who).await?))
}

#[derive(Debug, Deserialize)]
struct CreateToken {
    name: String,
}

async fn create(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Json(body): Json<CreateToken>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    Ok((StatusCode::CREATED, Json(make_token(&ui, &who, body.name).await?)))
}

async fn revoke(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    drop_token(&ui, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
