//! P11: web vitals of the main pages in headless Chromium. A real distribution seeded with the
//! demo data set is crawled by the real crawler and served by the real router in this process
//! (so with the optimisations of the xtask build: release under `cargo xtask bench`, as users
//! run the server); `end2end/vitals.mjs` then loads every main page as a first visit, makes one
//! real interaction on it, and reports TTFB, LCP, CLS and INP per page. Each target is held
//! against the p75 of the worst page. The targets are absolute (what a visitor perceives), so
//! there is no same-run reference and no ratio.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ocicat::events::Events;
use ocicat_catalog::{CatalogWriter, WriterConfig};
use ocicat_crawler::{CrawlSettings, Crawler, RegistrySource, StatusBoard};
use ocicat_oci::{Client, ClientConfig, Credentials};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::report::{Check, Scenario, seconds};
use super::served::{Served, with_crawler};
use crate::workspace_root;

/// The registry name the pages use (the script's `OCICAT_REGISTRY`).
const REGISTRY: &str = "local";
/// Loads of each page.
const SAMPLES_PER_PAGE: usize = 7;
/// How long the first crawl of the demo data may take.
const CRAWL_WITHIN: Duration = Duration::from_secs(120);
/// How long the browser script may run (six pages, seven first visits each).
const SCRIPT_WITHIN: Duration = Duration::from_secs(600);

/// Time to first byte, p75 of every page (PERFORMANCE.md).
const TTFB_LIMIT_MS: f64 = 800.0;
/// Largest contentful paint, p75 of every page.
const LCP_LIMIT_MS: f64 = 2500.0;
/// Cumulative layout shift, p75 of every page.
const CLS_LIMIT: f64 = 0.1;
/// Interaction to next paint, p75 of every page.
const INP_LIMIT_MS: f64 = 200.0;

/// The part of the script's report the checks read.
#[derive(Debug, Deserialize)]
struct VitalsReport {
    /// The highest per-page p75 of each metric.
    worst_page_p75: WorstPages,
}

/// One figure per checked metric, named as the script names them.
#[derive(Debug, Deserialize)]
struct WorstPages {
    ttfb_ms: WorstPage,
    lcp_ms: WorstPage,
    cls: WorstPage,
    inp_ms: WorstPage,
}

/// The p75 of the page where a metric is worst (the script also names the page).
#[derive(Debug, Deserialize)]
struct WorstPage {
    value: f64,
}

/// Seeds and serves the demo data set, runs the browser script against it, and checks the
/// worst page's p75 of each web vital.
pub(crate) async fn run() -> anyhow::Result<Scenario> {
    let root = workspace_root();
    let site_root = root.join("target/site");
    let script_directory = root.join("end2end");
    ensure_prerequisites(&site_root, &script_directory)?;
    let directory = tempfile::Builder::new()
        .prefix("ocicat-bench-vitals-")
        .tempdir()
        .context("failed to create the vitals tempdir")?;
    let setup_started = Instant::now();
    let site = DemoSite::start(&site_root, directory.path()).await?;
    let vitals_path = directory.path().join("vitals.json");
    let outcome = async {
        let setup = setup_started.elapsed();
        tracing::info!(seconds = seconds(setup), server.url = %site.url, "P11: demo data crawled, loading pages");
        let measuring = Instant::now();
        run_script(&script_directory, &site.url, &site.seed_report, &vitals_path).await?;
        Ok::<_, anyhow::Error>((setup, measuring.elapsed()))
    }
    .await;
    let seeded_items = site.seeded_items;
    site.stop().await;
    let (setup, measuring) = outcome?;
    scenario(&vitals_path, seeded_items, setup, measuring)
}

/// The demo data set in a real distribution registry, crawled by the real crawler and served
/// by the real router in this process.
struct DemoSite {
    /// Where the pages are served.
    url: String,
    /// The seed report as the browser script reads it.
    seed_report: PathBuf,
    /// Manifests the seeder pushed.
    seeded_items: usize,
    writer: CatalogWriter,
    shutdown: CancellationToken,
    served: Served,
    _registry: Distribution,
}

impl DemoSite {
    /// Seeds a fresh registry, crawls it once into a catalog under `directory` and serves it.
    async fn start(site_root: &Path, directory: &Path) -> anyhow::Result<DemoSite> {
        let registry =
            Distribution::start(DistributionOptions::anonymous()).await.context("failed to start distribution")?;
        let url: url::Url = registry.url().parse().context("failed to parse the registry url")?;
        let seeded = ocicat_seed::seed(&Target::anonymous(url.clone()), Size::Demo)
            .await
            .context("failed to seed the registry with the demo data set")?;
        let seed_report = directory.join("seed.json");
        std::fs::write(&seed_report, serde_json::to_vec_pretty(&crate::run::report_json(&seeded))?)
            .context("failed to write the seed report")?;
        let client = Client::new(ClientConfig::new(url, Credentials::Anonymous)).context("failed to build a client")?;
        let (catalog, writer) = ocicat_catalog::open(&directory.join("data"), WriterConfig::default())
            .context("failed to open the vitals catalog")?;
        let board = StatusBoard::default();
        let shutdown = CancellationToken::new();
        // One crawl at start; "Refresh now" on the status page starts the others.
        let settings = CrawlSettings { interval: Duration::from_secs(3600), ..CrawlSettings::default() };
        let source = RegistrySource::new(REGISTRY, client.clone());
        let crawler =
            Crawler::start(vec![source], catalog.clone(), writer.clone(), board.clone(), settings, shutdown.clone());
        let mut state = with_crawler(catalog, board.clone(), crawler, Events::default(), &site_root.to_string_lossy());
        // The raw manifest and config views read the registry, as `ocicat serve`'s do.
        state.service = state.service.with_content(ocicat_content::Content::new([(REGISTRY.to_owned(), client)]));
        let served = Served::start(ocicat::router::build_router(state)).await?;
        let site = DemoSite {
            url: served.url(""),
            seed_report,
            seeded_items: seeded.items.len(),
            writer,
            shutdown,
            served,
            _registry: registry,
        };
        if let Err(error) = wait_for_first_crawl(&board).await {
            site.stop().await;
            return Err(error);
        }
        Ok(site)
    }

