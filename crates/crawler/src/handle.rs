//! The crawler handle the server holds: on the replica that crawls, one supervised task per
//! registry with its "refresh now" trigger and its queue of repository refreshes; on one that
//! does not, a forward of every request to where the crawling replica takes them.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ocicat_catalog::{Catalog, CatalogWriter};
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::refresh::{Announcements, ExpectedTag, RefreshRequest};
use crate::schedule::{CrawlSettings, CrawlTask, supervise};
use crate::source::RegistrySource;
use crate::status::StatusBoard;

/// The running crawl tasks and their "refresh now" triggers, or, on a replica that does not
/// crawl, where it forwards the requests to (the leader's queue).
#[derive(Debug, Clone, Default)]
pub struct Crawler {
    triggers: Arc<HashMap<String, Arc<Notify>>>,
    refreshes: Arc<HashMap<String, mpsc::Sender<RefreshRequest>>>,
    forwarding: Option<Arc<Forwarding>>,
}

/// A replica that does not crawl: the registries it knows and where their requests go.
#[derive(Debug)]
struct Forwarding {
    registries: HashSet<String>,
    to: Arc<dyn Forward>,
}

/// What a crawler is asked to do for one registry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum CrawlRequest {
    /// Crawl the whole registry now.
    Crawl,
    /// Walk one repository again.
    Refresh(RefreshRequest),
}

/// Where a replica that does not crawl sends requests (`ocicat-cluster`'s shared queue).
pub trait Forward: std::fmt::Debug + Send + Sync {
    /// Passes `request` for `registry` on; false when it cannot be queued.
    fn forward(&self, registry: &str, request: CrawlRequest) -> bool;
}

/// Repository refreshes queued per registry before new ones are dropped (the periodic crawl
/// still catches what a dropped one would have found).
const REFRESH_QUEUE: usize = 256;

impl Crawler {
    /// Starts one task per source; they stop when `shutdown` is cancelled.
    pub fn start(
        sources: Vec<RegistrySource>,
        catalog: Catalog,
        writer: CatalogWriter,
        board: StatusBoard,
        settings: CrawlSettings,
        shutdown: CancellationToken,
    ) -> Crawler {
        let mut triggers = HashMap::new();
        let mut refreshes = HashMap::new();
        for source in sources {
            board.register(&source.name, source.client.base_url().as_str());
            let trigger = Arc::new(Notify::new());
            triggers.insert(source.name.clone(), trigger.clone());
            let name = source.name.clone();
            let (refresh_sender, refresh_receiver) = mpsc::channel(REFRESH_QUEUE);
            let receiver = Arc::new(tokio::sync::Mutex::new(refresh_receiver));
            let retries = refresh_sender.downgrade();
            refreshes.insert(source.name.clone(), refresh_sender);
            let (catalog, writer, board_of_task, settings) =
                (catalog.clone(), writer.clone(), board.clone(), settings.clone());
            let stop = shutdown.clone();
            let pause = settings.initial_backoff;
            let start = move || {
                let task = CrawlTask {
                    retries: retries.clone(),
                    source: source.clone(),
                    catalog: catalog.clone(),
                    writer: writer.clone(),
                    board: board_of_task.clone(),
                    settings: settings.clone(),
                    announced: Announcements::default(),
                };
                task.run(trigger.clone(), receiver.clone(), stop.clone())
            };
            tokio::spawn(supervise(name, board.clone(), pause, shutdown.clone(), start));
        }
        Crawler { triggers: Arc::new(triggers), refreshes: Arc::new(refreshes), forwarding: None }
    }

    /// A crawler that runs no task and passes every request for one of `registries` to `forward`.
    pub fn forwarding(registries: impl IntoIterator<Item = String>, forward: Arc<dyn Forward>) -> Crawler {
        let forwarding = Forwarding { registries: registries.into_iter().collect(), to: forward };
        Crawler { triggers: Arc::default(), refreshes: Arc::default(), forwarding: Some(Arc::new(forwarding)) }
    }

    /// Does what `request` asks for `registry`; false when the registry is unknown or its
    /// queue is full.
    pub fn handle(&self, registry: &str, request: CrawlRequest) -> bool {
        if let Some(forwarding) = &self.forwarding {
            return forwarding.registries.contains(registry) && forwarding.to.forward(registry, request);
        }
        match request {
            CrawlRequest::Crawl => match self.triggers.get(registry) {
                Some(trigger) => {
                    trigger.notify_one();
                    true
                }
                None => false,
            },
            CrawlRequest::Refresh(refresh) => {
                self.refreshes.get(registry).is_some_and(|sender| sender.try_send(refresh).is_ok())
            }
        }
    }

    /// Queues a refresh of one repository; false when the registry is unknown or the queue is full.
    pub fn refresh_repository(&self, registry: &str, repository: &str) -> bool {
        self.queue(registry, RefreshRequest::now(repository))
    }

    /// Queues a refresh after a push the registry announced: it is repeated, with growing
    /// delays, until the registry lists every tag in `expect` at its digest.
    pub fn refresh_after_push(&self, registry: &str, repository: &str, expect: Vec<ExpectedTag>) -> bool {
        self.queue(registry, RefreshRequest { repository: repository.to_owned(), expect, attempt: 0 })
    }

    fn queue(&self, registry: &str, request: RefreshRequest) -> bool {
        self.handle(registry, CrawlRequest::Refresh(request))
    }

    /// Asks the registry's task to crawl now; false when no such registry is configured.
    pub fn trigger(&self, registry: &str) -> bool {
        self.handle(registry, CrawlRequest::Crawl)
    }
}
