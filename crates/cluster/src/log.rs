//! The catalog's change log: every catalog write the leader commits, in order, for every
//! replica (the leader too) to apply to its own index. An append carries the leader's lease
//! epoch and lands only while that epoch holds the lease (on PostgreSQL the lease row is locked
//! for share meanwhile, so a takeover waits for an append in flight and no stale leader's write
//! lands after it). Appends take an advisory lock in turn, so sequence order is commit order
//! and a replica that read up to `n` never meets a change below `n` later. On PostgreSQL every append is
//! announced (`NOTIFY ocicat_catalog`, from a trigger), so tailers need not poll.

use ocicat_sql::{Column, Database, Step, Value};

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
/// The advisory lock appends take in turn (PostgreSQL).
const APPEND_LOCK: i64 = 0x6f63_6c75_0004;

/// The catalog as of the log's head, maintained with every append: what a replica that fell
/// behind the pruned log rebuilds from. `facts` holds an SBOM's or scan's packages and findings,
/// kept when a later write of the document does not carry them (as the index keeps its facts
/// documents).
const CREATE_DOCS: &str = "CREATE TABLE IF NOT EXISTS ocicat_catalog_docs (
    key TEXT PRIMARY KEY NOT NULL,
    repo TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    facts TEXT NOT NULL
)";
const CREATE_DOCS_INDEX: &str = "CREATE INDEX IF NOT EXISTS ocicat_catalog_docs_repo ON ocicat_catalog_docs (repo)";
/// How far the log was pruned (what a replica must have applied to tail it).
const CREATE_META: &str = "CREATE TABLE IF NOT EXISTS ocicat_catalog_meta (
    name TEXT PRIMARY KEY NOT NULL,
    value BIGINT NOT NULL
)";

/// The lease check every statement of an append repeats ($1 lease, $2 epoch, $3 holder).
const FENCE: &str = "EXISTS (SELECT 1 FROM ocicat_leases WHERE name = $1 AND epoch = $2 AND holder = $3)";

/// The channel appends are announced on (PostgreSQL), so tailers wake at once instead of polling.
pub(crate) const CHANNEL: &str = "ocicat_catalog";

const APPEND_SQLITE: &str = "INSERT INTO ocicat_catalog_log (epoch, body)
    SELECT $2, $4 WHERE EXISTS
        (SELECT 1 FROM ocicat_leases WHERE name = $1 AND epoch = $2 AND holder = $3)
    RETURNING seq";
const APPEND_POSTGRES: &str = "INSERT INTO ocicat_catalog_log (epoch, body)
    SELECT $2, $4 WHERE EXISTS
        (SELECT 1 FROM ocicat_leases WHERE name = $1 AND epoch = $2 AND holder = $3 FOR SHARE)
    RETURNING seq";

/// One change of a batch append: its body, how it changes the current documents, and the inbox
/// entry it moves, if any.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) body: &'a str,
    pub(crate) edits: &'a [DocEdit],
    pub(crate) inbox: Option<i64>,
}

/// How an append changes the current documents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocEdit {
    /// Writes document `key` of repository `repo` (empty facts keep the ones it had).
    Put {
        /// Its key.
        key: String,
        /// Its repository's key (empty for a registry's document).
        repo: String,
        /// `repository`, `artifact` or `checkpoint`.
        kind: String,
        /// Its JSON.
        body: String,
        /// Its facts' JSON, or empty.
        facts: String,
    },
    /// Removes document `key`.
    Delete {
        /// Its key.
        key: String,
    },
    /// Removes every document of repository `repo`.
    DeleteRepository {
        /// The repository's key.
        repo: String,
    },
}

/// One current document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    /// Its key.
    pub key: String,
    /// Its repository's key.
    pub repo: String,
    /// `repository`, `artifact` or `checkpoint`.
    pub kind: String,
    /// Its JSON.
    pub body: String,
    /// Its facts' JSON, or empty.
    pub facts: String,
}

