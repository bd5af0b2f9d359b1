//! Several replicas on one PostgreSQL (`[cluster]`). Every replica's tailer keeps its own index
//! from the catalog's change log; a bid for the `leader` lease decides which one crawls, takes
//! the shared crawl queue, moves posted changes into the log, prunes it and runs scheduled
//! retention. Whoever leads, what handlers do here goes through the database the same way: a
//! crawl request into the shared queue, a catalog change (a delete, copy or attach) into the
//! inbox, back into this index through the log.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_cluster::{
    ChangeLog, CrawlRequests, CrawlStatus, Inbox, InboxSink, Leadership, Leases, LogSink, Replicas, SharedDocuments,
    Tailer,
};
use ocicat_crawler::{CrawlRequest, CrawlSettings, Crawler, Forward, RegistrySource, RegistryStatus, StatusBoard};
use ocicat_service::model::{ReplicaRow, ReplicasView};
use ocicat_sql::Database;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ClusterConfig;

/// The lease whose holder leads.
pub const LEASE: &str = "leader";
/// How often a replica looks at the log, the queue or the inbox without an announcement
/// (announcements wake it at once on PostgreSQL).
const POLL: Duration = Duration::from_secs(1);
/// How often the leader prunes the log.
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Replicas heard from within this long hold the log back from pruning; one silent for longer
/// rebuilds from the current documents when it returns.
const LIVE_WITHIN: Duration = Duration::from_secs(300);
/// Replicas heard from within this long are listed on `/status`.
const LISTED_WITHIN: Duration = Duration::from_secs(3600);
/// A replica heard from within this long counts as running (a tailer heartbeats at least every
/// [`POLL`]).
const LIVE_HEARTBEAT: Duration = Duration::from_secs(15);
/// Crawl requests the leader takes at a time.
const REQUESTS_BATCH: i64 = 256;
/// How long a replica's claim on a plan it executes lasts unrenewed.
const CLAIM_TTL: Duration = Duration::from_secs(30);
/// How long a copy plan stays executable (the service keeps its own for an hour too).
const COPY_PLAN_LIFETIME: Duration = Duration::from_secs(3600);
/// A replica of this name heard from within this long is running: another may not join as it.
const SAME_NAME_WITHIN: Duration = Duration::from_secs(3);
/// Crawl requests waiting to be written to the shared queue before more are refused.
const FORWARD_QUEUE: usize = 1024;
/// How long the end of a leadership term may take before the next one starts anyway.
const TERM_END: Duration = Duration::from_secs(15);
/// How often the leader looks for executions whose replica died (their claim lapsed).
const RESUME_EVERY: Duration = Duration::from_secs(60);

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

/// What the leader runs besides the crawl queue and the log.
pub struct Duties {
    /// The registries to crawl.
    pub sources: Vec<RegistrySource>,
    /// This replica's index (what the crawl compares against).
    pub catalog: Catalog,
    /// Crawl progress and health, shown by this replica.
    pub board: StatusBoard,
    /// Crawl timing.
    pub settings: CrawlSettings,
    /// The engine whose retention policies run on their schedules.
    pub engine: ocicat_lifecycle::Engine,
    /// The retention policies.
    pub retention: Vec<ocicat_lifecycle::retention::RetentionPolicy>,
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

