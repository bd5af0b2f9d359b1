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
use ocicat_crawler::{CrawlMode, RegistrySource, RegistryStatus, StatusBoard, crawl_registry_in};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;

use super::bound::{Listing, list_registry, replay, walk_heads};
use super::census::{Logged, RequestLog, count_requests, total};
use super::report::{Check, Limit, Scenario, round, seconds};

/// The registry name the crawl indexes under.
const REGISTRY: &str = "bench";
/// Cold crawls (each followed by a re-crawl and a bound walk).
const ROUNDS: usize = 2;

/// One crawl of the registry into the catalog, with what the board and the registry saw.
struct CrawlRun {
    wall: Duration,
    status: RegistryStatus,
    requests: BTreeMap<String, u64>,
    /// The requests themselves, in the order the registry logged them.
    logged: Vec<Logged>,
}

/// One bare-client replay of a cold crawl's requests and what the registry logged for it.
struct BoundRun {
    wall: Duration,
    requests: BTreeMap<String, u64>,
}

/// Every walk of the registry, in run order per kind.
#[derive(Default)]
struct Walks {
    /// What the registry lists (for P2's floor).
    listing: Listing,
    bounds: Vec<BoundRun>,
    cold: Vec<CrawlRun>,
    /// No-change re-crawls as without notifications: a HEAD per tag.
    warm: Vec<CrawlRun>,
    /// No-change re-crawls as with notifications flowing: tag lists only.
    listed: Vec<CrawlRun>,
    /// The bare client's list pages and HEAD per tag (the first re-crawl's floor, walked).
    heads: Vec<Duration>,
    indexed_artifacts: u64,
}

impl Walks {
    fn best_bound(&self) -> Duration {
        self.bounds.iter().map(|run| run.wall).min().unwrap_or_default()
    }

    fn best_cold(&self) -> Duration {
        self.cold.iter().map(|run| run.wall).min().unwrap_or_default()
    }

    fn best_warm(&self) -> Duration {
        self.warm.iter().map(|run| run.wall).min().unwrap_or_default()
    }

    fn best_listed(&self) -> Duration {
        self.listed.iter().map(|run| run.wall).min().unwrap_or_default()
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
    let mut log = RequestLog::from_end(registry.log_path(), &registry.url())?;
    let mut walks = Walks { listing: list_registry(&url).await?, ..Walks::default() };
    log.take().await?;
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
        let cold =
            crawl_once(&source, &catalog, &writer, &board, concurrency, CrawlMode::Incremental, &mut log).await?;
        let warm =
            crawl_once(&source, &catalog, &writer, &board, concurrency, CrawlMode::Incremental, &mut log).await?;
        let listed = crawl_once(&source, &catalog, &writer, &board, concurrency, CrawlMode::Listed, &mut log).await?;
        let heads = walk_heads(&url, concurrency).await?;
        log.take().await?;
        walks.indexed_artifacts = catalog.registry_counts(REGISTRY).context("failed to count the crawl")?.artifacts;
        writer.close().await.context("failed to close the crawl catalog")?;
        // The bound replays the first cold crawl's requests (each round the same set).
        let replayed = walks.cold.first().map_or(&cold.logged, |first| &first.logged);
        let bound = BoundRun { wall: replay(&url, replayed, concurrency).await?, requests: log.take().await? };
        tracing::info!(
            round = round_number,
            crawl_ms = cold.wall.as_millis() as u64,
            recrawl_ms = warm.wall.as_millis() as u64,
            bound_ms = bound.wall.as_millis() as u64,
            "crawl round done"
        );
        walks.cold.push(cold);
        walks.warm.push(warm);
        walks.listed.push(listed);
        walks.heads.push(heads);
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
    mode: CrawlMode,
    log: &mut RequestLog,
) -> anyhow::Result<CrawlRun> {
    let started = Instant::now();
    crawl_registry_in(source, catalog, writer, board, concurrency, mode)
        .await
        .map_err(|error| anyhow!("failed to crawl {}: {error}", source.name))?;
    let wall = started.elapsed();
    board.record_outcome(&source.name, &Ok(()));
    let status = board.get(&source.name).with_context(|| format!("no status for registry {}", source.name))?;
    let logged = log.take_requests().await?;
    Ok(CrawlRun { wall, status, requests: count_requests(&logged), logged })
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
        "bound_walls_s": walls(walks.bounds.iter().map(|run| run.wall)),
        "bound_is": "the cold crawl's own requests (from the registry's access log) replayed by a bare reqwest client (no politeness limit, retry or token cache; nothing parsed), repository by repository at the same concurrency",
        "listed_repositories": walks.listing.repositories,
        "listed_tags": walks.listing.tags,
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
        vec![
            Check::at_most("crawl_to_bound_ratio", ratio, 1.4),
            Check::at_most("manifests_failed", first.status.manifests_failed as f64, 0.0),
            // The bound is a reference only if it issues the crawl's requests: any request the
            // two walks do not share (by method and endpoint) counts here.
            Check::at_most(
                "requests_not_shared_with_bound",
                census_difference(&first.requests, &first_bound.requests) as f64,
                0.0,
            ),
        ],
    )
    .with_limit(Limit::new(
        "a bare client issuing the same requests at the same concurrency",
        "wall_s",
        crawl.as_secs_f64(),
        bound.as_secs_f64(),
    ))
}

