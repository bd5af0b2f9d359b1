//! The `ocicat` binary: `serve` (the web app and the crawler), `crawl` (one crawl, then exit),
//! `check-config`, `search`, `impact`, `user add/passwd/remove`. It only wires the crates together.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use ocicat::mode::Mode;
use ocicat_crawler::{CrawlSettings, crawl_registry};
use tokio_util::sync::CancellationToken;

use ocicat::config::Config;
use ocicat::state::{AppState, event_secrets, open_catalog, registry_sources, status_board};
use ocicat::{router, telemetry};

/// A browser catalog for OCI registries.
#[derive(Debug, Parser)]
#[command(name = "ocicat", version, about)]
struct Cli {
    /// The configuration file.
    #[arg(long, short, global = true, env = "OCICAT_CONFIG", default_value = "ocicat.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the web app and crawl the registries (the default).
    Serve {
        /// Overrides `[server] listen`.
        #[arg(long, env = "OCICAT_LISTEN")]
        listen: Option<String>,
    },
    /// Crawl every configured registry once into the index (a progress bar on a terminal,
    /// resuming an interrupted crawl), print the status of each as JSON, and exit.
    Crawl,
    /// Validate the configuration and exit.
    CheckConfig,
    /// Search the index with the query language and print the results as JSON.
    Search {
        /// The query, e.g. 'eol < today' or 'kind:sbom repo:demo/*'.
        query: String,
        /// newest, oldest, name, relevance or size.
        #[arg(long, default_value = "newest")]
        sort: String,
        /// Zero-based page of 25 results.
        #[arg(long, default_value_t = 0)]
        page: usize,
    },
    /// Which artifacts contain a package or carry an advisory, from every attached SBOM and
    /// scan, grouped by repository (JSON, or CSV with --csv).
    Impact {
        /// The query, e.g. 'cve:CVE-2024-3094' or 'pkg:openssl version < 3.0.13 repo:prod/*'.
        query: String,
        /// Only the newest tagged build of each repository.
        #[arg(long)]
        latest: bool,
        /// Print CSV (every page) instead of JSON.
        #[arg(long)]
        csv: bool,
        /// Order of the repositories: repository (A to Z), newest (newest affected build first)
        /// or affected (most affected artifacts first).
        #[arg(long, default_value = "repository", value_parser = ["repository", "newest", "affected"])]
        sort: String,
        /// Zero-based page of 25 repositories (JSON).
        #[arg(long, default_value_t = 0)]
        page: usize,
    },
    /// Print the verdicts on an artifact's signatures under the configured trust policies as
    /// JSON, from the index (no registry is asked); fails unless a policy verifies one.
    Verify {
        /// registry/repository:tag or registry/repository@sha256:….
        target: String,
    },
    /// Manage the users file of `[access] users_file` (argon2id hashes). The password is read
    /// from standard input (one line), never from the command line.
    User {
        #[command(subcommand)]
        action: ocicat::users_cli::UserAction,
    },
    /// Plan a delete (printed as JSON, nothing deleted), or with --yes carry it out: the
    /// targets with everything attached to them, referrers first. Stop `serve` first (it holds
    /// the index), or use `POST /api/v1/plans` on it instead.
    Delete {
        /// registry/repository:tag or registry/repository@sha256:… (several allowed).
        targets: Vec<String>,
        /// Everything this search finds, e.g. 'eol < today'.
        #[arg(long)]
        query: Option<String>,
        /// Remove only the tags named, never a manifest (where the registry can).
        #[arg(long)]
        tag_only: bool,
        /// Only print the plan (the default).
        #[arg(long, conflicts_with = "yes")]
        plan: bool,
        /// Delete now, without asking.
        #[arg(long)]
        yes: bool,
    },
    /// Plan a copy of an artifact with everything attached to it (printed as JSON, nothing
    /// written), or with --yes carry it out: blobs, manifests byte for byte, referrers, tags
    /// last. Stop `serve` first (it holds the index), or use `POST /api/v1/copies` on it.
    Copy {
        /// registry/repository:tag, registry/repository@sha256:…, or registry/repository (every
        /// tagged artifact, each with its own tags, or what --query finds there).
        source: String,
        /// registry/repository, or registry/repository:tag to tag the one artifact there.
        destination: String,
        /// A search within the source repository, e.g. 'tag:1.4.*'.
        #[arg(long)]
        query: Option<String>,
        #[command(flatten)]
        filter: ocicat::copy_cli::FilterArgs,
        #[command(flatten)]
        run: ocicat::copy_cli::RunArgs,
    },
    /// Export an artifact with its whole graph (or a repository, or what --query finds there)
    /// to an OCI image layout: a directory (what it holds is kept and skipped), or a .tar file.
    /// Stop `serve` first, or download GET /api/v1/exports/layout.tar from it.
    Export {
        /// registry/repository:tag, registry/repository@sha256:…, or registry/repository.
        source: String,
        /// A layout directory, or FILE.tar.
        destination: std::path::PathBuf,
        /// A search within the source repository, e.g. 'tag:1.4.*'.
        #[arg(long)]
        query: Option<String>,
        #[command(flatten)]
        filter: ocicat::copy_cli::FilterArgs,
    },
    /// Import an OCI image layout (a directory or FILE.tar, written by ocicat, skopeo, oras or
    /// regctl) into a registry: print the copy plan, or with --yes carry it out.
    Import {
        /// A layout directory or FILE.tar.
        source: std::path::PathBuf,
        /// registry/repository (every tagged artifact with its tags), or registry/repository:tag.
        destination: String,
        #[command(flatten)]
        run: ocicat::copy_cli::RunArgs,
    },
    /// Attach an end of life (--eol, --revoke-eol), annotations (--annotation k=v) or a file
    /// (--file F --media-type T) to an artifact, as a referrer; its digest never changes.
    Attach(ocicat::attach_cli::AttachArgs),
    /// Retention policies of the configuration: list them, or run one now.
    Retention {
        #[command(subcommand)]
        action: ocicat::lifecycle_cli::RetentionAction,
    },
    /// Print the audit log of deletes, oldest first, as JSON lines.
    Audit,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    telemetry::init();
    let cli = Cli::parse();
    let config = Config::load(&cli.config)?;
    match cli.command.unwrap_or(Command::Serve { listen: None }) {
        Command::CheckConfig => {
            let users = match &config.access {
                Some(access) => format!(", {} users", access.resolve_users()?.len()),
                None => ", open to everyone (no [access])".to_owned(),
            };
            let trust = match config.trust_policies.all() {
                [] => String::new(),
                policies => {
                    let keys: usize = policies.iter().map(|policy| policy.keys.len()).sum();
                    let signers: usize = policies.iter().map(|policy| policy.keyless.len()).sum();
                    let roots: usize = policies.iter().map(|policy| policy.notation_roots.len()).sum();
                    format!(
                        ", {} trust policies with {keys} keys, {signers} keyless signers and {roots} notation roots",
                        policies.len()
                    )
                }
            };
            println!("{}: ok ({} registries{users}{trust})", cli.config.display(), config.registries.len());
            Ok(())
        }
        Command::Crawl => crawl_once(&config).await,
        Command::Search { query, sort, page } => search(&config, query, sort, page).await,
        Command::Impact { query, latest, csv, sort, page } => impact(&config, query, latest, csv, &sort, page).await,
        Command::User { action } => ocicat::users_cli::run(&config, action),
        Command::Delete { targets, query, tag_only, plan: _, yes } => {
            ocicat::lifecycle_cli::delete(&config, targets, query, tag_only, yes).await
        }
        Command::Copy { source, destination, query, filter, run } => {
            let filter = filter.into_filter();
            let args = ocicat::copy_cli::CopyArgs { source, query, destination, filter, run };
            ocicat::copy_cli::copy(&config, args).await
        }
        Command::Export { source, destination, query, filter } => {
            let args = ocicat::layout_cli::ExportArgs { source, destination, query, filter: filter.into_filter() };
            ocicat::layout_cli::export(&config, args).await
        }
        Command::Import { source, destination, run } => {
            let args = ocicat::layout_cli::ImportArgs { source, destination, run };
            ocicat::layout_cli::import(&config, args).await
        }
        Command::Attach(args) => ocicat::attach_cli::attach(&config, args).await,
        Command::Retention { action } => ocicat::lifecycle_cli::retention(&config, action).await,
        Command::Audit => ocicat::lifecycle_cli::audit(&config).await,
        Command::Verify { target } => ocicat::verify_cli::verify(&config, &target).await,
        Command::Serve { listen } => serve(config, listen).await,
    }
}