    /// Stops the crawler and the server and commits the catalog; the registry stops on drop.
    async fn stop(self) {
        self.shutdown.cancel();
        drop(self.served);
        if let Err(error) = self.writer.close().await {
            tracing::warn!(%error, "failed to close the vitals catalog");
        }
    }
}

/// Fails early, with the command to run, when the site or the browser tooling is missing.
fn ensure_prerequisites(site_root: &Path, script_directory: &Path) -> anyhow::Result<()> {
    let bundle = site_root.join("pkg/ocicat.wasm");
    if !bundle.is_file() {
        bail!("no wasm bundle at {}: run scripts/build-front.sh first", bundle.display());
    }
    let driver = script_directory.join("node_modules/playwright-core");
    if !driver.is_dir() {
        bail!("no playwright-core in {}: run npm ci in end2end/", driver.display());
    }
    Ok(())
}

/// Waits until the crawler has finished its first crawl of the demo registry (bounded).
async fn wait_for_first_crawl(board: &StatusBoard) -> anyhow::Result<()> {
    let started = Instant::now();
    while board.get(REGISTRY).is_none_or(|status| status.crawls_completed == 0) {
        if started.elapsed() > CRAWL_WITHIN {
            bail!("the first crawl of the demo registry did not finish within {} s", CRAWL_WITHIN.as_secs());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Runs `node vitals.mjs <out>` against `url`; its progress goes to this process's stderr.
async fn run_script(script_directory: &Path, url: &str, seed_report: &Path, out: &Path) -> anyhow::Result<()> {
    let mut command = tokio::process::Command::new("node");
    command
        .arg("vitals.mjs")
        .arg(out)
        .current_dir(script_directory)
        .env("OCICAT_URL", url)
        .env("OCICAT_SEED_REPORT", seed_report)
        .env("OCICAT_REGISTRY", REGISTRY)
        .env("OCICAT_VITALS_SAMPLES", SAMPLES_PER_PAGE.to_string())
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let status = tokio::time::timeout(SCRIPT_WITHIN, command.status())
        .await
        .with_context(|| format!("end2end/vitals.mjs did not finish within {} s", SCRIPT_WITHIN.as_secs()))?
        .context("failed to run node end2end/vitals.mjs")?;
    if !status.success() {
        bail!("end2end/vitals.mjs failed ({status})");
    }
    Ok(())
}

/// Reads the script's report and holds the worst page's p75 of each vital to its target.
fn scenario(vitals_path: &Path, seeded_items: usize, setup: Duration, measuring: Duration) -> anyhow::Result<Scenario> {
    let text = std::fs::read_to_string(vitals_path)
        .with_context(|| format!("failed to read the vitals report {}", vitals_path.display()))?;
    let vitals: serde_json::Value = serde_json::from_str(&text).context("failed to parse the vitals report")?;
    let report = VitalsReport::deserialize(&vitals).context("the vitals report has no worst_page_p75 figures")?;
    let worst = report.worst_page_p75;
    // A page that logged an error (a failed request) is not the page the vitals claim to be.
    let console_errors = vitals["pages"]
        .as_object()
        .into_iter()
        .flat_map(|pages| pages.values())
        .filter_map(|page| page["samples"].as_array())
        .flatten()
        .filter_map(|sample| sample["errors"].as_array())
        .map(Vec::len)
        .sum::<usize>();
    let measured = json!({
        "console_errors": console_errors,
        "data_set": format!("ocicat-seed demo: {seeded_items} manifests in one distribution registry"),
        "server": format!(
            "the ocicat router in the xtask process ({} build)",
            if cfg!(debug_assertions) { "debug" } else { "release" }
        ),
        "setup_s": seconds(setup),
        "browser_s": seconds(measuring),
        "vitals": vitals,
    });
    Ok(Scenario::new(
        "P11",
        "web vitals, main pages",
        "p75 per page: TTFB <= 0.8 s, LCP <= 2.5 s, CLS <= 0.1, INP <= 200 ms",
        measured,
        None,
        vec![
            Check::at_most("worst_page_ttfb_p75_ms", worst.ttfb_ms.value, TTFB_LIMIT_MS),
            Check::at_most("worst_page_lcp_p75_ms", worst.lcp_ms.value, LCP_LIMIT_MS),
            Check::at_most("worst_page_cls_p75", worst.cls.value, CLS_LIMIT),
            Check::at_most("worst_page_inp_p75_ms", worst.inp_ms.value, INP_LIMIT_MS),
            Check::at_most("console_errors", console_errors as f64, 0.0),
        ],
    ))
}
