//! Counts the requests a registry served, from distribution's access log: an independent check
//! that the crawl and its bound issue the same requests, and that a re-crawl GETs no manifest.
//!
//! The log is read up to a sentinel: after the measured requests, one request for a repository
//! nobody else names; once its line is in the log, so are the lines of every request answered
//! before it (distribution writes a small response's line before the response leaves).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// How often the log is read while waiting for the sentinel's line.
const POLL_EVERY: Duration = Duration::from_millis(5);
/// How long the sentinel's line may take to appear before the census fails.
const SENTINEL_WITHIN: Duration = Duration::from_secs(10);
/// The repository name prefix of sentinel requests (never counted).
const SENTINEL: &str = "census-sentinel-";

/// Reads a registry log from a remembered position onwards.
#[derive(Debug)]
pub(crate) struct RequestLog {
    path: PathBuf,
    registry: String,
    offset: u64,
    sentinels: u64,
    http: reqwest::Client,
}

impl RequestLog {
    /// Starts counting from the current end of the log at `path`, written by the registry at
    /// `registry` (its base URL).
    pub(crate) fn from_end(path: &Path, registry: &str) -> anyhow::Result<RequestLog> {
        let offset = log_length(path)?;
        let registry = registry.trim_end_matches('/').to_owned();
        Ok(RequestLog { path: path.to_owned(), registry, offset, sentinels: 0, http: reqwest::Client::new() })
    }

    /// Requests logged since the last call (or since creation), by method and endpoint
    /// (`GET manifests`, `HEAD manifests`, `GET blobs`, `GET tags`, `GET catalog`, …), read
    /// up to a sentinel request sent now.
    pub(crate) async fn take(&mut self) -> anyhow::Result<BTreeMap<String, u64>> {
        Ok(count_requests(&self.take_requests().await?))
    }

    /// The requests themselves, in the order they were logged, up to a sentinel sent now.
    pub(crate) async fn take_requests(&mut self) -> anyhow::Result<Vec<Logged>> {
        self.sentinels += 1;
        let marker = format!("/v2/{SENTINEL}{}/tags/list", self.sentinels);
        // A 404 (the repository is unknown) is the answer expected; only its log line matters.
        self.http
            .get(format!("{}{marker}", self.registry))
            .send()
            .await
            .with_context(|| format!("failed to send the census sentinel to {}", self.registry))?;
        let started = Instant::now();
        loop {
            let bytes = tokio::fs::read(&self.path)
                .await
                .with_context(|| format!("failed to read registry log {}", self.path.display()))?;
            let start = (self.offset as usize).min(bytes.len());
            let text = String::from_utf8_lossy(&bytes[start..]);
            if let Some(found) = text.find(&format!("{marker} ")) {
                let line_end = text[found..].find('\n').map_or(text.len(), |end| found + end + 1);
                self.offset = (start + line_end) as u64;
                return Ok(text[..line_end].lines().filter_map(logged).collect());
            }
            if started.elapsed() > SENTINEL_WITHIN {
                bail!("the registry did not log the census sentinel {marker} within {SENTINEL_WITHIN:?}");
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
}

fn log_length(path: &Path) -> anyhow::Result<u64> {
    let metadata =
        std::fs::metadata(path).with_context(|| format!("failed to read registry log {}", path.display()))?;
    Ok(metadata.len())
}

/// One request of the access log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logged {
    /// `GET`, `HEAD`, …
    pub(crate) method: String,
    /// The path and query, as sent (`/v2/x/manifests/1`).
    pub(crate) path: String,
}

/// The request of an access-log line (`… "GET /v2/x/manifests/1 HTTP/1.1" 200 …`), if it is
/// one of the registry API's (sentinels left out).
fn logged(line: &str) -> Option<Logged> {
    let request = line.split("] \"").nth(1)?;
    let mut parts = request.split(' ');
    let (method, path) = (parts.next()?, parts.next()?);
    if !path.starts_with("/v2/") || path.starts_with(&format!("/v2/{SENTINEL}")) {
        return None;
    }
    Some(Logged { method: method.to_owned(), path: path.to_owned() })
}

/// Counts requests by method and endpoint.
pub(crate) fn count_requests(requests: &[Logged]) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for request in requests {
        *counts.entry(format!("{} {}", request.method, endpoint(&request.path))).or_default() += 1;
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
            "127.0.0.1 - - [23/Nov/2026:10:00:00 +0000] \"GET /v2/census-sentinel-1/tags/list HTTP/1.1\" 404 9 \"\" \"r\"\n",
        );
        let requests: Vec<Logged> = log.lines().filter_map(logged).collect();
        let counts = count_requests(&requests);
        assert_eq!(counts["GET catalog"], 1);
        assert_eq!(counts["GET tags"], 1);
        assert_eq!(counts["HEAD manifests"], 1);
        assert_eq!(counts["GET manifests"], 1);
        assert_eq!(counts["GET blobs"], 1);
        assert_eq!(total(&counts), 5);
    }
}
