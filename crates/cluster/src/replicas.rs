//! The replicas that share a database: each one's heartbeat and how far it applied the
//! catalog's change log, so `/status` can show them, a load balancer can ask whether one is
//! caught up, and the log can be pruned below what every live replica applied.

use std::time::Duration;

use ocicat_sql::{Column, Database, Value};

use crate::error::{ClusterError, checked, millis};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS ocicat_replicas (
    name TEXT PRIMARY KEY NOT NULL,
    started_at BIGINT NOT NULL,
    heartbeat_at BIGINT NOT NULL,
    applied BIGINT NOT NULL
)";

const SCHEMA_LOCK: i64 = 0x6f63_6c75_0002;

const HEARTBEAT: &str = "INSERT INTO ocicat_replicas (name, started_at, heartbeat_at, applied)
    VALUES ($1, $2, $2, $3)
    ON CONFLICT (name) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, applied = excluded.applied";

const READ: [Column<'static>; 4] =
    [Column::Text("name"), Column::Int("started_at"), Column::Int("heartbeat_at"), Column::Int("applied")];

/// One replica as the database last heard of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replica {
    /// Its name (`[cluster] replica_name`, the host name by default).
    pub name: String,
    /// Its first heartbeat (ms since 1970, the database's clock).
    pub started_at: i64,
    /// Its latest heartbeat.
    pub heartbeat_at: i64,
    /// The last change-log sequence number it applied to its index.
    pub applied: i64,
}

fn replica(row: &ocicat_sql::Row) -> Replica {
    Replica {
        name: row.text("name").unwrap_or_default().to_owned(),
        started_at: row.int("started_at").unwrap_or_default(),
        heartbeat_at: row.int("heartbeat_at").unwrap_or_default(),
        applied: row.int("applied").unwrap_or_default(),
    }
}

/// The replica registry of one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Replicas {
    database: Database,
}

impl Replicas {
    /// The registry kept in `database`, its table created if missing.
    pub async fn open(database: Database) -> Result<Replicas, ClusterError> {
        database.create_schema(&[CREATE_TABLE], &[CREATE_TABLE], SCHEMA_LOCK).await?;
        Ok(Replicas { database })
    }

    /// Records that replica `name` is alive and has applied the log up to `applied`.
    pub async fn heartbeat(&self, name: &str, applied: i64) -> Result<(), ClusterError> {
        let now = crate::now::now_ms(&self.database).await?;
        self.heartbeat_at(name, applied, now).await
    }

    /// [`Replicas::heartbeat`] at time `now` (ms since 1970).
    pub async fn heartbeat_at(&self, name: &str, applied: i64, now: i64) -> Result<(), ClusterError> {
        let values = [Value::Text(checked(name)?), Value::Int(now), Value::Int(applied)];
        self.database.execute(HEARTBEAT, &values).await?;
        Ok(())
    }

    /// Every replica heard of within `within` before `now`, by name.
    pub async fn live_at(&self, within: Duration, now: i64) -> Result<Vec<Replica>, ClusterError> {
        let since = now.saturating_sub(millis(within)?);
        let sql = "SELECT name, started_at, heartbeat_at, applied FROM ocicat_replicas
            WHERE heartbeat_at >= $1 ORDER BY name";
        Ok(self.database.fetch(sql, &[Value::Int(since)], &READ).await?.iter().map(replica).collect())
    }

    /// The change-log position every live replica has applied (the log below it may go), or
    /// `None` when no replica is live.
    pub async fn applied_by_all_at(&self, within: Duration, now: i64) -> Result<Option<i64>, ClusterError> {
        Ok(self.live_at(within, now).await?.iter().map(|replica| replica.applied).min())
    }

    /// Forgets replicas not heard of for `gone_after` (renamed or removed for good).
    pub async fn forget_silent_at(&self, gone_after: Duration, now: i64) -> Result<u64, ClusterError> {
        let before = now.saturating_sub(millis(gone_after)?);
        Ok(self.database.execute("DELETE FROM ocicat_replicas WHERE heartbeat_at < $1", &[Value::Int(before)]).await?)
    }
}
