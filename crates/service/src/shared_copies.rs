//! Copy plans every replica can find: with several replicas on one database, a copy is planned
//! by one request and executed by the next, which a load balancer may send elsewhere. The server
//! hands the service a store ([`SharedCopies`]); plans of configured registries are saved there
//! when made and when their execution starts and ends, and read from there by a replica that
//! does not run them. An import's plan stays with the replica holding its uploaded layout.

use chrono::{DateTime, Utc};
use ocicat_copy::{CopyPlan, CopyReport};
use serde::{Deserialize, Serialize};

use crate::Service;
use crate::copies::Stored;

/// A future a [`SharedCopies`] answers with.
pub type SharedFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Where copy plans are kept for every replica.
pub trait SharedCopies: std::fmt::Debug + Send + Sync {
    /// Saves copy plan `id` (JSON).
    fn save<'a>(&'a self, id: &'a str, body: String) -> SharedFuture<'a, Result<(), String>>;
    /// Copy plan `id` (JSON), if kept.
    fn load<'a>(&'a self, id: &'a str) -> SharedFuture<'a, Result<Option<String>, String>>;
}

/// A copy plan as the replicas share it.
#[derive(Debug, Serialize, Deserialize)]
struct SharedCopy {
    created: DateTime<Utc>,
    actor: String,
    plan: CopyPlan,
    report: Option<CopyReport>,
    running: bool,
}

impl Service {
    /// Saves `stored` as copy plan `id` for the other replicas (not an import's).
    pub(crate) async fn share_copy(&self, id: &str, stored: &Stored) {
        let Some(shared) = self.shared_copies.as_ref().filter(|_| stored.import.is_none()) else { return };
        let copy = SharedCopy {
            created: stored.created,
            actor: stored.actor.clone(),
            plan: stored.plan.clone(),
            report: stored.report.clone(),
            running: stored.running,
        };
        let saved = match serde_json::to_string(&copy) {
            Ok(body) => shared.save(id, body).await,
            Err(error) => Err(error.to_string()),
        };
        if let Err(error) = saved {
            tracing::warn!(copy.id = %id, %error, "cannot share a copy plan with the other replicas");
        }
    }

    /// Copy plan `id`: this replica's own while it runs it or it is an import, else the shared
    /// one (fresher: another replica may have run it), kept here too.
    pub(crate) async fn find_copy(&self, id: &str) -> Option<Stored> {
        let local = self.copies.get(id);
        let Some(shared) = &self.shared_copies else { return local };
        if local.as_ref().is_some_and(|stored| stored.running || stored.import.is_some()) {
            return local;
        }
        let copy = match shared.load(id).await {
            Ok(Some(body)) => serde_json::from_str::<SharedCopy>(&body).ok(),
            Ok(None) => None,
            Err(error) => {
                tracing::warn!(copy.id = %id, %error, "cannot read a shared copy plan");
                None
            }
        };
        let Some(copy) = copy else { return local };
        let stored = Stored {
            created: copy.created,
            actor: copy.actor,
            plan: copy.plan,
            report: copy.report,
            running: copy.running,
            import: None,
        };
        self.copies.adopt(id, stored.clone());
        Some(stored)
    }
}
