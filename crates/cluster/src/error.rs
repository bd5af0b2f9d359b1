//! What can go wrong in the cluster tables.

/// An error reading or writing the cluster tables.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// The database refused or could not be reached.
    #[error("cluster database: {0}")]
    Database(#[from] sqlx::Error),
    /// A lease or replica name that is empty, too long or holds control characters.
    #[error("invalid cluster name '{0}': 1 to 128 printable characters")]
    BadName(String),
    /// The lease moved on: a leader that lost it may not write any more.
    #[error("lease epoch {epoch} no longer holds the lease: {} change(s) appended before", appended.len())]
    Fenced {
        /// The epoch the writer held.
        epoch: i64,
        /// The sequence numbers appended before the lease moved.
        appended: Vec<i64>,
    },
    /// This replica's index refused a change.
    #[error("applying a catalog change: {0}")]
    Catalog(ocicat_catalog::CatalogError),
    /// The database did not answer in time.
    #[error("the cluster database did not answer in time")]
    TimedOut,
    /// A duration too long to add to a time in milliseconds.
    #[error("lease time out of range: {0} ms")]
    BadDuration(u128),
}

/// Checks a lease, holder or replica name.
pub(crate) fn checked(name: &str) -> Result<&str, ClusterError> {
    let ok = !name.is_empty() && name.chars().count() <= 128 && !name.chars().any(char::is_control);
    if ok { Ok(name) } else { Err(ClusterError::BadName(name.chars().take(64).collect())) }
}

/// `duration` in milliseconds, as the tables keep times.
pub(crate) fn millis(duration: std::time::Duration) -> Result<i64, ClusterError> {
    i64::try_from(duration.as_millis()).map_err(|_| ClusterError::BadDuration(duration.as_millis()))
}

/// A catalog error saying why replication failed (what a sink or a tailer answers the writer).
pub(crate) fn replication_error(error: impl std::fmt::Display) -> ocicat_catalog::CatalogError {
    ocicat_catalog::CatalogError::Replication(error.to_string())
}
