//! Automation behind the README's commands: `demo` (a real registry, seeded, with ocicat on it)
//! and `e2e` (the same, then the Chromium suite in end2end/), plus `seed` for any registry and
//! `bench` for the PERFORMANCE.md scenarios.

mod airgap;
mod bench;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "xtask", about = "ocicat automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start distribution 2.8.2 on loopback, seed it, and serve ocicat on it until Ctrl-C.
    Demo {
        /// Where ocicat listens (further replicas on the ports after it).
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: String,
        /// Replicas of ocicat on one PostgreSQL (one leads and crawls; each keeps its own index).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=8))]
        replicas: u16,
    },
    /// Start a seeded registry and ocicat, run the end-to-end suite in Chromium, stop everything.
    E2e,
    /// Seed an existing registry.
    Seed {
        /// The registry's base URL.
        #[arg(long)]
        url: url::Url,
        /// `demo`, `test`, or a number of repositories for a bench-scale data set.
        #[arg(long, default_value = "demo")]
        size: String,
        /// Username, when the registry needs one (password from OCICAT_SEED_PASSWORD).
        #[arg(long)]
        username: Option<String>,
        /// The registry implements the OCI referrers API (no fallback tags are written).
        #[arg(long)]
        referrers_api: bool,
    },
    /// Run the PERFORMANCE.md benchmarks and write a JSON summary (takes minutes; `--quick` less).
    Bench {
        /// A tenth of the data (800 repositories to crawl, 100k artifacts to index).
        #[arg(long)]
        quick: bool,
        /// Where the JSON summary goes (default: target/bench/summary.json in the workspace).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Run only these groups: `index` (P4, P5, P9), `crawl` (P1, P2), `pages` (P3, P3b), `load` (P6, P7),
        /// `webhook` (P8), `vitals` (P11), `proxy` (P10), `costs` (S16: bounded reader work), `copy` (P12).
        #[arg(long, value_delimiter = ',')]
        only: Vec<bench::Group>,
        /// Keep the P4 index directory after the run (its path is logged), for profiling.
        #[arg(long)]
        keep_index: bool,
    },
}

/// The ocicat binary the automation runs (built by the README's commands beforehand).
pub(crate) fn ocicat_binary() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::env::var_os("OCICAT_BIN").map(PathBuf::from).unwrap_or_else(|| root.join("target/debug/ocicat"))
}

/// The workspace root.
pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").canonicalize().unwrap_or_else(|_| PathBuf::from("."))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info".into())
                .add_directive(ocicat::telemetry::POSTGRES_NOTICES.parse()?),
        )
        .init();
    match Cli::parse().command {
        Command::Demo { listen, replicas } => run::demo(&listen, usize::from(replicas)).await,
        Command::E2e => run::e2e().await,
        Command::Seed { url, size, username, referrers_api } => {
            let size = run::parse_size(&size)?;
            let target = ocicat_seed::Target {
                url,
                username,
                password: std::env::var("OCICAT_SEED_PASSWORD").ok(),
                referrers_api,
            };
            let report = ocicat_seed::seed(&target, size).await?;
            println!("{}", serde_json::to_string_pretty(&run::report_json(&report))?);
            Ok(())
        }
        Command::Bench { quick, out, only, keep_index } => {
            let out = out.unwrap_or_else(|| workspace_root().join("target/bench/summary.json"));
            bench::run(bench::Options { quick, out, only, keep_index }).await
        }
    }
}
