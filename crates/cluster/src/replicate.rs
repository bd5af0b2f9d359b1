//! One catalog on several replicas: the leader's writer hands every change to the change log
//! ([`LogSink`], a `ChangeSink` for `CatalogWriter::through`), and every replica — the leader
//! too — applies the log to its own index in order ([`Tailer`]), recording how far it got.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ocicat_catalog::impact::{FindingFact, PackageFact};
use ocicat_catalog::{
    ArtifactDoc, CatalogError, CatalogWriter, Change, ChangeSink, CrawlCheckpoint, RepositoryDoc, SinkFuture,
};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::{ChangeLog, ClusterError, Doc, DocEdit, Replicas};

/// Changes a tailer reads at a time.
const BATCH: i64 = 500;
/// How long a tailer woken by an announcement waits for more before it steps.
const COALESCE: Duration = Duration::from_millis(50);

pub(crate) fn replication_error(error: impl std::fmt::Display) -> CatalogError {
    CatalogError::Replication(error.to_string())
}

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
    /// replica's tailer ([`Tailer::applied`]), which `flush` waits on.
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

/// An SBOM's or scan's facts in the current documents.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Facts {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    packages: Vec<PackageFact>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    findings: Vec<FindingFact>,
}

const REPOSITORY: &str = "repository";
const ARTIFACT: &str = "artifact";
const CHECKPOINT: &str = "checkpoint";

/// Keys of the current documents are JSON arrays: unique, and free of the NUL bytes that the
/// catalog's own keys hold and PostgreSQL's TEXT refuses.
fn repo_key(registry: &str, repository: &str) -> String {
    serde_json::json!([registry, repository]).to_string()
}

fn artifact_doc_key(registry: &str, repository: &str, digest: &str) -> String {
    serde_json::json!([ARTIFACT, registry, repository, digest]).to_string()
}

fn json(value: &impl Serialize) -> Result<String, CatalogError> {
    serde_json::to_string(value).map_err(replication_error)
}

fn summary_edit(repository: &RepositoryDoc) -> Result<DocEdit, CatalogError> {
    let repo = repo_key(&repository.registry, &repository.repository);
    Ok(DocEdit::Put {
        key: serde_json::json!([REPOSITORY, repository.registry, repository.repository]).to_string(),
        repo,
        kind: REPOSITORY.into(),
        body: json(repository)?,
        facts: String::new(),
    })
}

fn artifact_edit(artifact: &ArtifactDoc) -> Result<DocEdit, CatalogError> {
    let facts = if artifact.packages.is_empty() && artifact.findings.is_empty() {
        String::new()
    } else {
        json(&Facts { packages: artifact.packages.clone(), findings: artifact.findings.clone() })?
    };
    Ok(DocEdit::Put {
        key: artifact_doc_key(&artifact.registry, &artifact.repository, &artifact.digest),
        repo: repo_key(&artifact.registry, &artifact.repository),
        kind: ARTIFACT.into(),
        body: json(artifact)?,
        facts,
    })
}

/// How `change` changes the current documents.
pub(crate) fn doc_edits(change: &Change) -> Result<Vec<DocEdit>, CatalogError> {
    let artifact_gone = |registry: &str, repository: &str, digest: &str| DocEdit::Delete {
        key: artifact_doc_key(registry, repository, digest),
    };
    Ok(match change {
        Change::ReplaceRepository { repository, artifacts } => {
            let mut edits =
                vec![DocEdit::DeleteRepository { repo: repo_key(&repository.registry, &repository.repository) }];
            edits.push(summary_edit(repository)?);
            for artifact in artifacts {
                edits.push(artifact_edit(artifact)?);
            }
            edits
        }
        Change::UpsertRepository { repository, changed, removed } => {
            // Removed first, then changed, as the writer applies them.
            let mut edits: Vec<DocEdit> = removed
                .iter()
                .map(|digest| artifact_gone(&repository.registry, &repository.repository, digest))
                .collect();
            for artifact in changed {
                edits.push(artifact_edit(artifact)?);
            }
            edits.push(summary_edit(repository)?);
            edits
        }
        Change::Checkpoint { checkpoint } => vec![DocEdit::Put {
            key: serde_json::json!([CHECKPOINT, checkpoint.registry]).to_string(),
            repo: String::new(),
            kind: CHECKPOINT.into(),
            body: json(checkpoint)?,
            facts: String::new(),
        }],
        Change::RemoveRepository { registry, repository } => {
            vec![DocEdit::DeleteRepository { repo: repo_key(registry, repository) }]
        }
        Change::RemoveArtifacts { registry, repository, digests } => {
            digests.iter().map(|digest| artifact_gone(registry, repository, digest)).collect()
        }
        Change::Reset | Change::Applied { .. } => {
            return Err(replication_error("a reset or a position is a replica's own, never replicated"));
        }
    })
}

/// The changes that rebuild an index from the current documents: everything goes, then each
/// repository is replaced whole and each registry's checkpoint written.
fn rebuild_changes(docs: Vec<Doc>) -> Result<Vec<Change>, ClusterError> {
    let parse = |error: serde_json::Error| ClusterError::Catalog(replication_error(error));
    let mut repositories: BTreeMap<String, (Option<RepositoryDoc>, Vec<ArtifactDoc>)> = BTreeMap::new();
    let mut checkpoints = Vec::new();
    for doc in docs {
        match doc.kind.as_str() {
            REPOSITORY => {
                repositories.entry(doc.repo).or_default().0 = Some(serde_json::from_str(&doc.body).map_err(parse)?)
            }
            ARTIFACT => {
                let mut artifact: ArtifactDoc = serde_json::from_str(&doc.body).map_err(parse)?;
                if !doc.facts.is_empty() {
                    let facts: Facts = serde_json::from_str(&doc.facts).map_err(parse)?;
                    (artifact.packages, artifact.findings) = (facts.packages, facts.findings);
                }
                repositories.entry(doc.repo).or_default().1.push(artifact);
            }
            CHECKPOINT => checkpoints.push(serde_json::from_str::<CrawlCheckpoint>(&doc.body).map_err(parse)?),
            other => tracing::warn!(doc.kind = other, "skipping a current document of an unknown kind"),
        }
    }
    let mut changes = vec![Change::Reset];
    for (repo, (summary, artifacts)) in repositories {
        match summary {
            Some(repository) => changes.push(Change::ReplaceRepository { repository, artifacts }),
            None => tracing::warn!(repo.key = %repo, "artifacts without their repository's summary: skipped"),
        }
    }
    changes.extend(checkpoints.into_iter().map(|checkpoint| Change::Checkpoint { checkpoint }));
    Ok(changes)
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

    /// Follows how far this tailer has applied the log (what a [`LogSink`]'s flush waits on).
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
