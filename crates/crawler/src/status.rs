//! Progress and health per registry, shared between the crawl tasks and the pages.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a registry's crawler is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
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

/// Progress and health of one registry.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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

    /// Applies `change` to one registry's status.
    pub fn update(&self, name: &str, change: impl FnOnce(&mut RegistryStatus)) {
        let mut board = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(status) = board.get_mut(name) {
            change(status);
        }
    }

    /// Records how a full crawl of `name` ended: idle with its completion time, or unreachable
    /// with the error.
    pub fn record_outcome(&self, name: &str, outcome: &Result<(), String>) {
        self.update(name, |status| match outcome {
            Ok(()) => {
                status.state = CrawlState::Idle;
                status.last_success = Some(chrono::Utc::now());
                status.crawls_completed += 1;
            }
            Err(error) => {
                status.state = CrawlState::Unreachable;
                status.last_error = Some(error.clone());
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
