//! What the service and the lifecycle engine see of the cluster: the replicas view, claims on
//! plan executions (leases), copy plans every replica finds (shared documents) and the crawl
//! queue a forwarding crawler writes to.

use std::time::Duration;

use ocicat_cluster::{Leases, SharedDocuments};
use ocicat_crawler::{CrawlRequest, Forward};

use super::Cluster;

/// How long a replica's claim on a plan it executes lasts unrenewed.
const CLAIM_TTL: Duration = Duration::from_secs(30);

impl ocicat_service::replicas::Replication for Cluster {
    fn view(&self) -> ocicat_service::replicas::ReplicationFuture<'_> {
        Box::pin(async move { Cluster::view(self).await.map_err(|error| error.to_string()) })
    }
}

/// Copy plans as shared documents of kind `copy`.
#[derive(Debug)]
pub(super) struct CopyPlans {
    pub(super) documents: SharedDocuments,
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
pub(super) struct PlanClaims {
    pub(super) leases: Leases,
    pub(super) holder: String,
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

/// The crawl queue as a crawler's forward: requests wait for the task that writes them.
#[derive(Debug)]
pub(super) struct Queue {
    pub(super) sender: tokio::sync::mpsc::Sender<ocicat_cluster::CrawlRequest>,
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
