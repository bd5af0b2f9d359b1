//! Copies for the front doors: a plan from the catalog and the destination, kept for an hour
//! for whoever may both read its source and write its destination, then its execution with an
//! audit line per step and the destination repository refreshed at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use ocicat_access::Principal;
use ocicat_copy::{CopyError, CopyPlan, CopyReport, CopyRequest, ExecuteError, StepOutcome};
use ocicat_lifecycle::AuditEntry;

use crate::lifecycle::actor_of;
use crate::model::CopyView;
use crate::{AppError, Service, authz};

/// How long a copy plan can be executed after it was made.
const PLAN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// Most copy plans kept at once (the oldest go first).
const PLANS_KEPT: usize = 256;

/// One plan and, once run, its report.
#[derive(Debug, Clone)]
struct Stored {
    created: DateTime<Utc>,
    actor: String,
    plan: CopyPlan,
    report: Option<CopyReport>,
}

/// The copy plans of this process, by id (the first 16 hex digits of their fingerprint).
#[derive(Debug, Clone, Default)]
pub(crate) struct CopyPlans(Arc<Mutex<HashMap<String, Stored>>>);

impl CopyPlans {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn keep(&self, stored: Stored) -> String {
        let id = stored.plan.fingerprint.chars().take(16).collect::<String>();
        let mut plans = self.lock();
        plans.retain(|_, kept| Utc::now() - kept.created < PLAN_LIFETIME);
        while plans.len() >= PLANS_KEPT {
            let Some(oldest) = plans.iter().min_by_key(|(_, kept)| kept.created).map(|(id, _)| id.clone()) else {
                break;
            };
            plans.remove(&oldest);
        }
        plans.insert(id.clone(), stored);
        id
    }

    fn get(&self, id: &str) -> Option<Stored> {
        self.lock().get(id).filter(|kept| Utc::now() - kept.created < PLAN_LIFETIME).cloned()
    }
}

fn view(id: String, stored: Stored) -> CopyView {
    CopyView { id, created: stored.created.to_rfc3339(), actor: stored.actor, plan: stored.plan, report: stored.report }
}

/// The one mapping of copy failures to what a page or the API is told.
pub(crate) fn copy_error(error: CopyError) -> AppError {
    match error {
        CopyError::NotFound(what) => AppError::NotFound(what),
        CopyError::Catalog(message) => {
            tracing::error!(%message, "catalog failed while planning a copy");
            AppError::Internal
        }
        CopyError::Destination(error) => AppError::Registry(format!("the destination: {error}")),
        refused @ (CopyError::Refused(_) | CopyError::TooLarge(_)) => AppError::BadRequest(refused.to_string()),
    }
}

impl Service {
    /// Plans copying `request` for `who`, who may read its source and write its destination.
    pub async fn plan_copy(&self, who: &Principal, request: CopyRequest) -> Result<CopyView, AppError> {
        let registries = self.registries();
        let (source, destination) = (&request.source, &request.destination);
        for repository in [&source.repository, &destination.repository] {
            if !ocicat_oci::is_valid_repository(repository) {
                return Err(AppError::BadRequest(format!("{repository:?} is not a repository name")));
            }
        }
        if let Some(digest) = request.digest.as_ref().filter(|digest| digest.parse::<ocicat_oci::Digest>().is_err()) {
            return Err(AppError::BadRequest(format!("{digest:?} is not a digest")));
        }
        if let Some(tag) = request.tags.iter().find(|tag| !ocicat_oci::is_valid_tag(tag)) {
            return Err(AppError::BadRequest(format!("{tag:?} is not a tag")));
        }
        authz::copy_from(who, &registries, &source.registry, &source.repository)?;
        authz::copy_to(who, &registries, &destination.registry, &destination.repository)?;
        let engine = self.engine()?;
        let client = engine
            .client(&destination.registry)
            .ok_or_else(|| AppError::NotFound(format!("registry {:?}", destination.registry)))?;
        let scope = authz::read_scope(who, &registries);
        let plan = ocicat_copy::plan(&self.catalog, &scope, client, &request).await.map_err(copy_error)?;
        let actor = actor_of(who);
        engine.audit(audit_line(&actor, "copy-plan", &plan, None, "planned", Some(plan_summary(&plan)))).await;
        let stored = Stored { created: Utc::now(), actor, plan, report: None };
        let id = self.copies.keep(stored.clone());
        Ok(view(id, stored))
    }

