//! P14 (first half): replication lag on a follower during a cold crawl of the P1 data set. A
//! real PostgreSQL holds the change log; the leader crawls a seeded distribution 2.8.2 through
//! its log sink (`ocicat-cluster`, as `serve` does under `[cluster]`), and two tailers — the
//! leader's own and a follower's, each on an index on disk — apply the log. Every 20 ms the
//! bench samples the log's head and each tailer's position: a change's lag is the time from the
//! first sample that saw it appended to the first that saw the follower apply it (±20 ms). The
//! same crawl into a local index, in the same run, is the reference: what replication costs the
//! crawl. Both tailers and the crawl share the machine's cores, as two replicas on one machine
//! would. (P6 on two replicas is the second half: `replica_pages`.)

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use ocicat_catalog::WriterConfig;
use ocicat_cluster::{ChangeLog, Leases, LogSink, Replicas, Tailer};
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, Postgres};
use serde_json::json;

use super::report::{Check, Scenario, round, seconds};

const REGISTRY: &str = "bench";
/// How often the head and the positions are sampled.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// How often a tailer without announcements polls (announcements wake it at once).
const IDLE: Duration = Duration::from_secs(1);

/// One sample: when, the log's head and the follower's position.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Duration,
    head: i64,
    follower: i64,
}

