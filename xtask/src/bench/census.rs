//! Counts the requests a registry served, from distribution's access log: an independent check
//! that the crawl and its bound issue the same requests, and that a re-crawl GETs no manifest.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;

/// Time for the registry to write the access-log lines of requests that just completed.
const LOG_SETTLE: Duration = Duration::from_millis(300);

/// Reads a registry log from a remembered position onwards.
#[derive(Debug)]
pub(crate) struct RequestLog {
    path: PathBuf,
    offset: u64,
}

impl RequestLog {
    /// Starts counting from the current end of the log at `path`.
    pub(crate) fn from_end(path: &Path) -> anyhow::Result<RequestLog> {
        let offset = log_length(path)?;
        Ok(RequestLog { path: path.to_owned(), offset })
    }

    /// Requests logged since the last call (or since creation), by method and endpoint
    /// (`GET manifests`, `HEAD manifests`, `GET blobs`, `GET tags`, `GET catalog`, …).
    pub(crate) async fn take(&mut self) -> anyhow::Result<BTreeMap<String, u64>> {
        tokio::time::sleep(LOG_SETTLE).await;
        let bytes = tokio::fs::read(&self.path)
            .await
            .with_context(|| format!("failed to read registry log {}", self.path.display()))?;
        let start = (self.offset as usize).min(bytes.len());
        self.offset = bytes.len() as u64;
        Ok(count_requests(&String::from_utf8_lossy(&bytes[start..])))
    }
}

fn log_length(path: &Path) -> anyhow::Result<u64> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("failed to read registry log {}", path.display()))?;
    Ok(metadata.len())
}

/// Counts the access-log lines (`… "GET /v2/x/manifests/1 HTTP/1.1" 200 …`) by endpoint.
fn count_requests(log: &str) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for line in log.lines() {
        let Some(request) = line.split("] \"").nth(1) else { continue };
        let mut parts = request.split(' ');
        let (Some(method), Some(path)) = (parts.next(), parts.next()) else { continue };
        if !path.starts_with("/v2/") {
            continue;
        }
        *counts.entry(format!("{method} {}", endpoint(path))).or_default() += 1;
    }
    counts
}

fn endpoint(path: &str) -> &'static str {
    let path = path.split('?').next().unwrap_or(path);
    if path == "/v2/" {
        "ping"
    } else if path.starts_with("/v2/_catalog") {
        "catalog"
    } else if path.ends_with("/tags/list") {
        "tags"
    } else if path.contains("/manifests/") {
        "manifests"
    } else if path.contains("/blobs/") {
        "blobs"
    } else if path.contains("/referrers/") {
        "referrers"
    } else {
        "other"
    }
}

/// Every request counted.
pub(crate) fn total(counts: &BTreeMap<String, u64>) -> u64 {
    counts.values().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_log_lines_are_counted_by_endpoint() {
        let log = concat!(
            "time=\"2026-01-01T00:00:00Z\" level=info msg=\"response completed\" http.request.method=GET\n",
            "127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] \"GET /v2/_catalog?n=1000 HTTP/1.1\" 200 40 \"\" \"ocicat\"\n",
            "127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] \"GET /v2/a/b/tags/list?n=1000 HTTP/1.1\" 200 40 \"\" \"ocicat\"\n",
            "127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] \"HEAD /v2/a/b/manifests/1.0 HTTP/1.1\" 200 0 \"\" \"ocicat\"\n",
            "127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] \"GET /v2/a/b/manifests/1.0 HTTP/1.1\" 200 9 \"\" \"ocicat\"\n",
            "127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] \"GET /v2/a/b/blobs/sha256:00 HTTP/1.1\" 200 9 \"\" \"ocicat\"\n",
        );
        let counts = count_requests(log);
        assert_eq!(counts["GET catalog"], 1);
        assert_eq!(counts["GET tags"], 1);
        assert_eq!(counts["HEAD manifests"], 1);
        assert_eq!(counts["GET manifests"], 1);
        assert_eq!(counts["GET blobs"], 1);
        assert_eq!(total(&counts), 5);
    }
}
