//! Carrying out a stored plan against the registries, item by item in plan order: each target
//! re-checked with HEAD right before its DELETE (a moved tag is left alone), 404 counted as done,
//! what depends on a failed item skipped, the catalog updated only after the registry confirmed,
//! progress saved so an interrupted run resumes, every step in the audit log.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use ocicat_crawler::CrawlMode;
use ocicat_oci::Digest;

use crate::engine::Engine;
use crate::item::{failed, pending};
use crate::model::{AuditEntry, Execution, ExecutionState, ItemResult, Mode, Outcome, Plan, PlanItem};

/// Progress is saved at least this often (and at the end), not after every item: a resumed run
/// re-checks every item with HEAD anyway, so a lost save costs requests, never correctness.
const SAVE_EVERY: Duration = Duration::from_secs(1);

/// A failure of the whole execution (items fail one by one in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError {
    /// No stored plan has this id.
    #[error("no plan {0}")]
    NoPlan(String),
    /// The plan is being executed already (here, or by another replica).
    #[error("plan {0} is being executed already")]
    Busy(String),
    /// The shared claim on the plan could not be taken or kept (the database away): the
    /// execution stops where it is, and resumes once a replica claims it again.
    #[error("plan {id}: {reason}")]
    Claim {
        /// The plan.
        id: String,
        /// What went wrong.
        reason: String,
    },
    /// The plan was made longer ago than the engine's maximum age and never started.
    #[error("plan {id} was made more than {minutes} minutes ago; plan again (the registry may have changed)")]
    Stale {
        /// The plan.
        id: String,
        /// The maximum age, in minutes.
        minutes: i64,
    },
    /// A repository of the plan was not crawled completely (when planned, or since).
    #[error(
        "plan {id} cannot run: the latest crawl of {repository} did not see everything; refresh it, then plan again"
    )]
    Incomplete {
        /// The plan.
        id: String,
        /// `registry/repository (why)`.
        repository: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl Engine {
    /// Executes plan `id` to the end as `actor`, resuming where an earlier run stopped.
    #[tracing::instrument(skip(self), fields(plan.id = %id, actor = %actor))]
    pub async fn execute(&self, id: &str, actor: &str) -> Result<Execution, ExecuteError> {
        {
            let mut running = self.running.lock().map_err(|_| ExecuteError::Busy(id.to_owned()))?;
            if !running.insert(id.to_owned()) {
                return Err(ExecuteError::Busy(id.to_owned()));
            }
        }
        let outcome = self.claimed_run(id, actor).await;
        if let Ok(mut running) = self.running.lock() {
            running.remove(id);
        }
        outcome
    }

    /// Runs plan `id` holding its shared claim, when replicas share the store.
    async fn claimed_run(&self, id: &str, actor: &str) -> Result<Execution, ExecuteError> {
        let Some(claims) = self.claims.clone() else { return self.run(id, actor, &AtomicBool::new(false)).await };
        let name = crate::claims::plan_claim(id);
        match claims.claim(&name).await {
            Ok(true) => {}
            Ok(false) => return Err(ExecuteError::Busy(id.to_owned())),
            Err(reason) => return Err(ExecuteError::Claim { id: id.to_owned(), reason }),
        }
        let lost = Arc::new(AtomicBool::new(false));
        let renewing = tokio::spawn({
            let (claims, name, lost) = (claims.clone(), name.clone(), lost.clone());
            async move {
                loop {
                    tokio::time::sleep(claims.renew_every()).await;
                    // A renewal that hangs counts as lost before the claim could lapse.
                    let renewed = tokio::time::timeout(claims.renew_every(), claims.claim(&name)).await;
                    if !matches!(renewed, Ok(Ok(true))) {
                        tracing::warn!(claim.name = %name, "lost the claim on a plan: its execution stops");
                        lost.store(true, Ordering::SeqCst);
                        return;
                    }
                }
            }
        });
        let outcome = self.run(id, actor, &lost).await;
        renewing.abort();
        claims.release(&name).await;
        outcome
    }

    async fn run(&self, id: &str, actor: &str, lost: &AtomicBool) -> Result<Execution, ExecuteError> {
        let mut execution = self.store.execution(id).await?.ok_or_else(|| ExecuteError::NoPlan(id.to_owned()))?;
        if matches!(execution.state, ExecutionState::Done) {
            return Ok(execution);
        }
        if execution.state == ExecutionState::Planned && Utc::now() - execution.plan.created > self.max_plan_age {
            return Err(ExecuteError::Stale { id: id.to_owned(), minutes: self.max_plan_age.num_minutes() });
        }
        if let Some(repository) = self.incomplete_repository(&execution.plan) {
            return Err(ExecuteError::Incomplete { id: id.to_owned(), repository });
        }
        if execution.results.len() != execution.plan.items.len() {
            execution.results = execution.plan.items.iter().map(pending).collect();
        }
        execution.state = ExecutionState::Running;
        execution.executed_by = Some(actor.to_owned());
        execution.started.get_or_insert_with(Utc::now);
        execution.message = None;
        self.store.save_execution(&execution).await?;
        self.audit(entry(actor, "execute", None, &execution.plan.id, "started", Some(summary(&execution.plan)))).await;
        let mut last_save = Instant::now();
        let mut refused: HashMap<String, String> = HashMap::new();
        let decided = self.leave_changed(&mut execution, actor).await;
        for index in 0..execution.plan.items.len() {
            if execution.results[index].outcome.is_done() || decided.contains(&index) {
                continue;
            }
            if lost.load(Ordering::SeqCst) {
                // Another replica may hold the plan now: stop without saving over its progress
                // (the run stays `running`; whoever claims it next re-checks every item).
                return Err(ExecuteError::Claim { id: id.to_owned(), reason: "the claim lapsed".into() });
            }
            let item = execution.plan.items[index].clone();
            let result = if let Some(message) = refused.get(&item.registry) {
                failed(&item, message.clone())
            } else if let Some(blocker) = blocker(&execution, index) {
                let mut result = pending(&item);
                result.outcome = Outcome::Skipped;
                result.message = Some(format!("kept because {blocker} was not deleted"));
                result
            } else {
                let result = match execution.plan.mode {
                    Mode::Manifests => self.delete_manifest(&item).await,
                    Mode::TagOnly => self.delete_tag(&item).await,
                };
                if let (true, Some(message)) = (result.refused, &result.message) {
                    refused.insert(item.registry.clone(), message.clone());
                }
                result
            };
            if result.outcome.is_done() && execution.plan.mode == Mode::Manifests {
                let removed =
                    self.writer.remove_artifacts(&item.registry, &item.repository, vec![item.digest.clone()]).await;
                if let Err(error) = removed {
                    tracing::error!(%error, item.digest = %item.digest, "cannot remove a deleted artifact from the index");
                }
            }
            let action = if execution.plan.mode == Mode::TagOnly { "delete-tag" } else { "delete" };
            let mut line = entry(actor, action, Some(&item), &execution.plan.id, result.outcome.key(), None);
            line.detail = result.message.clone();
            self.audit(line).await;
            execution.results[index] = result;
            if last_save.elapsed() >= SAVE_EVERY {
                self.store.save_execution(&execution).await?;
                last_save = Instant::now();
            }
        }
        if lost.load(Ordering::SeqCst) {
            return Err(ExecuteError::Claim { id: id.to_owned(), reason: "the claim lapsed".into() });
        }
        execution.rewrites = self.rewrite_fallback_indexes(&execution, actor).await;
        self.reindex(&execution).await;
        let deleted_any = execution.results.iter().any(|result| result.outcome == Outcome::Deleted);
        execution.state = if execution.results.iter().all(|result| result.outcome.is_done())
            && execution.rewrites.iter().all(|rewrite| rewrite.outcome.is_done())
        {
            ExecutionState::Done
        } else if !refused.is_empty() && !deleted_any {
            execution.message = refused.values().next().cloned();
            ExecutionState::Refused
        } else {
            ExecutionState::Partial
        };
        execution.finished = Some(Utc::now());
        self.store.save_execution(&execution).await?;
        let counts = execution.counts();
        let detail = counts.iter().map(|(outcome, n)| format!("{n} {}", outcome.key())).collect::<Vec<_>>();
        self.audit(entry(actor, "execute", None, &execution.plan.id, execution.state.key(), Some(detail.join(", "))))
            .await;
        tracing::info!(plan.state = ?execution.state, "plan executed");
        Ok(execution)
    }

    /// Pushes the fallback indexes of subjects that stay without the referrers now deleted.
    /// The first repository of `plan` whose crawl was incomplete when planned or is now.
    fn incomplete_repository(&self, plan: &Plan) -> Option<String> {
        if let Some(first) = plan.incomplete.first() {
            return Some(first.clone());
        }
        let repositories: std::collections::BTreeSet<(&str, &str)> =
            plan.items.iter().map(|item| (item.registry.as_str(), item.repository.as_str())).collect();
        repositories.into_iter().find_map(|(registry, repository)| {
            crate::plan::incomplete_crawl(self.catalog(), registry, repository).ok().flatten()
        })
    }

    async fn rewrite_fallback_indexes(&self, execution: &Execution, actor: &str) -> Vec<ItemResult> {
        let done: HashSet<(&str, &str)> = execution
            .results
            .iter()
            .filter(|result| result.outcome.is_done())
            .map(|result| (result.repository.as_str(), result.digest.as_str()))
            .collect();
        let mut results = Vec::new();
        for rewrite in &execution.plan.fallback_rewrites {
            let mut result = ItemResult {
                registry: rewrite.registry.clone(),
                repository: rewrite.repository.clone(),
                digest: rewrite.subject.clone(),
                tag: Some(rewrite.tag.clone()),
                outcome: Outcome::AlreadyGone,
                message: None,
                refused: false,
            };
            let (Some(client), Ok(subject)) = (self.client(&rewrite.registry), rewrite.subject.parse::<Digest>())
            else {
                continue;
            };
            for referrer in rewrite.remove.iter().filter(|r| done.contains(&(rewrite.repository.as_str(), r.as_str())))
            {
                let Ok(referrer) = referrer.parse::<Digest>() else { continue };
                match client.remove_from_fallback_index(&rewrite.repository, &subject, &referrer).await {
                    Ok(true) => result.outcome = Outcome::Deleted,
                    Ok(false) => {}
                    Err(error) => {
                        result.outcome = Outcome::Failed;
                        result.message = Some(format!("cannot rewrite {}: {error}", rewrite.tag));
                        break;
                    }
                }
            }
            let mut line = entry(actor, "rewrite-fallback", None, &execution.plan.id, result.outcome.key(), None);
            line.registry = Some(rewrite.registry.clone());
            line.repository = Some(rewrite.repository.clone());
            line.digest = Some(rewrite.subject.clone());
            line.tags = vec![rewrite.tag.clone()];
            line.detail = result.message.clone().or_else(|| Some(format!("removed {}", rewrite.remove.join(", "))));
            self.audit(line).await;
            results.push(result);
        }
        results
    }

    /// Walks every touched repository again, so summaries and the referrer counts of what the
    /// deleted artifacts were attached to are right: queued to the registry's crawl task, which
    /// serialises it with the registry's other walks; walked here only where no task runs (the
    /// CLI) or its queue is full.
    async fn reindex(&self, execution: &Execution) {
        let touched: HashSet<(&str, &str)> =
            execution.plan.items.iter().map(|item| (item.registry.as_str(), item.repository.as_str())).collect();
        for (registry, repository) in touched {
            if self.crawler.as_ref().is_some_and(|crawler| crawler.refresh_repository(registry, repository)) {
                continue;
            }
            let Some(source) = self.sources.get(registry) else { continue };
            let walked = ocicat_crawler::crawl_into_catalog(
                source,
                &self.catalog,
                &self.writer,
                &self.board,
                repository,
                CrawlMode::Incremental,
            )
            .await;
            if let Err(error) = walked {
                tracing::warn!(registry.name = %registry, repo.name = %repository, %error, "refresh after delete failed");
            }
        }
        if let Err(error) = self.writer.flush().await {
            tracing::error!(%error, "cannot commit the index after deleting");
        }
    }
}

/// The first item that had to go before `index` and did not.
fn blocker(execution: &Execution, index: usize) -> Option<String> {
    let item = &execution.plan.items[index];
    if execution.plan.mode == Mode::TagOnly {
        return None;
    }
    execution.plan.items[..index].iter().zip(&execution.results).find_map(|(earlier, result)| {
        let first = earlier.registry == item.registry
            && earlier.repository == item.repository
            && item.after.contains(&earlier.digest);
        (first && !result.outcome.is_done()).then(|| earlier.digest.clone())
    })
}

/// One audit line about `item` (or the whole plan).
pub(crate) fn entry(
    actor: &str,
    action: &str,
    item: Option<&PlanItem>,
    plan_id: &str,
    outcome: &str,
    detail: Option<String>,
) -> AuditEntry {
    AuditEntry {
        seq: 0,
        at: Utc::now(),
        actor: actor.to_owned(),
        action: action.to_owned(),
        registry: item.map(|item| item.registry.clone()),
        repository: item.map(|item| item.repository.clone()),
        digest: item.map(|item| item.digest.clone()),
        tags: item.map(|item| item.tags.clone()).unwrap_or_default(),
        plan_id: Some(plan_id.to_owned()),
        outcome: outcome.to_owned(),
        detail,
    }
}

/// "3 manifests, 2 tags, 1.2 MB" for audit lines.
pub(crate) fn summary(plan: &Plan) -> String {
    let query = plan.query.as_ref().map(|query| format!(" from search {query:?}")).unwrap_or_default();
    format!(
        "{} manifests, {} tags, {} bytes in {} repositories{query}",
        plan.totals.manifests, plan.totals.tags, plan.totals.bytes, plan.totals.repositories
    )
}
