//! `xtask bench`: the PERFORMANCE.md scenarios this project can measure on one machine (P1 to P14), each with its same-run reference where the document asks for one, written
//! as a JSON summary and printed as a table. Benchmarks check speed; tests check correctness.
//!
//! The index scenarios run first, in a fresh process, so that the memory figures (P9) describe
//! the catalog and not what the crawl scenarios left on the heap.

mod bound;
mod budget;
mod census;
mod copy;
mod costs;
mod crawl;
mod impact;
mod index;
mod load;
mod memory;
mod page_set;
mod proxy;
mod proxy_limit;
mod raw_index;
mod registrypage;
mod replica_pages;
mod replicas;
mod report;
mod search;
mod search_served;
mod serve_memory;
mod serve_process;
mod served;
mod server_alone;
mod signed_in;
mod synthetic;
mod tagpage;
mod vitals;
mod webhook;

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use chrono::Utc;

use self::memory::MemoryFigures;
use self::report::{Summary, seconds};

/// Repositories crawled at once, as the server's default crawl settings.
const CRAWL_CONCURRENCY: usize = 4;

/// How much data each scenario uses.
#[derive(Debug, Clone, Copy)]
struct Scale {
    /// `full` or `quick`.
    mode: &'static str,
    /// Bench repositories seeded for P1/P2 (each fourth has two versions: 1.25 manifests each).
    crawl_repositories: usize,
    /// Synthetic artifacts indexed for P4/P5/P9.
    artifacts: usize,
    /// Rounds of every query per search client.
    search_rounds: usize,
    /// Tag pushes timed for P8.
    pushes: usize,
    /// Tags of the P3 repository.
    tags: usize,
    /// Repositories of the P3b registry.
    registry_repositories: usize,
    /// The P6/P7 catalog, crawl and load duration.
    load: load::LoadScale,
    /// The P10 blob, in MiB.
    proxy_mebibytes: usize,
    copy_mebibytes: usize,
    copy_referrers: usize,
    /// The P13 data set.
    impact: impact::ImpactScale,
}

impl Scale {
    fn new(quick: bool) -> Scale {
        if quick {
            Scale {
                mode: "quick",
                crawl_repositories: 800,
                artifacts: 100_000,
                search_rounds: 10,
                pushes: 20,
                tags: 2_000,
                registry_repositories: 20_000,
                load: load::LoadScale {
                    artifacts: 20_000,
                    crawl_repositories: 400,
                    idle: std::time::Duration::from_secs(5),
                },
                proxy_mebibytes: 20,
                copy_mebibytes: 40,
                copy_referrers: 200,
                impact: impact::ImpactScale { sboms: 2_000, distinct_packages: 20_000, rounds: 5 },
            }
        } else {
            Scale {
                mode: "full",
                crawl_repositories: 8_000,
                artifacts: 1_000_000,
                search_rounds: 40,
                pushes: 20,
                tags: 10_000,
                registry_repositories: 100_000,
                load: load::LoadScale {
                    artifacts: 100_000,
                    crawl_repositories: 2_000,
                    idle: std::time::Duration::from_secs(20),
                },
                proxy_mebibytes: 100,
                copy_mebibytes: 200,
                copy_referrers: 1_000,
                impact: impact::ImpactScale { sboms: 10_000, distinct_packages: 20_000, rounds: 20 },
            }
        }
    }
}

/// Groups of scenarios that can run alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Group {
    /// P4, P5 and P9: the index.
    Index,
    /// P1 and P2: crawling a seeded registry.
    Crawl,
    /// P8: push to searchable.
    Webhook,
    /// P3: the tag page of a 10k-tag repository against live browsing; P3b: a registry page
    /// with 100k repositories.
    Pages,
    /// P6 and P7: pages under 50 clients, idle and while a crawl runs.
    Load,
    /// P11: web vitals of the main pages in headless Chromium.
    Vitals,
    /// P10: a 100 MiB blob through the content proxy against a direct download.
    Proxy,
    /// S16: the bounded cost of searches and document reads any reader can start.
    Costs,
    /// P12: copying an image between registries against skopeo, and a graph of referrers.
    Copy,
    /// P13: impact queries over many SBOMs sharing most packages.
    Impact,
    /// P14: a follower's lag while the leader crawls the P1 data set through the change log.
    Replicas,
    /// P14b: P6's pages on two replicas against one, each held to the same CPU budget.
    ReplicaPages,
}

