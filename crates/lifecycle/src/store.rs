//! Where delete plans (with their execution), the audit log and retention reports are kept: the
//! SQL database of the sessions and API tokens (SQLite or PostgreSQL). The audit table is
//! append-only in the database itself: triggers refuse every UPDATE and DELETE on it.
//!
//! Bodies are stored as JSON; the other columns exist only to find and order rows. Every
//! timestamp column holds milliseconds since the epoch.

use chrono::{DateTime, TimeZone as _, Utc};
use ocicat_sql::{Column, Database, Row, Value};

use crate::model::{AuditEntry, Execution, ExecutionState, RetentionRun};

/// A failed store operation; the message says what was being done, never how to connect.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("lifecycle database: {context}: {source}")]
    Database {
        /// What was being done.
        context: String,
        /// The database's error.
        #[source]
        source: sqlx::Error,
    },
    /// A value could not be written as JSON.
    #[error("cannot encode {what} as json: {source}")]
    Encode {
        /// What was being encoded.
        what: String,
        /// The encoder's error.
        #[source]
        source: serde_json::Error,
    },
    /// A stored row holds JSON that no longer reads as its type.
    #[error("lifecycle database: stored {what} is not valid: {source}")]
    Corrupt {
        /// Which row.
        what: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
}

/// The result of a store operation.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The plan, audit and retention tables on the server's SQL database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    database: Database,
}

/// Tables and indexes with the same text on both databases.
const SHARED_SCHEMA: [&str; 5] = [
    "CREATE TABLE IF NOT EXISTS ocicat_plans (
        id TEXT PRIMARY KEY NOT NULL,
        created_at BIGINT NOT NULL,
        created_by TEXT NOT NULL,
        state TEXT NOT NULL,
        body TEXT NOT NULL,
        updated_at BIGINT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS ocicat_plans_state ON ocicat_plans (state, created_at)",
    "CREATE INDEX IF NOT EXISTS ocicat_plans_updated ON ocicat_plans (updated_at)",
    "CREATE TABLE IF NOT EXISTS ocicat_retention_runs (
        id TEXT PRIMARY KEY NOT NULL,
        policy TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        body TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS ocicat_retention_runs_policy ON ocicat_retention_runs (policy, started_at)",
];

/// The audit columns after `seq`, shared by both dialects of the table.
const AUDIT_COLUMNS: &str = "at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        registry TEXT,
        repository TEXT,
        digest TEXT,
        tags TEXT NOT NULL,
        plan_id TEXT,
        outcome TEXT NOT NULL,
        detail TEXT";

/// The audit table and its guards on SQLite (seq never reused thanks to AUTOINCREMENT).
const SQLITE_AUDIT: [&str; 2] = [
    "CREATE TRIGGER IF NOT EXISTS ocicat_audit_no_update BEFORE UPDATE ON ocicat_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS ocicat_audit_no_delete BEFORE DELETE ON ocicat_audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END",
];

/// The audit table's guards on PostgreSQL (15 or newer for `CREATE OR REPLACE TRIGGER`);
/// TRUNCATE skips row triggers, so it has its own.
const POSTGRES_AUDIT: [&str; 3] = [
    "CREATE OR REPLACE FUNCTION ocicat_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$",
    "CREATE OR REPLACE TRIGGER ocicat_audit_append_only BEFORE UPDATE OR DELETE ON ocicat_audit
    FOR EACH ROW EXECUTE FUNCTION ocicat_audit_append_only()",
    "CREATE OR REPLACE TRIGGER ocicat_audit_no_truncate BEFORE TRUNCATE ON ocicat_audit
    FOR EACH STATEMENT EXECUTE FUNCTION ocicat_audit_append_only()",
];

/// Serialises schema creation between replicas starting together (an arbitrary constant).
const SCHEMA_LOCK_KEY: i64 = 0x6f63_6963_6174_6c63;

const AUDIT_SELECT: &str =
    "SELECT seq, at, actor, action, registry, repository, digest, tags, plan_id, outcome, detail FROM ocicat_audit";

impl Store {
    /// Opens the store on `database`, creating the tables, indexes and audit guards if missing;
    /// opening again (here or on another replica) keeps every row.
    pub async fn open(database: Database) -> Result<Store> {
        let sqlite_audit =
            format!("CREATE TABLE IF NOT EXISTS ocicat_audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, {AUDIT_COLUMNS})");
        let postgres_audit =
            format!("CREATE TABLE IF NOT EXISTS ocicat_audit (seq BIGSERIAL PRIMARY KEY, {AUDIT_COLUMNS})");
        let sqlite: Vec<&str> =
            SHARED_SCHEMA.iter().copied().chain([sqlite_audit.as_str()]).chain(SQLITE_AUDIT).collect();
        let postgres: Vec<&str> =
            SHARED_SCHEMA.iter().copied().chain([postgres_audit.as_str()]).chain(POSTGRES_AUDIT).collect();
        database
            .create_schema(&sqlite, &postgres, SCHEMA_LOCK_KEY)
            .await
            .map_err(failed("cannot create the plan, audit and retention tables".to_owned()))?;
        Ok(Store { database })
    }

