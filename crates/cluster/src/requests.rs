//! The shared crawl queue: "crawl now", "refresh this repository" and registry notifications
//! reach whichever replica the load balancer picked, but only the leader crawls. Any replica
//! queues the request here; the leader takes queued requests in order and hands them to its
//! crawl tasks. On PostgreSQL every request is announced (`NOTIFY ocicat_requests`). The
//! leader publishes its crawl status for the others ([`CrawlStatus`]).

use ocicat_sql::{Column, Database, Value};

use crate::error::{ClusterError, checked};

const CREATE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS ocicat_crawl_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    registry TEXT NOT NULL,
    body TEXT NOT NULL
)";
const CREATE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS ocicat_crawl_requests (
    id BIGSERIAL PRIMARY KEY,
    registry TEXT NOT NULL,
    body TEXT NOT NULL
)";

const SCHEMA_LOCK: i64 = 0x6f63_6c75_0006;
const CHANNEL: &str = "ocicat_requests";

/// Requests queued and not taken before new ones are refused (the periodic crawl still finds
/// what a refused one would have).
const MAX_QUEUED: i64 = 10_000;

/// One queued request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrawlRequest {
    /// The registry it is for.
    pub registry: String,
    /// What to do, as the crawler serialises it.
    pub body: String,
}

/// The crawl queue of one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct CrawlRequests {
    database: Database,
}

impl CrawlRequests {
    /// The queue kept in `database`, created if missing.
    pub async fn open(database: Database) -> Result<CrawlRequests, ClusterError> {
        let [function, trigger] =
            crate::announce::trigger("ocicat_crawl_requested", "ocicat_crawl_requests", CHANNEL, "id");
        let postgres = [CREATE_POSTGRES, function.as_str(), trigger.as_str()];
        database.create_schema(&[CREATE_SQLITE], &postgres, SCHEMA_LOCK).await?;
        Ok(CrawlRequests { database })
    }

    /// A listener woken by every request, on PostgreSQL (`None` on SQLite, where the leader polls).
    pub async fn wake_ups(&self) -> Result<Option<sqlx::postgres::PgListener>, ClusterError> {
        crate::announce::listener(&self.database, CHANNEL).await
    }

    /// Queues `request`; false when the queue is full (nobody has taken requests for a while).
    pub async fn push(&self, request: &CrawlRequest) -> Result<bool, ClusterError> {
        let sql = "INSERT INTO ocicat_crawl_requests (registry, body)
            SELECT $1, $2 WHERE (SELECT COUNT(*) FROM ocicat_crawl_requests) < $3";
        let values = [Value::Text(checked(&request.registry)?), Value::Text(&request.body), Value::Int(MAX_QUEUED)];
        Ok(self.database.execute(sql, &values).await? == 1)
    }

    /// Takes (removes and answers) at most `limit` queued requests, oldest first. Only the
    /// leader takes: a request taken by a replica that then dies is lost, and the periodic
    /// crawl finds what it would have.
    pub async fn take(&self, limit: i64) -> Result<Vec<CrawlRequest>, ClusterError> {
        let sql = "DELETE FROM ocicat_crawl_requests WHERE id IN
                (SELECT id FROM ocicat_crawl_requests ORDER BY id LIMIT $1)
            RETURNING id, registry, body";
        let columns = [Column::Int("id"), Column::Text("registry"), Column::Text("body")];
        let mut rows = self.database.fetch(sql, &[Value::Int(limit.max(0))], &columns).await?;
        rows.sort_by_key(|row| row.int("id"));
        Ok(rows
            .iter()
            .map(|row| CrawlRequest {
                registry: row.text("registry").unwrap_or_default().to_owned(),
                body: row.text("body").unwrap_or_default().to_owned(),
            })
            .collect())
    }
}

const CREATE_STATUS: &str = "CREATE TABLE IF NOT EXISTS ocicat_crawl_status (
    registry TEXT PRIMARY KEY NOT NULL,
    body TEXT NOT NULL
)";
const STATUS_LOCK: i64 = 0x6f63_6c75_0007;

/// The leader's crawl progress and health per registry, published for the other replicas'
/// status pages (a follower's own crawl tasks do not run); cheap to clone.
#[derive(Debug, Clone)]
pub struct CrawlStatus {
    database: Database,
}

impl CrawlStatus {
    /// The published statuses kept in `database`, created if missing.
    pub async fn open(database: Database) -> Result<CrawlStatus, ClusterError> {
        database.create_schema(&[CREATE_STATUS], &[CREATE_STATUS], STATUS_LOCK).await?;
        Ok(CrawlStatus { database })
    }

    /// Publishes `body` (a registry's status, as the crawler serialises it) for `registry`.
    pub async fn publish(&self, registry: &str, body: &str) -> Result<(), ClusterError> {
        let sql = "INSERT INTO ocicat_crawl_status (registry, body) VALUES ($1, $2)
            ON CONFLICT (registry) DO UPDATE SET body = excluded.body";
        self.database.execute(sql, &[Value::Text(checked(registry)?), Value::Text(body)]).await?;
        Ok(())
    }

    /// Every published status, as (registry, body).
    pub async fn read(&self) -> Result<Vec<(String, String)>, ClusterError> {
        let sql = "SELECT registry, body FROM ocicat_crawl_status ORDER BY registry";
        let rows = self.database.fetch(sql, &[], &[Column::Text("registry"), Column::Text("body")]).await?;
        Ok(rows
            .iter()
            .map(|row| {
                (row.text("registry").unwrap_or_default().to_owned(), row.text("body").unwrap_or_default().to_owned())
            })
            .collect())
    }
}