impl Group {
    /// Every group, in the order `run` measures them.
    const ALL: [Group; 12] = [
        Group::Index,
        Group::Crawl,
        Group::Pages,
        Group::Load,
        Group::Vitals,
        Group::Proxy,
        Group::Copy,
        Group::Impact,
        Group::Replicas,
        Group::ReplicaPages,
        Group::Costs,
        Group::Webhook,
    ];

    /// The group's name on the command line.
    fn name(self) -> String {
        use clap::ValueEnum as _;
        self.to_possible_value().map(|value| value.get_name().to_owned()).unwrap_or_default()
    }

    /// The PERFORMANCE.md scenarios (and S16) the group measures.
    fn scenarios(self) -> &'static [&'static str] {
        match self {
            Group::Index => &["P4", "P5", "P9"],
            Group::Crawl => &["P1", "P2"],
            Group::Webhook => &["P8"],
            Group::Pages => &["P3", "P3b"],
            Group::Load => &["P6", "P7"],
            Group::Vitals => &["P11"],
            Group::Proxy => &["P10"],
            Group::Costs => &["S16"],
            Group::Copy => &["P12"],
            Group::Impact => &["P13"],
            Group::Replicas => &["P14"],
            Group::ReplicaPages => &["P14b"],
        }
    }
}

/// What `xtask bench` was asked for.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// A tenth of the data.
    pub(crate) quick: bool,
    /// Where the JSON summary goes.
    pub(crate) out: PathBuf,
    /// Groups to run; empty runs all.
    pub(crate) only: Vec<Group>,
    /// Keep the P4 index directory.
    pub(crate) keep_index: bool,
}

impl Options {
    fn runs(&self, group: Group) -> bool {
        self.only.is_empty() || self.only.contains(&group)
    }
}

