//! Copies for the front doors: a plan from the catalog and the destination, kept for an hour
//! for whoever may both read its source and write its destination, then its execution with an
//! audit line per step and the destination repository refreshed at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use ocicat_access::Principal;
use ocicat_copy::{CopyError, CopyPlan, CopyReport, CopyRequest, StepOutcome};
use ocicat_lifecycle::AuditEntry;

use crate::lifecycle::actor_of;
use crate::model::CopyView;
use crate::{AppError, Service, authz};

/// How long a copy plan can be executed after it was made.
const PLAN_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(1);
/// Most copy plans kept at once (the oldest go first).
const PLANS_KEPT: usize = 256;

/// An imported layout a plan reads from: its client, and what keeps it readable until the plan
/// goes (the loopback server, the unpacked archive).
#[derive(Debug)]
pub(crate) struct Imported {
    pub(crate) client: ocicat_oci::Client,
    pub(crate) _server: ocicat_layout::LayoutServer,
    pub(crate) _unpacked: Option<tempfile::TempDir>,
}

/// One plan and, once run, its report.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) created: DateTime<Utc>,
    pub(crate) actor: String,
    pub(crate) plan: CopyPlan,
    pub(crate) report: Option<CopyReport>,
    pub(crate) running: bool,
    /// The layout an import reads (none for a copy between configured registries).
    pub(crate) import: Option<Arc<Imported>>,
}

/// The copy plans of this process, by id (the first 16 hex digits of their fingerprint).
#[derive(Debug, Clone, Default)]
pub(crate) struct CopyPlans(Arc<Mutex<HashMap<String, Stored>>>);

impl CopyPlans {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Stored>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub(crate) fn keep(&self, stored: Stored) -> String {
        let id = stored.plan.fingerprint.chars().take(16).collect::<String>();
        let mut plans = self.lock();
        plans.retain(|_, kept| kept.running || Utc::now() - kept.created < PLAN_LIFETIME);
        while plans.len() >= PLANS_KEPT {
            let Some(oldest) = plans.iter().min_by_key(|(_, kept)| kept.created).map(|(id, _)| id.clone()) else {
                break;
            };
            plans.remove(&oldest);
        }
        plans.insert(id.clone(), stored);
        id
    }

    /// Keeps `stored` as plan `id` (read from the other replicas), unless this replica runs it;
    /// kept as not running here (whether it runs elsewhere is for the claim to say).
    pub(crate) fn adopt(&self, id: &str, stored: Stored) {
        let mut plans = self.lock();
        if !plans.get(id).is_some_and(|kept| kept.running) {
            plans.insert(id.to_owned(), Stored { running: false, ..stored });
        }
    }

    pub(crate) fn get(&self, id: &str) -> Option<Stored> {
        let mut plans = self.lock();
        // Expired plans go on every look, not only when another is kept: an imported layout's
        // unpacked archive goes with its plan.
        plans.retain(|_, kept| kept.running || Utc::now() - kept.created < PLAN_LIFETIME);
        plans.get(id).cloned()
    }
}

