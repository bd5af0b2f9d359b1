//! P13: impact queries over many SBOMs that share most of their packages, as images built on a
//! few bases do. Two on-disk indexes of the same artifacts are built through the catalog's single
//! writer: one without the SBOMs' packages and the scans' findings (the artifact index) and one
//! with them; the difference is what impact search adds. Then `pkg:`, `pkg: version <` and `cve:`
//! searches from 8 threads sharing the catalog, each with its own `now` (no cache answers).

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, TimeZone, Utc};
use ocicat_catalog::impact::{FindingFact, PackageFact};
use ocicat_catalog::{ArtifactDoc, ArtifactKind, RepositoryDoc, Scope, SearchSort, WriterConfig, artifact_key};
use serde_json::json;

use super::memory::{PeakSampler, anonymous_rss, mebibytes};
use super::report::{Check, Latencies, Scenario, round, seconds};

/// Concurrent search clients.
const CLIENTS: usize = 8;
/// Packages an SBOM lists, and the share that comes from its base.
const PACKAGES_PER_SBOM: usize = 400;
const SHARED_PERCENT: usize = 80;
/// Distinct base package sets (images built on a few bases).
const BASES: usize = 10;
/// Distinct advisories, and findings a scan reports.
const ADVISORIES: usize = 5_000;
const FINDINGS_PER_SCAN: usize = 30;
/// SBOMs per repository (one image, one SBOM, one scan each).
const PER_REPOSITORY: usize = 50;

/// How big the data set is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ImpactScale {
    /// SBOMs (and images, and scans).
    pub(crate) sboms: usize,
    /// Distinct packages they draw from.
    pub(crate) distinct_packages: usize,
    /// Rounds of every query per client.
    pub(crate) rounds: usize,
}

/// A small deterministic generator (xorshift), so every run indexes the same data.
struct Draw(u64);

impl Draw {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound as u64) as usize
    }
}

const ECOSYSTEMS: [&str; 4] = ["deb", "npm", "pypi", "golang"];

fn package(number: usize, version_seed: usize) -> PackageFact {
    let ecosystem = ECOSYSTEMS[number % ECOSYSTEMS.len()];
    let name = format!("pkg-{number:05}");
    PackageFact {
        version: Some(format!("{}.{}.{}", version_seed % 4 + 1, version_seed % 17, version_seed % 5)),
        ecosystem: Some(ecosystem.to_owned()),
        purl: Some(format!("pkg:{ecosystem}/{name}")),
        licenses: vec![["MIT", "Apache-2.0", "GPL-3.0-only", "BSD-3-Clause"][number % 4].to_owned()],
        name,
    }
}