/// Seeds `repositories` bench repositories, crawls them into a local index (the reference), then
/// again through the change log with a follower tailing it.
pub(crate) async fn run(repositories: usize, concurrency: usize) -> anyhow::Result<Scenario> {
    let registry =
        Distribution::start(DistributionOptions::anonymous()).await.context("failed to start distribution 2.8.2")?;
    let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
    let report = ocicat_seed::seed(&Target::anonymous(url.clone()), Size::Bench { repositories })
        .await
        .with_context(|| format!("failed to seed {repositories} bench repositories"))?;
    let client = || Client::new(ClientConfig::new(url.clone(), Credentials::Anonymous)).map_err(anyhow::Error::from);

    // The reference: the same cold crawl into a local index.
    let local_directory = tempfile::Builder::new().prefix("ocicat-bench-p14-local-").tempdir()?;
    let (local_catalog, local_writer) = ocicat_catalog::open(local_directory.path(), WriterConfig::default())?;
    let board = StatusBoard::default();
    let source = RegistrySource::new(REGISTRY, client()?);
    let started = Instant::now();
    crawl_registry(&source, &local_catalog, &local_writer, &board, concurrency)
        .await
        .map_err(|error| anyhow!("the local crawl failed: {error}"))?;
    local_writer.flush().await?;
    let local_wall = started.elapsed();
    let local_artifacts = local_catalog.registry_counts(REGISTRY)?.artifacts;
    local_writer.close().await?;

    // Two replicas on one PostgreSQL: the leader crawls through the log.
    let postgres = Postgres::start().await.context("failed to start PostgreSQL")?;
    let database = ocicat_sql::Database::connect(&postgres.url()).await?;
    let log = ChangeLog::open(database.clone()).await?;
    let replicas = Replicas::open(database.clone()).await?;
    let leases = Leases::open(database).await?;
    let leader_directory = tempfile::Builder::new().prefix("ocicat-bench-p14-leader-").tempdir()?;
    let follower_directory = tempfile::Builder::new().prefix("ocicat-bench-p14-follower-").tempdir()?;
    let (leader_catalog, leader_local) = ocicat_catalog::open(leader_directory.path(), WriterConfig::default())?;
    let (follower_catalog, follower_local) = ocicat_catalog::open(follower_directory.path(), WriterConfig::default())?;
    let leader_tailer = Tailer::new(log.clone(), replicas.clone(), "leader", leader_local.clone(), 0);
    let follower_tailer = Tailer::new(log.clone(), replicas.clone(), "follower", follower_local.clone(), 0);
    let (leader_applied, follower_applied) = (leader_tailer.applied(), follower_tailer.applied());
    let (mut leader_up, mut follower_up) = (leader_tailer.caught_up(), follower_tailer.caught_up());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let tailing =
        [tokio::spawn(leader_tailer.run(IDLE, stopped.clone())), tokio::spawn(follower_tailer.run(IDLE, stopped))];
    leader_up.wait_for(|up| *up).await?;
    follower_up.wait_for(|up| *up).await?;
    let epoch = leases
        .acquire("leader", "leader#bench", Duration::from_secs(600))
        .await?
        .context("the bench leader cannot take the lease")?
        .epoch;
    let sink = LogSink::new(log.clone(), "leader", "leader#bench", epoch, leader_applied.clone());
    let writer = leader_local.through(sink);

    let board = StatusBoard::default();
    let source = RegistrySource::new(REGISTRY, client()?);
    let started = Instant::now();
    let done = std::sync::atomic::AtomicBool::new(false);
    let crawl = async {
        crawl_registry(&source, &leader_catalog, &writer, &board, concurrency)
            .await
            .map_err(|error| anyhow!("the replicated crawl failed: {error}"))?;
        writer.flush().await?;
        done.store(true, std::sync::atomic::Ordering::SeqCst);
        anyhow::Ok(started.elapsed())
    };
    // Samples until the crawl ended and the follower applied everything.
    let sampling = async {
        let mut samples = Vec::new();
        let mut tick = tokio::time::interval(SAMPLE_EVERY);
        loop {
            tick.tick().await;
            let ended = done.load(std::sync::atomic::Ordering::SeqCst);
            let head = log.head().await?;
            let follower = *follower_applied.borrow();
            samples.push(Sample { at: started.elapsed(), head, follower });
            if ended && follower >= head {
                return anyhow::Ok(samples);
            }
        }
    };
    let (replicated_wall, samples) = tokio::join!(crawl, sampling);
    let replicated_wall = replicated_wall?;
    let samples = samples?;
    stop.send_replace(true);
    for task in tailing {
        task.await.context("a tailer panicked")?;
    }
    let leader_artifacts = leader_catalog.registry_counts(REGISTRY)?.artifacts;
    let follower_artifacts = follower_catalog.registry_counts(REGISTRY)?.artifacts;
    leader_local.close().await?;
    follower_local.close().await?;

    let lags = lags(&samples);
    let percentile = |p: f64| lags.get(((lags.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or_default();
    let head = samples.last().map_or(0, |sample| sample.head);
    let first_append = samples.iter().find(|sample| sample.head > 0).map_or(Duration::ZERO, |sample| sample.at);
    let last_append = samples.iter().find(|sample| sample.head == head).map_or(Duration::ZERO, |sample| sample.at);
    let follower_done =
        samples.iter().find(|sample| sample.follower >= head).map_or(Duration::ZERO, |sample| sample.at);
    let write_span = last_append.saturating_sub(first_append);
    let apply_span = follower_done.saturating_sub(first_append);
    let rate_ratio = write_span.as_secs_f64() / apply_span.as_secs_f64().max(f64::EPSILON);
    let measured = json!({
        "repositories": repositories,
        "manifests_seeded": report.items.len(),
        "changes": head,
        "lag_p50_s": round(percentile(0.5)),
        "lag_p95_s": round(percentile(0.95)),
        "lag_max_s": round(lags.last().copied().unwrap_or_default()),
        "sample_every_ms": SAMPLE_EVERY.as_millis() as u64,
        "leader_write_span_s": seconds(write_span),
        "follower_apply_span_s": seconds(apply_span),
        "leader_changes_per_second": round(head as f64 / write_span.as_secs_f64().max(f64::EPSILON)),
        "follower_changes_per_second": round(head as f64 / apply_span.as_secs_f64().max(f64::EPSILON)),
        "apply_to_write_rate": round(rate_ratio),
        "replicated_crawl_wall_s": seconds(replicated_wall),
        "local_crawl_wall_s": seconds(local_wall),
        "replication_cost": round(replicated_wall.as_secs_f64() / local_wall.as_secs_f64().max(f64::EPSILON)),
        "artifacts": { "local": local_artifacts, "leader": leader_artifacts, "follower": follower_artifacts },
    });
    let same = f64::from(u8::from(leader_artifacts == local_artifacts && follower_artifacts == local_artifacts));
    Ok(Scenario::new(
        "P14",
        "follower lag in a cold crawl",
        "follower lag p95 <= 2 s during a P1 cold crawl; apply rate >= 0.95x the leader's writes; every replica indexes what a local crawl does",
        measured,
        Some(rate_ratio),
        vec![
            Check::at_most("lag_p95_s", percentile(0.95), 2.0),
            Check::at_least("apply_to_write_rate", rate_ratio, 0.95),
            Check::at_least("replicas_index_the_same", same, 1.0),
        ],
    ))
}

/// Each change's lag in seconds, sorted: from the first sample whose head reached it to the
/// first whose follower position did.
fn lags(samples: &[Sample]) -> Vec<f64> {
    let mut lags = Vec::new();
    let mut previous_head = 0;
    let mut applied_index = 0;
    for sample in samples {
        for seq in previous_head + 1..=sample.head {
            while applied_index < samples.len() && samples[applied_index].follower < seq {
                applied_index += 1;
            }
            if let Some(applied) = samples.get(applied_index) {
                lags.push(applied.at.saturating_sub(sample.at).as_secs_f64());
            }
        }
        previous_head = previous_head.max(sample.head);
    }
    lags.sort_by(f64::total_cmp);
    lags
}