    /// Stores `execution` under its plan id, replacing what was stored there.
    pub async fn save_execution(&self, execution: &Execution) -> Result<()> {
        let plan = &execution.plan;
        let body = encode(execution, || format!("plan {}", plan.id))?;
        // Strictly after every earlier save, so "newest first" holds even within one millisecond.
        let sql = "INSERT INTO ocicat_plans (id, created_at, created_by, state, body, updated_at)
            VALUES ($1, $2, $3, $4, $5,
                (SELECT CASE WHEN MAX(updated_at) >= $6 THEN MAX(updated_at) + 1 ELSE $6 END FROM ocicat_plans))
            ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, created_by = excluded.created_by,
                state = excluded.state, body = excluded.body, updated_at = excluded.updated_at";
        let values = [
            Value::Text(&plan.id),
            Value::Int(plan.created.timestamp_millis()),
            Value::Text(&plan.created_by),
            Value::Text(execution.state.key()),
            Value::Text(&body),
            Value::Int(Utc::now().timestamp_millis()),
        ];
        self.database.execute(sql, &values).await.map_err(failed(format!("cannot save plan {}", plan.id)))?;
        Ok(())
    }

    /// The plan `id` with its execution, if stored.
    pub async fn execution(&self, id: &str) -> Result<Option<Execution>> {
        let sql = "SELECT id, body FROM ocicat_plans WHERE id = $1";
        let mut found = self.bodies(sql, &[Value::Text(id)], "plan").await?;
        Ok(found.pop())
    }

    /// Every plan in `state`, oldest first (at start, the `Running` ones are resumed).
    pub async fn executions_in_state(&self, state: ExecutionState) -> Result<Vec<Execution>> {
        let sql = "SELECT id, body FROM ocicat_plans WHERE state = $1 ORDER BY created_at, id";
        self.bodies(sql, &[Value::Text(state.key())], "plan").await
    }

    /// The `limit` most recently saved plans, newest first.
    pub async fn recent_executions(&self, limit: usize) -> Result<Vec<Execution>> {
        let sql = "SELECT id, body FROM ocicat_plans ORDER BY updated_at DESC, id DESC LIMIT $1";
        self.bodies(sql, &[Value::Int(row_limit(limit))], "plan").await
    }

    /// Appends `entry` to the audit log (its `seq` is ignored, `at` kept to the millisecond) and
    /// returns the position the log gave it.
    pub async fn append(&self, entry: AuditEntry) -> Result<i64> {
        let tags = encode(&entry.tags, || format!("audit tags of {} {}", entry.action, entry.actor))?;
        let sql =
            "INSERT INTO ocicat_audit (at, actor, action, registry, repository, digest, tags, plan_id, outcome, detail)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq";
        let values = [
            Value::Int(entry.at.timestamp_millis()),
            Value::Text(&entry.actor),
            Value::Text(&entry.action),
            Value::MaybeText(entry.registry.as_deref()),
            Value::MaybeText(entry.repository.as_deref()),
            Value::MaybeText(entry.digest.as_deref()),
            Value::Text(&tags),
            Value::MaybeText(entry.plan_id.as_deref()),
            Value::Text(&entry.outcome),
            Value::MaybeText(entry.detail.as_deref()),
        ];
        let context = || format!("cannot append {} by {} to the audit log", entry.action, entry.actor);
        let rows = self.database.fetch(sql, &values, &[Column::Int("seq")]).await.map_err(failed(context()))?;
        Ok(rows.first().and_then(|row| row.int("seq")).unwrap_or_default())
    }

    /// Up to `limit` audit entries, newest first, all before position `before` when given.
    pub async fn audit(&self, before: Option<i64>, limit: usize) -> Result<Vec<AuditEntry>> {
        let sql = format!("{AUDIT_SELECT} WHERE seq < $1 ORDER BY seq DESC LIMIT $2");
        let values = [Value::Int(before.unwrap_or(i64::MAX)), Value::Int(row_limit(limit))];
        self.audit_entries(&sql, &values).await
    }

