//! P3: the tag page of a repository with 10k tags, served by ocicat from its index, against the
//! live-browse baseline on the same registry in the same run: what UIs that read the registry on
//! every view do to show a tag table with digests (tags/list, then one HEAD per tag).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use bytes::Bytes;
use futures::{StreamExt as _, TryStreamExt as _};
use ocicat_catalog::WriterConfig;
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, media_types};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;

use super::report::{Check, Latencies, Scenario, round, seconds};
use super::served::{Served, pages_only};

/// The registry name pages use.
const REGISTRY: &str = "bench";
/// The repository holding every tag.
const REPOSITORY: &str = "bench/many-tags";
/// Requests in flight while tagging and in the baseline's HEADs (a browser's per-host limit is 6).
const IN_FLIGHT: usize = 8;
/// Page loads timed on each side.
const OCICAT_SAMPLES: usize = 40;
const BASELINE_SAMPLES: usize = 3;

/// Pushes one image under `tags` tags, crawls it, and times both ways of showing its tag page.
pub(crate) async fn run(tags: usize) -> anyhow::Result<Scenario> {
    let registry =
        Distribution::start(DistributionOptions::anonymous()).await.context("failed to start distribution")?;
    let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
    let client = Client::new(ClientConfig::new(url, Credentials::Anonymous)).context("failed to build a client")?;
    let tagging = Instant::now();
    push_tags(&client, tags).await?;
    let tagging = tagging.elapsed();

    let directory = tempfile::Builder::new().prefix("ocicat-bench-tags-").tempdir().context("tempdir")?;
    let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).context("catalog")?;
    let board = StatusBoard::default();
    let source = RegistrySource::new(REGISTRY, client.clone());
    board.register(REGISTRY, client.base_url().as_str());
    crawl_registry(&source, &catalog, &writer, &board, 4).await.map_err(anyhow::Error::msg)?;
    writer.flush().await.context("failed to commit the crawl")?;

    let served = Served::start(ocicat::router::build_router(pages_only(catalog.clone(), board))).await?;
    let outcome = measure(&client, &served.url(&format!("/r/{REGISTRY}/{REPOSITORY}")), tags).await;
    drop(served);
    writer.close().await.context("failed to close the catalog")?;
    let (ocicat_samples, baseline_samples, html_bytes, in_flight_used) = outcome?;
    let ours = Latencies::of(&ocicat_samples);
    let baseline = Latencies::of(&baseline_samples);
    let ratio = baseline.p50_ms / ours.p50_ms.max(f64::EPSILON);
    let measured = json!({
        "tags": tags,
        "tagging_s": seconds(tagging),
        "ocicat_page": ours,
        "ocicat_page_html_bytes": html_bytes,
        "live_browse_baseline": baseline,
        "baseline_is": format!("tags/list, then a HEAD per tag from a bare client, {IN_FLIGHT} in flight"),
        "baseline_in_flight_most": in_flight_used,
        "p50_ratio": round(ratio),
    });
    Ok(Scenario::new(
        "P3",
        "tag page, 10k tags",
        "ocicat page p50 >= 100x faster than live browse (tags/list + HEAD per tag)",
        measured,
        Some(ratio),
        vec![
            Check::at_least("p50_ratio", ratio, 100.0),
            // The baseline must run at the concurrency its label states.
            Check::at_least("baseline_in_flight_most", in_flight_used as f64, IN_FLIGHT as f64),
        ],
    ))
}

/// One small image, tagged `tags` times (`1.0.<n>`).
async fn push_tags(client: &Client, tags: usize) -> anyhow::Result<()> {
    let config =
        Bytes::from_static(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#);
    let config_digest = client.push_blob(REPOSITORY, config.clone()).await.context("failed to push the config")?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
        "layers": [],
    });
    let raw = Bytes::from(serde_json::to_vec(&manifest)?);
    futures::stream::iter(0..tags)
        .map(|number| {
            let raw = raw.clone();
            async move {
                client
                    .push_manifest(
                        REPOSITORY,
                        &format!("1.0.{number}"),
                        "application/vnd.oci.image.manifest.v1+json",
                        raw,
                    )
                    .await
                    .with_context(|| format!("failed to push tag 1.0.{number}"))
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .try_collect::<Vec<_>>()
        .await?;
    Ok(())
}

/// Times `OCICAT_SAMPLES` loads of the page and `BASELINE_SAMPLES` live walks.
async fn measure(
    client: &Client,
    page: &str,
    tags: usize,
) -> anyhow::Result<(Vec<Duration>, Vec<Duration>, usize, usize)> {
    let http = reqwest::Client::new();
    let mut html_bytes = 0;
    let mut ours = Vec::with_capacity(OCICAT_SAMPLES);
    for round in 0..=OCICAT_SAMPLES {
        let started = Instant::now();
        let response = http.get(page).send().await.context("failed to load the tag page")?;
        if !response.status().is_success() {
            bail!("the tag page answered {}", response.status());
        }
        let body = response.text().await.context("failed to read the tag page")?;
        // The first load warms caches and is not counted.
        if round > 0 {
            ours.push(started.elapsed());
        }
        html_bytes = body.len();
        if !body.contains("1.0.") {
            bail!("the tag page lists no tag");
        }
    }
    // The baseline is a bare client, as a browser-side UI is: ocicat's own client limits how
    // many requests it sends to one registry, which would hold the baseline below IN_FLIGHT.
    let bare = reqwest::Client::new();
    let in_flight = InFlight::default();
    let mut baseline = Vec::with_capacity(BASELINE_SAMPLES);
    for _ in 0..BASELINE_SAMPLES {
        let started = Instant::now();
        let listed = client.tags(REPOSITORY).await.context("failed to list tags")?;
        if listed.items.len() != tags {
            bail!("the registry lists {} tags, expected {tags}", listed.items.len());
        }
        let base = client.base_url().clone();
        futures::stream::iter(listed.items)
            .map(|tag| {
                let (bare, base, in_flight) = (&bare, &base, &in_flight);
                async move {
                    let url = base.join(&format!("/v2/{REPOSITORY}/manifests/{tag}"))?;
                    let _counted = in_flight.enter();
                    let response =
                        bare.head(url.clone()).header(reqwest::header::ACCEPT, media_types::ACCEPT).send().await?;
                    anyhow::ensure!(response.status().is_success(), "HEAD {url} answered {}", response.status());
                    anyhow::Ok(())
                }
            })
            .buffer_unordered(IN_FLIGHT)
            .try_collect::<Vec<_>>()
            .await
            .context("a live-browse HEAD failed")?;
        baseline.push(started.elapsed());
    }
    Ok((ours, baseline, html_bytes, in_flight.most()))
}

/// Counts requests in flight and remembers the most seen at once.
#[derive(Debug, Default)]
struct InFlight {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl InFlight {
    fn enter(&self) -> Entered<'_> {
        let now = self.now.fetch_add(1, Ordering::Relaxed) + 1;
        self.most.fetch_max(now, Ordering::Relaxed);
        Entered(self)
    }

    fn most(&self) -> usize {
        self.most.load(Ordering::Relaxed)
    }
}

/// One request in flight; leaves the count when dropped.
struct Entered<'a>(&'a InFlight);

impl Drop for Entered<'_> {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::Relaxed);
    }
}