/// Runs the scenarios asked for, writes the summary to `out` and prints the table.
pub(crate) async fn run(options: Options) -> anyhow::Result<()> {
    let scale = Scale::new(options.quick);
    let started = Instant::now();
    let started_at = Utc::now();
    let load_at_start = report::load_average();
    let mut scenarios = Vec::new();
    let mut skipped = Vec::new();

    if options.runs(Group::Index) {
        scenarios.extend(index_scenarios(scale, started_at, options.keep_index).await?);
    }
    if options.runs(Group::Crawl) {
        tracing::info!(repositories = scale.crawl_repositories, "P1/P2: seeding and crawling");
        scenarios.extend(crawl::run(scale.crawl_repositories, CRAWL_CONCURRENCY).await?);
    }
    if options.runs(Group::Pages) {
        tracing::info!(tags = scale.tags, "P3: tag page against live browsing");
        scenarios.push(tagpage::run(scale.tags).await?);
        tracing::info!(repositories = scale.registry_repositories, "P3b: registry page");
        scenarios.push(registrypage::run(scale.registry_repositories, started_at).await?);
    }
    if options.runs(Group::Load) {
        tracing::info!(clients = load::CLIENTS, artifacts = scale.load.artifacts, "P6/P7: pages under load");
        scenarios.extend(load::run(scale.load, started_at).await?);
    }
    if options.runs(Group::Vitals) {
        tracing::info!("P11: web vitals in Chromium");
        scenarios.push(vitals::run().await?);
    }
    if options.runs(Group::Proxy) {
        tracing::info!(mebibytes = scale.proxy_mebibytes, "P10: blob through the content proxy");
        scenarios.push(proxy::run(scale.proxy_mebibytes).await?);
    }
    if options.runs(Group::Copy) {
        tracing::info!(
            mebibytes = scale.copy_mebibytes,
            referrers = scale.copy_referrers,
            "P12: copy between registries"
        );
        scenarios.push(copy::run(scale.copy_mebibytes, scale.copy_referrers).await?);
    }
    if options.runs(Group::Impact) {
        tracing::info!(sboms = scale.impact.sboms, "P13: impact queries");
        scenarios.push(impact::run(scale.impact).await?);
    }
    if options.runs(Group::Replicas) {
        tracing::info!(repositories = scale.crawl_repositories, "P14: follower lag during a cold crawl");
        scenarios.push(replicas::run(scale.crawl_repositories, CRAWL_CONCURRENCY).await?);
    }
    if options.runs(Group::ReplicaPages) {
        tracing::info!(artifacts = scale.load.artifacts, "P14b: pages on two replicas against one");
        match replica_pages::run(scale.load, started_at).await? {
            Ok(scenario) => scenarios.push(scenario),
            Err(reason) => skipped.push(reason),
        }
    }
    if options.runs(Group::Costs) {
        tracing::info!(artifacts = scale.load.artifacts, "S16: bounded cost of reader work");
        scenarios.push(costs::run(scale.load.artifacts, started_at).await?);
    }
    if options.runs(Group::Webhook) {
        tracing::info!(pushes = scale.pushes, "P8: push to searchable");
        scenarios.push(webhook::run(scale.pushes).await?);
    }

    for group in Group::ALL {
        if !options.runs(group) {
            skipped.extend(group.scenarios().iter().map(|id| report::Skipped {
                id,
                reason: format!("its group `{}` was not asked for (--only)", group.name()),
            }));
        }
    }
    let verdict = report::Verdict::of(scale.mode, &scenarios, &skipped);
    let summary = Summary {
        mode: scale.mode,
        started: started_at.to_rfc3339(),
        cpus: std::thread::available_parallelism().map(usize::from).unwrap_or(1),
        load_average: [load_at_start, report::load_average()],
        duration_s: seconds(started.elapsed()),
        scenarios,
        skipped,
        pass: verdict.pass,
        verdict: verdict.text,
    };
    summary.write(&options.out)?;
    println!("{}\n\nsummary written to {}", summary.table(), options.out.display());
    Ok(())
}

/// P4, P5 and P9 over one synthetic index.
async fn index_scenarios(
    scale: Scale,
    started_at: chrono::DateTime<Utc>,
    keep_index: bool,
) -> anyhow::Result<Vec<report::Scenario>> {
    tracing::info!(artifacts = scale.artifacts, "P4: indexing synthetic artifacts");
    let built = index::run(scale.artifacts, started_at).await?;
    tracing::info!(clients = search::CLIENTS, "P5: searching");
    let directory = built.directory.path().to_owned();
    let rounds = scale.search_rounds;
    let searched = tokio::task::spawn_blocking(move || search::run(&directory, rounds, started_at))
        .await
        .context("search scenario panicked")??;
    // Every indexed artifact must be found: a search scenario over a partial index measures
    // nothing, so the difference fails P5 instead of being a warning.
    let missing = built.artifacts.abs_diff(searched.searchable);
    let search_scenario =
        searched.scenario.with_check(report::Check::at_most("indexed_not_searchable", missing as f64, 0.0));
    tracing::info!("P9: ocicat serve over the index");
    let named = search::named_queries();
    let texts: Vec<String> = named.iter().map(|(_, text)| text.clone()).collect();
    let served = serve_memory::measure(built.directory.path(), built.artifacts, &texts).await?;
    tracing::info!("P5: instructions per search under callgrind");
    let instructions = search_served::instructions(built.directory.path(), built.artifacts, &named).await?;
    let search_scenario = search_scenario.with_measured("instructions_per_api_search", instructions);
    let figures = MemoryFigures {
        artifacts: searched.searchable,
        before_index: built.rss_before,
        peak_while_indexing: built.rss_peak,
        after_index: built.rss_after,
        after_search: searched.rss_after,
        served,
    };
    let scenarios = vec![built.scenario, search_scenario, memory::scenario(figures)?];
    if keep_index {
        let kept = built.directory.keep();
        tracing::info!(index.path = %kept.display(), "index kept");
    }
    Ok(scenarios)
}