    /// Runs `duties` whenever this replica leads, until `shutdown`; meanwhile the crawl status
    /// on `duties.board` is the leader's, published by it and mirrored by the others.
    pub fn lead(&self, duties: Duties, shutdown: CancellationToken) {
        let mirror = tokio::spawn(self.clone().mirror_board(duties.board.clone(), shutdown.clone()));
        let handle = tokio::spawn(self.clone().supervise(Arc::new(duties), shutdown));
        self.inner.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).extend([mirror, handle]);
    }

    /// Publishes this replica's crawl status while it leads, and shows the leader's otherwise.
    async fn mirror_board(self, board: StatusBoard, shutdown: CancellationToken) {
        let mut published: std::collections::HashMap<String, String> = std::collections::HashMap::new();
        loop {
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = shutdown.cancelled() => return,
            }
            if self.inner.leading.borrow().is_some() {
                for status in board.snapshot() {
                    let Ok(body) = serde_json::to_string(&status) else { continue };
                    if published.get(&status.name) == Some(&body) {
                        continue;
                    }
                    match self.inner.status.publish(&status.name, &body).await {
                        Ok(()) => {
                            published.insert(status.name, body);
                        }
                        Err(error) => {
                            tracing::warn!(registry.name = %status.name, %error, "cannot publish the crawl status")
                        }
                    }
                }
                continue;
            }
            published.clear();
            match self.inner.status.read().await {
                Ok(statuses) => {
                    for (name, body) in statuses {
                        let Ok(leader) = serde_json::from_str::<RegistryStatus>(&body) else { continue };
                        // Each replica shows the registry's address as it is configured here.
                        board.update(&name, |status| *status = RegistryStatus { url: status.url.clone(), ..leader });
                    }
                }
                Err(error) => tracing::warn!(%error, "cannot read the leader's crawl status"),
            }
        }
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

    async fn supervise(self, duties: Arc<Duties>, shutdown: CancellationToken) {
        let mut leading = self.inner.leading.clone();
        loop {
            let epoch = *leading.borrow_and_update();
            let term = shutdown.child_token();
            let running = epoch.map(|epoch| {
                tracing::info!(replica.name = %self.inner.name, lease.epoch = epoch, "leading: crawling for every replica");
                tokio::spawn(self.clone().lead_term(epoch, duties.clone(), term.clone()))
            });
            let still = loop {
                tokio::select! {
                    changed = leading.changed() => match changed {
                        Ok(()) if *leading.borrow() == epoch => continue,
                        Ok(()) => break true,
                        Err(_) => break false,
                    },
                    () = shutdown.cancelled() => break false,
                }
            };
            term.cancel();
            if let Some(running) = running {
                // The term's tasks end before another term may start: two terms never overlap.
                if tokio::time::timeout(TERM_END, running).await.is_err() {
                    tracing::warn!(replica.name = %self.inner.name, "a leadership term's tasks did not stop in time");
                }
                tracing::info!(replica.name = %self.inner.name, "not leading any more: the crawl stops here");
            }
            if !still {
                return;
            }
        }
    }

    /// One term of leading at `epoch`: runs the leader's tasks until `term` is cancelled, then
    /// waits for them to end.
    async fn lead_term(self, epoch: i64, duties: Arc<Duties>, term: CancellationToken) {
        let inner = &self.inner;
        // Everything earlier leaders wrote is in this index before the crawl compares with it.
        let head = loop {
            match inner.log.head().await {
                Ok(head) => break head,
                Err(error) => tracing::warn!(%error, "cannot read the change log's head"),
            }
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                () = term.cancelled() => return,
            }
        };
        let mut applied = inner.applied.clone();
        tokio::select! {
            _ = applied.wait_for(|applied| *applied >= head) => {}
            () = term.cancelled() => return,
        }
        let sink = LogSink::new(inner.log.clone(), LEASE, &inner.holder, epoch, inner.applied.clone());
        let crawler = Crawler::start(
            duties.sources.clone(),
            duties.catalog.clone(),
            inner.local.through(sink),
            duties.board.clone(),
            duties.settings.clone(),
            term.clone(),
        );
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(self.clone().take_requests(crawler, term.clone()));
        tasks.spawn(self.clone().move_inbox(epoch, term.clone()));
        tasks.spawn(self.clone().prune(term.clone()));
        tasks.spawn(resume_executions(duties.engine.clone(), term.clone()));
        duties.engine.schedule(duties.retention.clone(), term.clone());
        term.cancelled().await;
        while tasks.join_next().await.is_some() {}
    }

    /// Hands queued crawl requests to this leader's crawl tasks.
    async fn take_requests(self, crawler: Crawler, term: CancellationToken) {
        let requests = &self.inner.requests;
        let mut wake_ups = requests.wake_ups().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "no crawl request announcements: polling");
            None
        });
        while !term.is_cancelled() {
            match requests.take(REQUESTS_BATCH).await {
                Ok(taken) if !taken.is_empty() => {
                    for request in taken {
                        match serde_json::from_str::<CrawlRequest>(&request.body) {
                            Ok(parsed) => {
                                if !crawler.handle(&request.registry, parsed) {
                                    tracing::warn!(registry.name = %request.registry, "a queued crawl request was dropped (unknown registry or full queue)");
                                }
                            }
                            Err(error) => {
                                tracing::warn!(registry.name = %request.registry, %error, "a queued crawl request does not parse")
                            }
                        }
                    }
                    continue;
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot take crawl requests"),
            }
            wait(&mut wake_ups, &term).await;
        }
    }

    /// Moves changes posted by any replica into the log, in order.
    async fn move_inbox(self, epoch: i64, term: CancellationToken) {
        let inner = &self.inner;
        let mut wake_ups = inner.inbox.wake_ups().await.unwrap_or_else(|error| {
            tracing::warn!(%error, "no inbox announcements: polling");
            None
        });
        while !term.is_cancelled() {
            match inner.inbox.move_posted(&inner.log, LEASE, &inner.holder, epoch).await {
                Ok(moved) if moved > 0 => continue,
                Ok(_) => {}
                Err(error) => tracing::warn!(lease.epoch = epoch, %error, "cannot move posted catalog changes"),
            }
            wait(&mut wake_ups, &term).await;
        }
    }

    /// Prunes what every live replica has applied.
    async fn prune(self, term: CancellationToken) {
        let inner = &self.inner;
        loop {
            tokio::select! {
                () = tokio::time::sleep(PRUNE_EVERY) => {}
                () = term.cancelled() => return,
            }
            let pruned = async {
                let now = inner.leases.now().await?;
                let Some(through) = inner.replicas.applied_by_all_at(LIVE_WITHIN, now).await? else {
                    return Ok::<_, ocicat_cluster::ClusterError>(0);
                };
                let pruned = inner.log.prune_through(through).await?;
                inner.inbox.prune_through(through).await?;
                inner.replicas.forget_silent_at(LISTED_WITHIN, now).await?;
                Ok(pruned)
            };
            match pruned.await {
                Ok(0) => {}
                Ok(count) => tracing::debug!(log.pruned = count, "pruned the change log"),
                Err(error) => tracing::warn!(%error, "cannot prune the change log"),
            }
        }
    }
}

