//! The single writer: one thread owns the `IndexWriter`, applies operations in order and commits
//! on whichever trigger fires first (a flush request, N documents, T seconds, drained queue).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tantivy::{Index, IndexWriter, Term};
use tokio::sync::{mpsc, oneshot};

use crate::change::Change;
use crate::document::{ArtifactDoc, CrawlCheckpoint, RepositoryDoc};
use crate::error::{CatalogError, Result, index_error, io_error};
use crate::keys::{artifact_hash, artifact_key, checkpoint_key, repository_key};
use crate::mapping::{artifact_documents, checkpoint_document, repository_document};
use crate::reader::Catalog;
use crate::schema::Fields;

/// Tuning of the writer.
#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// tantivy's indexing memory budget.
    pub memory_budget_bytes: usize,
    /// Commit once this many documents are pending.
    pub commit_every_docs: usize,
    /// Commit pending documents at least this often.
    pub commit_interval: Duration,
}

impl Default for WriterConfig {
    fn default() -> Self {
        WriterConfig {
            memory_budget_bytes: 50 << 20,
            commit_every_docs: 25_000,
            commit_interval: Duration::from_secs(1),
        }
    }
}

enum Operation {
    Change(Change),
    Flush(oneshot::Sender<Result<()>>),
    Close(oneshot::Sender<Result<()>>),
}

/// A future a [`ChangeSink`] answers with.
pub type SinkFuture<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<()>> + Send + 'a>>;

/// Where a writer sends its changes instead of its own index when several replicas share one
/// catalog: a change log that every replica's tailer applies (`ocicat-cluster`).
pub trait ChangeSink: std::fmt::Debug + Send + Sync {
    /// Hands one change over; done once it is durable there (not yet applied here).
    fn submit(&self, change: Change) -> SinkFuture<'_>;
    /// Done once every change submitted so far is in this replica's index.
    fn flush(&self) -> SinkFuture<'_>;
}

/// The handle that feeds the writer; cheap to clone, bounded so producers slow down under load.
#[derive(Clone, Debug)]
pub struct CatalogWriter {
    sender: mpsc::Sender<Operation>,
    /// Set in cluster mode: changes go there, and reach this index through the tailer.
    sink: Option<Arc<dyn ChangeSink>>,
}

#[derive(Debug, Clone, Copy)]
enum CommitTrigger {
    Flush,
    Documents,
    Interval,
    Drained,
    Shutdown,
}

