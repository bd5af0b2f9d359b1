//! P14 (second half): P6's pages served by two replicas behind a round-robin client, against
//! one. A real PostgreSQL holds the change log; the bench writes P6's synthetic catalog through
//! it as a leader would, and each replica — its own thread and single-threaded runtime, its own
//! index on disk made by its own tailer from the log, its own database connections, and the
//! real router — serves the pages from its index.
//!
//! Two replicas and a load generator on this machine's two cores would only measure the cores,
//! so each replica gets the same CPU budget (a cgroup quota its threads share: runtime, blocking
//! pool, catalog writer, tantivy), as each would get its own machine, and the load generator
//! (the bench's own runtime) stays outside every budget. The figure is then what a second
//! replica adds: pages/s of two budgets against one, the same 50 clients, every page on every
//! replica. The replicas settle first (their index merges end), and one replica is measured
//! before and after the two (the reference is the mean). A check says whether each replica was
//! held at its budget (throttled in most periods); if not, the load generator was the limit and
//! the ratio says nothing about replicas. Each phase also reports the replicas' CPU time per
//! page (cgroup accounting).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use chrono::{DateTime, Utc};
use ocicat_catalog::{CatalogWriter, WriterConfig};
use ocicat_cluster::{ChangeLog, Leases, LogSink, Replicas, Tailer};
use ocicat_crawler::StatusBoard;
use ocicat_testkit::Postgres;
use serde_json::json;
use tokio::sync::{oneshot, watch};

use super::budget::{Budget, Throttling};
use super::load::{CLIENTS, LoadScale, Phase, Timings, drive, time_request};
use super::page_set::{Page, fill, rotation, warm_up};
use super::report::{Check, Scenario, Skipped, round, seconds};
use super::served::pages_only;

/// The share of one CPU each replica may use.
const REPLICA_CPUS: f64 = 0.5;
/// How often a tailer without announcements polls (announcements wake it at once).
const IDLE: Duration = Duration::from_secs(1);
/// The share of CFS periods a replica must have been throttled in for its budget to have been
/// what limited it. Not near 1: 50 closed-loop clients sending to the replicas in turn sit
/// waiting on whichever replica is throttled, so the other one idles in some periods.
const HELD_AT_BUDGET: f64 = 0.5;
/// How long writing the catalog through the log and applying it on both replicas may take.
const WRITTEN_WITHIN: Duration = Duration::from_secs(900);
/// A replica counts as quiet (its merges done) once it uses less than this per second.
const QUIET_BELOW: Duration = Duration::from_millis(50);
/// How long the bench waits for quiet replicas before it measures anyway (and says so).
const QUIET_WITHIN: Duration = Duration::from_secs(120);

/// What a replica hands back once it serves.
struct Ready {
    address: SocketAddr,
    writer: CatalogWriter,
    applied: watch::Receiver<i64>,
}

/// One replica inside the bench process.
struct Replica {
    address: SocketAddr,
    writer: CatalogWriter,
    applied: watch::Receiver<i64>,
    budget: Arc<Budget>,
    stop: watch::Sender<bool>,
    thread: std::thread::JoinHandle<anyhow::Result<()>>,
}

impl Replica {
    /// Starts replica `name` on its own thread, inside `budget`, tailing the log at `database`.
    async fn start(
        name: String,
        database: String,
        board: StatusBoard,
        timings: Timings,
        budget: Arc<Budget>,
    ) -> anyhow::Result<Replica> {
        let (ready, readied) = oneshot::channel();
        let (stop, stopped) = watch::channel(false);
        let thread_budget = budget.clone();
        let thread = std::thread::Builder::new().name(name.clone()).spawn(move || {
            thread_budget.enter()?;
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("failed to build a replica's runtime")?;
            let served = runtime.block_on(serve(name, database, board, timings, ready, stopped));
            runtime.shutdown_timeout(Duration::from_secs(10));
            served
        })?;
        match readied.await {
            Ok(Ready { address, writer, applied }) => Ok(Replica { address, writer, applied, budget, stop, thread }),
            // The thread ended before it served: its error says why.
            Err(_) => Err(tokio::task::spawn_blocking(move || thread.join())
                .await?
                .map_err(|_| anyhow!("a replica's thread panicked"))?
                .err()
                .unwrap_or_else(|| anyhow!("a replica stopped before it served"))),
        }
    }

    /// Stops serving and tailing and waits for the thread.
    async fn stop(self) -> anyhow::Result<()> {
        self.stop.send_replace(true);
        let thread = self.thread;
        tokio::task::spawn_blocking(move || thread.join()).await?.map_err(|_| anyhow!("a replica's thread panicked"))?
    }

    /// Each page, at this replica.
    fn pages(&self, pages: &[Page]) -> Vec<Page> {
        pages.iter().map(|page| page.at(&format!("http://{}", self.address))).collect()
    }
}

