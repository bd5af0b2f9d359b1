//! P4's limit: raw tantivy indexing of the same synthetic documents with the catalog's own
//! schema, index settings and mapping, the tantivy documents built before the clock runs, so
//! that only the engine is timed (one `IndexWriter`, the catalog writer's memory budget and
//! document commit cadence, tantivy's default merge policy as the catalog's).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use ocicat_catalog::WriterConfig;
use ocicat_catalog::raw::RawMapping;
use ocicat_catalog::raw::tantivy::{IndexWriter, TantivyDocument};

use super::memory::anonymous_rss;
use super::synthetic::Generator;

/// What the raw run measured.
#[derive(Debug, Clone)]
pub(crate) struct RawFigures {
    /// Artifacts indexed (the unit of P4's rate).
    pub(crate) artifacts: u64,
    /// Tantivy documents added (artifacts, their tags and facts, repository summaries).
    pub(crate) documents: u64,
    /// Time spent adding documents and committing (building them is not counted).
    pub(crate) indexing: Duration,
    /// Time spent building the tantivy documents (not timed into the rate).
    pub(crate) building: Duration,
    /// Waiting for the merges after the last commit.
    pub(crate) merge_wait: Duration,
    /// Commits made.
    pub(crate) commits: u64,
    /// Bytes of the index once merged.
    pub(crate) bytes_merged: u64,
    /// Anonymous RSS after the run less before it (what it left on the heap).
    pub(crate) rss_growth: i64,
}

impl RawFigures {
    /// Artifacts indexed per second of engine time: adding, committing and the merges' tail
    /// (ocicat's clock runs to its last merge too). Merges that ran while the next batch was
    /// being built are not counted, so the limit is, if anything, flattering to the engine.
    pub(crate) fn docs_per_second(&self) -> f64 {
        self.artifacts as f64 / (self.indexing + self.merge_wait).as_secs_f64().max(f64::EPSILON)
    }
}

/// Indexes the `repositories` of `generator` with the catalog's mapping into a fresh directory,
/// on a thread of its own (its allocations are freed with it, away from the async workers).
pub(crate) fn run(generator: &Generator, repositories: usize, config: &WriterConfig) -> anyhow::Result<RawFigures> {
    let generator = generator.clone();
    let config = config.clone();
    std::thread::Builder::new()
        .name("raw-index".into())
        .spawn(move || index_raw(&generator, repositories, &config))
        .context("failed to start the raw indexing thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the raw indexing thread panicked"))?
}

fn index_raw(generator: &Generator, repositories: usize, config: &WriterConfig) -> anyhow::Result<RawFigures> {
    let rss_before = anonymous_rss()?;
    let directory =
        tempfile::Builder::new().prefix("ocicat-bench-raw-index-").tempdir().context("failed to create raw tempdir")?;
    let mapping = RawMapping::default();
    let index = mapping.create_index(directory.path()).context("failed to create the raw index")?;
    let mut writer: IndexWriter =
        index.writer(config.memory_budget_bytes).context("failed to open the raw index writer")?;
    let (mut indexing, mut building) = (Duration::ZERO, Duration::ZERO);
    let (mut artifacts, mut documents, mut commits) = (0u64, 0u64, 0u64);
    let mut next_repository = 0;
    while next_repository < repositories {
        // One batch is what the catalog writer takes between two document-count commits (it
        // counts each artifact and each summary once), so every batch ends with a commit and no
        // indexing work is left running while the next batch is built.
        let built = Instant::now();
        let mut batch: Vec<TantivyDocument> = Vec::new();
        let mut pending = 0usize;
        while next_repository < repositories && pending < config.commit_every_docs {
            let (summary, repository_artifacts) = generator.repository(next_repository);
            next_repository += 1;
            pending += repository_artifacts.len() + 1;
            artifacts += repository_artifacts.len() as u64;
            batch.extend(mapping.repository_documents(&summary, &repository_artifacts));
        }
        building += built.elapsed();
        documents += batch.len() as u64;
        let started = Instant::now();
        for document in batch {
            writer.add_document(document).context("failed to add a raw document")?;
        }
        writer.commit().context("failed to commit the raw index")?;
        indexing += started.elapsed();
        commits += 1;
    }
    let merging = Instant::now();
    writer.wait_merging_threads().context("failed to finish the raw index's merges")?;
    let merge_wait = merging.elapsed();
    let bytes_merged = super::index::directory_bytes(directory.path())?;
    drop(index);
    drop(directory);
    let rss_growth = anonymous_rss()? as i64 - rss_before as i64;
    Ok(RawFigures { artifacts, documents, indexing, building, merge_wait, commits, bytes_merged, rss_growth })
}
