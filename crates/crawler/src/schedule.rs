//! One crawl task per registry: crawl, then wait for the interval, a "refresh now" trigger or
//! shutdown; a registry that is down is retried with exponential backoff and never blocks others.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use ocicat_catalog::{Catalog, CatalogWriter, CrawlCheckpoint, RepositoryDoc, RepositorySort};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::error::CrawlError;
use crate::into_catalog::{Walked, crawl_into_catalog};
use crate::refresh::{Announcements, RefreshRequest, merge, refresh_repository};
use crate::repository::CrawlMode;
use crate::source::RegistrySource;
use crate::status::{CrawlState, StatusBoard};

/// Crawl timing and concurrency.
#[derive(Debug, Clone)]
pub struct CrawlSettings {
    /// Time between two complete crawls of a registry.
    pub interval: Duration,
    /// Repositories crawled at once per registry.
    pub repository_concurrency: usize,
    /// First retry delay after a failed crawl; doubles up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Longest retry delay.
    pub max_backoff: Duration,
    /// Time between full reconciles (every manifest fetched again), counted from start.
    pub reconcile_interval: Duration,
    /// Per-registry crawl intervals that override `interval`, by registry name.
    pub registry_intervals: HashMap<String, Duration>,
    /// Registries whose push notifications are configured: once one has arrived, their
    /// crawls between reconciles read tag lists only ([`CrawlMode::Listed`]).
    pub notified_registries: std::collections::HashSet<String>,
}

impl Default for CrawlSettings {
    fn default() -> Self {
        CrawlSettings {
            interval: Duration::from_secs(300),
            repository_concurrency: 4,
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            reconcile_interval: Duration::from_secs(24 * 3600),
            registry_intervals: HashMap::new(),
            notified_registries: std::collections::HashSet::new(),
        }
    }
}

/// Crawls every repository of `source` once into the catalog and removes repositories that vanished.
/// Returns an error only when the registry itself could not be listed.
///
/// A checkpoint is committed with the documents: when the previous crawl of this registry never
/// finished (the process was killed), repositories it already crawled are skipped, so the crawl
/// resumes where the last commit left it.
pub async fn crawl_registry(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
    concurrency: usize,
) -> Result<(), CrawlError> {
    crawl_registry_in(source, catalog, writer, board, concurrency, CrawlMode::Incremental).await
}

