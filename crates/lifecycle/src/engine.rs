//! The lifecycle engine: the registries, the catalog and the store that planning, execution
//! and retention work with, and what it has learnt while deleting; cheap to clone.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_crawler::{Crawler, RegistrySource, StatusBoard};

use crate::model::{AuditEntry, TagDeletion};
use crate::store::Store;

/// The registries, catalog and store an execution works with; cheap to clone.
#[derive(Clone)]
pub struct Engine {
    pub(crate) sources: Arc<HashMap<String, RegistrySource>>,
    pub(crate) catalog: Catalog,
    pub(crate) writer: CatalogWriter,
    pub(crate) board: StatusBoard,
    pub(crate) store: Store,
    /// Per registry: whether removing a tag alone worked (learnt by trying).
    pub(crate) tag_deletion: Arc<Mutex<BTreeMap<String, TagDeletion>>>,
    /// Plans being executed now (one run per plan at a time).
    pub(crate) running: Arc<Mutex<HashSet<String>>>,
    /// The configured retention policies.
    pub(crate) policies: Arc<Vec<crate::retention::RetentionPolicy>>,
    /// The crawl tasks' queues, where the touched repositories are walked again after a delete.
    pub(crate) crawler: Option<Crawler>,
    /// A stored plan older than this is not executed: it is planned again first.
    pub(crate) max_plan_age: chrono::TimeDelta,
    /// Where executions are claimed when several replicas share the store.
    pub(crate) claims: Option<Arc<dyn crate::claims::Claims>>,
}

/// How old a stored plan may be when its execution starts, unless configured otherwise.
pub const DEFAULT_MAX_PLAN_AGE: chrono::TimeDelta = chrono::TimeDelta::hours(1);

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("registries", &self.sources.len()).finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine over these registries.
    pub fn new(
        sources: Vec<RegistrySource>,
        catalog: Catalog,
        writer: CatalogWriter,
        board: StatusBoard,
        store: Store,
    ) -> Engine {
        Engine {
            sources: Arc::new(sources.into_iter().map(|source| (source.name.clone(), source)).collect()),
            catalog,
            writer,
            board,
            store,
            tag_deletion: Arc::default(),
            running: Arc::default(),
            policies: Arc::default(),
            crawler: None,
            max_plan_age: DEFAULT_MAX_PLAN_AGE,
            claims: None,
        }
    }

    /// The same engine, refusing stored plans older than `age`.
    pub fn with_max_plan_age(self, age: chrono::TimeDelta) -> Engine {
        Engine { max_plan_age: age, ..self }
    }

    /// The same engine, queueing the walks after a delete to the registries' crawl tasks.
    pub fn with_crawler(self, crawler: Crawler) -> Engine {
        Engine { crawler: Some(crawler), ..self }
    }

    /// Where executions are claimed (several replicas), if anywhere.
    pub fn claims(&self) -> Option<Arc<dyn crate::claims::Claims>> {
        self.claims.clone()
    }

    /// The same engine claiming each execution in `claims` first (several replicas).
    pub fn with_claims(self, claims: Arc<dyn crate::claims::Claims>) -> Engine {
        Engine { claims: Some(claims), ..self }
    }

    /// The same engine with the configured retention policies.
    pub fn with_policies(self, policies: Vec<crate::retention::RetentionPolicy>) -> Engine {
        Engine { policies: Arc::new(policies), ..self }
    }

    /// The configured retention policies.
    pub fn policies(&self) -> &[crate::retention::RetentionPolicy] {
        &self.policies
    }

    /// The audit log, plans and retention runs.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The index writer (the CLI closes it before exiting).
    pub fn catalog_writer(&self) -> &CatalogWriter {
        &self.writer
    }

    /// The catalog plans are computed from.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The configured registry names.
    pub fn registries(&self) -> Vec<String> {
        let mut names: Vec<String> = self.sources.keys().cloned().collect();
        names.sort();
        names
    }

    /// What each registry is known to do with a tag-only delete.
    pub fn tag_deletion(&self) -> BTreeMap<String, TagDeletion> {
        self.tag_deletion.lock().map(|known| known.clone()).unwrap_or_default()
    }

    /// Writes one audit line; a failure is logged loudly (the delete already happened).
    pub async fn audit(&self, entry: AuditEntry) {
        if let Err(error) = self.store.append(entry).await {
            tracing::error!(%error, "cannot write the audit log");
        }
    }

    /// The client of `registry` (deletes and copies write through it).
    pub fn client(&self, registry: &str) -> Option<&ocicat_oci::Client> {
        self.sources.get(registry).map(|source| &source.client)
    }
}
