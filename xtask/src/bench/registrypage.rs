//! P3b: the registry page of a registry with 100k repositories, served from the index: the
//! issue's "fast at 100k repositories", read as the same bound P6 sets for pages (p99 <= 50 ms),
//! for every sort, a filter, and a page deep into the list.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use ocicat_catalog::{RepositoryDoc, WriterConfig};
use ocicat_crawler::StatusBoard;
use serde_json::json;

use super::report::{Check, Latencies, Scenario, round, seconds};
use super::served::{Served, pages_only};

/// The registry holding every repository.
const REGISTRY: &str = "big";
/// Loads of each page variant (after one warm-up load).
const SAMPLES: usize = 30;
/// Repositories per registry page (the server's page size).
const PER_PAGE: usize = 50;

/// The page variants timed: every sort, a filter, and the middle page by name (page 1,000 of
/// 100k repositories), named after what they show.
fn variants(repositories: usize) -> Vec<(String, String)> {
    let middle = repositories / 2 / PER_PAGE;
    vec![
        ("by_name".into(), "?sort=name".into()),
        ("by_last_push".into(), "?sort=pushed".into()),
        ("by_tag_count".into(), "?sort=tags".into()),
        ("filtered".into(), "?q=gateway-0".into()),
        (format!("page_{middle}"), format!("?sort=name&page={middle}")),
    ]
}

/// Indexes `repositories` repository summaries in one registry and times its page.
pub(crate) async fn run(repositories: usize, now: DateTime<Utc>) -> anyhow::Result<Scenario> {
    let directory = tempfile::Builder::new().prefix("ocicat-bench-registry-").tempdir().context("tempdir")?;
    let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).context("catalog")?;
    let indexing = Instant::now();
    for number in 0..repositories {
        writer.upsert_repository(summary(number, now), Vec::new(), Vec::new()).await.context("upsert")?;
    }
    writer.flush().await.context("failed to commit the repositories")?;
    let indexing = indexing.elapsed();

    let board = StatusBoard::default();
    board.register(REGISTRY, "https://big.example.invalid");
    let served = Served::start(ocicat::router::build_router(pages_only(catalog.clone(), board))).await?;
    let measured = measure(&served.url(&format!("/r/{REGISTRY}")), variants(repositories)).await;
    drop(served);
    writer.close().await.context("failed to close the catalog")?;
    let (variants, worst_p99, html_bytes) = measured?;
    let measured = json!({
        "repositories": repositories,
        "indexing_s": seconds(indexing),
        "pages": variants,
        "worst_p99_ms": round(worst_p99),
        "html_bytes_max": html_bytes,
    });
    Ok(Scenario::new(
        "P3b",
        "registry page, 100k repositories",
        "every sort, a filter and the middle page: p99 <= 50 ms (P6's page bound), one client",
        measured,
        None,
        vec![Check::at_most("worst_p99_ms", worst_p99, 50.0)],
    ))
}

/// A repository summary like the crawler writes: names spread over namespaces, tag counts and
/// last pushes varied so every sort has work to do.
fn summary(number: usize, now: DateTime<Utc>) -> RepositoryDoc {
    const NAMESPACES: [&str; 8] = ["platform", "payments", "search", "data", "ml", "web", "infra", "tools"];
    const SERVICES: [&str; 8] = ["api", "worker", "gateway", "frontend", "scheduler", "indexer", "proxy", "cache"];
    let spread = (number as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40;
    RepositoryDoc {
        registry: REGISTRY.into(),
        repository: format!(
            "{}/{}-{number:06}",
            NAMESPACES[number % NAMESPACES.len()],
            SERVICES[(number / 8) % SERVICES.len()]
        ),
        tag_count: spread % 400,
        artifact_count: spread % 900,
        size: spread * 1024,
        last_push: Some(now - chrono::Duration::minutes((spread % 1_000_000) as i64)),
        crawled_at: Some(now),
        incomplete: Vec::new(),
    }
}

/// Times every variant; returns their latencies, the worst p99 and the largest page.
async fn measure(base: &str, variants: Vec<(String, String)>) -> anyhow::Result<(serde_json::Value, f64, usize)> {
    let http = reqwest::Client::new();
    let mut shown = serde_json::Map::new();
    let (mut worst, mut largest) = (0.0f64, 0usize);
    for (name, query) in variants {
        let url = format!("{base}{query}");
        let mut samples: Vec<Duration> = Vec::with_capacity(SAMPLES);
        for round in 0..=SAMPLES {
            let started = Instant::now();
            let response = http.get(&url).send().await.with_context(|| format!("failed to load {url}"))?;
            if !response.status().is_success() {
                bail!("{url} answered {}", response.status());
            }
            let body = response.text().await.context("failed to read the registry page")?;
            if round > 0 {
                samples.push(started.elapsed());
            }
            if !body.contains("repo-link") {
                bail!("{url} lists no repository");
            }
            largest = largest.max(body.len());
        }
        let latencies = Latencies::of(&samples);
        worst = worst.max(latencies.p99_ms);
        shown.insert(name, serde_json::to_value(latencies)?);
    }
    Ok((serde_json::Value::Object(shown), worst, largest))
}