/// A read-only service over the index next to a server (whoever can read the data directory
/// may read the whole index).
fn reading_service(config: &Config) -> anyhow::Result<ocicat_service::Service> {
    let catalog = ocicat_catalog::open_reader(&config.server.data_dir).with_context(|| {
        format!("no index in {}: run `ocicat crawl` or `ocicat serve` first", config.server.data_dir.display())
    })?;
    Ok(ocicat_service::Service::new(catalog, ocicat::state::configured_board(config)))
}

async fn impact(
    config: &Config,
    query: String,
    latest: bool,
    csv: bool,
    sort: &str,
    page: usize,
) -> anyhow::Result<()> {
    let service = reading_service(config)?;
    let operator = ocicat::auth::local_operator();
    if csv {
        let text =
            service.impact_csv(&operator, query, latest, sort).await.map_err(|error| anyhow::anyhow!("{error}"))?;
        print!("{text}");
        return Ok(());
    }
    let view =
        service.impact(&operator, query, latest, sort, page).await.map_err(|error| anyhow::anyhow!("{error}"))?;
    println!("{}", serde_json::to_string_pretty(&view)?);
    Ok(())
}

async fn search(config: &Config, query: String, sort: String, page: usize) -> anyhow::Result<()> {
    let service = reading_service(config)?;
    match service.search(&ocicat::auth::local_operator(), query, sort, page).await {
        Ok(results) => {
            println!("{}", serde_json::to_string_pretty(&results)?);
            Ok(())
        }
        Err(error) => anyhow::bail!("{error}"),
    }
}