/// [`crawl_registry`] in `mode`: [`CrawlMode::Reconcile`] fetches every manifest again.
#[tracing::instrument(skip_all, fields(registry.name = %source.name, crawl.mode = ?mode))]
pub async fn crawl_registry_in(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
    concurrency: usize,
    mode: CrawlMode,
) -> Result<(), CrawlError> {
    let repositories: Vec<String> = match &source.repositories {
        Some(configured) => configured.clone(),
        None => source.client.catalog().await?.items,
    };
    let (known, checkpoint) = read_registry(catalog, &source.name).await?;
    let resume_from =
        checkpoint.filter(|checkpoint| checkpoint.finished.is_none()).map(|checkpoint| checkpoint.started);
    let started = resume_from.unwrap_or_else(Utc::now);
    let crawled_since_start: BTreeSet<&str> = known
        .iter()
        .filter(|repository| resume_from.is_some() && repository.crawled_at.is_some_and(|at| at >= started))
        .map(|repository| repository.repository.as_str())
        .collect();
    let (todo, resumed): (Vec<&String>, Vec<&String>) =
        repositories.iter().partition(|repository| !crawled_since_start.contains(repository.as_str()));
    if resume_from.is_some() {
        tracing::info!(
            repositories.skipped = resumed.len(),
            repositories.left = todo.len(),
            "resuming an interrupted crawl"
        );
    }
    writer.checkpoint(CrawlCheckpoint { registry: source.name.clone(), started, finished: None }).await?;
    // Only a registry that answered counts as crawling; an unreachable one keeps its state.
    board.update(&source.name, |status| {
        status.state = CrawlState::Crawling;
        status.last_started = Some(started);
        status.repositories_total = repositories.len() as u64;
        status.repositories_done = resumed.len() as u64;
        status.repositories_resumed = resumed.len() as u64;
        status.manifests_seen = 0;
        status.manifests_unchanged = 0;
        status.manifests_failed = 0;
        status.reconciling = mode == CrawlMode::Reconcile;
        status.listed_only = mode == CrawlMode::Listed;
    });
    let mut results = futures::stream::iter(todo.into_iter().cloned())
        .map(|repository| async move {
            let outcome = crawl_into_catalog(source, catalog, writer, board, &repository, mode).await;
            (repository, outcome)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((repository, outcome)) = results.next().await {
        let last_failure = match outcome {
            Ok(Walked::Crawled { failures, .. }) => failures.last().cloned(),
            Ok(Walked::Gone) => None,
            Err(CrawlError::Catalog(error)) => return Err(error.into()),
            Err(error) => {
                tracing::warn!(repo.name = %repository, %error, "failed to crawl repository");
                board.update(&source.name, |status| status.manifests_failed += 1);
                Some(format!("{repository}: {error}"))
            }
        };
        board.update(&source.name, |status| {
            status.repositories_done += 1;
            if last_failure.is_some() {
                status.last_error = last_failure;
            }
            status.update_rates(Utc::now());
        });
    }
    let current: BTreeSet<&str> = repositories.iter().map(String::as_str).collect();
    for gone in known.iter().filter(|repository| !current.contains(repository.repository.as_str())) {
        tracing::info!(repo.name = %gone.repository, "repository disappeared, removing it from the catalog");
        writer.remove_repository(&source.name, &gone.repository).await?;
    }
    writer.checkpoint(CrawlCheckpoint { registry: source.name.clone(), started, finished: Some(Utc::now()) }).await?;
    writer.flush().await?;
    board.record_rate_limit(&source.name, &source.client);
    Ok(())
}

/// The repositories the catalog holds for `registry`, and its last committed checkpoint.
async fn read_registry(
    catalog: &Catalog,
    registry: &str,
) -> Result<(Vec<RepositoryDoc>, Option<CrawlCheckpoint>), CrawlError> {
    let (catalog, registry) = (catalog.clone(), registry.to_owned());
    let read = tokio::task::spawn_blocking(move || {
        let known = catalog.repositories(&registry, "", RepositorySort::Name, 0, 1_000_000)?;
        Ok::<_, ocicat_catalog::CatalogError>((known.items, catalog.checkpoint(&registry)?))
    })
    .await
    .map_err(|error| CrawlError::Task(error.to_string()))?;
    Ok(read?)
}

/// Runs a registry's crawl task, and runs it again whenever it dies: a panic (a bug, or a
/// registry answer nobody foresaw) marks the registry failed with the reason, so the pages never
/// say "crawling" for a task that is gone, and a new task starts after `pause`. Returns when a
/// task ends on its own (at shutdown).
pub(crate) async fn supervise<F, Task>(
    name: String,
    board: StatusBoard,
    pause: Duration,
    shutdown: CancellationToken,
    mut start: F,
) where
    F: FnMut() -> Task,
    Task: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let Err(error) = tokio::spawn(start()).await else { return };
        let reason = if error.is_panic() {
            let payload = error.into_panic();
            payload
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".to_owned())
        } else {
            "it was cancelled".to_owned()
        };
        tracing::error!(registry.name = %name, crawl.failure = %reason, "the crawl task died; starting it again");
        board.update(&name, |status| {
            status.state = CrawlState::Unreachable;
            status.last_error = Some(format!("the crawl task failed ({reason}); it starts again"));
        });
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(pause) => {}
        }
    }
}

pub(crate) struct CrawlTask {
    /// Re-queues refreshes whose expectations the registry did not meet yet.
    pub(crate) retries: mpsc::WeakSender<RefreshRequest>,
    pub(crate) source: RegistrySource,
    pub(crate) catalog: Catalog,
    pub(crate) writer: CatalogWriter,
    pub(crate) board: StatusBoard,
    pub(crate) settings: CrawlSettings,
    /// What each pushed tag was last announced at (a retry waits for the newest only).
    pub(crate) announced: Announcements,
}

