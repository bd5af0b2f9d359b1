//! The leader's term: while this replica holds the lease at an epoch it crawls through the log
//! under that epoch, takes the shared crawl queue, moves posted changes into the log, prunes
//! it, resumes executions whose replica died and runs scheduled retention; a term's tasks end
//! before the next term starts. The crawl status is published by the leader and mirrored by
//! the others.

use std::sync::Arc;
use std::time::Duration;

use ocicat_catalog::Catalog;
use ocicat_cluster::LogSink;
use ocicat_crawler::{CrawlRequest, CrawlSettings, Crawler, RegistrySource, RegistryStatus, StatusBoard};
use tokio_util::sync::CancellationToken;

use super::{Cluster, LEASE, LISTED_WITHIN, POLL};

/// How often the leader prunes the log.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Replicas heard from within this long hold the log back from pruning; one silent for longer
/// rebuilds from the current documents when it returns.
const LIVE_WITHIN: Duration = Duration::from_secs(300);
/// Crawl requests the leader takes at a time.
const REQUESTS_BATCH: i64 = 256;
/// How long the end of a leadership term may take before the next one starts anyway.
const TERM_END: Duration = Duration::from_secs(15);
/// How often the leader looks for executions whose replica died (their claim lapsed).
const RESUME_EVERY: Duration = Duration::from_secs(60);

/// What the leader runs besides the crawl queue and the log.
pub struct Duties {
    /// The registries to crawl.
    pub sources: Vec<RegistrySource>,
    /// This replica's index (what the crawl compares against).
    pub catalog: Catalog,
    /// Crawl progress and health, shown by this replica.
    pub board: StatusBoard,
    /// Crawl timing.
    pub settings: CrawlSettings,
    /// The engine whose retention policies run on their schedules.
    pub engine: ocicat_lifecycle::Engine,
    /// The retention policies.
    pub retention: Vec<ocicat_lifecycle::retention::RetentionPolicy>,
}

impl Cluster {
    /// Runs `duties` whenever this replica leads, until `shutdown`; meanwhile the crawl status
    /// on `duties.board` is the leader's, published by it and mirrored by the others.
    pub fn lead(&self, duties: Duties, shutdown: CancellationToken) {
        let mirror = tokio::spawn(self.clone().mirror_board(duties.board.clone(), shutdown.clone()));
        let handle = tokio::spawn(self.clone().supervise(Arc::new(duties), shutdown));
        self.inner.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend([mirror, handle]);
    }

    /// Publishes this replica's crawl status while it leads, and shows the leader's otherwise.
    async fn mirror_board(self, board: StatusBoard, shutdown: CancellationToken) {
        let mut published: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = shutdown.cancelled() => return,
            }
            if self.inner.leading.borrow().is_some() {
                for status in board.snapshot() {
                    let Ok(body) = serde_json::to_string(&status) else { continue };
                    if published.get(&status.name) == Some(&body) {
                        continue;
                    }
                    match self.inner.status.publish(&status.name, &body).await {
                        Ok(()) => {
                            published.insert(status.name, body);
                        }
                        Err(error) => {
                            tracing::warn!(registry.name = %status.name, %error, "cannot publish the crawl status")
                        }
                    }
                }
                continue;
            }
            published.clear();
            match self.inner.status.read().await {
                Ok(statuses) => {
                    for (name, body) in statuses {
                        let Ok(leader) = serde_json::from_str::<RegistryStatus>(&body) else { continue };
                        // Each replica shows the registry's address as it is configured here.
                        board.update(&name, |status| *status = RegistryStatus { url: status.url.clone(), ..leader });
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the leader's crawl status"),
            }
        }
    }

    async fn supervise(self, duties: Arc<Duties>, shutdown: CancellationToken) {
        let mut leading = self.inner.leading.clone();
        loop {
            let epoch = *leading.borrow_and_update();
            let term = shutdown.child_token();
            let running = epoch.map(|epoch| {
                tracing::info!(replica.name = %self.inner.name, lease.epoch = epoch, "leading: crawling for every replica");
                tokio::spawn(self.clone().lead_term(epoch, duties.clone(), term.clone()))
            });
            let still = loop {
                tokio::select! {
                    changed = leading.changed() => match changed {
                        Ok(()) if *leading.borrow() == epoch => continue,
                        Ok(()) => break true,
                        Err(_) => break false,
                    },
                    () = shutdown.cancelled() => break false,
                }
            };
            term.cancel();
            if let Some(running) = running {
                // The term's tasks end before another term may start: two terms never overlap.
                if tokio::time::timeout(TERM_END, running).await.is_err() {
                    tracing::warn!(replica.name = %self.inner.name, "a leadership term's tasks did not stop in time");
                }
                tracing::info!(replica.name = %self.inner.name, "not leading any more: the crawl stops here");
            }
            if !still {
                return;
            }
        }
    }

