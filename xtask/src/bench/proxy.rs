//! P10: a 100 MiB blob through ocicat's content proxy against the same blob straight from the
//! registry, alternating in the same run, and the server's memory while it streams (the proxy
//! verifies on the fly and must never hold the blob).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use futures::StreamExt as _;
use ocicat_catalog::WriterConfig;
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, Digest};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;

use super::memory::{PeakSampler, anonymous_rss, mebibytes};
use super::report::{Check, Scenario, round};
use super::served::{Served, pages_only};

const REGISTRY: &str = "bench";
const REPOSITORY: &str = "bench/big-blob";
/// Downloads timed each way (alternating, so both see the same machine).
const ROUNDS: usize = 5;

/// Pushes an image with one `mebibytes` MiB layer, crawls it and times both downloads.
pub(crate) async fn run(mebibytes_of_blob: usize) -> anyhow::Result<Scenario> {
    let registry =
        Distribution::start(DistributionOptions::anonymous()).await.context("failed to start distribution")?;
    let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
    let client = Client::new(ClientConfig::new(url, Credentials::Anonymous)).context("failed to build a client")?;
    let (manifest, layer) = push_image(&client, mebibytes_of_blob << 20).await?;

    let directory = tempfile::Builder::new().prefix("ocicat-bench-proxy-").tempdir().context("tempdir")?;
    let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).context("catalog")?;
    let board = StatusBoard::default();
    let source = RegistrySource::new(REGISTRY, client.clone());
    board.register(REGISTRY, client.base_url().as_str());
    crawl_registry(&source, &catalog, &writer, &board, 1).await.map_err(anyhow::Error::msg)?;
    writer.flush().await.context("failed to commit the crawl")?;
    let mut state = pages_only(catalog, board);
    state.service = state.service.with_content(ocicat_content::Content::new([(REGISTRY.to_owned(), client.clone())]));
    let served = Served::start(ocicat::router::build_router(state)).await?;

    let http = reqwest::Client::new();
    let direct_url = format!("{}/v2/{REPOSITORY}/blobs/{layer}", registry.url());
    let proxy_url = served.url(&format!("/content/{REGISTRY}/{REPOSITORY}/@{manifest}/blobs/{layer}"));
    let expected = (mebibytes_of_blob as u64) << 20;
    // One warm-up each, then alternate.
    download(&http, &direct_url, expected).await?;
    download(&http, &proxy_url, expected).await?;
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    let rss_before = anonymous_rss()?;
    let sampler = PeakSampler::start()?;
    for _ in 0..ROUNDS {
        direct.push(download(&http, &direct_url, expected).await?);
        proxied.push(download(&http, &proxy_url, expected).await?);
    }
    let rss_peak = sampler.stop();
    drop(served);
    let throughput = |samples: &[Duration]| {
        let mut rates: Vec<f64> =
            samples.iter().map(|time| mebibytes_of_blob as f64 / time.as_secs_f64().max(f64::EPSILON)).collect();
        rates.sort_by(f64::total_cmp);
        rates[rates.len() / 2]
    };
    let (direct_rate, proxy_rate) = (throughput(&direct), throughput(&proxied));
    let ratio = proxy_rate / direct_rate.max(f64::EPSILON);
    let growth = mebibytes(rss_peak.saturating_sub(rss_before));
    let measured = json!({
        "blob_mib": mebibytes_of_blob,
        "rounds": ROUNDS,
        "direct_mib_per_s_median": round(direct_rate),
        "proxy_mib_per_s_median": round(proxy_rate),
        "throughput_ratio": round(ratio),
        "rss_anon_before_mib": mebibytes(rss_before),
        "rss_anon_peak_mib": mebibytes(rss_peak),
        "rss_growth_mib": growth,
        "note": "client, proxy and registry share the machine; the client reads and drops each chunk",
    });
    Ok(Scenario::new(
        "P10",
        "proxy a 100 MiB blob",
        "throughput >= 0.8x a direct download in the same run; RSS growth <= 16 MiB",
        measured,
        Some(ratio),
        vec![Check::at_least("throughput_ratio", ratio, 0.8), Check::at_most("rss_growth_mib", growth, 16.0)],
    ))
}

/// An image whose one layer is `size` pseudo-random bytes; returns (manifest, layer) digests.
async fn push_image(client: &Client, size: usize) -> anyhow::Result<(Digest, Digest)> {
    let layer =
        client.push_blob(REPOSITORY, super::copy::noise(size, 0)).await.context("failed to push the big layer")?;
    let config =
        Bytes::from_static(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#);
    let config_size = config.len();
    let config_digest = client.push_blob(REPOSITORY, config).await.context("failed to push the config")?;
    let media_type = "application/vnd.oci.image.manifest.v1+json";
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": media_type,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config_size},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.to_string(), "size": size}],
    });
    let raw = Bytes::from(serde_json::to_vec(&manifest).context("manifest serializes")?);
    let digest =
        client.push_manifest(REPOSITORY, "big", media_type, raw).await.context("failed to push the manifest")?;
    Ok((digest, layer))
}

/// Streams `url` to the end, dropping each chunk; fails unless exactly `expected` bytes came.
async fn download(http: &reqwest::Client, url: &str, expected: u64) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let response = http.get(url).send().await.with_context(|| format!("GET {url}"))?;
    anyhow::ensure!(response.status().is_success(), "GET {url}: {}", response.status());
    let mut stream = response.bytes_stream();
    let mut read = 0u64;
    while let Some(chunk) = stream.next().await {
        read += chunk.with_context(|| format!("GET {url}: body"))?.len() as u64;
    }
    anyhow::ensure!(read == expected, "GET {url}: {read} bytes, expected {expected}");
    Ok(started.elapsed())
}
