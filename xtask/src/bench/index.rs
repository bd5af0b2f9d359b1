//! P4: synthetic artifact documents fed through the catalog's single writer (one upsert per
//! repository, the crawler's path) into an on-disk index; throughput and bytes per artifact.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use ocicat_catalog::WriterConfig;
use serde_json::json;

use super::memory::{PeakSampler, anonymous_rss, mebibytes};
use super::report::{Check, Limit, Scenario, round, seconds};
use super::synthetic::Generator;

/// Artifacts per repository: 1M artifacts spread over 10k repositories.
pub(crate) const ARTIFACTS_PER_REPOSITORY: usize = 100;

/// The index built by P4, kept for P5 and P9.
#[derive(Debug)]
pub(crate) struct BuiltIndex {
    /// The P4 record.
    pub(crate) scenario: Scenario,
    /// Holds the index (`index-v*` inside); removed when dropped.
    pub(crate) directory: tempfile::TempDir,
    /// Artifacts written.
    pub(crate) artifacts: u64,
    /// Anonymous RSS before the writer opened, in bytes.
    pub(crate) rss_before: u64,
    /// Highest anonymous RSS sampled while indexing and merging, in bytes.
    pub(crate) rss_peak: u64,
    /// Anonymous RSS once the writer closed, in bytes.
    pub(crate) rss_after: u64,
}

/// Indexes `artifacts` synthetic artifacts (rounded to whole repositories) anchored at `now`.
pub(crate) async fn run(artifacts: usize, now: DateTime<Utc>) -> anyhow::Result<BuiltIndex> {
    let repositories = artifacts.div_ceil(ARTIFACTS_PER_REPOSITORY);
    let directory =
        tempfile::Builder::new().prefix("ocicat-bench-index-").tempdir().context("failed to create index tempdir")?;
    let rss_before = anonymous_rss()?;
    let sampler = PeakSampler::start()?;
    let config = WriterConfig::default();
    let (catalog, writer) =
        ocicat_catalog::open(directory.path(), config.clone()).context("failed to open the bench catalog")?;
    let generator = Generator { now, artifacts_per_repository: ARTIFACTS_PER_REPOSITORY };
    let composition = sample_composition(&generator, repositories.min(SAMPLED_REPOSITORIES));
    // Like the raw run: each batch of about `commit_every_docs` artifacts is generated off the
    // clock, then upserted and committed on it; the clock runs to the last merge. Merges that
    // run while the next batch is generated are off both clocks.
    let mut generating = Duration::ZERO;
    let mut indexed = Duration::ZERO;
    let mut written = 0u64;
    let mut number = 0;
    while number < repositories {
        let generated = Instant::now();
        let mut batch = Vec::new();
        let mut pending = 0usize;
        while number < repositories && pending < config.commit_every_docs {
            let (summary, documents) = generator.repository(number);
            pending += documents.len() + 1;
            written += documents.len() as u64;
            batch.push((number, summary, documents));
            number += 1;
        }
        generating += generated.elapsed();
        let started = Instant::now();
        for (number, summary, documents) in batch {
            writer
                .upsert_repository(summary, documents, Vec::new())
                .await
                .with_context(|| format!("failed to upsert bench repository {number}"))?;
        }
        writer.flush().await.context("failed to flush the bench catalog")?;
        indexed += started.elapsed();
    }
    let bytes_flushed = directory_bytes(directory.path())?;
    let closing = Instant::now();
    writer.close().await.context("failed to close the bench catalog")?;
    let merge_wait = closing.elapsed();
    let rss_peak = sampler.stop();
    drop(catalog);
    let bytes_merged = directory_bytes(directory.path())?;
    let rss_after = anonymous_rss()?;
    let space = ocicat_catalog::open_reader(directory.path())
        .and_then(|merged| merged.space_usage())
        .context("failed to measure the bench index's space")?;

    tracing::info!(artifacts = written, "P4: raw tantivy indexing of the same documents");
    let raw = super::raw_index::run(&generator, repositories, &config)?;
    let raw_docs_per_second = raw.docs_per_second();

    let docs_per_second = written as f64 / (indexed + merge_wait).as_secs_f64().max(f64::EPSILON);
    let bytes_per_artifact = bytes_merged as f64 / written.max(1) as f64;
    let measured = json!({
        "artifacts": written,
        "repositories": repositories,
        "upserts": repositories,
        "writer": {
            "memory_budget_mib": mebibytes(config.memory_budget_bytes as u64),
            "commit_every_docs": config.commit_every_docs,
            "commit_interval_s": seconds(config.commit_interval),
        },
        "indexing_s": seconds(indexed),
        "generation_s": seconds(generating),
        "merge_wait_s": seconds(merge_wait),
        "docs_per_second": round(docs_per_second),
        "bytes_on_disk_after_flush": bytes_flushed,
        "bytes_on_disk_after_merges": bytes_merged,
        "bytes_per_artifact": round(bytes_per_artifact),
        "bytes_per_artifact_after_flush": round(bytes_flushed as f64 / written.max(1) as f64),
        "segments_after_merges": count_files(directory.path(), "store")?,
        "space_per_artifact": space_breakdown(&space, written),
        "sampled_documents": composition,
        "raw_docs_per_second": round(raw_docs_per_second),
        "fraction_of_raw": round(docs_per_second / raw_docs_per_second.max(f64::EPSILON)),
        "raw": {
            "artifacts": raw.artifacts,
            "tantivy_documents": raw.documents,
            "indexing_s": seconds(raw.indexing),
            "building_s": seconds(raw.building),
            "merge_wait_s": seconds(raw.merge_wait),
            "commits": raw.commits,
            "bytes_per_artifact": round(raw.bytes_merged as f64 / raw.artifacts.max(1) as f64),
            "rss_anon_growth_mib": round(raw.rss_growth as f64 / f64::from(1u32 << 20)),
        },
    });
    let scenario = Scenario::new(
        "P4",
        "index artifacts",
        ">= 20k docs/s and >= 0.7x raw tantivy; <= 600 B per artifact on disk",
        measured,
        None,
        vec![
            Check::at_least("docs_per_second", docs_per_second, 20_000.0),
            Check::at_least("fraction_of_raw", docs_per_second / raw_docs_per_second.max(f64::EPSILON), 0.7),
            Check::at_most("bytes_per_artifact", bytes_per_artifact, 600.0),
        ],
    )
    .with_limit(Limit::new(
        "raw tantivy indexing of the same documents, same schema, mapping not timed",
        "docs_per_second",
        docs_per_second,
        raw_docs_per_second,
    ));
    Ok(BuiltIndex { scenario, directory, artifacts: written, rss_before, rss_peak, rss_after })
}