impl ocicat_service::replicas::Replication for Cluster {
    fn view(&self) -> ocicat_service::replicas::ReplicationFuture<'_> {
        Box::pin(async move { Cluster::view(self).await.map_err(|error| error.to_string()) })
    }
}

/// The replica name in a lease holder (`name#process`).
fn replica_of(holder: &str) -> &str {
    holder.rsplit_once('#').map_or(holder, |(name, _)| name)
}

/// Resumes executions left running by a replica that stopped (their claims lapsed; those still
/// claimed are refused as busy), now and every [`RESUME_EVERY`].
async fn resume_executions(engine: ocicat_lifecycle::Engine, term: CancellationToken) {
    loop {
        match engine.resume_interrupted().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(plans = count, "looking at executions left running"),
            Err(error) => tracing::warn!(%error, "cannot look for interrupted executions"),
        }
        tokio::select! {
            () = tokio::time::sleep(RESUME_EVERY) => {}
            () = term.cancelled() => return,
        }
    }
}

/// Copy plans as shared documents of kind `copy`.
#[derive(Debug)]
struct CopyPlans {
    documents: SharedDocuments,
}

impl ocicat_service::shared_copies::SharedCopies for CopyPlans {
    fn save<'a>(
        &'a self,
        id: &'a str,
        body: String,
    ) -> ocicat_service::shared_copies::SharedFuture<'a, Result<(), String>> {
        Box::pin(async move { self.documents.save("copy", id, &body).await.map_err(|error| error.to_string()) })
    }

    fn load<'a>(
        &'a self,
        id: &'a str,
    ) -> ocicat_service::shared_copies::SharedFuture<'a, Result<Option<String>, String>> {
        Box::pin(async move { self.documents.load("copy", id).await.map_err(|error| error.to_string()) })
    }
}

/// Plan claims as leases named after the plan, held by this process.
#[derive(Debug)]
struct PlanClaims {
    leases: Leases,
    holder: String,
}

impl ocicat_lifecycle::claims::Claims for PlanClaims {
    fn claim<'a>(&'a self, name: &'a str) -> ocicat_lifecycle::claims::ClaimFuture<'a, Result<bool, String>> {
        Box::pin(async move {
            let taken = self.leases.acquire(name, &self.holder, CLAIM_TTL).await;
            taken.map(|lease| lease.is_some()).map_err(|error| error.to_string())
        })
    }

    fn release<'a>(&'a self, name: &'a str) -> ocicat_lifecycle::claims::ClaimFuture<'a, ()> {
        Box::pin(async move {
            if let Err(error) = self.leases.forget(name, &self.holder).await {
                tracing::warn!(claim.name = %name, %error, "cannot give a plan's claim up; it lapses");
            }
        })
    }

    fn renew_every(&self) -> Duration {
        CLAIM_TTL / 3
    }
}

/// Waits for an announcement on `wake_ups`, or the poll interval, or the end of the term.
async fn wait(wake_ups: &mut Option<sqlx::postgres::PgListener>, term: &CancellationToken) {
    let announced = async {
        match wake_ups.as_mut() {
            Some(listener) => {
                if listener.recv().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
            None => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = announced => {}
        () = tokio::time::sleep(POLL) => {}
        () = term.cancelled() => {}
    }
}

/// The crawl queue as a crawler's forward: requests wait for the task that writes them.
#[derive(Debug)]
struct Queue {
    sender: tokio::sync::mpsc::Sender<ocicat_cluster::CrawlRequest>,
}

impl Forward for Queue {
    fn forward(&self, registry: &str, request: CrawlRequest) -> bool {
        let body = match serde_json::to_string(&request) {
            Ok(body) => body,
            Err(error) => {
                tracing::warn!(registry.name = %registry, %error, "cannot queue a crawl request");
                return false;
            }
        };
        self.sender.try_send(ocicat_cluster::CrawlRequest { registry: registry.to_owned(), body }).is_ok()
    }
}
