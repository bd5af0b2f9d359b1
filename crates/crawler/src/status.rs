//! Progress and health per registry, shared between the crawl tasks and the pages.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a registry's crawler is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CrawlState {
    /// Not crawled yet.
    #[default]
    Pending,
    /// A crawl is running.
    Crawling,
    /// The last crawl finished.
    Idle,
    /// The registry could not be reached or refused us; retrying with backoff.
    Unreachable,
}

impl CrawlState {
    /// A stable key: the JSON value, and what pages and metrics show.
    pub fn key(self) -> &'static str {
        match self {
            CrawlState::Pending => "pending",
            CrawlState::Crawling => "crawling",
            CrawlState::Idle => "idle",
            CrawlState::Unreachable => "unreachable",
        }
    }
}

/// Progress and health of one registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RegistryStatus {
    /// The configured name.
    pub name: String,
    /// The base URL (never carries credentials).
    pub url: String,
    /// What the crawler is doing.
    pub state: CrawlState,
    /// Repositories found by the current or last crawl.
    pub repositories_total: u64,
    /// Repositories crawled so far in the current or last crawl.
    pub repositories_done: u64,
    /// Repositories an interrupted earlier crawl had already done (skipped when it resumed).
    pub repositories_resumed: u64,
    /// Manifests fetched in the current or last crawl.
    pub manifests_seen: u64,
    /// Manifests known from the previous crawl and reused without a GET.
    pub manifests_unchanged: u64,
    /// Manifests or tags that failed in the current or last crawl.
    pub manifests_failed: u64,
    /// The last error, sanitized (no credentials).
    pub last_error: Option<String>,
    /// When the current or last crawl started.
    pub last_started: Option<DateTime<Utc>>,
    /// When a crawl last completed.
    pub last_success: Option<DateTime<Utc>>,
    /// Crawls completed since start.
    pub crawls_completed: u64,
    /// Repositories per second in the current or last crawl.
    pub repositories_per_second: f64,
    /// Manifests (fetched or reused) per second in the current or last crawl.
    pub manifests_per_second: f64,
    /// What the registry last announced about its rate limit.
    pub rate_limit: RateLimitStatus,
    /// True while the current crawl is a full reconcile (every manifest fetched again).
    pub reconciling: bool,
    /// When a full reconcile last completed.
    pub last_reconcile: Option<DateTime<Utc>>,
    /// When the registry's last push notification reached this crawler (since it started).
    #[serde(default)]
    pub last_notification: Option<DateTime<Utc>>,
    /// True while the current or last crawl read only tag lists ([`crate::CrawlMode::Listed`]).
    #[serde(default)]
    pub listed_only: bool,
}

/// A registry's announced rate limit (`ratelimit-*` headers, 429 `Retry-After`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RateLimitStatus {
    /// Requests allowed per window, when announced.
    pub limit: Option<u64>,
    /// Requests left in the window, when announced.
    pub remaining: Option<u64>,
    /// Seconds until requests may resume after a 429, while one is in force.
    pub blocked_for_secs: Option<u64>,
}

impl RegistryStatus {
    /// Refreshes the rates from the counters and the time since the crawl started.
    pub(crate) fn update_rates(&mut self, now: DateTime<Utc>) {
        let Some(started) = self.last_started else { return };
        let seconds = (now - started).num_milliseconds() as f64 / 1000.0;
        if seconds > 0.0 {
            let repositories = self.repositories_done.saturating_sub(self.repositories_resumed);
            self.repositories_per_second = repositories as f64 / seconds;
            self.manifests_per_second = (self.manifests_seen + self.manifests_unchanged) as f64 / seconds;
        }
    }
}

/// The shared board of every registry's status.
#[derive(Debug, Clone, Default)]
pub struct StatusBoard {
    inner: Arc<RwLock<BTreeMap<String, RegistryStatus>>>,
}

impl StatusBoard {
    /// Registers a registry in the pending state.
    pub fn register(&self, name: &str, url: &str) {
        let mut board = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        board.entry(name.to_owned()).or_insert_with(|| RegistryStatus {
            name: name.to_owned(),
            url: url.to_owned(),
            ..Default::default()
        });
    }

    /// Records the rate-limit state `client` last saw for `name`.
    pub fn record_rate_limit(&self, name: &str, client: &ocicat_oci::Client) {
        let state = client.rate_limit();
        self.update(name, |status| {
            status.rate_limit = RateLimitStatus {
                limit: state.limit,
                remaining: state.remaining,
                blocked_for_secs: state.blocked_for_secs,
            };
        });
    }

    /// Applies `change` to one registry's status.
    pub fn update(&self, name: &str, change: impl FnOnce(&mut RegistryStatus)) {
        let mut board = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(status) = board.get_mut(name) {
            change(status);
        }
    }

    /// Records how a full crawl of `name` ended: idle with its completion time, or unreachable
    /// with the error.
    pub fn record_outcome(&self, name: &str, outcome: &Result<(), crate::CrawlError>) {
        self.update(name, |status| match outcome {
            Ok(()) => {
                status.state = CrawlState::Idle;
                status.last_success = Some(chrono::Utc::now());
                status.crawls_completed += 1;
            }
            Err(error) => {
                status.state = CrawlState::Unreachable;
                status.last_error = Some(error.to_string());
            }
        });
    }

    /// A copy of every registry's status, by name.
    pub fn snapshot(&self) -> Vec<RegistryStatus> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect()
    }

    /// A copy of one registry's status.
    pub fn get(&self, name: &str) -> Option<RegistryStatus> {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(name).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keys_are_the_json_values() {
        for state in [CrawlState::Pending, CrawlState::Crawling, CrawlState::Idle, CrawlState::Unreachable] {
            assert_eq!(serde_json::to_value(state).unwrap(), state.key());
        }
    }
}