impl CrawlTask {
    pub(crate) async fn run(
        mut self,
        trigger: Arc<Notify>,
        refreshes: Arc<tokio::sync::Mutex<mpsc::Receiver<RefreshRequest>>>,
        shutdown: CancellationToken,
    ) {
        // Held for the task's life; a task that died released it for the one that replaces it.
        let mut refreshes = refreshes.lock().await;
        let mut backoff = self.settings.initial_backoff;
        let interval =
            self.settings.registry_intervals.get(&self.source.name).copied().unwrap_or(self.settings.interval);
        // The first crawl resumes or refreshes incrementally; full reconciles follow on their own clock.
        let mut last_reconcile = tokio::time::Instant::now();
        loop {
            let mode = self.mode(last_reconcile);
            // Cancelled mid-crawl (shutdown, or this replica stopped leading), the crawl stops at
            // once: its checkpoint lets the next crawl, here or elsewhere, resume.
            let crawl = crawl_registry_in(
                &self.source,
                &self.catalog,
                &self.writer,
                &self.board,
                self.settings.repository_concurrency,
                mode,
            );
            let outcome = tokio::select! {
                outcome = crawl => outcome,
                () = shutdown.cancelled() => return,
            };
            if outcome.is_ok() && mode == CrawlMode::Reconcile {
                last_reconcile = tokio::time::Instant::now();
                self.board.update(&self.source.name, |status| status.last_reconcile = Some(Utc::now()));
            }
            self.board.record_outcome(&self.source.name, &outcome);
            self.board.record_rate_limit(&self.source.name, &self.source.client);
            let wait = match outcome {
                Ok(()) => {
                    backoff = self.settings.initial_backoff;
                    tracing::info!(registry.name = %self.source.name, crawl.mode = ?mode, "crawl completed");
                    interval
                }
                Err(error) => {
                    tracing::warn!(registry.name = %self.source.name, %error, retry_in_secs = backoff.as_secs(), "crawl failed, retrying");
                    let current = backoff;
                    backoff = (backoff * 2).min(self.settings.max_backoff);
                    current
                }
            };
            let next_crawl = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    () = trigger.notified() => break,
                    () = tokio::time::sleep_until(next_crawl) => break,
                    Some(request) = refreshes.recv() => tokio::select! {
                        () = self.refresh_queued(request, &mut refreshes) => {}
                        () = shutdown.cancelled() => return,
                    },
                }
            }
        }
    }

    /// The next crawl's mode: a reconcile when one is due; tag lists only when the registry's
    /// notifications are configured and one has arrived since start (they are wired and
    /// flowing); otherwise a HEAD per tag.
    fn mode(&self, last_reconcile: tokio::time::Instant) -> CrawlMode {
        if last_reconcile.elapsed() >= self.settings.reconcile_interval {
            return CrawlMode::Reconcile;
        }
        let notified = self.settings.notified_registries.contains(&self.source.name)
            && self.board.get(&self.source.name).is_some_and(|status| status.last_notification.is_some());
        if notified { CrawlMode::Listed } else { CrawlMode::Incremental }
    }

    /// Refreshes `first` and every other repository already queued, each once; a refresh whose
    /// expectations are not met yet is queued again after its retry delay.
    async fn refresh_queued(&mut self, first: RefreshRequest, refreshes: &mut mpsc::Receiver<RefreshRequest>) {
        let mut pending = vec![first];
        while let Ok(more) = refreshes.try_recv() {
            pending.push(more);
        }
        self.announced.record(&pending);
        // A request that announces tags comes from a push notification (a "refresh now" names
        // none): the registry's notifications are wired and flowing.
        if pending.iter().any(|request| !request.expect.is_empty()) {
            self.board.update(&self.source.name, |status| status.last_notification = Some(Utc::now()));
        }
        for request in merge(pending) {
            let unmet = match refresh_repository(&self.source, &self.catalog, &self.writer, &self.board, &request).await
            {
                Ok(unmet) => unmet,
                Err(error) => {
                    tracing::warn!(registry.name = %self.source.name, repo.name = %request.repository, %error, "repository refresh failed");
                    request.expect.clone()
                }
            };
            let unmet = self.announced.still_awaited(&request.repository, unmet);
            if !unmet.is_empty() {
                self.retry_later(RefreshRequest { expect: unmet, ..request });
            }
        }
        // Commit before the next walk reads its "previous" documents, so diffs never see stale ones.
        if let Err(error) = self.writer.flush().await {
            tracing::warn!(registry.name = %self.source.name, %error, "cannot commit refreshed repositories");
        }
    }

    /// Queues `request` again after its retry delay, or gives up on it with a warning.
    fn retry_later(&self, request: RefreshRequest) {
        let Some(delay) = request.retry_delay() else {
            let tags: Vec<&str> = request.expect.iter().map(|expected| expected.tag.as_str()).collect();
            tracing::warn!(registry.name = %self.source.name, repo.name = %request.repository, refresh.attempts = request.attempt + 1, ?tags, "the registry never listed the pushed tags it announced; the next crawl will look again");
            return;
        };
        let retries = self.retries.clone();
        tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            if let Some(sender) = retries.upgrade() {
                let _ = sender.try_send(RefreshRequest { attempt: request.attempt + 1, ..request });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_crawl_task_that_panics_marks_its_registry_failed_and_starts_again() {
        let board = StatusBoard::default();
        board.register("local", "http://127.0.0.1:1");
        board.update("local", |status| status.state = CrawlState::Crawling);
        let starts = Arc::new(AtomicUsize::new(0));
        let (counted, seen) = (starts.clone(), board.clone());
        let start = move || {
            let attempt = counted.fetch_add(1, Ordering::SeqCst);
            let seen = seen.clone();
            async move {
                if attempt == 0 {
                    panic!("token lifetime overflowed the clock");
                }
                let status = seen.get("local").unwrap();
                assert_eq!(status.state, CrawlState::Unreachable, "marked failed before the restart");
                assert!(status.last_error.unwrap().contains("token lifetime overflowed"));
            }
        };
        supervise("local".into(), board, Duration::from_millis(1), CancellationToken::new(), start).await;
        assert_eq!(starts.load(Ordering::SeqCst), 2, "started again after the panic");
    }
}
