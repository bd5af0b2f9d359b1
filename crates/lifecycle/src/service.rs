//! What the service calls: make a plan (a search is resolved within the scope the caller may
//! delete in; who may do what is decided by the service before and after), store it, execute
//! it in the background or to the end, and resume plans a restart interrupted.

use chrono::{DateTime, Utc};
use ocicat_catalog::{Scope, SearchSort};

use crate::engine::Engine;
use crate::execute::{ExecuteError, entry, summary};
use crate::model::{Execution, ExecutionState, Mode, Plan, PlanRequest, TargetSpec};
use crate::plan::{MAX_TARGETS, PlanError, plan};

/// Results read per search page while collecting targets.
const SEARCH_PAGE: usize = 200;

/// Why a plan or an execution was refused.
#[derive(Debug, thiserror::Error)]
pub enum LifecycleError {
    /// The plan cannot be made.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The search query is wrong.
    #[error("invalid query: {0}")]
    Query(String),
    /// The execution failed as a whole.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Engine {
    /// Computes (does not store) the plan of `request` as `actor`: its targets, and what a
    /// search finds within `scope` (what the caller may delete).
    pub async fn plan(
        &self,
        request: &PlanRequest,
        scope: Scope,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Plan, LifecycleError> {
        let mut targets = request.targets.clone();
        let registries = self.registries();
        if let Some(target) = targets.iter().find(|target| !registries.contains(&target.registry)) {
            return Err(PlanError::NotFound(format!("registry {}", target.registry)).into());
        }
        if let Some(query) = request.query.as_deref().filter(|query| !query.trim().is_empty()) {
            targets.extend(self.search_targets(scope, query.to_owned(), now).await?);
        }
        let mode = if request.tag_only { Mode::TagOnly } else { Mode::Manifests };
        let (catalog, query, actor, known) =
            (self.catalog.clone(), request.query.clone(), actor.to_owned(), self.tag_deletion());
        let plan = tokio::task::spawn_blocking(move || plan(&catalog, &targets, mode, query, &actor, &known, now))
            .await
            .map_err(|error| PlanError::Catalog(error.to_string()))??;
        Ok(plan)
    }

    async fn search_targets(
        &self,
        scope: ocicat_catalog::Scope,
        query: String,
        now: DateTime<Utc>,
    ) -> Result<Vec<TargetSpec>, LifecycleError> {
        let catalog = self.catalog.clone();
        tokio::task::spawn_blocking(move || {
            let mut targets = Vec::new();
            loop {
                let (total, page) = catalog
                    .search_hits(&scope, &query, SearchSort::Newest, targets.len(), SEARCH_PAGE, now)
                    .map_err(|error| LifecycleError::Query(error.to_string()))?;
                let read = page.len();
                targets.extend(page.into_iter().map(|artifact| TargetSpec {
                    registry: artifact.registry,
                    repository: artifact.repository,
                    reference: artifact.digest,
                }));
                if read == 0 || targets.len() as u64 >= total || targets.len() > MAX_TARGETS {
                    return Ok(targets);
                }
            }
        })
        .await
        .map_err(|error| LifecycleError::Query(error.to_string()))?
    }

    /// Stores `plan` (planned, not executed) and writes the audit line; returns it stored.
    pub async fn save_plan(&self, plan: Plan) -> Result<Execution, LifecycleError> {
        if let Some(stored) = self.store.execution(&plan.id).await?
            && stored.state != ExecutionState::Planned
        {
            // The same plan again (say, a resumed one): keep its results.
            return Ok(stored);
        }
        let execution = Execution {
            state: ExecutionState::Planned,
            executed_by: None,
            started: None,
            finished: None,
            results: Vec::new(),
            rewrites: Vec::new(),
            message: None,
            plan,
        };
        self.store.save_execution(&execution).await?;
        self.audit(entry(
            &execution.plan.created_by,
            "plan",
            None,
            &execution.plan.id,
            "planned",
            Some(summary(&execution.plan)),
        ))
        .await;
        Ok(execution)
    }

    /// Starts executing stored plan `id` as `actor` in the background.
    pub fn start(&self, id: &str, actor: &str) {
        self.spawn(id.to_owned(), actor.to_owned());
    }

    fn spawn(&self, id: String, actor: String) {
        let engine = self.clone();
        tokio::spawn(async move {
            match engine.execute(&id, &actor).await {
                Ok(_) | Err(ExecuteError::Busy(_)) => {}
                Err(error) => tracing::error!(plan.id = %id, %error, "plan execution failed"),
            }
        });
    }

    /// Resumes every plan a stop interrupted (state `running`), in the background.
    pub async fn resume_interrupted(&self) -> Result<usize, LifecycleError> {
        let interrupted = self.store.executions_in_state(ExecutionState::Running).await?;
        for execution in &interrupted {
            let actor = execution.executed_by.clone().unwrap_or_else(|| execution.plan.created_by.clone());
            tracing::info!(plan.id = %execution.plan.id, "resuming an interrupted delete");
            self.spawn(execution.plan.id.clone(), actor);
        }
        Ok(interrupted.len())
    }
}
