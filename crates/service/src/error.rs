//! The error every front door answers with: pages' server functions (variants survive the trip to
//! the browser as JSON, so a page can tell "not found" from "registry unreachable"), the JSON
//! API and the content proxy. [`AppError::status_code`] is the one place HTTP statuses are chosen.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// What a caller can be told went wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub enum AppError {
    /// The registry, repository or artifact is not in the catalog, or the caller may not read it
    /// (the two look the same).
    #[error("{0} not found")]
    NotFound(String),
    /// The request itself is malformed (bad digest, bad page number).
    #[error("invalid request: {0}")]
    BadRequest(String),
    /// Nobody is signed in, and this needs someone who is.
    #[error("sign in first")]
    Unauthorized,
    /// The caller may see this but not do that.
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The search query is wrong at `position` (0-based character column).
    #[error("invalid query: {message} (at column {})", position + 1)]
    InvalidQuery {
        /// What is wrong.
        message: String,
        /// Where, in characters from the start.
        position: usize,
    },
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
