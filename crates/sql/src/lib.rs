//! The SQL database ocicat keeps its own state in: sessions, API tokens, delete plans, the audit
//! log and retention reports. SQLite in the data directory by default, PostgreSQL when several
//! replicas share it. Statements are written once for both (`$1`, `$2`… placeholders, BIGINT
//! timestamps, TEXT everywhere else); rows come back as dialect-free [`Row`]s, so the crates that
//! keep tables here (`ocicat-access`, `ocicat-lifecycle`) never match on the dialect.

use std::collections::HashMap;

use sqlx::{PgPool, Row as _, SqlitePool};

/// A connection pool to the SQLite or PostgreSQL database; cheap to clone.
#[derive(Debug, Clone)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(SqlitePool),
    /// A PostgreSQL server.
    Postgres(PgPool),
}

/// A value bound to a statement's next placeholder.
#[derive(Debug, Clone, Copy)]
pub enum Value<'a> {
    /// Text.
    Text(&'a str),
    /// Text or NULL.
    MaybeText(Option<&'a str>),
    /// A 64-bit integer.
    Int(i64),
}

/// What a selected column holds, so it can be read the same way from either database.
#[derive(Debug, Clone, Copy)]
pub enum Column<'a> {
    /// Text (or NULL).
    Text(&'a str),
    /// An integer (or NULL).
    Int(&'a str),
}

/// One statement of a [`Database::transaction`]: its SQL, its values, the columns to read of
/// the rows it returns (none for a statement that returns nothing).
#[derive(Debug, Clone)]
pub struct Step<'a> {
    /// The statement.
    pub sql: &'a str,
    /// Its values, bound in order.
    pub values: Vec<Value<'a>>,
    /// The columns to read of its rows.
    pub columns: &'a [Column<'a>],
}

/// One selected row, by column name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    texts: HashMap<String, Option<String>>,
    ints: HashMap<String, Option<i64>>,
}

impl Row {
    /// The text in `column`, `None` for NULL or a column not selected as text.
    pub fn text(&self, column: &str) -> Option<&str> {
        self.texts.get(column).and_then(Option::as_deref)
    }

    /// The integer in `column`, `None` for NULL or a column not selected as an integer.
    pub fn int(&self, column: &str) -> Option<i64> {
        self.ints.get(column).copied().flatten()
    }
}

/// `sql` with `values` bound in order.
macro_rules! bound {
    ($sql:expr, $values:expr) => {{
        let mut query = sqlx::query($sql);
        for value in $values {
            query = match value {
                Value::Text(text) => query.bind(*text),
                Value::MaybeText(text) => query.bind(*text),
                Value::Int(number) => query.bind(*number),
            };
        }
        query
    }};
}

/// Reads `columns` of every row `$query` returns from `$pool`.
macro_rules! fetch_rows {
    ($query:expr, $pool:expr, $columns:expr) => {{
        let rows = $query.fetch_all($pool).await?;
        rows.iter()
            .map(|row| {
                let mut read = Row::default();
                for column in $columns {
                    match column {
                        Column::Text(name) => {
                            read.texts.insert((*name).to_owned(), row.try_get::<Option<String>, _>(*name)?);
                        }
                        Column::Int(name) => {
                            read.ints.insert((*name).to_owned(), row.try_get::<Option<i64>, _>(*name)?);
                        }
                    }
                }
                Ok(read)
            })
            .collect()
    }};
}

/// Runs `$statements` in one transaction on `$pool`, after `$prelude` bound to `$key`.
macro_rules! in_transaction {
    ($pool:expr, $prelude:expr, $key:expr, $statements:expr) => {{
        let mut transaction = $pool.begin().await?;
        if let Some(prelude) = $prelude {
            sqlx::query(prelude).bind($key).execute(&mut *transaction).await?;
        }
        for statement in $statements {
            sqlx::raw_sql(statement).execute(&mut *transaction).await?;
        }
        transaction.commit().await
    }};
}

