//! P10: a 100 MiB blob through ocicat's content proxy against the same blob straight from the
//! registry, alternating in the same run, and the server's memory while it streams (the proxy
//! verifies on the fly and must never hold the blob).
//!
//! The proxy runs on a runtime of its own (as `ocicat serve` would, one worker per core), whose
//! threads are named [`PROXY_THREADS`], so that its own CPU time per byte is measured apart from
//! the client's and the registry's and held against the limit of a verifying copy of the same
//! bytes measured in the same run ([`super::proxy_limit`]).

use std::net::SocketAddr;
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
use super::proxy_limit::{CopyCosts, own_threads_cpu, process_cpu};
use super::report::{Check, Limit, Scenario, round};
use super::served::pages_only;

const REGISTRY: &str = "bench";
const REPOSITORY: &str = "bench/big-blob";
/// Downloads timed each way (alternating, so both see the same machine).
const ROUNDS: usize = 5;
/// The name of the proxy runtime's threads.
const PROXY_THREADS: &str = "p10-proxy";
/// Rounds of each copy of the limit (the cheapest counts).
const LIMIT_ROUNDS: usize = 3;
/// The target: the proxy's CPU per byte against the verifying-copy limit.
const AT_MOST_TIMES_THE_LIMIT: f64 = 1.5;

/// Pushes an image with one `mebibytes` MiB layer, crawls it and times both downloads.
pub(crate) async fn run(mebibytes_of_blob: usize) -> anyhow::Result<Scenario> {
    let registry =
        Distribution::start(DistributionOptions::anonymous()).await.context("failed to start distribution")?;
    let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
    let client =
        Client::new(ClientConfig::new(url.clone(), Credentials::Anonymous)).context("failed to build a client")?;
    let blob = super::copy::noise(mebibytes_of_blob << 20, 0);
    let (manifest, layer) = push_image(&client, blob.clone()).await?;

    let directory = tempfile::Builder::new().prefix("ocicat-bench-proxy-").tempdir().context("tempdir")?;
    let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).context("catalog")?;
    let board = StatusBoard::default();
    let source = RegistrySource::new(REGISTRY, client.clone());
    board.register(REGISTRY, client.base_url().as_str());
    crawl_registry(&source, &catalog, &writer, &board, 1).await.map_err(anyhow::Error::msg)?;
    writer.flush().await.context("failed to commit the crawl")?;
    let mut state = pages_only(catalog, board);
    // A client of its own: its connections are made (and read) on the proxy's runtime.
    let upstream =
        Client::new(ClientConfig::new(url, Credentials::Anonymous)).context("failed to build the proxy's client")?;
    state.service = state.service.with_content(ocicat_content::Content::new([(REGISTRY.to_owned(), upstream)]));
    let served = Isolated::start(ocicat::router::build_router(state))?;

    let http = reqwest::Client::new();
    let direct_url = format!("{}/v2/{REPOSITORY}/blobs/{layer}", registry.url());
    let proxy_url = served.url(&format!("/content/{REGISTRY}/{REPOSITORY}/@{manifest}/blobs/{layer}"));
    let expected = (mebibytes_of_blob as u64) << 20;
    // One warm-up each, then alternate.
    download(&http, &direct_url, expected).await?;
    download(&http, &proxy_url, expected).await?;
    let limit_blob = blob.clone();
    let copies = tokio::task::spawn_blocking(move || super::proxy_limit::measure(&limit_blob, LIMIT_ROUNDS))
        .await
        .context("the limit's task failed")??;
    drop(blob);
    let (mut direct, mut proxied) = (Vec::new(), Vec::new());
    let (mut direct_cpu, mut proxied_cpu) = (Cpu::default(), Cpu::default());
    let rss_before = anonymous_rss()?;
    let sampler = PeakSampler::start()?;
    for _ in 0..ROUNDS {
        let before = Cpu::now(registry.pid())?;
        direct.push(download(&http, &direct_url, expected).await?);
        let between = Cpu::now(registry.pid())?;
        proxied.push(download(&http, &proxy_url, expected).await?);
        let after = Cpu::now(registry.pid())?;
        direct_cpu.add(before, between);
        proxied_cpu.add(between, after);
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
    let bytes = expected as f64 * ROUNDS as f64;
    let per_byte = |used: Duration| used.as_nanos() as f64 / bytes;
    let proxy_ns_per_byte = per_byte(proxied_cpu.proxy);
    let direct_total = per_byte(direct_cpu.total());
    let proxied_total = per_byte(proxied_cpu.total());
    let CopyCosts { sha256sum, cat, same_hash_copy } = copies;
    let to_limit = proxy_ns_per_byte / same_hash_copy.max(f64::EPSILON);
    let measured = json!({
        "blob_mib": mebibytes_of_blob,
        "rounds": ROUNDS,
        "direct_mib_per_s_median": round(direct_rate),
        "proxy_mib_per_s_median": round(proxy_rate),
        "throughput_ratio": round(ratio),
        "rss_anon_before_mib": mebibytes(rss_before),
        "rss_anon_peak_mib": mebibytes(rss_peak),
        "rss_growth_mib": growth,
        "proxy_cpu_ns_per_byte": round(proxy_ns_per_byte),
        "proxy_cpu_ms_per_mib": round(proxy_ns_per_byte * 1_048_576.0 / 1e6),
        "limit_same_hash_copy_ns_per_byte": round(same_hash_copy),
        "limit_sha256sum_ns_per_byte": round(sha256sum),
        "limit_cat_ns_per_byte": round(cat),
        "limit_tools_ns_per_byte": round(copies.tools()),
        "proxy_to_limit": round(to_limit),
        "proxy_to_tools_limit": round(proxy_ns_per_byte / copies.tools().max(f64::EPSILON)),
        "cpu_ns_per_byte_direct": {
            "registry": round(per_byte(direct_cpu.registry)),
            "client": round(per_byte(direct_cpu.client)),
        },
        "cpu_ns_per_byte_proxied": {
            "registry": round(per_byte(proxied_cpu.registry)),
            "proxy": round(proxy_ns_per_byte),
            "client": round(per_byte(proxied_cpu.client)),
        },
        "cpu_bound_throughput_ratio": round(direct_total / proxied_total.max(f64::EPSILON)),
        "cpu_bound_throughput_ratio_at_limit":
            round(direct_total / (proxied_total - proxy_ns_per_byte + same_hash_copy).max(f64::EPSILON)),
        "note": "client, proxy and registry share the machine; the client reads and drops each chunk. \
                 CPU figures are user + system time from the scheduler, per byte downloaded: the \
                 registry's process, the proxy's runtime threads and the rest of the bench process (the \
                 client); cpu_bound_throughput_ratio is direct CPU / proxied CPU, the throughput ratio \
                 of a machine whose cores all parties keep busy (as these 2 are), and _at_limit the same \
                 with a proxy that cost exactly the verifying-copy limit; the limits over the same bytes \
                 in a file (page cache): read + sha2 (SHA-NI) + write into a pipe in one thread, and \
                 `sha256sum` + `cat` into a pipe \
                 (coreutils' portable SHA-256: a looser limit), the cheapest of their rounds",
    });
    Ok(Scenario::new(
        "P10",
        "proxy a 100 MiB blob",
        "throughput >= 0.8x a direct download in the same run; RSS growth <= 16 MiB; \
         the proxy's CPU per byte <= 1.5x a verifying copy's (issue 23)",
        measured,
        Some(ratio),
        vec![
            Check::at_least("throughput_ratio", ratio, 0.8),
            Check::at_most("rss_growth_mib", growth, 16.0),
            Check::at_most("proxy_to_limit", to_limit, AT_MOST_TIMES_THE_LIMIT),
        ],
    )
    .with_limit(Limit::new(
        "a verifying copy in one thread: read, sha2 (SHA-NI) and write into a pipe",
        "cpu_ns_per_byte",
        proxy_ns_per_byte,
        same_hash_copy,
    ))
    .with_limit(Limit::new(
        "sha256sum plus cat into a pipe (coreutils)",
        "cpu_ns_per_byte",
        proxy_ns_per_byte,
        copies.tools(),
    )))
}

