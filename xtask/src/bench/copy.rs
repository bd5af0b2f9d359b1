//! P12: a multi-layer image copied between two local registries by ocicat's copy engine and by
//! `skopeo copy`, alternating in the same run (each copy to a fresh, empty registry, so neither
//! tool can skip or mount a blob it sent before), with the growth of this process's memory
//! while ocicat copies (blobs must stream);
//! and a graph of many referrers on one image copied whole to a registry without the referrers
//! API (every referrer written, one fallback index update).

use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use ocicat_catalog::{Catalog, Scope, WriterConfig};
use ocicat_copy::{CopyRequest, Endpoint};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, Digest};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;

use super::memory::{PeakSampler, anonymous_rss, mebibytes};
use super::report::{Check, Scenario, round};

const REPOSITORY: &str = "bench/app";
const LAYERS: usize = 8;
/// Copies timed each way (alternating).
const ROUNDS: usize = 3;

/// Copies an image of `mebibytes` MiB in 8 layers both ways, and an image with `referrers`
/// referrers.
pub(crate) async fn run(mebibytes_of_image: usize, referrers: usize) -> anyhow::Result<Scenario> {
    let source = Distribution::start(DistributionOptions::anonymous()).await.context("source registry")?;
    let destination = Distribution::start(DistributionOptions::anonymous()).await.context("destination registry")?;
    let from = client(&source.url())?;
    let to = client(&destination.url())?;
    let image = push_image(&from, mebibytes_of_image << 20).await?;
    let (subject, referrer_digests) = push_referrers(&from, referrers).await?;
    let catalog = crawled(&from).await?;

    // One warm-up each, then alternate; every copy goes to a registry of its own.
    let fresh = || async { Distribution::start(DistributionOptions::anonymous()).await.context("a fresh destination") };
    let warm = fresh().await?;
    copy_with_ocicat(&catalog, &from, &client(&warm.url())?, &image, "copy/app").await?;
    copy_with_skopeo(&source, &fresh().await?, "copy/app")?;
    let (mut ocicat_times, mut skopeo_times) = (Vec::new(), Vec::new());
    let rss_before = anonymous_rss()?;
    let sampler = PeakSampler::start()?;
    for _ in 0..ROUNDS {
        let target = fresh().await?;
        ocicat_times.push(copy_with_ocicat(&catalog, &from, &client(&target.url())?, &image, "copy/app").await?);
        skopeo_times.push(copy_with_skopeo(&source, &fresh().await?, "copy/app")?);
    }
    let rss_peak = sampler.stop();
    let median = |samples: &mut Vec<Duration>| {
        samples.sort();
        samples[samples.len() / 2]
    };
    let (ocicat_time, skopeo_time) = (median(&mut ocicat_times), median(&mut skopeo_times));
    let rate = |time: Duration| mebibytes_of_image as f64 / time.as_secs_f64().max(f64::EPSILON);
    let ratio = rate(ocicat_time) / rate(skopeo_time).max(f64::EPSILON);
    let growth = mebibytes(rss_peak.saturating_sub(rss_before));

    // The referrer graph, to the registry without the referrers API.
    let started = Instant::now();
    let graph = copy_graph(&catalog, &from, &to, &subject).await?;
    let graph_time = started.elapsed();
    let mut arrived = 0;
    for digest in &referrer_digests {
        arrived += usize::from(to.head_manifest("graph/copy", &digest.to_string()).await?.is_some());
    }
    let listed = to.referrers_fallback("graph/copy", &subject).await?.len();

    let measured = json!({
        "image_mib": mebibytes_of_image,
        "layers": LAYERS,
        "rounds": ROUNDS,
        "ocicat_seconds_median": round(ocicat_time.as_secs_f64()),
        "skopeo_seconds_median": round(skopeo_time.as_secs_f64()),
        "ocicat_mib_per_s": round(rate(ocicat_time)),
        "skopeo_mib_per_s": round(rate(skopeo_time)),
        "throughput_ratio": round(ratio),
        "rss_anon_before_mib": mebibytes(rss_before),
        "rss_anon_peak_mib": mebibytes(rss_peak),
        "rss_growth_mib": growth,
        "referrers": referrers,
        "referrer_graph_manifests": graph,
        "referrer_graph_seconds": round(graph_time.as_secs_f64()),
        "referrers_arrived": arrived,
        "referrers_listed_by_the_fallback_index": listed,
        "note": "every copy goes to a fresh registry; the registries, skopeo and ocicat share the machine; ocicat runs in this process (plan + execute, 4 blobs at once), skopeo as a process",
    });
    let referrer_count = referrers as f64;
    Ok(Scenario::new(
        "P12",
        "copy a multi-layer image between registries, and a graph of referrers",
        "throughput >= 1.0x skopeo copy in the same run; RSS growth <= 32 MiB; every referrer of the graph copied",
        measured,
        Some(ratio),
        vec![
            Check::at_least("throughput_ratio", ratio, 1.0),
            Check::at_most("rss_growth_mib", growth, 32.0),
            Check::at_least("referrers_arrived", arrived as f64, referrer_count),
            Check::at_least("referrers_listed_by_the_fallback_index", listed as f64, referrer_count),
        ],
    ))
}

fn client(url: &str) -> anyhow::Result<Client> {
    let url: url::Url = url.parse().context("registry url")?;
    Client::new(ClientConfig::new(url, Credentials::Anonymous)).context("registry client")
}

