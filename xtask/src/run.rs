//! The orchestration itself: registry, seed, ocicat child process, readiness, teardown.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ocicat_seed::{SeedReport, Size};
use ocicat_testkit::{Distribution, DistributionOptions};
use tokio::process::{Child, Command};

use crate::{ocicat_binary, workspace_root};

/// Parses `demo`, `test` or a repository count.
pub(crate) fn parse_size(text: &str) -> anyhow::Result<Size> {
    Ok(match text {
        "demo" => Size::Demo,
        "test" => Size::Test,
        number => Size::Bench { repositories: number.parse().context("size must be demo, test or a number")? },
    })
}

/// The seed report as JSON (for the end-to-end suite and the terminal).
pub(crate) fn report_json(report: &SeedReport) -> serde_json::Value {
    let items: Vec<serde_json::Value> = report
        .items
        .iter()
        .map(|item| {
            serde_json::json!({
                "repository": item.repository, "reference": item.reference, "digest": item.digest,
                "kind": item.kind, "subject": item.subject,
            })
        })
        .collect();
    serde_json::json!({ "items": items })
}

struct Stack {
    registry: Distribution,
    ocicat: Child,
    url: String,
    report: SeedReport,
    _work: tempfile::TempDir,
}

/// Starts the registry, seeds it and starts ocicat on it; `offline_registry` adds a registry
/// configured on a port where nothing listens (the end-to-end suite checks how it is shown).
async fn start_stack(listen: &str, size: Size, offline_registry: Option<u16>) -> anyhow::Result<Stack> {
    let started = Instant::now();
    // The registry notifies ocicat of every push (distribution retries until ocicat is up).
    let events_secret =
        format!("demo-events-{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
    let options =
        DistributionOptions::anonymous().with_notifications(format!("http://{listen}/events/local"), &events_secret);
    let registry = Distribution::start(options).await.context("cannot start the registry")?;
    tracing::info!(registry.url = %registry.url(), "registry started");
    let target = ocicat_seed::Target::anonymous(registry.url().parse()?);
    let report = ocicat_seed::seed(&target, size).await.context("cannot seed the registry")?;
    tracing::info!(items = report.items.len(), seconds = started.elapsed().as_secs_f32(), "registry seeded");
    let work = tempfile::tempdir()?;
    let config_path = work.path().join("ocicat.toml");
    let site_root = workspace_root().join("target/site");
    std::fs::write(
        &config_path,
        format!(
            "[server]\nlisten = {listen:?}\ndata_dir = {:?}\nsite_root = {:?}\n\n[crawl]\ninterval_secs = 60\n\n[[registry]]\nname = \"local\"\nurl = {:?}\nevents_secret_env = \"OCICAT_EVENTS_SECRET\"\n{}",
            work.path().join("data"),
            site_root,
            registry.url(),
            offline_registry
                .map(|port| format!("\n[[registry]]\nname = \"offline\"\nurl = \"http://127.0.0.1:{port}\"\n"))
                .unwrap_or_default(),
        ),
    )?;
    let ocicat = Command::new(ocicat_binary())
        .arg("--config")
        .arg(&config_path)
        .arg("serve")
        .env("OCICAT_EVENTS_SECRET", &events_secret)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", ocicat_binary().display()))?;
    let url = format!("http://{listen}");
    wait_until_crawled(&url).await?;
    tracing::info!(seconds = started.elapsed().as_secs_f32(), "ocicat crawled the registry");
    Ok(Stack { registry, ocicat, url, report, _work: work })
}

/// Polls the JSON API until every registry finished its first crawl or was found unreachable (bounded).
async fn wait_until_crawled(url: &str) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(response) = client.get(format!("{url}/api/v1/registries")).send().await {
            if let Ok(cards) = response.json::<Vec<serde_json::Value>>().await {
                if !cards.is_empty()
                    && cards.iter().all(|card| card["last_success"].is_string() || card["state"] == "unreachable")
                {
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            bail!("ocicat at {url} did not finish its first crawl within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// README command 1.
pub(crate) async fn demo(listen: &str) -> anyhow::Result<()> {
    let mut stack = start_stack(listen, Size::Demo, None).await?;
    let report_path = workspace_root().join("target/demo-seed.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report_json(&stack.report))?)?;
    println!(
        "\n  ocicat demo is ready: {}\n  registry: {} (push to it with skopeo or oras)\n  Ctrl-C stops everything.\n",
        stack.url,
        stack.registry.url()
    );
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        status = stack.ocicat.wait() => bail!("ocicat exited unexpectedly: {status:?}"),
    }
    stop(&mut stack.ocicat).await;
    println!("stopped");
    Ok(())
}

/// The end-to-end suite (part of README command 2).
pub(crate) async fn e2e() -> anyhow::Result<()> {
    let port = ocicat_testkit::free_port()?;
    let mut stack = start_stack(&format!("127.0.0.1:{port}"), Size::Test, Some(ocicat_testkit::free_port()?)).await?;
    let report_path = stack._work.path().join("seed.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report_json(&stack.report))?)?;
    let status = run_node_suite(&workspace_root().join("end2end"), &stack.url, &report_path).await;
    stop(&mut stack.ocicat).await;
    let status = status?;
    if !status.success() {
        bail!("end-to-end suite failed ({status})");
    }
    Ok(())
}

async fn run_node_suite(directory: &Path, url: &str, report: &Path) -> anyhow::Result<std::process::ExitStatus> {
    Command::new("npm")
        .arg("test")
        .current_dir(directory)
        .env("OCICAT_URL", url)
        .env("OCICAT_SEED_REPORT", report)
        .env("OCICAT_REGISTRY", "local")
        .status()
        .await
        .context("cannot run npm test in end2end/")
}

async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        // SIGTERM first so ocicat shuts down gracefully, then make sure.
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }
}
