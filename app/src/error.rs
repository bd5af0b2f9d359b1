//! The error server functions return. Variants survive the trip to the browser (JSON encoding),
//! so pages can show "not found" differently from "registry unreachable".

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a page can be told went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// The registry, repository or artifact is not in the catalog.
    #[error("{0} not found")]
    NotFound(String),
    /// The request itself is malformed (bad digest, bad page number).
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// Nobody is signed in, and this needs someone who is.
    #[error("sign in first")]
    Unauthorized,
    /// The signed-in user may see this but not do that.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The search query is wrong at `position` (0-based character column).
    #[error("invalid query: {message} (at column {})", position + 1)]
    InvalidQuery { message: String, position: usize },
    /// What the request acts on changed since it was shown (a delete plan, say); look again.
    #[error("changed: {0}")]
    Conflict(String),
    /// The server is too busy for this now (a queue is full); try again shortly.
    #[error("busy: {0}")]
    Busy(String),
    /// The registry failed, refused or lied while ocicat fetched content from it (what went
    /// wrong, without the registry's URLs or bodies).
    #[error("registry: {0}")]
    Registry(String),
    /// Something failed on the server; details are in the server log only.
    #[error("internal error")]
    Internal,
    /// The server function call itself failed (network, encoding).
    #[error("request failed: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

impl AppError {
    /// The HTTP status for this error: the one place statuses are chosen, for pages and the API.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::BadRequest(_) | AppError::InvalidQuery { .. } => 400,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Conflict(_) => 409,
            AppError::Busy(_) => 503,
            AppError::Internal => 500,
            AppError::Transport(_) | AppError::Registry(_) => 502,
        }
    }
}

/// Gives the page being rendered on the server the status of `error` (the browser ignores it).
pub fn set_page_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}
