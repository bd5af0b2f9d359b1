//! P8: push → searchable through registry notifications. A real distribution 2.8.2 posts its
//! events to the real ocicat router (in process, as `server/tests/events.rs` wires it); each
//! push of a new manifest (never indexed: its own annotation) under a new tag is timed until the
//! catalog shows it under that tag.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ocicat::events::Events;
use ocicat_catalog::{Catalog, WriterConfig};
use ocicat_crawler::{CrawlSettings, Crawler, RegistrySource, StatusBoard};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::report::{Check, Latencies, Scenario, round};
use super::served::with_crawler;

/// The registry name events are posted for.
const REGISTRY: &str = "bench";
/// How often the catalog is polled for the pushed tag.
const POLL_EVERY: Duration = Duration::from_millis(10);
/// How long one push may take to become visible before it counts as lost.
const VISIBLE_WITHIN: Duration = Duration::from_secs(20);
/// How long the setup (first crawl, seeded repository) may take.
const SETUP_WITHIN: Duration = Duration::from_secs(60);

/// Polls `condition` every [`POLL_EVERY`] until it holds or `limit` passes; returns when it held.
async fn wait_for(limit: Duration, mut condition: impl FnMut() -> bool) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if condition() {
            return Some(started.elapsed());
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
    condition().then(|| started.elapsed())
}

/// True when the catalog holds `digest` in `repository`, carrying `tag` when one is given.
fn has_tag(catalog: &Catalog, repository: &str, digest: &str, tag: Option<&str>) -> bool {
    let found = catalog.artifact(REGISTRY, repository, digest).ok().flatten();
    found.is_some_and(|artifact| tag.is_none_or(|tag| artifact.tags.iter().any(|known| known == tag)))
}

/// Pushes one manifest `pushes` times under new tags and times each until it is in the catalog.
pub(crate) async fn run(pushes: usize) -> anyhow::Result<Scenario> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("failed to bind the ocicat listener")?;
    let address = listener.local_addr().context("failed to read the ocicat listener address")?;
    let secret =
        format!("bench-events-{:032x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
    let options = DistributionOptions::anonymous()
        .with_notifications(format!("http://{address}/events/{REGISTRY}"), secret.clone());
    let registry = Distribution::start(options).await.context("failed to start distribution with notifications")?;
    let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
    let client = Client::new(ClientConfig::new(url.clone(), Credentials::Anonymous))
        .context("failed to build a registry client")?;
    let directory =
        tempfile::Builder::new().prefix("ocicat-bench-events-").tempdir().context("failed to create events tempdir")?;
    let (catalog, writer) =
        ocicat_catalog::open(directory.path(), WriterConfig::default()).context("failed to open the events catalog")?;
    let board = StatusBoard::default();
    let shutdown = CancellationToken::new();
    // One full crawl at start; every later change must arrive through a notification.
    let settings = CrawlSettings { interval: Duration::from_secs(3600), ..CrawlSettings::default() };
    let source = RegistrySource::new(REGISTRY, client.clone());
    let crawler =
        Crawler::start(vec![source], catalog.clone(), writer.clone(), board.clone(), settings, shutdown.clone());
    let events = Events::new(HashMap::from([(REGISTRY.to_owned(), secret)]));
    let state = with_crawler(catalog.clone(), board.clone(), crawler, events, "target/site");
    let server = tokio::spawn(async move { axum::serve(listener, ocicat::router::build_router(state)).await });
    let outcome = measure(&registry, &client, &catalog, &board, pushes).await;
    shutdown.cancel();
    server.abort();
    if let Err(error) = writer.close().await {
        tracing::warn!(%error, "failed to close the events catalog");
    }
    let visible_after = outcome?;
    let lost = visible_after.iter().filter(|sample| sample.is_none()).count();
    // A push never seen counts as the whole wait: the percentiles must not forget it.
    let samples: Vec<Duration> = visible_after.iter().map(|sample| sample.unwrap_or(VISIBLE_WITHIN)).collect();
    let latencies = Latencies::of(&samples);
    let measured = json!({
        "pushes": pushes,
        "visible": pushes - lost,
        "lost": lost,
        "latency": latencies,
        "lost_counted_as_ms": VISIBLE_WITHIN.as_millis() as u64,
        "samples_ms": visible_after
            .iter()
            .map(|sample| sample.map(|visible| round(visible.as_secs_f64() * 1000.0)))
            .collect::<Vec<_>>(),
        "poll_every_ms": POLL_EVERY.as_millis() as u64,
        "measured_from": "before the PUT of a new manifest until the catalog lists it under its new tag",
        "full_crawls": board.get(REGISTRY).map(|status| status.crawls_completed).unwrap_or_default(),
    });
    Ok(Scenario::new(
        "P8",
        "webhook to searchable",
        "p95 <= 2 s from push to searchable",
        measured,
        None,
        vec![Check::at_most("p95_ms", latencies.p95_ms, 2000.0), Check::at_most("lost_pushes", lost as f64, 0.0)],
    ))
}

