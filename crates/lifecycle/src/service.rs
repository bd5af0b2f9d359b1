//! What the web app, the JSON API and the CLI call: make a plan for a principal (only where
//! they may delete; a search is resolved within that scope), store it, execute it in the
//! background or to the end, and resume plans a restart interrupted.

use chrono::{DateTime, Utc};
use ocicat_access::{Principal, Right};
use ocicat_catalog::SearchSort;

use crate::execute::{Engine, ExecuteError, entry, summary};
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
    /// The principal may not delete there.
    #[error("you may not delete in {0}")]
    Forbidden(String),
    /// The search query is wrong.
    #[error("invalid query: {0}")]
    Query(String),
    /// The plan changed since it was shown (something was pushed, deleted or crawled).
    #[error("the plan changed since it was shown (now {0}); review it again")]
    Changed(String),
    /// The execution failed as a whole.
    #[error(transparent)]
    Execute(#[from] ExecuteError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The name an actor has in the audit log.
pub fn actor_of(principal: &Principal) -> String {
    principal.user.clone().unwrap_or_else(|| "anonymous".to_owned())
}

impl Engine {
    /// Computes (does not store) the plan of `request` for `principal`. Targets must be in
    /// repositories they may delete in; a search only finds those.
    pub async fn plan_for(
        &self,
        principal: &Principal,
        request: &PlanRequest,
        now: DateTime<Utc>,
    ) -> Result<Plan, LifecycleError> {
        let mut targets = request.targets.clone();
        let registries = self.registries();
        for target in &targets {
            if !registries.contains(&target.registry) {
                return Err(PlanError::NotFound(format!("registry {}", target.registry)).into());
            }
            if !principal.can(Right::Delete, &target.registry, &target.repository) {
                return Err(LifecycleError::Forbidden(format!("{}/{}", target.registry, target.repository)));
            }
        }
        if let Some(query) = request.query.as_deref().filter(|query| !query.trim().is_empty()) {
            let names: Vec<&str> = registries.iter().map(String::as_str).collect();
            let scope = principal.scope(Right::Delete, &names);
            targets.extend(self.search_targets(scope, query.to_owned(), now).await?);
        }
        let mode = if request.tag_only { Mode::TagOnly } else { Mode::Manifests };
        let (catalog, query, actor, known) =
            (self.catalog.clone(), request.query.clone(), actor_of(principal), self.tag_deletion());
        let plan = tokio::task::spawn_blocking(move || plan(&catalog, &targets, mode, query, &actor, &known, now))
            .await
            .map_err(|error| PlanError::Catalog(error.to_string()))??;
        // Referrers and children are in the targets' repositories, but check every item anyway.
        if let Some(item) =
            plan.items.iter().find(|item| !principal.can(Right::Delete, &item.registry, &item.repository))
        {
            return Err(LifecycleError::Forbidden(format!("{}/{}", item.registry, item.repository)));
        }
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

    /// Checks `principal` may still delete everything in plan `id`, and whether the plan the
    /// page showed (`expected`) is still what the catalog gives.
    pub async fn confirm(
        &self,
        principal: &Principal,
        request: &PlanRequest,
        expected: &str,
        now: DateTime<Utc>,
    ) -> Result<Execution, LifecycleError> {
        let plan = self.plan_for(principal, request, now).await?;
        if plan.id != expected {
            return Err(LifecycleError::Changed(plan.id));
        }
        self.save_plan(plan).await
    }

    /// Starts executing stored plan `id` in the background; answers at once with the plan as
    /// stored. Refused when `principal` may not delete every item.
    pub async fn start(&self, principal: &Principal, id: &str) -> Result<Execution, LifecycleError> {
        let execution = self.check_may_execute(principal, id).await?;
        self.spawn(id.to_owned(), actor_of(principal));
        Ok(execution)
    }

    /// The stored plan `id`, when `principal` may delete every item of it.
    pub async fn check_may_execute(&self, principal: &Principal, id: &str) -> Result<Execution, LifecycleError> {
        let execution = self.store.execution(id).await?.ok_or_else(|| ExecuteError::NoPlan(id.to_owned()))?;
        let mut items = execution.plan.items.iter().chain(&execution.plan.targets);
        if let Some(item) = items.find(|item| !principal.can(Right::Delete, &item.registry, &item.repository)) {
            return Err(LifecycleError::Forbidden(format!("{}/{}", item.registry, item.repository)));
        }
        Ok(execution)
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
