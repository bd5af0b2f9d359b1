//! Server-only glue for the pages: the state server functions read, and the mapping from
//! catalog documents to the wire models (badges, referrers, parents).

use leptos::prelude::use_context;
use ocicat_catalog::{Catalog, RegistryCounts};
use ocicat_crawler::{RegistryStatus, StatusBoard};

use crate::error::AppError;
use crate::model::RegistryCard;

mod access;
mod content;
mod find;
pub mod lifecycle;
mod scan;
mod tokens;
mod views;

pub use access::{card_for, principal, read_scope, registry_visible, repository_visible, visible_registries};
pub use content::{find_contents, find_signatures};
pub use find::{
    RECENT_LIMIT, TAGS_PER_PAGE, find_artifact, find_document, find_indexed, find_recent, find_referrers,
    find_registries, find_repositories, find_repository, find_search, find_tag, find_tags,
};
pub use tokens::{drop_token, find_tokens, make_token, session_view};
pub(crate) use views::{artifact_badges, artifact_view, pretty};

/// What the pages need from the server: the catalog, the crawl status board, the registry
/// clients the content proxy uses and, when access control is on, the database of API tokens.
#[derive(Clone, Debug)]
pub struct UiState {
    /// The read side of the index.
    pub catalog: Catalog,
    /// Crawl progress and health per registry.
    pub board: StatusBoard,
    /// Sessions and API tokens; `None` when the server is open (no `[access]` configured).
    pub database: Option<ocicat_access::Database>,
    /// The registries' clients for the content proxy and the document viewers.
    pub content: ocicat_content::Content,
    /// Delete plans, their execution, retention and the audit log; `None` where not set up.
    pub lifecycle: Option<ocicat_lifecycle::Engine>,
}

impl UiState {
    /// The state of an open server (no access control, no tokens).
    pub fn open(catalog: Catalog, board: StatusBoard) -> UiState {
        UiState { catalog, board, database: None, content: ocicat_content::Content::default(), lifecycle: None }
    }

    /// The same, deleting through this engine.
    pub fn with_lifecycle(self, engine: ocicat_lifecycle::Engine) -> UiState {
        UiState { lifecycle: Some(engine), ..self }
    }

    /// The same, fetching content through these registry clients.
    pub fn with_content(self, content: ocicat_content::Content) -> UiState {
        UiState { content, ..self }
    }
}

/// The state provided to every server function and SSR render.
pub fn state() -> Result<UiState, AppError> {
    use_context::<UiState>().ok_or_else(|| {
        tracing::error!("ui state missing from the leptos context");
        AppError::Internal
    })
}

/// Runs a blocking catalog call off the async runtime.
pub async fn blocking<T, F>(work: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ocicat_catalog::CatalogError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => {
            tracing::error!(%error, "catalog query failed");
            Err(AppError::Internal)
        }
        Err(error) => {
            tracing::error!(%error, "catalog query task failed");
            Err(AppError::Internal)
        }
    }
}

/// The host:port part of a registry URL, for display and pull commands.
pub fn host_of(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    without_scheme.trim_end_matches('/').to_owned()
}

/// Builds a home-page card from crawl status and index counts.
pub fn registry_card(status: &RegistryStatus, counts: RegistryCounts) -> RegistryCard {
    RegistryCard {
        name: status.name.clone(),
        host: host_of(&status.url),
        state: serde_json::to_value(status.state).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
        repositories: counts.repositories,
        artifacts: counts.artifacts,
        repositories_done: status.repositories_done,
        repositories_total: status.repositories_total,
        failures: status.manifests_failed,
        last_error: status.last_error.clone(),
        last_success: status.last_success.map(|date| date.to_rfc3339()),
        manifests_per_second: (status.state == ocicat_crawler::CrawlState::Crawling)
            .then_some((status.manifests_per_second * 10.0).round() / 10.0),
        rate_limit: rate_limit_text(&status.rate_limit),
        manifests_seen: status.manifests_seen,
        manifests_unchanged: status.manifests_unchanged,
        last_started: status.last_started.map(|date| date.to_rfc3339()),
        last_reconcile: status.last_reconcile.map(|date| date.to_rfc3339()),
        reconciling: status.reconciling,
        crawls_completed: status.crawls_completed,
        can_refresh: false,
        internals: false,
    }
}

/// The rate-limit state in words: a 429 window first, else what is left of the quota.
fn rate_limit_text(limit: &ocicat_crawler::RateLimitStatus) -> Option<String> {
    if let Some(seconds) = limit.blocked_for_secs.filter(|seconds| *seconds > 0) {
        return Some(format!("rate limited: resumes in {seconds} s"));
    }
    match (limit.remaining, limit.limit) {
        (Some(remaining), Some(total)) => Some(format!("{remaining} of {total} requests left")),
        (Some(remaining), None) => Some(format!("{remaining} requests left")),
        _ => None,
    }
}
