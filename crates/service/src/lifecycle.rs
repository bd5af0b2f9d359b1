//! Deleting for a principal: plans only over what they may delete (a target they may not read is
//! not found), confirmation of exactly the plan that was shown, execution, the stored plans and
//! the audit log filtered line by line. The one mapping of lifecycle failures lives here.

use std::collections::HashMap;

use chrono::Utc;
use ocicat_access::Principal;
use ocicat_lifecycle::{Engine, ExecuteError, LifecycleError, PlanError};

use crate::authz::{self, AuditContext};
use crate::error::AppError;
use crate::model::{AuditPage, Execution, Plan, PlanRequest};
use crate::state::Service;

/// Audit entries per page.
pub const AUDIT_PAGE: usize = 50;
/// Batches of the log read to fill one page of what the reader may see.
const AUDIT_BATCHES: usize = 20;

/// The name `who` has in plans and the audit log.
pub fn actor_of(who: &Principal) -> String {
    who.user.clone().unwrap_or_else(|| "anonymous".to_owned())
}

/// The one mapping of lifecycle failures to what a page or the API is told.
pub(crate) fn lifecycle_error(error: LifecycleError) -> AppError {
    match error {
        LifecycleError::Plan(PlanError::NotFound(what)) => AppError::NotFound(what),
        LifecycleError::Plan(PlanError::Catalog(message)) => {
            tracing::error!(%message, "catalog failed while planning");
            AppError::Internal
        }
        LifecycleError::Plan(other) => AppError::BadRequest(other.to_string()),
        LifecycleError::Query(message) => AppError::BadRequest(message),
        LifecycleError::Execute(ExecuteError::NoPlan(id)) => AppError::NotFound(format!("plan {id}")),
        LifecycleError::Execute(ExecuteError::Busy(id)) => AppError::Busy(format!("plan {id} is running")),
        LifecycleError::Execute(claim @ ExecuteError::Claim { .. }) => {
            tracing::warn!(error = %claim, "a plan's shared claim failed");
            AppError::Busy(claim.to_string())
        }
        LifecycleError::Execute(refused @ (ExecuteError::Stale { .. } | ExecuteError::Incomplete { .. })) => {
            AppError::Conflict(refused.to_string())
        }
        LifecycleError::Execute(ExecuteError::Store(error)) | LifecycleError::Store(error) => {
            tracing::error!(%error, "lifecycle store failed");
            AppError::Internal
        }
    }
}

fn store_error(error: ocicat_lifecycle::store::StoreError) -> AppError {
    lifecycle_error(error.into())
}

impl Service {
    /// The plan of `request` for `who`, not stored: targets must be in repositories `who` may
    /// delete in (one they may not read is not found), a search finds only those, and every
    /// item the plan reaches is checked again.
    pub async fn preview_plan(&self, who: &Principal, request: &PlanRequest) -> Result<Plan, AppError> {
        if !authz::offer_deleting(who) {
            return Err(AppError::Forbidden("deleting needs the maintainer role".into()));
        }
        let registries = self.registries();
        for target in &request.targets {
            authz::plan_target(who, &registries, &target.registry, &target.repository)?;
        }
        let scope = authz::delete_scope(who, &registries);
        let plan = self.engine()?.plan(request, scope, &actor_of(who), Utc::now()).await.map_err(lifecycle_error)?;
        authz::execute_plan(who, &plan)?;
        Ok(plan)
    }

    /// Stores the plan of `request` (the API's first step); nothing is deleted.
    pub async fn store_plan(&self, who: &Principal, request: &PlanRequest) -> Result<Execution, AppError> {
        let plan = self.preview_plan(who, request).await?;
        self.engine()?.save_plan(plan).await.map_err(lifecycle_error)
    }

