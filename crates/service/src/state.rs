//! The service: what every front door holds (the catalog, the crawl status board, the crawler's
//! queues, the registry clients for content, sessions' token database and the lifecycle engine),
//! and the small helpers its operations share.

use ocicat_access::Principal;
use ocicat_catalog::Catalog;
use ocicat_crawler::{Crawler, RegistryStatus, StatusBoard};

use crate::authz::{self, Registries};
use crate::error::AppError;

/// The application layer; cheap to clone. Pages' server functions, the JSON API, the content
/// proxy, metrics and the CLI all call its methods with the principal of the request.
#[derive(Clone, Debug)]
pub struct Service {
    /// The read side of the index.
    pub(crate) catalog: Catalog,
    /// Crawl progress and health per registry (and so the configured registry names).
    pub(crate) board: StatusBoard,
    /// The crawl tasks' queues ("refresh now"); `None` where nothing crawls (the CLI).
    pub(crate) crawler: Option<Crawler>,
    /// API tokens; `None` when access control is off.
    pub(crate) tokens: Option<ocicat_access::Tokens>,
    /// The registries' clients for the content proxy and the document viewers.
    pub(crate) content: ocicat_content::Content,
    /// Delete plans, their execution, retention and the audit log; `None` where not set up.
    pub(crate) lifecycle: Option<ocicat_lifecycle::Engine>,
    /// Bounds on expensive work (searches, document reads).
    pub(crate) gates: crate::gates::Gates,
    /// The configured trust policies (listed by the API; the crawler verifies with them).
    pub(crate) trust: std::sync::Arc<ocicat_trust::Policies>,
    /// Copy plans made here, for an hour.
    pub(crate) copies: crate::copies::CopyPlans,
    /// Where copy plans are kept for the other replicas, when this server is one of several.
    pub(crate) shared_copies: Option<std::sync::Arc<dyn crate::shared_copies::SharedCopies>>,
    /// The replicas sharing this server's database, when it is one of several.
    pub(crate) replication: Option<std::sync::Arc<dyn crate::replicas::Replication>>,
}

impl Service {
    /// A service reading `catalog`, with the registries `board` knows; no crawler, content
    /// clients, token database or lifecycle engine until given.
    pub fn new(catalog: Catalog, board: StatusBoard) -> Service {
        Service {
            catalog,
            board,
            crawler: None,
            tokens: None,
            content: ocicat_content::Content::default(),
            lifecycle: None,
            gates: crate::gates::Gates::default(),
            trust: std::sync::Arc::default(),
            copies: crate::copies::CopyPlans::default(),
            shared_copies: None,
            replication: None,
        }
    }

    /// The same, listing these trust policies.
    pub fn with_trust(self, trust: std::sync::Arc<ocicat_trust::Policies>) -> Service {
        Service { trust, ..self }
    }

    /// The searches and document reads running now, against their bounds.
    pub fn expensive_work(&self) -> crate::gates::ExpensiveWork {
        self.gates.usage()
    }

    /// The same, crawling through `crawler`.
    pub fn with_crawler(self, crawler: Crawler) -> Service {
        Service { crawler: Some(crawler), ..self }
    }

    /// The same, keeping API tokens in `tokens` (access control is on).
    pub fn with_tokens(self, tokens: Option<ocicat_access::Tokens>) -> Service {
        Service { tokens, ..self }
    }

    /// The same, fetching content through these registry clients.
    pub fn with_content(self, content: ocicat_content::Content) -> Service {
        Service { content, ..self }
    }

    /// The same, one replica of several, showing them through `replication`.
    pub fn with_replication(self, replication: std::sync::Arc<dyn crate::replicas::Replication>) -> Service {
        Service { replication: Some(replication), ..self }
    }

    /// The same, keeping copy plans where every replica finds them.
    pub fn with_shared_copies(self, shared: std::sync::Arc<dyn crate::shared_copies::SharedCopies>) -> Service {
        Service { shared_copies: Some(shared), ..self }
    }

    /// The same, deleting through this engine.
    pub fn with_lifecycle(self, engine: ocicat_lifecycle::Engine) -> Service {
        Service { lifecycle: Some(engine), ..self }
    }

    /// The read side of the index.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The crawl status board.
    pub fn board(&self) -> &StatusBoard {
        &self.board
    }

    /// True when access control is on (there are tokens and sessions).
    pub fn access_control(&self) -> bool {
        self.tokens.is_some()
    }

    /// The configured registry names.
    pub(crate) fn registries(&self) -> Registries {
        let statuses = self.board.snapshot();
        let read_only: Vec<String> = statuses
            .iter()
            .filter(|status| status.url.starts_with(crate::model::LAYOUT_LOCATION))
            .map(|status| status.name.clone())
            .collect();
        Registries::new(statuses.into_iter().map(|status| status.name)).with_read_only(read_only)
    }

    /// The status of `registry` when `who` may read something in it (else not found).
    pub(crate) fn readable_registry(&self, who: &Principal, registry: &str) -> Result<RegistryStatus, AppError> {
        authz::read_registry(who, &self.registries(), registry)?;
        self.board.get(registry).ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))
    }

    /// The status of `registry` when `who` may read `repository` of it (else not found).
    pub(crate) fn readable_repository(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
    ) -> Result<RegistryStatus, AppError> {
        authz::read_repository(who, &self.registries(), registry, repository)?;
        self.board.get(registry).ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))
    }

    pub(crate) fn engine(&self) -> Result<&ocicat_lifecycle::Engine, AppError> {
        self.lifecycle.as_ref().ok_or_else(|| AppError::NotFound("deleting (not set up on this server)".into()))
    }
}

/// Runs a blocking catalog call off the async runtime.
pub(crate) async fn blocking<T, F>(work: F) -> Result<T, AppError>
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
pub(crate) fn host_of(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    without_scheme.trim_end_matches('/').to_owned()
}