/// The newest position: the last change, or how far the log was pruned when it is empty.
const HEAD: &str =
    "SELECT COALESCE(MAX(seq), (SELECT MAX(value) FROM ocicat_catalog_meta WHERE name = 'pruned_through'), 0)
    AS head FROM ocicat_catalog_log";

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
        let common = [CREATE_DOCS, CREATE_DOCS_INDEX, CREATE_META];
        let sqlite = [&[CREATE_SQLITE][..], &common].concat();
        let [function, trigger] =
            crate::announce::trigger("ocicat_catalog_appended", "ocicat_catalog_log", CHANNEL, "seq");
        let postgres = [&[CREATE_POSTGRES, function.as_str(), trigger.as_str()][..], &common].concat();
        database.create_schema(&sqlite, &postgres, SCHEMA_LOCK).await?;
        Ok(ChangeLog { database })
    }

    /// A listener woken by every append, on PostgreSQL (`None` on SQLite, where tailers poll).
    pub async fn wake_ups(&self) -> Result<Option<sqlx::postgres::PgListener>, ClusterError> {
        crate::announce::listener(&self.database, CHANNEL).await
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
        let mut appended = Vec::with_capacity(bodies.len());
        for body in bodies {
            match self.append_with(lease, holder, epoch, body, &[]).await {
                Ok(seq) => appended.push(seq),
                Err(ClusterError::Fenced { .. }) => return Err(ClusterError::Fenced { epoch, appended }),
                Err(error) => return Err(error),
            }
        }
        Ok(appended)
    }

    /// Appends `body` and applies `edits` to the current documents in one transaction, as
    /// `holder` of lease `lease` at `epoch`; answers its sequence number.
    pub async fn append_with(
        &self,
        lease: &str,
        holder: &str,
        epoch: i64,
        body: &str,
        edits: &[DocEdit],
    ) -> Result<i64, ClusterError> {
        self.append_moving(lease, holder, epoch, body, edits, None).await
    }

    /// [`Self::append_with`], also recording in the same transaction, when `inbox` names an
    /// inbox entry, the sequence number its change landed at (`crate::Inbox`).
    pub(crate) async fn append_moving(
        &self,
        lease: &str,
        holder: &str,
        epoch: i64,
        body: &str,
        edits: &[DocEdit],
        inbox: Option<i64>,
    ) -> Result<i64, ClusterError> {
        let seqs = self.append_batch(lease, holder, epoch, &[Entry { body, edits, inbox }]).await?;
        seqs.first().copied().ok_or(ClusterError::Fenced { epoch, appended: Vec::new() })
    }

    /// Appends every entry in order, with its document edits (and its inbox mark), in one
    /// transaction as `holder` of lease `lease` at `epoch`; answers their sequence numbers, or
    /// [`ClusterError::Fenced`] for all of them once the lease has moved on.
    pub(crate) async fn append_batch(
        &self,
        lease: &str,
        holder: &str,
        epoch: i64,
        entries: &[Entry<'_>],
    ) -> Result<Vec<i64>, ClusterError> {
        let (lease, holder) = (checked(lease)?, checked(holder)?);
        let append = match self.database {
            Database::Postgres(_) => APPEND_POSTGRES,
            Database::Sqlite(_) => APPEND_SQLITE,
        };
        let fence = || vec![Value::Text(lease), Value::Int(epoch), Value::Text(holder)];
        let put = format!(
            "INSERT INTO ocicat_catalog_docs (key, repo, kind, body, facts) SELECT $4, $5, $6, $7, $8 WHERE {FENCE}
             ON CONFLICT (key) DO UPDATE SET repo = excluded.repo, kind = excluded.kind, body = excluded.body,
                 facts = CASE WHEN excluded.facts = '' THEN ocicat_catalog_docs.facts ELSE excluded.facts END"
        );
        let delete = format!("DELETE FROM ocicat_catalog_docs WHERE key = $4 AND {FENCE}");
        let delete_repository = format!("DELETE FROM ocicat_catalog_docs WHERE repo = $4 AND {FENCE}");
        // Under the append lock the newest sequence number is the append just made.
        let moved = format!(
            "UPDATE ocicat_catalog_inbox SET seq = (SELECT MAX(seq) FROM ocicat_catalog_log)
             WHERE id = $4 AND seq IS NULL AND {FENCE}"
        );
        let seq_column = [Column::Int("seq")];
        // One appender at a time, across processes: a sequence number is taken under the lock and
        // committed before the next is, so sequence order is commit order (FOR SHARE alone lets
        // appends of one epoch overlap). SQLite's single writer does the same.
        let mut steps = Vec::new();
        if let Database::Postgres(_) = self.database {
            steps.push(Step {
                sql: "SELECT pg_advisory_xact_lock($1)",
                values: vec![Value::Int(APPEND_LOCK)],
                columns: &[],
            });
        }
        let mut inserts = Vec::with_capacity(entries.len());
        for entry in entries {
            inserts.push(steps.len());
            steps.push(Step {
                sql: append,
                values: [fence(), vec![Value::Text(entry.body)]].concat(),
                columns: &seq_column,
            });
            for edit in entry.edits {
                steps.push(match edit {
                    DocEdit::Put { key, repo, kind, body, facts } => Step {
                        sql: &put,
                        values: [fence(), [key, repo, kind, body, facts].map(|text| Value::Text(text)).to_vec()]
                            .concat(),
                        columns: &[],
                    },
                    DocEdit::Delete { key } => {
                        Step { sql: &delete, values: [fence(), vec![Value::Text(key)]].concat(), columns: &[] }
                    }
                    DocEdit::DeleteRepository { repo } => Step {
                        sql: &delete_repository,
                        values: [fence(), vec![Value::Text(repo)]].concat(),
                        columns: &[],
                    },
                });
            }
            if let Some(id) = entry.inbox {
                steps.push(Step { sql: &moved, values: [fence(), vec![Value::Int(id)]].concat(), columns: &[] });
            }
        }
        let answers = self.database.transaction(&steps, false).await?;
        inserts
            .into_iter()
            .map(|index| {
                answers
                    .get(index)
                    .and_then(|rows| rows.first())
                    .and_then(|row| row.int("seq"))
                    .ok_or(ClusterError::Fenced { epoch, appended: Vec::new() })
            })
            .collect()
    }

    /// The current documents and the position they are as of, read in one snapshot.
    pub async fn snapshot(&self) -> Result<(i64, Vec<Doc>), ClusterError> {
        let head_columns = [Column::Int("head")];
        let doc_columns = [
            Column::Text("key"),
            Column::Text("repo"),
            Column::Text("kind"),
            Column::Text("body"),
            Column::Text("facts"),
        ];
        let steps = [
            Step { sql: HEAD, values: Vec::new(), columns: &head_columns },
            Step {
                sql: "SELECT key, repo, kind, body, facts FROM ocicat_catalog_docs ORDER BY key",
                values: Vec::new(),
                columns: &doc_columns,
            },
        ];
        let answers = self.database.transaction(&steps, true).await?;
        let head = answers[0].first().and_then(|row| row.int("head")).unwrap_or_default();
        let text = |row: &ocicat_sql::Row, column: &str| row.text(column).unwrap_or_default().to_owned();
        let docs = answers[1]
            .iter()
            .map(|row| Doc {
                key: text(row, "key"),
                repo: text(row, "repo"),
                kind: text(row, "kind"),
                body: text(row, "body"),
                facts: text(row, "facts"),
            })
            .collect();
        Ok((head, docs))
    }

    /// How far the log was pruned: a replica that applied less must rebuild from a snapshot.
    pub async fn pruned_through(&self) -> Result<i64, ClusterError> {
        let sql = "SELECT value FROM ocicat_catalog_meta WHERE name = 'pruned_through'";
        let rows = self.database.fetch(sql, &[], &[Column::Int("value")]).await?;
        Ok(rows.first().and_then(|row| row.int("value")).unwrap_or_default())
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

    /// The newest sequence number (what was pruned through when the log is empty; 0 at first).
    pub async fn head(&self) -> Result<i64, ClusterError> {
        let rows = self.database.fetch(HEAD, &[], &[Column::Int("head")]).await?;
        Ok(rows.first().and_then(|row| row.int("head")).unwrap_or_default())
    }

    /// Removes the changes up to `seq` (what every live replica has applied) and records it;
    /// answers how many went.
    pub async fn prune_through(&self, seq: i64) -> Result<u64, ClusterError> {
        let record = "INSERT INTO ocicat_catalog_meta (name, value) VALUES ('pruned_through', $1)
            ON CONFLICT (name) DO UPDATE SET value = CASE WHEN excluded.value > ocicat_catalog_meta.value
                THEN excluded.value ELSE ocicat_catalog_meta.value END";
        let count = [Column::Int("count")];
        let steps = [
            Step {
                sql: "SELECT COUNT(*) AS count FROM ocicat_catalog_log WHERE seq <= $1",
                values: vec![Value::Int(seq)],
                columns: &count,
            },
            Step { sql: "DELETE FROM ocicat_catalog_log WHERE seq <= $1", values: vec![Value::Int(seq)], columns: &[] },
            Step { sql: record, values: vec![Value::Int(seq)], columns: &[] },
        ];
        let answers = self.database.transaction(&steps, false).await?;
        Ok(answers[0].first().and_then(|row| row.int("count")).unwrap_or_default().max(0) as u64)
    }
}