/// Repositories whose documents are measured for the composition figures (not timed).
const SAMPLED_REPOSITORIES: usize = 20;

/// What one stored document weighs before compression: the whole JSON body the catalog keeps,
/// and the config summary inside it (the raw manifest and config are not kept).
fn sample_composition(generator: &Generator, repositories: usize) -> serde_json::Value {
    let (mut documents, mut body_bytes, mut summary_bytes) = (0usize, 0usize, 0usize);
    for number in 0..repositories {
        for artifact in generator.repository(number).1 {
            documents += 1;
            body_bytes += serde_json::to_string(&artifact).map(|body| body.len()).unwrap_or_default();
            summary_bytes += artifact.config_summary.as_ref().map_or(0, String::len);
        }
    }
    let average = |bytes: usize| round(bytes as f64 / documents.max(1) as f64);
    json!({
        "documents": documents,
        "body_json_bytes_avg": average(body_bytes),
        "config_summary_bytes_avg": average(summary_bytes),
    })
}

/// Bytes per artifact of each part of the merged index (`store`, `termdict/key`, …), largest
/// first, with each part's share of the whole.
fn space_breakdown(parts: &BTreeMap<String, u64>, artifacts: u64) -> serde_json::Value {
    let total: u64 = parts.values().sum();
    let mut sorted: Vec<(&String, &u64)> = parts.iter().collect();
    sorted.sort_by(|left, right| right.1.cmp(left.1).then_with(|| left.0.cmp(right.0)));
    let rows: Vec<serde_json::Value> = sorted
        .into_iter()
        .map(|(part, bytes)| {
            json!({
                "part": part,
                "bytes_per_artifact": round(*bytes as f64 / artifacts.max(1) as f64),
                "share": round(*bytes as f64 / total.max(1) as f64),
            })
        })
        .collect();
    serde_json::Value::Array(rows)
}

/// Files under `path` (recursively) whose name ends in `.{extension}`.
fn count_files(path: &Path, extension: &str) -> anyhow::Result<u64> {
    let mut count = 0;
    let entries = std::fs::read_dir(path).with_context(|| format!("failed to list {}", path.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to list {}", path.display()))?;
        let entry_path = entry.path();
        if entry_path.is_dir() {
            count += count_files(&entry_path, extension)?;
        } else if entry_path.extension().is_some_and(|found| found == extension) {
            count += 1;
        }
    }
    Ok(count)
}

/// Bytes of every file under `path`.
pub(crate) fn directory_bytes(path: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    let entries = std::fs::read_dir(path).with_context(|| format!("failed to list {}", path.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("failed to list {}", path.display()))?;
        let metadata = entry.metadata().with_context(|| format!("failed to stat {}", entry.path().display()))?;
        total += if metadata.is_dir() { directory_bytes(&entry.path())? } else { metadata.len() };
    }
    Ok(total)
}