/// A replica's life on its own runtime: its index, its tailer, its router.
async fn serve(
    name: String,
    database: String,
    board: StatusBoard,
    timings: Timings,
    ready: oneshot::Sender<Ready>,
    mut stopped: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let directory = tempfile::Builder::new().prefix("ocicat-bench-p14b-").tempdir()?;
    let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default())?;
    let database = ocicat_sql::Database::connect(&database).await?;
    let log = ChangeLog::open(database.clone()).await?;
    let replicas = Replicas::open(database).await?;
    let tailer = Tailer::new(log, replicas, &name, writer.clone(), 0);
    let applied = tailer.applied();
    let (stop_tailing, tailing_stopped) = watch::channel(false);
    let tailing = tokio::spawn(tailer.run(IDLE, tailing_stopped));
    let router = ocicat::router::build_router(pages_only(catalog, board))
        .layer(axum::middleware::from_fn_with_state(timings, time_request));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("failed to bind a replica")?;
    let address = listener.local_addr()?;
    if ready.send(Ready { address, writer: writer.clone(), applied }).is_err() {
        return Ok(());
    }
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            stopped.wait_for(|stop| *stop).await.ok();
        })
        .await
        .context("a replica stopped serving")?;
    stop_tailing.send_replace(true);
    tailing.await.context("a tailer panicked")?;
    writer.close().await?;
    Ok(())
}

/// One phase: the load's figures, the throttled share of each replica's budget, and the CPU
/// time the replicas used.
struct Measured {
    phase: Phase,
    throttled: Vec<f64>,
    cpu: Duration,
}

impl Measured {
    fn json(&self) -> serde_json::Value {
        let mut measured = self.phase.json();
        measured["replicas"] = json!(self.throttled.len());
        measured["throttled_share"] = json!(self.throttled.iter().copied().map(round).collect::<Vec<_>>());
        measured["replica_cpu_s"] = json!(seconds(self.cpu));
        let pages = self.phase.loaded().max(1);
        measured["replica_cpu_ms_per_page"] = json!(round(self.cpu.as_secs_f64() * 1000.0 / pages as f64));
        measured
    }
}

/// Measures the pages of `visits` (one rotation per replica) for `limit`.
async fn measure(
    replicas: &[&Replica],
    visits: Vec<Vec<Page>>,
    timings: &Timings,
    limit: Duration,
) -> anyhow::Result<Measured> {
    let throttling: Vec<Throttling> =
        replicas.iter().map(|replica| replica.budget.throttling()).collect::<Result<_, _>>()?;
    let used_before = used(replicas)?;
    let phase = drive(&Arc::new(visits), timings, Arc::new(AtomicBool::new(false)), limit).await?;
    let cpu = used(replicas)?.saturating_sub(used_before);
    let mut throttled = Vec::new();
    for (replica, before) in replicas.iter().zip(throttling) {
        throttled.push(replica.budget.throttling()?.share_since(before));
    }
    Ok(Measured { phase, throttled, cpu })
}

/// The CPU time `replicas` used so far, together.
fn used(replicas: &[&Replica]) -> anyhow::Result<Duration> {
    replicas.iter().map(|replica| replica.budget.used()).sum()
}

/// Waits until neither replica works any more (the tailers' index merges end after the last
/// change is applied, and would otherwise run inside the first phase's budget); answers how
/// long that took, or `None` when they were still busy after [`QUIET_WITHIN`].
async fn quiet(replicas: &[&Replica]) -> anyhow::Result<Option<Duration>> {
    let started = Instant::now();
    let mut before: Vec<Duration> = replicas.iter().map(|replica| replica.budget.used()).collect::<Result<_, _>>()?;
    while started.elapsed() < QUIET_WITHIN {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now: Vec<Duration> = replicas.iter().map(|replica| replica.budget.used()).collect::<Result<_, _>>()?;
        if now.iter().zip(&before).all(|(now, before)| now.saturating_sub(*before) < QUIET_BELOW) {
            return Ok(Some(started.elapsed()));
        }
        before = now;
    }
    tracing::warn!("the replicas were still busy after {QUIET_WITHIN:?}: measuring anyway");
    Ok(None)
}

