//! S16: the bounded cost of what any reader can start. Searches run at most four at a time and
//! one query may hold at most 64 terms and 8 `*` a value; attached-document reads (signature
//! lists, SBOM and scan viewers) run at most two at a time. This scenario measures what those
//! bounds buy: the cost of the most expensive query the parser accepts against a plain one, how
//! fast an over-long query is refused, and, with 32 clients searching and 16 reading documents
//! at once, how many ran together (sampled from the service's own counters), the latencies the
//! waiting costs, and the memory the reads took.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use ocicat_access::Principal;
use ocicat_catalog::WriterConfig;
use ocicat_crawler::{RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_service::{AppError, Service};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::json;

use super::memory::{PeakSampler, anonymous_rss, mebibytes};
use super::report::{Check, Latencies, Scenario};
use super::synthetic::Generator;

/// Artifacts per synthetic repository.
const PER_REPOSITORY: usize = 10;
/// Concurrent searching clients.
const SEARCHERS: usize = 32;
/// Concurrent document readers.
const READERS: usize = 16;
/// Rounds each concurrent client makes.
const ROUNDS: usize = 4;
/// Sequential samples of one query.
const SAMPLES: usize = 20;

/// The heaviest query the parser accepts: 64 terms, 8 of them wildcards with 8 `*` each, all
/// alternatives (every term must be looked at, none can cut the others short).
fn worst_allowed_query() -> String {
    let wildcards = [
        "repo:*a*e*i*o*u*y*-*",
        "tag:*1*2*3*4*5*6*7*",
        "media:*v*n*d*o*c*+*",
        "type:*a*p*l*i*c*t*",
        "repo:*s*e*r*v*i*c*",
        "tag:*r*e*l*e*a*s*",
        "platform:*l*n*x*a*m*",
        "registry:*p*r*o*d*",
    ];
    let words = ["kind:image", "kind:sbom", "has:sbom", "size>=1", "gateway", "tag:1*"];
    let mut terms: Vec<String> = wildcards.iter().map(|term| (*term).to_owned()).collect();
    let mut index = 0;
    while terms.len() < 64 {
        terms.push(words[index % words.len()].to_owned());
        index += 1;
    }
    // Within the 1,000 characters a query may have.
    terms.join(" OR ")
}

/// One term too many.
fn refused_query() -> String {
    vec!["kind:image"; 65].join(" OR ")
}

/// Runs the scenario over `artifacts` synthetic artifacts and a seeded registry.
pub(crate) async fn run(artifacts: usize, now: DateTime<Utc>) -> anyhow::Result<Scenario> {
    let operator = ocicat::auth::local_operator();
    let searches = measure_searches(artifacts, now, &operator).await?;
    let reads = measure_document_reads(&operator).await?;
    let checks = vec![
        Check::at_most("searches_at_once_max", searches.at_once as f64, searches.limit as f64),
        Check::at_most("refused_query_p99_ms", searches.refused.p99_ms, 1.0),
        Check::at_most("worst_allowed_query_p99_ms", searches.worst.p99_ms, 1000.0),
        Check::at_most("document_reads_at_once_max", reads.at_once as f64, reads.limit as f64),
        Check::at_most("document_reads_rss_growth_mib", reads.rss_growth_mib, 256.0),
    ];
    let measured = json!({
        "artifacts": artifacts,
        "searches": {
            "plain_query": searches.plain,
            "worst_allowed_query": searches.worst,
            "worst_over_plain": super::report::round(searches.worst.p50_ms / searches.plain.p50_ms.max(0.001)),
            "refused_query": searches.refused,
            "clients": SEARCHERS,
            "concurrent_worst_queries": searches.concurrent,
            "busy_answers": searches.busy,
            "at_once_max": searches.at_once,
            "limit": searches.limit,
        },
        "document_reads": {
            "single_signature_list": reads.single,
            "clients": READERS,
            "concurrent_signature_lists": reads.concurrent,
            "busy_answers": reads.busy,
            "at_once_max": reads.at_once,
            "limit": reads.limit,
            "rss_growth_mib": reads.rss_growth_mib,
        },
    });
    Ok(Scenario::new(
        "S16",
        "bounded cost of reader work",
        "searches <= 4 and document reads <= 2 at once whatever the clients; an over-long query refused in <= 1 ms; \
         the worst allowed query p99 <= 1 s; reads grow memory <= 256 MiB",
        measured,
        None,
        checks,
    ))
}

struct SearchFigures {
    plain: Latencies,
    worst: Latencies,
    refused: Latencies,
    concurrent: Latencies,
    busy: usize,
    at_once: usize,
    limit: usize,
}

async fn measure_searches(artifacts: usize, now: DateTime<Utc>, who: &Principal) -> anyhow::Result<SearchFigures> {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).context("catalog")?;
    let generator = Generator { now, artifacts_per_repository: PER_REPOSITORY };
    let board = StatusBoard::default();
    for registry in ["prod", "staging", "mirror"] {
        board.register(registry, &format!("https://{registry}.example"));
    }
    for number in 0..artifacts.div_ceil(PER_REPOSITORY) {
        let (summary, documents) = generator.repository(number);
        writer.replace_repository(summary, documents).await.context("failed to index synthetic artifacts")?;
    }
    writer.flush().await.context("failed to commit")?;
    let service = Service::new(catalog, board);
    let sequential = |query: String| {
        let service = service.clone();
        async move {
            let mut samples = Vec::with_capacity(SAMPLES);
            for round in 0..=SAMPLES {
                let started = Instant::now();
                let answer = service.search(who, query.clone(), "newest".into(), 0).await;
                if round > 0 {
                    samples.push(started.elapsed());
                }
                if let Err(error) = answer
                    && !matches!(error, AppError::InvalidQuery { .. })
                {
                    bail!("search failed: {error}");
                }
            }
            Ok::<_, anyhow::Error>(Latencies::of(&samples))
        }
    };
    let plain = sequential("kind:sbom".into()).await?;
    let worst = sequential(worst_allowed_query()).await?;
    if let Err(error) = service.search(who, worst_allowed_query(), "newest".into(), 0).await {
        bail!("the worst allowed query was refused: {error}");
    }
    let refused = sequential(refused_query()).await?;
    if !matches!(service.search(who, refused_query(), "newest".into(), 0).await, Err(AppError::InvalidQuery { .. })) {
        bail!("the over-long query was not refused");
    }

    let sampler = RunningSampler::start(service.clone(), |work| work.searches);
    let search = move |service: Service, who: Principal| async move {
        service.search(&who, worst_allowed_query(), "newest".into(), 0).await.map(|_| ())
    };
    let (samples, busy) = run_clients(SEARCHERS, &service, who, search).await?;
    let at_once = sampler.stop();
    Ok(SearchFigures {
        plain,
        worst,
        refused,
        concurrent: Latencies::of(&samples),
        busy,
        at_once,
        limit: service.expensive_work().search_limit,
    })
}

