//! Server side of the delete, audit and retention pages: plans for the principal, the
//! anti-CSRF check on confirmation, the audit log filtered to what the viewer may delete in,
//! and the retention policies in words. The JSON API calls the same functions.

use chrono::Utc;
use leptos::prelude::use_context;
use ocicat_access::{BearerAuthenticated, CsrfToken, Principal, Right};
use ocicat_lifecycle::retention::RetentionPolicy;
use ocicat_lifecycle::{Engine, ExecuteError, LifecycleError, actor_of};

use super::UiState;
use crate::error::AppError;
use crate::model::{AuditPage, Execution, PlanPreview, PlanRequest, PolicyView, RetentionRun, RetentionView};

/// Audit entries per page.
pub const AUDIT_PAGE: usize = 50;

fn engine(state: &UiState) -> Result<&Engine, AppError> {
    state.lifecycle.as_ref().ok_or_else(|| AppError::NotFound("deleting (not set up on this server)".into()))
}

/// The one mapping of lifecycle failures to what a page or the API is told.
pub fn lifecycle_error(error: LifecycleError) -> AppError {
    match error {
        LifecycleError::Plan(ocicat_lifecycle::PlanError::NotFound(what)) => AppError::NotFound(what),
        LifecycleError::Plan(ocicat_lifecycle::PlanError::Catalog(message)) => {
            tracing::error!(%message, "catalog failed while planning");
            AppError::Internal
        }
        LifecycleError::Plan(other) => AppError::BadRequest(other.to_string()),
        LifecycleError::Forbidden(what) => AppError::Forbidden(format!("you may not delete in {what}")),
        LifecycleError::Query(message) => AppError::BadRequest(message),
        LifecycleError::Changed(_) => AppError::Conflict(error.to_string()),
        LifecycleError::Execute(ExecuteError::NoPlan(id)) => AppError::NotFound(format!("plan {id}")),
        LifecycleError::Execute(ExecuteError::Busy(id)) => AppError::Busy(format!("plan {id} is running")),
        LifecycleError::Execute(ExecuteError::Store(error)) | LifecycleError::Store(error) => {
            tracing::error!(%error, "lifecycle store failed");
            AppError::Internal
        }
    }
}

/// The anti-CSRF token of the request being served.
pub fn csrf_token() -> String {
    use_context::<axum::http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CsrfToken>().cloned())
        .map(|token| token.0)
        .unwrap_or_default()
}

/// Refuses a state change of a signed-in session whose token does not match the session's.
/// Requests without a session cookie (API tokens, open servers, visitors) carry no ambient
/// credential and need none; the Fetch-metadata guard still refuses them cross-site.
pub fn check_csrf(extensions: &axum::http::Extensions, presented: &str) -> Result<(), AppError> {
    if extensions.get::<BearerAuthenticated>().is_some() {
        return Ok(());
    }
    match extensions.get::<CsrfToken>() {
        None => Ok(()),
        Some(token) if token.matches(presented) => Ok(()),
        Some(_) => Err(AppError::Forbidden("the anti-CSRF token is missing or wrong; reload the page".into())),
    }
}

/// [`check_csrf`] for a server function.
pub fn check_csrf_here(presented: &str) -> Result<(), AppError> {
    let parts = use_context::<axum::http::request::Parts>().ok_or(AppError::Internal)?;
    check_csrf(&parts.extensions, presented)
}

/// The plan of `request` for `who`, not stored.
pub async fn preview(state: &UiState, who: &Principal, request: PlanRequest) -> Result<PlanPreview, AppError> {
    if !who.can_anywhere(Right::Delete) {
        return Err(AppError::Forbidden("deleting needs the maintainer role".into()));
    }
    let plan = engine(state)?.plan_for(who, &request, Utc::now()).await.map_err(lifecycle_error)?;
    Ok(PlanPreview { plan, csrf: csrf_token() })
}

/// Stores the plan of `request` if it is still `expected`, and starts it; answers its id.
pub async fn confirm(
    state: &UiState,
    who: &Principal,
    request: PlanRequest,
    expected: &str,
) -> Result<String, AppError> {
    let engine = engine(state)?;
    let stored = engine.confirm(who, &request, expected, Utc::now()).await.map_err(lifecycle_error)?;
    engine.start(who, &stored.plan.id).await.map_err(lifecycle_error)?;
    Ok(stored.plan.id)
}

/// Stores a plan (the API's first step); answers it stored.
pub async fn store_plan(state: &UiState, who: &Principal, request: PlanRequest) -> Result<Execution, AppError> {
    let engine = engine(state)?;
    let plan = engine.plan_for(who, &request, Utc::now()).await.map_err(lifecycle_error)?;
    engine.save_plan(plan).await.map_err(lifecycle_error)
}

/// Starts stored plan `id` (the API's second step).
pub async fn start(state: &UiState, who: &Principal, id: &str) -> Result<Execution, AppError> {
    engine(state)?.start(who, id).await.map_err(lifecycle_error)
}

/// Executes stored plan `id` to the end and answers the outcome.
pub async fn run_to_end(state: &UiState, who: &Principal, id: &str) -> Result<Execution, AppError> {
    let engine = engine(state)?;
    engine.check_may_execute(who, id).await.map_err(lifecycle_error)?;
    engine.execute(id, &actor_of(who)).await.map_err(|error| lifecycle_error(error.into()))
}

