//! Several replicas on the wire: who leads, and how far each replica's index has applied the
//! catalog's change log (`/status`, `GET /api/v1/replicas`, `/metrics`).

use serde::{Deserialize, Serialize};

/// The replicas sharing one database, as this replica sees them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ReplicasView {
    /// The replica answering.
    pub this_replica: String,
    /// The replica that leads (crawls and runs scheduled retention), if one does.
    pub leader: Option<String>,
    /// The newest change in the catalog's change log.
    pub head: i64,
    /// Every replica heard from lately, by name.
    pub replicas: Vec<ReplicaRow>,
}

/// One replica.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ReplicaRow {
    /// Its name (`[cluster] replica_name`).
    pub name: String,
    /// The last change its index applied.
    pub applied: i64,
    /// Changes it has yet to apply (`head - applied`).
    pub lag: i64,
    /// Seconds since its last heartbeat, by the database's clock.
    pub seconds_since_heartbeat: i64,
    /// Whether it was heard from recently enough to count as running.
    pub live: bool,
    /// Whether it leads.
    pub leading: bool,
}
