//! Where API tokens are kept: the same SQL database as the sessions (SQLite in the data
//! directory, or PostgreSQL shared by several replicas). Only hashes, names and dates are stored;
//! the secret exists once, in the answer to the request that created it.

use chrono::{DateTime, TimeZone as _, Utc};
use ocicat_sql::{Column, Database, Row, Value};

use crate::token::{ApiToken, TokenHash};

/// Tokens one user may hold at most.
pub const MAX_TOKENS_PER_USER: usize = 50;
/// The longest token name.
pub const MAX_TOKEN_NAME: usize = 64;
/// How stale "last used" may get before a request writes it again.
const LAST_USED_RESOLUTION_SECS: i64 = 60;

/// The API tokens, in the server's SQL database; cheap to clone.
#[derive(Debug, Clone)]
pub struct Tokens {
    database: Database,
}

/// A failed token operation; the message never holds a secret.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database failed.
    #[error("token database: {0}")]
    Database(#[from] sqlx::Error),
    /// The name is empty, too long or not printable.
    #[error("a token name is 1 to {MAX_TOKEN_NAME} printable characters")]
    BadName,
    /// The user holds the maximum already.
    #[error("at most {MAX_TOKENS_PER_USER} tokens per user; revoke one first")]
    TooMany,
}

/// A stored token, as its owner sees it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// A short random id, for revoking.
    pub id: String,
    /// The owner.
    pub user: String,
    /// What the owner called it.
    pub name: String,
    /// When it was made.
    pub created: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used: Option<DateTime<Utc>>,
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS ocicat_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_name TEXT NOT NULL,
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT
)";
const COLUMNS: &str = "id, user_name, name, created_at, last_used_at";
/// Serialises creating the token table between replicas starting together (any constant).
const TOKENS_LOCK: i64 = 0x6f63_6963_6174_746b;

/// The columns a token row is read from.
const READ: [Column<'static>; 5] = [
    Column::Text("id"),
    Column::Text("user_name"),
    Column::Text("name"),
    Column::Int("created_at"),
    Column::Int("last_used_at"),
];

fn token_info(row: &Row) -> TokenInfo {
    TokenInfo {
        id: row.text("id").unwrap_or_default().to_owned(),
        user: row.text("user_name").unwrap_or_default().to_owned(),
        name: row.text("name").unwrap_or_default().to_owned(),
        created: seconds(row.int("created_at").unwrap_or_default()),
        last_used: row.int("last_used_at").map(seconds),
    }
}

impl Tokens {
    /// The tokens in `database`, their table created if missing.
    pub async fn open(database: Database) -> Result<Tokens, StoreError> {
        database.create_schema(&[CREATE_TABLE], &[CREATE_TABLE], TOKENS_LOCK).await?;
        Ok(Tokens { database })
    }

    /// The database they are kept in (shared with sessions, plans and the audit log).
    pub fn database(&self) -> &Database {
        &self.database
    }