async fn crawl_once(config: &Config) -> anyhow::Result<()> {
    let sources = registry_sources(config).await?;
    let (catalog, writer) = open_catalog(config)?;
    let board = status_board(&sources);
    let progress = show_progress(board.clone(), sources.iter().map(|source| source.name.clone()).collect());
    let mut failed = false;
    for source in &sources {
        let outcome = crawl_registry(source, &catalog, &writer, &board, config.crawl.concurrency).await;
        if let Err(error) = &outcome {
            tracing::error!(registry.name = %source.name, %error, "crawl failed");
            failed = true;
        }
        board.record_outcome(&source.name, &outcome);
    }
    writer.flush().await.context("cannot commit the index")?;
    progress.abort();
    println!("{}", serde_json::to_string_pretty(&board.snapshot())?);
    if failed {
        anyhow::bail!("at least one registry could not be crawled");
    }
    Ok(())
}

/// Draws one progress bar per registry on stderr (only when it is a terminal) until aborted.
fn show_progress(board: ocicat_crawler::StatusBoard, names: Vec<String>) -> tokio::task::JoinHandle<()> {
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} repositories · {msg}")
        .map(|style| style.progress_chars("=> "))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let registries: Vec<(String, ProgressBar)> = names
        .into_iter()
        .map(|name| {
            let bar = bars.add(ProgressBar::new(0).with_style(style.clone()).with_prefix(name.clone()));
            (name, bar)
        })
        .collect();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        loop {
            tick.tick().await;
            for (name, bar) in &registries {
                let Some(status) = board.get(name) else { continue };
                bar.set_length(status.repositories_total);
                bar.set_position(status.repositories_done);
                bar.set_message(format!(
                    "{} manifests fetched, {} reused, {} failed, {:.0}/s",
                    status.manifests_seen,
                    status.manifests_unchanged,
                    status.manifests_failed,
                    status.manifests_per_second
                ));
            }
        }
    })
}

