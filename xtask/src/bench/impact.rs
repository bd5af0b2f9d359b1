//! P13: impact queries over many SBOMs that share most of their packages, as images built on a
//! few bases do. The artifacts are P4's (the same generator, so the same shape and bytes per
//! artifact); two on-disk indexes of them are built through the catalog's single writer: one as
//! P4 indexes them (the artifact index) and one where every SBOM lists its packages and every
//! scan its findings; the difference is what impact search adds. Then `pkg:`, `pkg: version <`,
//! `cve:` and `license:` searches from 8 threads sharing the catalog, each with its own `now`
//! (no cache answers).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, TimeZone, Utc};
use ocicat_catalog::impact::{FindingFact, PackageFact};
use ocicat_catalog::{ArtifactDoc, ArtifactKind, RepositoryDoc, Scope, SearchSort, WriterConfig, artifact_key};

use super::index::{ARTIFACTS_PER_REPOSITORY, directory_bytes};
use super::synthetic::{Generator, Random};
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

const ECOSYSTEMS: [&str; 4] = ["deb", "npm", "pypi", "golang"];

/// Versions of each package name in the pool.
const VERSIONS_PER_NAME: usize = 4;

/// The name of package `number` of the pool.
fn package_name(number: usize) -> String {
    format!("pkg-{:05}", number / VERSIONS_PER_NAME)
}

/// Package `number` of the pool: a name at one version (a distinct package is a name at a
/// version, as a purl with its version names it; each name comes in [`VERSIONS_PER_NAME`]).
fn package(number: usize) -> PackageFact {
    let name = package_name(number);
    let ecosystem = ECOSYSTEMS[number / VERSIONS_PER_NAME % ECOSYSTEMS.len()];
    PackageFact {
        version: Some(format!("{}.{}.{}", number % VERSIONS_PER_NAME + 1, number % 17, number % 5)),
        ecosystem: Some(ecosystem.to_owned()),
        purl: Some(format!("pkg:{ecosystem}/{name}")),
        licenses: vec![["MIT", "Apache-2.0", "GPL-3.0-only", "BSD-3-Clause"][number % 4].to_owned()],
        name,
    }
}

/// P4's documents of repository `number`; with `with_facts`, each SBOM lists its packages and
/// each scan its findings (drawn by the document's own seed, so both indexes hold the same
/// artifacts).
fn repository(
    number: usize,
    scale: ImpactScale,
    with_facts: bool,
    now: DateTime<Utc>,
) -> (RepositoryDoc, Vec<ArtifactDoc>) {
    let generator = Generator { now, artifacts_per_repository: ARTIFACTS_PER_REPOSITORY };
    let (summary, mut documents) = generator.repository(number);
    if !with_facts {
        return (summary, documents);
    }
    let shared = PACKAGES_PER_SBOM * SHARED_PERCENT / 100;
    for (position, document) in documents.iter_mut().enumerate() {
        let Some(subject) = document.refers_to.clone() else { continue };
        let ordinal = number * ARTIFACTS_PER_REPOSITORY + position;
        let mut draw = Random(ordinal as u64 ^ 0x1A7A_C7ED_5B0B_0001);
        let base = ordinal % BASES;
        let describes = vec![artifact_key(&document.registry, &document.repository, &subject)];
        match document.kind {
            ArtifactKind::Sbom => {
                let mut packages: Vec<PackageFact> =
                    (0..shared).map(|n| package((base * 7919 + n * 13) % scale.distinct_packages)).collect();
                packages.extend(
                    (shared..PACKAGES_PER_SBOM).map(|_| package(draw.below(scale.distinct_packages as u64) as usize)),
                );
                document.packages = packages;
                document.producer = Some("syft 1.18.0".into());
                document.describes = describes;
            }
            ArtifactKind::Scan => {
                document.findings = (0..FINDINGS_PER_SCAN)
                    .map(|n| {
                        // Most findings come with the base, the rest are the image's own.
                        let advisory = if n < FINDINGS_PER_SCAN * SHARED_PERCENT / 100 {
                            (base * 101 + n) % ADVISORIES
                        } else {
                            draw.below(ADVISORIES as u64) as usize
                        };
                        FindingFact {
                            id: format!("CVE-2024-{advisory:05}"),
                            package: package_name(advisory % scale.distinct_packages),
                            installed: Some("1.0.0".into()),
                            fixed: (advisory % 3 != 0).then(|| "1.0.1".to_owned()),
                            severity: ["critical", "high", "medium", "low"][advisory % 4].to_owned(),
                            aliases: vec![format!("GHSA-{advisory:04x}-bench-0000")],
                        }
                    })
                    .collect();
                document.producer = Some("Trivy 0.58.0".into());
                document.describes = describes;
            }
            _ => {}
        }
    }
    (summary, documents)
}

