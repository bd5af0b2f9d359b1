//! P1 (cold crawl against the bare-client bound) and P2 (re-crawl with nothing changed) on a real
//! distribution 2.8.2 filled with the seeder's bench data set.
//!
//! The machine is shared, so the walks alternate (bound, then per round: cold crawl into a new
//! catalog, re-crawl, bound) and each figure is the best of its walks: background load then
//! slows both sides alike instead of deciding the ratio.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use ocicat_catalog::{Catalog, CatalogWriter, WriterConfig};
use ocicat_crawler::{RegistrySource, RegistryStatus, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;

use super::bound::{BoundWalk, walk_registry};
use super::census::{RequestLog, total};
use super::report::{Check, Scenario, round, seconds};

/// The registry name the crawl indexes under.
const REGISTRY: &str = "bench";
/// Cold crawls (each followed by a re-crawl and a bound walk).
const ROUNDS: usize = 2;

/// One crawl of the registry into the catalog, with what the board and the registry saw.
struct CrawlRun {
    wall: Duration,
    status: RegistryStatus,
    requests: BTreeMap<String, u64>,
}

/// One bare-client walk and the requests the registry logged for it.
struct BoundRun {
    walk: BoundWalk,
    requests: BTreeMap<String, u64>,
}

/// Every walk of the registry, in run order per kind.
#[derive(Default)]
struct Walks {
    bounds: Vec<BoundRun>,
    cold: Vec<CrawlRun>,
    warm: Vec<CrawlRun>,
    indexed_artifacts: u64,
}

impl Walks {
    fn best_bound(&self) -> Duration {
        self.bounds.iter().map(|run| run.walk.wall).min().unwrap_or_default()
    }

    fn best_cold(&self) -> Duration {
        self.cold.iter().map(|run| run.wall).min().unwrap_or_default()
    }

    fn best_warm(&self) -> Duration {
        self.warm.iter().map(|run| run.wall).min().unwrap_or_default()
    }
}

/// Seeds a fresh registry with `repositories` bench repositories, then measures P1 and P2 with
/// `concurrency` repositories crawled at once.
pub(crate) async fn run(repositories: usize, concurrency: usize) -> anyhow::Result<Vec<Scenario>> {
    let registry =
        Distribution::start(DistributionOptions::anonymous()).await.context("failed to start distribution 2.8.2")?;
    let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
    let seeding = Instant::now();
    let report = ocicat_seed::seed(&Target::anonymous(url.clone()), Size::Bench { repositories })
        .await
        .with_context(|| format!("failed to seed {repositories} bench repositories"))?;
    let seed_wall = seeding.elapsed();
    tracing::info!(seed.items = report.items.len(), duration_ms = seed_wall.as_millis() as u64, "registry seeded");
    let fresh_client =
        || Client::new(ClientConfig::new(url.clone(), Credentials::Anonymous)).map_err(anyhow::Error::from);
    let mut log = RequestLog::from_end(registry.log_path())?;
    let mut walks = Walks::default();
    walks
        .bounds
        .push(BoundRun { walk: walk_registry(&fresh_client()?, concurrency).await?, requests: log.take().await? });
    for round_number in 0..ROUNDS {
        let directory = tempfile::Builder::new()
            .prefix("ocicat-bench-crawl-")
            .tempdir()
            .context("failed to create crawl tempdir")?;
        let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default())
            .context("failed to open the crawl catalog")?;
        let source = RegistrySource::new(REGISTRY, fresh_client()?);
        let board = StatusBoard::default();
        board.register(REGISTRY, url.as_str());
        let cold = crawl_once(&source, &catalog, &writer, &board, concurrency, &mut log).await?;
        let warm = crawl_once(&source, &catalog, &writer, &board, concurrency, &mut log).await?;
        walks.indexed_artifacts = catalog.registry_counts(REGISTRY).context("failed to count the crawl")?.artifacts;
        writer.close().await.context("failed to close the crawl catalog")?;
        let bound = BoundRun { walk: walk_registry(&fresh_client()?, concurrency).await?, requests: log.take().await? };
        tracing::info!(
            round = round_number,
            crawl_ms = cold.wall.as_millis() as u64,
            recrawl_ms = warm.wall.as_millis() as u64,
            bound_ms = bound.walk.wall.as_millis() as u64,
            "crawl round done"
        );
        walks.cold.push(cold);
        walks.warm.push(warm);
        walks.bounds.push(bound);
    }
    let seeded = json!({"repositories": repositories, "manifests": report.items.len(), "seed_s": seconds(seed_wall)});
    Ok(vec![cold_crawl(&walks, concurrency, &seeded), recrawl(&walks)])
}