    /// Plans `request` again and, if the plan is still the one shown (`expected` is its id),
    /// stores and starts it; answers its id. A changed plan is refused (409).
    pub async fn confirm_plan(
        &self,
        who: &Principal,
        request: &PlanRequest,
        expected: &str,
    ) -> Result<String, AppError> {
        let plan = self.preview_plan(who, request).await?;
        if plan.id != expected {
            return Err(AppError::Conflict(format!(
                "the plan changed since it was shown (now {}); review it again",
                plan.id
            )));
        }
        let engine = self.engine()?;
        let stored = engine.save_plan(plan).await.map_err(lifecycle_error)?;
        engine.start(&stored.plan.id, &actor_of(who));
        Ok(stored.plan.id)
    }

    /// Executes stored plan `id`: in the background (answers the plan as stored), or with
    /// `wait` to the end (answers the outcome).
    pub async fn execute_plan(&self, who: &Principal, id: &str, wait: bool) -> Result<Execution, AppError> {
        let engine = self.engine()?;
        let stored = stored_execution(engine, id).await?;
        authz::execute_plan(who, &stored.plan)?;
        if wait {
            // The execution runs to its end on its own task: a caller that hangs up (or a request
            // timeout) cannot cut a delete off between the registry's answer and its audit line.
            let (engine, id, actor) = (engine.clone(), id.to_owned(), actor_of(who));
            let running = tokio::spawn(async move { engine.execute(&id, &actor).await });
            return match running.await {
                Ok(outcome) => outcome.map_err(|error| lifecycle_error(error.into())),
                Err(error) => {
                    tracing::error!(%error, "plan execution task failed");
                    Err(AppError::Internal)
                }
            };
        }
        engine.start(id, &actor_of(who));
        Ok(stored)
    }

    /// A stored plan and how far its execution got, for someone who may read all of it.
    pub async fn find_execution(&self, who: &Principal, id: &str) -> Result<Execution, AppError> {
        let stored = stored_execution(self.engine()?, id).await?;
        authz::see_plan(who, &stored.plan)?;
        Ok(stored)
    }

    /// A page of the audit log, newest first and older than `before`, with only the lines `who`
    /// may see.
    pub async fn audit_page(&self, who: &Principal, before: Option<i64>) -> Result<AuditPage, AppError> {
        authz::read_audit(who)?;
        let engine = self.engine()?;
        let registries = self.registries();
        let mut plans: HashMap<String, Option<Execution>> = HashMap::new();
        let mut entries = Vec::new();
        let mut cursor = before;
        // Read on until a page is full or the log ends (hidden lines leave gaps).
        for _ in 0..AUDIT_BATCHES {
            let batch = engine.store().audit(cursor, AUDIT_PAGE * 2).await.map_err(store_error)?;
            let Some(last) = batch.last().map(|entry| entry.seq) else { break };
            cursor = Some(last);
            for entry in batch {
                if entries.len() == AUDIT_PAGE {
                    break;
                }
                let plan: Option<&Execution> = match (&entry.plan_id, entry.repository.is_none()) {
                    (Some(id), true) => {
                        if !plans.contains_key(id) {
                            let found = engine.store().execution(id).await.map_err(store_error)?;
                            plans.insert(id.clone(), found);
                        }
                        plans.get(id).and_then(Option::as_ref)
                    }
                    _ => None,
                };
                let policy = entry
                    .actor
                    .strip_prefix("retention:")
                    .and_then(|name| engine.policies().iter().find(|policy| policy.name == name));
                let context = match (plan, policy) {
                    (Some(execution), _) => AuditContext::Plan(&execution.plan),
                    (None, Some(policy)) => AuditContext::Policy(policy),
                    (None, None) => AuditContext::Unknown,
                };
                if authz::see_audit_entry(who, &registries, &entry, context) {
                    entries.push(entry);
                }
            }
            if entries.len() >= AUDIT_PAGE {
                break;
            }
        }
        let older = (entries.len() == AUDIT_PAGE).then(|| entries.last().map(|entry| entry.seq)).flatten();
        Ok(AuditPage { entries, older })
    }
}

async fn stored_execution(engine: &Engine, id: &str) -> Result<Execution, AppError> {
    engine.store().execution(id).await.map_err(store_error)?.ok_or_else(|| AppError::NotFound(format!("plan {id}")))
}
