//! Who carries out a plan when several replicas share the store: before an execution starts, its
//! replica claims the plan in the shared database (`ocicat-cluster`'s leases, wired by the
//! server), renews the claim while it runs and gives it up at the end. A plan claimed by a live
//! replica is refused elsewhere as busy; one whose replica died is free again once the claim
//! lapses, and the leader resumes it.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A future a [`Claims`] answers with.
pub type ClaimFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Claims on plans in a database every replica sees.
pub trait Claims: std::fmt::Debug + Send + Sync {
    /// Takes claim `name`, or renews it for this replica; true while this replica holds it.
    fn claim<'a>(&'a self, name: &'a str) -> ClaimFuture<'a, Result<bool, String>>;
    /// Gives claim `name` up.
    fn release<'a>(&'a self, name: &'a str) -> ClaimFuture<'a, ()>;
    /// How often a holder renews (well within the claim's time to live).
    fn renew_every(&self) -> Duration;
}

/// The claim a plan's execution holds.
pub(crate) fn plan_claim(id: &str) -> String {
    format!("plan:{id}")
}