/// Requests one census holds and the other does not, summed over every method and endpoint.
fn census_difference(left: &BTreeMap<String, u64>, right: &BTreeMap<String, u64>) -> u64 {
    let keys: std::collections::BTreeSet<&String> = left.keys().chain(right.keys()).collect();
    keys.into_iter()
        .map(|key| left.get(key).copied().unwrap_or_default().abs_diff(right.get(key).copied().unwrap_or_default()))
        .sum()
}

fn recrawl(walks: &Walks) -> Scenario {
    let (warm, listed, cold) = (walks.best_warm(), walks.best_listed(), walks.best_cold());
    let heads = walks.heads.iter().min().copied().unwrap_or_default();
    let percent_of_cold = |wall: Duration| 100.0 * wall.as_secs_f64() / cold.as_secs_f64().max(f64::EPSILON);
    let manifests_seen: u64 = walks.warm.iter().chain(&walks.listed).map(|run| run.status.manifests_seen).sum();
    let registry_manifest_gets: u64 = walks
        .warm
        .iter()
        .chain(&walks.listed)
        .map(|run| run.requests.get("GET manifests").copied().unwrap_or_default())
        .sum();
    let (first, first_listed) = (&walks.warm[0], &walks.listed[0]);
    // Without notifications a no-change re-crawl must still list every repository and ask after
    // every tag: the list pages plus one HEAD per tag. With them flowing, the list pages alone.
    let walked = walks.listing;
    let (floor, listed_floor) = (walked.list_pages + walked.tags, walked.list_pages);
    let (requests, listed_requests) = (total(&first.requests), total(&first_listed.requests));
    let measured = json!({
        "cold_crawl_wall_s": seconds(cold),
        "without_notifications": {
            "mode": "a HEAD per tag (CrawlMode::Incremental)",
            "wall_s": seconds(warm),
            "walls_s": walls(walks.warm.iter().map(|run| run.wall)),
            "percent_of_cold": round(percent_of_cold(warm)),
            "bare_client_floor_walk_s": seconds(heads),
            "manifests_unchanged": first.status.manifests_unchanged,
            "manifests_failed": first.status.manifests_failed,
            "requests": first.requests,
            "requests_total": requests,
            "request_floor": floor,
            "request_floor_is": "one request per catalog and tags/list page, plus one HEAD per tag",
        },
        "with_notifications": {
            "mode": "tag lists only (CrawlMode::Listed: notifications configured and arriving)",
            "wall_s": seconds(listed),
            "walls_s": walls(walks.listed.iter().map(|run| run.wall)),
            "percent_of_cold": round(percent_of_cold(listed)),
            "manifests_failed": first_listed.status.manifests_failed,
            "requests": first_listed.requests,
            "requests_total": listed_requests,
            "request_floor": listed_floor,
        },
        "manifests_seen": manifests_seen,
        "registry_manifest_gets": registry_manifest_gets,
        "cold_requests_total": total(&walks.cold[0].requests),
    });
    Scenario::new(
        "P2",
        "no-change re-crawl",
        "0 manifest GETs; requests = the floor (list pages + a HEAD per tag; with notifications the list pages); with notifications wall <= 25% of P1",
        measured,
        Some(listed.as_secs_f64() / cold.as_secs_f64().max(f64::EPSILON)),
        vec![
            Check::at_most("manifests_seen", manifests_seen as f64, 0.0),
            Check::at_most("registry_manifest_gets", registry_manifest_gets as f64, 0.0),
            Check::at_most("requests_off_floor", requests.abs_diff(floor) as f64, 0.0),
            Check::at_most("requests_off_floor_with_notifications", listed_requests.abs_diff(listed_floor) as f64, 0.0),
            Check::at_most("percent_of_cold_with_notifications", percent_of_cold(listed), 25.0),
        ],
    )
    .with_limit(Limit::new(
        "a bare client walking the floor (list pages, a HEAD per tag) at the same concurrency",
        "wall_s",
        warm.as_secs_f64(),
        heads.as_secs_f64(),
    ))
    .with_limit(Limit::new("the request floor without notifications", "requests", requests as f64, floor as f64))
}
