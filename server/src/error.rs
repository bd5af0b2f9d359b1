//! The one place that chooses HTTP statuses for the JSON API.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use ocicat_service::AppError;

/// An API error: an [`AppError`] rendered as `{"error": "..."}` with the matching status.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError(error)
    }
}

impl ApiError {
    fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.0.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self.0 {
            AppError::InvalidQuery { message, position } => {
                serde_json::json!({ "error": self.0.to_string(), "message": message, "position": position })
            }
            other => serde_json::json!({ "error": other.to_string() }),
        };
        (self.status(), Json(body)).into_response()
    }
}
