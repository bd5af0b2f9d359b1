//! Running retention policies: every repository a policy covers is judged by
//! [`retention::evaluate`], what goes becomes one plan (referrers of kept artifacts stay, as
//! every plan keeps what something else needs), a dry run stops there, and each run's report
//! is stored and written to the audit log. Scheduled policies run on their own clock.

use chrono::{DateTime, Utc};
use ocicat_catalog::RepositorySort;
use sha2::{Digest as _, Sha256};

use crate::engine::Engine;
use crate::execute::entry;
use crate::model::{Mode, Outcome, RetentionRun, TargetSpec};
use crate::plan::plan;
use crate::retention::{RetentionPolicy, evaluate};

/// Most repositories one run walks.
const MAX_REPOSITORIES: usize = 100_000;

impl Engine {
    /// Runs `policy` once now at the request of `requested_by` (a user, or `schedule`): a
    /// report only when `dry_run`, else deleting what it chooses. Whether the run may happen
    /// and may delete was decided by the caller.
    #[tracing::instrument(skip(self, policy), fields(retention.policy = %policy.name))]
    pub async fn run_policy(
        &self,
        policy: &RetentionPolicy,
        dry_run: bool,
        requested_by: &str,
        now: DateTime<Utc>,
    ) -> RetentionRun {
        let actor = format!("retention:{}", policy.name);
        let mut run = RetentionRun {
            id: run_id(&policy.name, now),
            policy: policy.name.clone(),
            started: now,
            finished: None,
            dry_run,
            choices: Vec::new(),
            plan_id: None,
            manifests: 0,
            bytes: 0,
            deleted: 0,
            failed: 0,
            error: None,
            hidden: 0,
        };
        match self.choose(policy, now).await {
            Ok(choices) => run.choices = choices,
            Err(error) => run.error = Some(error),
        }
        let targets: Vec<TargetSpec> = run
            .choices
            .iter()
            .filter(|choice| choice.delete)
            .map(|choice| TargetSpec {
                registry: choice.registry.clone(),
                repository: choice.repository.clone(),
                reference: choice.digest.clone(),
            })
            .collect();
        if !targets.is_empty() {
            let (catalog, known, who) = (self.catalog.clone(), self.tag_deletion(), actor.clone());
            let planned = tokio::task::spawn_blocking(move || {
                plan(&catalog, &targets, Mode::Manifests, None, &who, &known, now).map_err(|error| error.to_string())
            })
            .await
            .map_err(|error| error.to_string())
            .and_then(|planned| planned);
            match planned {
                Ok(planned) => {
                    run.manifests = planned.totals.manifests;
                    run.bytes = planned.totals.bytes;
                    match self.save_plan(planned).await {
                        Ok(stored) => run.plan_id = Some(stored.plan.id),
                        Err(error) => run.error = Some(error.to_string()),
                    }
                }
                Err(error) => run.error = Some(error),
            }
        }
        if let (false, Some(id)) = (dry_run, run.plan_id.clone()) {
            match self.execute(&id, &actor).await {
                Ok(execution) => {
                    run.deleted = execution.results.iter().filter(|result| result.outcome.is_done()).count() as u64;
                    run.failed = execution.results.iter().filter(|r| r.outcome == Outcome::Failed).count() as u64;
                    run.error = execution.message.clone();
                }
                Err(error) => run.error = Some(error.to_string()),
            }
        }
        run.finished = Some(Utc::now());
        if let Err(error) = self.store.save_run(&run).await {
            tracing::error!(%error, "cannot store the retention report");
        }
        let outcome = match (&run.error, dry_run) {
            (Some(_), _) => "failed",
            (None, true) => "dry_run",
            (None, false) => "done",
        };
        let chosen = run.choices.iter().filter(|choice| choice.delete).count();
        let detail = format!(
            "run by {requested_by}: {chosen} of {} artifacts chosen, {} manifests planned, {} deleted, {} failed{}",
            run.choices.len(),
            run.manifests,
            run.deleted,
            run.failed,
            run.error.as_ref().map(|error| format!(": {error}")).unwrap_or_default()
        );
        let mut line =
            entry(&actor, "retention-run", None, run.plan_id.as_deref().unwrap_or(""), outcome, Some(detail));
        line.plan_id = run.plan_id.clone();
        self.audit(line).await;
        tracing::info!(retention.dry_run = dry_run, retention.chosen = chosen, "retention policy ran");
        run
    }

    /// Judges every repository the policy covers.
    async fn choose(
        &self,
        policy: &RetentionPolicy,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::model::RetentionChoice>, String> {
        let registries: Vec<String> =
            self.registries().into_iter().filter(|name| policy.registry == "*" || *name == policy.registry).collect();
        let (catalog, policy) = (self.catalog.clone(), policy.clone());
        tokio::task::spawn_blocking(move || {
            let mut choices = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for registry in registries {
                let repositories = catalog
                    .repositories(&registry, "", RepositorySort::Name, 0, MAX_REPOSITORIES)
                    .map_err(|error| error.to_string())?;
                for repository in repositories.items {
                    if !policy.applies_to(&registry, &repository.repository)
                        || !seen.insert((registry.clone(), repository.repository.clone()))
                    {
                        continue;
                    }
                    let artifacts = catalog
                        .artifacts_in_repository(&registry, &repository.repository)
                        .map_err(|error| error.to_string())?;
                    // One document per digest, whatever the index holds twice.
                    let mut unique = std::collections::HashSet::new();
                    let artifacts: Vec<_> =
                        artifacts.into_iter().filter(|artifact| unique.insert(artifact.digest.clone())).collect();
                    choices.extend(evaluate(&policy, &artifacts, now));
                }
            }
            Ok(choices)
        })
        .await
        .map_err(|error| error.to_string())?
    }

    /// Runs every policy with a schedule on its own clock (first run one period after its last
    /// run in the store, or after the call when it never ran) until `shutdown` is cancelled.
    pub fn schedule(&self, policies: Vec<RetentionPolicy>, shutdown: tokio_util::sync::CancellationToken) {
        for policy in policies.into_iter().filter(|policy| policy.every_hours > 0) {
            let engine = self.clone();
            let stop = shutdown.clone();
            tokio::spawn(async move {
                let period = std::time::Duration::from_secs(policy.every_hours * 3600);
                // The clock runs from the policy's last run in the store, so a restart (or another
                // replica taking over the schedule) neither runs it early nor puts it off.
                let last = engine
                    .store
                    .runs(Some(&policy.name), 1)
                    .await
                    .ok()
                    .and_then(|runs| runs.first().map(|run| run.started));
                let since = last.and_then(|started| (Utc::now() - started).to_std().ok());
                let first = since.map_or(period, |since| period.saturating_sub(since));
                let mut clock = tokio::time::interval_at(tokio::time::Instant::now() + first, period);
                loop {
                    tokio::select! {
                        _ = clock.tick() => { engine.run_policy(&policy, policy.dry_run, "schedule", Utc::now()).await; }
                        () = stop.cancelled() => return,
                    }
                }
            });
        }
    }
}

fn run_id(policy: &str, now: DateTime<Utc>) -> String {
    let digest = Sha256::digest(format!("{policy}\0{}", now.to_rfc3339()).as_bytes());
    format!("{}-{}", now.format("%Y%m%dT%H%M%S"), &hex::encode(digest)[..8])
}
