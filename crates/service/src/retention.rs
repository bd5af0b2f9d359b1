//! Retention for a principal: the policies they may see (a policy they may not is not found),
//! runs only by those who may delete everything a policy reaches, and reports cut to what the
//! reader may read.

use chrono::Utc;
use ocicat_access::Principal;
use ocicat_lifecycle::retention::RetentionPolicy;

use crate::authz::{self, Registries, RunMode};
use crate::error::AppError;
use crate::model::{PolicyView, RetentionRun, RetentionView};
use crate::state::Service;

/// Recent runs listed on the retention page.
const RUNS_LISTED: usize = 50;

impl Service {
    /// The policies `who` may see and their recent runs (each report cut to what `who` may
    /// read); `csrf` is the session's anti-CSRF token the page's buttons carry.
    pub async fn retention_view(&self, who: &Principal, csrf: String) -> Result<RetentionView, AppError> {
        if !authz::offer_deleting(who) {
            return Err(AppError::Forbidden("retention is for maintainers".into()));
        }
        let engine = self.engine()?;
        let registries = self.registries();
        let visible: Vec<&RetentionPolicy> =
            engine.policies().iter().filter(|policy| authz::see_policy(who, &registries, policy).is_ok()).collect();
        let runs = engine
            .store()
            .runs(None, RUNS_LISTED)
            .await
            .map_err(|error| crate::lifecycle::lifecycle_error(error.into()))?;
        Ok(RetentionView {
            policies: visible.iter().map(|policy| describe(who, &registries, policy)).collect(),
            runs: runs
                .into_iter()
                .filter(|run| visible.iter().any(|policy| policy.name == run.policy))
                .map(|run| cut_to_reader(who, run))
                .collect(),
            csrf,
        })
    }

    /// Runs policy `name` now, as `mode` asks, and answers its report as `who` may read it.
    pub async fn run_policy(&self, who: &Principal, name: &str, mode: RunMode) -> Result<RetentionRun, AppError> {
        let engine = self.engine()?;
        let policy = engine
            .policies()
            .iter()
            .find(|policy| policy.name == name)
            .ok_or_else(|| AppError::NotFound(format!("retention policy {name:?}")))?;
        let dry_run = authz::run_policy(who, &self.registries(), policy, mode)?;
        let run = engine.run_policy(policy, dry_run, &crate::lifecycle::actor_of(who), Utc::now()).await;
        Ok(cut_to_reader(who, run))
    }

    /// One stored run's report, as `who` may read it.
    pub async fn find_retention_run(&self, who: &Principal, id: &str) -> Result<RetentionRun, AppError> {
        let engine = self.engine()?;
        let not_found = || AppError::NotFound(format!("retention run {id:?}"));
        let run = engine
            .store()
            .run(id)
            .await
            .map_err(|error| crate::lifecycle::lifecycle_error(error.into()))?
            .ok_or_else(not_found)?;
        let policy = engine.policies().iter().find(|policy| policy.name == run.policy).ok_or_else(not_found)?;
        authz::see_policy(who, &self.registries(), policy).map_err(|_| not_found())?;
        Ok(cut_to_reader(who, run))
    }
}

/// The report without the lines about repositories `who` may not read; when any were left out,
/// the run's totals (which count them) and its plan (which lists them) are left out too.
fn cut_to_reader(who: &Principal, mut run: RetentionRun) -> RetentionRun {
    let before = run.choices.len();
    run.choices.retain(|choice| authz::see_report_line(who, &choice.registry, &choice.repository));
    let hidden = (before - run.choices.len()) as u64;
    if hidden > 0 {
        run.hidden = hidden;
        run.plan_id = None;
        run.manifests = 0;
        run.bytes = 0;
        run.deleted = 0;
        run.failed = 0;
    }
    run
}

/// A policy in words, with whether `who` may run it now.
fn describe(who: &Principal, registries: &Registries, policy: &RetentionPolicy) -> PolicyView {
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
        can_run: authz::run_policy(who, registries, policy, RunMode::DryRun).is_ok(),
    }
}