impl CatalogWriter {
    pub(crate) fn start(
        index: &Index,
        fields: Arc<Fields>,
        catalog: Catalog,
        config: WriterConfig,
    ) -> Result<CatalogWriter> {
        let index_writer: IndexWriter =
            index.writer(config.memory_budget_bytes).map_err(index_error("cannot open index writer"))?;
        let (sender, receiver) = mpsc::channel(64);
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| CatalogError::Corrupt("the catalog writer must start inside a tokio runtime".into()))?;
        std::thread::Builder::new()
            .name("catalog-writer".into())
            .spawn(move || run(runtime, receiver, index_writer, fields, catalog, config))
            .map_err(io_error("cannot start writer thread"))?;
        Ok(CatalogWriter { sender, sink: None })
    }

    /// A writer whose changes go to `sink` (and come back to this index through it).
    pub fn through(&self, sink: Arc<dyn ChangeSink>) -> CatalogWriter {
        CatalogWriter { sender: self.sender.clone(), sink: Some(sink) }
    }

    /// The writer of this replica's own index, whatever sink this one has: what a tailer
    /// applies the change log with.
    pub fn local(&self) -> CatalogWriter {
        CatalogWriter { sender: self.sender.clone(), sink: None }
    }

    /// Applies one change (what the methods below send, or one read from another replica's
    /// change log).
    pub async fn apply(&self, change: Change) -> Result<()> {
        match &self.sink {
            Some(sink) => sink.submit(change).await,
            None => self.send(Operation::Change(change)).await,
        }
    }

    /// Replaces everything indexed for one repository with `artifacts` and its summary.
    pub async fn replace_repository(&self, repository: RepositoryDoc, artifacts: Vec<ArtifactDoc>) -> Result<()> {
        self.apply(Change::ReplaceRepository { repository, artifacts }).await
    }

    /// Upserts the artifacts of one repository that changed (by key), removes the digests that
    /// disappeared, and replaces its summary, all in one operation: no commit sees half of it.
    pub async fn upsert_repository(
        &self,
        repository: RepositoryDoc,
        changed: Vec<ArtifactDoc>,
        removed: Vec<String>,
    ) -> Result<()> {
        self.apply(Change::UpsertRepository { repository, changed, removed }).await
    }

    /// Records where a registry's crawl stands; committed in order with the documents before it.
    pub async fn checkpoint(&self, checkpoint: CrawlCheckpoint) -> Result<()> {
        self.apply(Change::Checkpoint { checkpoint }).await
    }

    /// Removes a repository that disappeared from its registry.
    pub async fn remove_repository(&self, registry: &str, repository: &str) -> Result<()> {
        self.apply(Change::RemoveRepository { registry: registry.to_owned(), repository: repository.to_owned() }).await
    }

    /// Removes artifacts the registry confirmed deleted (the next crawl of the repository
    /// updates its summary and the referrer counts of what they were attached to).
    pub async fn remove_artifacts(&self, registry: &str, repository: &str, digests: Vec<String>) -> Result<()> {
        self.apply(Change::RemoveArtifacts {
            registry: registry.to_owned(),
            repository: repository.to_owned(),
            digests,
        })
        .await
    }

    /// Commits everything sent so far and waits until readers see it (through a sink: until
    /// this replica's index holds everything submitted).
    pub async fn flush(&self) -> Result<()> {
        if let Some(sink) = &self.sink {
            return sink.flush().await;
        }
        let (reply, answer) = oneshot::channel();
        self.send(Operation::Flush(reply)).await?;
        answer.await.map_err(|_| CatalogError::WriterGone)?
    }

    /// Commits, stops the writer and releases the index lock; later calls fail with `WriterGone`.
    pub async fn close(&self) -> Result<()> {
        let (reply, answer) = oneshot::channel();
        self.send(Operation::Close(reply)).await?;
        answer.await.map_err(|_| CatalogError::WriterGone)?
    }

    async fn send(&self, operation: Operation) -> Result<()> {
        self.sender.send(operation).await.map_err(|_| CatalogError::WriterGone)
    }
}

fn run(
    runtime: tokio::runtime::Handle,
    mut receiver: mpsc::Receiver<Operation>,
    mut index_writer: IndexWriter,
    fields: Arc<Fields>,
    catalog: Catalog,
    config: WriterConfig,
) {
    let mut pending_docs = 0usize;
    let mut last_commit = Instant::now();
    loop {
        let wait = if pending_docs > 0 {
            config.commit_interval.saturating_sub(last_commit.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let next = runtime.block_on(async { tokio::time::timeout(wait, receiver.recv()).await });
        let trigger = match next {
            Err(_elapsed) => Some(CommitTrigger::Interval),
            Ok(None) => {
                if pending_docs > 0 {
                    let _ = commit(&mut index_writer, &catalog, CommitTrigger::Shutdown, pending_docs);
                }
                return;
            }
            Ok(Some(Operation::Close(reply))) => {
                let committed = commit(&mut index_writer, &catalog, CommitTrigger::Shutdown, pending_docs);
                let released = index_writer.wait_merging_threads().map_err(index_error("cannot finish merges"));
                let _ = reply.send(committed.and(released));
                return;
            }
            Ok(Some(Operation::Flush(reply))) => {
                let _ = reply.send(commit(&mut index_writer, &catalog, CommitTrigger::Flush, pending_docs));
                pending_docs = 0;
                last_commit = Instant::now();
                None
            }
            Ok(Some(Operation::Change(change))) => {
                // A bug in document mapping must cost one operation, never the writer.
                let applied =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| apply(&index_writer, &fields, change)));
                pending_docs += applied.unwrap_or_else(|_| {
                    tracing::error!("catalog writer skipped an operation that panicked");
                    0
                });
                if pending_docs >= config.commit_every_docs {
                    Some(CommitTrigger::Documents)
                } else if receiver.is_empty() && last_commit.elapsed() >= config.commit_interval {
                    Some(CommitTrigger::Drained)
                } else {
                    None
                }
            }
        };
        if let Some(trigger) = trigger.filter(|_| pending_docs > 0) {
            let _ = commit(&mut index_writer, &catalog, trigger, pending_docs);
            pending_docs = 0;
            last_commit = Instant::now();
        }
    }
}

