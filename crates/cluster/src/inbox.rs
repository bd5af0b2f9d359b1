//! Catalog changes from any replica: a delete, copy or attach may run on a follower, but only
//! the leader appends to the change log (two appenders would break "sequence order is commit
//! order"). A replica posts its change to the inbox ([`InboxSink`], a `ChangeSink`); the leader
//! moves posted changes into the log in the order they were posted ([`Inbox::move_posted`]),
//! recording where each landed in the same transaction; the posting replica's flush waits until
//! its own tailer has applied that position. On PostgreSQL every post is announced
//! (`NOTIFY ocicat_inbox`), so the leader need not poll.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use ocicat_catalog::{CatalogError, Change, ChangeSink, SinkFuture};
use ocicat_sql::{Column, Database, Value};
use tokio::sync::watch;

use crate::ChangeLog;
use crate::error::{ClusterError, checked};

const CREATE_SQLITE: &str = "CREATE TABLE IF NOT EXISTS ocicat_catalog_inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    poster TEXT NOT NULL,
    body TEXT NOT NULL,
    seq BIGINT
)";
const CREATE_POSTGRES: &str = "CREATE TABLE IF NOT EXISTS ocicat_catalog_inbox (
    id BIGSERIAL PRIMARY KEY,
    poster TEXT NOT NULL,
    body TEXT NOT NULL,
    seq BIGINT
)";
const CREATE_INDEX: &str =
    "CREATE INDEX IF NOT EXISTS ocicat_catalog_inbox_poster ON ocicat_catalog_inbox (poster, id)";

const SCHEMA_LOCK: i64 = 0x6f63_6c75_0005;
const CHANNEL: &str = "ocicat_inbox";

/// Posted changes the leader moves at a time.
const BATCH: i64 = 100;
/// How long a flush waits for a leader to move what was posted, and again for this replica's
/// tailer to apply it.
const PATIENCE: Duration = Duration::from_secs(60);

/// Where posted changes landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Landed {
    /// In the log, the highest at this position.
    At(i64),
    /// The leader refused one of them (it could not read it): never in the log.
    Refused,
}

/// The inbox of one database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Inbox {
    database: Database,
}

impl Inbox {
    /// The inbox kept in `database` (with the change log it feeds), created if missing.
    pub async fn open(database: Database) -> Result<Inbox, ClusterError> {
        ChangeLog::open(database.clone()).await?;
        let [function, trigger] =
            crate::announce::trigger("ocicat_inbox_posted", "ocicat_catalog_inbox", CHANNEL, "id");
        let postgres = [CREATE_POSTGRES, CREATE_INDEX, function.as_str(), trigger.as_str()];
        database.create_schema(&[CREATE_SQLITE, CREATE_INDEX], &postgres, SCHEMA_LOCK).await?;
        Ok(Inbox { database })
    }

    /// A listener woken by every post, on PostgreSQL (`None` on SQLite, where the leader polls).
    pub async fn wake_ups(&self) -> Result<Option<sqlx::postgres::PgListener>, ClusterError> {
        crate::announce::listener(&self.database, CHANNEL).await
    }

    /// Posts `body` (a serialised catalog change) as replica `poster`; answers its id.
    pub async fn post(&self, poster: &str, body: &str) -> Result<i64, ClusterError> {
        let sql = "INSERT INTO ocicat_catalog_inbox (poster, body) VALUES ($1, $2) RETURNING id";
        let values = [Value::Text(checked(poster)?), Value::Text(body)];
        let rows = self.database.fetch(sql, &values, &[Column::Int("id")]).await?;
        rows.first().and_then(|row| row.int("id")).ok_or(ClusterError::TimedOut)
    }

    /// Where the changes `poster` posted with ids in `(after, through]` landed in the log, once
    /// the leader moved every one of them: the highest sequence number among them, or
    /// [`Landed::Refused`] when the leader refused one.
    pub async fn landed(&self, poster: &str, after: i64, through: i64) -> Result<Option<Landed>, ClusterError> {
        let sql = "SELECT COUNT(*) AS posted, COUNT(seq) AS moved, MIN(seq) AS lowest, MAX(seq) AS highest
            FROM ocicat_catalog_inbox WHERE poster = $1 AND id > $2 AND id <= $3";
        let columns = [Column::Int("posted"), Column::Int("moved"), Column::Int("lowest"), Column::Int("highest")];
        let values = [Value::Text(checked(poster)?), Value::Int(after), Value::Int(through)];
        let rows = self.database.fetch(sql, &values, &columns).await?;
        let Some(row) = rows.first() else { return Ok(None) };
        if row.int("lowest").is_some_and(|lowest| lowest < 0) {
            return Ok(Some(Landed::Refused));
        }
        let everything_moved = row.int("posted") == row.int("moved");
        Ok(everything_moved.then(|| Landed::At(row.int("highest").unwrap_or_default())))
    }

    /// Changes posted and not yet moved.
    pub async fn waiting(&self) -> Result<i64, ClusterError> {
        let sql = "SELECT COUNT(*) AS count FROM ocicat_catalog_inbox WHERE seq IS NULL";
        let rows = self.database.fetch(sql, &[], &[Column::Int("count")]).await?;
        Ok(rows.first().and_then(|row| row.int("count")).unwrap_or_default())
    }

