//! `xtask bench`: the PERFORMANCE.md scenarios this project can measure on one machine (P1, P2,
//! P4, P5, P8, P9), each with its same-run reference where the document asks for one, written
//! as a JSON summary and printed as a table. Benchmarks check speed; tests check correctness.
//!
//! The index scenarios run first, in a fresh process, so that the memory figures (P9) describe
//! the catalog and not what the crawl scenarios left on the heap.

mod bound;
mod census;
mod crawl;
mod index;
mod memory;
mod report;
mod search;
mod synthetic;
mod webhook;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;

use self::memory::MemoryFigures;
use self::report::{Skipped, Summary, seconds};

/// Repositories crawled at once, as the server's default crawl settings.
const CRAWL_CONCURRENCY: usize = 4;

/// How much data each scenario uses.
#[derive(Debug, Clone, Copy)]
struct Scale {
    /// `full` or `quick`.
    mode: &'static str,
    /// Bench repositories seeded for P1/P2 (each fourth has two versions: 1.25 manifests each).
    crawl_repositories: usize,
    /// Synthetic artifacts indexed for P4/P5/P9.
    artifacts: usize,
    /// Rounds of every query per search client.
    search_rounds: usize,
    /// Tag pushes timed for P8.
    pushes: usize,
}

impl Scale {
    fn new(quick: bool) -> Scale {
        if quick {
            Scale { mode: "quick", crawl_repositories: 800, artifacts: 100_000, search_rounds: 10, pushes: 20 }
        } else {
            Scale { mode: "full", crawl_repositories: 8_000, artifacts: 1_000_000, search_rounds: 40, pushes: 20 }
        }
    }
}

/// Runs every scenario, writes the summary to `out` and prints the table.
pub(crate) async fn run(quick: bool, out: PathBuf) -> anyhow::Result<()> {
    let scale = Scale::new(quick);
    let started = Instant::now();
    let started_at = Utc::now();
    let load_at_start = report::load_average();
    let mut scenarios = Vec::new();

    tracing::info!(artifacts = scale.artifacts, "P4: indexing synthetic artifacts");
    let built = index::run(scale.artifacts, started_at).await?;
    tracing::info!(clients = search::CLIENTS, "P5: searching");
    let directory = built.directory.path().to_owned();
    let rounds = scale.search_rounds;
    let searched = tokio::task::spawn_blocking(move || search::run(&directory, rounds, started_at))
        .await
        .context("search scenario panicked")??;
    if searched.searchable != built.artifacts {
        tracing::warn!(
            indexed = built.artifacts,
            searchable = searched.searchable,
            "not every indexed artifact is searchable"
        );
    }
    let figures = MemoryFigures {
        artifacts: searched.searchable,
        before_index: built.rss_before,
        peak_while_indexing: built.rss_peak,
        after_index: built.rss_after,
        after_search: searched.rss_after,
    };
    scenarios.push(built.scenario);
    scenarios.push(searched.scenario);
    scenarios.push(memory::scenario(figures)?);
    drop(built.directory);

    tracing::info!(repositories = scale.crawl_repositories, "P1/P2: seeding and crawling");
    scenarios.extend(crawl::run(scale.crawl_repositories, CRAWL_CONCURRENCY).await?);
    tracing::info!(pushes = scale.pushes, "P8: push to searchable");
    scenarios.push(webhook::run(scale.pushes).await?);

    let pass = scenarios.iter().all(|scenario| scenario.pass);
    let summary = Summary {
        mode: scale.mode,
        started: started_at.to_rfc3339(),
        cpus: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        load_average: [load_at_start, report::load_average()],
        duration_s: seconds(started.elapsed()),
        scenarios,
        skipped: skipped(),
        pass,
    };
    summary.write(&out)?;
    println!("{}\n\nsummary written to {}", summary.table(), out.display());
    Ok(())
}

/// The PERFORMANCE.md scenarios this command leaves to other tools, and why.
fn skipped() -> Vec<Skipped> {
    let skip = |id, reason: &str| Skipped { id, reason: reason.to_owned() };
    vec![
        skip(
            "P3",
            "tag page vs live-browse baseline: needs a 10k-tag repository and the page server; not measured yet",
        ),
        skip("P6", "pages under load: needs an HTTP load generator against the served pages; not measured yet"),
        skip("P7", "P6 while P1 runs: depends on P6"),
        skip("P10", "blob proxy throughput: the server has no blob proxy route yet"),
        skip("P11", "web vitals: belongs to the Chromium end-to-end suite"),
    ]
}