    /// One term of leading at `epoch`: runs the leader's tasks until `term` is cancelled, then
    /// waits for them to end.
    async fn lead_term(self, epoch: i64, duties: Arc<Duties>, term: CancellationToken) {
        let inner = &self.inner;
        // Everything earlier leaders wrote is in this index before the crawl compares with it.
        let head = loop {
            match inner.log.head().await {
                Ok(head) => break head,
                Err(error) => tracing::warn!(%error, "cannot read the change log's head"),
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = term.cancelled() => return,
            }
        };
        let mut applied = inner.applied.clone();
        tokio::select! {
            _ = applied.wait_for(|applied| *applied >= head) => {}
            () = term.cancelled() => return,
        }
        let sink = LogSink::new(inner.log.clone(), LEASE, &inner.holder, epoch, inner.applied.clone());
        let crawler = Crawler::start(
            duties.sources.clone(),
            duties.catalog.clone(),
            inner.local.through(sink),
            duties.board.clone(),
            duties.settings.clone(),
            term.clone(),
        );
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(self.clone().take_requests(crawler, term.clone()));
        tasks.spawn(self.clone().move_inbox(epoch, term.clone()));
        tasks.spawn(self.clone().prune(term.clone()));
        tasks.spawn(resume_executions(duties.engine.clone(), term.clone()));
        duties.engine.schedule(duties.retention.clone(), term.clone());
        term.cancelled().await;
        while tasks.join_next().await.is_some() {}
    }

    /// Hands queued crawl requests to this leader's crawl tasks.
    async fn take_requests(self, crawler: Crawler, term: CancellationToken) {
        let requests = &self.inner.requests;
        let mut wake_ups = requests.wake_ups().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "no crawl request announcements: polling");
            None
        });
        while !term.is_cancelled() {
            match requests.take(REQUESTS_BATCH).await {
                Ok(taken) if !taken.is_empty() => {
                    for request in taken {
                        match serde_json::from_str::<CrawlRequest>(&request.body) {
                            Ok(parsed) => {
                                if !crawler.handle(&request.registry, parsed) {
                                    tracing::warn!(registry.name = %request.registry, "a queued crawl request was dropped (unknown registry or full queue)");
                                }
                            }
                            Err(error) => {
                                tracing::warn!(registry.name = %request.registry, %error, "a queued crawl request does not parse")
                            }
                        }
                    }
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot take crawl requests"),
            }
            wait(&mut wake_ups, &term).await;
        }
    }

    /// Moves changes posted by any replica into the log, in order.
    async fn move_inbox(self, epoch: i64, term: CancellationToken) {
        let inner = &self.inner;
        let mut wake_ups = inner.inbox.wake_ups().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "no inbox announcements: polling");
            None
        });
        while !term.is_cancelled() {
            match inner.inbox.move_posted(&inner.log, LEASE, &inner.holder, epoch).await {
                Ok(moved) if moved > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(lease.epoch = epoch, %error, "cannot move posted catalog changes"),
            }
            wait(&mut wake_ups, &term).await;
        }
    }

    /// Prunes what every live replica has applied.
    async fn prune(self, term: CancellationToken) {
        let inner = &self.inner;
        loop {
            tokio::select! {
                () = tokio::time::sleep(PRUNE_EVERY) => {}
                () = term.cancelled() => return,
            }
            let pruned = async {
                let now = inner.leases.now().await?;
                let Some(through) = inner.replicas.applied_by_all_at(LIVE_WITHIN, now).await? else {
                    return Ok::<_, ocicat_cluster::ClusterError>(0);
                };
                let pruned = inner.log.prune_through(through).await?;
                inner.inbox.prune_through(through).await?;
                inner.replicas.forget_silent_at(LISTED_WITHIN, now).await?;
                Ok(pruned)
            };
            match pruned.await {
                Ok(0) => {}
                Ok(count) => tracing::debug!(log.pruned = count, "pruned the change log"),
                Err(error) => tracing::warn!(%error, "cannot prune the change log"),
            }
        }
    }
}

/// Resumes executions left running by a replica that stopped (their claims lapsed; those still
/// claimed are refused as busy), now and every [`RESUME_EVERY`].
async fn resume_executions(engine: ocicat_lifecycle::Engine, term: CancellationToken) {
    loop {
        match engine.resume_interrupted().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(plans = count, "looking at executions left running"),
            Err(error) => tracing::warn!(%error, "cannot look for interrupted executions"),
        }
        tokio::select! {
            () = tokio::time::sleep(RESUME_EVERY) => {}
            () = term.cancelled() => return,
        }
    }
}

/// Waits for an announcement on `wake_ups`, or the poll interval, or the end of the term.
async fn wait(wake_ups: &mut Option<sqlx::postgres::PgListener>, term: &CancellationToken) {
    let announced = async {
        match wake_ups.as_mut() {
            Some(listener) => {
                if listener.recv().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = announced => {}
        () = tokio::time::sleep(POLL) => {}
        () = term.cancelled() => {}
    }
}