    /// The leader's side: moves up to a batch of posted changes into `log`, in the order they
    /// were posted, as `holder` of lease `lease` at `epoch`; answers how many it moved. A
    /// posted change that does not parse (a poster of another version) is marked moved without
    /// landing and logged, never a stop for every later post (posters check their changes first).
    pub async fn move_posted(
        &self,
        log: &ChangeLog,
        lease: &str,
        holder: &str,
        epoch: i64,
    ) -> Result<usize, ClusterError> {
        let sql = "SELECT id, poster, body FROM ocicat_catalog_inbox WHERE seq IS NULL ORDER BY id LIMIT $1";
        let columns = [Column::Int("id"), Column::Text("poster"), Column::Text("body")];
        let rows = self.database.fetch(sql, &[Value::Int(BATCH)], &columns).await?;
        for row in &rows {
            let (id, body) = (row.int("id").unwrap_or_default(), row.text("body").unwrap_or_default());
            let edits = serde_json::from_str::<Change>(body)
                .map_err(|error| error.to_string())
                .and_then(|change| crate::current::doc_edits(&change).map_err(|error| error.to_string()));
            match edits {
                Ok(edits) => {
                    log.append_moving(lease, holder, epoch, body, &edits, Some(id)).await?;
                }
                Err(error) => {
                    tracing::warn!(inbox.id = id, replica.name = row.text("poster").unwrap_or_default(), %error, "a posted catalog change was refused");
                    self.refuse(id).await?;
                }
            }
        }
        Ok(rows.len())
    }

    /// Marks a posted change as refused (landed at -1: never in the log).
    async fn refuse(&self, id: i64) -> Result<(), ClusterError> {
        self.database.execute("UPDATE ocicat_catalog_inbox SET seq = -1 WHERE id = $1", &[Value::Int(id)]).await?;
        Ok(())
    }

    /// Forgets moved changes that landed at or below `seq` (the log pruned through it).
    pub async fn prune_through(&self, seq: i64) -> Result<u64, ClusterError> {
        let sql = "DELETE FROM ocicat_catalog_inbox WHERE seq IS NOT NULL AND seq <= $1";
        Ok(self.database.execute(sql, &[Value::Int(seq)]).await?)
    }
}

/// Any replica's side: changes posted to the inbox, back in this replica's index once the
/// leader moved them into the log and its tailer applied them.
#[derive(Debug)]
pub struct InboxSink {
    inbox: Inbox,
    poster: String,
    /// The id before this sink's lowest post (`i64::MAX` until it posts).
    before_first: AtomicI64,
    /// The last id this sink posted.
    posted: AtomicI64,
    /// How far this replica's tailer has applied the log.
    applied: watch::Receiver<i64>,
}

impl InboxSink {
    /// A sink posting as replica `poster`; `applied` follows its tailer (`Tailer::applied`).
    pub fn new(inbox: Inbox, poster: &str, applied: watch::Receiver<i64>) -> Arc<InboxSink> {
        Arc::new(InboxSink {
            inbox,
            poster: poster.to_owned(),
            before_first: AtomicI64::new(i64::MAX),
            posted: AtomicI64::new(0),
            applied,
        })
    }

    /// Waits until the leader moved everything this sink posted through `id`; answers the
    /// highest position those changes landed at.
    async fn moved(&self, id: i64) -> Result<i64, CatalogError> {
        let started = tokio::time::Instant::now();
        let mut pause = Duration::from_millis(5);
        let after = self.before_first.load(Ordering::SeqCst);
        loop {
            let landed = self.inbox.landed(&self.poster, after, id).await.map_err(crate::error::replication_error)?;
            match landed {
                Some(Landed::At(seq)) => return Ok(seq),
                Some(Landed::Refused) => {
                    return Err(crate::error::replication_error(
                        "the leader refused a catalog change posted here (another version?); the next crawl repairs the index",
                    ));
                }
                None if started.elapsed() >= PATIENCE => {
                    return Err(crate::error::replication_error(format!(
                        "no leader moved catalog change {id} into the log within {} s (it stays queued)",
                        PATIENCE.as_secs()
                    )));
                }
                None => {}
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(100));
        }
    }
}

impl ChangeSink for InboxSink {
    fn submit(&self, change: Change) -> SinkFuture<'_> {
        Box::pin(async move {
            // Checked here, so a change the leader could not move fails its poster at once.
            crate::current::doc_edits(&change)?;
            let body = serde_json::to_string(&change).map_err(crate::error::replication_error)?;
            let id = self.inbox.post(&self.poster, &body).await.map_err(crate::error::replication_error)?;
            // The lowest id, whichever concurrent first post got it.
            self.before_first.fetch_min(id - 1, Ordering::SeqCst);
            self.posted.fetch_max(id, Ordering::SeqCst);
            Ok(())
        })
    }

    fn flush(&self) -> SinkFuture<'_> {
        Box::pin(async move {
            // Every post through the last one, whichever task made it, must be in the log.
            let last = self.posted.load(Ordering::SeqCst);
            if last == 0 {
                return Ok(());
            }
            let seq = self.moved(last).await?;
            let mut applied = self.applied.clone();
            match tokio::time::timeout(PATIENCE, applied.wait_for(|applied| *applied >= seq)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(_)) => Err(crate::error::replication_error("the tailer stopped")),
                Err(_) => Err(crate::error::replication_error(format!(
                    "this replica's index did not apply change {seq} within {} s (see /status)",
                    PATIENCE.as_secs()
                ))),
            }
        })
    }
}