    /// Up to `limit` audit entries after position `after`, oldest first (for exports in pages).
    pub async fn audit_since(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>> {
        let sql = format!("{AUDIT_SELECT} WHERE seq > $1 ORDER BY seq LIMIT $2");
        self.audit_entries(&sql, &[Value::Int(after), Value::Int(row_limit(limit))]).await
    }

    /// Stores the retention report `run` under its id, replacing what was stored there.
    pub async fn save_run(&self, run: &RetentionRun) -> Result<()> {
        let body = encode(run, || format!("retention run {}", run.id))?;
        let sql = "INSERT INTO ocicat_retention_runs (id, policy, started_at, body) VALUES ($1, $2, $3, $4)
            ON CONFLICT (id) DO UPDATE SET policy = excluded.policy, started_at = excluded.started_at,
                body = excluded.body";
        let values = [
            Value::Text(&run.id),
            Value::Text(&run.policy),
            Value::Int(run.started.timestamp_millis()),
            Value::Text(&body),
        ];
        self.database.execute(sql, &values).await.map_err(failed(format!("cannot save retention run {}", run.id)))?;
        Ok(())
    }

    /// The retention report `id`, if stored.
    pub async fn run(&self, id: &str) -> Result<Option<RetentionRun>> {
        let sql = "SELECT id, body FROM ocicat_retention_runs WHERE id = $1";
        let mut found = self.bodies(sql, &[Value::Text(id)], "retention run").await?;
        Ok(found.pop())
    }

    /// Up to `limit` retention reports, of `policy` only when given, the latest started first.
    pub async fn runs(&self, policy: Option<&str>, limit: usize) -> Result<Vec<RetentionRun>> {
        let limit = Value::Int(row_limit(limit));
        match policy {
            Some(policy) => {
                let sql = "SELECT id, body FROM ocicat_retention_runs WHERE policy = $1
                    ORDER BY started_at DESC, id DESC LIMIT $2";
                self.bodies(sql, &[Value::Text(policy), limit], "retention run").await
            }
            None => {
                let sql = "SELECT id, body FROM ocicat_retention_runs ORDER BY started_at DESC, id DESC LIMIT $1";
                self.bodies(sql, &[limit], "retention run").await
            }
        }
    }

    /// The JSON `body` of each row `sql` selects (with its `id`), decoded as `T`.
    async fn bodies<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        values: &[Value<'_>],
        what: &str,
    ) -> Result<Vec<T>> {
        let rows = self.database.fetch(sql, values, &[Column::Text("id"), Column::Text("body")]).await;
        let rows = rows.map_err(failed(format!("cannot read {what}s")))?;
        rows.iter()
            .map(|row| {
                let (id, body) = (row.text("id").unwrap_or_default(), row.text("body").unwrap_or_default());
                serde_json::from_str(body)
                    .map_err(|source| StoreError::Corrupt { what: format!("{what} {id}"), source })
            })
            .collect()
    }

    async fn audit_entries(&self, sql: &str, values: &[Value<'_>]) -> Result<Vec<AuditEntry>> {
        let rows = self.database.fetch(sql, values, &AUDIT_READ).await;
        rows.map_err(failed("cannot read the audit log".to_owned()))?.iter().map(audit_entry).collect()
    }
}

/// The columns an audit row is read from.
const AUDIT_READ: [Column<'static>; 11] = [
    Column::Int("seq"),
    Column::Int("at"),
    Column::Text("actor"),
    Column::Text("action"),
    Column::Text("registry"),
    Column::Text("repository"),
    Column::Text("digest"),
    Column::Text("tags"),
    Column::Text("plan_id"),
    Column::Text("outcome"),
    Column::Text("detail"),
];

/// An audit entry from its row; its tags are stored as JSON.
fn audit_entry(row: &Row) -> Result<AuditEntry> {
    let seq = row.int("seq").unwrap_or_default();
    let text = |column: &str| row.text(column).unwrap_or_default().to_owned();
    let maybe = |column: &str| row.text(column).map(str::to_owned);
    let tags = serde_json::from_str(row.text("tags").unwrap_or("[]"))
        .map_err(|source| StoreError::Corrupt { what: format!("tags of audit entry {seq}"), source })?;
    Ok(AuditEntry {
        seq,
        at: milliseconds(row.int("at").unwrap_or_default()),
        actor: text("actor"),
        action: text("action"),
        registry: maybe("registry"),
        repository: maybe("repository"),
        digest: maybe("digest"),
        tags,
        plan_id: maybe("plan_id"),
        outcome: text("outcome"),
        detail: maybe("detail"),
    })
}

fn encode<T: serde::Serialize>(value: &T, what: impl FnOnce() -> String) -> Result<String> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode { what: what(), source })
}

fn failed(context: String) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { context, source }
}

/// `limit` as SQL wants it (anything past `i64::MAX` is no limit anyway).
fn row_limit(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn milliseconds(timestamp: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(timestamp).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_column_matches_the_json_body() {
        let states = [
            ExecutionState::Planned,
            ExecutionState::Running,
            ExecutionState::Done,
            ExecutionState::Partial,
            ExecutionState::Refused,
        ];
        for state in states {
            let json = serde_json::to_value(state).expect("a state serialises");
            assert_eq!(json.as_str(), Some(state.key()), "{state:?}");
        }
    }
}