/// Repositories to generate for `sboms` SBOMs (P4's mix holds about 12 in 100 artifacts).
fn repositories_for(sboms: usize, now: DateTime<Utc>, scale: ImpactScale) -> usize {
    let mut counted = 0;
    let mut repositories = 0;
    while counted < sboms {
        let (_, documents) = repository(repositories, scale, false, now);
        counted += documents.iter().filter(|document| document.kind == ArtifactKind::Sbom).count();
        repositories += 1;
    }
    repositories
}

/// Builds one index; returns its directory, bytes and indexing time.
async fn build(
    scale: ImpactScale,
    repositories: usize,
    with_facts: bool,
    now: DateTime<Utc>,
) -> anyhow::Result<(tempfile::TempDir, u64, Duration, BTreeMap<String, u64>)> {
    let directory = tempfile::Builder::new().prefix("ocicat-bench-impact-").tempdir().context("index tempdir")?;
    let (catalog, writer) =
        ocicat_catalog::open(directory.path(), WriterConfig::default()).context("open the bench catalog")?;
    let started = Instant::now();
    for number in 0..repositories {
        let (summary, documents) = repository(number, scale, with_facts, now);
        writer.upsert_repository(summary, documents, Vec::new()).await.context("upsert")?;
    }
    writer.flush().await.context("flush")?;
    let indexed = started.elapsed();
    writer.close().await.context("close")?;
    let parts = catalog.space_usage()?;
    drop(catalog);
    let bytes = directory_bytes(directory.path())?;
    Ok((directory, bytes, indexed, parts))
}