impl Database {
    /// Connects to `url`: `postgres://…` (or `postgresql://…`), else SQLite
    /// (`sqlite://path?mode=rwc`).
    pub async fn connect(url: &str) -> Result<Database, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Database::Postgres(PgPool::connect(url).await?))
        } else {
            Ok(Database::Sqlite(SqlitePool::connect(url).await?))
        }
    }

    /// Runs `sql` with `values`; answers the rows it changed.
    pub async fn execute(&self, sql: &str, values: &[Value<'_>]) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Database::Sqlite(pool) => bound!(sql, values).execute(pool).await?.rows_affected(),
            Database::Postgres(pool) => bound!(sql, values).execute(pool).await?.rows_affected(),
        })
    }

    /// Runs the query `sql` with `values` and reads `columns` of every row.
    pub async fn fetch(
        &self,
        sql: &str,
        values: &[Value<'_>],
        columns: &[Column<'_>],
    ) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            Database::Sqlite(pool) => fetch_rows!(bound!(sql, values), pool, columns),
            Database::Postgres(pool) => fetch_rows!(bound!(sql, values), pool, columns),
        }
    }

    /// Runs `steps` in one transaction (all or none); answers the rows each returned. On
    /// PostgreSQL with `snapshot`, every step reads one snapshot (REPEATABLE READ); SQLite's
    /// transactions always do, and take the write lock first unless `snapshot` (a read).
    pub async fn transaction(&self, steps: &[Step<'_>], snapshot: bool) -> Result<Vec<Vec<Row>>, sqlx::Error> {
        let mut answers = Vec::with_capacity(steps.len());
        // Each step in order on the transaction `$transaction`, its rows kept.
        macro_rules! run_steps {
            ($transaction:expr) => {
                for step in steps {
                    let rows: Result<Vec<Row>, sqlx::Error> =
                        fetch_rows!(bound!(step.sql, &step.values), &mut *$transaction, step.columns);
                    answers.push(rows?);
                }
            };
        }
        match self {
            Database::Sqlite(pool) => {
                // The write lock from the start: a transaction that reads, then writes, would
                // otherwise fail at once ("database is locked") when another connection writes
                // meanwhile, instead of waiting its turn.
                let begin = if snapshot { "BEGIN" } else { "BEGIN IMMEDIATE" };
                let mut transaction = pool.begin_with(begin).await?;
                run_steps!(transaction);
                transaction.commit().await?;
            }
            Database::Postgres(pool) => {
                let mut transaction = pool.begin().await?;
                if snapshot {
                    sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ").execute(&mut *transaction).await?;
                }
                run_steps!(transaction);
                transaction.commit().await?;
            }
        }
        Ok(answers)
    }

    /// Creates tables, indexes and triggers in one transaction: `sqlite` on SQLite, `postgres`
    /// on PostgreSQL, where replicas starting together take turns on the advisory lock `lock`.
    pub async fn create_schema(&self, sqlite: &[&str], postgres: &[&str], lock: i64) -> Result<(), sqlx::Error> {
        match self {
            Database::Sqlite(pool) => in_transaction!(pool, None::<&str>, lock, sqlite),
            Database::Postgres(pool) => in_transaction!(pool, Some("SELECT pg_advisory_xact_lock($1)"), lock, postgres),
        }
    }

    /// A short name of the dialect, for messages (`sqlite`, `postgresql`).
    pub fn dialect(&self) -> &'static str {
        match self {
            Database::Sqlite(_) => "sqlite",
            Database::Postgres(_) => "postgresql",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A SQLite database in `directory` with table `t` made by `table`.
    async fn sqlite(directory: &tempfile::TempDir, table: &str) -> Database {
        let url = format!("sqlite://{}?mode=rwc", directory.path().join("test.db").display());
        let database = Database::connect(&url).await.expect("database opens");
        database.create_schema(&[table], &[table], 1).await.expect("schema");
        database
    }

    #[tokio::test]
    async fn statements_bind_values_and_rows_read_by_name() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let database = sqlite(&directory, "CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, n BIGINT, note TEXT)").await;
        let insert = "INSERT INTO t (id, n, note) VALUES ($1, $2, $3)";
        database.execute(insert, &[Value::Text("a"), Value::Int(7), Value::MaybeText(None)]).await.unwrap();
        database.execute(insert, &[Value::Text("b"), Value::Int(8), Value::MaybeText(Some("x"))]).await.unwrap();
        let rows = database
            .fetch(
                "SELECT id, n, note FROM t WHERE n >= $1 ORDER BY id",
                &[Value::Int(7)],
                &[Column::Text("id"), Column::Int("n"), Column::Text("note")],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].text("id"), rows[0].int("n"), rows[0].text("note")), (Some("a"), Some(7), None));
        assert_eq!(rows[1].text("note"), Some("x"));
        assert_eq!(rows[1].int("note"), None, "a column is read as what it was selected as");
        assert_eq!(database.dialect(), "sqlite");
    }

    #[tokio::test]
    async fn a_transaction_is_all_or_nothing_and_answers_each_steps_rows() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let database = sqlite(&directory, "CREATE TABLE t (id TEXT PRIMARY KEY NOT NULL, n BIGINT)").await;
        let insert = "INSERT INTO t (id, n) VALUES ($1, $2) RETURNING n";
        let step =
            |id, n| Step { sql: insert, values: vec![Value::Text(id), Value::Int(n)], columns: &[Column::Int("n")] };
        let answers = database.transaction(&[step("a", 1), step("b", 2)], false).await.unwrap();
        assert_eq!(answers.iter().map(|rows| rows[0].int("n")).collect::<Vec<_>>(), [Some(1), Some(2)]);
        // The second step fails (a duplicate key): the first is rolled back with it.
        assert!(database.transaction(&[step("c", 3), step("a", 4)], true).await.is_err());
        let left = database.fetch("SELECT id FROM t ORDER BY id", &[], &[Column::Text("id")]).await.unwrap();
        assert_eq!(left.iter().filter_map(|row| row.text("id")).collect::<Vec<_>>(), ["a", "b"]);
    }
}
