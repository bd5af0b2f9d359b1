//! The parsers that read registry input, exposed for fuzzing and property tests. Each returns
//! an error (or nothing) on hostile input and never panics.

use std::time::{Duration, SystemTime};

pub use crate::auth::Challenge;
use crate::error::OciError;
use crate::manifest::ManifestBody;

/// Parses a manifest body served with `content_type`; see the manifest module for the rules.
pub fn manifest(content_type: Option<&str>, raw: &[u8]) -> Result<(String, ManifestBody), OciError> {
    crate::manifest::parse_manifest("fuzz", content_type, raw)
}

/// Parses every challenge of a `WWW-Authenticate` header value.
pub fn challenges(header: &str) -> Vec<Challenge> {
    crate::auth::parse_challenges(header)
}

/// The `rel="next"` target of a `Link` header value.
pub fn next_link(header: &str) -> Option<&str> {
    crate::paging::next_link(header)
}

/// Longest wait ocicat accepts from a registry's `Retry-After`.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Reads `Retry-After` as delta-seconds or an HTTP date relative to `now`, capped at
/// [`MAX_RETRY_AFTER`]; `None` when it is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let date = httpdate::parse_http_date(value).ok()?;
        date.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn retry_after_reads_seconds_and_dates_and_caps_them() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        assert_eq!(retry_after("999999", now), Some(MAX_RETRY_AFTER));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
        assert_eq!(retry_after("-1", now), None);
    }

    proptest! {
        #[test]
        fn retry_after_never_panics_and_is_capped(value in ".{0,64}") {
            if let Some(wait) = retry_after(&value, SystemTime::now()) {
                prop_assert!(wait <= MAX_RETRY_AFTER);
            }
        }
    }
}