/// `manifest` with one more annotation (`org.ocicat.bench.push`), so its digest is new.
fn with_annotation(manifest: &serde_json::Value, value: &str) -> serde_json::Value {
    let mut manifest = manifest.clone();
    if let Some(object) = manifest.as_object_mut() {
        let annotations = object.entry("annotations").or_insert_with(|| json!({}));
        if let Some(annotations) = annotations.as_object_mut() {
            annotations.insert("org.ocicat.bench.push".to_owned(), json!(value));
        }
    }
    manifest
}

/// Seeds one repository, waits until it arrived, then times `pushes` tag pushes one after the
/// other. Returns, per push, how long it took to become visible (`None`: it never did).
async fn measure(
    registry: &Distribution,
    client: &Client,
    catalog: &Catalog,
    board: &StatusBoard,
    pushes: usize,
) -> anyhow::Result<Vec<Option<Duration>>> {
    let crawled =
        wait_for(SETUP_WITHIN, || board.get(REGISTRY).is_some_and(|status| status.crawls_completed >= 1)).await;
    crawled.context("the first crawl of the events registry did not finish")?;
    let target = Target::anonymous(client.base_url().clone());
    let report = ocicat_seed::seed(&target, Size::Bench { repositories: 1 })
        .await
        .context("failed to seed the events registry")?;
    let Some(image) = report.items.iter().find(|item| item.reference.is_some()) else {
        bail!("the seeder pushed no tagged manifest");
    };
    let (repository, digest) = (image.repository.as_str(), image.digest.as_str());
    if wait_for(SETUP_WITHIN, || has_tag(catalog, repository, digest, None)).await.is_none() {
        bail!("the seeded repository never arrived through notifications; registry log:\n{}", registry.log_tail(20));
    }
    let manifest = client
        .get_manifest(repository, digest)
        .await
        .with_context(|| format!("failed to fetch {repository}@{digest}"))?;
    let body: serde_json::Value =
        serde_json::from_slice(&manifest.raw).with_context(|| format!("{repository}@{digest} is not JSON"))?;
    let mut visible_after = Vec::with_capacity(pushes);
    for number in 0..pushes {
        // Each push is a manifest the catalog has never seen (its own annotation), so the
        // notification costs a fetch and an index write, not only a tag move.
        let tag = format!("bench-push-{number:03}");
        let raw = bytes::Bytes::from(serde_json::to_vec(&with_annotation(&body, &tag))?);
        let started = Instant::now();
        let pushed = client
            .push_manifest(repository, &tag, &manifest.media_type, raw)
            .await
            .with_context(|| format!("failed to push {repository}:{tag}"))?;
        let pushed = pushed.to_string();
        let remaining = VISIBLE_WITHIN.saturating_sub(started.elapsed());
        match wait_for(remaining, || has_tag(catalog, repository, &pushed, Some(&tag))).await {
            Some(_) => visible_after.push(Some(started.elapsed())),
            None => {
                tracing::warn!(repo.name = %repository, tag = %tag, "pushed manifest never became visible");
                visible_after.push(None);
            }
        }
    }
    Ok(visible_after)
}