async fn serve(config: Config, listen: Option<String>) -> anyhow::Result<()> {
    let listen = listen.unwrap_or_else(|| config.server.listen.clone());
    let sources = registry_sources(&config).await?;
    let (catalog, writer) = open_catalog(&config)?;
    let board = status_board(&sources);
    let content =
        ocicat_content::Content::new(sources.iter().map(|source| (source.name.clone(), source.client.clone())));
    let shutdown = CancellationToken::new();
    let settings = CrawlSettings {
        interval: config.interval(),
        repository_concurrency: config.crawl.concurrency,
        reconcile_interval: config.reconcile_interval(),
        registry_intervals: config.registry_intervals(),
        notified_registries: config
            .registries
            .iter()
            .filter(|registry| registry.events_secret_env.is_some())
            .map(|registry| registry.name.get_ref().clone())
            .collect(),
        ..CrawlSettings::default()
    };
    let leptos_options = ocicat::state::leptos_options(&config.server.site_root.to_string_lossy());
    let events = ocicat::events::Events::new(event_secrets(&config)?);
    let auth = match &config.access {
        Some(access) => ocicat::auth::Auth::from_config(access, &config.server.data_dir).await?,
        None => {
            tracing::warn!(
                "no [access] section: everyone who can reach ocicat sees every registry and may start crawls"
            );
            ocicat::auth::Auth::open()
        }
    };
    let mode = match &config.cluster {
        Some(cluster_config) => {
            cluster_config.check_database()?;
            let database = auth.database().context("[cluster] needs [access] on the same database")?;
            Mode::Replica(ocicat::cluster::Cluster::join(cluster_config, database, &catalog, writer.clone()).await?)
        }
        None => Mode::Alone,
    };
    let (crawler, shared_writer) = mode.crawler(&sources, &catalog, &writer, &board, &settings, &shutdown);
    let engine = ocicat::lifecycle::open_engine(
        &config,
        auth.database(),
        sources.clone(),
        catalog.clone(),
        shared_writer,
        board.clone(),
        Some(crawler.clone()),
    )
    .await?;
    let engine = mode.claimed(engine);
    let duties = ocicat::cluster::Duties {
        sources,
        catalog: catalog.clone(),
        board: board.clone(),
        settings,
        engine: engine.clone(),
        retention: config.retention.clone(),
    };
    mode.start_duties(duties, &shutdown).await?;
    let service = ocicat_service::Service::new(catalog, board)
        .with_crawler(crawler.clone())
        .with_tokens(auth.tokens())
        .with_content(content)
        .with_lifecycle(engine)
        .with_trust(config.trust_policies.clone());
    let service = mode.shared(service);
    let hosts = config.server.allowed_hosts();
    let state = AppState { leptos_options, service, crawler, events, auth, hosts, cluster: mode.cluster() };
    let router = router::build_router(state);
    let listener =
        tokio::net::TcpListener::bind(&listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    tracing::info!(server.address = %listener.local_addr()?, "ocicat is listening on http://{}", listener.local_addr()?);
    let stop = shutdown.clone();
    let limits = ocicat::serve::ConnectionLimits {
        max_connections: config.server.max_connections,
        ..ocicat::serve::ConnectionLimits::default()
    };
    ocicat::serve::serve(listener, router, limits, async move {
        shutdown_signal().await;
        stop.cancel();
    })
    .await
    .context("server failed")?;
    mode.leave().await;
    writer.close().await.context("cannot commit the index at shutdown")?;
    tracing::info!("ocicat stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