async fn crawled(client: &Client) -> anyhow::Result<Catalog> {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).context("catalog")?;
    let board = StatusBoard::default();
    board.register("source", client.base_url().as_str());
    let source = RegistrySource::new("source", client.clone());
    crawl_registry(&source, &catalog, &writer, &board, 4).await.map_err(anyhow::Error::msg)?;
    writer.flush().await.context("commit")?;
    Ok(catalog)
}

fn request(digest: &Digest, repository: &str) -> CopyRequest {
    CopyRequest {
        source: Endpoint { registry: "source".into(), repository: REPOSITORY.into() },
        digest: Some(digest.to_string()),
        query: None,
        destination: Endpoint { registry: "destination".into(), repository: repository.into() },
        tags: vec!["big".into()],
        filter: ocicat_copy::GraphFilter::default(),
    }
}

/// Plans and runs one copy of `image` into `repository`; the time of both.
async fn copy_with_ocicat(
    catalog: &Catalog,
    from: &Client,
    to: &Client,
    image: &Digest,
    repository: &str,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let plan = ocicat_copy::plan(catalog, &Scope::all(), to, &request(image, repository)).await?;
    let report = ocicat_copy::execute(&plan, &plan.fingerprint, false, from, to).await?;
    anyhow::ensure!(report.complete, "the copy stopped: {:?}", report.steps.last());
    Ok(started.elapsed())
}

/// `skopeo copy` of the image into `repository` of the destination; its wall time.
fn copy_with_skopeo(source: &Distribution, destination: &Distribution, repository: &str) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let status = std::process::Command::new("skopeo")
        .args(["copy", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false"])
        .arg(format!("docker://{}/{REPOSITORY}:big", source.host()))
        .arg(format!("docker://{}/{repository}:big", destination.host()))
        .status()
        .context("cannot run skopeo (scripts/setup.sh installs it)")?;
    anyhow::ensure!(status.success(), "skopeo copy failed: {status}");
    Ok(started.elapsed())
}

/// Copies the subject with its referrers to `graph/copy`; how many manifests it wrote.
async fn copy_graph(catalog: &Catalog, from: &Client, to: &Client, subject: &Digest) -> anyhow::Result<usize> {
    let mut request = request(subject, "graph/copy");
    request.tags = Vec::new();
    let plan = ocicat_copy::plan(catalog, &Scope::all(), to, &request).await?;
    let report = ocicat_copy::execute(&plan, &plan.fingerprint, false, from, to).await?;
    anyhow::ensure!(report.complete, "the graph copy stopped: {:?}", report.steps.last());
    Ok(plan.manifests.len())
}

/// `size` incompressible bytes, the same for the same `seed` (xorshift: no random-number crate).
pub(crate) fn noise(size: usize, seed: u64) -> Bytes {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64 ^ seed;
    let mut bytes = Vec::with_capacity(size + 8);
    while bytes.len() < size {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(size);
    Bytes::from(bytes)
}

async fn push_manifest(
    client: &Client,
    reference: Option<&str>,
    manifest: serde_json::Value,
) -> anyhow::Result<(Digest, usize)> {
    let raw = Bytes::from(serde_json::to_vec(&manifest).context("manifest serializes")?);
    let size = raw.len();
    let digest = Digest::sha256(&raw);
    let reference = reference.map_or_else(|| digest.to_string(), str::to_owned);
    client.push_manifest(REPOSITORY, &reference, "application/vnd.oci.image.manifest.v1+json", raw).await?;
    Ok((digest, size))
}

/// An image of `size` bytes in [`LAYERS`] layers, tagged `big`.
async fn push_image(client: &Client, size: usize) -> anyhow::Result<Digest> {
    let mut layers = Vec::new();
    for index in 0..LAYERS {
        let bytes = noise(size / LAYERS, index as u64);
        let length = bytes.len();
        let digest = client.push_blob(REPOSITORY, bytes).await.context("layer")?;
        layers.push(json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": digest.to_string(), "size": length}));
    }
    let config =
        Bytes::from_static(br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#);
    let config_size = config.len();
    let config_digest = client.push_blob(REPOSITORY, config).await.context("config")?;
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config_size},
        "layers": layers,
    });
    Ok(push_manifest(client, Some("big"), manifest).await?.0)
}

/// A small image tagged `graph` with `count` artifact referrers listed in its fallback index;
/// the image's digest and the referrers'.
async fn push_referrers(client: &Client, count: usize) -> anyhow::Result<(Digest, Vec<Digest>)> {
    let empty = client.push_blob(REPOSITORY, Bytes::from_static(b"{}")).await.context("empty blob")?;
    let empty = json!({"mediaType": "application/vnd.oci.empty.v1+json", "digest": empty.to_string(), "size": 2});
    let layer = client.push_blob(REPOSITORY, noise(1024, 99)).await.context("small layer")?;
    let (subject, subject_size) = push_manifest(
        client,
        Some("graph"),
        json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": empty["digest"], "size": 2},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer.to_string(), "size": 1024}],
        }),
    )
    .await?;
    let mut digests = Vec::new();
    let mut descriptors = Vec::new();
    for index in 0..count {
        let (digest, size) = push_manifest(
            client,
            None,
            json!({
                "schemaVersion": 2,
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "artifactType": "application/vnd.example.note",
                "config": empty,
                "layers": [empty],
                "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject.to_string(), "size": subject_size},
                "annotations": {"note": index.to_string()},
            }),
        )
        .await?;
        descriptors.push(serde_json::from_value(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": digest.to_string(),
            "size": size,
            "artifactType": "application/vnd.example.note",
        }))?);
        digests.push(digest);
    }
    client.add_to_fallback_index(REPOSITORY, &subject, descriptors).await.context("fallback index")?;
    Ok((subject, digests))
}
