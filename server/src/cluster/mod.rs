//! Several replicas on one PostgreSQL (`[cluster]`). Every replica's tailer keeps its own index
//! from the catalog's change log; a bid for the `leader` lease decides which one crawls, takes
//! the shared crawl queue, moves posted changes into the log, prunes it and runs scheduled
//! retention. Whoever leads, what handlers do here goes through the database the same way: a
//! crawl request into the shared queue, a catalog change (a delete, copy or attach) into the
//! inbox, back into this index through the log.
//!
//! Membership (joining, the tailer, the bid, how this replica stands) is here; the leader's
//! term is in `term`, and the adapters that give the service and the lifecycle engine the
//! database's claims, copy plans, crawl queue and replica view are in `adapters`.

mod adapters;
mod term;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_cluster::{
    ChangeLog, CrawlRequests, CrawlStatus, Inbox, InboxSink, Leadership, Leases, Replicas, SharedDocuments, Tailer,
};
use ocicat_crawler::Crawler;
use ocicat_service::model::{ReplicaRow, ReplicasView};
use ocicat_sql::Database;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use self::adapters::{CopyPlans, PlanClaims, Queue};
pub use self::term::Duties;
use crate::config::ClusterConfig;

/// The lease whose holder leads.
pub const LEASE: &str = "leader";
/// How often a replica looks at the log, the queue or the inbox without an announcement
/// (announcements wake it at once on PostgreSQL).
const POLL: Duration = Duration::from_secs(1);
/// Replicas heard from within this long are listed on `/status`.
const LISTED_WITHIN: Duration = Duration::from_secs(3600);
/// A replica heard from within this long counts as running (a tailer heartbeats at least every
/// [`POLL`]).
const LIVE_HEARTBEAT: Duration = Duration::from_secs(15);
/// How long a copy plan stays executable (the service keeps its own for an hour too).
const COPY_PLAN_LIFETIME: Duration = Duration::from_secs(3600);
/// A replica of this name heard from within this long is running: another may not join as it.
const SAME_NAME_WITHIN: Duration = Duration::from_secs(3);
/// Crawl requests waiting to be written to the shared queue before more are refused.
const FORWARD_QUEUE: usize = 1024;

/// This replica's membership; cheap to clone.
#[derive(Debug, Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    name: String,
    /// Who bids for the lease: the name and this process, so two processes given one name
    /// never both lead.
    holder: String,
    log: ChangeLog,
    inbox: Inbox,
    requests: CrawlRequests,
    status: CrawlStatus,
    documents: SharedDocuments,
    replicas: Replicas,
    leases: Leases,
    local: CatalogWriter,
    applied: watch::Receiver<i64>,
    caught_up: watch::Receiver<bool>,
    leading: watch::Receiver<Option<i64>>,
    stop: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

/// How this replica stands, for `/healthz`, `/status` and `/metrics`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Standing {
    /// This replica's name.
    pub replica: String,
    /// Whether it leads.
    pub leading: bool,
    /// Whether its index had applied the whole log at its latest look.
    pub caught_up: bool,
    /// The last change it applied.
    pub applied: i64,
}

impl Cluster {
    /// Joins the replicas sharing `database`: starts this replica's tailer (applying the log to
    /// the index behind `catalog` with `local`) and its bid for the lease.
    pub async fn join(
        config: &ClusterConfig,
        database: Database,
        catalog: &Catalog,
        local: CatalogWriter,
    ) -> anyhow::Result<Cluster> {
        let name = config.replica_name();
        let holder = format!("{name}#{:08x}", rand::random::<u32>());
        let log = ChangeLog::open(database.clone()).await.context("cannot open the catalog's change log")?;
        let inbox = Inbox::open(database.clone()).await.context("cannot open the catalog's inbox")?;
        let requests = CrawlRequests::open(database.clone()).await.context("cannot open the crawl queue")?;
        let status = CrawlStatus::open(database.clone()).await.context("cannot open the shared crawl status")?;
        let documents = SharedDocuments::open(database.clone(), COPY_PLAN_LIFETIME)
            .await
            .context("cannot open the shared documents")?;
        let replicas = Replicas::open(database.clone()).await.context("cannot open the replicas table")?;
        let leases = Leases::open(database).await.context("cannot open the leases table")?;
        let now = leases.now().await.context("cannot read the database's clock")?;
        let running = replicas.live_at(SAME_NAME_WITHIN, now).await.context("cannot read the replicas table")?;
        if running.iter().any(|replica| replica.name == name) {
            anyhow::bail!(
                "another replica named {name:?} is running on this database: give each replica its own \
                 [cluster] replica_name"
            );
        }
        // An index that is not this database's (made on its own, or for a database since
        // replaced) starts over from the database.
        let head = log.head().await.context("cannot read the change log")?;
        let position = match catalog.applied_position().context("cannot read the index's replication position")? {
            Some(position) if position <= head => position,
            other => {
                tracing::info!(replica.name = %name, index.position = ?other, log.head = head, "the index is not this database's: rebuilding it from the database");
                local.apply(ocicat_catalog::Change::Reset).await.context("cannot empty the index")?;
                local.flush().await.context("cannot empty the index")?;
                0
            }
        };
        let tailer = Tailer::new(log.clone(), replicas.clone(), &name, local.local(), position);
        let (applied, caught_up) = (tailer.applied(), tailer.caught_up());
        let (stop, stopped) = watch::channel(false);
        let (leading_sender, leading) = watch::channel(None);
        let tailing = tokio::spawn(tailer.run(POLL, stopped.clone()));
        let bid = Leadership::new(leases.clone(), LEASE, &holder, config.lease());
        let bidding = tokio::spawn(bid.run(leading_sender, stopped));
        tracing::info!(replica.name = %name, replica.holder = %holder, log.applied = position, "joined the cluster");
        let inner = Inner {
            name,
            holder,
            log,
            inbox,
            requests,
            status,
            documents,
            replicas,
            leases,
            local: local.local(),
            applied,
            caught_up,
            leading,
            stop,
            tasks: std::sync::Mutex::new(vec![tailing, bidding]),
        };
        Ok(Cluster { inner: Arc::new(inner) })
    }