/// A stored plan and how far it got, for someone who may read every repository in it.
pub async fn execution(state: &UiState, who: &Principal, id: &str) -> Result<Execution, AppError> {
    let stored = engine(state)?.store().execution(id).await.map_err(|error| lifecycle_error(error.into()))?;
    let stored = stored.ok_or_else(|| AppError::NotFound(format!("plan {id}")))?;
    let readable = stored
        .plan
        .items
        .iter()
        .chain(&stored.plan.targets)
        .all(|item| who.can(Right::Read, &item.registry, &item.repository));
    if !readable {
        return Err(AppError::NotFound(format!("plan {id}")));
    }
    Ok(stored)
}

/// A page of the audit log: entries about repositories `who` may delete in (administrators see
/// every entry, including runs and plans as a whole).
pub async fn audit(state: &UiState, who: &Principal, before: Option<i64>) -> Result<AuditPage, AppError> {
    if !who.can_anywhere(Right::Delete) {
        return Err(AppError::Forbidden("the audit log is for maintainers".into()));
    }
    let store = engine(state)?.store();
    let admin = who.can_anywhere(Right::Administer);
    let mut entries = Vec::new();
    let mut cursor = before;
    // Read on until a page is full or the log ends (filtered entries leave gaps).
    for _ in 0..20 {
        let batch = store.audit(cursor, AUDIT_PAGE * 2).await.map_err(|error| lifecycle_error(error.into()))?;
        let Some(last) = batch.last().map(|entry| entry.seq) else { break };
        cursor = Some(last);
        for entry in batch {
            let visible = match (&entry.registry, &entry.repository) {
                (Some(registry), Some(repository)) => who.can(Right::Delete, registry, repository),
                _ => admin || entry.actor == actor_of(who),
            };
            if visible && entries.len() < AUDIT_PAGE {
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

fn may_run(who: &Principal, policy: &RetentionPolicy) -> bool {
    if policy.registry == ocicat_access::ANY_REGISTRY {
        who.can_anywhere(Right::Administer)
    } else {
        who.can_whole_registry(Right::Delete, &policy.registry)
    }
}

fn describe(who: &Principal, policy: &RetentionPolicy) -> PolicyView {
    let mut rules = Vec::new();
    if let Some(n) = policy.keep_newest {
        rules.push(format!("keep the {n} newest of each repository"));
    }
    if let Some(days) = policy.older_than_days {
        rules.push(format!("delete what is older than {days} days"));
    }
    if !policy.keep_tags.is_empty() {
        rules.push(format!("always keep tags matching {}", policy.keep_tags.join(", ")));
    }
    if policy.expire_by_annotation {
        let mut keys = vec!["end-of-life (Microsoft lifecycle)".to_owned(), "quay.expires-after".to_owned()];
        keys.extend(policy.expiry_annotations.iter().cloned());
        rules.push(format!("delete what expired by {}", keys.join(", ")));
    }
    rules.push("never delete what a kept artifact needs (its referrers, its children)".into());
    PolicyView {
        name: policy.name.clone(),
        covers: format!("{}/{}", policy.registry, policy.repositories),
        rules,
        schedule: if policy.every_hours == 0 { "on demand".into() } else { format!("every {} h", policy.every_hours) },
        dry_run: policy.dry_run,
        can_run: may_run(who, policy),
    }
}

/// The policies the viewer's registries have, and their recent runs.
pub async fn retention(state: &UiState, who: &Principal) -> Result<RetentionView, AppError> {
    if !who.can_anywhere(Right::Delete) {
        return Err(AppError::Forbidden("retention is for maintainers".into()));
    }
    let engine = engine(state)?;
    let visible: Vec<&RetentionPolicy> = engine
        .policies()
        .iter()
        .filter(|policy| {
            policy.registry == ocicat_access::ANY_REGISTRY || who.can_somewhere(Right::Delete, &policy.registry)
        })
        .collect();
    let names: Vec<&str> = visible.iter().map(|policy| policy.name.as_str()).collect();
    let runs = engine.store().runs(None, 50).await.map_err(|error| lifecycle_error(error.into()))?;
    Ok(RetentionView {
        policies: visible.into_iter().map(|policy| describe(who, policy)).collect(),
        runs: runs.into_iter().filter(|run| names.contains(&run.policy.as_str())).collect(),
        csrf: csrf_token(),
    })
}

/// Runs policy `name` now (`dry_run` forces a report only).
pub async fn run_policy(
    state: &UiState,
    who: &Principal,
    name: &str,
    dry_run: Option<bool>,
) -> Result<RetentionRun, AppError> {
    let engine = engine(state)?;
    let policy = engine
        .policies()
        .iter()
        .find(|policy| policy.name == name)
        .ok_or_else(|| AppError::NotFound(format!("retention policy {name:?}")))?;
    if !may_run(who, policy) {
        return Err(AppError::Forbidden(format!(
            "running retention policy {name} needs the maintainer role on all of {}",
            policy.registry
        )));
    }
    Ok(engine.run_policy(policy, dry_run, Utc::now()).await)
}

/// One stored retention run.
pub async fn retention_run(state: &UiState, who: &Principal, id: &str) -> Result<RetentionRun, AppError> {
    let view = retention(state, who).await?;
    let run = engine(state)?.store().run(id).await.map_err(|error| lifecycle_error(error.into()))?;
    run.filter(|run| view.policies.iter().any(|policy| policy.name == run.policy))
        .ok_or_else(|| AppError::NotFound(format!("retention run {id}")))
}
