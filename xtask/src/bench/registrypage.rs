//! P3b: the registry page of a registry with 100k repositories, served from the index: the
//! issue's "fast at 100k repositories", read as the same bound P6 sets for pages (p99 <= 50 ms),
//! for every sort, a filter, and a page deep into the list.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use ocicat::events::Events;
use ocicat::state::AppState;
use ocicat_catalog::{RepositoryDoc, WriterConfig};
use ocicat_crawler::{Crawler, StatusBoard};
use serde_json::json;

use super::report::{Check, Latencies, Scenario, round, seconds};

/// The registry holding every repository.
const REGISTRY: &str = "big";
/// Loads of each page variant (after one warm-up load).
const SAMPLES: usize = 30;
/// The page variants timed: every sort, a filter, and page 1,000 (repositories 50,000–50,049).
const VARIANTS: [(&str, &str); 5] = [
    ("by_name", "?sort=name"),
    ("by_last_push", "?sort=pushed"),
    ("by_tag_count", "?sort=tags"),
    ("filtered", "?q=gateway-0"),
    ("page_1000", "?sort=name&page=1000"),
];

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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("failed to bind")?;
    let address = listener.local_addr().context("listener address")?;
    let state = AppState {
        leptos_options: ocicat::state::leptos_options("target/site"),
        ui: app::ssr::UiState { catalog: catalog.clone(), board },
        crawler: Arc::new(Crawler::default()),
        events: Events::default(),
    };
    let server = tokio::spawn(async move { axum::serve(listener, ocicat::router::build_router(state)).await });
    let measured = measure(&format!("http://{address}/r/{REGISTRY}")).await;
    server.abort();
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
        "every sort, a filter and a deep page: p99 <= 50 ms (P6's page bound), one client",
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
    }
}

/// Times every variant; returns their latencies, the worst p99 and the largest page.
async fn measure(base: &str) -> anyhow::Result<(serde_json::Value, f64, usize)> {
    let http = reqwest::Client::new();
    let mut variants = serde_json::Map::new();
    let (mut worst, mut largest) = (0.0f64, 0usize);
    for (name, query) in VARIANTS {
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
        variants.insert(name.to_owned(), serde_json::to_value(latencies)?);
    }
    Ok((serde_json::Value::Object(variants), worst, largest))
}