    /// The writer for changes made on this replica: through the inbox, the log, and back.
    pub fn writer(&self) -> CatalogWriter {
        let inner = &self.inner;
        inner.local.through(InboxSink::new(inner.inbox.clone(), &inner.name, inner.applied.clone()))
    }

    /// Claims on plan executions, in the shared leases table (one replica runs a plan).
    pub fn claims(&self) -> Arc<dyn ocicat_lifecycle::claims::Claims> {
        Arc::new(PlanClaims { leases: self.inner.leases.clone(), holder: self.inner.holder.clone() })
    }

    /// Copy plans where every replica finds them.
    pub fn shared_copies(&self) -> Arc<dyn ocicat_service::shared_copies::SharedCopies> {
        Arc::new(CopyPlans { documents: self.inner.documents.clone() })
    }

    /// The replicas as the service shows them.
    pub fn replication(&self) -> Arc<dyn ocicat_service::replicas::Replication> {
        Arc::new(self.clone())
    }

    /// The replicas as the database has them now.
    async fn view(&self) -> Result<ReplicasView, ocicat_cluster::ClusterError> {
        let inner = &self.inner;
        let now = inner.leases.now().await?;
        let head = inner.log.head().await?;
        let leader = inner
            .leases
            .current(LEASE)
            .await?
            .filter(|lease| lease.expires_at > now)
            .map(|lease| replica_of(&lease.holder).to_owned());
        let listed = inner.replicas.live_at(LISTED_WITHIN, now).await?;
        let live_since = now - i64::try_from(LIVE_HEARTBEAT.as_millis()).unwrap_or(i64::MAX);
        let replicas = listed
            .into_iter()
            .map(|replica| ReplicaRow {
                leading: leader.as_deref() == Some(replica.name.as_str()),
                lag: (head - replica.applied).max(0),
                seconds_since_heartbeat: (now - replica.heartbeat_at).max(0) / 1000,
                live: replica.heartbeat_at >= live_since,
                applied: replica.applied,
                name: replica.name,
            })
            .collect();
        Ok(ReplicasView { this_replica: inner.name.clone(), leader, head, replicas })
    }

    /// The crawler handlers talk to: every request goes into the shared queue for the leader.
    pub fn crawler(&self, registries: impl IntoIterator<Item = String>) -> Crawler {
        let (sender, mut receiver) = tokio::sync::mpsc::channel::<ocicat_cluster::CrawlRequest>(FORWARD_QUEUE);
        let requests = self.inner.requests.clone();
        // One task writes forwarded requests to the database, in order; a burst waits here,
        // bounded, and what does not fit is refused at once (the periodic crawl finds it).
        let pushing = tokio::spawn(async move {
            while let Some(request) = receiver.recv().await {
                match requests.push(&request).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(registry.name = %request.registry, "the shared crawl queue is full: request dropped")
                    }
                    Err(error) => {
                        tracing::warn!(registry.name = %request.registry, %error, "cannot queue a crawl request")
                    }
                }
            }
        });
        drop(pushing); // ends with the last sender, when the server does
        Crawler::forwarding(registries, Arc::new(Queue { sender }))
    }

    /// How this replica stands now.
    pub fn standing(&self) -> Standing {
        let inner = &self.inner;
        Standing {
            replica: inner.name.clone(),
            leading: inner.leading.borrow().is_some(),
            caught_up: *inner.caught_up.borrow(),
            applied: *inner.applied.borrow(),
        }
    }

    /// Leaves: stops the tailer and the bid (releasing the lease, so the next replica leads at
    /// once) and waits for them.
    pub async fn leave(&self) {
        self.inner.stop.send_replace(true);
        let tasks = std::mem::take(&mut *self.inner.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        for task in tasks {
            if tokio::time::timeout(Duration::from_secs(10), task).await.is_err() {
                tracing::warn!("a cluster task did not stop in time");
            }
        }
    }
}

/// The replica name in a lease holder (`name#process`).
fn replica_of(holder: &str) -> &str {
    holder.rsplit_once('#').map_or(holder, |(name, _)| name)
}