    async fn fetch(&self, sql: &str, values: &[Value<'_>]) -> Result<Vec<TokenInfo>, sqlx::Error> {
        Ok(self.database.fetch(sql, values, &READ).await?.iter().map(token_info).collect())
    }

    /// Stores a new token for `user` named `name`; the secret is in the answer and nowhere else.
    pub async fn create_token(&self, user: &str, name: &str) -> Result<(TokenInfo, String), StoreError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
            return Err(StoreError::BadName);
        }
        if self.tokens_of(user).await?.len() >= MAX_TOKENS_PER_USER {
            return Err(StoreError::TooMany);
        }
        let token = ApiToken::generate();
        // The id is part of the hash (not of the secret), so it says nothing about the secret.
        let id = token.hash.0[..16].to_owned();
        let now = Utc::now().timestamp();
        self.database
            .execute(
                "INSERT INTO ocicat_tokens (id, user_name, name, hash, created_at) VALUES ($1, $2, $3, $4, $5)",
                &[Value::Text(&id), Value::Text(user), Value::Text(name), Value::Text(&token.hash.0), Value::Int(now)],
            )
            .await?;
        let info =
            TokenInfo { id, user: user.to_owned(), name: name.to_owned(), created: seconds(now), last_used: None };
        Ok((info, token.secret))
    }

    /// The tokens of `user`, newest first.
    pub async fn tokens_of(&self, user: &str) -> Result<Vec<TokenInfo>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM ocicat_tokens WHERE user_name = $1 ORDER BY created_at DESC, id");
        Ok(self.fetch(&sql, &[Value::Text(user)]).await?)
    }

    /// Deletes token `id` of `user`; false when `user` has no such token.
    pub async fn revoke_token(&self, user: &str, id: &str) -> Result<bool, StoreError> {
        let deleted = self
            .database
            .execute(
                "DELETE FROM ocicat_tokens WHERE id = $1 AND user_name = $2",
                &[Value::Text(id), Value::Text(user)],
            )
            .await?;
        Ok(deleted > 0)
    }

    /// The token with this hash, noting its use (at most once a minute).
    pub async fn token_by_hash(&self, hash: &TokenHash) -> Result<Option<TokenInfo>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM ocicat_tokens WHERE hash = $1");
        let Some(found) = self.fetch(&sql, &[Value::Text(&hash.0)]).await?.into_iter().next() else {
            return Ok(None);
        };
        let now = Utc::now().timestamp();
        if found.last_used.is_none_or(|used| now - used.timestamp() >= LAST_USED_RESOLUTION_SECS) {
            self.database
                .execute(
                    "UPDATE ocicat_tokens SET last_used_at = $1 WHERE id = $2",
                    &[Value::Int(now), Value::Text(&found.id)],
                )
                .await?;
        }
        Ok(Some(found))
    }
}

fn seconds(timestamp: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(timestamp, 0).single().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn database() -> (tempfile::TempDir, Tokens) {
        let directory = tempfile::tempdir().expect("temporary directory");
        let url = format!("sqlite://{}?mode=rwc", directory.path().join("access.db").display());
        let database = Database::connect(&url).await.expect("database opens");
        (directory, Tokens::open(database).await.expect("token table"))
    }

    #[tokio::test]
    async fn a_token_is_found_by_its_secret_only_until_revoked() {
        let (_directory, database) = database().await;
        let (info, secret) = database.create_token("alice", " ci deploys ").await.expect("token is created");
        assert_eq!(info.name, "ci deploys");
        let hash = TokenHash::of_presented(&secret).expect("our shape");
        let found = database.token_by_hash(&hash).await.expect("lookup").expect("token found");
        assert_eq!((found.id.as_str(), found.user.as_str()), (info.id.as_str(), "alice"));
        let listed = database.tokens_of("alice").await.expect("list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_used.is_some(), "the lookup noted its use");
        assert!(!database.revoke_token("bob", &info.id).await.expect("revoke"), "only the owner revokes");
        assert!(database.revoke_token("alice", &info.id).await.expect("revoke"));
        assert_eq!(database.token_by_hash(&hash).await.expect("lookup"), None);
    }

    #[tokio::test]
    async fn names_and_counts_are_bounded() {
        let (_directory, database) = database().await;
        for bad in ["", "   ", "a\u{7}b", &"x".repeat(MAX_TOKEN_NAME + 1)] {
            assert!(matches!(database.create_token("alice", bad).await, Err(StoreError::BadName)), "{bad:?}");
        }
        for index in 0..MAX_TOKENS_PER_USER {
            database.create_token("alice", &format!("t{index}")).await.expect("under the cap");
        }
        assert!(matches!(database.create_token("alice", "one more").await, Err(StoreError::TooMany)));
        database.create_token("bob", "his own").await.expect("the cap is per user");
    }
}
