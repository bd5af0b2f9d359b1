//! Mapping registry responses to typed errors, reading the registry's error envelope (capped).

use reqwest::{Response, StatusCode, header};

use crate::body::read_capped;
use crate::error::{OciError, Result};

#[derive(serde::Deserialize)]
struct ErrorEnvelope {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(serde::Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: Option<String>,
}

/// Maps a non-success status to a typed error, reading the registry's error envelope (capped).
pub(crate) async fn check_status(response: Response) -> Result<Response> {
    let status = response.status();
    if status.is_success() || status == StatusCode::NOT_MODIFIED {
        return Ok(response);
    }
    let url = crate::error::shown_url(response.url());
    let retry_after_secs = response
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    let body = read_capped(response, 64 << 10).await.unwrap_or_default();
    let envelope: Option<ErrorEnvelope> = serde_json::from_slice(&body).ok();
    let first = envelope.and_then(|envelope| envelope.errors.into_iter().next());
    let code = first.as_ref().map(|entry| entry.code.clone()).filter(|code| !code.is_empty());
    let message: String = first
        .and_then(|entry| entry.message)
        .or_else(|| code.clone())
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("error").to_owned())
        .chars()
        .filter(|c| !c.is_control())
        .take(300)
        .collect();
    Err(match status {
        StatusCode::NOT_FOUND => OciError::NotFound { url, code },
        StatusCode::UNAUTHORIZED => OciError::Unauthorized { url, reason: message },
        StatusCode::FORBIDDEN => OciError::Denied { url },
        StatusCode::METHOD_NOT_ALLOWED => OciError::Unsupported { url, what: message },
        StatusCode::TOO_MANY_REQUESTS => OciError::RateLimited { url, retry_after_secs },
        _ => OciError::Status { url, status: status.as_u16(), message },
    })
}