struct ReadFigures {
    single: Latencies,
    concurrent: Latencies,
    busy: usize,
    at_once: usize,
    limit: usize,
    rss_growth_mib: f64,
}

async fn measure_document_reads(who: &Principal) -> anyhow::Result<ReadFigures> {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.context("distribution")?;
    let url: url::Url = registry.url().parse().context("registry url")?;
    let report = ocicat_seed::seed(&Target::anonymous(url.clone()), Size::Test).await.context("seed")?;
    let client = Client::new(ClientConfig::new(url, Credentials::Anonymous)).context("client")?;
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).context("catalog")?;
    let board = StatusBoard::default();
    board.register("local", client.base_url().as_str());
    let source = RegistrySource::new("local", client.clone());
    crawl_registry(&source, &catalog, &writer, &board, 4).await.map_err(anyhow::Error::msg)?;
    writer.flush().await.context("commit")?;
    let service =
        Service::new(catalog, board).with_content(ocicat_content::Content::new([("local".to_owned(), client)]));
    // The subject with the most signatures and attestations: the most reading per page view.
    let subject = report
        .items
        .iter()
        .max_by_key(|item| {
            report
                .items
                .iter()
                .filter(|other| {
                    other.subject.as_deref() == Some(item.digest.as_str())
                        && matches!(other.kind, "signature" | "attestation")
                })
                .count()
        })
        .context("an empty seed")?
        .clone();
    let list = move |service: Service, who: Principal| {
        let subject = subject.clone();
        async move {
            service.list_signatures(&who, "local".into(), subject.repository.clone(), subject.digest.clone()).await
        }
    };
    let mut single = Vec::new();
    for round in 0..=SAMPLES {
        let started = Instant::now();
        let rows = list(service.clone(), who.clone()).await.map_err(|error| anyhow::anyhow!("{error}"))?;
        if rows.is_empty() {
            bail!("the subject lists no signature");
        }
        if round > 0 {
            single.push(started.elapsed());
        }
    }
    let rss_before = anonymous_rss()?;
    let memory = PeakSampler::start()?;
    let sampler = RunningSampler::start(service.clone(), |work| work.document_reads);
    let read = move |service: Service, who: Principal| {
        let list = list.clone();
        async move { list(service, who).await.map(|_| ()) }
    };
    let (samples, busy) = run_clients(READERS, &service, who, read).await?;
    let at_once = sampler.stop();
    let peak = memory.stop();
    Ok(ReadFigures {
        single: Latencies::of(&single),
        concurrent: Latencies::of(&samples),
        busy,
        at_once,
        limit: service.expensive_work().document_limit,
        rss_growth_mib: mebibytes(peak.saturating_sub(rss_before)),
    })
}

