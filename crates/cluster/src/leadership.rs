//! Leading, as one replica sees it: take or renew the `leader` lease every fifth of its time to
//! live, say `Some(epoch)` while held, and step down on its own — before anyone else may take
//! over — when renewals keep failing (the database away) or another replica holds it. A clean
//! stop releases the lease, so the next replica need not wait for it to lapse; a killed replica
//! is replaced once its lease lapses.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::{ClusterError, Leases};

/// One replica's bid for a lease.
#[derive(Debug, Clone)]
pub struct Leadership {
    leases: Leases,
    lease: String,
    holder: String,
    ttl: Duration,
}

impl Leadership {
    /// `holder`'s bid for lease `lease`, held for `ttl` after each renewal.
    pub fn new(leases: Leases, lease: &str, holder: &str, ttl: Duration) -> Leadership {
        Leadership { leases, lease: lease.to_owned(), holder: holder.to_owned(), ttl }
    }

    /// How often it renews.
    pub fn renew_every(&self) -> Duration {
        self.ttl / 5
    }

    /// Bids until `stop` turns true, telling `leading` the epoch while it holds the lease.
    pub async fn run(self, leading: watch::Sender<Option<i64>>, mut stop: watch::Receiver<bool>) {
        let renew_every = self.renew_every();
        // Held until this instant by our own clock: a renewal's lease runs from before we asked.
        let mut held_until: Option<Instant> = None;
        // After stepping down, the lease is taken back only under a new epoch: a renewal that
        // timed out here may still have landed there, and what the old term began must stay fenced.
        let mut stepped_down = false;
        while !*stop.borrow() {
            let asked = Instant::now();
            // A renewal that does not answer in time counts as failed: the deadline is a renewal
            // before the lease held so far could lapse (a hung connection must not keep us leading).
            let patience = held_until.map_or(self.ttl, |until| until.saturating_duration_since(asked + renew_every));
            let bid = async {
                if stepped_down {
                    self.leases.acquire_anew(&self.lease, &self.holder, self.ttl).await
                } else {
                    self.leases.acquire(&self.lease, &self.holder, self.ttl).await
                }
            };
            let answer = tokio::time::timeout(patience, bid).await;
            match answer.unwrap_or_else(|_| Err(ClusterError::TimedOut)) {
                Ok(Some(lease)) => {
                    held_until = Some(asked + self.ttl);
                    stepped_down = false;
                    leading.send_if_modified(|now| {
                        let changed = *now != Some(lease.epoch);
                        *now = Some(lease.epoch);
                        changed
                    });
                }
                Ok(None) => {
                    held_until = None;
                    leading.send_if_modified(|now| now.take().is_some());
                }
                Err(error) => tracing::warn!(lease.name = %self.lease, %error, "cannot renew the lease"),
            }
            // Step down a renewal before the lease could lapse, renewed or not.
            if held_until.is_some_and(|until| Instant::now() + renew_every >= until) {
                tracing::warn!(lease.name = %self.lease, "stepping down: the lease could not be renewed in time");
                held_until = None;
                stepped_down = true;
                leading.send_if_modified(|now| now.take().is_some());
            }
            tokio::select! {
                () = tokio::time::sleep(renew_every) => {}
                _ = stop.changed() => {}
            }
        }
        // Not leading any more before anyone else may lead.
        leading.send_replace(None);
        if held_until.is_some() {
            if let Err(error) = self.leases.release(&self.lease, &self.holder).await {
                tracing::warn!(lease.name = %self.lease, %error, "cannot release the lease");
            }
        }
    }
}
