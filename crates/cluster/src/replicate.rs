//! One catalog on several replicas: the leader's writer hands every change to the change log
//! ([`LogSink`], a `ChangeSink` for `CatalogWriter::through`), and every replica — the leader
//! too — applies the log to its own index in order ([`Tailer`]), recording how far it got.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ocicat_catalog::{CatalogError, CatalogWriter, Change, ChangeSink, SinkFuture};
use tokio::sync::watch;

use crate::{ChangeLog, ClusterError, Replicas};

/// Changes a tailer reads at a time.
const BATCH: i64 = 500;

fn replication_error(error: impl std::fmt::Display) -> CatalogError {
    CatalogError::Replication(error.to_string())
}

/// The leader's side: changes appended to the log under its lease epoch.
#[derive(Debug)]
pub struct LogSink {
    log: ChangeLog,
    lease: String,
    holder: String,
    epoch: i64,
    /// The last sequence number this sink appended.
    appended: AtomicI64,
    /// How far this replica's tailer has applied the log.
    applied: watch::Receiver<i64>,
}

impl LogSink {
    /// A sink appending as `holder` of lease `lease` at `epoch`; `applied` follows this
    /// replica's tailer ([`Tailer::applied`]), which `flush` waits on.
    pub fn new(log: ChangeLog, lease: &str, holder: &str, epoch: i64, applied: watch::Receiver<i64>) -> Arc<LogSink> {
        Arc::new(LogSink {
            log,
            lease: lease.to_owned(),
            holder: holder.to_owned(),
            epoch,
            appended: AtomicI64::new(0),
            applied,
        })
    }
}

impl ChangeSink for LogSink {
    fn submit(&self, change: Change) -> SinkFuture<'_> {
        Box::pin(async move {
            let body = serde_json::to_string(&change).map_err(replication_error)?;
            let appended =
                self.log.append(&self.lease, &self.holder, self.epoch, &[body]).await.map_err(replication_error)?;
            if let Some(seq) = appended.last() {
                self.appended.fetch_max(*seq, Ordering::SeqCst);
            }
            Ok(())
        })
    }

    fn flush(&self) -> SinkFuture<'_> {
        Box::pin(async move {
            let target = self.appended.load(Ordering::SeqCst);
            let mut applied = self.applied.clone();
            applied.wait_for(|seq| *seq >= target).await.map_err(|_| replication_error("the tailer stopped"))?;
            Ok(())
        })
    }
}

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
    /// `CatalogWriter::local`), starting after `applied`.
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

    /// Follows how far this tailer has applied the log (what a [`LogSink`]'s flush waits on).
    pub fn applied(&self) -> watch::Receiver<i64> {
        self.applied.subscribe()
    }

    /// Applies the next batch of changes, commits them and records the position; answers how
    /// many it applied. A change that does not parse is a bug of the replica that wrote it: it
    /// is skipped with an error in the log rather than stopping every replica for ever.
    pub async fn step(&self) -> Result<usize, ClusterError> {
        let from = *self.applied.borrow();
        let changes = self.log.after(from, BATCH).await?;
        let Some(last) = changes.last().map(|change| change.seq) else {
            self.replicas.heartbeat(&self.name, from).await?;
            self.caught_up.send_replace(true);
            return Ok(0);
        };
        for change in &changes {
            match serde_json::from_str::<Change>(&change.body) {
                Ok(parsed) => self.writer.apply(parsed).await.map_err(ClusterError::Catalog)?,
                Err(error) => tracing::error!(change.seq, %error, "skipping a catalog change that does not parse"),
            }
        }
        self.writer.flush().await.map_err(ClusterError::Catalog)?;
        self.applied.send_replace(last);
        self.caught_up.send_replace((changes.len() as i64) < BATCH);
        self.replicas.heartbeat(&self.name, last).await?;
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
                    0
                }
            };
            if found > 0 {
                continue;
            }
            let announced = async {
                match wake_ups.as_mut() {
                    // An error (the connection lost) falls back to the timer; the listener
                    // reconnects on its next call.
                    Some(listener) => {
                        let _ = listener.recv().await;
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