/// The documents of repository `number`: each image with its SBOM and its scan; without facts
/// for the artifact index.
fn repository(
    number: usize,
    scale: ImpactScale,
    with_facts: bool,
    now: DateTime<Utc>,
) -> (RepositoryDoc, Vec<ArtifactDoc>) {
    let name = format!("bench/impact-{number:04}");
    let shared = PACKAGES_PER_SBOM * SHARED_PERCENT / 100;
    let mut documents = Vec::new();
    for index in 0..PER_REPOSITORY {
        let ordinal = number * PER_REPOSITORY + index;
        let mut draw = Draw(0x9E37_79B9_7F4A_7C15 ^ (ordinal as u64 + 1));
        let digest = |role: u8| format!("sha256:{:02x}{:062x}", role, ordinal);
        let created = now - chrono::Duration::minutes(ordinal as i64);
        let image = ArtifactDoc {
            tags: vec![format!("1.{index}")],
            kind: ArtifactKind::Image,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            created: Some(created),
            manifest_json: "{}".into(),
            size: 1 << 20,
            ..ArtifactDoc::new("bench", &name, digest(1))
        };
        let describes = vec![artifact_key("bench", &name, &image.digest)];
        let base = ordinal % BASES;
        let mut packages: Vec<PackageFact> = (0..shared)
            .map(|n| {
                let number = (base * 7919 + n * 13) % scale.distinct_packages;
                package(number, base)
            })
            .collect();
        packages.extend((shared..PACKAGES_PER_SBOM).map(|_| {
            let number = draw.below(scale.distinct_packages);
            package(number, draw.below(1000))
        }));
        let findings: Vec<FindingFact> = (0..FINDINGS_PER_SCAN)
            .map(|n| {
                // Most findings come with the base, the rest are the image's own.
                let advisory = if n < FINDINGS_PER_SCAN * SHARED_PERCENT / 100 {
                    (base * 101 + n) % ADVISORIES
                } else {
                    draw.below(ADVISORIES)
                };
                FindingFact {
                    id: format!("CVE-2024-{advisory:05}"),
                    package: format!("pkg-{:05}", advisory % scale.distinct_packages),
                    installed: Some("1.0.0".into()),
                    fixed: (advisory % 3 != 0).then(|| "1.0.1".to_owned()),
                    severity: ["critical", "high", "medium", "low"][advisory % 4].to_owned(),
                    aliases: vec![format!("GHSA-{advisory:04x}-bench-0000")],
                }
            })
            .collect();
        let referrer = |role: u8, kind: ArtifactKind| ArtifactDoc {
            kind,
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            created: Some(created),
            subject: Some(image.digest.clone()),
            refers_to: Some(image.digest.clone()),
            manifest_json: "{}".into(),
            size: 40_000,
            ..ArtifactDoc::new("bench", &name, digest(role))
        };
        let mut sbom = referrer(2, ArtifactKind::Sbom);
        let mut scan = referrer(3, ArtifactKind::Scan);
        if with_facts {
            sbom.packages = packages;
            sbom.producer = Some("syft 1.18.0".into());
            sbom.describes = describes.clone();
            scan.findings = findings;
            scan.producer = Some("Trivy 0.58.0".into());
            scan.describes = describes;
        }
        documents.extend([image, sbom, scan]);
    }
    let summary = RepositoryDoc {
        registry: "bench".into(),
        repository: name,
        tag_count: PER_REPOSITORY as u64,
        artifact_count: documents.len() as u64,
        size: 1,
        last_push: Some(now),
        crawled_at: Some(now),
        incomplete: Vec::new(),
    };
    (summary, documents)
}

/// Bytes of every file under `path`.
fn directory_bytes(path: &Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(path).with_context(|| format!("failed to list {}", path.display()))? {
        let entry = entry?;
        let metadata = entry.metadata()?;
        total += if metadata.is_dir() { directory_bytes(&entry.path())? } else { metadata.len() };
    }
    Ok(total)
}

