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
    /// The search query is wrong at `position` (0-based character column).
    #[error("invalid query: {message} (at column {})", position + 1)]
    InvalidQuery { message: String, position: usize },
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