    /// The copy plan `id` and how its execution went, for someone who may run it.
    pub fn copy_plan(&self, who: &Principal, id: &str) -> Result<CopyView, AppError> {
        let stored = self.copies.get(id).ok_or_else(|| AppError::NotFound(format!("copy plan {id}")))?;
        authz::see_copy(who, &self.registries(), &stored.plan)?;
        Ok(view(id.to_owned(), stored))
    }

    /// Runs the copy plan `id` as shown (`fingerprint`), moving destination tags only when
    /// `move_tags`; audits each step and refreshes the destination repository.
    pub async fn execute_copy(
        &self,
        who: &Principal,
        id: &str,
        fingerprint: &str,
        move_tags: bool,
    ) -> Result<CopyView, AppError> {
        let stored = self.copies.get(id).ok_or_else(|| AppError::NotFound(format!("copy plan {id}")))?;
        let plan = &stored.plan;
        authz::see_copy(who, &self.registries(), plan)?;
        let engine = self.engine()?;
        let client = |registry: &str| {
            engine.client(registry).ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))
        };
        let (source, destination) =
            (client(&plan.request.source.registry)?, client(&plan.request.destination.registry)?);
        let report = ocicat_copy::execute(plan, fingerprint, move_tags, source, destination).await.map_err(
            |error| match error {
                ExecuteError::Stale => AppError::Conflict(error.to_string()),
                ExecuteError::MovesTags(_) => AppError::Conflict(error.to_string()),
            },
        )?;
        self.audit_copy(who, plan, &report).await?;
        let destination = &plan.request.destination;
        if let Some(crawler) = &self.crawler
            && !crawler.refresh_repository(&destination.registry, &destination.repository)
        {
            tracing::warn!(registry.name = %destination.registry, "refresh queue full: the copy shows at the next crawl");
        }
        let stored = Stored { report: Some(report), ..stored };
        self.copies.lock().insert(id.to_owned(), stored.clone());
        Ok(view(id.to_owned(), stored))
    }
}

impl Service {
    /// An audit line per step of `report`, the execution of `plan` by `who` (copies through the
    /// API, and imports the CLI runs on a plan of its own).
    pub async fn audit_copy(&self, who: &Principal, plan: &CopyPlan, report: &CopyReport) -> Result<(), AppError> {
        let engine = self.engine()?;
        let actor = actor_of(who);
        for step in &report.steps {
            let (outcome, detail) = match &step.outcome {
                StepOutcome::Copied { bytes } => ("copied", Some(format!("{bytes} bytes"))),
                StepOutcome::Mounted => ("mounted", None),
                StepOutcome::Present => ("present", None),
                StepOutcome::Failed { reason } => ("failed", Some(reason.clone())),
            };
            let action = format!("copy-{}", step.what);
            engine.audit(audit_line(&actor, &action, plan, Some(&step.target), outcome, detail)).await;
        }
        Ok(())
    }
}

fn plan_summary(plan: &CopyPlan) -> String {
    let totals = &plan.totals;
    format!(
        "{} manifests and {} blobs ({} bytes) to copy, {} and {} present, {} tags moved",
        totals.manifests,
        totals.blobs,
        totals.bytes,
        totals.manifests_present,
        totals.blobs_present,
        plan.moved_tags.len()
    )
}

/// One audit line about `plan`: at its destination, for `target` (a digest or tag) if given.
fn audit_line(
    actor: &str,
    action: &str,
    plan: &CopyPlan,
    target: Option<&str>,
    outcome: &str,
    detail: Option<String>,
) -> AuditEntry {
    let destination = &plan.request.destination;
    let (digest, tags) = match target {
        Some(tag) if !tag.contains(':') => (None, vec![tag.to_owned()]),
        Some(digest) => (Some(digest.to_owned()), Vec::new()),
        None => (plan.roots.first().cloned(), plan.tags.iter().map(|wanted| wanted.tag.clone()).collect()),
    };
    AuditEntry {
        seq: 0,
        at: Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        registry: Some(destination.registry.clone()),
        repository: Some(destination.repository.clone()),
        digest,
        tags,
        plan_id: Some(plan.fingerprint.chars().take(16).collect()),
        outcome: outcome.to_owned(),
        detail,
    }
}
