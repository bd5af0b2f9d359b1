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
