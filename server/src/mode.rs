//! How `ocicat serve` runs its crawl, its writes and its scheduled work: alone (one process, the
//! default), or as one replica of several sharing PostgreSQL (`[cluster]`), where only the leader
//! crawls and changes made anywhere reach every index through the change log.

use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_crawler::{CrawlSettings, Crawler, RegistrySource, StatusBoard};
use tokio_util::sync::CancellationToken;

use crate::cluster::{Cluster, Duties};

/// How `serve` crawls, writes and runs scheduled work: alone, or as one replica of a cluster.
pub enum Mode {
    /// One process: its own crawl, writes straight into its index.
    Alone,
    /// One replica of several on one PostgreSQL.
    Replica(Cluster),
}

impl Mode {
    /// The crawler handlers talk to and the writer their changes go through: alone, the crawl
    /// tasks and the index's writer; in a cluster, the shared queue the leader takes and the
    /// inbox whose changes reach every index through the log.
    pub fn crawler(
        &self,
        sources: &[RegistrySource],
        catalog: &Catalog,
        writer: &CatalogWriter,
        board: &StatusBoard,
        settings: &CrawlSettings,
        shutdown: &CancellationToken,
    ) -> (Crawler, CatalogWriter) {
        match self {
            Mode::Replica(cluster) => {
                (cluster.crawler(sources.iter().map(|source| source.name.clone())), cluster.writer())
            }
            Mode::Alone => {
                let crawler = Crawler::start(
                    sources.to_vec(),
                    catalog.clone(),
                    writer.clone(),
                    board.clone(),
                    settings.clone(),
                    shutdown.clone(),
                );
                (crawler, writer.clone())
            }
        }
    }

    /// The engine, with its executions claimed in the database when replicas share it.
    pub fn claimed(&self, engine: ocicat_lifecycle::Engine) -> ocicat_lifecycle::Engine {
        match self {
            Mode::Replica(cluster) => engine.with_claims(cluster.claims()),
            Mode::Alone => engine,
        }
    }

    /// Starts the crawl, resumed executions and scheduled retention: here now, alone; in a
    /// cluster, whenever this replica leads.
    pub async fn start_duties(&self, duties: Duties, shutdown: &CancellationToken) -> anyhow::Result<()> {
        match self {
            Mode::Replica(cluster) => cluster.lead(duties, shutdown.clone()),
            Mode::Alone => {
                let resumed = duties.engine.resume_interrupted().await?;
                if resumed > 0 {
                    tracing::info!(plans = resumed, "resuming interrupted deletes");
                }
                duties.engine.schedule(duties.retention, shutdown.clone());
            }
        }
        Ok(())
    }

    /// The service, with the replicas view and shared copy plans in a cluster.
    pub fn shared(&self, service: ocicat_service::Service) -> ocicat_service::Service {
        match self {
            Mode::Replica(cluster) => {
                service.with_replication(cluster.replication()).with_shared_copies(cluster.shared_copies())
            }
            Mode::Alone => service,
        }
    }

    /// The cluster this replica belongs to, if any.
    pub fn cluster(&self) -> Option<Cluster> {
        match self {
            Mode::Replica(cluster) => Some(cluster.clone()),
            Mode::Alone => None,
        }
    }

    /// Leaves the cluster (the lease released, the tailer stopped); nothing to do alone.
    pub async fn leave(&self) {
        if let Mode::Replica(cluster) = self {
            cluster.leave().await;
        }
    }
}
