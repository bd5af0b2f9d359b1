//! The real router on a loopback port inside the bench process, shared by the page scenarios:
//! built once here instead of in each scenario, and stopped when dropped.

use std::net::SocketAddr;

use anyhow::Context as _;
use ocicat::events::Events;
use ocicat::state::AppState;
use ocicat_catalog::Catalog;
use ocicat_crawler::{Crawler, StatusBoard};

/// A served router; the task is aborted on drop.
pub(crate) struct Served {
    /// Where it listens.
    pub(crate) address: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    /// Serves `router` on 127.0.0.1 at a free port.
    pub(crate) async fn start(router: axum::Router) -> anyhow::Result<Served> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("failed to bind a bench listener")?;
        let address = listener.local_addr().context("failed to read the bench listener address")?;
        let task = tokio::spawn(async move { axum::serve(listener, router).await });
        Ok(Served { address, task })
    }

    /// `http://<address><path>`.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The application state of a server that only shows `catalog` (no crawler, no webhooks), with
/// the site built under `target/site`.
pub(crate) fn pages_only(catalog: Catalog, board: StatusBoard) -> AppState {
    with_crawler(catalog, board, Crawler::default(), Events::default(), "target/site")
}

/// The application state with a running `crawler` and `events`, serving the site at `site_root`.
pub(crate) fn with_crawler(
    catalog: Catalog,
    board: StatusBoard,
    crawler: Crawler,
    events: Events,
    site_root: &str,
) -> AppState {
    AppState::open(catalog, board, crawler, events, site_root)
}
