//! Bounds on the expensive work any reader can start (SECURITY S16): searches (a blocking
//! index scan each) and reads of attached documents (layers fetched, unpacked and parsed) run
//! a few at a time per process. A permit is held by the work itself, so a caller that gives up
//! (a timeout, a closed tab) frees nothing early and starts nothing new; a caller that waits
//! too long is told the server is busy.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;

/// Searches running at once.
const SEARCHES: usize = 4;
/// Attached documents read at once.
const DOCUMENT_READS: usize = 2;
/// How long a caller waits for its turn before it is told the server is busy.
const WAIT: Duration = Duration::from_secs(10);

/// The per-process gates; cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct Gates {
    searches: Arc<Semaphore>,
    documents: Arc<Semaphore>,
}

impl Default for Gates {
    fn default() -> Gates {
        Gates { searches: Arc::new(Semaphore::new(SEARCHES)), documents: Arc::new(Semaphore::new(DOCUMENT_READS)) }
    }
}

async fn enter(gate: &Arc<Semaphore>, what: &str) -> Result<OwnedSemaphorePermit, AppError> {
    match tokio::time::timeout(WAIT, gate.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(AppError::Busy(format!("too many {what} are running; try again shortly"))),
    }
}

/// The expensive work running now, against its bounds (for metrics and benchmarks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpensiveWork {
    /// Searches running.
    pub searches: usize,
    /// Most searches that run at once.
    pub search_limit: usize,
    /// Attached-document reads running.
    pub document_reads: usize,
    /// Most document reads that run at once.
    pub document_limit: usize,
}

impl Gates {
    /// What runs now.
    pub(crate) fn usage(&self) -> ExpensiveWork {
        ExpensiveWork {
            searches: SEARCHES - self.searches.available_permits(),
            search_limit: SEARCHES,
            document_reads: DOCUMENT_READS - self.documents.available_permits(),
            document_limit: DOCUMENT_READS,
        }
    }

    /// A turn to search.
    pub(crate) async fn search(&self) -> Result<OwnedSemaphorePermit, AppError> {
        enter(&self.searches, "searches").await
    }

    /// A turn to read an artifact's attached documents.
    pub(crate) async fn documents(&self) -> Result<OwnedSemaphorePermit, AppError> {
        enter(&self.documents, "document reads").await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn work_beyond_the_bound_waits_then_is_told_busy() {
        let gates = Gates::default();
        let mut held = Vec::new();
        for _ in 0..SEARCHES {
            held.push(gates.search().await.expect("a turn within the bound"));
        }
        assert_eq!(held.len(), SEARCHES);
        let refused = gates.search().await;
        assert!(matches!(refused, Err(AppError::Busy(_))), "{refused:?}");
        assert_eq!(gates.usage().searches, SEARCHES);
        drop(held);
        assert!(gates.search().await.is_ok(), "a turn frees when the work ends");
        assert_eq!(gates.usage().searches, 0);
    }
}