/// Runs `clients` tasks making [`ROUNDS`] calls of `call` each; the latencies of the calls that
/// were served and the number told busy.
async fn run_clients<F, Fut>(
    clients: usize,
    service: &Service,
    who: &Principal,
    call: F,
) -> anyhow::Result<(Vec<Duration>, usize)>
where
    F: Fn(Service, Principal) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<(), AppError>> + Send,
{
    let mut running = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let (service, who, call) = (service.clone(), who.clone(), call.clone());
        running.spawn(async move {
            let (mut samples, mut busy) = (Vec::new(), 0);
            for _ in 0..ROUNDS {
                let started = Instant::now();
                match call(service.clone(), who.clone()).await {
                    Ok(()) => samples.push(started.elapsed()),
                    Err(AppError::Busy(_)) => busy += 1,
                    Err(error) => return Err(anyhow::anyhow!("a client's call failed: {error}")),
                }
            }
            Ok::<_, anyhow::Error>((samples, busy))
        });
    }
    let (mut samples, mut busy) = (Vec::new(), 0);
    while let Some(joined) = running.join_next().await {
        let (client_samples, client_busy) = joined.context("a client panicked")??;
        samples.extend(client_samples);
        busy += client_busy;
    }
    Ok((samples, busy))
}

/// The most of one kind of work seen running at once, sampled every 200 µs on a thread.
struct RunningSampler {
    running: Arc<AtomicBool>,
    most: Arc<AtomicUsize>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningSampler {
    fn start(service: Service, of: fn(ocicat_service::ExpensiveWork) -> usize) -> RunningSampler {
        let running = Arc::new(AtomicBool::new(true));
        let most = Arc::new(AtomicUsize::new(0));
        let (thread_running, thread_most) = (running.clone(), most.clone());
        let thread = std::thread::spawn(move || {
            while thread_running.load(Ordering::Relaxed) {
                thread_most.fetch_max(of(service.expensive_work()), Ordering::Relaxed);
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        RunningSampler { running, most, thread: Some(thread) }
    }

    fn stop(mut self) -> usize {
        self.running.store(false, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.most.load(Ordering::Relaxed)
    }
}
