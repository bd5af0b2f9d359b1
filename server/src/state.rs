//! The application state shared by every handler and SSR render, and how it is built from
//! the configuration (clients per registry, catalog, crawler).

use anyhow::Context as _;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use ocicat_catalog::{Catalog, CatalogWriter, WriterConfig};
use ocicat_crawler::{Crawler, RegistrySource, StatusBoard};
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};

use crate::config::Config;

/// Everything handlers need; cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos settings (site root, output name).
    pub leptos_options: LeptosOptions,
    /// The application layer every handler and server function calls.
    pub service: ocicat_service::Service,
    /// The crawl tasks' queues, for registry notifications.
    pub crawler: Crawler,
    /// Registry notification secrets and rate limits.
    pub events: crate::events::Events,
    /// Access control (open when `[access]` is absent).
    pub auth: crate::auth::Auth,
    /// The host names requests may name (the DNS-rebinding guard).
    pub hosts: crate::hosts::AllowedHosts,
    /// This replica's membership, when several share one database (`[cluster]`).
    pub cluster: Option<crate::cluster::Cluster>,
}

impl AppState {
    /// An open server (no access control) over `catalog`, crawling with `crawler`, taking
    /// notifications as `events` says and serving the site built under `site_root`: what tests
    /// and benchmarks start from (`serve` adds content clients, tokens and the lifecycle engine).
    pub fn open(
        catalog: Catalog,
        board: StatusBoard,
        crawler: Crawler,
        events: crate::events::Events,
        site_root: &str,
    ) -> AppState {
        AppState {
            leptos_options: leptos_options(site_root),
            service: ocicat_service::Service::new(catalog, board).with_crawler(crawler.clone()),
            crawler,
            events,
            auth: crate::auth::Auth::open(),
            hosts: crate::hosts::AllowedHosts::default(),
            cluster: None,
        }
    }
}

/// The event secrets of every registry that has one configured.
pub fn event_secrets(config: &Config) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let mut secrets = std::collections::HashMap::new();
    for registry in &config.registries {
        if let Some(variable) = &registry.events_secret_env {
            let secret = std::env::var(variable).with_context(|| {
                format!("registry {:?}: environment variable {variable} is not set", registry.name.get_ref())
            })?;
            anyhow::ensure!(
                secret.len() >= 16,
                "registry {:?}: the event secret in {variable} must be at least 16 characters",
                registry.name.get_ref()
            );
            secrets.insert(registry.name.get_ref().clone(), secret);
        }
    }
    Ok(secrets)
}

/// Leptos settings for the built site under `site_root` (`pkg/ocicat.{js,wasm,css}`).
pub fn leptos_options(site_root: &str) -> LeptosOptions {
    LeptosOptions::builder().output_name("ocicat").site_root(site_root.to_owned()).site_pkg_dir("pkg").build()
}

/// Builds one client per configured registry; a layout directory is served read-only on
/// loopback for the rest of the process and read through that server.
pub async fn registry_sources(config: &Config) -> anyhow::Result<Vec<RegistrySource>> {
    let mut sources = Vec::new();
    for registry in &config.registries {
        let name = registry.name.get_ref().clone();
        let source = match (&registry.url, &registry.layout) {
            (_, Some(layout)) => {
                let server = ocicat_layout::serve(layout.clone())
                    .await
                    .with_context(|| format!("registry {name:?}: cannot serve the layout {}", layout.display()))?;
                let credentials = Credentials::Basic {
                    username: ocicat_layout::USERNAME.to_owned(),
                    password: Secret::new(server.password().to_owned()),
                };
                let client = Client::new(ClientConfig::new(server.url().clone(), credentials))
                    .with_context(|| format!("registry {name:?}: cannot build client"))?;
                server.detach();
                RegistrySource::new(name, client).located_at(ocicat_service::model::layout_location(layout))
            }
            (Some(url), None) => {
                let credentials = match (&registry.username, registry.password()?) {
                    (Some(username), password) => Credentials::Basic {
                        username: username.clone(),
                        password: Secret::new(password.unwrap_or_default()),
                    },
                    (None, _) => Credentials::Anonymous,
                };
                let url = url::Url::parse(url.get_ref()).with_context(|| format!("registry {name:?}: bad url"))?;
                let mut client_config = ClientConfig::new(url, credentials);
                client_config.token_realms = registry.token_realms.clone();
                let client =
                    Client::new(client_config).with_context(|| format!("registry {name:?}: cannot build client"))?;
                RegistrySource::new(name, client).with_repositories(registry.repositories.clone())
            }
            (None, None) => anyhow::bail!("registry {name:?}: no url and no layout"),
        };
        sources.push(source.trusting(config.trust_policies.clone()));
    }
    Ok(sources)
}

/// A board with every configured registry, for commands that only read the index.
pub fn configured_board(config: &Config) -> StatusBoard {
    let board = StatusBoard::default();
    for registry in &config.registries {
        let location = match (&registry.url, &registry.layout) {
            (_, Some(layout)) => ocicat_service::model::layout_location(layout),
            (Some(url), None) => url.get_ref().clone(),
            (None, None) => String::new(),
        };
        board.register(registry.name.get_ref(), &location);
    }
    board
}

/// Opens the catalog under the configured data directory.
pub fn open_catalog(config: &Config) -> anyhow::Result<(Catalog, CatalogWriter)> {
    std::fs::create_dir_all(&config.server.data_dir)
        .with_context(|| format!("cannot create data directory {}", config.server.data_dir.display()))?;
    ocicat_catalog::open(&config.server.data_dir, WriterConfig::default())
        .with_context(|| format!("cannot open the catalog in {}", config.server.data_dir.display()))
}

/// A board with every configured registry registered, so pages list them before the first crawl.
pub fn status_board(sources: &[RegistrySource]) -> StatusBoard {
    let board = StatusBoard::default();
    for source in sources {
        board.register(&source.name, &source.location);
    }
    board
}
