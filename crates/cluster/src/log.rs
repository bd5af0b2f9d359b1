//! The catalog's change log: every catalog write the leader commits, in order, for every
//! replica (the leader too) to apply to its own index. An append carries the leader's lease
//! epoch and lands only while that epoch holds the lease (on PostgreSQL the lease row is locked
//! for share meanwhile, so a takeover waits for an append in flight and no stale leader's write
//! lands after it). One appender at a time makes sequence order the commit order, so a replica
//! that read up to `n` never meets a change below `n` later. On PostgreSQL every append is
//! announced (`NOTIFY ocicat_catalog`, from a trigger), so tailers need not poll.

use ocicat_sql::{Column, Database, Value};

use crate::error::{ClusterError, checked};

const CREATE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS ocicat_catalog_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    epoch BIGINT NOT NULL,
    body TEXT NOT NULL
)";
const CREATE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS ocicat_catalog_log (
    seq BIGSERIAL PRIMARY KEY,
    epoch BIGINT NOT NULL,
    body TEXT NOT NULL
)";

const SCHEMA_LOCK: i64 = 0x6f63_6c75_0003;

/// The channel appends are announced on (PostgreSQL), so tailers wake at once instead of polling.
pub(crate) const CHANNEL: &str = "ocicat_catalog";

const NOTIFY_FUNCTION: &str = "CREATE OR REPLACE FUNCTION ocicat_catalog_appended() RETURNS trigger AS $$
BEGIN
    PERFORM pg_notify('ocicat_catalog', NEW.seq::text);
    RETURN NEW;
END
$$ LANGUAGE plpgsql";
const NOTIFY_TRIGGER: &str = "CREATE OR REPLACE TRIGGER ocicat_catalog_appended
    AFTER INSERT ON ocicat_catalog_log FOR EACH ROW EXECUTE FUNCTION ocicat_catalog_appended()";

const APPEND_SQLITE: &str = "INSERT INTO ocicat_catalog_log (epoch, body)
    SELECT $2, $3 WHERE EXISTS
        (SELECT 1 FROM ocicat_leases WHERE name = $1 AND epoch = $2 AND holder = $4)
    RETURNING seq";
const APPEND_POSTGRES: &str = "INSERT INTO ocicat_catalog_log (epoch, body)
    SELECT $2, $3 WHERE EXISTS
        (SELECT 1 FROM ocicat_leases WHERE name = $1 AND epoch = $2 AND holder = $4 FOR SHARE)
    RETURNING seq";

/// One change as the log has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Its position: grows with every append.
    pub seq: i64,
    /// The lease epoch of the leader that wrote it.
    pub epoch: i64,
    /// What changed, as the catalog serialises it.
    pub body: String,
}

/// The change log of one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct ChangeLog {
    database: Database,
}

impl ChangeLog {
    /// The log kept in `database`, its table (and the leases' it checks) created if missing.
    pub async fn open(database: Database) -> Result<ChangeLog, ClusterError> {
        crate::Leases::open(database.clone()).await?;
        database
            .create_schema(&[CREATE_SQLITE], &[CREATE_POSTGRES, NOTIFY_FUNCTION, NOTIFY_TRIGGER], SCHEMA_LOCK)
            .await?;
        Ok(ChangeLog { database })
    }

    /// A listener woken by every append, on PostgreSQL (`None` on SQLite, where tailers poll).
    pub async fn wake_ups(&self) -> Result<Option<sqlx::postgres::PgListener>, ClusterError> {
        let Database::Postgres(pool) = &self.database else { return Ok(None) };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        Ok(Some(listener))
    }

    /// Appends `bodies` in order as `holder` of lease `lease` at `epoch`; answers their
    /// sequence numbers, or [`ClusterError::Fenced`] (with what was appended before) once the
    /// lease has moved on.
    pub async fn append(
        &self,
        lease: &str,
        holder: &str,
        epoch: i64,
        bodies: &[String],
    ) -> Result<Vec<i64>, ClusterError> {
        let (lease, holder) = (checked(lease)?, checked(holder)?);
        let statement = match self.database {
            Database::Postgres(_) => APPEND_POSTGRES,
            Database::Sqlite(_) => APPEND_SQLITE,
        };
        let mut appended = Vec::with_capacity(bodies.len());
        for body in bodies {
            let values = [Value::Text(lease), Value::Int(epoch), Value::Text(body), Value::Text(holder)];
            let rows = self.database.fetch(statement, &values, &[Column::Int("seq")]).await?;
            match rows.first().and_then(|row| row.int("seq")) {
                Some(seq) => appended.push(seq),
                None => return Err(ClusterError::Fenced { epoch, appended }),
            }
        }
        Ok(appended)
    }

    /// At most `limit` changes after `seq`, in order.
    pub async fn after(&self, seq: i64, limit: i64) -> Result<Vec<Change>, ClusterError> {
        let sql = "SELECT seq, epoch, body FROM ocicat_catalog_log WHERE seq > $1 ORDER BY seq LIMIT $2";
        let columns = [Column::Int("seq"), Column::Int("epoch"), Column::Text("body")];
        let rows = self.database.fetch(sql, &[Value::Int(seq), Value::Int(limit.max(0))], &columns).await?;
        Ok(rows
            .iter()
            .map(|row| Change {
                seq: row.int("seq").unwrap_or_default(),
                epoch: row.int("epoch").unwrap_or_default(),
                body: row.text("body").unwrap_or_default().to_owned(),
            })
            .collect())
    }

    /// The newest sequence number (0 for an empty log).
    pub async fn head(&self) -> Result<i64, ClusterError> {
        let rows =
            self.database.fetch("SELECT MAX(seq) AS head FROM ocicat_catalog_log", &[], &[Column::Int("head")]).await?;
        Ok(rows.first().and_then(|row| row.int("head")).unwrap_or_default())
    }

    /// Removes the changes up to `seq` (what every live replica has applied); answers how many.
    pub async fn prune_through(&self, seq: i64) -> Result<u64, ClusterError> {
        Ok(self.database.execute("DELETE FROM ocicat_catalog_log WHERE seq <= $1", &[Value::Int(seq)]).await?)
    }
}
