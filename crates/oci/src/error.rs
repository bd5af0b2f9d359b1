//! The client's one error type. Library callers match on variants; the server maps them to statuses.

use crate::digest::{Digest, InvalidDigest};

/// A result whose error is an [`OciError`].
pub type Result<T, E = OciError> = std::result::Result<T, E>;

/// Everything that can go wrong while talking to a registry.
#[derive(Debug, thiserror::Error)]
pub enum OciError {
    /// The registry could not be reached (connection refused, DNS, TLS, timeout).
    #[error("registry unreachable at {url}: {reason}")]
    Unreachable { url: String, reason: String },
    /// The registry refused our credentials or we had none.
    #[error("authentication failed for {url}: {reason}")]
    Unauthorized { url: String, reason: String },
    /// The credentials are valid but lack the permission (403, DENIED, insufficient_scope).
    #[error("permission denied for {url}")]
    Denied { url: String },
    /// The named repository, manifest or blob does not exist.
    #[error("not found: {url}")]
    NotFound { url: String, code: Option<String> },
    /// The registry asked us to slow down.
    #[error("rate limited by {url}, retry after {retry_after_secs:?} s")]
    RateLimited { url: String, retry_after_secs: Option<u64> },
    /// Any other unexpected status, with the registry's own error code when it sent one.
    #[error("unexpected status {status} from {url}: {message}")]
    Status { url: String, status: u16, message: String },
    /// The registry does not support the operation (deletion disabled, tag deletion, no `_catalog`).
    #[error("{what} is not supported by {url}")]
    Unsupported { url: String, what: String },
    /// Too many consecutive failures: requests to this registry are paused.
    #[error("registry {url} is failing ({cause}); requests paused for {retry_in_secs} s")]
    CircuitOpen { url: String, retry_in_secs: u64, cause: String },
    /// A body was larger than the cap for its kind.
    #[error("body from {url} exceeds the cap of {cap} bytes")]
    TooLarge { url: String, cap: u64 },
    /// The bytes did not hash to the digest we asked for or were told.
    #[error("digest mismatch for {url}: expected {expected}, got {actual}")]
    DigestMismatch { url: String, expected: Digest, actual: Digest },
    /// A digest string that does not follow the grammar (`sha256:<64 hex>`, `sha512:<128 hex>`).
    #[error("invalid digest {0:?}")]
    InvalidDigest(String),
    /// A repository name or tag that does not follow the distribution grammar.
    #[error("invalid reference {0:?}")]
    InvalidReference(String),
    /// A document we could not understand (bad JSON, ambiguous manifest, wrong media type).
    #[error("invalid document from {url}: {reason}")]
    InvalidDocument { url: String, reason: String },
    /// A link, redirect or realm that points somewhere we refuse to go.
    #[error("refused to follow {target}: {reason}")]
    Refused { target: String, reason: String },
    /// The client configuration itself is wrong.
    #[error("invalid client configuration: {0}")]
    Config(String),
}

impl OciError {
    /// True when retrying later could succeed (network trouble, rate limits, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            OciError::Unreachable { .. } | OciError::RateLimited { .. } | OciError::CircuitOpen { .. } => true,
            OciError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}

impl From<InvalidDigest> for OciError {
    fn from(error: InvalidDigest) -> Self {
        OciError::InvalidDigest(error.0)
    }
}

/// A URL as errors and logs show it: scheme, host, port and path; never user info, query or
/// fragment (a presigned storage URL carries its credentials in the query).
pub(crate) fn shown_url(url: &url::Url) -> String {
    let mut shown = url.clone();
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    shown.set_query(None);
    shown.set_fragment(None);
    shown.to_string()
}

/// `text` with the query and fragment of every URL in it left out (a transport error names the
/// URL it failed on, which after a redirect may be a presigned one).
pub(crate) fn without_url_queries(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http://").into_iter().chain(rest.find("https://")).min() {
        out.push_str(&rest[..start]);
        let url_part = &rest[start..];
        let end =
            url_part.find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '>')).unwrap_or(url_part.len());
        let (url, after) = url_part.split_at(end);
        out.push_str(url.split(['?', '#']).next().unwrap_or(url));
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_in_errors_lose_their_queries_and_user_info() {
        let presigned: url::Url = "https://user:pw@bucket.s3.example/blob?X-Amz-Signature=secret#x".parse().unwrap();
        assert_eq!(shown_url(&presigned), "https://bucket.s3.example/blob");
        let text = "error sending request for url (https://bucket.s3.example/blob?X-Amz-Signature=secret): reset";
        assert_eq!(without_url_queries(text), "error sending request for url (https://bucket.s3.example/blob): reset");
        assert_eq!(without_url_queries("no url here"), "no url here");
        assert_eq!(without_url_queries("a http://x/?q=1 b https://y/p?s=2"), "a http://x/ b https://y/p");
    }
}
