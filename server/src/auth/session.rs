//! Sessions: tower-sessions over the sqlx stores, SQLite in the data directory (a restart keeps
//! everyone signed in) or PostgreSQL for several replicas, chosen by configuration. Cookies are
//! `__Host-ocicat`, Secure, HttpOnly, SameSite=Lax, path `/`, and expire with the session.

use async_trait::async_trait;
use ocicat_sql::Database;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The cookie's name with Secure cookies (the prefix makes browsers insist on Secure, path `/`
/// and no Domain).
pub const SECURE_COOKIE: &str = "__Host-ocicat";
/// The cookie's name on a plain-http demo (`secure_cookies = false`).
pub const PLAIN_COOKIE: &str = "ocicat";

/// How often expired sessions are deleted from the store.
const CLEANUP_PERIOD: std::time::Duration = std::time::Duration::from_secs(600);

/// The store behind the sessions, as configured.
#[derive(Debug, Clone)]
pub enum SessionBackend {
    /// Embedded.
    Sqlite(SqliteStore),
    /// Shared by replicas.
    Postgres(PostgresStore),
}

impl SessionBackend {
    /// The session store over `database`, its table created.
    pub async fn open(database: &Database) -> anyhow::Result<SessionBackend> {
        let backend = match database {
            Database::Sqlite(pool) => {
                let store = SqliteStore::new(pool.clone());
                store.migrate().await?;
                SessionBackend::Sqlite(store)
            }
            Database::Postgres(pool) => {
                let store = PostgresStore::new(pool.clone());
                store.migrate().await?;
                SessionBackend::Postgres(store)
            }
        };
        Ok(backend)
    }

    /// Deletes expired sessions every ten minutes, in the background.
    pub fn spawn_cleanup(&self) -> tokio::task::JoinHandle<()> {
        let backend = self.clone();
        tokio::spawn(async move {
            let outcome = match backend {
                SessionBackend::Sqlite(store) => store.continuously_delete_expired(CLEANUP_PERIOD).await,
                SessionBackend::Postgres(store) => store.continuously_delete_expired(CLEANUP_PERIOD).await,
            };
            if let Err(error) = outcome {
                tracing::error!(%error, "expired-session cleanup stopped");
            }
        })
    }
}

#[async_trait]
impl SessionStore for SessionBackend {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.create(record).await,
            SessionBackend::Postgres(store) => store.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.save(record).await,
            SessionBackend::Postgres(store) => store.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            SessionBackend::Sqlite(store) => store.load(id).await,
            SessionBackend::Postgres(store) => store.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            SessionBackend::Sqlite(store) => store.delete(id).await,
            SessionBackend::Postgres(store) => store.delete(id).await,
        }
    }
}

/// The cookie name for this setting.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure { SECURE_COOKIE } else { PLAIN_COOKIE }
}

/// The session layer: cookie flags as above, the store keeps a session `idle_minutes` after
/// its last save (the access middleware saves at most once a minute, and checks both limits).
pub fn layer(backend: SessionBackend, secure: bool, idle_minutes: u64) -> SessionManagerLayer<SessionBackend> {
    SessionManagerLayer::new(backend)
        .with_name(cookie_name(secure))
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::minutes(idle_minutes as i64)))
}