async fn crawl_once(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
    concurrency: usize,
    log: &mut RequestLog,
) -> anyhow::Result<CrawlRun> {
    let started = Instant::now();
    crawl_registry(source, catalog, writer, board, concurrency)
        .await
        .map_err(|error| anyhow!("failed to crawl {}: {error}", source.name))?;
    let wall = started.elapsed();
    board.record_outcome(&source.name, &Ok(()));
    let status = board.get(&source.name).with_context(|| format!("no status for registry {}", source.name))?;
    Ok(CrawlRun { wall, status, requests: log.take().await? })
}

fn walls(runs: impl Iterator<Item = Duration>) -> Vec<f64> {
    runs.map(seconds).collect()
}

fn cold_crawl(walks: &Walks, concurrency: usize, seeded: &serde_json::Value) -> Scenario {
    let (crawl, bound) = (walks.best_cold(), walks.best_bound());
    let ratio = crawl.as_secs_f64() / bound.as_secs_f64().max(f64::EPSILON);
    let (first, first_bound) = (&walks.cold[0], &walks.bounds[0]);
    let manifests = first.status.manifests_seen;
    let measured = json!({
        "seeded": seeded,
        "concurrency": concurrency,
        "crawl_wall_s": seconds(crawl),
        "bound_wall_s": seconds(bound),
        "crawl_walls_s": walls(walks.cold.iter().map(|run| run.wall)),
        "bound_walls_s": walls(walks.bounds.iter().map(|run| run.walk.wall)),
        "bound_manifests": first_bound.walk.manifests,
        "bound_configs": first_bound.walk.configs,
        "bound_repositories": first_bound.walk.repositories,
        "repositories": first.status.repositories_done,
        "manifests_fetched": manifests,
        "manifests_failed": first.status.manifests_failed,
        "artifacts_indexed": walks.indexed_artifacts,
        "manifests_per_second": round(manifests as f64 / crawl.as_secs_f64().max(f64::EPSILON)),
        "absolute_target_s": 10.0,
        "within_absolute_target": crawl.as_secs_f64() <= 10.0,
        "requests": {
            "crawl": first.requests, "crawl_total": total(&first.requests),
            "bound": first_bound.requests, "bound_total": total(&first_bound.requests),
        },
    });
    Scenario::new(
        "P1",
        "cold crawl",
        "crawl wall <= 1.4x the bare-client bound of the same run (<= 10 s absolute, for information)",
        measured,
        Some(ratio),
        vec![Check::at_most("crawl_to_bound_ratio", ratio, 1.4)],
    )
}

fn recrawl(walks: &Walks) -> Scenario {
    let (warm, cold) = (walks.best_warm(), walks.best_cold());
    let percent = 100.0 * warm.as_secs_f64() / cold.as_secs_f64().max(f64::EPSILON);
    let manifests_seen: u64 = walks.warm.iter().map(|run| run.status.manifests_seen).sum();
    let registry_manifest_gets: u64 =
        walks.warm.iter().map(|run| run.requests.get("GET manifests").copied().unwrap_or_default()).sum();
    let first = &walks.warm[0];
    let measured = json!({
        "recrawl_wall_s": seconds(warm),
        "cold_crawl_wall_s": seconds(cold),
        "recrawl_walls_s": walls(walks.warm.iter().map(|run| run.wall)),
        "percent_of_cold": round(percent),
        "manifests_seen": manifests_seen,
        "manifests_unchanged": first.status.manifests_unchanged,
        "manifests_failed": first.status.manifests_failed,
        "registry_manifest_gets": registry_manifest_gets,
        "requests": first.requests,
        "requests_total": total(&first.requests),
        "cold_requests_total": total(&walks.cold[0].requests),
    });
    Scenario::new(
        "P2",
        "no-change re-crawl",
        "0 manifest GETs (HEAD or 304 only); wall <= 25% of P1",
        measured,
        Some(warm.as_secs_f64() / cold.as_secs_f64().max(f64::EPSILON)),
        vec![
            Check::at_most("manifests_seen", manifests_seen as f64, 0.0),
            Check::at_most("registry_manifest_gets", registry_manifest_gets as f64, 0.0),
            Check::at_most("percent_of_cold", percent, 25.0),
        ],
    )
}
