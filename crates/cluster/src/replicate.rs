//! Every replica's side of replication: the change log applied to its own index in order
//! ([`Tailer`]), recording how far it got; rebuilt from the current documents when the log it
//! needs was pruned. (The leader's side is `log_sink`.)

use std::time::Duration;

use ocicat_catalog::{CatalogWriter, Change};
use tokio::sync::watch;

use crate::current::rebuild_changes;
use crate::error::replication_error;
use crate::{ChangeLog, ClusterError, Replicas};

/// Changes a tailer reads at a time.
const BATCH: i64 = 500;
/// How long a tailer that just applied changes waits before its next step. Each step is one
/// index commit, and every commit is a segment tantivy merges later: at 50 ms, two tailers'
/// merges took half a core during a cold crawl (P14, sampled per thread) and the crawl through
/// the log took 2.2x a local one; at 250 ms, a third of a core and 1.5-1.8x, for a lag p95 of
/// 0.4 s instead of 0.26 s (target 2 s).
const COALESCE: Duration = Duration::from_millis(250);

/// Every replica's side: the log applied to its own index, in order, with heartbeats.
#[derive(Debug)]
pub struct Tailer {
    log: ChangeLog,
    replicas: Replicas,
    name: String,
    writer: CatalogWriter,
    applied: watch::Sender<i64>,
    /// True once a step read up to the log's head (what `/healthz` will tell a load balancer).
    caught_up: watch::Sender<bool>,
}

impl Tailer {
    /// A tailer for replica `name` applying with `writer` (its local writer:
    /// `CatalogWriter::local`), starting after `applied` (`Catalog::applied_position` of its
    /// index, 0 for a new one).
    pub fn new(log: ChangeLog, replicas: Replicas, name: &str, writer: CatalogWriter, applied: i64) -> Tailer {
        Tailer {
            log,
            replicas,
            name: name.to_owned(),
            writer: writer.local(),
            applied: watch::Sender::new(applied),
            caught_up: watch::Sender::new(false),
        }
    }

    /// Follows whether the latest step read up to the log's head.
    pub fn caught_up(&self) -> watch::Receiver<bool> {
        self.caught_up.subscribe()
    }

    /// Follows how far this tailer has applied the log (what a [`LogSink`](crate::LogSink)'s flush waits on).
    pub fn applied(&self) -> watch::Receiver<i64> {
        self.applied.subscribe()
    }

    /// Applies the next batch of changes, commits them and records the position; answers how
    /// many it applied (changes before one that does not parse are applied, then the error).
    pub async fn step(&self) -> Result<usize, ClusterError> {
        let from = *self.applied.borrow();
        let changes = self.log.after(from, BATCH).await?;
        // Checked after the read (the mark only grows): pruned past `from` means what was read may
        // start after a gap, or this replica is new to a pruned log.
        if from < self.log.pruned_through().await? {
            return self.rebuild().await;
        }
        let Some(last) = changes.last().map(|change| change.seq) else {
            self.replicas.heartbeat(&self.name, from).await?;
            self.caught_up.send_replace(true);
            return Ok(0);
        };
        for change in &changes {
            // A change this replica cannot read (a newer leader's, mid-upgrade) stops it here,
            // visibly behind, rather than skipping it and drifting apart.
            let parsed = serde_json::from_str::<Change>(&change.body).map_err(|error| {
                ClusterError::Catalog(replication_error(format!("change {} does not parse: {error}", change.seq)))
            })?;
            self.writer.apply(parsed).await.map_err(ClusterError::Catalog)?;
        }
        // The position is committed with the changes: a restart resumes after them.
        self.writer.apply(Change::Applied { seq: last }).await.map_err(ClusterError::Catalog)?;
        self.writer.flush().await.map_err(ClusterError::Catalog)?;
        self.applied.send_replace(last);
        self.caught_up.send_replace((changes.len() as i64) < BATCH);
        self.replicas.heartbeat(&self.name, last).await?;
        Ok(changes.len())
    }

    /// Rebuilds this replica's index from the current documents (it fell behind the pruned
    /// log, or is new): answers how many changes that took.
    async fn rebuild(&self) -> Result<usize, ClusterError> {
        let (head, docs) = self.log.snapshot().await?;
        tracing::info!(replica.name = %self.name, documents = docs.len(), head, "rebuilding the index from the catalog's current documents");
        let changes = rebuild_changes(docs)?;
        for change in changes.iter().cloned().chain([Change::Applied { seq: head }]) {
            self.writer.apply(change).await.map_err(ClusterError::Catalog)?;
        }
        self.writer.flush().await.map_err(ClusterError::Catalog)?;
        self.applied.send_replace(head);
        self.replicas.heartbeat(&self.name, head).await?;
        Ok(changes.len())
    }

    /// Steps until `stop` turns true. Between steps that found nothing it waits for an append's
    /// announcement (PostgreSQL), or `idle` at most (the fallback, and SQLite's only way); a
    /// failed step (the database away) is retried after `idle`, and the index keeps serving.
    /// Not caught up from the call on (before the future first runs) until its first step.
    pub fn run(self, idle: Duration, stop: watch::Receiver<bool>) -> impl std::future::Future<Output = ()> + Send {
        self.caught_up.send_replace(false);
        self.follow(idle, stop)
    }

    async fn follow(self, idle: Duration, mut stop: watch::Receiver<bool>) {
        // Listening starts before the first step, so no append between them goes unheard.
        let mut wake_ups = match self.log.wake_ups().await {
            Ok(listener) => listener,
            Err(error) => {
                tracing::warn!(replica.name = %self.name, %error, "no append announcements: polling");
                None
            }
        };
        while !*stop.borrow() {
            let found = match self.step().await {
                Ok(found) => found,
                Err(error) => {
                    tracing::warn!(replica.name = %self.name, %error, "catalog replication paused");
                    // A change this index cannot take holds it back for good: not caught up (the
                    // database away is different: every replica waits alike, and reads go on).
                    if matches!(error, ClusterError::Catalog(_)) {
                        self.caught_up.send_replace(false);
                    }
                    0
                }
            };
            if found as i64 >= BATCH {
                continue;
            }
            if found > 0 {
                // Appends come in bursts while a crawl writes: a moment's wait lets the next step
                // (one index commit) take many of them instead of one each.
                tokio::select! {
                    () = tokio::time::sleep(COALESCE.min(idle)) => {}
                    _ = stop.changed() => {}
                }
                continue;
            }
            let announced = async {
                match wake_ups.as_mut() {
                    // An error (the connection lost) falls back to the timer; the listener
                    // reconnects on its next call.
                    Some(listener) => {
                        if let Err(error) = listener.recv().await {
                            tracing::warn!(%error, "append announcements lost: waiting for the poll");
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = announced => {}
                () = tokio::time::sleep(idle) => {}
                _ = stop.changed() => {}
            }
        }
    }
}