/// Applies one change; returns how many documents it touched.
fn apply(index_writer: &IndexWriter, fields: &Fields, change: Change) -> usize {
    match change {
        Change::ReplaceRepository { repository, artifacts } => {
            let key = repository_key(&repository.registry, &repository.repository);
            index_writer.delete_term(Term::from_field_text(fields.repo_key, &key));
            let mut touched = 1;
            for artifact in &artifacts {
                add_artifact(index_writer, fields, artifact);
                touched += 1;
            }
            if let Err(error) = index_writer.add_document(repository_document(fields, &repository)) {
                tracing::error!(repo.name = %repository.repository, %error, "failed to add repository document");
            }
            touched
        }
        Change::UpsertRepository { repository, changed, removed } => {
            let touched = 1 + removed.len() + changed.len();
            remove_facts(index_writer, fields, &repository.registry, &repository.repository, &removed);
            let gone: Vec<&str> = removed.iter().map(String::as_str).collect();
            delete_artifacts(index_writer, fields, &repository.registry, &repository.repository, &gone);
            // Each replaced in turn: the same digest twice leaves the later document.
            for artifact in &changed {
                delete_artifacts(index_writer, fields, &artifact.registry, &artifact.repository, &[&artifact.digest]);
                add_artifact(index_writer, fields, artifact);
            }
            let key = repository_key(&repository.registry, &repository.repository);
            index_writer.delete_term(Term::from_field_text(fields.key, &key));
            if let Err(error) = index_writer.add_document(repository_document(fields, &repository)) {
                tracing::error!(repo.name = %repository.repository, %error, "failed to add repository document");
            }
            touched
        }
        Change::Checkpoint { checkpoint } => {
            index_writer.delete_term(Term::from_field_text(fields.key, &checkpoint_key(&checkpoint.registry)));
            if let Err(error) = index_writer.add_document(checkpoint_document(fields, &checkpoint)) {
                tracing::error!(registry.name = %checkpoint.registry, %error, "failed to add crawl checkpoint");
            }
            1
        }
        Change::RemoveRepository { registry, repository } => {
            index_writer.delete_term(Term::from_field_text(fields.repo_key, &repository_key(&registry, &repository)));
            1
        }
        Change::RemoveArtifacts { registry, repository, digests } => {
            remove_facts(index_writer, fields, &registry, &repository, &digests);
            let digests: Vec<&str> = digests.iter().map(String::as_str).collect();
            delete_artifacts(index_writer, fields, &registry, &repository, &digests);
            digests.len()
        }
        Change::Applied { seq } => {
            index_writer.delete_term(Term::from_field_text(fields.key, crate::mapping::POSITION_KEY));
            if let Err(error) = index_writer.add_document(crate::mapping::position_document(fields, seq)) {
                tracing::error!(%error, "failed to record the change-log position");
            }
            1
        }
        Change::Reset => {
            if let Err(error) = index_writer.delete_all_documents() {
                tracing::error!(%error, "failed to empty the index");
            }
            1
        }
    }
}

/// Deletes the documents of the artifacts `digests` of one repository and their tag documents:
/// one term each (`artifact_hash`, which an artifact's document and its tags' carry), a single
/// lookup per segment. Their facts documents stay unless facts were read again (see
/// [`add_artifact`]) or the artifacts are gone ([`remove_facts`]).
///
/// Two keys sharing a 64-bit hash would delete each other's documents; the next crawl of the
/// other repository writes them again (it finds them missing), so a clash heals itself.
fn delete_artifacts(index_writer: &IndexWriter, fields: &Fields, registry: &str, repository: &str, digests: &[&str]) {
    for digest in digests {
        let hash = artifact_hash(registry, repository, digest);
        index_writer.delete_term(Term::from_field_u64(fields.artifact_hash, hash));
    }
}