/// CPU time used by each party (user + system).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    registry: Duration,
    proxy: Duration,
    client: Duration,
}

impl Cpu {
    /// Each party's CPU time so far, read once the threads are idle (their figures exact then).
    fn now(registry: u32) -> anyhow::Result<Cpu> {
        std::thread::sleep(Duration::from_millis(20));
        let (proxy, client) = own_threads_cpu(PROXY_THREADS)?;
        Ok(Cpu { registry: process_cpu(registry)?, proxy, client })
    }

    /// Adds what each party used from `before` to `after`.
    fn add(&mut self, before: Cpu, after: Cpu) {
        self.registry += after.registry.saturating_sub(before.registry);
        self.proxy += after.proxy.saturating_sub(before.proxy);
        self.client += after.client.saturating_sub(before.client);
    }

    fn total(&self) -> Duration {
        self.registry + self.proxy + self.client
    }
}

/// The router on a runtime of its own (one worker per core, as `ocicat serve`), its threads
/// named [`PROXY_THREADS`]; stopped when dropped.
struct Isolated {
    address: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Isolated {
    fn start(router: axum::Router) -> anyhow::Result<Isolated> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name(PROXY_THREADS)
            // Blocking threads (the proxy hashes large chunks on them) must outlive the rounds:
            // an ended thread's CPU time leaves the sum.
            .thread_keep_alive(Duration::from_secs(600))
            .enable_all()
            .build()
            .context("failed to build the proxy's runtime")?;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").context("failed to bind the proxy's listener")?;
        listener.set_nonblocking(true).context("failed to make the proxy's listener non-blocking")?;
        let address = listener.local_addr().context("failed to read the proxy's address")?;
        runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener)?;
            axum::serve(listener, router).await
        });
        Ok(Isolated { address, runtime: Some(runtime) })
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Isolated {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// An image whose one layer is `blob`; returns (manifest, layer) digests.
async fn push_image(client: &Client, blob: Bytes) -> anyhow::Result<(Digest, Digest)> {
    let size = blob.len();
    let layer = client.push_blob(REPOSITORY, blob).await.context("failed to push the big layer")?;
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