/// Builds two replicas on one change log, then measures P6's load on one, on both, and on one
/// again; skipped, with the reason, where the machine gives no CPU budgets.
pub(crate) async fn run(scale: LoadScale, now: DateTime<Utc>) -> anyhow::Result<Result<Scenario, Skipped>> {
    let budgets = match budgets() {
        Ok(budgets) => budgets,
        Err(error) => {
            return Ok(Err(Skipped {
                id: "P14b",
                reason: format!("the replicas cannot be given equal CPU budgets on this machine: {error:#}"),
            }));
        }
    };
    let postgres = Postgres::start().await.context("failed to start PostgreSQL")?;
    let url = postgres.url();
    let database = ocicat_sql::Database::connect(&url).await?;
    // The tables exist before the replicas open them at once.
    let log = ChangeLog::open(database.clone()).await?;
    Replicas::open(database.clone()).await?;
    let leases = Leases::open(database).await?;

    let board = StatusBoard::default();
    let timings = Timings::default();
    let mut replicas = Vec::new();
    let mut started = Ok(());
    for (number, budget) in budgets.iter().enumerate() {
        let name = format!("replica-{}", number + 1);
        match Replica::start(name, url.clone(), board.clone(), timings.clone(), budget.clone()).await {
            Ok(replica) => replicas.push(replica),
            Err(error) => {
                started = Err(error);
                break;
            }
        }
    }
    let outcome = match started {
        Ok(()) => measure_all(&replicas, &log, &leases, &board, &timings, scale, now).await,
        Err(error) => Err(error.context("a replica did not start")),
    };
    // Every replica stops before any error is reported; the measurement's error comes first.
    let mut stopped = Ok(());
    for replica in replicas {
        if let Err(error) = replica.stop().await {
            stopped = stopped.and(Err(error));
        }
    }
    let (measured, ratio, errors, held) = outcome?;
    stopped?;
    Ok(Ok(Scenario::new(
        "P14b",
        "pages on two replicas",
        "P6 on two replicas behind a round-robin client, each with the same CPU budget: pages/s >= 1.8x one replica",
        measured,
        Some(ratio),
        vec![
            Check::at_least("two_to_one_pages_per_second", ratio, 1.8),
            Check::at_most("errors", errors as f64, 0.0),
            Check::at_least("least_throttled_share", held, HELD_AT_BUDGET),
        ],
    )))
}

/// The two budgets, each checked by a thread that joins it (and ends, leaving it empty).
fn budgets() -> anyhow::Result<[Arc<Budget>; 2]> {
    let budgets =
        [Arc::new(Budget::create("replica-1", REPLICA_CPUS)?), Arc::new(Budget::create("replica-2", REPLICA_CPUS)?)];
    for budget in &budgets {
        let probe = budget.clone();
        std::thread::spawn(move || probe.enter()).join().map_err(|_| anyhow!("a budget probe panicked"))??;
    }
    Ok(budgets)
}

/// Writes the catalog through the log, waits for both replicas to apply it and settle, and
/// runs the phases: one replica, both, one again (the reference is the two one-replica phases'
/// mean, so neither the order nor a drift favours either side). Answers the figures, the ratio,
/// the errors and the least throttled share.
async fn measure_all(
    replicas: &[Replica],
    log: &ChangeLog,
    leases: &Leases,
    board: &StatusBoard,
    timings: &Timings,
    scale: LoadScale,
    now: DateTime<Utc>,
) -> anyhow::Result<(serde_json::Value, f64, usize, f64)> {
    let [first, second] = replicas else { return Err(anyhow!("P14b runs two replicas")) };
    // The bench writes as the leader would: through the log, flushed once the first replica
    // applied it.
    let holder = "bench#writer";
    let epoch = leases
        .acquire("leader", holder, Duration::from_secs(3_600))
        .await?
        .context("the bench writer cannot take the leader lease")?
        .epoch;
    let writer = first.writer.through(LogSink::new(log.clone(), "leader", holder, epoch, first.applied.clone()));
    let started = Instant::now();
    let written = tokio::time::timeout(WRITTEN_WITHIN, async {
        let pages = fill(&writer, board, scale.artifacts, now).await?;
        let head = log.head().await?;
        for replica in replicas {
            replica.applied.clone().wait_for(|applied| *applied >= head).await?;
        }
        anyhow::Ok((pages, head))
    })
    .await;
    let (pages, head) =
        written.map_err(|_| anyhow!("the catalog was not written and applied within {WRITTEN_WITHIN:?}"))??;
    let replicated = started.elapsed();
    let settled = quiet(&[first, second]).await?;

    let (on_first, on_second) = (rotation(&first.pages(&pages)), rotation(&second.pages(&pages)));
    warm_up(&on_first).await.context("the first replica")?;
    warm_up(&on_second).await.context("the second replica")?;
    let one_before = measure(&[first], vec![on_first.clone()], timings, scale.idle).await?;
    let two = measure(&[first, second], vec![on_first.clone(), on_second], timings, scale.idle).await?;
    let one_after = measure(&[first], vec![on_first], timings, scale.idle).await?;
    let one = (one_before.phase.pages_per_second() + one_after.phase.pages_per_second()) / 2.0;
    let ratio = two.phase.pages_per_second() / one.max(f64::EPSILON);
    let errors = one_before.phase.errors() + two.phase.errors() + one_after.phase.errors();
    let held = [&one_before, &two, &one_after]
        .iter()
        .flat_map(|measured| measured.throttled.iter().copied())
        .fold(f64::INFINITY, f64::min);
    let measured = json!({
        "catalog_artifacts": scale.artifacts,
        "changes": head,
        "written_and_applied_by_both_s": seconds(replicated),
        "settled_after_s": settled.map(seconds),
        "cpus_per_replica": REPLICA_CPUS,
        "clients": CLIENTS,
        "one_replica_before": one_before.json(),
        "two_replicas": two.json(),
        "one_replica_after": one_after.json(),
        "one_replica_pages_per_second_mean": round(one),
        "two_to_one_pages_per_second": round(ratio),
    });
    Ok((measured, ratio, errors, held))
}