/// Deletes the facts documents of the artifacts `digests` of one repository that are gone.
fn remove_facts(index_writer: &IndexWriter, fields: &Fields, registry: &str, repository: &str, digests: &[String]) {
    for digest in digests {
        let key = artifact_key(registry, repository, digest);
        index_writer.delete_term(Term::from_field_text(fields.key, &crate::facts::facts_key(&key)));
    }
}

/// Adds an artifact's document, one document per version tag, and its facts document when its
/// packages or findings were just read (replacing the one before).
fn add_artifact(index_writer: &IndexWriter, fields: &Fields, artifact: &ArtifactDoc) {
    if crate::facts::writes_facts(artifact) {
        let key = artifact_key(&artifact.registry, &artifact.repository, &artifact.digest);
        index_writer.delete_term(Term::from_field_text(fields.key, &crate::facts::facts_key(&key)));
    }
    for document in artifact_documents(fields, artifact) {
        if let Err(error) = index_writer.add_document(document) {
            tracing::error!(artifact.digest = %artifact.digest, %error, "failed to add artifact document");
        }
    }
}

fn commit(
    index_writer: &mut IndexWriter,
    catalog: &Catalog,
    trigger: CommitTrigger,
    pending_docs: usize,
) -> Result<()> {
    let started = Instant::now();
    index_writer.commit().map_err(index_error("cannot commit index"))?;
    catalog.reload()?;
    tracing::debug!(commit.trigger = ?trigger, num_docs = pending_docs, duration_ms = started.elapsed().as_millis() as u64, "catalog committed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{ArtifactDoc, RepositoryDoc, WriterConfig};

    fn summary(repository: &str) -> RepositoryDoc {
        RepositoryDoc { tag_count: 1, artifact_count: 1, size: 1, ..RepositoryDoc::new("r.example", repository) }
    }

    fn tagged(repository: &str, digest: &str, tag: &str) -> ArtifactDoc {
        let mut artifact = ArtifactDoc::new("r.example", repository, digest);
        artifact.tags = vec![tag.into()];
        artifact
    }

    #[tokio::test]
    async fn an_upsert_replaces_its_own_repository_only_and_the_later_duplicate_wins() {
        let (catalog, writer) = crate::open_in_ram(WriterConfig::default()).unwrap();
        for repository in ["app", "other"] {
            let artifacts = vec![tagged(repository, "sha256:aa", "1.0.0"), tagged(repository, "sha256:bb", "2.0.0")];
            writer.upsert_repository(summary(repository), artifacts, Vec::new()).await.unwrap();
        }
        writer.flush().await.unwrap();

        let changed = vec![tagged("app", "sha256:aa", "1.0.1"), tagged("app", "sha256:aa", "1.0.2")];
        writer.upsert_repository(summary("app"), changed, vec!["sha256:bb".into()]).await.unwrap();
        writer.flush().await.unwrap();

        let app = catalog.artifacts_in_repository("r.example", "app").unwrap();
        assert_eq!(app.len(), 1, "{app:?}");
        assert_eq!(app[0].tags, ["1.0.2"]);
        assert_eq!(catalog.artifact("r.example", "app", "sha256:bb").unwrap(), None);
        let app_tags = catalog.tags("r.example", "app", "", crate::TagSort::Name, 0, 10).unwrap();
        assert_eq!(app_tags.items.iter().map(|entry| entry.tag.as_str()).collect::<Vec<_>>(), ["1.0.2"]);
        assert_eq!(catalog.artifacts_in_repository("r.example", "other").unwrap().len(), 2);
        let other_tags = catalog.tags("r.example", "other", "", crate::TagSort::Name, 0, 10).unwrap();
        assert_eq!(other_tags.total, 2);
    }
}