/// Runs P13.
pub(crate) async fn run(scale: ImpactScale) -> anyhow::Result<Scenario> {
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).single().context("a fixed date")?;
    let rss_before = anonymous_rss()?;
    let sampler = PeakSampler::start()?;
    let repositories = repositories_for(scale.sboms, now, scale);
    let (_plain, plain_bytes, plain_time, plain_parts) = build(scale, repositories, false, now).await?;
    let (with_facts, facts_bytes, facts_time, facts_parts) = build(scale, repositories, true, now).await?;
    // What the facts add, part by part (the breakdown the size target is closed with).
    let added_parts: BTreeMap<&String, i64> = facts_parts
        .iter()
        .map(|(part, bytes)| (part, *bytes as i64 - plain_parts.get(part).copied().unwrap_or_default() as i64))
        .filter(|(_, bytes)| bytes.unsigned_abs() >= 1024)
        .collect();
    let rss_peak = sampler.stop();
    let sboms_per_minute = scale.sboms as f64 / facts_time.as_secs_f64().max(f64::EPSILON) * 60.0;
    let added = facts_bytes.saturating_sub(plain_bytes) as f64 / plain_bytes.max(1) as f64;

    let directory = with_facts.path().to_owned();
    let rounds = scale.rounds;
    let distinct = scale.distinct_packages;
    let (latencies, results, rss_after) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let (catalog, writer) = ocicat_catalog::open(&directory, WriterConfig::default()).context("reopen")?;
        // A base package (in 1 of BASES images' sets), a range on it, an image's own, advisories
        // (one by an alias), and a licence within one registry.
        let common = package_name((3 * 7919 + 5 * 13) % distinct);
        let queries: Vec<(&str, String)> = vec![
            ("pkg_common", format!("pkg:{common}")),
            ("pkg_version_range", format!("pkg:{common} version < 4.3.0")),
            ("pkg_rare", format!("pkg:{}", package_name(distinct - 1))),
            ("cve_common", format!("cve:CVE-2024-{:05}", 3 * 101 + 2)),
            ("cve_fixable", format!("cve:CVE-2024-{:05} fixable:true", 3 * 101 + 4)),
            ("cve_alias", format!("cve:GHSA-{:04x}-bench-0000", 3 * 101 + 6)),
            ("license_registry", "license:GPL-3.0* registry:staging".to_owned()),
        ];
        let mut counts = serde_json::Map::new();
        for (name, text) in &queries {
            let found = catalog.search_hits(&Scope::all(), text, SearchSort::Newest, 0, 25, now)?;
            counts.insert((*name).to_owned(), json!(found.0));
        }
        // Reading facts back (they are terms, not stored): the evidence of one impact page (25
        // artifacts, the common package) and every package and finding of one image (a diff side).
        let (_, shown) = catalog.search_hits(&Scope::all(), &queries[0].1, SearchSort::Newest, 0, 25, now)?;
        let keys: Vec<String> = shown
            .iter()
            .map(|artifact| artifact_key(&artifact.registry, &artifact.repository, &artifact.digest))
            .collect();
        let about = ocicat_catalog::impact::Predicate::of(&queries[0].1);
        let mut evidence_times = Vec::new();
        let mut whole_times = Vec::new();
        let mut read_back = (0, 0);
        for _ in 0..rounds {
            let started = Instant::now();
            let evidence = catalog.describing(&keys, Some(&about))?;
            evidence_times.push(started.elapsed());
            let started = Instant::now();
            let whole = catalog.describing(&keys[..1.min(keys.len())], None)?;
            whole_times.push(started.elapsed());
            read_back = (
                evidence.iter().map(|document| document.packages.len()).sum::<usize>(),
                whole.iter().map(|document| document.packages.len() + document.findings.len()).sum::<usize>(),
            );
        }
        counts.insert("evidence_packages_of_25".into(), json!(read_back.0));
        counts.insert("facts_of_one_image".into(), json!(read_back.1));
        let samples = std::sync::Mutex::new(Vec::new());
        std::thread::scope(|threads| {
            for client in 0..CLIENTS {
                let (catalog, queries, samples) = (&catalog, &queries, &samples);
                threads.spawn(move || {
                    for round in 0..rounds {
                        for (query, (_, text)) in queries.iter().enumerate() {
                            let at = now + chrono::Duration::minutes((client * rounds + round) as i64);
                            let started = Instant::now();
                            let _ = catalog.search_hits(&Scope::all(), text, SearchSort::Newest, 0, 25, at);
                            samples.lock().map(|mut all| all.push((query, started.elapsed()))).ok();
                        }
                    }
                });
            }
        });
        let samples = samples.into_inner().unwrap_or_default();
        let mut by_query = serde_json::Map::new();
        for (number, (name, _)) in queries.iter().enumerate() {
            let own: Vec<Duration> =
                samples.iter().filter(|(query, _)| *query == number).map(|(_, took)| *took).collect();
            by_query.insert((*name).to_owned(), json!(Latencies::of(&own)));
        }
        // The target names pkg: and cve: queries; the licence one is measured beside them.
        let all: Vec<Duration> = samples
            .iter()
            .filter(|(query, _)| queries[*query].0.starts_with("pkg") || queries[*query].0.starts_with("cve"))
            .map(|(_, took)| *took)
            .collect();
        let rss = anonymous_rss()?;
        drop(writer);
        let read_back = json!({
            "evidence_of_25_artifacts": Latencies::of(&evidence_times),
            "every_fact_of_one_image": Latencies::of(&whole_times),
        });
        Ok((
            Latencies::of(&all),
            json!({"results": counts, "latencies_by_query": by_query, "read_back": read_back}),
            rss,
        ))
    })
    .await
    .context("impact searches panicked")??;
    let measured = json!({
        "sboms_asked": scale.sboms,
        "repositories": repositories,
        "artifacts": repositories * ARTIFACTS_PER_REPOSITORY,
        "packages_per_sbom": PACKAGES_PER_SBOM,
        "distinct_packages": scale.distinct_packages,
        "versions_per_name": VERSIONS_PER_NAME,
        "shared_percent": SHARED_PERCENT,
        "findings_per_scan": FINDINGS_PER_SCAN,
        "artifact_index_mib": round(mebibytes(plain_bytes)),
        "with_facts_index_mib": round(mebibytes(facts_bytes)),
        "added_fraction": round(added),
        "added_bytes_by_part": added_parts,
        "artifact_index_seconds": seconds(plain_time),
        "with_facts_seconds": seconds(facts_time),
        "sboms_per_minute": round(sboms_per_minute),
        "queries": results,
        "latencies_pkg_cve": latencies,
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
            Check::at_most("pkg_cve_p99_ms", latencies.p99_ms, 100.0),
            Check::at_most("peak_rss_anon_mib", mebibytes(rss_peak), 768.0),
        ],
    ))
}