pub(crate) fn view(id: String, stored: Stored) -> CopyView {
    CopyView {
        id,
        created: stored.created.to_rfc3339(),
        actor: stored.actor,
        plan: stored.plan,
        report: stored.report,
        running: stored.running,
    }
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
        let stored = Stored { created: Utc::now(), actor, plan, report: None, running: false, import: None };
        let id = self.copies.keep(stored.clone());
        self.share_copy(&id, &stored).await;
        Ok(view(id, stored))
    }

    /// The copy plan `id` and how its execution went, for someone who may run it.
    pub async fn copy_plan(&self, who: &Principal, id: &str) -> Result<CopyView, AppError> {
        let stored = self.find_copy(id).await.ok_or_else(|| AppError::NotFound(format!("copy plan {id}")))?;
        authz::see_copy(who, &self.registries(), &stored.plan, stored.import.is_some())?;
        Ok(view(id.to_owned(), stored))
    }

    /// Starts the copy plan `id` as shown (`fingerprint`), moving destination tags only when
    /// `move_tags`, on its own task (a caller that hangs up cannot cut it off between a write and
    /// its audit line): each step is kept as it ends, so [`Service::copy_plan`] shows progress;
    /// audits each step and refreshes the destination repository at the end. With `wait`,
    /// answers when it ended.
    pub async fn execute_copy(
        &self,
        who: &Principal,
        id: &str,
        fingerprint: &str,
        move_tags: bool,
        wait: bool,
    ) -> Result<CopyView, AppError> {
        let stored = self.find_copy(id).await.ok_or_else(|| AppError::NotFound(format!("copy plan {id}")))?;
        authz::see_copy(who, &self.registries(), &stored.plan, stored.import.is_some())?;
        let engine = self.engine()?;
        let client = |registry: &str| {
            engine.client(registry).cloned().ok_or_else(|| AppError::NotFound(format!("registry {registry:?}")))
        };
        let source = match &stored.import {
            Some(imported) => imported.client.clone(),
            None => client(&stored.plan.request.source.registry)?,
        };
        let destination = client(&stored.plan.request.destination.registry)?;
        ocicat_copy::check(&stored.plan, fingerprint, move_tags)
            .map_err(|error| AppError::Conflict(error.to_string()))?;
        // Several replicas: the one that claims the copy in the database runs it (a replica that
        // died running it lets its claim lapse, and the copy can run again).
        let claim = format!("copy:{id}");
        let claims = engine.claims();
        match &claims {
            Some(claims) => match claims.claim(&claim).await {
                Ok(true) => {}
                Ok(false) => return Err(AppError::Conflict("this copy is running on another replica".into())),
                Err(error) => {
                    tracing::warn!(copy.id = %id, %error, "cannot claim a copy");
                    return Err(AppError::Busy("the cluster database does not answer".into()));
                }
            },
            None if stored.running => {
                return Err(AppError::Conflict("this copy is running; wait for it to end".into()));
            }
            None => {}
        }
        let started = {
            let mut plans = self.copies.lock();
            let kept = plans.get_mut(id).ok_or_else(|| AppError::NotFound(format!("copy plan {id}")))?;
            let free = !kept.running;
            if free {
                kept.running = true;
                kept.report = Some(CopyReport::default());
            }
            free.then(|| kept.clone())
        };
        // Running here already: the claim is this replica's own run's, kept.
        let Some(started) = started else {
            return Err(AppError::Conflict("this copy is running; wait for it to end".into()));
        };
        self.share_copy(id, &started).await;
        let (service, who, id_owned, fingerprint) = (self.clone(), who.clone(), id.to_owned(), fingerprint.to_owned());
        let plan = stored.plan.clone();
        let task = tokio::spawn(async move {
            // The claim is renewed while the copy runs.
            let renewing = claims.clone().map(|claims| {
                let claim = claim.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(claims.renew_every()).await;
                        let renewed = tokio::time::timeout(claims.renew_every(), claims.claim(&claim)).await;
                        if !matches!(renewed, Ok(Ok(true))) {
                            tracing::warn!(claim.name = %claim, "lost the claim on a running copy");
                        }
                    }
                })
            });
            let plans = service.copies.clone();
            let observe = |step: &ocicat_copy::Step| {
                if let Some(kept) = plans.lock().get_mut(&id_owned)
                    && let Some(report) = kept.report.as_mut()
                {
                    report.steps.push(step.clone());
                }
            };
            let ran =
                ocicat_copy::execute_observed(&plan, &fingerprint, move_tags, &source, &destination, &observe).await;
            let report = match ran {
                Ok(report) => report,
                Err(error) => CopyReport {
                    steps: vec![ocicat_copy::Step {
                        what: "plan".into(),
                        target: plan.fingerprint.clone(),
                        outcome: StepOutcome::Failed { reason: error.to_string() },
                    }],
                    complete: false,
                },
            };
            if let Err(error) = service.audit_copy(&who, &plan, &report).await {
                tracing::error!(%error, "cannot audit a copy");
            }
            let destination = &plan.request.destination;
            if let Some(crawler) = &service.crawler
                && !crawler.refresh_repository(&destination.registry, &destination.repository)
            {
                tracing::warn!(registry.name = %destination.registry, "refresh queue full: the copy shows at the next crawl");
            }
            let ended = service.copies.lock().get_mut(&id_owned).map(|kept| {
                kept.report = Some(report);
                kept.running = false;
                kept.clone()
            });
            if let Some(ended) = ended {
                service.share_copy(&id_owned, &ended).await;
            }
            if let Some(renewing) = renewing {
                renewing.abort();
            }
            if let Some(claims) = &claims {
                claims.release(&claim).await;
            }
        });
        if wait && task.await.is_err() {
            tracing::error!("a copy task failed");
            return Err(AppError::Internal);
        }
        let now = self.copies.get(id).ok_or_else(|| AppError::NotFound(format!("copy plan {id}")))?;
        Ok(view(id.to_owned(), now))
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

pub(crate) fn plan_summary(plan: &CopyPlan) -> String {
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
pub(crate) fn audit_line(
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
