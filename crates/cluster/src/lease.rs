//! Named leases: at most one holder at a time, taken over only once the holder stopped renewing
//! it for its whole time to live, with an epoch that grows at every change of holder (a fencing
//! token: writes that carry an older epoch are refused by whoever checks it).

use std::time::Duration;

use ocicat_sql::{Column, Database, Value};

use crate::error::{ClusterError, checked, millis};

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS ocicat_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    epoch BIGINT NOT NULL,
    acquired_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
)";

/// The advisory lock replicas take turns on while creating the table.
const SCHEMA_LOCK: i64 = 0x6f63_6c75_0001;

/// Takes the lease for a new holder only when it expired, renews it for its holder; answers the
/// row as it is after (no row: someone else holds it). Every SET expression reads the old row.
/// Taking a lapsed lease is a new epoch even for its last holder (a restarted process of the
/// same name must not share a fencing token with the one it replaces).
const ACQUIRE: &str = "INSERT INTO ocicat_leases (name, holder, epoch, acquired_at, expires_at)
    VALUES ($1, $2, 1, $3, $4)
    ON CONFLICT (name) DO UPDATE SET
        epoch = CASE WHEN ocicat_leases.holder = excluded.holder AND ocicat_leases.expires_at > $3
                     THEN ocicat_leases.epoch ELSE ocicat_leases.epoch + 1 END,
        acquired_at = CASE WHEN ocicat_leases.holder = excluded.holder AND ocicat_leases.expires_at > $3
                           THEN ocicat_leases.acquired_at ELSE excluded.acquired_at END,
        holder = excluded.holder,
        expires_at = excluded.expires_at
    WHERE ocicat_leases.holder = excluded.holder OR ocicat_leases.expires_at <= $3
    RETURNING holder, epoch, acquired_at, expires_at";

/// [`ACQUIRE`], but a new epoch even when `holder` still holds it: what a holder that stepped
/// down takes it back with, so nothing it began under the old epoch can land any more.
const ACQUIRE_ANEW: &str = "INSERT INTO ocicat_leases (name, holder, epoch, acquired_at, expires_at)
    VALUES ($1, $2, 1, $3, $4)
    ON CONFLICT (name) DO UPDATE SET
        epoch = ocicat_leases.epoch + 1,
        acquired_at = excluded.acquired_at,
        holder = excluded.holder,
        expires_at = excluded.expires_at
    WHERE ocicat_leases.holder = excluded.holder OR ocicat_leases.expires_at <= $3
    RETURNING holder, epoch, acquired_at, expires_at";

const READ: [Column<'static>; 4] =
    [Column::Text("holder"), Column::Int("epoch"), Column::Int("acquired_at"), Column::Int("expires_at")];

/// A lease as the database has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// Who holds it.
    pub holder: String,
    /// How many times it changed holder, plus one: the fencing token.
    pub epoch: i64,
    /// When this holder took it (ms since 1970, the database's clock).
    pub acquired_at: i64,
    /// When it lapses unless renewed (ms since 1970, the database's clock).
    pub expires_at: i64,
}

fn lease(row: &ocicat_sql::Row) -> Lease {
    Lease {
        holder: row.text("holder").unwrap_or_default().to_owned(),
        epoch: row.int("epoch").unwrap_or_default(),
        acquired_at: row.int("acquired_at").unwrap_or_default(),
        expires_at: row.int("expires_at").unwrap_or_default(),
    }
}

/// The leases of one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Leases {
    database: Database,
}

impl Leases {
    /// The leases kept in `database`, their table created if missing.
    pub async fn open(database: Database) -> Result<Leases, ClusterError> {
        database.create_schema(&[CREATE_TABLE], &[CREATE_TABLE], SCHEMA_LOCK).await?;
        Ok(Leases { database })
    }

    /// Takes lease `name` for `holder` (or renews it) for `ttl` from the database's now; answers
    /// the lease when `holder` holds it, `None` while another holder's has not lapsed.
    pub async fn acquire(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, ClusterError> {
        let now = crate::now::now_ms(&self.database).await?;
        self.acquire_at(name, holder, ttl, now).await
    }

    /// [`Leases::acquire`] at time `now` (ms since 1970): what a test drives without waiting.
    pub async fn acquire_at(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
        now: i64,
    ) -> Result<Option<Lease>, ClusterError> {
        let (name, holder) = (checked(name)?, checked(holder)?);
        let expires = now.saturating_add(millis(ttl)?);
        let values = [Value::Text(name), Value::Text(holder), Value::Int(now), Value::Int(expires)];
        let rows = self.database.fetch(ACQUIRE, &values, &READ).await?;
        Ok(rows.first().map(lease).filter(|lease| lease.holder == holder))
    }

    /// [`Leases::acquire`], always under a new epoch (see [`ACQUIRE_ANEW`]).
    pub async fn acquire_anew(&self, name: &str, holder: &str, ttl: Duration) -> Result<Option<Lease>, ClusterError> {
        let (name, holder) = (checked(name)?, checked(holder)?);
        let now = crate::now::now_ms(&self.database).await?;
        let expires = now.saturating_add(millis(ttl)?);
        let values = [Value::Text(name), Value::Text(holder), Value::Int(now), Value::Int(expires)];
        let rows = self.database.fetch(ACQUIRE_ANEW, &values, &READ).await?;
        Ok(rows.first().map(lease).filter(|lease| lease.holder == holder))
    }

    /// Gives lease `name` up at once if `holder` holds it (a clean shutdown: the next replica
    /// need not wait for it to lapse); answers whether it did.
    pub async fn release(&self, name: &str, holder: &str) -> Result<bool, ClusterError> {
        let sql = "UPDATE ocicat_leases SET expires_at = 0 WHERE name = $1 AND holder = $2";
        Ok(self.database.execute(sql, &[Value::Text(checked(name)?), Value::Text(checked(holder)?)]).await? > 0)
    }

    /// Removes lease `name` if `holder` holds it (a claim that is done with, where keeping the
    /// epoch serves no one); answers whether it did.
    pub async fn forget(&self, name: &str, holder: &str) -> Result<bool, ClusterError> {
        let sql = "DELETE FROM ocicat_leases WHERE name = $1 AND holder = $2";
        Ok(self.database.execute(sql, &[Value::Text(checked(name)?), Value::Text(checked(holder)?)]).await? > 0)
    }

    /// Lease `name` as it stands (lapsed or not), if anyone ever took it.
    pub async fn current(&self, name: &str) -> Result<Option<Lease>, ClusterError> {
        let sql = "SELECT holder, epoch, acquired_at, expires_at FROM ocicat_leases WHERE name = $1";
        Ok(self.database.fetch(sql, &[Value::Text(checked(name)?)], &READ).await?.first().map(lease))
    }

    /// The database's time now (ms since 1970), the clock leases expire by.
    pub async fn now(&self) -> Result<i64, ClusterError> {
        Ok(crate::now::now_ms(&self.database).await?)
    }
}