/// Builds one index; returns its directory, bytes and indexing time.
async fn build(
    scale: ImpactScale,
    with_facts: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<(tempfile::TempDir, u64, Duration)> {
    let directory = tempfile::Builder::new().prefix("ocicat-bench-impact-").tempdir().context("index tempdir")?;
    let (catalog, writer) =
        ocicat_catalog::open(directory.path(), WriterConfig::default()).context("open the bench catalog")?;
    let started = Instant::now();
    for number in 0..scale.sboms.div_ceil(PER_REPOSITORY) {
        let (summary, documents) = repository(number, scale, with_facts, now);
        writer.upsert_repository(summary, documents, Vec::new()).await.context("upsert")?;
    }
    writer.flush().await.context("flush")?;
    let indexed = started.elapsed();
    writer.close().await.context("close")?;
    drop(catalog);
    let bytes = directory_bytes(directory.path())?;
    Ok((directory, bytes, indexed))
}

/// Runs P13.
pub(crate) async fn run(scale: ImpactScale) -> anyhow::Result<Scenario> {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).single().context("a fixed date")?;
    let rss_before = anonymous_rss()?;
    let sampler = PeakSampler::start()?;
    let (_plain, plain_bytes, plain_time) = build(scale, false, now).await?;
    let (with_facts, facts_bytes, facts_time) = build(scale, true, now).await?;
    let rss_peak = sampler.stop();
    let sboms_per_minute = scale.sboms as f64 / facts_time.as_secs_f64().max(f64::EPSILON) * 60.0;
    let added = facts_bytes.saturating_sub(plain_bytes) as f64 / plain_bytes.max(1) as f64;

    let directory = with_facts.path().to_owned();
    let rounds = scale.rounds;
    let distinct = scale.distinct_packages;
    let (latencies, results, rss_after) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let (catalog, writer) = ocicat_catalog::open(&directory, WriterConfig::default()).context("reopen")?;
        // A base package (in 1 of BASES images' sets), a range on it, an image's own, and advisories.
        let common = format!("pkg-{:05}", (3 * 7919 + 5 * 13) % distinct);
        let queries: Vec<(&str, String)> = vec![
            ("pkg_common", format!("pkg:{common}")),
            ("pkg_version_range", format!("pkg:{common} version < 4.3.0")),
            ("pkg_rare", format!("pkg:pkg-{:05}", distinct - 1)),
            ("cve_common", format!("cve:CVE-2024-{:05}", 3 * 101 + 2)),
            ("cve_fixable", format!("cve:CVE-2024-{:05} fixable:true", 3 * 101 + 4)),
            ("license_repo", "license:GPL-3.0* repo:bench/impact-00*".to_owned()),
        ];
        let mut counts = serde_json::Map::new();
        for (name, text) in &queries {
            let found = catalog.search_hits(&Scope::all(), text, SearchSort::Newest, 0, 25, now)?;
            counts.insert((*name).to_owned(), json!(found.0));
        }
        let samples = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|threads| {
            for client in 0..CLIENTS {
                let (catalog, queries, samples) = (&catalog, &queries, &samples);
                threads.spawn(move || {
                    for round in 0..rounds {
                        for (_, text) in queries {
                            let at = now + chrono::Duration::minutes((client * rounds + round) as i64);
                            let started = Instant::now();
                            let _ = catalog.search_hits(&Scope::all(), text, SearchSort::Newest, 0, 25, at);
                            samples.lock().map(|mut all| all.push(started.elapsed())).ok();
                        }
                    }
                });
            }
        });
        let samples = samples.into_inner().unwrap_or_default();
        let rss = anonymous_rss()?;
        drop(writer);
        Ok((Latencies::of(&samples), counts, rss))
    })
    .await
    .context("impact searches panicked")??;
    let measured = json!({
        "sboms": scale.sboms,
        "packages_per_sbom": PACKAGES_PER_SBOM,
        "distinct_packages": scale.distinct_packages,
        "shared_percent": SHARED_PERCENT,
        "findings_per_scan": FINDINGS_PER_SCAN,
        "artifact_index_mib": round(mebibytes(plain_bytes)),
        "with_facts_index_mib": round(mebibytes(facts_bytes)),
        "added_fraction": round(added),
        "artifact_index_seconds": seconds(plain_time),
        "with_facts_seconds": seconds(facts_time),
        "sboms_per_minute": round(sboms_per_minute),
        "results": results,
        "latencies": latencies,
        "clients": CLIENTS,
        "rss_anon_before_mib": mebibytes(rss_before),
        "rss_anon_peak_mib": mebibytes(rss_peak),
        "rss_anon_after_search_mib": mebibytes(rss_after),
    });
    Ok(Scenario::new(
        "P13",
        "impact queries",
        "indexing >= 5k SBOMs/min; added index <= 30 % of the artifact index; pkg:/cve: p99 <= 100 ms at 8 clients; memory within P9's bounds",
        measured,
        None,
        vec![
            Check::at_least("sboms_per_minute", sboms_per_minute, 5_000.0),
            Check::at_most("added_index_fraction", added, 0.30),
            Check::at_most("p99_ms", latencies.p99_ms, 100.0),
            Check::at_most("peak_rss_anon_mib", mebibytes(rss_peak), 768.0),
        ],
    ))
}
