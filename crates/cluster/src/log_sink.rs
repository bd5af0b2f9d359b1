//! The leader's side of replication: every change its writer makes is appended to the change
//! log under its lease epoch, with the current documents it changes, in one transaction.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use ocicat_catalog::{Change, ChangeSink, SinkFuture};
use tokio::sync::watch;

use crate::current::doc_edits;
use crate::error::replication_error;
use crate::{ChangeLog, DocEdit};

/// The leader's side: changes appended to the log under its lease epoch. Changes submitted while
/// an append is in flight are appended together, in one transaction, by whichever submitter
/// gets the turn next (group commit): the crawl's concurrent repositories share transactions.
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
    /// Changes submitted and not appended yet, each with where its answer goes.
    queued: std::sync::Mutex<Vec<Queued>>,
    /// The turn to append (first come, first served).
    turn: tokio::sync::Mutex<()>,
}

/// A change waiting for its append.
#[derive(Debug)]
struct Queued {
    body: String,
    edits: Vec<DocEdit>,
    answer: tokio::sync::oneshot::Sender<Result<i64, String>>,
}

/// Changes appended in one transaction at most.
const GROUP: usize = 64;

impl LogSink {
    /// A sink appending as `holder` of lease `lease` at `epoch`; `applied` follows this
    /// replica's tailer ([`Tailer::applied`](crate::Tailer::applied)), which `flush` waits on.
    pub fn new(log: ChangeLog, lease: &str, holder: &str, epoch: i64, applied: watch::Receiver<i64>) -> Arc<LogSink> {
        Arc::new(LogSink {
            log,
            lease: lease.to_owned(),
            holder: holder.to_owned(),
            epoch,
            appended: AtomicI64::new(0),
            applied,
            queued: std::sync::Mutex::new(Vec::new()),
            turn: tokio::sync::Mutex::new(()),
        })
    }

    /// Appends what is queued, a group at a time, until nothing is.
    async fn append_queued(&self) {
        loop {
            let group: Vec<Queued> = {
                let mut queued = self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let take = queued.len().min(GROUP);
                queued.drain(..take).collect()
            };
            if group.is_empty() {
                return;
            }
            let entries: Vec<crate::log::Entry<'_>> = group
                .iter()
                .map(|queued| crate::log::Entry { body: &queued.body, edits: &queued.edits, inbox: None })
                .collect();
            let appended = self.log.append_batch(&self.lease, &self.holder, self.epoch, &entries).await;
            match appended {
                Ok(seqs) => {
                    for (queued, seq) in group.into_iter().zip(seqs) {
                        self.appended.fetch_max(seq, Ordering::SeqCst);
                        let _ = queued.answer.send(Ok(seq));
                    }
                }
                Err(error) => {
                    let message = error.to_string();
                    for queued in group {
                        let _ = queued.answer.send(Err(message.clone()));
                    }
                }
            }
        }
    }
}

impl ChangeSink for LogSink {
    fn submit(&self, change: Change) -> SinkFuture<'_> {
        Box::pin(async move {
            // The change goes to the log, and the current documents follow in the same transaction.
            let edits = doc_edits(&change)?;
            let body = serde_json::to_string(&change).map_err(replication_error)?;
            let (answer, mut answered) = tokio::sync::oneshot::channel();
            self.queued.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(Queued { body, edits, answer });
            let turn = self.turn.lock().await;
            // Appended already, with others, by the submitter that had the turn before.
            let seq = match answered.try_recv() {
                Ok(done) => done,
                Err(_) => {
                    self.append_queued().await;
                    drop(turn);
                    answered.await.map_err(|_| replication_error("the append was abandoned"))?
                }
            };
            seq.map(|_| ()).map_err(replication_error)
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
