//! Short-lived documents every replica must find, whichever one made them: a copy plan is made
//! by one request and executed by the next, which a load balancer may send to another replica.
//! Kept by kind and id, with the time they were saved, and forgotten after a lifetime.

use std::time::Duration;

use ocicat_sql::{Column, Database, Value};

use crate::error::{ClusterError, checked, millis};

const CREATE: &str = "CREATE TABLE IF NOT EXISTS ocicat_shared_documents (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    saved_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
)";
const SCHEMA_LOCK: i64 = 0x6f63_6c75_0008;

/// The shared documents of one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct SharedDocuments {
    database: Database,
    lifetime: Duration,
}

impl SharedDocuments {
    /// The documents kept in `database` for `lifetime` after their last save.
    pub async fn open(database: Database, lifetime: Duration) -> Result<SharedDocuments, ClusterError> {
        database.create_schema(&[CREATE], &[CREATE], SCHEMA_LOCK).await?;
        Ok(SharedDocuments { database, lifetime })
    }

    /// Saves `body` as document `id` of `kind` (replacing it), and forgets expired ones.
    pub async fn save(&self, kind: &str, id: &str, body: &str) -> Result<(), ClusterError> {
        let now = crate::now::now_ms(&self.database).await?;
        let expired = now.saturating_sub(millis(self.lifetime)?);
        self.database
            .execute("DELETE FROM ocicat_shared_documents WHERE saved_at < $1", &[Value::Int(expired)])
            .await?;
        let sql = "INSERT INTO ocicat_shared_documents (kind, id, body, saved_at) VALUES ($1, $2, $3, $4)
            ON CONFLICT (kind, id) DO UPDATE SET body = excluded.body, saved_at = excluded.saved_at";
        let values = [Value::Text(checked(kind)?), Value::Text(checked(id)?), Value::Text(body), Value::Int(now)];
        self.database.execute(sql, &values).await?;
        Ok(())
    }

    /// Document `id` of `kind`, unless it expired.
    pub async fn load(&self, kind: &str, id: &str) -> Result<Option<String>, ClusterError> {
        let now = crate::now::now_ms(&self.database).await?;
        let expired = now.saturating_sub(millis(self.lifetime)?);
        let sql = "SELECT body FROM ocicat_shared_documents WHERE kind = $1 AND id = $2 AND saved_at >= $3";
        let values = [Value::Text(checked(kind)?), Value::Text(checked(id)?), Value::Int(expired)];
        let rows = self.database.fetch(sql, &values, &[Column::Text("body")]).await?;
        Ok(rows.first().and_then(|row| row.text("body")).map(str::to_owned))
    }
}
